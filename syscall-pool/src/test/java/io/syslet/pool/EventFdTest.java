package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.OwnerFlags;
import io.syslet.abi.SetupParams;
import io.syslet.pool.natives.Natives;
import io.syslet.ring.RingReader;
import io.syslet.ring.RingDescriptor;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.syslet.pool.SysletTestSupport.PATH_ROOM;
import static io.syslet.pool.SysletTestSupport.awaitInFlight;
import static io.syslet.pool.SysletTestSupport.closeViaEngine;
import static io.syslet.pool.SysletTestSupport.countEventFds;
import static io.syslet.pool.SysletTestSupport.directBuffer;
import static io.syslet.pool.SysletTestSupport.openViaEngine;
import static io.syslet.pool.SysletTestSupport.randomBytes;
import static io.syslet.pool.SysletTestSupport.reap;
import static io.syslet.pool.SysletTestSupport.reapOne;
import static io.syslet.pool.SysletTestSupport.reapReady;
import static io.syslet.pool.SysletTestSupport.submitAll;
import static io.syslet.pool.SysletTestSupport.writer;
import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The context's eventfd is a real eventfd(2): epoll sees it become readable when an event is
 * published where reapers stand (an event behind unreaped ones is found by whoever reaps those), unless
 * notification is switched off in the ring header.
 */
class EventFdTest
{
    private static final long SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int LONG_WAIT_MILLIS = 10_000;
    /** The one timed assertion here: how long "not signalled" is watched for. */
    private static final int QUIET_WAIT_MILLIS = 200;

    private final IocbWriter w = writer();

    @Test
    void aCompletionWakesEpollWaitOnTheEventfd() throws IOException
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int eventFd = ctx.eventFd();
            assertTrue(eventFd >= 0, "eventFd " + eventFd);
            assertEquals("anon_inode:[eventfd]", Files.readSymbolicLink(Path.of("/proc/self/fd/" + eventFd)).toString());
            try (Epoll epoll = new Epoll(eventFd))
            {
                w.nanosleep(1, SLEEP_NANOS);
                submitAll(w, ctx);
                assertEquals(1, epoll.await(LONG_WAIT_MILLIS));
                assertEquals(TestLibC.EPOLLIN, epoll.readyEvents() & TestLibC.EPOLLIN);
                // The engine publishes, then signals: whoever the eventfd wakes finds the event already there.
                final Map<Long, Event> ready = reapReady(ctx);
                assertEquals(0, ready.get(1L).res(), ready.toString());
                assertTrue(readCounter(eventFd) >= 1);
                assertEquals(-Errno.EAGAIN, readCounter(eventFd), "reading the counter resets it");
            }
        }
    }

    @Test
    void aBurstThatNobodyReapsSignalsOnceAndADrainedRingSignalsAgain()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int burst = 32;
            for (int i = 0; i < burst; i++)
            {
                w.nop(i);
            }
            submitAll(w, ctx);
            awaitInFlight(ctx, 0, "the burst");
            // Only the first event landed where reapers stand; the others lie behind it, unreaped.
            assertEquals(1, readCounter(ctx.eventFd()), "one signal for the burst");
            assertEquals(burst, reap(ctx, burst).size());

            w.nop(burst);
            submitAll(w, ctx);
            awaitInFlight(ctx, 0, "one more");
            assertEquals(1, readCounter(ctx.eventFd()), "the ring was drained: its next event signals");
            assertEquals(0, reapOne(ctx, burst).res());
        }
    }

    /**
     * An epoll loop that, after each wakeup, reads the eventfd and then reaps until getEvents finds
     * nothing, while another thread submits a mix that completes inline, on bounded workers and on
     * unbounded ones: it gets every event exactly once and never waits out its guard with events due.
     */
    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anEpollLoopThatDrainsAfterEveryWakeupGetsEveryEvent(@TempDir final Path dir) throws Exception
    {
        final int total = 30_000;
        final Path file = dir.resolve("cached");
        Files.write(file, randomBytes(1 << 16, 7));
        // The smallest ring: 64 events fit, so with 256 in flight the overflow list is in use too.
        try (SysletContext ctx = SysletContext.setup(new SetupParams().ringBytes(SetupParams.MIN_RING_BYTES)
                .maxInFlight(256));
            Epoll epoll = new Epoll(ctx.eventFd()))
        {
            final UnsafeBuffer mem = directBuffer(4096 + PATH_ROOM);
            final int buffer = ctx.registerBuffer(mem);
            final int fd = openViaEngine(ctx, w, mem, buffer, file, Natives.O_RDONLY);
            final BitSet seen = new BitSet(total);
            final AtomicReference<String> failure = new AtomicReference<>();
            final long[] signals = new long[1];
            final Thread reaper = new Thread(() ->
            {
                try
                {
                    reapAfterEveryWakeup(ctx, epoll, total, seen, failure, signals);
                }
                catch (final RuntimeException | AssertionError e)
                {
                    failure.compareAndSet(null, "the reaper failed: " + e);
                }
            }, "epoll-reaper");
            reaper.start();
            final SplittableRandom random = new SplittableRandom(11);
            int next = 0;
            while (next < total && failure.get() == null)
            {
                final int batch = Math.min(total - next, 1 + random.nextInt(48));
                for (int i = 0; i < batch; i++, next++)
                {
                    switch (next % 4)
                    {
                        case 0:
                            w.nop(next);
                            break;
                        case 1:
                            w.nanosleep(next, random.nextInt(20_000));
                            break;
                        case 2:
                            w.pread(next, fd, BufferRef.of(buffer, 0), 4096, 4096L * random.nextInt(16));
                            break;
                        default:
                            w.pread(next, fd, BufferRef.of(buffer, 0), 4096, 4096L * random.nextInt(16))
                                .flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
                            break;
                    }
                }
                while (w.count() > 0 && failure.get() == null)
                {
                    try
                    {
                        w.submitTo(ctx);
                    }
                    catch (final AioException e)
                    {
                        assertEquals(Errno.EAGAIN, e.errno(), e.getMessage());
                        Thread.yield(); // at the in-flight limit: the reaper frees places
                    }
                }
            }
            w.reset();
            reaper.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(reaper.isAlive(), "the reaper did not finish");
            assertNull(failure.get());
            assertEquals(total, seen.cardinality());
            // The open before the loop signalled once too.
            assertTrue(signals[0] >= 1 && signals[0] <= total + 1, "signals " + signals[0]);
            closeViaEngine(ctx, w, fd);
        }
    }

    /**
     * The epoll loop: waits, reads the eventfd, reaps until getEvents finds nothing.
     */
    private static void reapAfterEveryWakeup(final SysletContext ctx, final Epoll epoll, final int total,
        final BitSet seen, final AtomicReference<String> failure, final long[] signals)
    {
        final UnsafeBuffer dst = directBuffer(1 << 16);
        final EventCursor cursor = new EventCursor();
        int received = 0;
        while (received < total && failure.get() == null)
        {
            if (epoll.await(LONG_WAIT_MILLIS) == 0)
            {
                failure.set("epoll_wait saw no signal for " + LONG_WAIT_MILLIS + " ms with " +
                    (total - received) + " events due: a lost wakeup");
                return;
            }
            final long counter = readCounter(ctx.eventFd());
            signals[0] += Math.max(0, counter);
            int bytes;
            while ((bytes = ctx.getEvents(dst, 0, dst.capacity(), 0, 0)) > 0)
            {
                cursor.wrap(dst, 0, bytes);
                while (cursor.next())
                {
                    final Event event = cursor.event();
                    final int cookie = (int)event.cookie();
                    if (seen.get(cookie) || event.res() < 0)
                    {
                        failure.compareAndSet(null, "cookie " + cookie + " twice or failed: " + event);
                    }
                    seen.set(cookie);
                    received++;
                }
            }
        }
    }

    /**
     * After destroy the ring stays readable through {@link SysletContext#ring()}, and a reaper's flush of
     * its overflow list commits events where reapers stand; the eventfd is closed by then, and its number
     * may belong to another file. Here a pipe takes that number: nothing must be written into it.
     */
    @Test
    void afterDestroyFlushingTheRingWritesNothingToTheEventfdsOldNumber()
    {
        final SysletContext ctx = SysletContext.setup(new SetupParams().ringBytes(SetupParams.MIN_RING_BYTES));
        final int eventFd = ctx.eventFd();
        final int ops = 150;
        for (int i = 0; i < ops; i++)
        {
            w.nop(i);
        }
        submitAll(w, ctx);
        final RingReader ring = ctx.ring();
        // Nobody reaps: 64 events fill the ring, the rest wait on the overflow list, still counted in flight.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ctx.inFlight() != ring.overflowSize() || ring.overflowSize() == 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, "events never settled: in flight " + ctx.inFlight() +
                ", on the overflow list " + ring.overflowSize());
            Thread.yield();
        }
        // Made while the eventfd is open, so that neither end takes its number when destroy frees it.
        final int[] pipe = new int[2];
        assertEquals(0, LIBC.pipe2(pipe, Natives.O_NONBLOCK | Natives.O_CLOEXEC), "pipe2");
        try
        {
            assertTrue(ctx.destroy(TimeUnit.SECONDS.toNanos(10)));
            assertEquals(eventFd, TestLibC.LIBC.dup2(pipe[1], eventFd), "the pipe takes the eventfd's old number");
            final UnsafeBuffer dst = directBuffer(1 << 16);
            final EventCursor cursor = new EventCursor();
            int events = 0;
            int bytes;
            while ((bytes = ring.read(dst, 0, dst.capacity())) > 0 || ring.isOverflowPending())
            {
                if (bytes == 0)
                {
                    ring.flush();
                }
                cursor.wrap(dst, 0, bytes);
                while (cursor.next())
                {
                    events++;
                }
            }
            assertEquals(ops, events, "every event, the flushed ones included");
            assertEquals(-Errno.EAGAIN, readCounter(pipe[0]), "something wrote into the pipe");
        }
        finally
        {
            LIBC.close(pipe[0]);
            LIBC.close(pipe[1]);
            LIBC.close(eventFd);
        }
    }

    @Test
    void withNotificationsOffTheEventfdStaysQuietUntilTheyAreBackOn()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            Epoll epoll = new Epoll(ctx.eventFd()))
        {
            ctx.notifications(false);
            assertEquals(OwnerFlags.NOTIFY_DISABLED, ownerFlags(ctx) & OwnerFlags.NOTIFY_DISABLED);
            w.nanosleep(1, SLEEP_NANOS);
            submitAll(w, ctx);
            assertEquals(0, reapOne(ctx, 1).res());
            assertEquals(0, epoll.await(QUIET_WAIT_MILLIS), "the eventfd was signalled with notifications off");
            assertEquals(-Errno.EAGAIN, readCounter(ctx.eventFd()));

            ctx.notifications(true);
            assertEquals(0, ownerFlags(ctx) & OwnerFlags.NOTIFY_DISABLED);
            w.nop(2);
            submitAll(w, ctx);
            assertEquals(1, epoll.await(LONG_WAIT_MILLIS));
            assertEquals(0, reapOne(ctx, 2).res());
            assertTrue(readCounter(ctx.eventFd()) >= 1);
        }
    }

    /**
     * docs/ABI.md: any process that maps the ring may set or clear NOTIFY_DISABLED in the header's owner_flags,
     * and the engine reads the bit before every signal. So a reader that sets it in the header itself, without
     * {@link SysletContext#notifications}, silences the eventfd too, and clearing it turns signalling back on.
     */
    @Test
    void aReaderThatFlipsTheHeaderBitItselfSilencesTheEventfd()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            Epoll epoll = new Epoll(ctx.eventFd()))
        {
            final org.agrona.concurrent.AtomicBuffer header = ctx.ring().buffer();
            final int flags = header.getIntVolatile(RingDescriptor.OWNER_FLAGS_OFFSET);
            assertTrue(header.compareAndSetInt(RingDescriptor.OWNER_FLAGS_OFFSET, flags,
                flags | OwnerFlags.NOTIFY_DISABLED));
            w.nanosleep(1, SLEEP_NANOS);
            submitAll(w, ctx);
            assertEquals(0, reapOne(ctx, 1).res());
            assertEquals(0, epoll.await(QUIET_WAIT_MILLIS), "the eventfd was signalled with the header bit set");
            assertEquals(-Errno.EAGAIN, readCounter(ctx.eventFd()));

            final int disabled = header.getIntVolatile(RingDescriptor.OWNER_FLAGS_OFFSET);
            assertTrue(header.compareAndSetInt(RingDescriptor.OWNER_FLAGS_OFFSET, disabled,
                disabled & ~OwnerFlags.NOTIFY_DISABLED));
            w.nanosleep(2, SLEEP_NANOS);
            submitAll(w, ctx);
            assertEquals(1, epoll.await(LONG_WAIT_MILLIS), "the header bit cleared, signalling is back");
            assertEquals(0, reapOne(ctx, 2).res());
            assertTrue(readCounter(ctx.eventFd()) >= 1);
        }
    }

    @Test
    void withNoEventfdFlagThereIsNoneAndOpsStillComplete()
    {
        final long eventFdsBefore = countEventFds();
        try (SysletContext ctx = SysletContext.setup(new SetupParams().flags(SetupParams.FLAG_NO_EVENTFD)))
        {
            assertEquals(-1, ctx.eventFd());
            assertEquals(eventFdsBefore, countEventFds(), "an eventfd was created anyway");
            w.nop(1);
            submitAll(w, ctx);
            assertEquals(0, reapOne(ctx, 1).res());
        }
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            assertNotEquals(-1, ctx.eventFd());
            assertEquals(eventFdsBefore + 1, countEventFds(), "the count above can see an eventfd");
        }
    }

    private static int ownerFlags(final SysletContext ctx)
    {
        return ctx.ring().buffer().getIntVolatile(RingDescriptor.OWNER_FLAGS_OFFSET);
    }

    /**
     * @return the eventfd's 8-byte counter (which reading resets), or a negated errno.
     */
    private static long readCounter(final int eventFd)
    {
        final UnsafeBuffer counter = directBuffer(8);
        final long res = Natives.result(LIBC.read(eventFd, counter.addressOffset(), 8));
        return res < 0 ? res : counter.getLong(0);
    }

    /** An epoll instance watching one fd for EPOLLIN. */
    private static final class Epoll implements AutoCloseable
    {
        private final int epfd;
        private final UnsafeBuffer events = directBuffer(TestLibC.EPOLL_EVENT_ROOM);

        Epoll(final int fd)
        {
            epfd = TestLibC.LIBC.epoll_create1(TestLibC.EPOLL_CLOEXEC);
            assertTrue(epfd >= 0, "epoll_create1: " + Natives.lastError());
            final UnsafeBuffer event = directBuffer(TestLibC.EPOLL_EVENT_ROOM);
            event.putInt(0, TestLibC.EPOLLIN);
            assertEquals(0, TestLibC.LIBC.epoll_ctl(epfd, TestLibC.EPOLL_CTL_ADD, fd, event.addressOffset()),
                "epoll_ctl");
        }

        /**
         * @return fds ready (0 or 1), retrying a wait that a signal cut short.
         */
        int await(final int timeoutMillis)
        {
            while (true)
            {
                final long ready = Natives.result(TestLibC.LIBC.epoll_wait(epfd, events.addressOffset(), 1, timeoutMillis));
                if (ready != -Errno.EINTR)
                {
                    assertTrue(ready >= 0, "epoll_wait: " + Errno.name(ready));
                    return (int)ready;
                }
            }
        }

        int readyEvents()
        {
            return events.getInt(0);
        }

        @Override
        public void close()
        {
            LIBC.close(epfd);
        }
    }
}
