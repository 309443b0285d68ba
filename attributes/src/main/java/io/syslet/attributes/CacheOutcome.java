package io.syslet.attributes;

/**
 * The answer of the {@link AttributeId#CACHE} attribute for a read. Each is backed by evidence from
 * {@code preadv2(RWF_NOWAIT)}, which returns only what the page cache holds without blocking:
 * MISS only after it answered EAGAIN, PARTIAL only after it returned some bytes and asking again (or the
 * blocking read of the rest) did not reach the end of the file. A PARTIAL read's blocking call may itself
 * fail: the op's res is then the bytes the cache gave (docs/ABI.md section 21).
 */
public final class CacheOutcome
{
    /** Every byte came from the page cache without blocking. */
    public static final int HIT = 0;
    /** Nothing was in the cache: the read had to wait for IO. */
    public static final int MISS = 1;
    /** Some bytes came from the cache (the value's byte count), the rest needed IO. */
    public static final int PARTIAL = 2;
    /** The filesystem refuses RWF_NOWAIT (tmpfs, for one): no evidence either way. */
    public static final int UNSUPPORTED_BY_FILESYSTEM = 3;

    private CacheOutcome()
    {
    }

    public static String name(final int outcome)
    {
        switch (outcome)
        {
            case HIT: return "HIT";
            case MISS: return "MISS";
            case PARTIAL: return "PARTIAL";
            case UNSUPPORTED_BY_FILESYSTEM: return "UNSUPPORTED_BY_FILESYSTEM";
            default: return "outcome " + outcome;
        }
    }
}
