package io.syslet.abi;

import io.syslet.ring.EntryDescriptor;
import org.agrona.DirectBuffer;

/**
 * Walks the events that getevents (or {@code Ring.read}) copied into a buffer: whole ring records,
 * each with its 16-byte record header, 8-byte aligned, back to back. Allocates nothing.
 *
 * <pre>{@code
 * cursor.wrap(dst, 0, bytes);
 * while (cursor.next()) { Event e = cursor.event(); ... }
 * }</pre>
 */
public final class EventCursor
{
    private final Event event = new Event();
    private DirectBuffer buffer;
    private int position;
    private int limit;

    /**
     * @param buffer the destination a read filled.
     * @param offset where the first record starts.
     * @param length bytes the read returned.
     * @return this.
     * @throws IllegalArgumentException if {@code offset .. offset + length} does not lie within {@code buffer}
     * (without this, a sum past 2^31 would wrap and the cursor would find no event where the read put some).
     */
    public EventCursor wrap(final DirectBuffer buffer, final int offset, final int length)
    {
        if (offset < 0 || length < 0 || offset > buffer.capacity() - length)
        {
            throw new IllegalArgumentException(length + " bytes at offset " + offset + " do not lie within a buffer of " +
                buffer.capacity() + " bytes");
        }
        this.buffer = buffer;
        this.position = offset;
        this.limit = offset + length;
        return this;
    }

    /**
     * Moves to the next event record, stepping over records of other types.
     *
     * @return false when no event is left.
     */
    public boolean next()
    {
        while (limit - position >= EntryDescriptor.RECORD_HEADER_LENGTH)
        {
            final int recordOffset = position;
            final int length = buffer.getInt(recordOffset + EntryDescriptor.LENGTH_OFFSET);
            if (length < EntryDescriptor.RECORD_HEADER_LENGTH || length > limit - recordOffset)
            {
                throw new IllegalStateException("record at byte " + recordOffset + " has length " + length +
                    ", which does not fit the " + (limit - recordOffset) + " bytes left");
            }
            position = recordOffset + EntryDescriptor.align(length);
            if (buffer.getInt(recordOffset + EntryDescriptor.TYPE_OFFSET) == EventDescriptor.RECORD_TYPE)
            {
                final int eventOffset = recordOffset + EntryDescriptor.RECORD_HEADER_LENGTH;
                final int eventLength = length - EntryDescriptor.RECORD_HEADER_LENGTH;
                final int attributesLength = eventLength < EventDescriptor.MIN_LENGTH ? 0 :
                    buffer.getInt(eventOffset + EventDescriptor.ATTRIBUTES_LENGTH_OFFSET);
                if (eventLength < EventDescriptor.MIN_LENGTH || attributesLength < 0 ||
                    attributesLength > eventLength - EventDescriptor.MIN_LENGTH)
                {
                    position = recordOffset; // stays put: the same fault again on the next call
                    throw new IllegalStateException("event record at byte " + recordOffset + " has " + eventLength +
                        " bytes of event, which cannot hold the " + EventDescriptor.MIN_LENGTH +
                        "-byte fixed part and " + attributesLength + " bytes of attributes");
                }
                event.wrap(buffer, eventOffset);
                return true;
            }
        }
        return false;
    }

    /**
     * @return the current event; valid until the next call to {@link #next()}.
     */
    public Event event()
    {
        return event;
    }
}
