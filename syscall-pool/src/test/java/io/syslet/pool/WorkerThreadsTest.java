package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.natives.Natives;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.syslet.pool.SysletTestSupport.directBuffer;
import static io.syslet.pool.SysletTestSupport.reap;
import static io.syslet.pool.SysletTestSupport.reapReady;
import static io.syslet.pool.SysletTestSupport.submitAll;
import static io.syslet.pool.SysletTestSupport.writer;
import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Worker threads come from the setup's factory, and a pool that cannot get one (the JVM's
 * {@code OutOfMemoryError: unable to create native thread} under a process or cgroup limit, or a factory
 * that fails) loses nothing: a submit still returns what it accepted, and each op either waits for a
 * worker the pool has or, with none, completes with EAGAIN.
 */
class WorkerThreadsTest
{
    /** What Thread.start throws when the OS refuses a thread. */
    private static final ThreadFactory OS_REFUSES = runnable ->
    {
        throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource " +
            "limits reached");
    };

    @Test
    void theFactoryMakesTheWorkers()
    {
        final List<Thread> made = new ArrayList<>();
        final ThreadFactory factory = runnable ->
        {
            final Thread thread = new Thread(runnable, "mine-" + made.size());
            thread.setDaemon(true);
            made.add(thread);
            return thread;
        };
        try (SysletContext ctx = SysletContext.setup(new SetupParams().workerThreadFactory(factory)))
        {
            final AtomicReference<Thread> ranOn = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                ranOn.set(Thread.currentThread());
                return 0L;
            });
            assertEquals(0, reap(ctx, 1).get(1L).res());
            assertEquals(1, made.size(), "threads made: " + made);
            assertSame(made.get(0), ranOn.get());
        }
    }

    @Test
    void aPoolThatCannotStartAThreadCompletesItsOpsWithEagainAndLosesNone()
    {
        for (final ThreadFactory refusing : List.<ThreadFactory>of(OS_REFUSES, runnable -> null, runnable ->
        {
            throw new IllegalStateException("this factory is closed");
        }))
        {
            try (SysletContext ctx = SysletContext.setup(new SetupParams().workerThreadFactory(refusing)))
            {
                final IocbWriter writer = writer();
                writer.nop(1);
                writer.nanosleep(2, 1_000);
                writer.fsync(3, 0);
                submitAll(writer, ctx); // all three accepted: nothing thrown past the ones already taken
                ctx.submitCallable(4, () -> 0L);
                final Map<Long, Event> events = reap(ctx, 4);
                for (final Event event : events.values())
                {
                    assertEquals(-Errno.EAGAIN, event.res(), event.toString());
                    assertEquals(EventDescriptor.FLAG_IMMEDIATE, event.flags(), "completed inside submit: " + event);
                }
                assertEquals(Opcode.NANOSLEEP, events.get(2L).opcode());
                assertEquals(AioContext.NOT_FOUND, ctx.cancel(2), "a rejected op is over");
                assertEquals(0, ctx.workerCounts()[0] + ctx.workerCounts()[1], "no worker counted without a thread");

                // The context goes on: a later submit is rejected the same way, not left waiting.
                writer.nop(5);
                submitAll(writer, ctx);
                assertEquals(-Errno.EAGAIN, reap(ctx, 1).get(5L).res());
            }
        }
    }

    /**
     * A factory is the caller's code and may throw any Throwable, not only a RuntimeException: an Error from it
     * (an AssertionError, a LinkageError) must leave the pool as a refused thread does, not escape submit with
     * the worker count raised and no thread behind it, the op queued for nobody and the submit's count lost.
     */
    @Test
    void aFactoryThatThrowsAnErrorIsARefusedThreadLikeAnyOther()
    {
        final ThreadFactory broken = runnable ->
        {
            throw new AssertionError("a factory with a bug");
        };
        try (SysletContext ctx = SysletContext.setup(new SetupParams().workerThreadFactory(broken)))
        {
            final IocbWriter writer = writer();
            writer.nop(1);
            writer.nanosleep(2, 1_000);
            assertEquals(2, writer.submitTo(ctx), "both accepted, and the count returned");
            final Map<Long, Event> events = reap(ctx, 2);
            for (final Event event : events.values())
            {
                assertEquals(-Errno.EAGAIN, event.res(), event.toString());
            }
            assertEquals(0, ctx.workerCounts()[0] + ctx.workerCounts()[1], "no worker counted without a thread");
        }
    }

    /**
     * A factory that starts the thread itself breaks its contract (start() would throw): the pool must count
     * it as a refused thread, and the worker code that thread runs must take no part. Before, that thread ran
     * as a worker the pool did not count: it went idle, took the next op, and lowered the count below zero
     * when it retired.
     */
    @Test
    void aThreadTheFactoryAlreadyStartedIsARefusedThreadAndDoesNotRunAsAWorker() throws InterruptedException
    {
        final CountDownLatch go = new CountDownLatch(1);
        final List<Thread> made = new ArrayList<>();
        final ThreadFactory startsItItself = runnable ->
        {
            // Held until the pool is done with it, so that it runs the worker's code as the pool left it.
            final Thread thread = new Thread(() ->
            {
                try
                {
                    go.await();
                }
                catch (final InterruptedException e)
                {
                    return;
                }
                runnable.run();
            }, "started-by-its-factory-" + made.size());
            thread.setDaemon(true);
            thread.start();
            made.add(thread);
            return thread;
        };
        try (SysletContext ctx = SysletContext.setup(new SetupParams().workerThreadFactory(startsItItself)))
        {
            final IocbWriter writer = writer();
            writer.nop(1);
            assertEquals(1, writer.submitTo(ctx));
            assertEquals(-Errno.EAGAIN, reap(ctx, 1).get(1L).res(), "refused: no worker");
            assertEquals(1, made.size(), "the pool asked the factory for a thread");
            go.countDown();
            made.get(0).join(TimeUnit.SECONDS.toMillis(5));
            assertTrue(!made.get(0).isAlive(), made.get(0) + " ran on as a worker nobody counted");

            writer.nop(2);
            assertEquals(1, writer.submitTo(ctx));
            assertEquals(-Errno.EAGAIN, reap(ctx, 1).get(2L).res(), "still no worker");
            for (final Thread thread : made)
            {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            }
            assertEquals(0, ctx.workerCounts()[0], "bounded workers counted");
            assertEquals(0, ctx.workerCounts()[1], "unbounded workers counted");
        }
    }

    @Test
    void withWorkersItCannotAddToOpsQueueBehindThemInsteadOfFailing()
    {
        final AtomicInteger made = new AtomicInteger();
        final ThreadFactory onlyOne = runnable ->
        {
            if (made.getAndIncrement() > 0)
            {
                throw new OutOfMemoryError("unable to create native thread");
            }
            final Thread thread = new Thread(runnable, "the-only-worker");
            thread.setDaemon(true);
            return thread;
        };
        final int[] pipe = new int[2];
        assertEquals(0, LIBC.pipe2(pipe, Natives.O_CLOEXEC));
        try (SysletContext ctx = SysletContext.setup(new SetupParams().workerThreadFactory(onlyOne)
            .idleTimeout(10, TimeUnit.MINUTES)))
        {
            final int buf = ctx.registerBuffer(directBuffer(4096));
            final IocbWriter writer = writer();
            writer.read(1, pipe[0], io.syslet.abi.BufferRef.of(buf, 0), 1); // holds the one worker
            writer.nanosleep(2, 0); // same class: queued behind it, the pool cannot grow
            submitAll(writer, ctx);
            assertTrue(made.get() >= 2, "the pool tried to start a second worker: " + made.get());
            assertTrue(reapReady(ctx).isEmpty(), "the sleep waits for the worker, it is not rejected");
            assertEquals(1, LIBC.write(pipe[1], directBuffer(1).addressOffset(), 1));
            final Map<Long, Event> events = reap(ctx, 2);
            assertEquals(1, events.get(1L).res(), events.get(1L).toString());
            assertEquals(0, events.get(2L).res(), events.get(2L).toString());
        }
        finally
        {
            LIBC.close(pipe[0]);
            LIBC.close(pipe[1]);
        }
    }
}
