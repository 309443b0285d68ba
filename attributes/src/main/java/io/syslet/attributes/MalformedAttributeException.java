package io.syslet.attributes;

/**
 * Attribute bytes that do not follow {@link AttributeDescriptor}; the message names the TLV's offset and
 * the fault.
 */
public final class MalformedAttributeException extends IllegalArgumentException
{
    private static final long serialVersionUID = 1L;

    public MalformedAttributeException(final String message)
    {
        super(message);
    }
}
