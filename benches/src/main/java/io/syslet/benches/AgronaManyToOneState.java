package io.syslet.benches;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Agrona's many-producer, single-consumer ring.
 */
@State(Scope.Group)
public class AgronaManyToOneState extends AgronaRingState
{
    @Override
    protected RingBuffer newRing(final AtomicBuffer buffer)
    {
        return new ManyToOneRingBuffer(buffer);
    }
}
