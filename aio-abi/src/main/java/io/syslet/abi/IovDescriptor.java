package io.syslet.abi;

/**
 * Layout of one element of the iov array that PREADV and PWRITEV take. Unlike {@code struct iovec}
 * it carries a {@link BufferRef}, not an address, so the engine can check every element before it
 * builds the native iovec.
 *
 * <pre>
 *  +---------------------------------------------------------------+
 *  |   buffer reference (u64, a BufferRef)                         |   0
 *  +---------------------------------------------------------------+
 *  |   length in bytes (u64)                                       |   8
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class IovDescriptor
{
    public static final int BUFFER_OFFSET = 0;
    public static final int LENGTH_OFFSET = 8;
    public static final int LENGTH = 16;
    /** The most elements one op may list (Linux's IOV_MAX). */
    public static final int MAX_COUNT = 1024;

    private IovDescriptor()
    {
    }
}
