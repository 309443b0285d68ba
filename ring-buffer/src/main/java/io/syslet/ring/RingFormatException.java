package io.syslet.ring;

/**
 * A region's header does not describe a ring this version can use: wrong magic, version, sizes or
 * features. The message names the field, the value found and the value expected. Nothing was changed.
 */
public final class RingFormatException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message names the field, the value found and the value expected.
     */
    public RingFormatException(final String message)
    {
        super(message);
    }
}
