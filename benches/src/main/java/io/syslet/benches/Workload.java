package io.syslet.benches;

import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.Ring;
import org.agrona.BitUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.nio.ByteBuffer;

/**
 * What every benchmark does, in one place so that the groups differ only in which ring and which path
 * they use. Each operation makes one attempt and never loops inside a JMH invocation: a full ring is
 * counted in {@link ProducerCounters#full}, an empty one in {@link ConsumerCounters#empty}, and the
 * thread then yields or not as the {@code idle} parameter says.
 */
final class Workload
{
    /** Data area bytes of every ring, ours and Agrona's. */
    static final int CAPACITY = 64 * 1024;
    /** Destination bytes a consumer offers per call; Agrona's consumer gets the same message count. */
    static final int BATCH_BYTES = 4096;
    /** Record type of every message (both rings reserve types below 1). */
    static final int MSG_TYPE = 1;
    /** Our record header: stamp, length, type, check. Agrona's is 8 bytes: length, type. */
    static final int SYSLET_HEADER_LENGTH = EntryDescriptor.RECORD_HEADER_LENGTH;
    /** Most producers any group here runs; sizes the {@link #sysletOffer} head-room gate. */
    static final int MAX_PRODUCERS = 2;

    private Workload()
    {
    }

    /**
     * @param idle the {@code idle} benchmark parameter.
     * @return true to yield after a failed attempt, false to return at once.
     */
    static boolean yieldWhenIdle(final String idle)
    {
        switch (idle)
        {
            case "yield":
                return true;
            case "spin":
                return false;
            default:
                throw new IllegalArgumentException("idle must be yield or spin, not " + idle);
        }
    }

    /**
     * @param payload payload bytes.
     * @return bytes one of our records spans in the ring: header + payload, 8-byte aligned.
     */
    static int sysletRecordSpan(final int payload)
    {
        return BitUtil.align(SYSLET_HEADER_LENGTH + payload, EntryDescriptor.ALIGNMENT);
    }

    /**
     * @param length bytes.
     * @return a zeroed direct buffer, 8-byte aligned like a ring's.
     */
    static UnsafeBuffer directBuffer(final int length)
    {
        return new UnsafeBuffer(ByteBuffer.allocateDirect(length));
    }

    /**
     * @param payload bytes.
     * @return a direct buffer of {@code payload} bytes with a recognisable pattern.
     */
    static UnsafeBuffer payloadSource(final int payload)
    {
        final UnsafeBuffer src = directBuffer(payload);
        for (int i = 0; i < payload; i++)
        {
            src.putByte(i, (byte)i);
        }
        return src;
    }

    private static void idle(final SysletRingState state)
    {
        if (state.yieldWhenIdle)
        {
            Thread.yield();
        }
    }

    private static void idle(final AgronaRingState state)
    {
        if (state.yieldWhenIdle)
        {
            Thread.yield();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Ours
    // ------------------------------------------------------------------------------------------------------------

    static void sysletClaim(final SysletRingState state, final ProducerCounters counters)
    {
        final Ring ring = state.ring;
        final int length = state.payload;
        final int index = ring.tryReserve(MSG_TYPE, length);
        if (index >= 0)
        {
            ring.buffer().putBytes(index, state.source, 0, length);
            ring.commit(index);
            counters.sent++;
        }
        else
        {
            counters.full++;
            idle(state);
        }
    }

    /**
     * {@link Ring#offer} never fails: on a full ring it copies the entry to the heap overflow list. To
     * measure its ring path against Agrona's {@code write} (which returns false when full), we refuse to
     * offer unless there is room for {@link #MAX_PRODUCERS} records plus wrap padding each, so offer
     * cannot overflow. The gate costs us two volatile reads per call that Agrona does not pay.
     */
    static void sysletOffer(final SysletRingState state, final ProducerCounters counters)
    {
        final Ring ring = state.ring;
        if (ring.occupancy() > state.offerOccupancyLimit)
        {
            counters.full++;
            idle(state);
            return;
        }
        if (!ring.offer(MSG_TYPE, state.source, 0, state.payload))
        {
            // Delivered through the overflow list: the gate should make this impossible; report shows it.
            counters.overflowed++;
        }
        counters.sent++;
    }

    static void sysletRead(final SysletRingState state, final ConsumerScratch scratch, final ConsumerCounters counters)
    {
        final int bytes = state.ring.read(scratch.destination, 0, BATCH_BYTES);
        if (bytes > 0)
        {
            // Every record has the same span and read() places them at aligned offsets.
            counters.received += bytes / state.recordSpan;
        }
        else
        {
            counters.empty++;
            idle(state);
        }
    }

    static void sysletPoll(final SysletRingState state, final ConsumerScratch scratch, final ConsumerCounters counters)
    {
        if (state.ring.poll(scratch.destination, 0) > 0)
        {
            counters.received++;
        }
        else
        {
            counters.empty++;
            idle(state);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Agrona
    // ------------------------------------------------------------------------------------------------------------

    static void agronaClaim(final AgronaRingState state, final ProducerCounters counters)
    {
        final RingBuffer ring = state.ring;
        final int length = state.payload;
        final int index = ring.tryClaim(MSG_TYPE, length);
        if (index > 0)
        {
            ring.buffer().putBytes(index, state.source, 0, length);
            ring.commit(index);
            counters.sent++;
        }
        else
        {
            counters.full++;
            idle(state);
        }
    }

    static void agronaWrite(final AgronaRingState state, final ProducerCounters counters)
    {
        if (state.ring.write(MSG_TYPE, state.source, 0, state.payload))
        {
            counters.sent++;
        }
        else
        {
            counters.full++;
            idle(state);
        }
    }

    static void agronaRead(final AgronaRingState state, final ConsumerScratch scratch, final ConsumerCounters counters)
    {
        final ConsumerScratch.CopyingHandler handler = scratch.handler;
        handler.reset();
        final int messages = state.ring.read(handler, state.batchMessages);
        if (messages > 0)
        {
            counters.received += messages;
        }
        else
        {
            counters.empty++;
            idle(state);
        }
    }
}
