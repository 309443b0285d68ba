package io.syslet.attributes;

/**
 * Each attribute comes back with its own status; none of them ever fails the op.
 */
public final class AttributeStatus
{
    /** Measured; the value follows. */
    public static final int OK = 0;
    /** This version does not know the id. */
    public static final int UNSUPPORTED = 1;
    /** Known, but meaningless for this op (a cache hit on getppid), or switched off at setup. */
    public static final int NOT_APPLICABLE = 2;
    /** Known and applicable, but could not be measured (the measuring call failed). */
    public static final int FAILED = 3;

    private AttributeStatus()
    {
    }

    public static String name(final int status)
    {
        switch (status)
        {
            case OK: return "OK";
            case UNSUPPORTED: return "UNSUPPORTED";
            case NOT_APPLICABLE: return "NOT_APPLICABLE";
            case FAILED: return "FAILED";
            default: return "status " + status;
        }
    }
}
