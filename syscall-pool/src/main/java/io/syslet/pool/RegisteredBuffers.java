package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The buffers iocbs may point into, and the one place a {@link BufferRef} becomes an address. Every
 * range is checked against its buffer's capacity here, before any native call sees it: JNR-FFI writes
 * wherever it is told, so an unchecked count would write over the Java heap.
 */
final class RegisteredBuffers
{
    /** Longest path we look for a NUL in (Linux's PATH_MAX). */
    static final int PATH_MAX = 4096;

    private final int max;
    /**
     * Each registered range as its own view, fixed at registration: a caller that re-wraps its flyweight
     * afterwards (the usual Agrona practice) changes nothing here, and the view holds the ByteBuffer that
     * owns the memory, if any, so the memory stays allocated while ops may pass its address to the kernel.
     * Grown (copied) under the lock. Readers read {@link #count} first, then this: volatile, so that a
     * table grown after that count is seen with the views copied into it.
     */
    private volatile UnsafeBuffer[] views = new UnsafeBuffer[0];
    /**
     * Per registered range: a file's mapping, which the engine's Java code touches only through
     * {@link FileMappings#copy}. Grown and published with {@link #views}.
     */
    private volatile boolean[] fileBacked = new boolean[0];
    private volatile int count;

    RegisteredBuffers(final int max)
    {
        this.max = max;
    }

    synchronized int register(final AtomicBuffer buffer)
    {
        if (buffer.byteArray() != null)
        {
            throw new AioException(Errno.EINVAL, "buffer of " + buffer.capacity() +
                " bytes is on the Java heap; register direct or mapped memory");
        }
        final int index = count;
        if (index == max)
        {
            throw new AioException(Errno.ENOMEM, "all " + max + " buffer slots are registered " +
                "(raise SetupParams.maxBuffers)");
        }
        final boolean mapsFile = FileMappings.isFileBacked(buffer.addressOffset(), buffer.capacity());
        UnsafeBuffer[] table = views;
        boolean[] mapsFiles = fileBacked;
        if (index == table.length)
        {
            final int length = (int)Math.min(max, Math.max(16L, 2L * index));
            table = Arrays.copyOf(table, length);
            mapsFiles = Arrays.copyOf(mapsFiles, length);
            views = table;
            fileBacked = mapsFiles;
        }
        table[index] = new UnsafeBuffer(buffer);
        mapsFiles[index] = mapsFile;
        count = index + 1; // volatile store publishes the entry (and the grown tables) to workers that read count first
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
        final UnsafeBuffer view = views[index];
        final long offset = BufferRef.offset(ref);
        final long capacity = view.capacity();
        if (offset > capacity || length > capacity - offset)
        {
            return -Errno.EFAULT;
        }
        return view.addressOffset() + offset;
    }

    /**
     * {@link #resolve} for a range the op writes into (through the kernel, or the engine's own Java code).
     * Memory that Java holds read-only (a file mapped READ_ONLY, an {@code asReadOnlyBuffer()} view) is a fine
     * source, but as a destination it is refused here, before the call: the engine's own write into a read-only
     * mapping (getaddrinfo's records) is a SIGSEGV that kills the JVM, and the kernel's EFAULT comes only after
     * the call has done its work (waitid has reaped the child, accept has taken the connection), lost with it.
     *
     * @return the address, or -EFAULT / -EINVAL as {@link #resolve}, or -EFAULT for read-only memory.
     */
    long resolveWritable(final long ref, final long length)
    {
        final long address = resolve(ref, length);
        if (address < 0)
        {
            return address;
        }
        final ByteBuffer owner = views[BufferRef.index(ref)].byteBuffer();
        return owner != null && owner.isReadOnly() ? -Errno.EFAULT : address;
    }

    /**
     * @return true if the registered range {@code ref} names (a resolved one) is a file's mapping: the
     * engine's Java code must touch it only through {@link FileMappings#copy}.
     */
    boolean isFileBacked(final long ref)
    {
        return fileBacked[BufferRef.index(ref)];
    }

    /**
     * @param ref     a BufferRef to a NUL-terminated string.
     * @param copyTo  where a string in a file's mapping is copied for the kernel to read: at least
     *                {@link #PATH_MAX} bytes from {@code copyOffset}.
     * @return the address the kernel may read the string at: its own, or its copy's if it lies in a file's
     * mapping (see {@link FileMappings}); or -EFAULT if there is no NUL before the buffer's end (or a page of a
     * file's mapping faulted first), -ENAMETOOLONG (as -EINVAL) if none within {@link #PATH_MAX}.
     */
    long resolveString(final long ref, final UnsafeBuffer copyTo, final int copyOffset)
    {
        final long address = resolve(ref, 1);
        if (address < 0 || isFileBacked(ref))
        {
            return address < 0 ? address : copyString(ref, copyTo, copyOffset);
        }
        final int start = (int)BufferRef.offset(ref);
        final long length = nulIndex(views[BufferRef.index(ref)], start, room(ref));
        return length < 0 ? length : address;
    }

    /**
     * Copies a NUL-terminated string, as {@link #resolveString} finds it, into {@code dst}, NUL included. For
     * strings that user-space code reads (glibc's getaddrinfo): a caller that rewrites the string during the
     * call could take its NUL away after the check, and glibc, unlike the kernel, reads on past the buffer's
     * end into whatever lies there, or faults and takes the JVM with it. The copy ends in a NUL of its own.
     *
     * @param dst       at least {@link #PATH_MAX} bytes from {@code dstOffset}.
     * @return the copy's address, or -EFAULT / -EINVAL as {@link #resolveString}.
     */
    long copyString(final long ref, final UnsafeBuffer dst, final int dstOffset)
    {
        final long address = resolve(ref, 1);
        if (address < 0)
        {
            return address;
        }
        final long room = room(ref);
        final long length;
        if (isFileBacked(ref))
        {
            final long copied = FileMappings.copy(dst.addressOffset() + dstOffset, address, room);
            length = copied < 0 ? copied : nulIndex(dst, dstOffset, copied);
        }
        else
        {
            final UnsafeBuffer view = views[BufferRef.index(ref)];
            final int start = (int)BufferRef.offset(ref);
            length = nulIndex(view, start, room);
            if (length >= 0)
            {
                dst.putBytes(dstOffset, view, start, (int)length);
            }
        }
        if (length < 0)
        {
            return length;
        }
        dst.putByte(dstOffset + (int)length, (byte)0);
        return dst.addressOffset() + dstOffset;
    }

    /**
     * @return bytes a string at {@code ref} (resolved) may span with its NUL: to its buffer's end, at most
     * {@link #PATH_MAX}.
     */
    private long room(final long ref)
    {
        return Math.min(views[BufferRef.index(ref)].capacity() - BufferRef.offset(ref), PATH_MAX);
    }

    /**
     * @param searched bytes to look through: the string's room, or fewer if a copy of it stopped at a fault.
     * @return the string's length without its NUL; or -EINVAL if none in a whole {@link #PATH_MAX}, else -EFAULT.
     */
    private static long nulIndex(final UnsafeBuffer buffer, final int from, final long searched)
    {
        for (int i = 0; i < searched; i++)
        {
            if (buffer.getByte(from + i) == 0)
            {
                return i;
            }
        }
        return searched == PATH_MAX ? -Errno.EINVAL : -Errno.EFAULT;
    }
}
