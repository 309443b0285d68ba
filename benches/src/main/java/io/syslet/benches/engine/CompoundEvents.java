package io.syslet.benches.engine;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the compound-event layer ({@code io.syslet.pool.compound}, issue 5) costs over the raw
 * submit/reap path, for NOPs (every op hops to a worker) and cached 4 KiB preads (every op completes on
 * the immediate path, inside submit, so the layer's own work is all there is). Scores are ops/s
 * throughout: the batch methods count their {@link #BATCH} ops ({@code @OperationsPerInvocation}).
 *
 * <ul>
 *   <li>{@link #BATCH} ops: raw (one submit, reap them all), as single {@code Completions} op nodes (the
 *   layer without a group), as one all-of group of {@link #BATCH} children. single / raw is the layer's
 *   cost, group / single the group's.</li>
 *   <li>One op at a time: raw round trip vs {@code completions.future(op)}, polled until done and joined.</li>
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class CompoundEvents
{
    /** Ops per batch: the children of one group. */
    static final int BATCH = 16;

    /** 16 NOP iocbs in one submit, 16 events reaped. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int raw_16_nops(final RawBatchState raw)
    {
        return raw.nops(BATCH);
    }

    /** 16 {@code completions.submit(Op.nop())}, polled until each has settled. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int single_16_nops(final CompletionsState layer)
    {
        return layer.singleOps(false);
    }

    /** One {@code allOf()} group of 16 NOP children, polled until it has settled. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int all_of_16_nops(final CompletionsState layer)
    {
        return layer.allOf(false);
    }

    /** 16 cached pread iocbs in one submit (all complete inside it), 16 events reaped. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int raw_16_preads(final RawBatchState raw)
    {
        return raw.preads(BATCH);
    }

    /** 16 {@code completions.submit(Op.pread(...))}. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int single_16_preads(final CompletionsState layer)
    {
        return layer.singleOps(true);
    }

    /** One {@code allOf()} group of 16 cached pread children. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int all_of_16_preads(final CompletionsState layer)
    {
        return layer.allOf(true);
    }

    /** One NOP submitted, its event reaped. */
    @Benchmark
    public int raw_nop(final RawBatchState raw)
    {
        return raw.nops(1);
    }

    /** {@code completions.future(Op.nop())}, polled until done, joined. */
    @Benchmark
    public long future_nop(final CompletionsState layer)
    {
        return layer.future(false);
    }

    /** One cached pread submitted (it completes inside submit), its event reaped. */
    @Benchmark
    public int raw_pread(final RawBatchState raw)
    {
        return raw.preads(1);
    }

    /** {@code completions.future(Op.pread(...))}: completes inside future(), on this thread. */
    @Benchmark
    public long future_pread(final CompletionsState layer)
    {
        return layer.future(true);
    }
}
