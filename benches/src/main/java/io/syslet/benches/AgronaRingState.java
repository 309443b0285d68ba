package io.syslet.benches;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * An Agrona ring of the same data capacity as ours, shared by the threads of one JMH group.
 * JMH wants {@code @State} where {@code @Param} is declared; only the concrete subclasses are used.
 */
@State(Scope.Group)
public abstract class AgronaRingState
{
    /** Payload bytes per message; Agrona's record adds an 8-byte header. */
    @Param({"32", "64", "256"})
    public int payload;

    /**
     * What a thread does after a failed attempt (ring full or empty): {@code yield} gives the core to
     * another runnable thread, which matters when a group has more busy threads than the machine has
     * cores; {@code spin} returns at once. Run {@code -p idle=spin} to see the other.
     */
    @Param({"yield"})
    public String idle;

    RingBuffer ring;
    UnsafeBuffer source;
    int batchMessages;
    boolean yieldWhenIdle;

    /**
     * Allocates a fresh ring per trial.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        ring = newRing(Workload.directBuffer(Workload.CAPACITY + RingBufferDescriptor.TRAILER_LENGTH));
        source = Workload.payloadSource(payload);
        yieldWhenIdle = Workload.yieldWhenIdle(idle);
        // As many messages per read as our consumer gets from BATCH_BYTES, so batches are alike.
        batchMessages = Workload.BATCH_BYTES / Workload.sysletRecordSpan(payload);
    }

    /**
     * @param buffer data area + trailer.
     * @return the ring to measure.
     */
    protected abstract RingBuffer newRing(AtomicBuffer buffer);
}
