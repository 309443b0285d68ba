package io.syslet.ring;

/**
 * Layout of one entry in the data area. Entries start at 8-byte-aligned offsets and never cross the
 * end of the data area. All fields are little-endian.
 *
 * <p>A <b>record</b> (length &gt; 0):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |  stamp: the u32 position this entry was written for           |  0  \ commit word (u64),
 *  |  length: header + payload bytes, unaligned, &gt;= 16            |  4  / written last, release
 *  |  type: &gt;= 1 for user records, -1 for an aborted record      |  8
 *  |  check: ~stamp ^ (length * 0x9E3779B1) ^ type ^ salt (mod 2^32)| 12
 *  |  payload: length - 16 bytes ...                               | 16
 *  |  ... zero to seven bytes of alignment, not part of the record |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>A <b>skip entry</b> (length &lt; 0) fills the end of the data area when the next record would
 * cross it. It is only the commit word: {@code stamp = position ^ salt} and
 * {@code length = -(capacity - offset)}; a skip is valid only if it reaches exactly to the end. It can be
 * as short as 8 bytes.
 *
 * <p>A commit word whose stamp differs from the position being read (for a skip, position ^ salt), or
 * whose length is 0, is
 * <b>not committed</b>: either stale bytes from an earlier lap or a reservation not yet committed.
 * Stamping entries with their position is what makes stale reads detectable without ever zeroing
 * consumed memory (zeroing races with other consumers that still read it). {@code check}, keyed by the
 * region's random salt ({@link RingDescriptor#CHECK_SALT_OFFSET}), makes stale payload bytes that look like
 * a header fail validation, even bytes written on purpose to look like one.
 */
public final class EntryDescriptor
{
    /** Every entry starts at a multiple of this. */
    public static final int ALIGNMENT = 8;

    public static final int STAMP_OFFSET = 0;
    public static final int LENGTH_OFFSET = 4;
    public static final int TYPE_OFFSET = 8;
    public static final int CHECK_OFFSET = 12;
    /** The u64 commit word: low half stamp, high half length. */
    public static final int COMMIT_WORD_OFFSET = STAMP_OFFSET;

    /** Bytes of a record header; the payload follows. */
    public static final int RECORD_HEADER_LENGTH = 16;
    /** Bytes of a skip entry's header (it has no type or check). */
    public static final int SKIP_HEADER_LENGTH = 8;

    /** Type of an aborted record: consumers step over it. */
    public static final int PADDING_TYPE = -1;

    /** Multiplier in the check word (the 32-bit golden ratio). */
    public static final int CHECK_MULTIPLIER = 0x9E37_79B1;

    private EntryDescriptor()
    {
    }

    /**
     * Rounds a record length up to the alignment.
     *
     * @param length record length.
     * @return the bytes it occupies in the data area.
     */
    public static int align(final int length)
    {
        return (length + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /**
     * Check word of a record header.
     *
     * @param stamp  position the record was written for.
     * @param length record length.
     * @param type   record type.
     * @param salt   the region's check salt.
     * @return the value stored at {@link #CHECK_OFFSET}.
     */
    public static int check(final int stamp, final int length, final int type, final int salt)
    {
        return ~stamp ^ (length * CHECK_MULTIPLIER) ^ type ^ salt;
    }

    /**
     * Stamp of a skip entry. A skip is only its commit word, with no room for a check word, so its stamp
     * carries the salt instead: leftover bytes cannot pass for a skip without it.
     *
     * @param position position of the skip.
     * @param salt     the region's check salt.
     * @return the value stored at {@link #STAMP_OFFSET}.
     */
    public static int skipStamp(final int position, final int salt)
    {
        return position ^ salt;
    }

    /**
     * Builds a commit word.
     *
     * @param stamp  position.
     * @param length entry length (negative for a skip, 0 for not committed).
     * @return the u64 stored at {@link #COMMIT_WORD_OFFSET}.
     */
    public static long commitWord(final int stamp, final int length)
    {
        return (stamp & 0xFFFF_FFFFL) | ((long)length << 32);
    }

    /**
     * @param commitWord u64 commit word.
     * @return its stamp.
     */
    public static int stamp(final long commitWord)
    {
        return (int)commitWord;
    }

    /**
     * @param commitWord u64 commit word.
     * @return its length.
     */
    public static int length(final long commitWord)
    {
        return (int)(commitWord >>> 32);
    }
}
