package io.syslet.abi;

import org.agrona.MutableDirectBuffer;

import static io.syslet.abi.IocbDescriptor.MIN_LENGTH;

/**
 * The Java-side way to build a submission: typed methods append iocbs to a buffer, then
 * {@link #submitTo(AioContext)} submits them and keeps any the context did not accept. Allocates nothing
 * after construction. Not thread-safe: one writer per submitting thread.
 *
 * <pre>{@code
 * writer.pread(7, fd, BufferRef.of(buf, 0), 4096, 0).pwrite(8, fd, BufferRef.of(buf, 4096), 4096, 4096);
 * writer.submitTo(ctx);
 * }</pre>
 */
public final class IocbWriter
{
    private final MutableDirectBuffer buffer;
    private final Iocb iocb = new Iocb();
    private int length;
    private int count;
    private int lastOffset = -1;

    /**
     * @param buffer where iocbs are written; its capacity bounds one submission.
     */
    public IocbWriter(final MutableDirectBuffer buffer)
    {
        this.buffer = buffer;
    }

    /** Appends a NOP. */
    public IocbWriter nop(final long cookie)
    {
        return append(Opcode.NOP, cookie, 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * Appends {@code syscall(number, a0..a5)} without saying how many arguments it reads, so all six are
     * passed; the arguments go to the kernel unchecked.
     *
     * @throws IllegalArgumentException if the number is outside 0 .. 2^24 - 1.
     */
    public IocbWriter raw(final long cookie, final int number, final long a0, final long a1, final long a2, final long a3,
        final long a4, final long a5)
    {
        return raw(cookie, number, IocbDescriptor.RAW_ARGS_NOT_GIVEN, a0, a1, a2, a3, a4, a5);
    }

    /**
     * Appends {@code syscall(number, a0..a5)} for a syscall that reads at most {@code maxArgs} arguments;
     * the arguments go to the kernel unchecked.
     *
     * @param maxArgs 1..6 (1 for a syscall that takes none), from the syscall's signature: the arguments
     *                past it may reach the kernel as any value; up to 4, the engine's call allocates
     *                nothing. 0: not given, all six are passed.
     * @throws IllegalArgumentException if the number is outside 0 .. 2^24 - 1 or maxArgs outside 0..6.
     */
    public IocbWriter raw(final long cookie, final int number, final int maxArgs, final long a0, final long a1,
        final long a2, final long a3, final long a4, final long a5)
    {
        return append(Opcode.RAW, cookie, IocbDescriptor.rawAux(number, maxArgs), a0, a1, a2, a3, a4, a5);
    }

    public IocbWriter pread(final long cookie, final int fd, final long buf, final long count, final long offset)
    {
        return append(Opcode.PREAD, cookie, 0, fd, buf, count, offset, 0, 0);
    }

    public IocbWriter pwrite(final long cookie, final int fd, final long buf, final long count, final long offset)
    {
        return append(Opcode.PWRITE, cookie, 0, fd, buf, count, offset, 0, 0);
    }

    /** @param iov a BufferRef to {@code iovcnt} {@link IovDescriptor} elements. */
    public IocbWriter preadv(final long cookie, final int fd, final long iov, final int iovcnt, final long offset)
    {
        return append(Opcode.PREADV, cookie, 0, fd, iov, iovcnt, offset, 0, 0);
    }

    public IocbWriter pwritev(final long cookie, final int fd, final long iov, final int iovcnt, final long offset)
    {
        return append(Opcode.PWRITEV, cookie, 0, fd, iov, iovcnt, offset, 0, 0);
    }

    public IocbWriter read(final long cookie, final int fd, final long buf, final long count)
    {
        return append(Opcode.READ, cookie, 0, fd, buf, count, 0, 0, 0);
    }

    public IocbWriter write(final long cookie, final int fd, final long buf, final long count)
    {
        return append(Opcode.WRITE, cookie, 0, fd, buf, count, 0, 0, 0);
    }

    public IocbWriter fsync(final long cookie, final int fd)
    {
        return append(Opcode.FSYNC, cookie, 0, fd, 0, 0, 0, 0, 0);
    }

    public IocbWriter fdatasync(final long cookie, final int fd)
    {
        return append(Opcode.FDATASYNC, cookie, 0, fd, 0, 0, 0, 0, 0);
    }

    /** @param path a BufferRef to a NUL-terminated path. */
    public IocbWriter openat(final long cookie, final int dirfd, final long path, final int flags, final int mode)
    {
        return append(Opcode.OPENAT, cookie, 0, dirfd, path, flags, mode, 0, 0);
    }

    public IocbWriter close(final long cookie, final int fd)
    {
        return append(Opcode.CLOSE, cookie, 0, fd, 0, 0, 0, 0, 0);
    }

    /** @param out a BufferRef to 256 bytes for the {@code struct statx}. */
    public IocbWriter statx(final long cookie, final int dirfd, final long path, final int flags, final int mask,
        final long out)
    {
        return append(Opcode.STATX, cookie, 0, dirfd, path, flags, mask, out, 0);
    }

    public IocbWriter fallocate(final long cookie, final int fd, final int mode, final long offset, final long length)
    {
        return append(Opcode.FALLOCATE, cookie, 0, fd, mode, offset, length, 0, 0);
    }

    public IocbWriter syncFileRange(final long cookie, final int fd, final long offset, final long nbytes, final int flags)
    {
        return append(Opcode.SYNC_FILE_RANGE, cookie, 0, fd, offset, nbytes, flags, 0, 0);
    }

    /** @param addr a BufferRef to 128 bytes for the peer's address, or {@link BufferRef#NO_BUFFER}. */
    public IocbWriter accept(final long cookie, final int fd, final long addr, final int flags)
    {
        return append(Opcode.ACCEPT, cookie, 0, fd, addr, flags, 0, 0, 0);
    }

    public IocbWriter connect(final long cookie, final int fd, final long addr, final int addrlen)
    {
        return append(Opcode.CONNECT, cookie, 0, fd, addr, addrlen, 0, 0, 0);
    }

    public IocbWriter recv(final long cookie, final int fd, final long buf, final long len, final int flags)
    {
        return append(Opcode.RECV, cookie, 0, fd, buf, len, flags, 0, 0);
    }

    public IocbWriter send(final long cookie, final int fd, final long buf, final long len, final int flags)
    {
        return append(Opcode.SEND, cookie, 0, fd, buf, len, flags, 0, 0);
    }

    /** @param fds a BufferRef to {@code nfds} 8-byte {@code struct pollfd}. */
    public IocbWriter poll(final long cookie, final long fds, final int nfds, final int timeoutMillis)
    {
        return append(Opcode.POLL, cookie, 0, fds, nfds, timeoutMillis, 0, 0, 0);
    }

    public IocbWriter nanosleep(final long cookie, final long nanos)
    {
        return append(Opcode.NANOSLEEP, cookie, 0, nanos, 0, 0, 0, 0, 0);
    }

    /** @param info a BufferRef to 128 bytes for the {@code siginfo_t}. */
    public IocbWriter waitid(final long cookie, final int idtype, final int id, final long info, final int options)
    {
        return append(Opcode.WAITID, cookie, 0, idtype, id, info, options, 0, 0);
    }

    public IocbWriter flock(final long cookie, final int fd, final int operation)
    {
        return append(Opcode.FLOCK, cookie, 0, fd, operation, 0, 0, 0, 0);
    }

    /** Writes up to {@code out}'s room / 48 {@link AddrInfoDescriptor} records. */
    public IocbWriter getaddrinfo(final long cookie, final long node, final long service, final long out,
        final long outLength, final int family, final int socktype)
    {
        return append(Opcode.GETADDRINFO, cookie, 0, node, service, out, outLength, family, socktype);
    }

    /**
     * Appends any iocb.
     */
    public IocbWriter append(final int opcode, final long cookie, final int aux, final long a0, final long a1,
        final long a2, final long a3, final long a4, final long a5)
    {
        if (buffer.capacity() - length < MIN_LENGTH)
        {
            throw new IllegalStateException("submission buffer of " + buffer.capacity() + " bytes is full after " +
                count + " iocbs");
        }
        // The write may refuse the op (an opcode past 16 bits): only a written iocb becomes the last one.
        final int written = iocb.wrap(buffer, length).write(opcode, 0, cookie, aux, a0, a1, a2, a3, a4, a5);
        lastOffset = length;
        length += written;
        count++;
        return this;
    }

    /**
     * Lists attributes on the last iocb appended.
     */
    public IocbWriter attributes(final int... ids)
    {
        final int before = iocb.wrap(buffer, lastIocb()).length();
        final int after = IocbDescriptor.length(iocb.attributeCount() + ids.length);
        if (lastOffset + after > buffer.capacity())
        {
            throw new IllegalStateException("submission buffer of " + buffer.capacity() + " bytes has no room for " +
                ids.length + " more attribute ids");
        }
        length += iocb.addAttributes(ids) - before;
        return this;
    }

    /**
     * Sets flags ({@link IocbDescriptor#FLAG_NO_IMMEDIATE}) on the last iocb appended.
     */
    public IocbWriter flags(final int flags)
    {
        buffer.putShort(lastIocb() + IocbDescriptor.FLAGS_OFFSET, (short)Iocb.checkU16(flags, "flags"));
        return this;
    }

    /**
     * Submits everything written; keeps, at the front of the buffer, what the context did not accept.
     *
     * @return iocbs accepted.
     * @throws AioException as {@link AioContext#submit} does; the writer is unchanged then.
     */
    public int submitTo(final AioContext context)
    {
        if (count == 0)
        {
            return 0;
        }
        final int accepted = context.submit(buffer, 0, length);
        discard(accepted);
        return accepted;
    }

    /**
     * Drops the first {@code n} iocbs.
     *
     * @throws IllegalArgumentException if {@code n} is negative or more than {@link #count()}; nothing is dropped.
     */
    public void discard(final int n)
    {
        if (n < 0 || n > count)
        {
            throw new IllegalArgumentException("cannot discard " + n + " of " + count + " iocbs");
        }
        if (n == count)
        {
            reset(); // everything went: nothing to move to the front
            return;
        }
        int offset = 0;
        for (int i = 0; i < n; i++)
        {
            offset += buffer.getInt(offset + IocbDescriptor.LENGTH_OFFSET);
        }
        buffer.putBytes(0, buffer, offset, length - offset);
        length -= offset;
        count -= n;
        lastOffset = -1;
    }

    /** Drops everything written. */
    public void reset()
    {
        length = 0;
        count = 0;
        lastOffset = -1;
    }

    public int count()
    {
        return count;
    }

    public int length()
    {
        return length;
    }

    public MutableDirectBuffer buffer()
    {
        return buffer;
    }

    private int lastIocb()
    {
        if (lastOffset < 0)
        {
            throw new IllegalStateException("no iocb appended since the last submit");
        }
        return lastOffset;
    }
}
