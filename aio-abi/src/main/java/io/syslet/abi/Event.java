package io.syslet.abi;

import org.agrona.DirectBuffer;

import static io.syslet.abi.EventDescriptor.*;

/**
 * Flyweight over one event (see {@link EventDescriptor}), wherever it lies: in the ring, in a
 * getevents destination buffer or in the buffer a synchronous run filled. Allocates nothing.
 */
public final class Event
{
    private DirectBuffer buffer;
    private int offset;

    /**
     * @param buffer buffer holding the event.
     * @param offset where the event's payload (the cookie) starts.
     * @return this.
     */
    public Event wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public long cookie()
    {
        return buffer.getLong(offset + COOKIE_OFFSET);
    }

    public long submissionId()
    {
        return buffer.getLong(offset + SUBMISSION_ID_OFFSET);
    }

    public long res()
    {
        return buffer.getLong(offset + RES_OFFSET);
    }

    public long res2()
    {
        return buffer.getLong(offset + RES2_OFFSET);
    }

    public int opcode()
    {
        return buffer.getShort(offset + OPCODE_OFFSET) & 0xFFFF;
    }

    public int flags()
    {
        return buffer.getShort(offset + FLAGS_OFFSET) & 0xFFFF;
    }

    public int attributesLength()
    {
        return buffer.getInt(offset + ATTRIBUTES_LENGTH_OFFSET);
    }

    /**
     * @return bytes of the event: 40 plus its attributes.
     */
    public int length()
    {
        return ATTRIBUTES_OFFSET + attributesLength();
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }

    @Override
    public String toString()
    {
        return "Event{cookie=" + cookie() + ", op=" + Opcode.name(opcode()) + ", res=" + Errno.result(res()) +
            ", res2=" + res2() + ", flags=" + flags() + "}";
    }
}
