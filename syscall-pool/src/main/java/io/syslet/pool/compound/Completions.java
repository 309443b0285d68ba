package io.syslet.pool.compound;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.Opcode;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Compound events and completion closures over an {@link AioContext}: ops with callback chains
 * ({@link Completion}), groups ({@link Group}), linked chains ({@link Chain}) and a
 * {@link CompletableFuture} adapter.
 *
 * <p><b>Where callbacks run.</b> An op that completes inline (the immediate path: its event carries
 * FLAG_IMMEDIATE) runs its chain at once on the submitting thread, inside {@link OpCompletion#start()},
 * and {@link Completion#isImmediate()} is true; if that thread is already deep in nested chains, it runs
 * when the stack unwinds, still on that thread. Every other completion is delayed: its chain runs on the
 * thread that reaps it, or on the delayed executor if one was given. A thread reaps in {@link #poll}, and
 * also when it starts a pread: to find the pread's own inline event it reaps the ring, and runs the chains of
 * the other events it finds there too (left for a later poll, they would wait on a poller asleep in an
 * empty ring). So with more than one thread starting ops, chains run on more than one thread: give a
 * delayed executor (a single-threaded one, say) to keep them on one. Never on a worker thread: workers
 * only publish events.
 *
 * <p><b>Nesting.</b> A node that settles tells its parent through the same trampoline: a graph whose nodes
 * settle at once, one after another (the cancelled remaining steps of a long failed chain, a feeder whose
 * children complete inline), runs as a loop on one thread, not one stack frame per node. For the same
 * reason nothing may wait inside a callback: completions reaped there run only once it returns, so
 * {@link #runUntilSettled} refuses to be called from one.
 *
 * <p><b>Failures.</b> Whatever user code throws (a callback, a feeder's iterator or mapping, a chain's step
 * builder, a delayed executor that rejects work) goes to the error handler, and the graph goes on: the
 * other completions of the same batch are delivered, a callback chain runs on, a failed feed or step
 * builder ends like a cancel (-ECANCELED), a rejected delayed callback chain runs on the reaping thread.
 * An op the context refuses, or that cannot be encoded, completes with the errno (EINVAL for the latter).
 * A callable op ({@link Op#call}) that throws completes with -EIO, and keeps the very Throwable on its node
 * ({@link OpCompletion#failure()}, set before its callbacks run); the future of {@link #future} completes
 * exceptionally with it, and for every other node it goes to the error handler (on the thread that runs the
 * node's chain, just before it runs). This layer takes the Throwable from the context op by op, so the
 * context's own {@link io.syslet.abi.SetupParams#callableFailureHandler} is not told of these ops.
 *
 * <p>This layer owns the context's event stream: it reaps with getevents and matches events to ops by
 * cookie, so nobody else may reap the same context. It allocates per op (nodes, callbacks); the raw
 * submit/reap path of the context stays allocation-free for those who do not use it.
 */
public final class Completions
{
    final AioContext context;
    final Executor delayedExecutor;
    private final BiConsumer<Completion, Throwable> errorHandler;
    private final Map<Long, OpCompletion> pending = new ConcurrentHashMap<>();
    private final AtomicLong cookies = new AtomicLong();
    private final ThreadLocal<IocbWriter> writers =
        ThreadLocal.withInitial(() -> new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64))));
    private final ThreadLocal<UnsafeBuffer> reapBuffers =
        ThreadLocal.withInitial(() -> new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 * 1024, 64)));
    private final ThreadLocal<Trampoline> trampolines = ThreadLocal.withInitial(Trampoline::new);

    /** How deep immediate completions may nest on one thread before they wait for the stack to unwind. */
    private static final int MAX_IMMEDIATE_DEPTH = 16;

    /**
     * Chains submit, and submit reaps: without care, every completion reaped inside a callback would run
     * its chain one stack frame deeper. Completions met while a chain is running on this thread are
     * queued here and run by the outermost dispatch once the stack has unwound.
     */
    static final class Trampoline
    {
        final ArrayDeque<Runnable> queued = new ArrayDeque<>();
        int depth;
        /** Interceptors and notifiers running on this thread: on a delayed executor they run at depth 0. */
        int callbacks;
    }

    /**
     * Delayed callbacks run on the reaping thread; callback exceptions go to stderr.
     */
    public Completions(final AioContext context)
    {
        this(context, null, (completion, error) ->
        {
            System.err.println("syslet: a callback of " + completion + " threw:");
            error.printStackTrace();
        });
    }

    /**
     * @param context         the context to submit to and reap from (this layer must be its only reaper).
     * @param delayedExecutor where delayed callbacks run; null for the reaping thread.
     * @param errorHandler    told of every exception a callback throws, and of what a callable op threw unless
     *                        its future takes it; the chain then goes on.
     */
    public Completions(final AioContext context, final Executor delayedExecutor,
        final BiConsumer<Completion, Throwable> errorHandler)
    {
        this.context = context;
        this.delayedExecutor = delayedExecutor;
        this.errorHandler = errorHandler;
    }

    /**
     * @return an op node, not started: add callbacks, then {@link Completion#start()}.
     */
    public OpCompletion op(final Op op)
    {
        return new OpCompletion(this, op);
    }

    /**
     * @return a started op node.
     */
    public OpCompletion submit(final Op op)
    {
        final OpCompletion node = op(op);
        node.start();
        return node;
    }

    /**
     * @return an empty all-of group, not started.
     */
    public Group allOf()
    {
        return new Group(this, false);
    }

    /**
     * @return an empty any-of group, not started.
     */
    public Group anyOf()
    {
        return new Group(this, true);
    }

    /**
     * @return a linked chain that begins with {@code first}, not started.
     */
    public Chain chain(final Op first)
    {
        return new Chain(this, first);
    }

    /**
     * Submits an op for callers who live in the {@link java.util.concurrent.CompletionStage} world. The
     * future completes (on the thread that runs the op's chain) with the op's result, or exceptionally
     * with an {@link AioException} if the result is a negated errno. A callable op ({@link Op#call}) that threw
     * completes it exceptionally with the very Throwable it threw instead, as {@link
     * CompletableFuture#supplyAsync} would ({@code get()} throws it as the cause of an ExecutionException), and
     * the error handler is not told of it. Cancelling the future cancels the op ({@link Completion#cancel()}).
     */
    public CompletableFuture<Long> future(final Op op)
    {
        final CompletableFuture<Long> future = new CompletableFuture<>();
        final OpCompletion node = op(op);
        node.failureToFuture();
        node.notify(done ->
        {
            final long res = done.res();
            final Throwable thrown = node.failure();
            if (res < 0 && thrown != null)
            {
                future.completeExceptionally(thrown);
            }
            else if (res < 0)
            {
                future.completeExceptionally(new AioException((int)-res, Opcode.name(op.opcode()) + " failed"));
            }
            else
            {
                future.complete(res);
            }
        });
        // A cancelled future nobody listens to any more must not leave its op in flight (a blocked pipe read
        // holds a worker and a place in the in-flight limit for good).
        future.whenComplete((res, error) ->
        {
            if (future.isCancelled())
            {
                node.cancel();
            }
        });
        node.start();
        return future;
    }

    /**
     * Reaps events and runs their ops' chains (on this thread, or hands them to the delayed executor).
     *
     * <p>Once the context is destroyed its ring, and the events of the ops still pending, are gone: the first
     * poll that finds it so completes each of those ops with -EBADF (their chains run, their futures complete
     * exceptionally), then throws the context's EBADF {@link AioException}. A destroy that gave up waiting
     * (it returned false) may have left an op that cannot be interrupted still running: its node completes
     * with -EBADF all the same, but its worker may still write into the op's buffer until the call returns
     * (docs/ABI.md, destroy), so do not reuse the buffers of such a context's ops.
     *
     * @param minEvents    wait for at least this many.
     * @param timeoutNanos longest wait.
     * @return events dispatched.
     */
    public int poll(final int minEvents, final long timeoutNanos)
    {
        final UnsafeBuffer buffer = reapBuffers.get();
        final int bytes;
        try
        {
            bytes = context.getEvents(buffer, 0, buffer.capacity(), minEvents, timeoutNanos);
        }
        catch (final AioException e)
        {
            abandonIfDestroyed(e);
            throw e;
        }
        return dispatch(buffer, bytes, null);
    }

    /**
     * Polls until {@code node} has settled.
     *
     * @throws IllegalStateException if it has not within the timeout.
     */
    public void runUntilSettled(final Completion node, final long timeout, final TimeUnit unit)
    {
        final Trampoline trampoline = trampolines.get();
        if (trampoline.depth > 0 || trampoline.callbacks > 0)
        {
            // Completions reaped in here would wait for this callback to return (in the trampoline, or behind it on
            // the delayed executor): it never would.
            throw new IllegalStateException("runUntilSettled called inside a callback: completions reaped here " +
                "run only after the callback returns, so " + node + " could not settle");
        }
        final long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (!node.isSettled())
        {
            final long left = deadline - System.nanoTime();
            if (left <= 0)
            {
                Completion root = node;
                for (Completion parent = root.parent(); parent != null; parent = parent.parent())
                {
                    root = parent;
                }
                throw new IllegalStateException(node + " did not settle within " + timeout + " " + unit +
                    (root.isStarted() ? "" : root == node ? ": it was never started (call start())" :
                        ": the graph it is in was never started (call start() on " + root + ")"));
            }
            try
            {
                poll(1, Math.min(left, TimeUnit.MILLISECONDS.toNanos(10)));
            }
            catch (final AioException destroyed)
            {
                if (!node.isSettled()) // the pending ops it abandoned may have been all the node waited for
                {
                    throw destroyed;
                }
            }
        }
    }

    /**
     * If {@code e} says the context is destroyed, completes every op still pending with -EBADF: their events
     * were lost with the ring (docs/ABI.md, destroy), and getevents fails from now on, so nothing else would
     * ever complete them; their nodes would never settle and their futures never complete. Removing each from
     * {@link #pending} first keeps it to once, against an event dispatched or a submit refused meanwhile.
     *
     * @return true if it did: the context is destroyed.
     */
    private boolean abandonIfDestroyed(final AioException e)
    {
        if (e.errno() != Errno.EBADF)
        {
            return false;
        }
        for (final Long cookie : pending.keySet())
        {
            final OpCompletion node = pending.remove(cookie);
            if (node != null)
            {
                run(node, () -> node.completeFromEvent(null, -Errno.EBADF, 0, false), false);
            }
        }
        return true;
    }

    /**
     * Asks the context to cancel an op; a context destroyed meanwhile has nothing left to cancel, and its ops
     * are abandoned instead (no AioException out of {@link Completion#cancel()} or {@link Completion#start()}).
     */
    void cancelInContext(final long cookie)
    {
        try
        {
            context.cancel(cookie);
        }
        catch (final AioException e)
        {
            if (!abandonIfDestroyed(e))
            {
                throw e;
            }
        }
    }

    /**
     * @return ops submitted whose events have not been reaped.
     */
    public int pendingOps()
    {
        return pending.size();
    }

    void submit(final OpCompletion node)
    {
        final Op op = node.op();
        final long cookie = cookies.incrementAndGet();
        synchronized (node)
        {
            node.cookie = cookie;
        }
        pending.put(cookie, node);
        try
        {
            if (op.opcode == Opcode.CALLABLE)
            {
                context.submitCallable(node.cookie, op.callable, node::callableThrew);
            }
            else
            {
                final IocbWriter writer = writers.get();
                writer.reset();
                writer.append(op.opcode, node.cookie, op.aux, op.a0, op.a1, op.a2, op.a3, op.a4, op.a5);
                if (op.attributes.length > 0)
                {
                    writer.attributes(op.attributes);
                }
                writer.submitTo(context);
            }
        }
        catch (final AioException e)
        {
            // Refused (in-flight limit, malformed): the op completes with that errno, once, like any other.
            completeUnsubmitted(node, -e.errno());
            return;
        }
        catch (final RuntimeException e)
        {
            // The op could not even be encoded (more attribute ids than an iocb holds, say): an invalid op.
            report(node, e);
            completeUnsubmitted(node, -Errno.EINVAL);
            return;
        }
        if (node.isCanceled())
        {
            // A cancel that came while this submit ran found no op to cancel in the context yet (its slot was
            // not queued, or the cookie not even assigned): it is queued now, so cancel it here. The canceller
            // set the flag before it looked, so either it found the op or this sees the flag.
            cancelInContext(cookie);
        }
        if (!mayCompleteInline(op))
        {
            return; // its event comes later, to whoever polls
        }
        // An op that completed inline has its event in the ring already: run its chain here, now.
        final UnsafeBuffer buffer = reapBuffers.get();
        final int bytes;
        try
        {
            bytes = context.getEvents(buffer, 0, buffer.capacity(), 0, 0);
        }
        catch (final AioException destroyedMeanwhile)
        {
            if (!abandonIfDestroyed(destroyedMeanwhile)) // this op among them: it completes with -EBADF
            {
                throw destroyedMeanwhile;
            }
            return;
        }
        dispatch(buffer, bytes, node);
    }

    /**
     * @return true for the ops the engine may complete inside submit: a pread (the immediate path) and
     * an opcode it does not implement (-ENOSYS at once). Reaping after any other submit would only take
     * other ops' delayed events onto the submitting thread.
     */
    private void completeUnsubmitted(final OpCompletion node, final long res)
    {
        if (pending.remove(node.cookie) != null)
        {
            run(node, () -> node.completeFromEvent(null, res, 0, false), false);
        }
    }

    private static boolean mayCompleteInline(final Op op)
    {
        return op.opcode == Opcode.PREAD || op.opcode < 0 || op.opcode >= Opcode.COUNT;
    }

    private int dispatch(final UnsafeBuffer buffer, final int bytes, final OpCompletion justSubmitted)
    {
        if (bytes == 0)
        {
            return 0;
        }
        // Copy first: a chain may submit, which reaps into this thread's buffer again.
        final UnsafeBuffer batch = new UnsafeBuffer(new byte[bytes]);
        batch.putBytes(0, buffer, 0, bytes);
        final EventCursor cursor = new EventCursor().wrap(batch, 0, bytes);
        int count = 0;
        while (cursor.next())
        {
            final Event event = cursor.event();
            final OpCompletion node = pending.remove(event.cookie());
            if (node == null)
            {
                continue; // not ours
            }
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[event.length()]);
            copy.putBytes(0, batch, event.offset(), event.length());
            final boolean immediate = node == justSubmitted && (event.flags() & EventDescriptor.FLAG_IMMEDIATE) != 0;
            final long res = event.res();
            final long res2 = event.res2();
            run(node, () -> node.completeFromEvent(copy, res, res2, immediate), immediate);
            count++;
        }
        return count;
    }

    /**
     * Marks this thread as running a callback until {@link #exitCallback}.
     */
    Trampoline enterCallback()
    {
        final Trampoline trampoline = trampolines.get();
        trampoline.callbacks++;
        return trampoline;
    }

    static void exitCallback(final Trampoline trampoline)
    {
        trampoline.callbacks--;
    }

    /**
     * Tells {@code parent} that {@code child} has settled, through the trampoline: a chain of nodes that
     * settle at once (the stand-ins of a failed chain's remaining steps, a feeder whose children complete
     * inline) is then a loop on this thread, not one stack frame per node.
     */
    void settleChild(final Completion parent, final Completion child)
    {
        run(parent, () -> parent.childSettled(child), false);
    }

    /**
     * Runs a step of the graph (an op's completion, a parent hearing of a child) now, or, if this thread is
     * already inside one, once the stack has unwound to the outermost. A step that throws is reported against
     * {@code node} and the rest go on: one bad callback path must not lose the other completions of a batch
     * (their events are already out of the ring).
     */
    private void run(final Completion node, final Runnable step, final boolean immediate)
    {
        final Trampoline trampoline = trampolines.get();
        if (trampoline.depth > 0 && !(immediate && trampoline.depth < MAX_IMMEDIATE_DEPTH))
        {
            trampoline.queued.add(() -> runGuarded(node, step));
            return;
        }
        trampoline.depth++;
        try
        {
            runGuarded(node, step);
        }
        finally
        {
            trampoline.depth--;
        }
        if (trampoline.depth == 0)
        {
            Runnable next;
            while ((next = trampoline.queued.poll()) != null)
            {
                trampoline.depth++;
                try
                {
                    next.run();
                }
                finally
                {
                    trampoline.depth--;
                }
            }
        }
    }

    private void runGuarded(final Completion node, final Runnable step)
    {
        try
        {
            step.run();
        }
        catch (final Throwable t)
        {
            report(node, t);
        }
    }

    void report(final Completion completion, final Throwable error)
    {
        try
        {
            errorHandler.accept(completion, error);
        }
        catch (final Throwable handlerFailure)
        {
            // An error handler that throws must not take the graph down with it, nor vanish unseen.
            handlerFailure.addSuppressed(error);
            System.err.println("syslet: the error handler threw while reporting a failure of " + completion + ":");
            handlerFailure.printStackTrace();
        }
    }
}
