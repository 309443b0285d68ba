package io.syslet.abi;

/**
 * Operation codes of an iocb, with the meaning of its six arguments. {@code buf} arguments are
 * {@link BufferRef}s into buffers registered with the context; the engine checks every one against
 * its buffer's bounds before the native call. {@code res} is the syscall's return value, or a negated
 * errno. The table is normative: see docs/ABI.md, part 2.
 */
public final class Opcode
{
    /** Does nothing; res = 0. */
    public static final int NOP = 0;
    /**
     * {@code syscall(number, a0..a5)}: aux holds the number (bits 0..23) and, in its high byte, the most
     * arguments the syscall reads (1..6), or 0 if not given ({@link IocbDescriptor#rawAux}); arguments past
     * that count may reach the kernel as any value. Arguments go to the kernel unchecked: pass no
     * pointers you do not own.
     */
    public static final int RAW = 1;
    /** {@code pread(a0 fd, a1 buf, a2 count, a3 offset)}. */
    public static final int PREAD = 2;
    /** {@code pwrite(a0 fd, a1 buf, a2 count, a3 offset)}. */
    public static final int PWRITE = 3;
    /** {@code preadv(a0 fd, a1 iov buf, a2 iovcnt, a3 offset)}; the iov array holds {@link IovDescriptor} entries. */
    public static final int PREADV = 4;
    /** {@code pwritev(a0 fd, a1 iov buf, a2 iovcnt, a3 offset)}. */
    public static final int PWRITEV = 5;
    /** {@code read(a0 fd, a1 buf, a2 count)}. */
    public static final int READ = 6;
    /** {@code write(a0 fd, a1 buf, a2 count)}. */
    public static final int WRITE = 7;
    /** {@code fsync(a0 fd)}. */
    public static final int FSYNC = 8;
    /** {@code fdatasync(a0 fd)}. */
    public static final int FDATASYNC = 9;
    /** {@code openat(a0 dirfd, a1 path buf (NUL-terminated), a2 flags, a3 mode)}; res = the new fd. */
    public static final int OPENAT = 10;
    /** {@code close(a0 fd)}. */
    public static final int CLOSE = 11;
    /** {@code statx(a0 dirfd, a1 path buf, a2 flags, a3 mask, a4 out buf of 256 bytes)}. */
    public static final int STATX = 12;
    /** {@code fallocate(a0 fd, a1 mode, a2 offset, a3 length)}. */
    public static final int FALLOCATE = 13;
    /** {@code sync_file_range(a0 fd, a1 offset, a2 nbytes, a3 flags)}. */
    public static final int SYNC_FILE_RANGE = 14;
    /** {@code accept4(a0 fd, a1 addr buf of 128 bytes or NO_BUFFER, a2 flags)}; res = fd, res2 = address length. */
    public static final int ACCEPT = 15;
    /** {@code connect(a0 fd, a1 addr buf, a2 addrlen)}. */
    public static final int CONNECT = 16;
    /** {@code recv(a0 fd, a1 buf, a2 len, a3 flags)}. */
    public static final int RECV = 17;
    /** {@code send(a0 fd, a1 buf, a2 len, a3 flags)}. */
    public static final int SEND = 18;
    /** {@code poll(a0 pollfd array buf, a1 nfds, a2 timeout ms)}. */
    public static final int POLL = 19;
    /** {@code nanosleep(a0 nanoseconds)}; res = 0. */
    public static final int NANOSLEEP = 20;
    /** {@code waitid(a0 idtype, a1 id, a2 siginfo buf of 128 bytes, a3 options)}. */
    public static final int WAITID = 21;
    /** {@code flock(a0 fd, a1 operation)}. */
    public static final int FLOCK = 22;
    /**
     * {@code getaddrinfo(a0 node buf, a1 service buf or NO_BUFFER, a2 out buf, a3 out length, a4 hints family,
     * a5 hints socktype)}; writes {@link AddrInfoDescriptor} records; res = records written, res2 = records found.
     */
    public static final int GETADDRINFO = 23;
    /** A Java {@code Callable}; only through {@link AioContext#submitCallable}. */
    public static final int CALLABLE = 24;

    /** One more than the highest opcode this version defines. */
    public static final int COUNT = 25;

    private static final String[] NAMES = {
        "nop", "raw", "pread", "pwrite", "preadv", "pwritev", "read", "write", "fsync", "fdatasync", "openat",
        "close", "statx", "fallocate", "sync_file_range", "accept", "connect", "recv", "send", "poll",
        "nanosleep", "waitid", "flock", "getaddrinfo", "callable"};

    private Opcode()
    {
    }

    /**
     * @param opcode any value.
     * @return the op's name, or {@code "op N"} for an opcode this version does not define.
     */
    public static String name(final int opcode)
    {
        return opcode >= 0 && opcode < COUNT ? NAMES[opcode] : "op " + opcode;
    }

    /**
     * @param name an op name as {@link #name} gives it.
     * @return its opcode, or -1.
     */
    public static int byName(final String name)
    {
        for (int i = 0; i < COUNT; i++)
        {
            if (NAMES[i].equals(name))
            {
                return i;
            }
        }
        return -1;
    }
}
