package io.syslet.benches.engine;

import io.syslet.abi.BufferRef;
import io.syslet.pool.SysletContext;
import io.syslet.pool.compound.Completion;
import io.syslet.pool.compound.Completions;
import io.syslet.pool.compound.Group;
import io.syslet.pool.compound.Op;
import io.syslet.pool.compound.OpCompletion;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.syslet.benches.engine.CachedFile.BLOCK;
import static io.syslet.benches.engine.CompoundEvents.BATCH;

/**
 * The compound-event layer ({@link Completions}) over a context with the default setup, reaped by the
 * benchmark thread itself ({@code poll}), so every callback runs here: the same ops as
 * {@link RawBatchState}, as single op nodes, as one all-of group, or through the CompletableFuture
 * adapter. The layer allocates per op by design (nodes, callbacks, an event copy); what it costs over
 * the raw path is what these benchmarks measure.
 */
@State(Scope.Thread)
public class CompletionsState
{
    /** Immutable, so one for every NOP child. */
    private static final Op NOP = Op.nop();

    private CachedFile file;
    private SysletContext context;
    private Completions completions;
    private int bufferIndex;
    private final OpCompletion[] nodes = new OpCompletion[BATCH];
    private int reads;

    @Setup(Level.Trial)
    public void setUp(final CachedFile file)
    {
        this.file = file;
        context = SysletContext.setup(Engine.params());
        completions = new Completions(context);
        bufferIndex = context.registerBuffer(Engine.direct(BATCH * BLOCK));
    }

    /**
     * Submits {@link CompoundEvents#BATCH} independent op nodes, then polls until each has settled.
     *
     * @return ops completed, each checked.
     */
    public int singleOps(final boolean preads)
    {
        for (int i = 0; i < BATCH; i++)
        {
            nodes[i] = completions.submit(op(preads, i));
        }
        final long expected = expectedRes(preads);
        for (int i = 0; i < BATCH; i++)
        {
            final OpCompletion node = nodes[i];
            awaitSettled(node);
            check(node, node.res(), expected);
            nodes[i] = null;
        }
        return BATCH;
    }

    /**
     * Starts one all-of group of {@link CompoundEvents#BATCH} op children and polls until it has settled.
     *
     * @return ops completed; the group's result (the sum of its children's) is checked.
     */
    public int allOf(final boolean preads)
    {
        final Group group = completions.allOf();
        for (int i = 0; i < BATCH; i++)
        {
            group.add(op(preads, i));
        }
        group.start();
        awaitSettled(group);
        if (group.failures() != 0)
        {
            throw new IllegalStateException(group + ": " + group.failures() + " children failed");
        }
        check(group, group.res(), BATCH * expectedRes(preads));
        return BATCH;
    }

    /**
     * One op through {@code completions.future(op)}, polled until the future is done, then joined.
     *
     * @return the op's result, checked.
     */
    public long future(final boolean preads)
    {
        final CompletableFuture<Long> future = completions.future(op(preads, 0));
        while (!future.isDone())
        {
            poll();
        }
        final long res = future.join();
        check(future, res, expectedRes(preads));
        return res;
    }

    private Op op(final boolean preads, final int block)
    {
        return preads ?
            Op.pread(file.fd, BufferRef.of(bufferIndex, (long)block * BLOCK), BLOCK, file.offset(reads++)) : NOP;
    }

    private static long expectedRes(final boolean preads)
    {
        return preads ? BLOCK : 0;
    }

    private void awaitSettled(final Completion node)
    {
        while (!node.isSettled())
        {
            poll();
        }
    }

    /**
     * Reaps and dispatches what is ready, waiting for at least one event.
     *
     * @throws IllegalStateException if none came within {@link Engine#REAP_TIMEOUT_NANOS}.
     */
    private void poll()
    {
        if (completions.poll(1, Engine.REAP_TIMEOUT_NANOS) == 0)
        {
            throw new IllegalStateException("no event within " +
                TimeUnit.NANOSECONDS.toSeconds(Engine.REAP_TIMEOUT_NANOS) + " s; " + completions.pendingOps() +
                " ops pending");
        }
    }

    private static void check(final Object what, final long res, final long expected)
    {
        if (res != expected)
        {
            throw new IllegalStateException(what + ": expected res " + expected + ", got " + res);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        context.close();
    }
}
