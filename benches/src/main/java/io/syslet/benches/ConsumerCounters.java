package io.syslet.benches;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Per consumer thread; JMH sums the fields over threads and reports each as a rate.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class ConsumerCounters
{
    /** Messages taken out of the ring; tracks {@link ProducerCounters#sent} in the steady state. */
    public long received;
    /** Calls that found nothing to take. */
    public long empty;

    /**
     * JMH keeps thread state across iterations; each iteration reports its own counts.
     */
    @Setup(Level.Iteration)
    public void reset()
    {
        received = 0;
        empty = 0;
    }
}
