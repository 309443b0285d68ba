package io.syslet.tests.engine;

import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import io.syslet.ring.RingReader;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A million ops (nops and small preads of a cached file, mixed) through a context whose ring is the smallest
 * allowed, 4 KiB (about 73 events), so that completions go through the overflow list nearly all the time.
 * Two threads submit; three reap at once: two call {@code getEvents}, one takes events straight from
 * {@code ctx.ring()} with {@link RingReader#poll} and {@link RingReader#read} and, when it finds the ring empty with the
 * OVERFLOW flag set, asks for a flush as the ABI says (by {@code getEvents} or {@link RingReader#flush()}).
 *
 * <p>Each op has a unique cookie, from which its kind, pread length and file offset follow, so every event can
 * be checked on its own: a known cookie, the op's opcode, res 0 for a nop and the requested count for a pread
 * (the file is long enough that every pread is whole), no cancelled flag. Across all reapers every cookie is
 * seen exactly once. At the end nothing is left: {@code inFlight()} drops to 0, the ring and the overflow list
 * are empty, and destroy frees the context.
 *
 * <p>The number of ops is the system property {@value #OPS_PROPERTY} (default {@value #DEFAULT_OPS}); the seed
 * of the batch sizes and the reapers' choices is {@value #SEED_PROPERTY} (printed; the interleaving cannot be
 * replayed).
 */
final class EngineStressTest
{
    static final String OPS_PROPERTY = "syslet.stress.ops";
    static final String SEED_PROPERTY = "syslet.stress.seed";
    /** Measured here, on two cores shared with other builds: see {@link #printSummary}. */
    static final int DEFAULT_OPS = 1_000_000;

    private static final int RING_BYTES = 4096;
    private static final int SUBMITTERS = 2;
    private static final int GET_EVENTS_REAPERS = 2;
    private static final int MAX_BATCH = 32;
    private static final int MAX_PREAD = 512;
    private static final int FILE_BYTES = 64 * 1024;
    /** Pread destinations: one {@link #MAX_PREAD} slot per cookie modulo this; their contents are not checked. */
    private static final int DESTINATION_SLOTS = 1024;
    private static final int REAP_BYTES = 16 * 1024;
    /** Not a timing assertion: only turns a hang (no event for this long) into a failure that says where. */
    private static final long STALL_GUARD_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long GET_EVENTS_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    @TempDir
    Path directory;

    private final StopOnFailure run = new StopOnFailure();
    private final AtomicLong reaped = new AtomicLong();
    private AtomicIntegerArray seen;
    private int total;

    @Test
    void everyOpCompletesOnceWithItsResultThroughAnOverflowingRing() throws Exception
    {
        total = Integer.getInteger(OPS_PROPERTY, DEFAULT_OPS);
        final long seed = Long.getLong(SEED_PROPERTY, System.nanoTime());
        assertTrue(total >= SUBMITTERS, OPS_PROPERTY + "=" + total + " must be at least " + SUBMITTERS);
        seen = new AtomicIntegerArray(total);

        final int fd = EngineTests.openCachedFile(directory.resolve("data"), FILE_BYTES, 42);
        final SysletContext ctx = SysletContext.setup(new SetupParams().ringBytes(RING_BYTES));
        boolean allJoined = false;
        try
        {
            final int buffer = ctx.registerBuffer(
                new UnsafeBuffer(BufferUtil.allocateDirectAligned(DESTINATION_SLOTS * MAX_PREAD, 4096)));
            final List<Thread> threads = new ArrayList<>();
            final Submitter[] submitters = new Submitter[SUBMITTERS];
            for (int s = 0; s < SUBMITTERS; s++)
            {
                final int from = (int)((long)total * s / SUBMITTERS);
                final int to = (int)((long)total * (s + 1) / SUBMITTERS);
                submitters[s] = new Submitter(ctx, fd, buffer, from, to, seed + s);
                threads.add(run.thread("stress-submitter-" + s, submitters[s]));
            }
            final GetEventsReaper[] callers = new GetEventsReaper[GET_EVENTS_REAPERS];
            for (int r = 0; r < GET_EVENTS_REAPERS; r++)
            {
                callers[r] = new GetEventsReaper(ctx);
                threads.add(run.thread("stress-get-events-" + r, callers[r]));
            }
            final RingReaper direct = new RingReaper(ctx, seed ^ 0x5DEECE66DL);
            threads.add(run.thread("stress-ring-reaper", direct));

            final long start = System.nanoTime();
            for (final Thread thread : threads)
            {
                thread.start();
            }
            allJoined = joinAll(threads, ctx);
            final long elapsedNanos = System.nanoTime() - start;
            final Throwable thrown = run.failure();
            if (thrown != null)
            {
                throw new AssertionError("seed " + seed + ": " + thrown.getMessage(), thrown);
            }

            assertEquals(total, reaped.get(), "events reaped");
            for (int cookie = 0; cookie < total; cookie++)
            {
                if (seen.get(cookie) != 1)
                {
                    fail("cookie " + cookie + " seen " + seen.get(cookie) + " times");
                }
            }
            EngineTests.awaitNothingInFlight(ctx, System.nanoTime() + STALL_GUARD_NANOS);
            final RingReader ring = ctx.ring();
            assertEquals(0, ring.occupancy(), "ring drained");
            assertFalse(ring.isOverflowPending(), "OVERFLOW flag cleared");
            assertEquals(0, ring.overflowSize(), "overflow list drained");
            final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REAP_BYTES, 64));
            assertEquals(0, ctx.getEvents(dst, 0, REAP_BYTES, 0, 0), "events beyond one per op");

            for (final GetEventsReaper caller : callers)
            {
                assertTrue(caller.events > 0, "a getEvents reaper took nothing: the reapers did not race");
            }
            long overflowSeen = 0;
            for (final Submitter submitter : submitters)
            {
                overflowSeen += submitter.overflowSeen;
            }
            assertTrue(overflowSeen > 0, "no submit ever left events on the overflow list: the ring never overflowed");
            final long directEvents = direct.polled + direct.read + direct.viaGetEvents;
            assertTrue(direct.polled > 0 && direct.read > 0, "the ring reaper must take events by both poll (" +
                direct.polled + ") and read (" + direct.read + ")");
            printSummary(seed, elapsedNanos, submitters, callers, direct, directEvents);
            assertTrue(ctx.destroy(TimeUnit.SECONDS.toNanos(5)), "destroy did not free the context");
        }
        finally
        {
            // A thread still running after the stall guard may still use the context and the fd.
            if (allJoined)
            {
                ctx.destroy(TimeUnit.SECONDS.toNanos(5));
                Natives.LIBC.close(fd);
            }
        }
    }

    /**
     * Waits for every thread; fails if no event arrived for {@link #STALL_GUARD_NANOS}.
     *
     * @return true once all have ended.
     */
    private boolean joinAll(final List<Thread> threads, final SysletContext ctx) throws InterruptedException
    {
        long lastReaped = -1;
        long lastProgress = System.nanoTime();
        for (final Thread thread : threads)
        {
            while (thread.isAlive())
            {
                thread.join(100);
                final long now = reaped.get();
                if (now != lastReaped)
                {
                    lastReaped = now;
                    lastProgress = System.nanoTime();
                }
                else if (System.nanoTime() - lastProgress > STALL_GUARD_NANOS)
                {
                    run.stop();
                    final RingReader ring = ctx.ring();
                    fail("no event for 60 s: " + now + " of " + total + " reaped; in flight " + ctx.inFlight() +
                        ", ring occupancy " + ring.occupancy() + ", overflow list " + ring.overflowSize() +
                        ", OVERFLOW flag " + ring.isOverflowPending() + "; " + thread.getName() + " still running");
                }
            }
        }
        return true;
    }

    private void printSummary(final long seed, final long elapsedNanos, final Submitter[] submitters,
        final GetEventsReaper[] callers, final RingReaper direct, final long directEvents)
    {
        long refused = 0;
        long preads = 0;
        for (final Submitter submitter : submitters)
        {
            refused += submitter.refusedAtLimit;
            preads += submitter.preads;
        }
        final long millis = TimeUnit.NANOSECONDS.toMillis(elapsedNanos);
        System.out.printf("EngineStressTest: %,d ops (%,d preads, seed %d) in %,d ms, %,d ops/s; %,d submits " +
            "refused at the in-flight limit; getEvents reapers %,d and %,d events; ring reaper poll %,d, read %,d, " +
            "getEvents %,d (%,d events); ring empty with OVERFLOW set %,d times%n",
            total, preads, seed, millis, total * 1_000_000_000L / Math.max(1, elapsedNanos), refused,
            callers[0].events, callers[1].events, direct.polled, direct.read, direct.viaGetEvents, directEvents,
            direct.emptyWithOverflow);
    }

    // ------------------------------------------------------------------------------------------------------------
    // What each cookie is
    // ------------------------------------------------------------------------------------------------------------

    private static long mix(final long value)
    {
        long h = (value + 0x9E37_79B9_7F4A_7C15L) * 0xBF58_476D_1CE4_E5B9L;
        h = (h ^ (h >>> 31)) * 0x94D0_49BB_1331_11EBL;
        return h ^ (h >>> 29);
    }

    static boolean isPread(final long cookie)
    {
        return (mix(cookie) & 1) != 0;
    }

    /** 1 .. {@link #MAX_PREAD} bytes. */
    static int preadCount(final long cookie)
    {
        return 1 + (int)((mix(cookie) >>> 8) % MAX_PREAD);
    }

    /** Where in the file; every pread lies wholly inside it. */
    static long preadOffset(final long cookie)
    {
        return (mix(cookie) >>> 24) % (FILE_BYTES - MAX_PREAD + 1);
    }

    private final class Submitter implements Runnable
    {
        private final SysletContext ctx;
        private final int fd;
        private final int buffer;
        private final int from;
        private final int to;
        private final SplittableRandom random;
        private final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            MAX_BATCH * IocbDescriptor.MIN_LENGTH, 64)));
        long refusedAtLimit;
        long preads;
        /** Submits after which the ring had events on its overflow list: the path this test is for. */
        long overflowSeen;

        Submitter(final SysletContext ctx, final int fd, final int buffer, final int from, final int to,
            final long seed)
        {
            this.ctx = ctx;
            this.fd = fd;
            this.buffer = buffer;
            this.from = from;
            this.to = to;
            this.random = new SplittableRandom(seed);
        }

        @Override
        public void run()
        {
            int next = from;
            while ((next < to || writer.count() > 0) && !run.stopped())
            {
                // Top the batch up to a random size; what the context did not accept stays in front.
                final int batch = 1 + random.nextInt(MAX_BATCH);
                while (writer.count() < batch && next < to)
                {
                    append(next++);
                }
                try
                {
                    writer.submitTo(ctx);
                    if (ctx.ring().isOverflowPending())
                    {
                        overflowSeen++;
                    }
                }
                catch (final AioException ex)
                {
                    assertEquals(Errno.EAGAIN, ex.errno(), ex.getMessage());
                    refusedAtLimit++;
                    Thread.yield();
                }
            }
        }

        private void append(final long cookie)
        {
            if (isPread(cookie))
            {
                final long destination = BufferRef.of(buffer, (cookie % DESTINATION_SLOTS) * MAX_PREAD);
                writer.pread(cookie, fd, destination, preadCount(cookie), preadOffset(cookie));
                preads++;
            }
            else
            {
                writer.nop(cookie);
            }
        }
    }

    /** Checks and counts the events a reaper took. */
    private abstract class Reaper implements Runnable
    {
        final SysletContext ctx;
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REAP_BYTES, 64));
        private final EventCursor cursor = new EventCursor();

        Reaper(final SysletContext ctx)
        {
            this.ctx = ctx;
        }

        boolean done()
        {
            return reaped.get() >= total || run.stopped();
        }

        /**
         * @return events among the records copied into {@link #dst}.
         */
        int take(final int bytes)
        {
            int events = 0;
            cursor.wrap(dst, 0, bytes);
            while (cursor.next())
            {
                check(cursor.event());
                events++;
            }
            if (events > 0)
            {
                reaped.addAndGet(events);
            }
            return events;
        }

        private void check(final Event event)
        {
            final long cookie = event.cookie();
            if (cookie < 0 || cookie >= total)
            {
                fail("event with a cookie no op had: " + event);
            }
            if (seen.getAndIncrement((int)cookie) != 0)
            {
                fail("second event for cookie " + cookie + ": " + event);
            }
            final boolean pread = isPread(cookie);
            final long res = pread ? preadCount(cookie) : 0;
            if (event.opcode() != (pread ? Opcode.PREAD : Opcode.NOP) || event.res() != res ||
                (event.flags() & EventDescriptor.FLAG_CANCELED) != 0)
            {
                fail("wrong event for " + (pread ? "a pread of " + preadCount(cookie) + " bytes" : "a nop") + ": " +
                    event);
            }
        }
    }

    private final class GetEventsReaper extends Reaper
    {
        long events;

        GetEventsReaper(final SysletContext ctx)
        {
            super(ctx);
        }

        @Override
        public void run()
        {
            while (!done())
            {
                events += take(ctx.getEvents(dst, 0, REAP_BYTES, 1, GET_EVENTS_WAIT_NANOS));
            }
        }
    }

    /** Reaps from the ring itself, as a reader that makes no calls into the engine would, except to flush. */
    private final class RingReaper extends Reaper
    {
        private final SplittableRandom random;
        long polled;
        long read;
        long viaGetEvents;
        long emptyWithOverflow;

        RingReaper(final SysletContext ctx, final long seed)
        {
            super(ctx);
            this.random = new SplittableRandom(seed);
        }

        @Override
        public void run()
        {
            final RingReader ring = ctx.ring();
            final int maxRecord = ring.maxRecordLength();
            while (!done())
            {
                final int bytes;
                if (random.nextBoolean())
                {
                    bytes = ring.poll(dst, 0);
                    polled += take(bytes);
                }
                else
                {
                    bytes = ring.read(dst, 0, maxRecord + random.nextInt(REAP_BYTES - maxRecord + 1));
                    read += take(bytes);
                }
                if (bytes == 0)
                {
                    if (ring.isOverflowPending())
                    {
                        // Empty ring, entries on the overflow list: they reach the ring only by a flush.
                        emptyWithOverflow++;
                        if (random.nextBoolean())
                        {
                            viaGetEvents += take(ctx.getEvents(dst, 0, REAP_BYTES, 0, 0));
                        }
                        else
                        {
                            ring.flush();
                        }
                    }
                    else
                    {
                        Thread.yield();
                    }
                }
            }
        }
    }
}
