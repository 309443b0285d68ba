package io.syslet.benches;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Two producer threads, two consumer threads: ours only, Agrona has no many-consumer ring.
 *
 * <p>Read the {@code sent} counter (messages/s into the ring); the group's primary score also counts
 * failed and empty attempts and means nothing. {@code received} should track {@code sent}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
// Agrona 2.x reaches jdk.internal.misc.Unsafe: both rings need this in the forked JVM.
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class TwoProducersTwoConsumers
{
    /** ours: tryReserve + putBytes + commit; consumer read(dst, 0, 4096). */
    @Benchmark
    @Group("syslet_claim_read")
    @GroupThreads(2)
    public void syslet_claim_read_produce(final SysletRingState ring, final ProducerCounters counters)
    {
        Workload.sysletClaim(ring, counters);
    }

    /** Consumer of {@link #syslet_claim_read_produce}. */
    @Benchmark
    @Group("syslet_claim_read")
    @GroupThreads(2)
    public void syslet_claim_read_consume(
        final SysletRingState ring, final ConsumerScratch scratch, final ConsumerCounters counters)
    {
        Workload.sysletRead(ring, scratch, counters);
    }

    /** ours: tryReserve + putBytes + commit; consumer poll(dst, 0), one record per call. */
    @Benchmark
    @Group("syslet_claim_poll")
    @GroupThreads(2)
    public void syslet_claim_poll_produce(final SysletRingState ring, final ProducerCounters counters)
    {
        Workload.sysletClaim(ring, counters);
    }

    /** Consumer of {@link #syslet_claim_poll_produce}. */
    @Benchmark
    @Group("syslet_claim_poll")
    @GroupThreads(2)
    public void syslet_claim_poll_consume(
        final SysletRingState ring, final ConsumerScratch scratch, final ConsumerCounters counters)
    {
        Workload.sysletPoll(ring, scratch, counters);
    }

    /** ours: offer(type, src, 0, len) behind a head-room gate; consumer read(dst, 0, 4096). */
    @Benchmark
    @Group("syslet_offer_read")
    @GroupThreads(2)
    public void syslet_offer_read_produce(final SysletRingState ring, final ProducerCounters counters)
    {
        Workload.sysletOffer(ring, counters);
    }

    /** Consumer of {@link #syslet_offer_read_produce}. */
    @Benchmark
    @Group("syslet_offer_read")
    @GroupThreads(2)
    public void syslet_offer_read_consume(
        final SysletRingState ring, final ConsumerScratch scratch, final ConsumerCounters counters)
    {
        Workload.sysletRead(ring, scratch, counters);
    }
}
