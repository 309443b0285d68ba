package io.syslet.benches.engine;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static io.syslet.pool.natives.Natives.LIBC;

/**
 * The cost of running a trivial syscall ({@code getppid}) on another thread and getting its result back:
 * one op submitted, one reaped, per invocation. What is left is the engine's own overhead and the thread
 * hop, against the JDK's {@code CompletableFuture.supplyAsync(..., fixedPool).join()}; the direct JNR call
 * shows what the syscall itself costs.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class GetppidRoundTrip
{
    /** Non-capturing, so one instance for the whole run: the peer allocates only what supplyAsync does. */
    private static final Supplier<Integer> GETPPID = () -> LIBC.getppid();

    /** The engine: a RAW iocb, syscall(SYS_getppid), argument count not given. */
    @Benchmark
    public long syslet_raw(final SysletRoundTripState engine)
    {
        return engine.rawGetppid();
    }

    /** The engine: the same RAW iocb declaring at most 1 argument, which takes the allocation-free call. */
    @Benchmark
    public long syslet_raw_counted(final SysletRoundTripState engine)
    {
        return engine.rawGetppidCounted();
    }

    /** The engine: a NOP iocb, no syscall on the worker. */
    @Benchmark
    public long syslet_nop(final SysletRoundTripState engine)
    {
        return engine.nop();
    }

    /** CompletableFuture.supplyAsync(() -> LIBC.getppid(), fixedPool).join(). */
    @Benchmark
    public int completable_future(final FixedPoolState peer)
    {
        final int ppid = CompletableFuture.supplyAsync(GETPPID, peer.pool).join();
        if (ppid != peer.parentPid)
        {
            throw new IllegalStateException("getppid returned " + ppid + ", expected " + peer.parentPid);
        }
        return ppid;
    }

    /** LIBC.getppid() on the calling thread. */
    @Benchmark
    public int jnr_direct()
    {
        return LIBC.getppid();
    }
}
