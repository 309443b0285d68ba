package io.syslet.attributes;

import org.agrona.MutableDirectBuffer;

import static io.syslet.attributes.AttributeDescriptor.*;
import static io.syslet.attributes.AttributeId.*;

/**
 * Appends attribute TLVs (see {@link AttributeDescriptor}) to a buffer. Allocates nothing. The caller
 * makes room: {@link AttributeId#maxTlvLength} per id.
 */
public final class AttributeWriter
{
    private MutableDirectBuffer buffer;
    private int start;
    private int position;

    /**
     * @param buffer where the TLVs go.
     * @param offset where the first goes.
     * @return this.
     */
    public AttributeWriter wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
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

    /** Writes an attribute with no value: any status but OK. */
    public void status(final int id, final int status)
    {
        header(id, status, 0);
    }

    public void latency(final long submitNanos, final long startNanos, final long endNanos, final long publishNanos)
    {
        final int value = header(LATENCY, AttributeStatus.OK, 32);
        buffer.putLong(value + LATENCY_SUBMIT_OFFSET, submitNanos);
        buffer.putLong(value + LATENCY_START_OFFSET, startNanos);
        buffer.putLong(value + LATENCY_END_OFFSET, endNanos);
        buffer.putLong(value + LATENCY_PUBLISH_OFFSET, publishNanos);
    }

    public void cache(final int outcome, final long bytesFromCache)
    {
        final int value = header(CACHE, AttributeStatus.OK, 16);
        buffer.putLong(value, 0);
        buffer.putByte(value + CACHE_OUTCOME_OFFSET, (byte)outcome);
        buffer.putLong(value + CACHE_BYTES_OFFSET, bytesFromCache);
    }

    public void cpu(final long onCpuNanos, final long offCpuNanos)
    {
        final int value = header(CPU, AttributeStatus.OK, 16);
        buffer.putLong(value + CPU_ON_OFFSET, onCpuNanos);
        buffer.putLong(value + CPU_OFF_OFFSET, offCpuNanos);
    }

    public void blocked(final boolean blocked, final long voluntarySwitches, final long involuntarySwitches)
    {
        final int value = header(BLOCKED, AttributeStatus.OK, 24);
        buffer.putLong(value, 0);
        buffer.putByte(value + BLOCKED_FLAG_OFFSET, (byte)(blocked ? 1 : 0));
        buffer.putLong(value + BLOCKED_VOLUNTARY_OFFSET, voluntarySwitches);
        buffer.putLong(value + BLOCKED_INVOLUNTARY_OFFSET, involuntarySwitches);
    }

    public void bytes(final long bytes)
    {
        buffer.putLong(header(BYTES, AttributeStatus.OK, 8), bytes);
    }

    public void workerTid(final int tid)
    {
        final int value = header(WORKER_TID, AttributeStatus.OK, 4);
        buffer.putLong(value, 0);
        buffer.putInt(value, tid);
    }

    /**
     * @return where the value goes.
     */
    private int header(final int id, final int status, final int valueLength)
    {
        final int at = position;
        buffer.putShort(at + ID_OFFSET, (short)id);
        buffer.putByte(at + STATUS_OFFSET, (byte)status);
        buffer.putByte(at + RESERVED_OFFSET, (byte)0);
        buffer.putInt(at + VALUE_LENGTH_OFFSET, valueLength);
        position = at + tlvLength(valueLength);
        return at + VALUE_OFFSET;
    }
}
