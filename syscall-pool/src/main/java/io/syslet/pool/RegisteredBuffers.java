package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The buffers iocbs may point into, and the one place a {@link BufferRef} becomes an address. Every
 * range is checked against its buffer's capacity here, before any native call sees it: JNR-FFI writes
 * wherever it is told, so an unchecked count would write over the Java heap.
 *
 * <p>An index is given back in two steps: {@link #retire}, after which no resolve of it succeeds, and
 * {@link #free}, once no op that resolved it before may still use its memory (the context waits for those in
 * between). Resolves pay nothing for that: a retired entry fails the range check every resolve makes anyway.
 */
final class RegisteredBuffers
{
    /** Longest path we look for a NUL in (Linux's PATH_MAX). */
    static final int PATH_MAX = 4096;

    private final int max;
    /**
     * Each index's registration, null where none is: never registered, or unregistered and freed. Grown
     * (copied) under the lock; entries are replaced in place under the lock too, and every change is
     * published by a volatile write of this field, which every resolve reads first. So a resolve that reads the
     * field after that write sees the change ({@link #retire} relies on that); one that reads it before may
     * still see a new entry early, a data race that is harmless because an entry has only final fields.
     */
    private volatile Registration[] table = new Registration[0];
    /**
     * The live registration of each index being unregistered, kept here while ops that may have resolved it
     * before it was retired still run: its view holds the ByteBuffer that owns the memory. Under the lock.
     */
    private Registration[] retiring = new Registration[0];
    /** Indices below {@link #highWater} that are free to register again. Under the lock. */
    private final BitSet free = new BitSet();
    /** Indices handed out so far: every index below it is registered, retiring, or in {@link #free}. */
    private int highWater;
    /** Indices being unregistered: neither usable nor free. Under the lock. */
    private int retiringCount;

    /**
     * One registered range, fixed at registration: a caller that re-wraps its flyweight afterwards (the usual
     * Agrona practice) changes nothing here, and the view holds the ByteBuffer that owns the memory, if any, so
     * the memory stays allocated while ops may pass its address to the kernel. Every field is final, so a worker
     * that reads the table racily (see {@link #table}) sees a whole entry or none.
     */
    static final class Registration
    {
        final UnsafeBuffer view;
        final long address;
        /**
         * What ranges are checked against: the capacity, or -1 in a retired entry, which every range fails
         * (offsets are never negative), the empty one at offset 0 included. So the resolve of an unregistered
         * index costs no test beyond the range check it makes anyway.
         */
        final long limit;
        /** A file's mapping, which the engine's Java code touches only through {@link FileMappings#copy}. */
        final boolean fileBacked;
        /** Memory Java holds read-only: a source, never a destination (see {@link #resolveWritable}). */
        final boolean readOnly;

        private Registration(final UnsafeBuffer view, final boolean fileBacked, final long limit)
        {
            this.view = view;
            this.address = view.addressOffset();
            this.limit = limit;
            this.fileBacked = fileBacked;
            final ByteBuffer owner = view.byteBuffer();
            this.readOnly = owner != null && owner.isReadOnly();
        }

        /**
         * @return the entry that replaces this one when its index is unregistered: the same memory, for the ops
         * that resolved it before and still run (they read the entry again: {@link #isFileBacked}, a string's
         * room), but no range resolves against it any more.
         */
        Registration retired()
        {
            return new Registration(view, fileBacked, -1);
        }
    }

    RegisteredBuffers(final int max)
    {
        this.max = max;
    }

    /**
     * @return the lowest free index, as open(2) gives the lowest free fd: an index unregistered earlier is
     * reused, and a stale BufferRef that still names it reaches the new buffer.
     */
    synchronized int register(final AtomicBuffer buffer)
    {
        if (buffer.byteArray() != null)
        {
            throw new AioException(Errno.EINVAL, "buffer of " + buffer.capacity() +
                " bytes is on the Java heap; register direct or mapped memory");
        }
        final int reusable = free.nextSetBit(0);
        final int index = reusable >= 0 ? reusable : highWater;
        if (index == max)
        {
            throw new AioException(Errno.ENOMEM, "all " + max + " buffer slots are taken" +
                (retiringCount == 0 ? "" : " (" + retiringCount + " by buffers whose unregister waits for an op)") +
                "; unregister a buffer, or raise SetupParams.maxBuffers");
        }
        final boolean mapsFile = FileMappings.isFileBacked(buffer.addressOffset(), buffer.capacity());
        final UnsafeBuffer view = new UnsafeBuffer(buffer);
        Registration[] entries = table;
        if (index == entries.length)
        {
            final int length = (int)Math.min(max, Math.max(16L, 2L * index));
            entries = Arrays.copyOf(entries, length);
            retiring = Arrays.copyOf(retiring, length);
        }
        entries[index] = new Registration(view, mapsFile, view.capacity());
        if (reusable >= 0)
        {
            free.clear(index);
        }
        else
        {
            highWater = index + 1;
        }
        table = entries; // volatile: publishes the entry, and a grown table with the entries copied into it
        return index;
    }

    /**
     * The first half of unregistering: from the volatile write here on, no resolve of the index succeeds. Ops
     * that resolved it before may still use its memory: the caller waits for them, then calls {@link #free}.
     * An index already retiring (an unregister that gave up waiting, or one still waiting on another thread)
     * is retired still, and its caller waits again.
     *
     * @return the index's live registration, which the caller hands back to {@link #free}.
     * @throws AioException EINVAL if the index is out of range, never registered or already unregistered.
     */
    synchronized Registration retire(final int index)
    {
        if (index < 0 || index >= max)
        {
            throw new AioException(Errno.EINVAL, "buffer index " + index + " is out of range: " + (max == 0 ?
                "the context was set up with no buffer slots (SetupParams.maxBuffers 0)" :
                "indices run from 0 to " + (max - 1) + " (SetupParams.maxBuffers " + max + ")"));
        }
        if (index >= highWater)
        {
            throw new AioException(Errno.EINVAL, "buffer index " + index + " was never registered");
        }
        final Registration[] entries = table;
        final Registration dying = retiring[index];
        if (dying != null)
        {
            return dying;
        }
        final Registration live = entries[index];
        if (live == null)
        {
            throw new AioException(Errno.EINVAL, "buffer index " + index + " is not registered: it was " +
                "unregistered already");
        }
        retiring[index] = live;
        retiringCount++;
        entries[index] = live.retired();
        // Volatile write: a resolve that reads the table after it sees the retired entry. With the caller's reads of
        // the request slots' states and of the submitting threads' call states after it (volatile reads too), and
        // the workers' and submitters' volatile writes of those states before they resolve, either the caller
        // sees the op or thread that may hold the address, or that op or thread sees the retired entry.
        table = entries;
        return live;
    }

    /**
     * The second half: the index becomes free to register again and the context lets go of the buffer. Nothing
     * happens if another unregister of the index freed it meanwhile (both waited; the buffer is gone either way).
     *
     * @param live what {@link #retire} returned.
     */
    synchronized void free(final int index, final Registration live)
    {
        if (retiring[index] != live)
        {
            return;
        }
        retiring[index] = null;
        retiringCount--;
        final Registration[] entries = table;
        // Plain: a resolve that still sees the retired entry fails as one that sees null does. No running op reads
        // this entry again: the caller waited for every op that may have resolved it.
        entries[index] = null;
        free.set(index);
    }

    /**
     * @param ref    a BufferRef.
     * @param length bytes the op will touch from it.
     * @return the address, or -EFAULT if the index is not registered or the range passes the buffer's
     * end, or -EINVAL if the length is negative.
     */
    long resolve(final long ref, final long length)
    {
        return resolve(entry(ref), ref, length);
    }

    /**
     * @return the index's entry, live or retired; null if none.
     */
    private Registration entry(final long ref)
    {
        final int index = BufferRef.index(ref);
        final Registration[] entries = table; // volatile: see retire
        return index < entries.length ? entries[index] : null;
    }

    private static long resolve(final Registration entry, final long ref, final long length)
    {
        if (length < 0)
        {
            return -Errno.EINVAL;
        }
        if (entry == null)
        {
            return -Errno.EFAULT;
        }
        final long offset = BufferRef.offset(ref);
        final long limit = entry.limit;
        if (offset > limit || length > limit - offset)
        {
            return -Errno.EFAULT; // a retired entry too
        }
        return entry.address + offset;
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
        final Registration entry = entry(ref);
        final long address = resolve(entry, ref, length);
        return address >= 0 && entry.readOnly ? -Errno.EFAULT : address;
    }

    /**
     * @return true if the registered range {@code ref} names (a resolved one) is a file's mapping: the
     * engine's Java code must touch it only through {@link FileMappings#copy}. The entry read here is the one
     * resolved, or its retired copy: the index cannot be freed, nor registered again, while the op runs.
     */
    boolean isFileBacked(final long ref)
    {
        return entry(ref).fileBacked;
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
        final long length = nulIndex(entry(ref).view, start, room(ref));
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
            final UnsafeBuffer view = entry(ref).view;
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
        return Math.min(entry(ref).view.capacity() - BufferRef.offset(ref), PATH_MAX);
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
