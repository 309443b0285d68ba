package io.syslet.tests.engine;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Cancels racing with the workers that take ops off their queues, with the ops' ends and with submits that
 * reuse the slots: the windows a cancel must get right (QUEUED to RUNNING, RUNNING to DONE, a slot freed and
 * claimed by the next op with another cookie) are hit by chance, tens of thousands of times a run.
 *
 * <p>One thread submits {@value #OPS} ops, each with its own cookie: NOPs, cached preads (bounded class, not
 * interruptible) and {@value #SLEEP_NANOS} ns sleeps (unbounded class, interruptible), through few workers and a
 * small in-flight limit, so ops wait in the queues. Another cancels cookies just submitted, each at most once,
 * and records what cancel answered. A third reaps. Then every op has exactly one event, and its result agrees
 * with the answer its cancel got:
 * <ul>
 *   <li>CANCELED: the event is -ECANCELED with the CANCELED flag;</li>
 *   <li>NOT_FOUND: the op had ended (or not yet been seen): its own result, never -ECANCELED;</li>
 *   <li>RUNNING_MAY_NOT_TERMINATE: its own result, or -ECANCELED for a sleep the signal reached late;</li>
 *   <li>no cancel: its own result.</li>
 * </ul>
 * Afterwards nothing is in flight, nothing is left to reap, and the whole in-flight limit can be submitted
 * again and completes: slots that cancels never freed would show there, once more of them leaked than the
 * spare slots beyond the limit hide.
 */
final class CancelRaceStressTest
{
    private static final int OPS = 60_000;
    private static final int MAX_IN_FLIGHT = 48;
    private static final long SLEEP_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
    private static final int PREAD_BYTES = 512;
    private static final int KINDS = 3;
    private static final int NOP = 0;
    private static final int PREAD = 1;
    private static final int SLEEP = 2;
    /** How far back from the last submitted cookie the canceller picks. */
    private static final int CANCEL_WINDOW = 64;
    private static final int NOT_CANCELLED = Integer.MIN_VALUE;
    private static final int REAP_BYTES = 64 * 1024;
    /** Not a timing assertion: turns a hang into a failure that says where. */
    private static final long STALL_GUARD_NANOS = TimeUnit.SECONDS.toNanos(60);

    @TempDir
    Path directory;

    private final StopOnFailure run = new StopOnFailure();
    private final AtomicIntegerArray seen = new AtomicIntegerArray(OPS);
    private final AtomicLongArray results = new AtomicLongArray(OPS);
    private final AtomicIntegerArray eventFlags = new AtomicIntegerArray(OPS);
    private final AtomicIntegerArray cancelAnswers = new AtomicIntegerArray(OPS);
    private volatile int submitted;
    private volatile int reaped;

    @Test
    void everyOpEndsOnceAsItsCancelAnswerSays() throws Exception
    {
        for (int cookie = 0; cookie < OPS; cookie++)
        {
            cancelAnswers.set(cookie, NOT_CANCELLED);
        }
        // In the page cache: the preads end on their own, quickly.
        final int fd = EngineTests.openCachedFile(directory.resolve("data"), 64 * 1024, 7);
        final long seed = System.nanoTime();
        // No immediate path: a cached pread would complete inside submit, where no cancel can reach it.
        final SysletContext ctx = SysletContext.setup(new SetupParams().flags(SetupParams.FLAG_NO_IMMEDIATE)
            .boundedWorkers(2).unboundedWorkers(2).maxInFlight(MAX_IN_FLIGHT));
        try
        {
            final int buffer = ctx.registerBuffer(
                new UnsafeBuffer(BufferUtil.allocateDirectAligned(MAX_IN_FLIGHT * 2 * PREAD_BYTES, 4096)));
            final Thread reaper = run.thread("cancel-race-reaper", () -> reap(ctx));
            final Thread canceller = run.thread("cancel-race-canceller", () -> cancel(ctx, new SplittableRandom(seed)));
            reaper.start();
            canceller.start();
            submitAll(ctx, fd, buffer, new SplittableRandom(~seed));
            final long deadline = System.nanoTime() + STALL_GUARD_NANOS;
            while (reaped < OPS && run.failure() == null)
            {
                assertTrue(System.nanoTime() - deadline < 0, "seed " + seed + ": " + reaped + " of " + OPS +
                    " events after 60 s; in flight " + ctx.inFlight());
                Thread.sleep(1);
            }
            run.stop();
            reaper.join();
            canceller.join();
            if (run.failure() != null)
            {
                throw new AssertionError("seed " + seed + ": " + run.failure().getMessage(), run.failure());
            }

            final int[] answered = checkEveryOp(seed);
            System.out.printf("cancel race: %d ops, cancels answered CANCELED %d, RUNNING_MAY_NOT_TERMINATE %d, " +
                "NOT_FOUND %d (seed %d)%n", OPS, answered[0], answered[1], answered[2], seed);
            // Without cancels that found their op, the run tested nothing.
            assertTrue(answered[0] > 0, "no cancel found an op in flight");

            EngineTests.awaitNothingInFlight(ctx, deadline);
            assertEverySlotFree(ctx);
        }
        finally
        {
            run.stop();
            ctx.destroy(TimeUnit.SECONDS.toNanos(5));
            Natives.LIBC.close(fd);
        }
    }

    private void submitAll(final SysletContext ctx, final int fd, final int buffer, final SplittableRandom random)
    {
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(16 * 1024, 64)));
        int next = 0;
        while (next < OPS && run.failure() == null)
        {
            final int batch = Math.min(OPS - next, 1 + random.nextInt(16));
            for (int i = 0; i < batch; i++)
            {
                final int cookie = next + i;
                switch (cookie % KINDS)
                {
                    case NOP:
                        writer.nop(cookie);
                        break;
                    case PREAD:
                        writer.pread(cookie, fd, BufferRef.of(buffer, (long)(cookie % (2 * MAX_IN_FLIGHT)) * PREAD_BYTES),
                            PREAD_BYTES, (long)(cookie % 64) * PREAD_BYTES);
                        break;
                    default:
                        writer.nanosleep(cookie, SLEEP_NANOS);
                }
            }
            final long deadline = System.nanoTime() + STALL_GUARD_NANOS;
            while (writer.count() > 0 && run.failure() == null)
            {
                assertTrue(System.nanoTime() - deadline < 0, "no submit accepted for 60 s at cookie " + next +
                    "; in flight " + ctx.inFlight() + ", " + reaped + " events reaped");
                try
                {
                    next += writer.submitTo(ctx);
                }
                catch (final AioException e)
                {
                    assertEquals(Errno.EAGAIN, e.errno(), e.getMessage());
                }
                submitted = next;
                if (writer.count() > 0)
                {
                    Thread.yield(); // at the limit: the reaper frees room
                }
            }
        }
    }

    private void cancel(final AioContext ctx, final SplittableRandom random)
    {
        while (!run.stopped())
        {
            final int last = submitted;
            if (last == 0)
            {
                Thread.onSpinWait();
                continue;
            }
            final int cookie = Math.max(0, last - 1 - random.nextInt(CANCEL_WINDOW));
            // Each cookie once: two answers for one op could not both be checked against its one event.
            if (cancelAnswers.compareAndSet(cookie, NOT_CANCELLED, NOT_CANCELLED + 1))
            {
                cancelAnswers.set(cookie, ctx.cancel(cookie));
            }
        }
    }

    private void reap(final AioContext ctx)
    {
        final UnsafeBuffer events = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REAP_BYTES, 64));
        final EventCursor cursor = new EventCursor();
        while (!run.stopped())
        {
            final int bytes = ctx.getEvents(events, 0, REAP_BYTES, 1, TimeUnit.MILLISECONDS.toNanos(10));
            cursor.wrap(events, 0, bytes);
            int count = 0;
            while (cursor.next())
            {
                final Event event = cursor.event();
                final long cookie = event.cookie();
                if (cookie < 0 || cookie >= OPS)
                {
                    throw new AssertionError("event with cookie " + cookie + ", which no op had: " + event);
                }
                final int index = (int)cookie;
                if (seen.incrementAndGet(index) != 1)
                {
                    throw new AssertionError("second event for cookie " + cookie + ": " + event);
                }
                results.set(index, event.res());
                eventFlags.set(index, event.flags());
                count++;
            }
            reaped = reaped + count; // one reaper: a plain sum, published by the volatile write
        }
    }

    /**
     * @return how many cancels answered CANCELED, RUNNING_MAY_NOT_TERMINATE and NOT_FOUND.
     */
    private int[] checkEveryOp(final long seed)
    {
        final int[] answered = new int[3];
        for (int cookie = 0; cookie < OPS; cookie++)
        {
            if (seen.get(cookie) != 1)
            {
                fail("seed " + seed + ": cookie " + cookie + " has " + seen.get(cookie) + " events");
            }
            final long res = results.get(cookie);
            final boolean cancelledFlag = (eventFlags.get(cookie) & EventDescriptor.FLAG_CANCELED) != 0;
            final int answer = cancelAnswers.get(cookie);
            final long own = cookie % KINDS == PREAD ? PREAD_BYTES : 0;
            final String what = "seed " + seed + ": cookie " + cookie + " (kind " + cookie % KINDS + "), cancel answer " +
                answer + ", event res " + res + ", CANCELED flag " + cancelledFlag;
            assertEquals(res == -Errno.ECANCELED, cancelledFlag, what);
            switch (answer)
            {
                case AioContext.CANCELED:
                    answered[0]++;
                    assertEquals(-Errno.ECANCELED, res, what);
                    break;
                case AioContext.RUNNING_MAY_NOT_TERMINATE:
                    answered[1]++;
                    assertTrue(res == own || (res == -Errno.ECANCELED && cookie % KINDS == SLEEP), what);
                    break;
                case AioContext.NOT_FOUND:
                    answered[2]++;
                    assertEquals(own, res, what);
                    break;
                case NOT_CANCELLED:
                    assertEquals(own, res, what);
                    break;
                default:
                    fail(what + ": not an answer cancel gives");
            }
        }
        return answered;
    }

    private static void assertEverySlotFree(final SysletContext ctx)
    {
        final UnsafeBuffer events = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REAP_BYTES, 64));
        assertEquals(0, ctx.getEvents(events, 0, REAP_BYTES, 0, 0), "an event beyond one per op");
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(16 * 1024, 64)));
        for (int i = 0; i < MAX_IN_FLIGHT; i++)
        {
            writer.nop(OPS + i);
        }
        // A slot whose op was cancelled in a queue comes back when a worker takes it off: that may lag a moment.
        final long deadline = System.nanoTime() + STALL_GUARD_NANOS;
        while (writer.count() > 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, writer.count() + " of the whole in-flight limit (" +
                MAX_IN_FLIGHT + ") not accepted for 60 s: request slots leaked");
            try
            {
                writer.submitTo(ctx);
            }
            catch (final AioException e)
            {
                assertEquals(Errno.EAGAIN, e.errno(), e.getMessage());
            }
            Thread.yield();
        }
        final boolean[] seen = new boolean[MAX_IN_FLIGHT];
        final EventCursor cursor = new EventCursor();
        int count = 0;
        while (count < MAX_IN_FLIGHT && System.nanoTime() - deadline < 0)
        {
            cursor.wrap(events, 0, ctx.getEvents(events, 0, REAP_BYTES, 1, TimeUnit.MILLISECONDS.toNanos(100)));
            while (cursor.next())
            {
                final Event event = cursor.event();
                final long index = event.cookie() - OPS;
                assertTrue(index >= 0 && index < MAX_IN_FLIGHT && !seen[(int)index] && event.res() == 0,
                    event.toString());
                seen[(int)index] = true;
                count++;
            }
        }
        assertEquals(MAX_IN_FLIGHT, count, "events of the final submit");
    }
}
