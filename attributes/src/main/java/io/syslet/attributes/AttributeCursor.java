package io.syslet.attributes;

import org.agrona.DirectBuffer;

import static io.syslet.attributes.AttributeDescriptor.*;
import static io.syslet.attributes.AttributeId.*;

/**
 * Walks and checks an event's attribute TLVs. It trusts none of the bytes: every length is checked
 * against the bytes left before anything is read, so malformed input gives a
 * {@link MalformedAttributeException}, never a read outside the range. Allocates nothing on
 * well-formed input.
 *
 * <pre>{@code
 * cursor.wrap(buffer, offset, length);
 * while (cursor.next()) { if (cursor.id() == AttributeId.CPU && cursor.isOk()) use(cursor.cpuOnNanos()); }
 * }</pre>
 */
public final class AttributeCursor
{
    private DirectBuffer buffer;
    private int position;
    private int limit;
    private int current = -1;

    /**
     * @param buffer holding the attributes.
     * @param offset where the first TLV starts.
     * @param length bytes of TLVs.
     * @return this.
     */
    public AttributeCursor wrap(final DirectBuffer buffer, final int offset, final int length)
    {
        if (offset < 0 || length < 0 || offset > buffer.capacity() - length)
        {
            throw new MalformedAttributeException("attribute range of " + length + " bytes at " + offset +
                " lies outside its buffer of " + buffer.capacity() + " bytes");
        }
        this.buffer = buffer;
        this.position = offset;
        this.limit = offset + length;
        this.current = -1;
        return this;
    }

    /**
     * Moves to the next TLV.
     *
     * @return false at the end.
     * @throws MalformedAttributeException naming the fault.
     */
    public boolean next()
    {
        if (position == limit)
        {
            current = -1;
            return false;
        }
        final int at = position;
        final int left = limit - at;
        if (left < HEADER_LENGTH)
        {
            throw malformed(at, left + " bytes left, fewer than a TLV header's " + HEADER_LENGTH);
        }
        final int status = buffer.getByte(at + STATUS_OFFSET) & 0xFF;
        final int id = buffer.getShort(at + ID_OFFSET) & 0xFFFF;
        if (buffer.getByte(at + RESERVED_OFFSET) != 0)
        {
            throw malformed(at, "reserved byte is not zero");
        }
        if (status > AttributeStatus.FAILED)
        {
            throw malformed(at, "status " + status + " is not defined");
        }
        final long valueLength = buffer.getInt(at + VALUE_LENGTH_OFFSET) & 0xFFFF_FFFFL;
        if (valueLength > left - HEADER_LENGTH || tlvLength((int)valueLength) > left)
        {
            throw malformed(at, "value of " + valueLength + " bytes runs past the " + left + " bytes left");
        }
        if (status != AttributeStatus.OK && valueLength != 0)
        {
            throw malformed(at, AttributeStatus.name(status) + " attribute carries a " + valueLength + "-byte value");
        }
        if (status == AttributeStatus.OK && isKnown(id) && valueLength != AttributeId.valueLength(id))
        {
            throw malformed(at, AttributeId.name(id) + " value is " + valueLength + " bytes, not " + AttributeId.valueLength(id));
        }
        current = at;
        position = at + tlvLength((int)valueLength);
        return true;
    }

    public int id()
    {
        return buffer.getShort(checkedCurrent() + ID_OFFSET) & 0xFFFF;
    }

    public int status()
    {
        return buffer.getByte(checkedCurrent() + STATUS_OFFSET) & 0xFF;
    }

    public boolean isOk()
    {
        return status() == AttributeStatus.OK;
    }

    public int valueLength()
    {
        return buffer.getInt(checkedCurrent() + VALUE_LENGTH_OFFSET);
    }

    /**
     * @return where the current value starts in the buffer.
     */
    public int valueOffset()
    {
        return checkedCurrent() + VALUE_OFFSET;
    }

    public long latencySubmitNanos()
    {
        return value(LATENCY, LATENCY_SUBMIT_OFFSET);
    }

    public long latencyStartNanos()
    {
        return value(LATENCY, LATENCY_START_OFFSET);
    }

    public long latencyEndNanos()
    {
        return value(LATENCY, LATENCY_END_OFFSET);
    }

    public long latencyPublishNanos()
    {
        return value(LATENCY, LATENCY_PUBLISH_OFFSET);
    }

    public int cacheOutcome()
    {
        checkValue(CACHE);
        return buffer.getByte(valueOffset() + CACHE_OUTCOME_OFFSET) & 0xFF;
    }

    public long cacheBytes()
    {
        return value(CACHE, CACHE_BYTES_OFFSET);
    }

    public long cpuOnNanos()
    {
        return value(CPU, CPU_ON_OFFSET);
    }

    public long cpuOffNanos()
    {
        return value(CPU, CPU_OFF_OFFSET);
    }

    public boolean blocked()
    {
        checkValue(BLOCKED);
        return buffer.getByte(valueOffset() + BLOCKED_FLAG_OFFSET) != 0;
    }

    public long voluntarySwitches()
    {
        return value(BLOCKED, BLOCKED_VOLUNTARY_OFFSET);
    }

    public long involuntarySwitches()
    {
        return value(BLOCKED, BLOCKED_INVOLUNTARY_OFFSET);
    }

    public long bytes()
    {
        return value(BYTES, 0);
    }

    public int workerTid()
    {
        checkValue(WORKER_TID);
        return buffer.getInt(valueOffset());
    }

    private long value(final int id, final int offset)
    {
        checkValue(id);
        return buffer.getLong(valueOffset() + offset);
    }

    private void checkValue(final int id)
    {
        if (id() != id || !isOk())
        {
            throw new IllegalStateException("current attribute is " + AttributeId.name(id()) + " with status " +
                AttributeStatus.name(status()) + ", not an OK " + AttributeId.name(id));
        }
    }

    private int checkedCurrent()
    {
        if (current < 0)
        {
            throw new IllegalStateException("no current attribute: call next() first");
        }
        return current;
    }

    private static MalformedAttributeException malformed(final int at, final String fault)
    {
        return new MalformedAttributeException("attribute at byte " + at + ": " + fault);
    }
}
