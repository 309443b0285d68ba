package io.syslet.benches.engine;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Random 4 KiB preads of a 64 MiB file that is in the page cache, one completed read per invocation, so
 * the score is reads/s. The engine and AsynchronousFileChannel run at queue depth 1 and 32 (parameter
 * {@code depth}, on their states); the JNR pread on the calling thread is the limit.
 *
 * <p>The engine runs in the four combinations of {@code immediate} and {@code attrs} (issue 4): with the
 * immediate path on (the default setup) a cached read completes inside submit on this thread; off
 * ({@code FLAG_NO_IMMEDIATE}) it goes through the engine's own worker pool like any op. Each with no
 * attributes and with LATENCY + CACHE, whose events the benchmark checks carry both. The peers have no
 * attributes and no immediate path: they run once per depth. {@link #syslet_eventfd} repeats the engine
 * without attributes with the eventfd on, as the default setup has it.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Agrona 2.x (the engine's ring and buffers) reaches jdk.internal.misc.Unsafe.
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class CachedPread
{
    /**
     * The engine: pread iocbs from a reused IocbWriter, events reaped by getEvents into a reused buffer;
     * immediate path on or off, attributes or none.
     */
    @Benchmark
    public int syslet(final SysletPreadState engine)
    {
        return engine.completeOne();
    }

    /**
     * The engine as {@link #syslet}, no attributes, with the eventfd of the default setup on: what
     * notification costs.
     */
    @Benchmark
    public int syslet_eventfd(final SysletEventFdPreadState engine)
    {
        return engine.completeOne();
    }

    /**
     * AsynchronousFileChannel.read(buffer, position, attachment, handler) on a fixed pool of the same size,
     * the handler handing each read back through a queue.
     */
    @Benchmark
    public int afc(final AfcPreadState channel)
    {
        return channel.completeOne();
    }

    /**
     * The bare thread hop: JNR preads handed to spinning workers and back through two Agrona queues, nothing
     * else ({@link BarePoolState}). The ceiling of a pool path that hops threads, at the same depth.
     */
    @Benchmark
    public int bare_pool(final BarePoolState pool)
    {
        return pool.completeOne();
    }

    /** Natives.LIBC.pread on the calling thread. */
    @Benchmark
    public long jnr_sync(final SyncPreadState sync)
    {
        return sync.read();
    }

    /**
     * Bare JNR preads on one thread per core, into 32 shared blocks: the ceiling of any pool path at
     * depth 32 ({@link SharedBlocksState}). The score is the threads' reads/s together.
     */
    @Benchmark
    @Threads(Threads.MAX)
    public long jnr_sync_all_cores(final SharedBlocksState blocks)
    {
        return blocks.read();
    }

    /**
     * Natives.LIBC.preadv2(RWF_NOWAIT) on the calling thread: the call the immediate path makes, with
     * nothing around it, so the ceiling of that path.
     */
    @Benchmark
    public long jnr_sync_nowait(final SyncPreadState sync)
    {
        return sync.readNowait();
    }

    /**
     * {@link #jnr_sync_nowait} between two clock readings: the least LATENCY adds on the immediate path
     * (start and end; submit and publication share them there). Against {@link #jnr_sync_nowait}, the floor
     * of the attributes cost of that path.
     */
    @Benchmark
    public long jnr_sync_nowait_2_clocks(final SyncPreadState sync)
    {
        return sync.readNowaitTimed(2);
    }

    /**
     * {@link #jnr_sync_nowait} between three clock readings: the least LATENCY + CACHE adds on the pool
     * path, whose reads ask the cache with this call in place of a pread and read the clock at submit,
     * start and end (which is also the publication time). Against {@link #jnr_sync}, the floor of the
     * attributes cost of that path.
     */
    @Benchmark
    public long jnr_sync_nowait_3_clocks(final SyncPreadState sync)
    {
        return sync.readNowaitTimed(3);
    }
}
