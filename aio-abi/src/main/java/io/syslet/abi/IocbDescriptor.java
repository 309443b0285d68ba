package io.syslet.abi;

/**
 * Layout of one iocb in a submission buffer. Iocbs are packed back to back, each starting 8-byte
 * aligned; all fields are little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |   length: bytes of this iocb, multiple of 8, &gt;= 72          |   0
 *  +-------------------------------+-------------------------------+
 *  |   opcode (u16)                |   flags (u16)                 |   4
 *  +-------------------------------+-------------------------------+
 *  |   user cookie (u64), returned unchanged in the event          |   8
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |   attribute count (u16)       |   reserved, zero (u16)        |  16
 *  +-----------------------------------------------+---------------+
 *  |   aux (u32), zero but for RAW: syscall number | RAW: most args |  20
 *  |   (bits 0..23)                                | read, 0 = not |
 *  |                                               | given (24..31)|
 *  +-----------------------------------------------+---------------+
 *  |   args[0..5]: six u64 arguments, meaning per opcode           |  24
 *  |   ...                                                         |
 *  +---------------------------------------------------------------+
 *  |   attribute ids: count u16 values, zero-padded to length      |  72
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * An iocb is malformed, and refused with EINVAL, when it starts at an offset that is not a multiple of 8 or
 * fewer than 72 bytes of the submission are left at it; when its length is not a multiple of 8, is below 72,
 * runs past the submission buffer or is too short for its attribute list; when it lists more than
 * {@link #MAX_ATTRIBUTES} attributes, or ones whose event would not fit one ring record (docs/ABI.md section
 * 20); or when a reserved field or an undefined flag bit is set, aux is set on an op other than RAW, or a RAW
 * op's aux declares more than six arguments. An opcode this version does not implement is not malformed: the
 * op completes with -ENOSYS.
 */
public final class IocbDescriptor
{
    public static final int LENGTH_OFFSET = 0;
    public static final int OPCODE_OFFSET = 4;
    public static final int FLAGS_OFFSET = 6;
    public static final int COOKIE_OFFSET = 8;
    public static final int ATTRIBUTE_COUNT_OFFSET = 16;
    public static final int RESERVED_OFFSET = 18;
    public static final int AUX_OFFSET = 20;
    public static final int ARGS_OFFSET = 24;
    public static final int ARG_COUNT = 6;
    public static final int ATTRIBUTES_OFFSET = ARGS_OFFSET + ARG_COUNT * 8;

    /** Bytes of an iocb with no attributes. */
    public static final int MIN_LENGTH = ATTRIBUTES_OFFSET;
    /** Iocbs start on this boundary. */
    public static final int ALIGNMENT = 8;
    /** The most attributes one iocb may list. */
    public static final int MAX_ATTRIBUTES = 64;

    /** Flag: do not try the immediate (cache-hit) path for this op. */
    public static final int FLAG_NO_IMMEDIATE = 1;
    /** Flag bits this version defines. */
    public static final int KNOWN_FLAGS = FLAG_NO_IMMEDIATE;

    /** RAW: the bits of aux that hold the syscall number. */
    public static final int RAW_NUMBER_MASK = 0x00FF_FFFF;
    /** RAW: aux's high byte holds the most arguments the syscall reads. */
    public static final int RAW_MAX_ARGS_SHIFT = 24;
    /** RAW: the argument count is not given; all six arguments are passed. */
    public static final int RAW_ARGS_NOT_GIVEN = 0;

    private IocbDescriptor()
    {
    }

    /**
     * @param attributeCount attributes the iocb lists.
     * @return its length: 72 plus the ids, rounded up to 8.
     */
    public static int length(final int attributeCount)
    {
        return (MIN_LENGTH + attributeCount * 2 + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /**
     * The aux of a RAW iocb. Declaring how many arguments the syscall reads lets the engine pass fewer:
     * the arguments past that count may reach the kernel as any value (for a syscall that reads at most
     * 4, the Java engine calls libc's {@code syscall()} with fewer parameters, which JNR-FFI can do without
     * allocating).
     *
     * @param number  the syscall number, 0 .. 2^24 - 1 (every Linux ABI's numbers fit but x32's, which set
     *                bit 30).
     * @param maxArgs the most arguments the syscall reads, 1..6 (1 for a syscall that takes none), or
     *                {@link #RAW_ARGS_NOT_GIVEN}. Take it from the syscall's signature: an argument past it
     *                is not passed as written.
     * @return aux.
     * @throws IllegalArgumentException if either is out of range.
     */
    public static int rawAux(final int number, final int maxArgs)
    {
        if ((number & ~RAW_NUMBER_MASK) != 0)
        {
            throw new IllegalArgumentException("syscall number " + number + " is outside 0 .. 2^24 - 1");
        }
        if (maxArgs < RAW_ARGS_NOT_GIVEN || maxArgs > ARG_COUNT)
        {
            throw new IllegalArgumentException("a syscall reads at most " + ARG_COUNT + " arguments, not " + maxArgs);
        }
        return maxArgs << RAW_MAX_ARGS_SHIFT | number;
    }

    /**
     * @param aux a RAW iocb's aux.
     * @return the syscall number.
     */
    public static int rawNumber(final int aux)
    {
        return aux & RAW_NUMBER_MASK;
    }

    /**
     * @param aux a RAW iocb's aux.
     * @return the most arguments the syscall reads as declared, 0 if not given; above 6 the iocb is malformed.
     */
    public static int rawMaxArgs(final int aux)
    {
        return aux >>> RAW_MAX_ARGS_SHIFT;
    }

    /**
     * @param argument 0..5.
     * @return offset of that argument in the iocb.
     */
    public static int argOffset(final int argument)
    {
        return ARGS_OFFSET + argument * 8;
    }
}
