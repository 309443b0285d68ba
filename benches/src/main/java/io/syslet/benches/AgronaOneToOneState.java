package io.syslet.benches;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Agrona's single-producer ring.
 */
@State(Scope.Group)
public class AgronaOneToOneState extends AgronaRingState
{
    @Override
    protected RingBuffer newRing(final AtomicBuffer buffer)
    {
        return new OneToOneRingBuffer(buffer);
    }
}
