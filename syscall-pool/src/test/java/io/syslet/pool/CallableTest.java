package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.syslet.pool.SysletTestSupport.reap;
import static io.syslet.pool.SysletTestSupport.reapOne;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Java code as an op: its value, its failure, and its cancellation by interrupt, after which the worker
 * thread must not carry the interrupt into the next op.
 */
class CallableTest
{
    /** One worker that does not retire while a test runs: every callable runs on the same thread. */
    /**
     * One worker; the Throwables of the callables that throw here are dropped: these tests check the events,
     * CallableFailureHandlerTest checks the reports, and the default would print each on the build's stderr.
     */
    private static SetupParams oneWorker()
    {
        return new SetupParams().unboundedWorkers(1).idleTimeout(10, TimeUnit.MINUTES)
            .callableFailureHandler((cookie, submissionId, failure) -> {});
    }

    @Test
    void theValueReturnedIsTheEventsRes()
    {
        try (SysletContext ctx = SysletContext.setup(oneWorker()))
        {
            ctx.submitCallable(1, () -> 42L);
            ctx.submitCallable(2, () -> -7L);
            ctx.submitCallable(3, () -> null);
            final Map<Long, Event> events = reap(ctx, 3);
            assertEquals(42, events.get(1L).res());
            assertEquals(-7, events.get(2L).res(), "a negative value passes through like a syscall's errno would");
            assertEquals(0, events.get(3L).res(), "null counts as 0");
            assertEquals(Opcode.CALLABLE, events.get(1L).opcode());
            assertEquals(0, events.get(1L).flags());
        }
    }

    /**
     * A callable that destroys its own context would have destroy wait for the op it runs in, that is for
     * itself, until the timeout, and leave the context half-freed. It is refused at once with EDEADLK, and
     * the context goes on as before.
     */
    @Test
    void destroyFromInsideOneOfTheContextsOwnOpsIsRefusedWithEdeadlk()
    {
        try (SysletContext ctx = SysletContext.setup(oneWorker()))
        {
            final AtomicReference<Throwable> thrown = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                try
                {
                    ctx.close();
                }
                catch (final RuntimeException e)
                {
                    thrown.set(e);
                }
                return 5L;
            });
            assertEquals(5, reapOne(ctx, 1).res());
            final AioException refused = assertInstanceOf(AioException.class, thrown.get());
            assertEquals(Errno.EDEADLK, refused.errno());
            assertTrue(refused.getMessage().contains("own ops"), refused.getMessage());
            ctx.submitCallable(2, () -> 6L);
            assertEquals(6, reapOne(ctx, 2).res(), "the context still runs ops");
        }
    }

    /**
     * The same refusal while another thread is inside destroy: destroy is synchronized, and the op's own call
     * waited for that monitor before it could be refused, while the other destroy waited for that op, which no
     * interrupt frees from a monitor wait: the other destroy ran out its whole timeout and answered false, the
     * context closed but not freed (a close() at shutdown would leak it).
     */
    @Test
    void destroyFromInsideAnOpWhileAnotherThreadDestroysIsRefusedAndTheOtherDestroyFrees() throws Exception
    {
        final SysletContext ctx = SysletContext.setup(oneWorker());
        try
        {
            final CountDownLatch running = new CountDownLatch(1);
            final AtomicReference<Throwable> thrown = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                running.countDown();
                while (true) // until the other thread is inside destroy, which closes the context first
                {
                    try
                    {
                        ctx.inFlight();
                    }
                    catch (final AioException e)
                    {
                        break;
                    }
                    Thread.onSpinWait();
                }
                try
                {
                    ctx.destroy(TimeUnit.SECONDS.toNanos(30));
                }
                catch (final RuntimeException e)
                {
                    thrown.set(e);
                }
                return 5L;
            });
            running.await();
            assertTrue(ctx.destroy(TimeUnit.SECONDS.toNanos(3)), "the other thread's destroy freed the context");
            final AioException refused = assertInstanceOf(AioException.class, thrown.get());
            assertEquals(Errno.EDEADLK, refused.errno());
        }
        finally
        {
            ctx.destroy(TimeUnit.SECONDS.toNanos(30));
        }
    }

    @Test
    void aCallableThatThrowsCompletesWithEio()
    {
        try (SysletContext ctx = SysletContext.setup(oneWorker()))
        {
            ctx.submitCallable(1, () ->
            {
                throw new IllegalStateException("unchecked");
            });
            ctx.submitCallable(2, () ->
            {
                throw new IOException("checked");
            });
            ctx.submitCallable(3, () ->
            {
                throw new AssertionError("an Error, not an Exception");
            });
            ctx.submitCallable(4, () -> 4L);
            final Map<Long, Event> events = reap(ctx, 4);
            assertEquals(-Errno.EIO, events.get(1L).res(), events.get(1L).toString());
            assertEquals(-Errno.EIO, events.get(2L).res(), events.get(2L).toString());
            assertEquals(-Errno.EIO, events.get(3L).res(), events.get(3L).toString());
            assertEquals(4, events.get(4L).res(), "the one worker goes on after each throw");
            // An op leaves the count just after its event is published, so a reaper can get there first:
            // the count must reach 0, promptly, not necessarily by the time the last event is reaped.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ctx.inFlight() != 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, "ops still in flight after 10 s: " + ctx.inFlight());
                Thread.onSpinWait();
            }
            assertTrue(ctx.destroy(TimeUnit.SECONDS.toNanos(10)), "destroy could not free the context");
        }
    }

    /**
     * ABI.md section 14 and submitCallable's Javadoc: -EIO if the callable threw, -ECANCELED if it was cancelled.
     * An InterruptedException that no cancel caused (the callable interrupted itself, or threw one of its own)
     * completed with -EINTR, an errno neither names: no cancel asked for it, and the callable threw.
     */
    @Test
    void anInterruptedExceptionNoCancelCausedCompletesWithEioLikeAnyThrow()
    {
        try (SysletContext ctx = SysletContext.setup(oneWorker()))
        {
            ctx.submitCallable(1, () ->
            {
                throw new InterruptedException("thrown by the callable itself");
            });
            ctx.submitCallable(2, () ->
            {
                Thread.currentThread().interrupt();
                Thread.sleep(1_000);
                return 2L;
            });
            final Map<Long, Event> events = reap(ctx, 2);
            assertEquals(-Errno.EIO, events.get(1L).res(), events.get(1L).toString());
            assertEquals(-Errno.EIO, events.get(2L).res(), events.get(2L).toString());
            assertEquals(0, events.get(1L).flags() & EventDescriptor.FLAG_CANCELED);
        }
    }

    @Test
    void anInterruptACallableLeavesBehindDoesNotReachTheNextOp()
    {
        try (SysletContext ctx = SysletContext.setup(oneWorker()))
        {
            final AtomicReference<Thread> first = new AtomicReference<>();
            final AtomicReference<Thread> second = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                first.set(Thread.currentThread());
                Thread.currentThread().interrupt();
                return 1L;
            });
            assertEquals(1, reapOne(ctx, 1).res());
            ctx.submitCallable(2, () ->
            {
                second.set(Thread.currentThread());
                Thread.sleep(1);
                return 2L;
            });
            assertEquals(2, reapOne(ctx, 2).res(), "the second callable's sleep was interrupted");
            assertSame(first.get(), second.get(), "both ran on the one worker");
        }
    }

    @Test
    void cancelInterruptsASleepingCallableAndLeavesItsWorkerUninterrupted() throws InterruptedException
    {
        try (SysletContext ctx = SysletContext.setup(oneWorker()))
        {
            final CountDownLatch sleeping = new CountDownLatch(1);
            final AtomicReference<Thread> sleeper = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                sleeper.set(Thread.currentThread());
                sleeping.countDown();
                Thread.sleep(TimeUnit.HOURS.toMillis(1));
                return 1L;
            });
            assertTrue(sleeping.await(10, TimeUnit.SECONDS), "the callable never started");

            assertEquals(AioContext.CANCELED, ctx.cancel(1));
            final Event canceled = reapOne(ctx, 1);
            assertEquals(-Errno.ECANCELED, canceled.res(), canceled.toString());
            assertEquals(EventDescriptor.FLAG_CANCELED, canceled.flags() & EventDescriptor.FLAG_CANCELED);
            assertEquals(AioContext.NOT_FOUND, ctx.cancel(1));

            final AtomicReference<Thread> next = new AtomicReference<>();
            ctx.submitCallable(2, () ->
            {
                next.set(Thread.currentThread());
                return Thread.currentThread().isInterrupted() ? 1L : 0L;
            });
            assertEquals(0, reapOne(ctx, 2).res(), "the next op on that worker saw an interrupt meant for the last");
            assertSame(sleeper.get(), next.get(), "both ran on the one worker");
        }
    }

    /**
     * A callable that ignores its interrupt makes the first cancel answer "running, may not terminate"; the op
     * still runs, so a second cancel must find it and answer the same, not "not found" (which says no op in
     * flight has the cookie, while its event is still to come).
     */
    @Test
    void aSecondCancelOfAnOpThatIgnoredTheFirstStillFindsIt() throws InterruptedException
    {
        try (SysletContext ctx = SysletContext.setup(oneWorker()))
        {
            final CountDownLatch running = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            ctx.submitCallable(1, () ->
            {
                running.countDown();
                while (true)
                {
                    try
                    {
                        release.await();
                        return 5L;
                    }
                    catch (final InterruptedException e)
                    {
                        // deaf to cancels
                    }
                }
            });
            assertTrue(running.await(10, TimeUnit.SECONDS), "the callable never started");

            assertEquals(AioContext.RUNNING_MAY_NOT_TERMINATE, ctx.cancel(1), "the op ignores its interrupt");
            assertEquals(AioContext.RUNNING_MAY_NOT_TERMINATE, ctx.cancel(1), "the op still runs: cancel must find it");
            assertEquals(1, ctx.inFlight());

            release.countDown();
            final Event done = reapOne(ctx, 1);
            assertEquals(5, done.res(), done.toString());
            assertEquals(0, done.flags() & EventDescriptor.FLAG_CANCELED, done.toString());
            assertEquals(AioContext.NOT_FOUND, ctx.cancel(1));
        }
    }
}
