package io.syslet.abi;

/**
 * A reference to bytes in a buffer registered with a context, packed into one u64 iocb argument:
 *
 * <pre>
 *   63            40 39                                         0
 *  +----------------+--------------------------------------------+
 *  | buffer index   | byte offset in that buffer                 |
 *  +----------------+--------------------------------------------+
 * </pre>
 *
 * Iocbs never carry raw addresses for the typed ops: the engine resolves a reference against the
 * registered buffer's capacity and refuses, with -EFAULT in the event, any reference whose index is
 * not registered or whose range runs past the buffer's end. That is what keeps a wrong count from
 * writing over the Java heap.
 */
public final class BufferRef
{
    /** Bits of the offset. */
    public static final int OFFSET_BITS = 40;
    /** The largest offset a reference can carry. */
    public static final long MAX_OFFSET = (1L << OFFSET_BITS) - 1;
    /** The largest buffer index. */
    public static final int MAX_INDEX = (1 << (64 - OFFSET_BITS)) - 2;
    /** "No buffer", for optional arguments. */
    public static final long NO_BUFFER = -1L;

    private BufferRef()
    {
    }

    /**
     * @param index  registered buffer index.
     * @param offset byte offset in it.
     * @return the packed reference.
     * @throws IllegalArgumentException if either is out of range.
     */
    public static long of(final int index, final long offset)
    {
        if (index < 0 || index > MAX_INDEX)
        {
            throw new IllegalArgumentException("buffer index " + index + " is outside 0.." + MAX_INDEX);
        }
        if (offset < 0 || offset > MAX_OFFSET)
        {
            throw new IllegalArgumentException("buffer offset " + offset + " is outside 0.." + MAX_OFFSET);
        }
        return ((long)index << OFFSET_BITS) | offset;
    }

    /**
     * @param ref a packed reference.
     * @return its buffer index.
     */
    public static int index(final long ref)
    {
        return (int)(ref >>> OFFSET_BITS);
    }

    /**
     * @param ref a packed reference.
     * @return its byte offset.
     */
    public static long offset(final long ref)
    {
        return ref & MAX_OFFSET;
    }
}
