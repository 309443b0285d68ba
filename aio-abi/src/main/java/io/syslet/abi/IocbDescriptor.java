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
 *  +-------------------------------+-------------------------------+
 *  |   aux (u32): the syscall number for RAW, else zero            |  20
 *  +---------------------------------------------------------------+
 *  |   args[0..5]: six u64 arguments, meaning per opcode           |  24
 *  |   ...                                                         |
 *  +---------------------------------------------------------------+
 *  |   attribute ids: count u16 values, zero-padded to length      |  72
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * An iocb is malformed, and refused with EINVAL, when its length is not a multiple of 8, is below 72,
 * runs past the submission buffer or is too short for its attribute list, or when a reserved field or
 * an undefined flag bit is set. An opcode this version does not implement is not malformed: the op
 * completes with -ENOSYS.
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
    /** Bytes of the longest iocb. */
    public static final int MAX_LENGTH = MIN_LENGTH + MAX_ATTRIBUTES * 2;

    /** Flag: do not try the immediate (cache-hit) path for this op. */
    public static final int FLAG_NO_IMMEDIATE = 1;
    /** Flag bits this version defines. */
    public static final int KNOWN_FLAGS = FLAG_NO_IMMEDIATE;

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
     * @param argument 0..5.
     * @return offset of that argument in the iocb.
     */
    public static int argOffset(final int argument)
    {
        return ARGS_OFFSET + argument * 8;
    }
}
