package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.CallableFailureHandler;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.syslet.pool.SysletTestSupport.assertNoEventReady;
import static io.syslet.pool.SysletTestSupport.reap;
import static io.syslet.pool.SysletTestSupport.reapOne;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a callable op threw: its event can only say -EIO, and the Throwable went nowhere, so a callable that threw a
 * NullPointerException left no trace but that errno. Now it goes to a {@link CallableFailureHandler} (the
 * context's, or the op's own), on the worker, before the event is published; to the worker thread's uncaught
 * exception handler by default.
 */
class CallableFailureHandlerTest
{
    /** What a handler was told, and how things stood when it was. */
    private static final class Report
    {
        final long cookie;
        final long submissionId;
        final Throwable failure;
        final Thread thread;
        final boolean interrupted;

        Report(final long cookie, final long submissionId, final Throwable failure)
        {
            this.cookie = cookie;
            this.submissionId = submissionId;
            this.failure = failure;
            this.thread = Thread.currentThread();
            this.interrupted = Thread.currentThread().isInterrupted();
        }
    }

    /** A handler that keeps each report by cookie, and refuses a second for the same cookie. */
    private static final class Recorder implements CallableFailureHandler
    {
        final Map<Long, Report> reports = new ConcurrentHashMap<>();

        @Override
        public void onFailure(final long cookie, final long submissionId, final Throwable failure)
        {
            if (reports.putIfAbsent(cookie, new Report(cookie, submissionId, failure)) != null)
            {
                throw new AssertionError("cookie " + cookie + " reported twice");
            }
        }
    }

    /** One worker that does not retire while a test runs. */
    private static SetupParams oneWorker(final CallableFailureHandler handler)
    {
        return new SetupParams().unboundedWorkers(1).idleTimeout(10, TimeUnit.MINUTES).callableFailureHandler(handler);
    }

    @Test
    void theHandlerGetsTheVeryThrowableWithTheOpsCookieAndSubmissionIdOnTheWorker()
    {
        final Recorder recorder = new Recorder();
        try (SysletContext ctx = SysletContext.setup(oneWorker(recorder)))
        {
            final AtomicReference<Throwable> npe = new AtomicReference<>();
            final IOException checked = new IOException("checked");
            final AtomicReference<Thread> worker = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                worker.set(Thread.currentThread());
                try
                {
                    return (long)((String)null).length();
                }
                catch (final NullPointerException e)
                {
                    npe.set(e);
                    throw e;
                }
            });
            ctx.submitCallable(2, () ->
            {
                throw checked;
            });
            ctx.submitCallable(3, () -> -Errno.EIO * 1L); // an -EIO it returns is its value: nothing thrown
            ctx.submitCallable(4, () -> 4L);
            final Map<Long, Event> events = reap(ctx, 4);
            for (long cookie = 1; cookie <= 3; cookie++)
            {
                assertEquals(-Errno.EIO, events.get(cookie).res(), events.get(cookie).toString());
            }
            assertEquals(4, events.get(4L).res());

            assertEquals(2, recorder.reports.size(), "only the two that threw: " + recorder.reports.keySet());
            final Report first = recorder.reports.get(1L);
            assertInstanceOf(NullPointerException.class, first.failure);
            assertSame(npe.get(), first.failure, "the very NullPointerException the callable threw");
            assertEquals(1, first.cookie);
            assertEquals(events.get(1L).submissionId(), first.submissionId, "the submission id the event carries");
            assertSame(worker.get(), first.thread, "on the worker that ran the op");
            assertFalse(first.interrupted);
            final Report second = recorder.reports.get(2L);
            assertSame(checked, second.failure);
            assertEquals(events.get(2L).submissionId(), second.submissionId);
        }
    }

    /** The README's example: the cause, found by the event's submission id, is there when the event is. */
    @Test
    void theReadmesExampleFindsTheCauseByTheEventsSubmissionId()
    {
        final Map<Long, Throwable> causes = new ConcurrentHashMap<>();
        try (SysletContext ctx = SysletContext.setup(new SetupParams()
            .callableFailureHandler((cookie, submissionId, failure) -> causes.put(submissionId, failure))))
        {
            final AtomicReference<Throwable> thrown = new AtomicReference<>();
            ctx.submitCallable(7, () ->
            {
                try
                {
                    return Long.parseLong("seven");
                }
                catch (final NumberFormatException e)
                {
                    thrown.set(e);
                    throw e;
                }
            });
            final Event event = reapOne(ctx, 7);
            assertEquals(-Errno.EIO, event.res());
            final Throwable why = causes.remove(event.submissionId());
            assertInstanceOf(NumberFormatException.class, why);
            assertSame(thrown.get(), why);
        }
    }

    @Test
    void theHandlerIsAParameterOfTheContextAndNullRestoresTheDefault()
    {
        final Recorder recorder = new Recorder();
        final SetupParams params = oneWorker(recorder);
        try (SysletContext ctx = SysletContext.setup(params))
        {
            params.callableFailureHandler(null);
            assertSame(CallableFailureHandler.UNCAUGHT_EXCEPTION_HANDLER, params.callableFailureHandler());
            assertSame(recorder, ctx.params().callableFailureHandler(), "the context keeps what it was set up with");
            ctx.submitCallable(1, () ->
            {
                throw new IllegalStateException("to the recorder");
            });
            assertEquals(-Errno.EIO, reapOne(ctx, 1).res());
            assertEquals(List.of(1L), new ArrayList<>(recorder.reports.keySet()));
        }
    }

    /**
     * The handler runs after the op's outcome is settled and before its event is published: a reaper never sees
     * the -EIO before the handler has returned, so it finds whatever the handler recorded. Meanwhile the op is in
     * flight, and a cancel neither interrupts the handler nor says the op is unknown.
     */
    @Test
    void theHandlerRunsBeforeTheEventIsVisibleAndNoCancelInterruptsIt() throws InterruptedException
    {
        final CountDownLatch inHandler = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicReference<Throwable> recorded = new AtomicReference<>();
        final AtomicReference<String> handlerTrouble = new AtomicReference<>();
        final CallableFailureHandler slow = (cookie, submissionId, failure) ->
        {
            inHandler.countDown();
            try
            {
                if (!release.await(10, TimeUnit.SECONDS))
                {
                    handlerTrouble.set("never released");
                }
            }
            catch (final InterruptedException e)
            {
                handlerTrouble.set("interrupted while it ran");
            }
            recorded.set(failure);
        };
        try (SysletContext ctx = SysletContext.setup(oneWorker(slow)))
        {
            final IllegalStateException thrown = new IllegalStateException("thrown");
            ctx.submitCallable(1, () ->
            {
                throw thrown;
            });
            assertTrue(inHandler.await(10, TimeUnit.SECONDS), "the handler was never called");

            assertNoEventReady(ctx);
            assertEquals(1, ctx.inFlight(), "the op is in flight while its handler runs");
            assertEquals(AioContext.RUNNING_MAY_NOT_TERMINATE, ctx.cancel(1),
                "finished, its event still to come: neither cancelled nor unknown");
            Thread.sleep(50); // a worker that had published already would have done so by now
            assertNoEventReady(ctx);

            release.countDown();
            final Event event = reapOne(ctx, 1);
            assertEquals(-Errno.EIO, event.res(), event.toString());
            assertEquals(0, event.flags() & EventDescriptor.FLAG_CANCELED, event.toString());
            assertSame(thrown, recorded.get(), "what the handler recorded is there once the event is");
            assertNull(handlerTrouble.get(), handlerTrouble.get());
        }
    }

    /**
     * A handler that throws, an Error too, or that interrupts its thread: the worker goes on, every event is
     * published, every slot comes back (far more ops than the context has slots), the next op sees no interrupt,
     * and what the handler threw is printed with the callable's Throwable suppressed in it.
     */
    @Test
    void aHandlerThatThrowsLosesNeitherTheEventNorTheWorkerNorTheSlot()
    {
        final CallableFailureHandler throwing = (cookie, submissionId, failure) ->
        {
            Thread.currentThread().interrupt();
            if (cookie % 3 == 0)
            {
                throw new AssertionError("handler error " + cookie);
            }
            if (cookie % 3 == 1)
            {
                throw new IllegalStateException("handler broke " + cookie);
            }
            throw (RuntimeException)failure; // the very Throwable it was given
        };
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final PrintStream stderr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        final int ops = 60; // the context has 2 + 16 slots: a slot lost per failure would run out
        try (SysletContext ctx = SysletContext.setup(oneWorker(throwing).maxInFlight(2)))
        {
            final List<Thread> workers = Collections.synchronizedList(new ArrayList<>());
            for (long cookie = 1; cookie <= ops; cookie++)
            {
                final long id = cookie;
                ctx.submitCallable(id, () ->
                {
                    workers.add(Thread.currentThread());
                    throw new UnsupportedOperationException("op " + id);
                });
                assertEquals(-Errno.EIO, reapOne(ctx, id).res());
            }
            ctx.submitCallable(ops + 1, () -> Thread.currentThread().isInterrupted() ? 1L : 0L);
            assertEquals(0, reapOne(ctx, ops + 1).res(), "the next op saw the interrupt the handler left");
            assertEquals(ops, workers.size());
            assertTrue(workers.stream().allMatch(w -> w == workers.get(0)), "one worker ran them all");
            // An op leaves the count just after its event is published: promptly 0, not necessarily at the reap.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ctx.inFlight() != 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, "ops still in flight after 10 s: " + ctx.inFlight());
                Thread.onSpinWait();
            }
            assertTrue(ctx.destroy(TimeUnit.SECONDS.toNanos(10)), "destroy could not free the context");
        }
        finally
        {
            System.setErr(stderr);
        }
        final String printed = err.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("syslet: the failure handler of the callable op with cookie 4 threw"), printed);
        assertTrue(printed.contains("java.lang.IllegalStateException: handler broke 4"), printed);
        assertTrue(printed.contains("Suppressed: java.lang.UnsupportedOperationException: op 4"), printed);
        assertTrue(printed.contains("java.lang.AssertionError: handler error 3"), printed);
        assertTrue(printed.contains("java.lang.UnsupportedOperationException: op 5"), printed);
    }

    /**
     * An Error out of the callable is a throw like any other (as FutureTask takes it): -EIO, reported, and the
     * worker goes on. Real ones, from the JVM: a stack overflow, and an array larger than the VM can make.
     */
    @Test
    void anErrorFromTheCallableCompletesWithEioAndReachesTheHandler()
    {
        final Recorder recorder = new Recorder();
        try (SysletContext ctx = SysletContext.setup(oneWorker(recorder)))
        {
            final AtomicReference<Throwable> overflow = new AtomicReference<>();
            final AtomicReference<Throwable> outOfMemory = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                try
                {
                    return recurse(0);
                }
                catch (final StackOverflowError e)
                {
                    overflow.set(e);
                    throw e;
                }
            });
            ctx.submitCallable(2, () ->
            {
                try
                {
                    return (long)new long[Integer.MAX_VALUE].length;
                }
                catch (final OutOfMemoryError e)
                {
                    outOfMemory.set(e);
                    throw e;
                }
            });
            ctx.submitCallable(3, () -> 3L);
            final Map<Long, Event> events = reap(ctx, 3);
            assertEquals(-Errno.EIO, events.get(1L).res(), events.get(1L).toString());
            assertEquals(-Errno.EIO, events.get(2L).res(), events.get(2L).toString());
            assertEquals(3, events.get(3L).res(), "the worker goes on");
            assertNotNull(overflow.get());
            assertSame(overflow.get(), recorder.reports.get(1L).failure);
            assertNotNull(outOfMemory.get());
            assertSame(outOfMemory.get(), recorder.reports.get(2L).failure);
        }
    }

    private static long recurse(final long depth)
    {
        return recurse(depth + 1) + 1;
    }

    /**
     * A cancelled callable completes with -ECANCELED and is not a failure: whatever it throws once interrupted (the
     * InterruptedException, or something it wraps it in) is the cancel's echo, dropped as FutureTask drops the
     * outcome of a cancelled task.
     */
    @Test
    void aCancelledCallableCompletesWithEcanceledAndIsNotReported() throws InterruptedException
    {
        final Recorder recorder = new Recorder();
        try (SysletContext ctx = SysletContext.setup(new SetupParams().unboundedWorkers(2)
            .idleTimeout(10, TimeUnit.MINUTES).callableFailureHandler(recorder)))
        {
            final CountDownLatch sleeping = new CountDownLatch(2);
            ctx.submitCallable(1, () ->
            {
                sleeping.countDown();
                Thread.sleep(TimeUnit.HOURS.toMillis(1));
                return 1L;
            });
            ctx.submitCallable(2, () ->
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
            });
            assertTrue(sleeping.await(10, TimeUnit.SECONDS), "the callables never started");
            assertEquals(AioContext.CANCELED, ctx.cancel(1));
            assertEquals(AioContext.CANCELED, ctx.cancel(2));
            final Map<Long, Event> events = reap(ctx, 2);
            for (final Event event : events.values())
            {
                assertEquals(-Errno.ECANCELED, event.res(), event.toString());
                assertEquals(EventDescriptor.FLAG_CANCELED, event.flags() & EventDescriptor.FLAG_CANCELED);
            }
            ctx.submitCallable(3, () ->
            {
                throw new IllegalStateException("after the cancels");
            });
            assertEquals(-Errno.EIO, reapOne(ctx, 3).res());
            assertEquals(List.of(3L), new ArrayList<>(recorder.reports.keySet()), "only the op that failed");
        }
    }

    /**
     * An InterruptedException that no cancel caused (thrown by the callable itself, or from a sleep it interrupted
     * itself) is -EIO like any throw (CallableTest), so it is a failure, and reported; the handler runs with the
     * interrupt the callable left cleared.
     */
    @Test
    void anInterruptedExceptionNoCancelCausedIsReported()
    {
        final Recorder recorder = new Recorder();
        try (SysletContext ctx = SysletContext.setup(oneWorker(recorder)))
        {
            final InterruptedException own = new InterruptedException("thrown by the callable itself");
            final AtomicReference<Throwable> fromSleep = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                throw own;
            });
            ctx.submitCallable(2, () ->
            {
                Thread.currentThread().interrupt();
                try
                {
                    Thread.sleep(1_000);
                    return 2L;
                }
                catch (final InterruptedException e)
                {
                    fromSleep.set(e);
                    Thread.currentThread().interrupt(); // and leaves the flag set too
                    throw e;
                }
            });
            final Map<Long, Event> events = reap(ctx, 2);
            assertEquals(-Errno.EIO, events.get(1L).res(), events.get(1L).toString());
            assertEquals(-Errno.EIO, events.get(2L).res(), events.get(2L).toString());
            assertSame(own, recorder.reports.get(1L).failure);
            assertSame(fromSleep.get(), recorder.reports.get(2L).failure);
            assertFalse(recorder.reports.get(2L).interrupted, "the handler ran with the callable's interrupt left set");
        }
    }

    /**
     * An op's own handler takes its failure instead of the context's, which hears of the others.
     */
    @Test
    void anOpsOwnHandlerTakesItsFailureInsteadOfTheContexts()
    {
        final Recorder contexts = new Recorder();
        final Recorder own = new Recorder();
        try (SysletContext ctx = SysletContext.setup(oneWorker(contexts)))
        {
            final IllegalArgumentException first = new IllegalArgumentException("to its own handler");
            final IllegalArgumentException second = new IllegalArgumentException("to the context's");
            ctx.submitCallable(1, () ->
            {
                throw first;
            }, own);
            ctx.submitCallable(2, () ->
            {
                throw second;
            });
            ctx.submitCallable(3, () -> 3L, own);
            final Map<Long, Event> events = reap(ctx, 3);
            assertEquals(-Errno.EIO, events.get(1L).res());
            assertEquals(-Errno.EIO, events.get(2L).res());
            assertEquals(3, events.get(3L).res());
            assertEquals(List.of(1L), new ArrayList<>(own.reports.keySet()));
            assertSame(first, own.reports.get(1L).failure);
            assertEquals(List.of(2L), new ArrayList<>(contexts.reports.keySet()));
            assertSame(second, contexts.reports.get(2L).failure);
        }
    }

    /**
     * The default handler is the worker thread's uncaught exception handler, here one that the context's worker
     * thread factory gave it; the thread lives on and runs the next op.
     */
    @Test
    void byDefaultTheWorkerThreadsUncaughtExceptionHandlerIsTold()
    {
        final List<Throwable> uncaught = Collections.synchronizedList(new ArrayList<>());
        final List<Thread> on = Collections.synchronizedList(new ArrayList<>());
        final SetupParams params = new SetupParams().unboundedWorkers(1).idleTimeout(10, TimeUnit.MINUTES)
            .workerThreadFactory(runnable ->
            {
                final Thread thread = new Thread(runnable, "handled-worker");
                thread.setDaemon(true);
                thread.setUncaughtExceptionHandler((t, e) ->
                {
                    on.add(t);
                    uncaught.add(e);
                });
                return thread;
            });
        assertSame(CallableFailureHandler.UNCAUGHT_EXCEPTION_HANDLER, params.callableFailureHandler());
        try (SysletContext ctx = SysletContext.setup(params))
        {
            final ArithmeticException thrown = new ArithmeticException("/ by zero");
            final AtomicReference<Thread> ran = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                ran.set(Thread.currentThread());
                throw thrown;
            });
            assertEquals(-Errno.EIO, reapOne(ctx, 1).res());
            assertEquals(List.of(thrown), uncaught);
            assertSame(ran.get(), on.get(0));
            final AtomicReference<Thread> next = new AtomicReference<>();
            ctx.submitCallable(2, () ->
            {
                next.set(Thread.currentThread());
                return 2L;
            });
            assertEquals(2, reapOne(ctx, 2).res());
            assertSame(ran.get(), next.get(), "the worker lives on after its uncaught exception handler was told");
        }
    }
}
