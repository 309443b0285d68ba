package io.syslet.pool.natives;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * The one loaded {@link LibC} and the errno convention: results come back as the kernel gives them to
 * io_event, a value &gt;= 0 or a negated errno.
 */
public final class Natives
{
    /** libc, loaded once. */
    public static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;
    public static final int AT_FDCWD = -100;
    public static final int EFD_CLOEXEC = 02000000;
    public static final int EFD_NONBLOCK = 04000;
    /** preadv2 flag (linux/fs.h): answer EAGAIN instead of waiting for IO; EOPNOTSUPP where unsupported. */
    public static final int RWF_NOWAIT = 0x8;

    private Natives()
    {
    }

    /**
     * @param value what a libc call returned.
     * @return {@code value} if it is not -1, else the negated errno the call left.
     */
    public static long result(final long value)
    {
        return value == -1 ? -RUNTIME.getLastError() : value;
    }

    /**
     * @return the negated errno the last call on this thread left.
     */
    public static int lastError()
    {
        return -RUNTIME.getLastError();
    }
}
