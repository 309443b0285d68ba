package io.syslet.abi;

/**
 * A call on a context was refused as a whole: nothing it describes was done. The message names what
 * was wrong; {@link #errno()} gives the matching Linux errno (EINVAL for a malformed argument, EAGAIN
 * when the in-flight limit is reached, EBADF for a destroyed context).
 */
public final class AioException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final int errno;

    /**
     * @param errno   positive errno.
     * @param message what was wrong, naming the field or value.
     */
    public AioException(final int errno, final String message)
    {
        super(Errno.name(errno) + ": " + message);
        this.errno = errno;
    }

    /**
     * @return the positive errno.
     */
    public int errno()
    {
        return errno;
    }
}
