package io.syslet.attributes;

import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;

import static io.syslet.attributes.AttributeDescriptor.*;
import static io.syslet.attributes.AttributeId.*;

/**
 * Appends attribute TLVs (see {@link AttributeDescriptor}) to a buffer. Allocates nothing. The caller
 * makes room: {@link AttributeId#maxTlvLength} per id; a TLV that would not fit is refused whole, before
 * any of its bytes is written. One bounds check per TLV, not per field, against the buffer as it was at
 * {@link #wrap}: this runs on every event. Wrap again after the buffer itself is wrapped elsewhere.
 */
public final class AttributeWriter
{
    /** The buffer's base object (null off-heap), its address and its capacity, read once per event at wrap. */
    private byte[] array;
    private long address;
    private int capacity;
    private int start;
    private int position;

    /**
     * @param buffer where the TLVs go.
     * @param offset where the first goes.
     * @return this.
     */
    public AttributeWriter wrap(final MutableDirectBuffer buffer, final int offset)
    {
        array = buffer.byteArray();
        address = buffer.addressOffset();
        capacity = buffer.capacity();
        this.start = offset;
        this.position = offset;
        return this;
    }

    /**
     * @return bytes written since {@link #wrap}.
     */
    public int length()
    {
        return position - start;
    }

    /**
     * Writes an attribute with no value: any status but OK.
     *
     * @throws IllegalArgumentException if the id does not fit its u16 field or the status is OK or undefined:
     * cut down or written as given, it would read back as another attribute or be refused as malformed.
     * Nothing is written then.
     */
    public void status(final int id, final int status)
    {
        if ((id & ~0xFFFF) != 0)
        {
            throw new IllegalArgumentException("attribute id " + id + " does not fit its 16-bit field (0 .. 65535)");
        }
        if (status < AttributeStatus.UNSUPPORTED || status > AttributeStatus.FAILED)
        {
            throw new IllegalArgumentException(AttributeStatus.name(status) + " is not the status of an attribute " +
                "without a value (UNSUPPORTED, NOT_APPLICABLE or FAILED)");
        }
        header(id, status, 0);
    }

    public void latency(final long submitNanos, final long startNanos, final long endNanos, final long publishNanos)
    {
        final long value = header(LATENCY, AttributeStatus.OK, 32);
        UnsafeApi.putLong(array, value + LATENCY_SUBMIT_OFFSET, submitNanos);
        UnsafeApi.putLong(array, value + LATENCY_START_OFFSET, startNanos);
        UnsafeApi.putLong(array, value + LATENCY_END_OFFSET, endNanos);
        UnsafeApi.putLong(array, value + LATENCY_PUBLISH_OFFSET, publishNanos);
    }

    /**
     * @param outcome a {@link CacheOutcome}.
     * @throws IllegalArgumentException for an outcome the ABI does not define (cut to a byte, 256 would read
     * back as HIT); nothing is written then.
     */
    public void cache(final int outcome, final long bytesFromCache)
    {
        if (outcome < CacheOutcome.HIT || outcome > CacheOutcome.UNSUPPORTED_BY_FILESYSTEM)
        {
            throw new IllegalArgumentException("cache outcome " + outcome + " is not defined (0 .. " +
                CacheOutcome.UNSUPPORTED_BY_FILESYSTEM + ")");
        }
        final long value = header(CACHE, AttributeStatus.OK, 16);
        UnsafeApi.putLong(array, value, 0);
        UnsafeApi.putByte(array, value + CACHE_OUTCOME_OFFSET, (byte)outcome);
        UnsafeApi.putLong(array, value + CACHE_BYTES_OFFSET, bytesFromCache);
    }

    public void cpu(final long onCpuNanos, final long offCpuNanos)
    {
        final long value = header(CPU, AttributeStatus.OK, 16);
        UnsafeApi.putLong(array, value + CPU_ON_OFFSET, onCpuNanos);
        UnsafeApi.putLong(array, value + CPU_OFF_OFFSET, offCpuNanos);
    }

    public void blocked(final boolean blocked, final long voluntarySwitches, final long involuntarySwitches)
    {
        final long value = header(BLOCKED, AttributeStatus.OK, 24);
        UnsafeApi.putLong(array, value, 0);
        UnsafeApi.putByte(array, value + BLOCKED_FLAG_OFFSET, (byte)(blocked ? 1 : 0));
        UnsafeApi.putLong(array, value + BLOCKED_VOLUNTARY_OFFSET, voluntarySwitches);
        UnsafeApi.putLong(array, value + BLOCKED_INVOLUNTARY_OFFSET, involuntarySwitches);
    }

    public void bytes(final long bytes)
    {
        final long value = header(BYTES, AttributeStatus.OK, 8); // first: it sets array
        UnsafeApi.putLong(array, value, bytes);
    }

    public void workerTid(final int tid)
    {
        final long value = header(WORKER_TID, AttributeStatus.OK, 4);
        UnsafeApi.putLong(array, value, 0);
        UnsafeApi.putInt(array, value, tid);
    }

    /**
     * Checks that the whole TLV fits, once, then writes its header as one little-endian u64 (id, status,
     * reserved 0, value length); the value's fields are written unchecked within the checked span.
     *
     * @return the address where the value goes (for {@link UnsafeApi} with {@link #array}).
     * @throws IndexOutOfBoundsException if the TLV would pass the end of the buffer.
     */
    private long header(final int id, final int status, final int valueLength)
    {
        final int at = position;
        final int length = tlvLength(valueLength);
        if (at < 0 || at > capacity - length)
        {
            throw new IndexOutOfBoundsException("attribute " + id + " needs " + length + " bytes at offset " + at +
                " of a buffer of " + capacity);
        }
        final long tlv = address + at;
        UnsafeApi.putLong(array, tlv + ID_OFFSET, (id & 0xFFFFL) | (status & 0xFFL) << 16 | (long)valueLength << 32);
        position = at + length;
        return tlv + VALUE_OFFSET;
    }
}
