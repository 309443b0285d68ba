package io.syslet.attributes;

/**
 * Attribute ids and the fixed encoding of each value (little-endian; offsets within the value).
 * Timestamps are CLOCK_MONOTONIC nanoseconds (the clock of {@code System.nanoTime()} on Linux).
 *
 * <table>
 *   <caption>values</caption>
 *   <tr><th>id</th><th>name</th><th>bytes</th><th>value</th></tr>
 *   <tr><td>1</td><td>LATENCY</td><td>32</td><td>u64 submit @0, u64 start @8, u64 end @16, u64 publish @24:
 *       when the op was accepted, when its syscall started and ended, when its event was built.
 *       queue = start - submit, service = end - start, total = publish - submit.</td></tr>
 *   <tr><td>2</td><td>CACHE</td><td>16</td><td>u8 outcome @0 ({@link CacheOutcome}), 7 zero bytes,
 *       u64 bytes served from the page cache @8</td></tr>
 *   <tr><td>3</td><td>CPU</td><td>16</td><td>u64 CPU ns of the call on its thread @0 (CLOCK_THREAD_CPUTIME_ID
 *       delta), u64 off-CPU ns @8 (service - CPU, at least 0)</td></tr>
 *   <tr><td>4</td><td>BLOCKED</td><td>24</td><td>u8 blocked @0 (1 if the thread slept: voluntary context
 *       switches rose), 7 zero bytes, u64 voluntary switches @8, u64 involuntary switches @16 (getrusage
 *       RUSAGE_THREAD deltas)</td></tr>
 *   <tr><td>5</td><td>BYTES</td><td>8</td><td>u64 bytes transferred</td></tr>
 *   <tr><td>6</td><td>WORKER_TID</td><td>4</td><td>u32 native id of the thread that ran the call</td></tr>
 * </table>
 */
public final class AttributeId
{
    public static final int LATENCY = 1;
    public static final int CACHE = 2;
    public static final int CPU = 3;
    public static final int BLOCKED = 4;
    public static final int BYTES = 5;
    public static final int WORKER_TID = 6;

    /** One more than the highest id this version knows. */
    public static final int COUNT = 7;

    public static final int LATENCY_SUBMIT_OFFSET = 0;
    public static final int LATENCY_START_OFFSET = 8;
    public static final int LATENCY_END_OFFSET = 16;
    public static final int LATENCY_PUBLISH_OFFSET = 24;
    public static final int CACHE_OUTCOME_OFFSET = 0;
    public static final int CACHE_BYTES_OFFSET = 8;
    public static final int CPU_ON_OFFSET = 0;
    public static final int CPU_OFF_OFFSET = 8;
    public static final int BLOCKED_FLAG_OFFSET = 0;
    public static final int BLOCKED_VOLUNTARY_OFFSET = 8;
    public static final int BLOCKED_INVOLUNTARY_OFFSET = 16;

    private static final int[] VALUE_LENGTHS = {0, 32, 16, 16, 24, 8, 4};
    private static final String[] NAMES = {null, "latency", "cache", "cpu", "blocked", "bytes", "worker_tid"};

    private AttributeId()
    {
    }

    /**
     * @param id any value.
     * @return true if this version knows the id.
     */
    public static boolean isKnown(final int id)
    {
        return id > 0 && id < COUNT;
    }

    /**
     * @param id a known id.
     * @return bytes of its value.
     */
    public static int valueLength(final int id)
    {
        return VALUE_LENGTHS[id];
    }

    /**
     * @param id any value.
     * @return bytes its TLV takes in an event at most: the OK form for a known id, 8 for others.
     */
    public static int maxTlvLength(final int id)
    {
        return AttributeDescriptor.tlvLength(isKnown(id) ? VALUE_LENGTHS[id] : 0);
    }

    /**
     * @param id any value.
     * @return its name, or {@code "attribute N"}.
     */
    public static String name(final int id)
    {
        return isKnown(id) ? NAMES[id] : "attribute " + id;
    }

    /**
     * @param name a name as {@link #name} gives it.
     * @return the id, or -1.
     */
    public static int byName(final String name)
    {
        for (int id = 1; id < COUNT; id++)
        {
            if (NAMES[id].equals(name))
            {
                return id;
            }
        }
        return -1;
    }
}
