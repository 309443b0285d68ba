package io.syslet.pool;

import io.syslet.abi.AddrInfoDescriptor;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IovDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.CacheOutcome;
import io.syslet.pool.natives.Natives;
import org.agrona.concurrent.UnsafeBuffer;

import static io.syslet.pool.natives.Natives.LIBC;
import static io.syslet.pool.natives.Natives.RWF_NOWAIT;
import static io.syslet.pool.natives.Natives.result;

/**
 * Runs one op: turns a slot's arguments into a native call, after checking every buffer/count pair
 * through {@link RegisteredBuffers}. Also the op table: which worker class runs each op and whether a
 * running one can be interrupted. Results follow io_event: &gt;= 0, or a negated errno.
 */
final class Dispatch
{
    /** Ops that finish on their own: regular-file IO. */
    static final int BOUNDED = 0;
    /** Ops that may block indefinitely: pipes, sockets, sleeps, waits, locks, DNS, Java code. */
    static final int UNBOUNDED = 1;

    private static final int STATX_LENGTH = 256;
    private static final int SOCKADDR_STORAGE_LENGTH = 128;
    private static final int SIGINFO_LENGTH = 128;
    private static final int POLLFD_LENGTH = 8;
    private static final int MAX_POLL_FDS = 1 << 16;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final long NANOS_PER_MILLI = 1_000_000L;
    /** The most arguments of a RAW syscall that the allocation-free binding passes. */
    private static final int SHORT_RAW_ARGS = 4;
    private static final CallableThrew CALLABLE_THREW = new CallableThrew();

    private static final int[] WORKER_CLASS = new int[Opcode.COUNT];
    private static final boolean[] INTERRUPTIBLE = new boolean[Opcode.COUNT];
    private static final boolean[] RESTART_ON_EINTR = new boolean[Opcode.COUNT];
    /**
     * Bit i set: the op's args[i] is a C int (flags, a mode, a timeout), which must fit in 32 bits, signed
     * or unsigned, or the op fails with EINVAL: cast down unchecked, a bad value would reach the kernel as
     * some other, valid one. (fd arguments have their own check, EBADF.)
     */
    private static final int[] INT_ARGS = new int[Opcode.COUNT];

    static
    {
        for (final int op : new int[]{Opcode.RAW, Opcode.READ, Opcode.WRITE, Opcode.ACCEPT, Opcode.CONNECT, Opcode.RECV,
            Opcode.SEND, Opcode.POLL, Opcode.NANOSLEEP, Opcode.WAITID, Opcode.FLOCK, Opcode.GETADDRINFO, Opcode.CALLABLE})
        {
            WORKER_CLASS[op] = UNBOUNDED;
        }
        // getaddrinfo retries EINTR inside glibc, so a signal does not end it.
        for (final int op : new int[]{Opcode.RAW, Opcode.READ, Opcode.WRITE, Opcode.ACCEPT, Opcode.CONNECT, Opcode.RECV,
            Opcode.SEND, Opcode.POLL, Opcode.NANOSLEEP, Opcode.WAITID, Opcode.FLOCK, Opcode.CALLABLE})
        {
            INTERRUPTIBLE[op] = true;
        }
        // An EINTR nobody asked for (a cancel signal that arrived after its op ended) must not fail the
        // next op on that worker: these are safe to issue again. CONNECT is not (the first attempt goes
        // on in the kernel), nor RAW (unknown), nor NANOSLEEP and POLL (they restart with the time left
        // themselves: the whole timeout again would stretch the wait with every stray signal).
        for (final int op : new int[]{Opcode.READ, Opcode.WRITE, Opcode.ACCEPT, Opcode.RECV, Opcode.SEND,
            Opcode.WAITID, Opcode.FLOCK, Opcode.PREAD, Opcode.PWRITE, Opcode.PREADV, Opcode.PWRITEV, Opcode.OPENAT,
            Opcode.STATX, Opcode.FSYNC, Opcode.FDATASYNC, Opcode.FALLOCATE, Opcode.SYNC_FILE_RANGE})
        {
            RESTART_ON_EINTR[op] = true;
        }
        intArgs(Opcode.OPENAT, 2, 3);
        intArgs(Opcode.STATX, 2, 3);
        intArgs(Opcode.FALLOCATE, 1);
        intArgs(Opcode.SYNC_FILE_RANGE, 3);
        intArgs(Opcode.ACCEPT, 2);
        intArgs(Opcode.RECV, 3);
        intArgs(Opcode.SEND, 3);
        intArgs(Opcode.POLL, 2);
        intArgs(Opcode.WAITID, 0, 1, 3);
        intArgs(Opcode.FLOCK, 1);
        intArgs(Opcode.GETADDRINFO, 4, 5);
    }

    private static void intArgs(final int opcode, final int... indices)
    {
        for (final int index : indices)
        {
            INT_ARGS[opcode] |= 1 << index;
        }
    }

    /**
     * @return true if every argument the op passes as a C int fits in 32 bits.
     */
    private static boolean intArgsFit(final Slot s)
    {
        final int ints = INT_ARGS[s.opcode];
        return ints == 0 ||
            fits32(s.a0, ints, 0) && fits32(s.a1, ints, 1) && fits32(s.a2, ints, 2) &&
            fits32(s.a3, ints, 3) && fits32(s.a4, ints, 4) && fits32(s.a5, ints, 5);
    }

    private static boolean fits32(final long value, final int ints, final int index)
    {
        return (ints & (1 << index)) == 0 || (value >= Integer.MIN_VALUE && value <= 0xFFFF_FFFFL);
    }

    /**
     * @return true for a value a C int dirfd can hold: an fd, or a negative constant like AT_FDCWD.
     */
    private static boolean isDirFd(final long dirfd)
    {
        return (int)dirfd == dirfd;
    }

    private Dispatch()
    {
    }

    static boolean isSupported(final int opcode)
    {
        return opcode >= 0 && opcode < Opcode.COUNT;
    }

    static int workerClass(final int opcode)
    {
        return WORKER_CLASS[opcode];
    }

    static boolean isInterruptible(final int opcode)
    {
        return INTERRUPTIBLE[opcode];
    }

    /**
     * Whether an op may hold an address in registered buffer {@code index} while it runs: what an unregister of
     * that buffer waits for. Read from the slot's arguments, which the op resolves when it starts; each case
     * names the arguments {@link #executeOnce} resolves. preadv and pwritev may reach any buffer: the elements of
     * their iov array, read out of registered memory when the op starts, are not in the slot. An op this table
     * does not list (one added after it) counts as reaching every buffer too: a wait too many, never one too
     * few. RAW ops take raw addresses, never BufferRefs, and callables take none: the engine resolves nothing
     * for them, so they never hold a registered buffer on its behalf.
     *
     * @param s     a slot whose op is running (the caller checks that its fields are that op's).
     * @param index a buffer index.
     */
    static boolean mayTouchBuffer(final Slot s, final int index)
    {
        switch (s.opcode)
        {
            case Opcode.NOP:
            case Opcode.RAW:
            case Opcode.FSYNC:
            case Opcode.FDATASYNC:
            case Opcode.CLOSE:
            case Opcode.FALLOCATE:
            case Opcode.SYNC_FILE_RANGE:
            case Opcode.NANOSLEEP:
            case Opcode.FLOCK:
            case Opcode.CALLABLE:
                return false;
            case Opcode.PREAD:
            case Opcode.PWRITE:
            case Opcode.READ:
            case Opcode.WRITE:
            case Opcode.OPENAT:
            case Opcode.ACCEPT: // NO_BUFFER's index is one no buffer can have
            case Opcode.CONNECT:
            case Opcode.RECV:
            case Opcode.SEND:
                return names(s.a1, index);
            case Opcode.STATX:
                return names(s.a1, index) || names(s.a4, index);
            case Opcode.POLL:
                return names(s.a0, index);
            case Opcode.WAITID:
                return names(s.a2, index);
            case Opcode.GETADDRINFO:
                return names(s.a0, index) || names(s.a1, index) || names(s.a2, index);
            default:
                return true;
        }
    }

    private static boolean names(final long ref, final int index)
    {
        return BufferRef.index(ref) == index;
    }

    /**
     * Runs the slot's op on this thread; sets {@code slot.res2} where the op has one.
     *
     * @return res.
     */
    static long execute(final Slot slot, final Scratch scratch, final RegisteredBuffers buffers)
    {
        if (!intArgsFit(slot))
        {
            return -Errno.EINVAL;
        }
        while (true)
        {
            final long res = executeOnce(slot, scratch, buffers);
            if (res != -Errno.EINTR || !RESTART_ON_EINTR[slot.opcode] || isCancelRequested(slot))
            {
                return res;
            }
        }
    }

    /**
     * {@code syscall(number, a0..a5)}. A syscall declared to read at most {@link #SHORT_RAW_ARGS} arguments
     * goes through the 4-argument binding, which does not allocate; see {@link io.syslet.pool.natives.LibC}.
     */
    private static long raw(final Slot s)
    {
        final int number = IocbDescriptor.rawNumber(s.aux);
        final int maxArgs = IocbDescriptor.rawMaxArgs(s.aux);
        if (maxArgs != IocbDescriptor.RAW_ARGS_NOT_GIVEN && maxArgs <= SHORT_RAW_ARGS)
        {
            return result(LIBC.syscall(number, s.a0, s.a1, s.a2, s.a3));
        }
        return result(LIBC.syscall(number, s.a0, s.a1, s.a2, s.a3, s.a4, s.a5));
    }

    private static long executeOnce(final Slot s, final Scratch scratch, final RegisteredBuffers buffers)
    {
        switch (s.opcode)
        {
            case Opcode.NOP:
                return 0;
            case Opcode.RAW:
                return raw(s);
            case Opcode.PREAD:
                return pread(s, scratch, buffers);
            case Opcode.PWRITE:
            {
                final long buf = fdAndBuffer(s, buffers, false);
                return buf < 0 ? buf : result(LIBC.pwrite((int)s.a0, buf, s.a2, s.a3));
            }
            case Opcode.PREADV:
                return preadv(s, scratch, buffers);
            case Opcode.PWRITEV:
            {
                final long iov = nativeIovec(s.a1, s.a2, false, scratch, buffers);
                return iov < 0 ? iov : !isFd(s.a0) ? -Errno.EBADF : result(LIBC.pwritev((int)s.a0, iov, (int)s.a2, s.a3));
            }
            case Opcode.READ:
            {
                final long buf = fdAndBuffer(s, buffers, true);
                return buf < 0 ? buf : result(LIBC.read((int)s.a0, buf, s.a2));
            }
            case Opcode.WRITE:
            {
                final long buf = fdAndBuffer(s, buffers, false);
                return buf < 0 ? buf : result(LIBC.write((int)s.a0, buf, s.a2));
            }
            case Opcode.FSYNC:
                return !isFd(s.a0) ? -Errno.EBADF : result(LIBC.fsync((int)s.a0));
            case Opcode.FDATASYNC:
                return !isFd(s.a0) ? -Errno.EBADF : result(LIBC.fdatasync((int)s.a0));
            case Opcode.OPENAT:
            {
                if (!isDirFd(s.a0))
                {
                    return -Errno.EBADF;
                }
                final long path = buffers.resolveString(s.a1, scratch.buffer, Scratch.PATH_COPY_OFFSET);
                return path < 0 ? path : result(LIBC.openat((int)s.a0, path, (int)s.a2, (int)s.a3));
            }
            case Opcode.CLOSE:
                return !isFd(s.a0) ? -Errno.EBADF : result(LIBC.close((int)s.a0));
            case Opcode.STATX:
            {
                if (!isDirFd(s.a0))
                {
                    return -Errno.EBADF;
                }
                final long path = buffers.resolveString(s.a1, scratch.buffer, Scratch.PATH_COPY_OFFSET);
                if (path < 0)
                {
                    return path;
                }
                final long out = buffers.resolveWritable(s.a4, STATX_LENGTH);
                return out < 0 ? out : result(LIBC.statx((int)s.a0, path, (int)s.a2, (int)s.a3, out));
            }
            case Opcode.FALLOCATE:
                return !isFd(s.a0) ? -Errno.EBADF : result(LIBC.fallocate((int)s.a0, (int)s.a1, s.a2, s.a3));
            case Opcode.SYNC_FILE_RANGE:
                return !isFd(s.a0) ? -Errno.EBADF : result(LIBC.sync_file_range((int)s.a0, s.a1, s.a2, (int)s.a3));
            case Opcode.ACCEPT:
                return accept(s, scratch, buffers);
            case Opcode.CONNECT:
            {
                final long addr = buffers.resolve(s.a1, s.a2);
                return addr < 0 ? addr : !isFd(s.a0) ? -Errno.EBADF : result(LIBC.connect((int)s.a0, addr, (int)s.a2));
            }
            case Opcode.RECV:
            {
                final long buf = fdAndBuffer(s, buffers, true);
                return buf < 0 ? buf : result(LIBC.recv((int)s.a0, buf, s.a2, (int)s.a3));
            }
            case Opcode.SEND:
            {
                final long buf = fdAndBuffer(s, buffers, false);
                return buf < 0 ? buf : result(LIBC.send((int)s.a0, buf, s.a2, (int)s.a3));
            }
            case Opcode.POLL:
            {
                if (s.a1 < 0 || s.a1 > MAX_POLL_FDS)
                {
                    return -Errno.EINVAL;
                }
                final long fds = s.a1 == 0 ? 0 : buffers.resolveWritable(s.a0, s.a1 * POLLFD_LENGTH); // revents
                return fds < 0 ? fds : poll(s, fds);
            }
            case Opcode.NANOSLEEP:
                return nanosleep(s, scratch);
            case Opcode.WAITID:
            {
                final long info = buffers.resolveWritable(s.a2, SIGINFO_LENGTH);
                return info < 0 ? info : result(LIBC.waitid((int)s.a0, (int)s.a1, info, (int)s.a3));
            }
            case Opcode.FLOCK:
                return !isFd(s.a0) ? -Errno.EBADF : result(LIBC.flock((int)s.a0, (int)s.a1));
            case Opcode.GETADDRINFO:
                return getaddrinfo(s, scratch, buffers);
            case Opcode.CALLABLE:
                return callable(s);
            default:
                return -Errno.ENOSYS;
        }
    }

    /**
     * {@link #classifyNowait} result: the read is not finished; read the rest with a blocking call.
     */
    static final long CONTINUE = Long.MIN_VALUE;

    /**
     * Tries the rest of a pread without blocking: {@code preadv2(RWF_NOWAIT)} returns only what the page cache
     * holds.
     *
     * @param buf the op's buffer, resolved and checked by the caller.
     * @return what preadv2 returned, or -EINVAL (a negative offset) before the call.
     */
    private static long nowaitPread(final Slot s, final Scratch scratch, final long buf)
    {
        final long done = s.bytesDone;
        final UnsafeBuffer out = scratch.buffer;
        out.putLong(Scratch.IOV_OFFSET, buf + done);
        out.putLong(Scratch.IOV_OFFSET + 8, s.a2 - done);
        return preadv2Nowait((int)s.a0, scratch.address + Scratch.IOV_OFFSET, 1, s.a3 + done);
    }

    /**
     * {@code preadv2(..., RWF_NOWAIT)} for a positioned read. preadv2 takes an offset of -1 as "the fd's current
     * position, and move it", which no pread or preadv asks for (their answer is EINVAL): a negative offset never
     * reaches it, and gets EINVAL, which the blocking read then confirms as the op's own.
     *
     * <p>An EINTR (a signal of the submitting thread's own, or a cancel signal that reached a worker after its
     * op) is asked again here: it says nothing of the cache, and classifyNowait would take it for the read's
     * own failure, completing a pread, which ABI.md section 14 restarts, with -EINTR (or FAILED for its cache).
     */
    private static long preadv2Nowait(final int fd, final long iov, final int count, final long offset)
    {
        if (offset < 0)
        {
            return -Errno.EINVAL;
        }
        long res;
        do
        {
            res = result(LIBC.preadv2(fd, iov, count, offset, RWF_NOWAIT));
        }
        while (res == -Errno.EINTR);
        return res;
    }

    /**
     * Tries a pread without blocking and reads the answer as evidence about the page cache. A short
     * answer is most often the end of the file, not a partly cached range: ask again for the rest (a few
     * times) before calling it partial, so that the last chunk of a cached file needs no worker.
     *
     * @return the op's final res, or {@link #CONTINUE} if the rest needs a blocking read.
     */
    static long probePread(final Slot s, final Scratch scratch, final RegisteredBuffers buffers)
    {
        final long buf = fdAndBuffer(s, buffers, true);
        if (buf < 0)
        {
            // The op's own error before any call (a bad range, a negative count, a bad fd): no word on the cache.
            // Left to classifyNowait, an EINVAL passed for a kernel without RWF_NOWAIT, and a count equal to the
            // error (-22) for a hit.
            s.cacheOutcome = Measurements.CACHE_FAILED;
            return buf;
        }
        final long res = classifyNowait(s, nowaitPread(s, scratch, buf), s.a2);
        for (int ask = 0; res == CONTINUE && s.cacheOutcome == CacheOutcome.PARTIAL && ask < 3; ask++)
        {
            final long more = nowaitPread(s, scratch, buf);
            if (more == 0)
            {
                s.cacheOutcome = CacheOutcome.HIT; // end of file: all of it came from the cache
                return s.bytesDone;
            }
            if (more < 0)
            {
                break; // EAGAIN: the rest really is not cached
            }
            s.bytesDone += more;
            s.cacheBytes += more;
            if (s.bytesDone == s.a2)
            {
                s.cacheOutcome = CacheOutcome.HIT;
                return s.bytesDone;
            }
        }
        return res;
    }

    /**
     * Reads the RWF_NOWAIT attempt's result as evidence about the page cache, into the slot.
     *
     * @return the op's final res, or {@link #CONTINUE} if the rest needs a blocking read.
     */
    static long classifyNowait(final Slot s, final long n, final long count)
    {
        if (n == count || n == 0)
        {
            // All of it, or end of file: nothing needed IO.
            s.cacheOutcome = CacheOutcome.HIT;
            s.cacheBytes = n;
            return n;
        }
        if (n > 0)
        {
            s.cacheOutcome = CacheOutcome.PARTIAL;
            s.cacheBytes = n;
            s.bytesDone = n;
            return CONTINUE;
        }
        if (n == -Errno.EAGAIN)
        {
            s.cacheOutcome = CacheOutcome.MISS;
            return CONTINUE;
        }
        if (n == -Errno.EOPNOTSUPP || n == -Errno.EINVAL)
        {
            // tmpfs and friends refuse RWF_NOWAIT (EINVAL: a kernel without it); that is no evidence either way.
            s.cacheOutcome = CacheOutcome.UNSUPPORTED_BY_FILESYSTEM;
            return CONTINUE;
        }
        s.cacheOutcome = Measurements.CACHE_FAILED;
        return n; // EBADF, EISDIR, ESPIPE...: the read itself fails
    }

    private static boolean probesCache(final Slot s)
    {
        return s.wants(AttributeId.CACHE) && s.cacheOutcome == Measurements.CACHE_UNMEASURED;
    }

    private static long pread(final Slot s, final Scratch scratch, final RegisteredBuffers buffers)
    {
        if (probesCache(s))
        {
            final long res = probePread(s, scratch, buffers);
            if (res != CONTINUE)
            {
                return res;
            }
        }
        final long buf = fdAndBuffer(s, buffers, true);
        if (buf < 0)
        {
            return buf;
        }
        final long done = s.bytesDone;
        return finishRead(s, done, result(LIBC.pread((int)s.a0, buf + done, s.a2 - done, s.a3 + done)));
    }

    private static long preadv(final Slot s, final Scratch scratch, final RegisteredBuffers buffers)
    {
        final long iov = nativeIovec(s.a1, s.a2, true, scratch, buffers);
        final long refused = iov < 0 ? iov : !isFd(s.a0) ? -Errno.EBADF : 0;
        if (refused < 0)
        {
            if (probesCache(s))
            {
                // The op's own error before any call, as for a pread (probePread): no word on the cache, which
                // does describe a preadv (NOT_APPLICABLE would say it does not).
                s.cacheOutcome = Measurements.CACHE_FAILED;
            }
            return refused;
        }
        final int fd = (int)s.a0;
        int count = (int)s.a2;
        if (probesCache(s))
        {
            final long res = classifyNowait(s, preadv2Nowait(fd, iov, count, s.a3),
                iovTotal(scratch, count));
            if (res != CONTINUE)
            {
                return res;
            }
        }
        final long done = s.bytesDone;
        final int skipped = skipIov(scratch, count, done);
        count -= skipped;
        return finishRead(s, done, result(LIBC.preadv(fd, iov + skipped * 16L, count, s.a3 + done)));
    }

    /**
     * Combines bytes read without blocking with the blocking read of the rest.
     */
    private static long finishRead(final Slot s, final long done, final long rest)
    {
        if (done == 0)
        {
            if (rest == -Errno.EINVAL && s.cacheOutcome == CacheOutcome.UNSUPPORTED_BY_FILESYSTEM)
            {
                // The RWF_NOWAIT attempt's EINVAL was the op's own (a negative offset, a misaligned O_DIRECT read),
                // not a kernel without the flag: no word on the cache.
                s.cacheOutcome = Measurements.CACHE_FAILED;
            }
            return rest;
        }
        if (rest == 0)
        {
            s.cacheOutcome = CacheOutcome.HIT; // the short answer was the end of the file
        }
        return rest < 0 ? done : done + rest;
    }

    private static long iovTotal(final Scratch scratch, final int count)
    {
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            total += scratch.buffer.getLong(Scratch.IOV_OFFSET + i * 16 + 8);
        }
        return total;
    }

    /**
     * Advances the native iovec in scratch past {@code done} bytes.
     *
     * @return elements wholly consumed.
     */
    private static int skipIov(final Scratch scratch, final int count, final long done)
    {
        final UnsafeBuffer buffer = scratch.buffer;
        long left = done;
        int i = 0;
        while (i < count && left > 0)
        {
            final int at = Scratch.IOV_OFFSET + i * 16;
            final long length = buffer.getLong(at + 8);
            if (left >= length)
            {
                left -= length;
                i++;
            }
            else
            {
                buffer.putLong(at, buffer.getLong(at) + left);
                buffer.putLong(at + 8, length - left);
                left = 0;
            }
        }
        return i;
    }

    /**
     * The common shape {@code op(a0 fd, a1 buf, a2 count, ...)}: checks the buffer range, then the fd.
     *
     * @param written true if the op writes into the buffer (a read), which read-only memory cannot take.
     * @return the buffer's address, or -EFAULT / -EINVAL / -EBADF.
     */
    private static long fdAndBuffer(final Slot s, final RegisteredBuffers buffers, final boolean written)
    {
        final long buf = written ? buffers.resolveWritable(s.a1, s.a2) : buffers.resolve(s.a1, s.a2);
        return buf < 0 ? buf : isFd(s.a0) ? buf : -Errno.EBADF;
    }

    private static boolean isFd(final long fd)
    {
        return fd >= 0 && fd <= Integer.MAX_VALUE;
    }

    /**
     * Builds a native iovec from the op's {@link IovDescriptor} array, checking every element.
     *
     * @param written true if the op writes into the elements' buffers (preadv); the array itself is only read.
     */
    private static long nativeIovec(final long iovRef, final long count, final boolean written, final Scratch scratch,
        final RegisteredBuffers buffers)
    {
        if (count < 0 || count > IovDescriptor.MAX_COUNT)
        {
            return -Errno.EINVAL;
        }
        final long array = buffers.resolve(iovRef, count * IovDescriptor.LENGTH);
        if (array < 0)
        {
            return array;
        }
        final UnsafeBuffer foreign = scratch.foreign;
        if (buffers.isFileBacked(iovRef))
        {
            // Read through the kernel (see FileMappings) into the iov area, where each element then becomes a
            // native iovec in place: element i is read whole before it is written, and never read again.
            final long copied =
                FileMappings.copyWhole(scratch.address + Scratch.IOV_OFFSET, array, count * IovDescriptor.LENGTH);
            if (copied < 0)
            {
                return copied;
            }
            foreign.wrap(scratch.address + Scratch.IOV_OFFSET, (int)(count * IovDescriptor.LENGTH));
        }
        else
        {
            foreign.wrap(array, (int)(count * IovDescriptor.LENGTH));
        }
        final UnsafeBuffer out = scratch.buffer;
        for (int i = 0; i < count; i++)
        {
            final long ref = foreign.getLong(i * IovDescriptor.LENGTH + IovDescriptor.BUFFER_OFFSET);
            final long length = foreign.getLong(i * IovDescriptor.LENGTH + IovDescriptor.LENGTH_OFFSET);
            final long address = written ? buffers.resolveWritable(ref, length) : buffers.resolve(ref, length);
            if (address < 0)
            {
                return address;
            }
            out.putLong(Scratch.IOV_OFFSET + i * 16, address);
            out.putLong(Scratch.IOV_OFFSET + i * 16 + 8, length);
        }
        return scratch.address + Scratch.IOV_OFFSET;
    }

    private static long accept(final Slot s, final Scratch scratch, final RegisteredBuffers buffers)
    {
        if (!isFd(s.a0))
        {
            return -Errno.EBADF;
        }
        if (s.a1 == BufferRef.NO_BUFFER)
        {
            return result(LIBC.accept4((int)s.a0, 0, 0, (int)s.a2));
        }
        final long addr = buffers.resolveWritable(s.a1, SOCKADDR_STORAGE_LENGTH);
        if (addr < 0)
        {
            return addr;
        }
        scratch.buffer.putInt(Scratch.SOCKLEN_OFFSET, SOCKADDR_STORAGE_LENGTH);
        final long fd = result(LIBC.accept4((int)s.a0, addr, scratch.address + Scratch.SOCKLEN_OFFSET, (int)s.a2));
        if (fd >= 0)
        {
            s.res2 = scratch.buffer.getInt(Scratch.SOCKLEN_OFFSET);
        }
        return fd;
    }

    /**
     * Sleeps for a0 ns on CLOCK_MONOTONIC's time, restarting with the time left after an EINTR that no
     * cancel asked for; a cancelled sleep returns -EINTR, which the caller turns into -ECANCELED.
     */
    private static long nanosleep(final Slot s, final Scratch scratch)
    {
        if (s.a0 < 0)
        {
            return -Errno.EINVAL;
        }
        final long deadline = System.nanoTime() + s.a0;
        long left = s.a0;
        final UnsafeBuffer buffer = scratch.buffer;
        final long timespec = scratch.address + Scratch.TIMESPEC_OFFSET;
        while (true)
        {
            buffer.putLong(Scratch.TIMESPEC_OFFSET, left / NANOS_PER_SECOND);
            buffer.putLong(Scratch.TIMESPEC_OFFSET + 8, left % NANOS_PER_SECOND);
            final long res = result(LIBC.nanosleep(timespec, 0));
            if (res != -Errno.EINTR || isCancelRequested(s))
            {
                return res;
            }
            left = deadline - System.nanoTime();
            if (left <= 0)
            {
                return 0;
            }
        }
    }

    /**
     * poll(2) that, after an EINTR nobody asked for, polls again for the time left, as nanosleep does: poll
     * itself never restarts (the kernel answers EINTR whatever SA_RESTART says), and again with the whole
     * timeout, a stray signal every so often would keep it from ever timing out.
     */
    private static long poll(final Slot s, final long fds)
    {
        final int timeoutMillis = (int)s.a2;
        final long deadline = timeoutMillis > 0 ? System.nanoTime() + timeoutMillis * NANOS_PER_MILLI : 0;
        int left = timeoutMillis;
        while (true)
        {
            final long res = result(LIBC.poll(fds, s.a1, left));
            if (res != -Errno.EINTR || isCancelRequested(s))
            {
                return res;
            }
            if (timeoutMillis > 0)
            {
                // Rounded up: a poll that woke a little early must not time out early, and 0 would poll once.
                left = (int)Math.max(0, (deadline - System.nanoTime() + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI);
            }
        }
    }

    private static boolean isCancelRequested(final Slot s)
    {
        return Slot.state(s.control()) == Slot.CANCEL_REQUESTED;
    }

    private static long getaddrinfo(final Slot s, final Scratch scratch, final RegisteredBuffers buffers)
    {
        // Copies, not the caller's bytes: glibc reads them in user space (see copyString).
        final long node = buffers.copyString(s.a0, scratch.buffer, Scratch.NODE_COPY_OFFSET);
        if (node < 0)
        {
            return node;
        }
        final long service = s.a1 == BufferRef.NO_BUFFER ? 0 :
            buffers.copyString(s.a1, scratch.buffer, Scratch.SERVICE_COPY_OFFSET);
        if (service < 0)
        {
            return service;
        }
        final long out = buffers.resolveWritable(s.a2, s.a3); // written below by Java code, not by the kernel
        if (out < 0)
        {
            return out;
        }
        final UnsafeBuffer buffer = scratch.buffer;
        buffer.setMemory(Scratch.HINTS_OFFSET, Scratch.HINTS_LENGTH, (byte)0);
        buffer.putInt(Scratch.HINTS_OFFSET + 4, (int)s.a4);
        buffer.putInt(Scratch.HINTS_OFFSET + 8, (int)s.a5);
        buffer.putLong(Scratch.ADDRINFO_RESULT_OFFSET, 0);
        final int rc = LIBC.getaddrinfo(node, service, scratch.address + Scratch.HINTS_OFFSET,
            scratch.address + Scratch.ADDRINFO_RESULT_OFFSET);
        if (rc != 0)
        {
            s.res2 = rc;
            return eaiToErrno(rc, Natives.lastError());
        }
        final long list = buffer.getLong(Scratch.ADDRINFO_RESULT_OFFSET);
        final UnsafeBuffer foreign = scratch.foreign;
        final UnsafeBuffer record = scratch.records;
        // A file's mapping gets each record built in the scratch (the strings' copies are done with) and copied
        // out through the kernel (see FileMappings); other memory gets it built in place.
        final boolean staged = buffers.isFileBacked(s.a2);
        final long staging = scratch.address + Scratch.NODE_COPY_OFFSET;
        final long room = s.a3 / AddrInfoDescriptor.LENGTH;
        long found = 0;
        long written = 0;
        long fault = 0;
        try
        {
            for (long ai = list; ai != 0; )
            {
                foreign.wrap(ai, 48);
                if (written < room && fault == 0)
                {
                    final long at = out + written * AddrInfoDescriptor.LENGTH;
                    record.wrap(staged ? staging : at, AddrInfoDescriptor.LENGTH);
                    final int addrLength = Math.min(foreign.getInt(16), AddrInfoDescriptor.ADDRESS_CAPACITY);
                    final long addr = foreign.getLong(24);
                    record.putInt(AddrInfoDescriptor.FAMILY_OFFSET, foreign.getInt(4));
                    record.putInt(AddrInfoDescriptor.SOCKTYPE_OFFSET, foreign.getInt(8));
                    record.putInt(AddrInfoDescriptor.PROTOCOL_OFFSET, foreign.getInt(12));
                    record.putInt(AddrInfoDescriptor.ADDRESS_LENGTH_OFFSET, addrLength);
                    record.setMemory(AddrInfoDescriptor.ADDRESS_OFFSET, AddrInfoDescriptor.ADDRESS_CAPACITY, (byte)0);
                    final UnsafeBuffer sockaddr = scratch.sockaddr;
                    sockaddr.wrap(addr, addrLength);
                    record.putBytes(AddrInfoDescriptor.ADDRESS_OFFSET, sockaddr, 0, addrLength);
                    fault = staged ? FileMappings.copyWhole(at, staging, AddrInfoDescriptor.LENGTH) : 0;
                    written++;
                }
                found++;
                ai = foreign.getLong(40);
            }
        }
        finally
        {
            LIBC.freeaddrinfo(list);
        }
        s.res2 = found;
        return fault < 0 ? fault : written;
    }

    private static long eaiToErrno(final int eai, final int negatedErrno)
    {
        switch (eai)
        {
            case -2: // EAI_NONAME
            case -5: // EAI_NODATA
            case -9: // EAI_ADDRFAMILY
                return -Errno.ENOENT;
            case -3: // EAI_AGAIN
                return -Errno.EAGAIN;
            case -10: // EAI_MEMORY
                return -Errno.ENOMEM;
            case -11: // EAI_SYSTEM
                return negatedErrno < 0 ? negatedErrno : -Errno.EIO;
            case -1: // EAI_BADFLAGS
            case -6: // EAI_FAMILY
            case -7: // EAI_SOCKTYPE
            case -8: // EAI_SERVICE
                return -Errno.EINVAL;
            default:
                return -Errno.EIO;
        }
    }

    private static long callable(final Slot s)
    {
        if (s.callable == null)
        {
            return -Errno.EINVAL; // a CALLABLE iocb from bytes: only submitCallable carries the code
        }
        try
        {
            final Long value = s.callable.call();
            return value == null ? 0 : value;
        }
        catch (final Throwable e)
        {
            // An Error too (as FutureTask does): thrown on as it is, it would end the worker thread with the op
            // unfinished, its event never published and its slot never freed. After a cancel, the throw is the
            // interrupt's echo and is dropped, as FutureTask drops what a cancelled task does. An
            // InterruptedException no cancel caused (the callable interrupted itself, or threw one of its own) is
            // a throw like any other: -EIO, reported.
            if (isCancelRequested(s))
            {
                return -Errno.EINTR;
            }
            s.failure = e;
            throw CALLABLE_THREW;
        }
    }

    /**
     * What {@link #callable} throws when the op's code threw and no cancel asked for it, with the Throwable left in
     * {@link Slot#failure}: the worker takes it in a catch block of its own, where it reports the Throwable and
     * completes the op with -EIO, so ordinary ops carry nothing for it. A single instance without a stack trace,
     * so that nothing is allocated after the code threw an OutOfMemoryError. Only a worker runs a callable:
     * {@code run()} and the immediate path never get here with code to call.
     */
    static final class CallableThrew extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        private CallableThrew()
        {
            super("callable op threw", null, false, false);
        }
    }
}
