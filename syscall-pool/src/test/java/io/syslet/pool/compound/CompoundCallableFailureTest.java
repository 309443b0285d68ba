package io.syslet.pool.compound;

import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A callable op that throws, in the compound layer: its future completed exceptionally with an AioException
 * "callable failed" (EIO) and its node said -EIO, while what the code threw went nowhere. Now the future
 * completes with the very Throwable, the node keeps it for its callbacks, and a node without a future hands it to
 * the error handler.
 */
class CompoundCallableFailureTest extends CompoundFixture
{
    @Test
    void aFutureCompletesExceptionallyWithTheVeryThrowableTheCallableThrew() throws Exception
    {
        final IOException thrown = new IOException("from the callable");
        final CompletableFuture<Long> future = completions.future(Op.call(() ->
        {
            throw thrown;
        }));
        final AtomicReference<Throwable> seen = new AtomicReference<>();
        final CompletableFuture<Long> observed = future.whenComplete((value, error) -> seen.set(error));
        poll(future);
        final ExecutionException failed = assertThrows(ExecutionException.class, () -> future.get(0, TimeUnit.SECONDS));
        assertSame(thrown, failed.getCause());
        assertTrue(observed.isCompletedExceptionally());
        assertSame(thrown, seen.get(), "a stage after it sees the Throwable itself");
        assertEquals(List.of(), reported, "the future took it: the error handler is not told too");

        final CompletableFuture<Long> fine = completions.future(Op.call(() -> 7L));
        poll(fine);
        assertEquals(7, fine.get(0, TimeUnit.SECONDS));
        final CompletableFuture<Long> returnedEio = completions.future(Op.call(() -> (long)-Errno.EIO));
        poll(returnedEio);
        final ExecutionException errno = assertThrows(ExecutionException.class, () -> returnedEio.get(0, TimeUnit.SECONDS));
        assertEquals(Errno.EIO, assertInstanceOf(AioException.class, errno.getCause()).errno(),
            "an -EIO the callable returned is its value, not a throw");
    }

    /**
     * A node without a future keeps the Throwable for its callbacks (set before they run), and hands it to the
     * error handler, once, against that node.
     */
    @Test
    void aNodeKeepsTheThrowableForItsCallbacksAndTheErrorHandlerIsTold()
    {
        final List<Completion> reportedAgainst = Collections.synchronizedList(new ArrayList<>());
        final List<Throwable> told = Collections.synchronizedList(new ArrayList<>());
        final Completions tracking = new Completions(context, null, (node, error) ->
        {
            reportedAgainst.add(node);
            told.add(error);
        });
        final AtomicReference<Throwable> npe = new AtomicReference<>();
        final OpCompletion node = tracking.op(Op.call(() ->
        {
            try
            {
                return (long)((String)null).length();
            }
            catch (final NullPointerException e)
            {
                npe.set(e);
                throw e;
            }
        }));
        final AtomicReference<Throwable> inCallback = new AtomicReference<>();
        node.notify(done -> inCallback.set(((OpCompletion)done).failure()));
        node.start();
        tracking.runUntilSettled(node, 10, TimeUnit.SECONDS);
        assertEquals(-Errno.EIO, node.res());
        assertInstanceOf(NullPointerException.class, npe.get());
        assertSame(npe.get(), node.failure());
        assertSame(npe.get(), inCallback.get(), "the callback found it on its node");
        assertEquals(List.of(npe.get()), told);
        assertEquals(List.of(node), reportedAgainst);

        final OpCompletion fine = tracking.submit(Op.call(() -> 1L));
        tracking.runUntilSettled(fine, 10, TimeUnit.SECONDS);
        assertNull(fine.failure());
        assertEquals(1, told.size(), "nothing more to tell");
    }

    /**
     * A chain stops at a callable that threw, like at any failed step; the step keeps its Throwable.
     */
    @Test
    void aChainStepThatThrowsKeepsItsThrowable()
    {
        final IllegalStateException thrown = new IllegalStateException("step 2");
        final Chain chain = completions.chain(Op.call(() -> 1L)).then(first -> Op.call(() ->
        {
            throw thrown;
        })).then(second -> Op.call(() -> 3L));
        chain.start();
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        assertEquals(List.of(1L, (long)-Errno.EIO, (long)-Errno.ECANCELED), results(chain));
        assertSame(thrown, ((OpCompletion)chain.steps().get(1)).failure());
        assertNull(((OpCompletion)chain.steps().get(0)).failure());
        assertEquals(List.of(thrown), reported);
    }

    /**
     * A cancelled callable is not a failure: its future is cancelled, its node says -ECANCELED with no Throwable,
     * and nobody is told of what it threw once interrupted; a callable that threw uncancelled is.
     */
    @Test
    void aCancelledCallableIsNotAFailure() throws InterruptedException
    {
        final CountDownLatch sleeping = new CountDownLatch(2);
        final CompletableFuture<Long> future = completions.future(Op.call(() ->
        {
            sleeping.countDown();
            Thread.sleep(TimeUnit.HOURS.toMillis(1));
            return 1L;
        }));
        final OpCompletion node = completions.submit(Op.call(() ->
        {
            sleeping.countDown();
            try
            {
                Thread.sleep(TimeUnit.HOURS.toMillis(1));
                return 2L;
            }
            catch (final InterruptedException e)
            {
                throw new IllegalStateException("gave up", e);
            }
        }));
        assertTrue(sleeping.await(10, TimeUnit.SECONDS), "the callables never started");
        assertTrue(future.cancel(true));
        assertTrue(node.cancel());
        completions.runUntilSettled(node, 10, TimeUnit.SECONDS);
        while (completions.pendingOps() > 0)
        {
            completions.poll(1, TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertThrows(CancellationException.class, future::join);
        assertEquals(-Errno.ECANCELED, node.res());
        assertNull(node.failure());

        final IllegalStateException thrown = new IllegalStateException("not cancelled");
        final OpCompletion failed = completions.submit(Op.call(() ->
        {
            throw thrown;
        }));
        completions.runUntilSettled(failed, 10, TimeUnit.SECONDS);
        assertSame(thrown, failed.failure());
        assertEquals(List.of(thrown), reported, "only the op that failed");
    }

    /**
     * This layer takes each callable's Throwable from the context op by op: the context's own handler is not told
     * of them too.
     */
    @Test
    void theContextsHandlerIsNotToldOfTheLayersOps() throws Exception
    {
        final List<Throwable> contexts = Collections.synchronizedList(new ArrayList<>());
        try (SysletContext own = SysletContext.setup(new SetupParams()
            .callableFailureHandler((cookie, submissionId, failure) -> contexts.add(failure))))
        {
            final Completions layer = new Completions(own, null, (node, error) -> reported.add(error));
            final UnsupportedOperationException thrown = new UnsupportedOperationException("compound");
            final OpCompletion node = layer.submit(Op.call(() ->
            {
                throw thrown;
            }));
            layer.runUntilSettled(node, 10, TimeUnit.SECONDS);
            assertSame(thrown, node.failure());
            assertEquals(List.of(thrown), reported);

            final UnsupportedOperationException direct = new UnsupportedOperationException("direct");
            own.submitCallable(-1, () ->
            {
                throw direct;
            });
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (contexts.isEmpty() && System.nanoTime() - deadline < 0)
            {
                layer.poll(0, TimeUnit.MILLISECONDS.toNanos(10)); // its event is not the layer's: it drops it
            }
            assertEquals(List.of(direct), contexts, "the context's handler hears only of the op submitted to it");
        }
    }

    private void poll(final CompletableFuture<Long> future)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!future.isDone())
        {
            assertTrue(System.nanoTime() - deadline < 0, "the future never completed");
            completions.poll(1, TimeUnit.MILLISECONDS.toNanos(10));
        }
    }
}
