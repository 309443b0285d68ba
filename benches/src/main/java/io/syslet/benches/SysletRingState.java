package io.syslet.benches;

import io.syslet.ring.Ring;
import io.syslet.ring.RingRegion;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Our ring, shared by the producers and consumers of one JMH group.
 */
@State(Scope.Group)
public class SysletRingState
{
    /** Payload bytes per message; the record adds our 16-byte header. */
    @Param({"32", "64", "256"})
    public int payload;

    /**
     * What a thread does after a failed attempt (ring full or empty): {@code yield} gives the core to
     * another runnable thread, which matters when a group has more busy threads than the machine has
     * cores; {@code spin} returns at once. Run {@code -p idle=spin} to see the other.
     */
    @Param({"yield"})
    public String idle;

    Ring ring;
    UnsafeBuffer source;
    int recordSpan;
    boolean yieldWhenIdle;
    int offerOccupancyLimit;
    private RingRegion region;

    /**
     * Allocates a fresh ring per trial.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        region = RingRegion.allocate(Workload.CAPACITY);
        ring = new Ring(region);
        source = Workload.payloadSource(payload);
        yieldWhenIdle = Workload.yieldWhenIdle(idle);
        recordSpan = Workload.sysletRecordSpan(payload);
        // A record may need up to its own span of padding at the wrap: 2 spans per producer is enough.
        offerOccupancyLimit = Workload.CAPACITY - 2 * Workload.MAX_PRODUCERS * recordSpan;
    }

    /**
     * Frees the region.
     */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        region.close();
    }
}
