package io.syslet.abi;

/**
 * Bits of the ring header's {@code owner_flags} word (offset 28; docs/ABI.md part 1) that the AIO
 * layer defines. Anyone who maps the ring may set or clear them; the engine reads them on every
 * publication.
 */
public final class OwnerFlags
{
    /** Set: the context does not signal its eventfd when it publishes events. */
    public static final int NOTIFY_DISABLED = 1;

    private OwnerFlags()
    {
    }
}
