package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.NetTestSupport.Memory;
import io.syslet.pool.NetTestSupport.Reaper;
import io.syslet.pool.natives.Natives;
import io.syslet.ring.RingReader;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import static io.syslet.pool.NetTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * destroy with a full house: what it cancels, what it waits for, and that nothing of the context is left
 * afterwards (threads, fds) while every later call is refused with EBADF.
 */
class DestroyTest
{
    private static final long DESTROY_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int OPENS = 2;
    private static final int PREADS = 50;
    private static final int READS = 100;
    private static final int SLEEPS = 24;
    private static final int CALLABLES = 24;
    private static final int CALLER_THREADS = 4;
    private static final long OPEN_COOKIE = 1;
    private static final long PREAD_COOKIE = 100;
    private static final long READ_COOKIE = 200;
    private static final long SLEEP_COOKIE = 300;
    private static final long CALLABLE_COOKIE = 400;
    private static final int PATH_AT = 0;
    private static final int DATA_AT = 4096;

    @TempDir
    Path dir;

    /**
     * Two bounded workers are stuck opening a FIFO (an open that no signal cancels here), so 50 preads
     * wait in the queue behind them; 100 pipe reads, 24 sleeps and 24 sleeping callables block on the
     * unbounded class. destroy must cancel the 198 it can at once; a watcher that sees all 198 events in
     * the ring then lets the FIFO opens finish, and destroy, which waits for them, frees everything.
     */
    @Test
    void destroyUnderLoadCancelsWaitsAndLeavesNothing() throws Exception
    {
        final Path fifo = dir.resolve("fifo");
        assertEquals(0, TEST_LIBC.mkfifo(fifo.toString(), 0600), "mkfifo: errno " + testErrno());
        final Path file = dir.resolve("data");
        Files.write(file, new byte[64 * 1024]);
        warmUp(file);
        final Map<Integer, String> fdsBefore = openFds();
        final Set<Thread> threadsBefore = sysletThreads();

        final int[] pipe = pipe();
        final int fileFd = TEST_LIBC.open(file.toString(), Natives.O_RDONLY | Natives.O_CLOEXEC, 0);
        assertTrue(fileFd >= 0, "open: errno " + testErrno());
        final SysletContext ctx = SysletContext.setup(new SetupParams().boundedWorkers(OPENS).unboundedWorkers(256));
        final Memory mem = new Memory(ctx, DATA_AT + PREADS * 1024);
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(256 * 80, 64)));
        final long path = mem.cString(PATH_AT, fifo.toString());
        final long pathAddress = mem.address(PATH_AT, 1);
        for (int i = 0; i < OPENS; i++)
        {
            writer.openat(OPEN_COOKIE + i, Natives.AT_FDCWD, path, Natives.O_RDONLY | Natives.O_CLOEXEC, 0);
        }
        assertEquals(OPENS, writer.submitTo(ctx));
        awaitWorkersInSyscall("openat of the FIFO", OPENS, args -> args[1] == pathAddress);
        for (int i = 0; i < PREADS; i++)
        {
            // Not the immediate path: these must queue behind the blocked bounded workers.
            writer.pread(PREAD_COOKIE + i, fileFd, mem.ref(DATA_AT + i * 1024, 1024), 1024, i * 1024L)
                .flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
        }
        for (int i = 0; i < READS; i++)
        {
            writer.read(READ_COOKIE + i, pipe[0], mem.ref(DATA_AT + i * 8, 8), 8);
        }
        for (int i = 0; i < SLEEPS; i++)
        {
            writer.nanosleep(SLEEP_COOKIE + i, TimeUnit.SECONDS.toNanos(60));
        }
        assertEquals(PREADS + READS + SLEEPS, writer.submitTo(ctx));
        for (int i = 0; i < CALLABLES; i++)
        {
            ctx.submitCallable(CALLABLE_COOKIE + i, () ->
            {
                Thread.sleep(60_000);
                return 1L;
            });
        }
        assertEquals(OPENS + PREADS + READS + SLEEPS + CALLABLES, ctx.inFlight());
        awaitWorkersInSyscall("read of the empty pipe", READS, args -> args[0] == pipe[0]);

        final FifoUnblocker unblocker = new FifoUnblocker(ctx.ring(), fifo, expectedCanceled());
        unblocker.start();
        final boolean freed = ctx.destroy(DESTROY_NANOS);
        unblocker.join(TimeUnit.NANOSECONDS.toMillis(PATIENCE_NANOS));
        assertFalse(unblocker.isAlive());
        assertNull(unblocker.failure, () -> "watcher failed: " + unblocker.failure);
        final int writerFd = unblocker.writerFd;
        final List<Integer> openedByEngine = openFds().entrySet().stream()
            .filter(e -> e.getValue().equals(fifo.toString()) && e.getKey() != writerFd && !fdsBefore.containsKey(e.getKey()))
            .map(Map.Entry::getKey).collect(Collectors.toList());
        try
        {
            assertTrue(freed, "destroy waited for the FIFO opens and freed everything");
            assertEquals(expectedCanceled(), unblocker.canceled.keySet(), "destroy cancels every op it can");
            unblocker.canceled.forEach((cookie, res) ->
                assertEquals(-Errno.ECANCELED, (long)res, "cookie " + cookie));
            assertEquals(OPENS, openedByEngine.size(), "the FIFO opens ran to the end: " + openedByEngine);
            assertTrue(threadsBefore.containsAll(sysletThreads()), "worker threads left: " + sysletThreads());
        }
        finally
        {
            openedByEngine.forEach(NetTestSupport::close);
            close(writerFd, fileFd);
            close(pipe);
        }
        assertEquals(fdsBefore, openFds(), "destroy closed the eventfd and left no fd behind");

        assertRefusedAfterDestroy(ctx, mem);
        assertTrue(ctx.destroy(DESTROY_NANOS), "destroy is idempotent");
        assertDoesNotThrow(ctx::close);
    }

    private static Set<Long> expectedCanceled()
    {
        final Set<Long> cookies = new HashSet<>();
        addRange(cookies, PREAD_COOKIE, PREADS);
        addRange(cookies, READ_COOKIE, READS);
        addRange(cookies, SLEEP_COOKIE, SLEEPS);
        addRange(cookies, CALLABLE_COOKIE, CALLABLES);
        return cookies;
    }

    private static void addRange(final Set<Long> cookies, final long first, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            cookies.add(first + i);
        }
    }

    /**
     * Reads the ring directly while destroy runs (getEvents is refused by then) until it has seen an event
     * for every op destroy can cancel, then opens the FIFO's write end so the blocked opens return. It
     * stops touching the ring before that: once the opens are done, destroy frees the ring.
     */
    private static final class FifoUnblocker extends Thread
    {
        private final RingReader ring;
        private final Path fifo;
        private final Set<Long> expected;
        final Map<Long, Long> canceled = new ConcurrentHashMap<>();
        volatile int writerFd = -1;
        volatile String failure;

        FifoUnblocker(final RingReader ring, final Path fifo, final Set<Long> expected)
        {
            super("destroy-test-watcher");
            this.ring = ring;
            this.fifo = fifo;
            this.expected = expected;
        }

        @Override
        public void run()
        {
            final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 64));
            final EventCursor cursor = new EventCursor();
            final long deadline = System.nanoTime() + TimeUnit.NANOSECONDS.convert(4, TimeUnit.SECONDS);
            try
            {
                while (!canceled.keySet().containsAll(expected) && System.nanoTime() - deadline < 0)
                {
                    final int bytes = ring.read(dst, 0, dst.capacity());
                    cursor.wrap(dst, 0, bytes);
                    while (cursor.next())
                    {
                        final Event event = cursor.event();
                        if (canceled.put(event.cookie(), event.res()) != null)
                        {
                            failure = "cookie " + event.cookie() + " delivered twice";
                        }
                    }
                    if (bytes == 0)
                    {
                        Thread.onSpinWait();
                    }
                }
                if (!canceled.keySet().containsAll(expected))
                {
                    failure = "destroy did not cancel " + expected.stream().filter(c -> !canceled.containsKey(c))
                        .sorted().collect(Collectors.toList());
                }
            }
            catch (final RuntimeException e)
            {
                failure = e.toString();
            }
            finally
            {
                // The opens block until a writer appears; non-blocking so this thread never hangs.
                writerFd = TEST_LIBC.open(fifo.toString(), Natives.O_WRONLY | Natives.O_NONBLOCK | Natives.O_CLOEXEC, 0);
                if (writerFd < 0 && failure == null)
                {
                    failure = "open of the FIFO's write end: errno " + testErrno();
                }
            }
        }
    }

    /**
     * A reaper waiting in getEvents does not hold destroy up, and gets an empty answer.
     */
    @Test
    void destroyReleasesAWaitingReaper() throws Exception
    {
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        final AtomicInteger got = new AtomicInteger(-1);
        final Thread waiter = new Thread(() -> got.set(ctx.getEvents(dst, 0, dst.capacity(), 1,
            TimeUnit.SECONDS.toNanos(60))), "destroy-test-reaper");
        waiter.start();
        awaitTrue("the reaper is waiting", () -> waiter.getState() == Thread.State.TIMED_WAITING);
        assertTrue(ctx.destroy(DESTROY_NANOS));
        waiter.join(TimeUnit.NANOSECONDS.toMillis(PATIENCE_NANOS));
        assertFalse(waiter.isAlive(), "getEvents still waits on a destroyed context");
        assertEquals(0, got.get(), "no events, and no error from the call that was already inside");
        assertBadF("getEvents", () -> ctx.getEvents(dst, 0, dst.capacity(), 1, 0));
    }

    /**
     * Threads that keep calling in (immediate preads of a cached file, each reaped at once) while destroy
     * runs: each call either completes or is refused with EBADF, never anything else, and none reads the
     * ring after destroy freed it (that would crash the JVM). Before that, 64 threads that each made one
     * call and ended: destroy does not wait for callers that are gone.
     */
    @Test
    void destroyRacesCallersWithoutLosingOrCrashing() throws Exception
    {
        final Path file = dir.resolve("cached");
        Files.write(file, new byte[4096]);
        final int fileFd = TEST_LIBC.open(file.toString(), Natives.O_RDONLY | Natives.O_CLOEXEC, 0);
        assertTrue(fileFd >= 0, "open: errno " + testErrno());
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        try
        {
            final Memory mem = new Memory(ctx, 4096 * CALLER_THREADS);
            final AtomicInteger completed = new AtomicInteger();
            for (int i = 0; i < 64; i++)
            {
                final Thread oneCall = new Thread(() -> ctx.stateToken(), "destroy-test-one-call-" + i);
                oneCall.start();
                oneCall.join();
            }
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final CountDownLatch running = new CountDownLatch(CALLER_THREADS);
            final Thread[] callers = new Thread[CALLER_THREADS];
            for (int t = 0; t < CALLER_THREADS; t++)
            {
                final long ref = mem.ref(4096 * t, 4096);
                callers[t] = new Thread(() -> callUntilRefused(ctx, fileFd, ref, running, completed, failure),
                    "destroy-test-caller-" + t);
                callers[t].start();
            }
            running.await();
            awaitTrue("callers complete reads", () -> completed.get() > 1000);
            assertTrue(ctx.destroy(DESTROY_NANOS), "destroy freed everything with callers racing it");
            for (final Thread caller : callers)
            {
                caller.join(TimeUnit.NANOSECONDS.toMillis(PATIENCE_NANOS));
                assertFalse(caller.isAlive(), caller.getName() + " still calls a destroyed context");
            }
            assertNull(failure.get(), () -> "a racing call failed other than with EBADF: " + failure.get());
        }
        finally
        {
            ctx.close();
            close(fileFd);
        }
    }

    private static void callUntilRefused(final SysletContext ctx, final int fd, final long ref,
        final CountDownLatch running, final AtomicInteger completed, final AtomicReference<Throwable> failure)
    {
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        final EventCursor cursor = new EventCursor();
        running.countDown();
        try
        {
            while (true)
            {
                writer.reset();
                writer.pread(1, fd, ref, 4096, 0);
                assertEquals(1, writer.submitTo(ctx));
                final int bytes = ctx.getEvents(dst, 0, dst.capacity(), 1, TimeUnit.SECONDS.toNanos(10));
                cursor.wrap(dst, 0, bytes);
                while (cursor.next())
                {
                    assertEquals(4096, cursor.event().res(), cursor.event().toString());
                    completed.incrementAndGet();
                }
            }
        }
        catch (final AioException e)
        {
            if (e.errno() != Errno.EBADF)
            {
                failure.compareAndSet(null, e);
            }
        }
        catch (final Throwable e)
        {
            failure.compareAndSet(null, e);
        }
    }

    private static void assertRefusedAfterDestroy(final AioContext ctx, final Memory mem)
    {
        final UnsafeBuffer iocbs = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        final IocbWriter writer = new IocbWriter(iocbs).nop(1);
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        assertBadF("submit", () -> ctx.submit(iocbs, 0, writer.length()));
        assertBadF("submitCallable", () -> ctx.submitCallable(2, () -> 0L));
        assertBadF("getEvents", () -> ctx.getEvents(dst, 0, dst.capacity(), 0, 0));
        assertBadF("getEvents with state", () -> ctx.getEvents(dst, 0, dst.capacity(), 0, 0, 0));
        assertBadF("stateToken", ctx::stateToken);
        assertBadF("cancel", () -> ctx.cancel(1));
        assertBadF("ring", ctx::ring);
        assertBadF("run", () -> ctx.run(iocbs, 0, dst, 0));
        assertBadF("registerBuffer", () -> ctx.registerBuffer(mem.buffer));
        assertBadF("eventFd", ctx::eventFd);
        assertBadF("notifications", () -> ctx.notifications(false));
        assertBadF("inFlight", ctx::inFlight);
        assertBadF("probe", ctx::probe);
    }

    /**
     * Runs each kind of op once in a throwaway context, so that the classes and lazily opened files they
     * need exist before the fd list is taken.
     */
    private void warmUp(final Path file)
    {
        final int[] pipe = pipe();
        final int fileFd = TEST_LIBC.open(file.toString(), Natives.O_RDONLY | Natives.O_CLOEXEC, 0);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final Memory mem = new Memory(ctx, 4096);
            final Reaper reaper = new Reaper(ctx);
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            writer.read(1, pipe[0], mem.ref(0, 8), 8).pread(2, fileFd, mem.ref(8, 8), 8, 0).nanosleep(3, 1000);
            assertEquals(3, writer.submitTo(ctx));
            ctx.submitCallable(4, () -> 4L);
            final Map<Long, Event> events = new HashMap<>(reaper.reap(3));
            assertEquals(AioContext.CANCELED, ctx.cancel(1));
            events.putAll(reaper.reap(1));
            final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
            assertEquals(0, ctx.ring().read(dst, 0, dst.capacity()));
            assertEquals(-Errno.ECANCELED, events.get(1L).res(), events.toString());
        }
        finally
        {
            close(fileFd);
            close(pipe);
        }
        openFds();
        sysletThreads();
    }

    /**
     * A destroy that has no time left still frees an idle context, and one that could not free a busy
     * context leaves the rest to a later destroy instead of leaking it.
     */
    @Test
    void destroyWithNoTimeLeftFreesWhatItCanAndALaterDestroyTheRest() throws Exception
    {
        final Map<Integer, String> fdsBefore = openFds();
        final Set<Thread> threadsBefore = sysletThreads();
        assertTrue(SysletContext.setup(new SetupParams()).destroy(0), "an idle context needs no time");
        assertEquals(fdsBefore, openFds(), "the idle context's eventfd is closed");

        final SysletContext ctx = SysletContext.setup(new SetupParams());
        final int[] pipe = pipe();
        try
        {
            final IocbWriter writer = oneByteRead(pipe[0], new Memory(ctx, 4096));
            assertEquals(1, writer.submitTo(ctx));
            awaitWorkerBlockedOn("read", pipe[0]);
            assertFalse(ctx.destroy(0), "a read blocked in a worker cannot be cancelled in no time");
            assertBadF("stateToken", ctx::stateToken);
            assertTrue(ctx.destroy(DESTROY_NANOS), "the second destroy cancels the read and frees everything");
            assertTrue(ctx.destroy(0), "once freed, destroy answers true at once");
        }
        finally
        {
            close(pipe);
        }
        awaitTrue("the workers are gone", () -> threadsBefore.containsAll(sysletThreads()));
        assertEquals(fdsBefore, openFds(), "both contexts' eventfds are closed");
    }

    /**
     * A thread blocked inside a synchronous {@code run()} keeps the context's memory in use: destroy must
     * not free it under that thread, and must not wait past its timeout for it either.
     */
    @Test
    void destroyDoesNotWaitPastItsTimeoutForACallerInsideRun() throws Exception
    {
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        final int[] pipe = pipe();
        try
        {
            final Memory mem = new Memory(ctx, 4096);
            final IocbWriter writer = oneByteRead(pipe[0], mem);
            final UnsafeBuffer event = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
            final AtomicInteger length = new AtomicInteger(-1);
            final Thread reader = new Thread(() -> length.set(ctx.run(writer.buffer(), 0, event, 0)), "syslet-test-run");
            reader.start();
            awaitWorkerBlockedOn("read", pipe[0]); // by its name, the caller counts as a worker there
            // Were destroy to wait for the caller, it would never return: nothing writes to the pipe yet.
            assertFalse(ctx.destroy(TimeUnit.MILLISECONDS.toNanos(100)), "destroy freed memory a caller still uses");
            mem.buffer.putByte(100, (byte)7);
            writeFully(pipe[1], mem, 100, 1);
            reader.join(TimeUnit.NANOSECONDS.toMillis(PATIENCE_NANOS));
            assertFalse(reader.isAlive(), "run() did not return after the write");
            assertTrue(length.get() > 0, "run() wrote no event");
            assertEquals(1, new Event().wrap(event, 0).res(), "the read run() was inside completed");
            assertTrue(ctx.destroy(DESTROY_NANOS), "with the caller out, destroy frees everything");
        }
        finally
        {
            close(pipe);
        }
    }

    /**
     * close() on a thread whose interrupt status is set (a finally block after shutdownNow, say) with nothing
     * in flight and only idle workers alive: nothing is busy, so destroy must free everything, and leave the
     * interrupt status as it found it. It gave up at its first wait for a worker thread to end (Thread.join
     * threw at once) and returned false, which close() ignores: the eventfd stayed open for good. The
     * factory's threads take a moment to end after the worker's code returns, so destroy always has one to
     * wait for (with the engine's own threads it mostly does too: a parked worker must first wake up).
     */
    @Test
    void destroyOnAnInterruptedThreadStillFreesAnIdleContext()
    {
        final Map<Integer, String> fdsBefore = openFds();
        final SysletContext ctx = SysletContext.setup(new SetupParams().idleTimeout(1, TimeUnit.MINUTES)
            .workerThreadFactory(worker -> new Thread(() ->
            {
                worker.run();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // an exit hook, say
            }, "syslet-test-lingering-worker")));
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
        writer.nop(1);
        writer.nanosleep(2, 1);
        assertEquals(2, writer.submitTo(ctx));
        SysletTestSupport.reap(ctx, 2);
        final boolean freed;
        Thread.currentThread().interrupt();
        try
        {
            freed = ctx.destroy(DESTROY_NANOS);
        }
        finally
        {
            assertTrue(Thread.interrupted(), "destroy kept the caller's interrupt status");
        }
        assertTrue(freed, "an idle context is freed whatever the caller's interrupt status");
        assertEquals(fdsBefore, openFds(), "the context's eventfd is closed");
    }

    /**
     * @return a writer holding one iocb, cookie 1: a read of one byte from {@code fd} into {@code mem}.
     */
    private static IocbWriter oneByteRead(final int fd, final Memory mem)
    {
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
        writer.read(1, fd, mem.ref(0, 1), 1);
        return writer;
    }
}
