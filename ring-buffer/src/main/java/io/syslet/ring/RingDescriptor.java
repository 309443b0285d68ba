package io.syslet.ring;

import static org.agrona.BitUtil.CACHE_LINE_LENGTH;

/**
 * Layout of a ring region: a 512-byte header followed by the data area. All fields are little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                     magic "SYRG" (0x47525953)                 |   0
 *  |                     ABI version (1)                           |   4
 *  |                     header length (512)                       |   8
 *  |                     capacity: data area bytes, power of two   |  12
 *  |                     max record length (capacity / 8)          |  16
 *  |                     compat features                           |  20
 *  |                     incompat features                         |  24
 *  |                     owner flags (never read by the ring)      |  28
 *  |                     initial position                          |  32
 *  |                     check salt (random, set at format)        |  36
 *  |                     zero ...                                  |  40..127
 *  +---------------------------------------------------------------+
 *  |                     tail position   (u32) \ one u64 word,     | 128
 *  |                     producer flags  (u32) / CAS'd together    | 132
 *  |                     zero ...                                  | 136..255
 *  +---------------------------------------------------------------+
 *  |                     head cache (hint for producers)           | 256
 *  |                     zero ...                                  | 260..383
 *  +---------------------------------------------------------------+
 *  |                     head position (u32)                       | 384
 *  |                     zero ...                                  | 388..511
 *  +---------------------------------------------------------------+
 *  |                     data area: capacity bytes of entries      | 512
 *  |                     (see EntryDescriptor)                     |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>The hot words are two cache lines apart so that adjacent-line prefetch does not make producers
 * and consumers share a line. Tail and producer flags share one 64-bit word so that a reservation and
 * the OVERFLOW flag change atomically together: that is what keeps order between the ring and the
 * overflow list (see {@link Ring}).
 */
public final class RingDescriptor
{
    /** "SYRG" read as a little-endian u32. */
    public static final int MAGIC = 0x4752_5953;
    /** Version of this layout and protocol. */
    public static final int ABI_VERSION = 1;

    /** Compat features this version writes (a reader may ignore unknown compat bits). */
    public static final int COMPAT_FEATURES = 0;
    /** Incompat features this version writes (a reader must refuse unknown incompat bits). */
    public static final int INCOMPAT_FEATURES = 0;
    /** Incompat features this version understands. */
    public static final int SUPPORTED_INCOMPAT_FEATURES = 0;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int HEADER_LENGTH_OFFSET = 8;
    public static final int CAPACITY_OFFSET = 12;
    public static final int MAX_RECORD_LENGTH_OFFSET = 16;
    public static final int COMPAT_FEATURES_OFFSET = 20;
    public static final int INCOMPAT_FEATURES_OFFSET = 24;
    public static final int OWNER_FLAGS_OFFSET = 28;
    public static final int INITIAL_POSITION_OFFSET = 32;
    /** Random u32 mixed into every record's check word, so that no payload can carry a valid-looking header. */
    public static final int CHECK_SALT_OFFSET = 36;

    /** The u64 word: low half tail position, high half producer flags. */
    public static final int TAIL_WORD_OFFSET = 2 * CACHE_LINE_LENGTH;
    public static final int TAIL_POSITION_OFFSET = TAIL_WORD_OFFSET;
    public static final int PRODUCER_FLAGS_OFFSET = TAIL_WORD_OFFSET + 4;
    public static final int HEAD_CACHE_OFFSET = 4 * CACHE_LINE_LENGTH;
    public static final int HEAD_POSITION_OFFSET = 6 * CACHE_LINE_LENGTH;

    /** Length of the header; the data area starts here. */
    public static final int HEADER_LENGTH = 8 * CACHE_LINE_LENGTH;

    /**
     * Producer flag: entries are waiting on the overflow list. While set, every new entry also goes to
     * the list, so order is kept. A reader that reaps the ring directly and finds it empty with this
     * flag set must ask the owner to flush (getevents / {@link Ring#flush()}).
     */
    public static final int FLAG_OVERFLOW = 1;
    /**
     * Producer flag: at least one thread sleeps in {@link Ring#await}. The next producer to reserve
     * clears it and wakes the sleepers after its commit, so producers pay for a wakeup only when
     * somebody sleeps.
     */
    public static final int FLAG_WAITERS = 2;

    /** Smallest data area: room for a record of 16 bytes of payload at capacity / 8. */
    public static final int MIN_CAPACITY = 256;
    /** Largest data area: keeps any two live positions less than 2^31 apart. */
    public static final int MAX_CAPACITY = 1 << 30;
    /** Largest record (header included) is capacity / this: an empty ring can always take one. */
    public static final int MAX_RECORD_FRACTION = 8;

    private RingDescriptor()
    {
    }

    /**
     * Total region length for a data area of {@code capacity} bytes.
     *
     * @param capacity data area bytes.
     * @return header plus data bytes.
     */
    public static int regionLength(final int capacity)
    {
        return HEADER_LENGTH + capacity;
    }

    /**
     * Largest record (header included) for a capacity.
     *
     * @param capacity data area bytes.
     * @return capacity / 8.
     */
    public static int maxRecordLength(final int capacity)
    {
        return capacity / MAX_RECORD_FRACTION;
    }

    /**
     * Checks a requested capacity.
     *
     * @param capacity data area bytes.
     * @throws IllegalArgumentException naming the value and the rule it breaks.
     */
    public static void checkCapacity(final int capacity)
    {
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Integer.bitCount(capacity) != 1)
        {
            throw new IllegalArgumentException("ring capacity " + capacity +
                " must be a power of two in [" + MIN_CAPACITY + ", " + MAX_CAPACITY + "] bytes");
        }
    }
}
