package io.syslet.tests.engine;

import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The in-flight count and limit under races.
 *
 * <p>{@link #everyAcceptedOpFreesItsPlaceAtATinyInFlightLimit}: submitters, workers and a reaper racing at an
 * in-flight limit of 2, where the engine's free-slot list and worker queue are exactly as large as the number
 * of ops that can be in flight. Every op whose submit was accepted must complete and free its place: a submit
 * may only ever be refused with EAGAIN, never fail otherwise, and once every event is reaped nothing may stay
 * counted in flight (or the context would refuse every submit from then on). Regression test for a lock-free
 * queue that reports "full" or "empty" for a moment while another thread is half-way through an offer or a
 * poll of the entry next to it: the engine took such a "full" worker queue for a broken invariant
 * (IllegalStateException out of submit) and such an "empty" free-slot list for the in-flight limit, leaking
 * one count of the limit each time.
 *
 * <p>{@link #zeroInFlightMeansEveryEventCanBeReaped}: what {@code inFlight()} promises: once it reads 0, the
 * event of every op accepted before is in the ring, so a getEvents that does not wait takes them all.
 */
final class InFlightTest
{
    private static final int SUBMITTERS = 2;
    private static final int OPS_PER_SUBMITTER = 200_000;
    private static final int MAX_BATCH = 200;
    /** Not a timing assertion: only turns a hang (no event for this long) into a failure. */
    private static final long STALL_GUARD_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong reaped = new AtomicLong();
    private volatile boolean stop;

    @Test
    void everyAcceptedOpFreesItsPlaceAtATinyInFlightLimit() throws InterruptedException
    {
        final long total = (long)SUBMITTERS * OPS_PER_SUBMITTER;
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(2).boundedWorkers(2).spinTries(0)))
        {
            final Thread[] threads = new Thread[SUBMITTERS + 1];
            for (int s = 0; s < SUBMITTERS; s++)
            {
                threads[s] = thread(() -> submitNops(ctx));
            }
            threads[SUBMITTERS] = thread(() -> reap(ctx, total));
            for (final Thread thread : threads)
            {
                thread.start();
            }
            long lastReaped = -1;
            long lastProgress = System.nanoTime();
            for (final Thread thread : threads)
            {
                while (thread.isAlive())
                {
                    thread.join(100);
                    if (reaped.get() != lastReaped)
                    {
                        lastReaped = reaped.get();
                        lastProgress = System.nanoTime();
                    }
                    else if (System.nanoTime() - lastProgress > STALL_GUARD_NANOS)
                    {
                        stop = true;
                        fail("no event for 30 s: " + lastReaped + " of " + total + " reaped, in flight " +
                            ctx.inFlight() + " of at most 2");
                    }
                }
            }
            if (failure.get() != null)
            {
                throw new AssertionError(failure.get().toString(), failure.get());
            }
            assertEquals(total, reaped.get());
            // Slots are freed just after their events are published, so the count may trail the last event.
            while (ctx.inFlight() != 0 && System.nanoTime() - lastProgress < STALL_GUARD_NANOS)
            {
                Thread.yield();
            }
            assertEquals(0, ctx.inFlight(), "ops counted in flight after every event was reaped");
        }
    }

    @Test
    void zeroInFlightMeansEveryEventCanBeReaped()
    {
        final SplittableRandom random = new SplittableRandom(7);
        final IocbWriter writer = new IocbWriter(
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(MAX_BATCH * IocbDescriptor.MIN_LENGTH, 64)));
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(MAX_BATCH * 64, 64));
        final EventCursor cursor = new EventCursor();
        // The default ring holds every batch: events on the overflow list would count in flight until reaped.
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            long cookie = 0;
            for (int round = 0; round < 500; round++)
            {
                final int batch = 1 + random.nextInt(MAX_BATCH);
                final long first = cookie;
                for (int i = 0; i < batch; i++)
                {
                    writer.nop(cookie++);
                }
                assertEquals(batch, writer.submitTo(ctx));
                final long deadline = System.nanoTime() + STALL_GUARD_NANOS;
                while (ctx.inFlight() != 0)
                {
                    assertTrue(System.nanoTime() - deadline < 0, "ops still in flight after 30 s: " + ctx.inFlight());
                    Thread.onSpinWait();
                }
                final BitSet seen = new BitSet(batch);
                int bytes;
                while ((bytes = ctx.getEvents(dst, 0, dst.capacity(), 0, 0)) > 0)
                {
                    cursor.wrap(dst, 0, bytes);
                    while (cursor.next())
                    {
                        final long index = cursor.event().cookie() - first;
                        assertTrue(index >= 0 && index < batch && !seen.get((int)index), cursor.event().toString());
                        seen.set((int)index);
                    }
                }
                assertEquals(batch, seen.cardinality(), "round " + round + ": in flight read 0, yet " +
                    (batch - seen.cardinality()) + " of " + batch + " events were not there to reap");
            }
        }
    }

    private void submitNops(final SysletContext ctx)
    {
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
        for (int i = 0; i < OPS_PER_SUBMITTER && !stop; )
        {
            if (writer.count() == 0)
            {
                writer.nop(i);
            }
            try
            {
                i += writer.submitTo(ctx);
            }
            catch (final AioException ex)
            {
                assertEquals(Errno.EAGAIN, ex.errno(), ex.getMessage());
                Thread.yield();
            }
        }
    }

    private void reap(final SysletContext ctx, final long total)
    {
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        final EventCursor cursor = new EventCursor();
        while (reaped.get() < total && !stop)
        {
            cursor.wrap(dst, 0, ctx.getEvents(dst, 0, dst.capacity(), 1, TimeUnit.MILLISECONDS.toNanos(10)));
            while (cursor.next())
            {
                assertTrue(cursor.event().res() == 0, cursor.event().toString());
                reaped.incrementAndGet();
            }
        }
    }

    private Thread thread(final Runnable body)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                body.run();
            }
            catch (final Throwable ex)
            {
                failure.compareAndSet(null, ex);
                stop = true;
            }
        });
        thread.setDaemon(true);
        return thread;
    }
}
