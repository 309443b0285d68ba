package io.syslet.benches.engine;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Wall time of one batch of {@link #OPS} × nanosleep(1 ms) on {@link #SLEEPERS} threads: how close a pool
 * of blocked workers gets to the ideal {@code OPS * 1 ms / SLEEPERS} = {@value #IDEAL_MILLIS} ms. Each
 * invocation is one whole batch; SampleTime gives the distribution of batch times. Efficiency = ideal /
 * measured (report.py computes it). Both sides' threads run with 1 ns timer slack, as the engine's
 * workers set it: with the kernel's default 50 µs every 1 ms sleep lasts about 1.05 ms.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class NanosleepBatch
{
    /** Sleeps per batch. */
    static final int OPS = 10_000;
    /** Threads sleeping at once: the engine's unbounded workers, the peer's pool. */
    static final int SLEEPERS = 64;
    static final long SLEEP_NANOS = 1_000_000L;
    /** OPS * 1 ms / SLEEPERS. */
    static final double IDEAL_MILLIS = 156.25;

    /** The engine: NANOSLEEP iocbs submitted in chunks of 256, reaped with getEvents. */
    @Benchmark
    public int syslet(final SysletSleepState engine)
    {
        return engine.batch();
    }

    /** A fixed pool of 64 threads, each task a JNR nanosleep, a CountDownLatch for the batch. */
    @Benchmark
    public int thread_pool(final PoolSleepState peer) throws InterruptedException
    {
        return peer.batch();
    }
}
