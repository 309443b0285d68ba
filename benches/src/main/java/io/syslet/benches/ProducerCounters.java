package io.syslet.benches;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Per producer thread; JMH sums the fields over threads and reports each as a rate.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class ProducerCounters
{
    /** Messages put into the ring: the figure the benchmarks are about. */
    public long sent;
    /** Attempts refused because the ring had no room. */
    public long full;
    /** Offers that went through the overflow list (included in {@link #sent}); expected 0. */
    public long overflowed;

    /**
     * JMH keeps thread state across iterations; each iteration reports its own counts.
     */
    @Setup(Level.Iteration)
    public void reset()
    {
        sent = 0;
        full = 0;
        overflowed = 0;
    }
}
