package io.syslet.abi;

/**
 * The Linux errno values that the ABI names. Events carry them negated in {@code res}, as the kernel's
 * io_event does; exceptions carry them positive in {@link AioException#errno()}.
 */
public final class Errno
{
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int ESPIPE = 29;
    public static final int EDEADLK = 35;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;
    public static final int EALREADY = 114;
    public static final int ECANCELED = 125;

    private Errno()
    {
    }

    /**
     * @param errno a positive or negated errno.
     * @return its symbolic name, or {@code "errno N"} for one the ABI does not name.
     */
    public static String name(final long errno)
    {
        // Long.MIN_VALUE has no positive counterpart: unsigned, it reads as its magnitude.
        final long magnitude = Math.abs(errno);
        // Cut down to an int, a result like -(2^32 + 22) (a callable may return any long) would be named EINVAL.
        switch (magnitude >= 0 && magnitude <= Integer.MAX_VALUE ? (int)magnitude : -1)
        {
            case EPERM: return "EPERM";
            case ENOENT: return "ENOENT";
            case EINTR: return "EINTR";
            case EIO: return "EIO";
            case EBADF: return "EBADF";
            case EAGAIN: return "EAGAIN";
            case ENOMEM: return "ENOMEM";
            case EACCES: return "EACCES";
            case EFAULT: return "EFAULT";
            case EBUSY: return "EBUSY";
            case EEXIST: return "EEXIST";
            case EINVAL: return "EINVAL";
            case ESPIPE: return "ESPIPE";
            case EDEADLK: return "EDEADLK";
            case ENOSYS: return "ENOSYS";
            case EOPNOTSUPP: return "EOPNOTSUPP";
            case EALREADY: return "EALREADY";
            case ECANCELED: return "ECANCELED";
            default: return "errno " + Long.toUnsignedString(magnitude);
        }
    }
}
