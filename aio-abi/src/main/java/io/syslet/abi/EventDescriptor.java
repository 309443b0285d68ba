package io.syslet.abi;

/**
 * Layout of an event: the payload of a ring record of type {@link #RECORD_TYPE} (the ring's own
 * 16-byte record header comes first; see docs/ABI.md part 1). All fields are little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |   user cookie (u64), as the iocb gave it                      |   0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   submission id (u64): slot (low 32) and generation (high 32) |   8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   res (i64): the syscall's result, or a negated errno         |  16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   res2 (i64): a second result, per opcode; else 0             |  24
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |   opcode (u16)                |   event flags (u16)           |  32
 *  +-------------------------------+-------------------------------+
 *  |   attribute bytes (u32) that follow                           |  36
 *  +---------------------------------------------------------------+
 *  |   attributes (TLVs; see the attributes part of docs/ABI.md)   |  40
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class EventDescriptor
{
    /** Ring record type of an event. */
    public static final int RECORD_TYPE = 1;

    public static final int COOKIE_OFFSET = 0;
    public static final int SUBMISSION_ID_OFFSET = 8;
    public static final int RES_OFFSET = 16;
    public static final int RES2_OFFSET = 24;
    public static final int OPCODE_OFFSET = 32;
    public static final int FLAGS_OFFSET = 34;
    public static final int ATTRIBUTES_LENGTH_OFFSET = 36;
    public static final int ATTRIBUTES_OFFSET = 40;

    /** Bytes of an event with no attributes. */
    public static final int MIN_LENGTH = ATTRIBUTES_OFFSET;

    /** Event flag: the op completed on the submitting thread (the immediate path). */
    public static final int FLAG_IMMEDIATE = 1;
    /** Event flag: the op was cancelled (res is -ECANCELED). */
    public static final int FLAG_CANCELED = 2;

    private EventDescriptor()
    {
    }

    /**
     * @param submissionId a submission id.
     * @return its slot index.
     */
    public static int slot(final long submissionId)
    {
        return (int)submissionId;
    }

    /**
     * @param submissionId a submission id.
     * @return its generation.
     */
    public static int generation(final long submissionId)
    {
        return (int)(submissionId >>> 32);
    }

    /**
     * @param slot       slot index.
     * @param generation generation of the slot's use.
     * @return the submission id.
     */
    public static long submissionId(final int slot, final int generation)
    {
        return ((long)generation << 32) | (slot & 0xFFFF_FFFFL);
    }
}
