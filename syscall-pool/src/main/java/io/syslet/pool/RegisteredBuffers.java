package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import org.agrona.concurrent.AtomicBuffer;

/**
 * The buffers iocbs may point into, and the one place a {@link BufferRef} becomes an address. Every
 * range is checked against its buffer's capacity here, before any native call sees it: JNR-FFI writes
 * wherever it is told, so an unchecked count would write over the Java heap.
 */
final class RegisteredBuffers
{
    /** Longest path we look for a NUL in (Linux's PATH_MAX). */
    static final int PATH_MAX = 4096;

    private final AtomicBuffer[] buffers;
    private final long[] addresses;
    private final long[] capacities;
    private volatile int count;

    RegisteredBuffers(final int max)
    {
        buffers = new AtomicBuffer[max];
        addresses = new long[max];
        capacities = new long[max];
    }

    synchronized int register(final AtomicBuffer buffer)
    {
        if (buffer.byteArray() != null)
        {
            throw new AioException(Errno.EINVAL, "buffer of " + buffer.capacity() +
                " bytes is on the Java heap; register direct or mapped memory");
        }
        final int index = count;
        if (index == buffers.length)
        {
            throw new AioException(Errno.ENOMEM, "all " + buffers.length + " buffer slots are registered " +
                "(raise SetupParams.maxBuffers)");
        }
        buffers[index] = buffer;
        addresses[index] = buffer.addressOffset();
        capacities[index] = buffer.capacity();
        count = index + 1; // volatile store publishes the entry to workers that read count first
        return index;
    }

    /**
     * @param ref    a BufferRef.
     * @param length bytes the op will touch from it.
     * @return the address, or -EFAULT if the index is not registered or the range passes the buffer's
     * end, or -EINVAL if the length is negative.
     */
    long resolve(final long ref, final long length)
    {
        if (length < 0)
        {
            return -Errno.EINVAL;
        }
        final int index = BufferRef.index(ref);
        if (index >= count)
        {
            return -Errno.EFAULT;
        }
        final long offset = BufferRef.offset(ref);
        final long capacity = capacities[index];
        if (offset > capacity || length > capacity - offset)
        {
            return -Errno.EFAULT;
        }
        return addresses[index] + offset;
    }

    /**
     * @param ref a BufferRef to a NUL-terminated string.
     * @return the address, or -EFAULT if there is no NUL before the buffer's end, -ENAMETOOLONG (as
     * -EINVAL) if none within {@link #PATH_MAX}.
     */
    long resolveString(final long ref)
    {
        final long address = resolve(ref, 1);
        if (address < 0)
        {
            return address;
        }
        final int index = BufferRef.index(ref);
        final AtomicBuffer buffer = buffers[index];
        final int start = (int)BufferRef.offset(ref);
        final int end = (int)Math.min(capacities[index], (long)start + PATH_MAX);
        for (int i = start; i < end; i++)
        {
            if (buffer.getByte(i) == 0)
            {
                return address;
            }
        }
        return end - start == PATH_MAX ? -Errno.EINVAL : -Errno.EFAULT;
    }
}
