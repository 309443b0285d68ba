package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.IovDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletTestSupport.Pipe;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static io.syslet.pool.SysletTestSupport.PATIENCE_NANOS;
import static io.syslet.pool.SysletTestSupport.UNBOUNDED_WORKER_COMM;
import static io.syslet.pool.SysletTestSupport.assertAioException;
import static io.syslet.pool.SysletTestSupport.assertNoEventReady;
import static io.syslet.pool.SysletTestSupport.awaitThreadBlockedIn;
import static io.syslet.pool.SysletTestSupport.bytes;
import static io.syslet.pool.SysletTestSupport.directBuffer;
import static io.syslet.pool.SysletTestSupport.putPath;
import static io.syslet.pool.SysletTestSupport.randomBytes;
import static io.syslet.pool.SysletTestSupport.reap;
import static io.syslet.pool.SysletTestSupport.reapOne;
import static io.syslet.pool.SysletTestSupport.submitAll;
import static io.syslet.pool.SysletTestSupport.writeFully;
import static io.syslet.pool.SysletTestSupport.writer;
import static io.syslet.pool.natives.Natives.AT_FDCWD;
import static io.syslet.pool.natives.Natives.LIBC;
import static io.syslet.pool.natives.Natives.O_CLOEXEC;
import static io.syslet.pool.natives.Natives.O_RDONLY;
import static io.syslet.pool.natives.Natives.O_WRONLY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code unregisterBuffer}: after it returns no op touches the buffer; ops that name the index fail with -EFAULT,
 * as for an index never registered; an op that was already using the buffer is waited for (or, at the timeout,
 * EBUSY), never cut off; the index is reused; the context lets go of the buffer. Against the real kernel: "an
 * op is using the buffer" is a pipe read that /proc shows blocked in read(2), never a guess from a sleep.
 */
class UnregisterBufferTest
{
    private static final byte UNTOUCHED = (byte)0x55;
    private static final int PAGE = 4096;
    private static final long LONG_WAIT_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** The racing reads' size: a copy long enough (some us) that an unregister often lands in the middle of one. */
    private static final int RACE_READ = 16 * PAGE;

    /** On /var/tmp, as AttributesTest: a file system that answers RWF_NOWAIT, so preads take the immediate path. */
    private Path dir;
    private Path file;
    private byte[] data;
    private int fd = -1;
    private int devNull = -1;
    private final IocbWriter w = writer();
    private long nextCookie = 1000;

    @BeforeEach
    void makeFile() throws IOException
    {
        dir = Files.createTempDirectory(Path.of("/var/tmp"), "syslet-unreg");
        file = dir.resolve("data");
        data = randomBytes(RACE_READ, 7);
        for (int i = 0; i < data.length; i++)
        {
            data[i] = data[i] == UNTOUCHED ? 0 : data[i]; // so that "untouched" can never be read from the file
        }
        Files.write(file, data); // written through the page cache, so it is cached now
        fd = LIBC.open(file.toString(), O_RDONLY | O_CLOEXEC);
        assertTrue(fd >= 0, "open " + file);
        devNull = LIBC.open("/dev/null", O_WRONLY | O_CLOEXEC);
        assertTrue(devNull >= 0, "open /dev/null");
    }

    @AfterEach
    void removeFile() throws IOException
    {
        LIBC.close(fd);
        LIBC.close(devNull);
        try (Stream<Path> paths = Files.walk(dir))
        {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }

    private static UnsafeBuffer untouched(final int bytes)
    {
        final UnsafeBuffer buffer = directBuffer(bytes);
        buffer.setMemory(0, bytes, UNTOUCHED);
        return buffer;
    }

    private static void assertUntouched(final UnsafeBuffer buffer, final String what)
    {
        for (int i = 0; i < buffer.capacity(); i++)
        {
            if (buffer.getByte(i) != UNTOUCHED)
            {
                fail(what + ": byte " + i + " of the unregistered buffer was written");
            }
        }
    }

    private Event preadInto(final SysletContext ctx, final int index, final int count)
    {
        final long cookie = nextCookie++;
        w.pread(cookie, fd, BufferRef.of(index, 0), count, 0);
        submitAll(w, ctx);
        return reapOne(ctx, cookie);
    }

    /**
     * @return true once a 1-byte write to /dev/null from {@code index} fails with -EFAULT: the index is retired. It
     * only reads the buffer.
     */
    private boolean retired(final SysletContext ctx, final int index)
    {
        final long cookie = nextCookie++;
        w.write(cookie, devNull, BufferRef.of(index, 0), 1);
        submitAll(w, ctx);
        final long res = reapOne(ctx, cookie).res();
        assertTrue(res == 1 || res == -Errno.EFAULT, "a write to /dev/null answered " + Errno.name(res));
        return res == -Errno.EFAULT;
    }

    /**
     * Waits until an unregister running on {@code unregistering} has retired {@code index}, then until that thread
     * parks (its wait for the ops using the buffer) or ends.
     */
    private void awaitUnregisterWaiting(final SysletContext ctx, final int index, final Thread unregistering)
    {
        final long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (!retired(ctx, index))
        {
            assertTrue(System.nanoTime() - deadline < 0, "the unregister never retired index " + index);
            Thread.yield();
        }
        Thread.State state;
        while ((state = unregistering.getState()) != Thread.State.TIMED_WAITING && state != Thread.State.TERMINATED)
        {
            assertTrue(System.nanoTime() - deadline < 0, "the unregister thread stayed " + state);
            Thread.yield();
        }
    }

    private static void join(final Thread thread) throws InterruptedException
    {
        thread.join(TimeUnit.NANOSECONDS.toMillis(PATIENCE_NANOS));
        assertFalse(thread.isAlive(), thread.getName() + " did not end within 10 s");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Ops after unregister
    // ------------------------------------------------------------------------------------------------------------

    /**
     * On the immediate path (the pread resolves its buffer on the submitting thread, inside submit) and on a
     * worker: the same -EFAULT as an index never registered, and not a byte written.
     */
    @ParameterizedTest(name = "immediate path {0}")
    @ValueSource(booleans = {true, false})
    void aPreadAfterUnregisterCompletesWithEfaultAndDoesNotWriteTheBuffer(final boolean immediate)
    {
        final SetupParams params = new SetupParams().flags(immediate ? 0 : SetupParams.FLAG_NO_IMMEDIATE);
        try (SysletContext ctx = SysletContext.setup(params))
        {
            final UnsafeBuffer gone = untouched(2 * PAGE);
            final UnsafeBuffer kept = untouched(2 * PAGE);
            final int a = ctx.registerBuffer(gone);
            final int b = ctx.registerBuffer(kept);
            assertEquals(PAGE, preadInto(ctx, a, PAGE).res(), "the buffer works before");
            gone.setMemory(0, gone.capacity(), UNTOUCHED);

            ctx.unregisterBuffer(a);
            final Event refused = preadInto(ctx, a, PAGE);
            assertEquals(Opcode.PREAD, refused.opcode());
            assertEquals(-Errno.EFAULT, refused.res(), refused.toString());
            assertEquals(immediate ? EventDescriptor.FLAG_IMMEDIATE : 0, refused.flags(),
                "refused where it was resolved: " + refused);
            assertUntouched(gone, "pread after unregister");
            final Event empty = preadInto(ctx, a, 0);
            assertEquals(-Errno.EFAULT, empty.res(), "even an empty range: " + empty);
            assertEquals(-Errno.EFAULT, preadInto(ctx, 77, PAGE).res(), "as for an index never registered");

            final Event other = preadInto(ctx, b, PAGE);
            assertEquals(PAGE, other.res(), "the other buffer goes on: " + other);
            assertArrayEquals(Arrays.copyOf(data, PAGE), bytes(kept, 0, PAGE));
            SysletTestSupport.awaitInFlight(ctx, 0, "after reaping every event");
        }
    }

    /**
     * Ops that read a structure out of registered memory: a preadv's iov array, or an element of one, in the
     * unregistered buffer; a path there for openat and statx; statx's result there. Each fails with -EFAULT
     * before the call, and the buffer keeps every byte.
     */
    @Test
    void opsThatReadStructuresOrPathsOutOfAnUnregisteredBufferFailWithEfault()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final UnsafeBuffer gone = directBuffer(3 * PAGE);
            final UnsafeBuffer kept = untouched(3 * PAGE);
            final int a = ctx.registerBuffer(gone);
            final int b = ctx.registerBuffer(kept);
            // In the buffer about to go: an iov array naming the kept buffer, and a path.
            gone.putLong(IovDescriptor.BUFFER_OFFSET, BufferRef.of(b, 0));
            gone.putLong(IovDescriptor.LENGTH_OFFSET, PAGE);
            final long pathInGone = putPath(gone, a, PAGE, file);
            // In the kept buffer: an iov array naming the buffer about to go, and a path.
            final int arrayInKept = 2 * PAGE;
            kept.putLong(arrayInKept + IovDescriptor.BUFFER_OFFSET, BufferRef.of(a, 2 * PAGE));
            kept.putLong(arrayInKept + IovDescriptor.LENGTH_OFFSET, PAGE);
            final long pathInKept = putPath(kept, b, 2 * PAGE + 64, file);
            w.preadv(1, fd, BufferRef.of(a, 0), 1, 0);
            submitAll(w, ctx);
            assertEquals(PAGE, reapOne(ctx, 1).res(), "the iov array in the buffer works before");

            ctx.unregisterBuffer(a);
            final byte[] before = bytes(gone, 0, gone.capacity());
            kept.setMemory(0, PAGE, UNTOUCHED);
            w.preadv(2, fd, BufferRef.of(a, 0), 1, 0)                       // the array in it
                .preadv(3, fd, BufferRef.of(b, arrayInKept), 1, 0)          // an element in it
                .openat(4, AT_FDCWD, pathInGone, O_RDONLY | O_CLOEXEC, 0)
                .statx(5, AT_FDCWD, pathInGone, 0, 0xFFF, BufferRef.of(b, PAGE))
                .statx(6, AT_FDCWD, pathInKept, 0, 0xFFF, BufferRef.of(a, 2 * PAGE));
            submitAll(w, ctx);
            final Map<Long, Event> events = reap(ctx, 5);
            for (long cookie = 2; cookie <= 6; cookie++)
            {
                assertEquals(-Errno.EFAULT, events.get(cookie).res(), events.get(cookie).toString());
            }
            assertArrayEquals(before, bytes(gone, 0, gone.capacity()), "the unregistered buffer was written");
            assertEquals(UNTOUCHED, kept.getByte(0), "the preadv whose array is gone read into its element");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Ops in flight
    // ------------------------------------------------------------------------------------------------------------

    /**
     * A read blocked in the kernel on the buffer: unregister waits for it, returns only once it has completed, and
     * its bytes are in the buffer when it returns. The read is not cut off: its event is the plain read's.
     */
    @Test
    void unregisterWaitsForAReadBlockedOnTheBufferAndReturnsWithItsBytesThere() throws Exception
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            Pipe pipe = new Pipe())
        {
            final UnsafeBuffer mem = untouched(PAGE);
            final int a = ctx.registerBuffer(mem);
            w.read(1, pipe.readFd, BufferRef.of(a, 0), 64);
            submitAll(w, ctx);
            awaitThreadBlockedIn(UNBOUNDED_WORKER_COMM, "read");

            final byte[] message = "written while unregister waited".getBytes(StandardCharsets.US_ASCII);
            final AtomicReference<byte[]> atReturn = new AtomicReference<>();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread unregistering = new Thread(() ->
            {
                try
                {
                    ctx.unregisterBuffer(a, LONG_WAIT_NANOS);
                    atReturn.set(bytes(mem, 0, message.length + 1));
                }
                catch (final Throwable e)
                {
                    failure.set(e);
                }
            }, "unregistering");
            unregistering.start();
            awaitUnregisterWaiting(ctx, a, unregistering);
            assertTrue(unregistering.isAlive(), "unregister returned while a read into the buffer was blocked in " +
                "the kernel" + (failure.get() == null ? "" : ": " + failure.get()));
            assertNoEventReady(ctx); // the read still waits for its bytes

            writeFully(pipe.writeFd, message);
            join(unregistering);
            assertNull(failure.get(), () -> "unregister failed: " + failure.get());
            final byte[] expected = Arrays.copyOf(message, message.length + 1);
            expected[message.length] = UNTOUCHED;
            assertArrayEquals(expected, atReturn.get(), "what the buffer held when unregister returned");
            final Event read = reapOne(ctx, 1);
            assertEquals(Opcode.READ, read.opcode());
            assertEquals(message.length, read.res(), read.toString());
            assertEquals(0, read.flags(), read.toString());
            assertEquals(a, ctx.registerBuffer(directBuffer(PAGE)), "the index is free again");
        }
    }

    /**
     * With no time to wait, an unregister of a buffer a blocked read uses fails with EBUSY at once, naming the
     * index and the op. The index stays retired (ops naming it fail; no registration takes it) while the read keeps
     * its memory: its bytes arrive. A later unregister, once the read is done, frees it.
     */
    @Test
    void unregisterWithNoTimeLeftOfABufferABlockedReadUsesIsEbusyAndCanBeCalledAgain()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            Pipe pipe = new Pipe())
        {
            final UnsafeBuffer mem = untouched(PAGE);
            final int a = ctx.registerBuffer(mem);
            w.read(1, pipe.readFd, BufferRef.of(a, 0), 64);
            submitAll(w, ctx);
            awaitThreadBlockedIn(UNBOUNDED_WORKER_COMM, "read");

            final AioException busy = assertAioException(Errno.EBUSY, "buffer index " + a, () -> ctx.unregisterBuffer(a, 0));
            assertTrue(busy.getMessage().contains("read cookie 1"), busy.getMessage());
            assertAioException(Errno.EBUSY, "buffer index " + a, () -> ctx.unregisterBuffer(a, 0)); // still
            assertTrue(retired(ctx, a), "an op naming the index after EBUSY must fail");
            final int other = ctx.registerBuffer(directBuffer(PAGE));
            assertNotEquals(a, other, "the index is not free while the read may still use it");

            writeFully(pipe.writeFd, new byte[]{1, 2, 3});
            final Event read = reapOne(ctx, 1);
            assertEquals(3, read.res(), read.toString());
            assertArrayEquals(new byte[]{1, 2, 3, UNTOUCHED}, bytes(mem, 0, 4), "the read kept its memory");

            ctx.unregisterBuffer(a, 0); // nothing uses it now: no wait needed
            assertEquals(a, ctx.registerBuffer(directBuffer(PAGE)), "free at last");
            assertAioException(Errno.EINVAL, "buffer index " + other, () ->
            {
                ctx.unregisterBuffer(other);
                ctx.unregisterBuffer(other);
            });
        }
    }

    /**
     * The wait is for ops that use the buffer, not for every op: a read blocked for ever on another buffer, and a
     * callable, hold up no unregister.
     */
    @Test
    void opsThatDoNotUseTheBufferDoNotHoldUpItsUnregister() throws Exception
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            Pipe pipe = new Pipe())
        {
            final int a = ctx.registerBuffer(untouched(PAGE));
            final int b = ctx.registerBuffer(untouched(PAGE));
            final int c = ctx.registerBuffer(untouched(PAGE));
            w.read(1, pipe.readFd, BufferRef.of(a, 0), 64);
            submitAll(w, ctx);
            awaitThreadBlockedIn(UNBOUNDED_WORKER_COMM, "read");
            final CountDownLatch running = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            ctx.submitCallable(2, () ->
            {
                running.countDown();
                release.await();
                return 2L;
            });
            running.await();

            ctx.unregisterBuffer(b, 0); // EBUSY if it counted the read of another buffer, or the callable
            release.countDown();
            assertEquals(2, reapOne(ctx, 2).res());
            ctx.cancel(1);
            assertEquals(-Errno.ECANCELED, reapOne(ctx, 1).res());
            ctx.unregisterBuffer(a, 0);
            ctx.unregisterBuffer(c, 0);
        }
    }

    /**
     * destroy does not wait out an unregister's wait: the unregister ends with EBADF, and destroy frees the context.
     */
    @Test
    void destroyWhileUnregisterWaitsEndsTheUnregisterWithEbadf() throws Exception
    {
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        try (Pipe pipe = new Pipe())
        {
            final int a = ctx.registerBuffer(untouched(PAGE));
            w.read(1, pipe.readFd, BufferRef.of(a, 0), 64);
            submitAll(w, ctx);
            awaitThreadBlockedIn(UNBOUNDED_WORKER_COMM, "read");
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread unregistering = startUnregister(ctx, a, failure);
            awaitUnregisterWaiting(ctx, a, unregistering);

            assertTrue(ctx.destroy(PATIENCE_NANOS), "destroy waited out the unregister, and gave up");
            join(unregistering);
            final AioException e = (AioException)failure.get();
            assertEquals(Errno.EBADF, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains("buffer index " + a), e.getMessage());
        }
        finally
        {
            ctx.destroy(PATIENCE_NANOS);
        }
    }

    /**
     * A callable may unregister a buffer: it is never among the ops an unregister waits for, so it never waits for
     * itself. Here it also waits, on its worker, for a read blocked on the buffer, which another worker runs; both
     * events come once the pipe is written.
     */
    @Test
    void aCallableCanUnregisterABufferAndWaitsForTheOpUsingItNotForItself() throws Exception
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            Pipe pipe = new Pipe())
        {
            final UnsafeBuffer mem = untouched(PAGE);
            final int a = ctx.registerBuffer(mem);
            final int b = ctx.registerBuffer(untouched(PAGE));
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            ctx.submitCallable(1, () ->
            {
                try
                {
                    ctx.unregisterBuffer(b, 0);
                    return 1L;
                }
                catch (final Throwable e)
                {
                    failure.set(e);
                    return -1L;
                }
            });
            assertEquals(1, reapOne(ctx, 1).res(), () -> "the callable's unregister failed: " + failure.get());
            assertEquals(b, ctx.registerBuffer(directBuffer(PAGE)), "the callable's unregister freed the index");

            w.read(2, pipe.readFd, BufferRef.of(a, 0), 64);
            submitAll(w, ctx);
            awaitThreadBlockedIn(UNBOUNDED_WORKER_COMM, "read");
            final AtomicReference<Thread> worker = new AtomicReference<>();
            ctx.submitCallable(3, () ->
            {
                worker.set(Thread.currentThread());
                try
                {
                    ctx.unregisterBuffer(a, LONG_WAIT_NANOS);
                    return 3L;
                }
                catch (final Throwable e)
                {
                    failure.set(e);
                    return -3L;
                }
            });
            final long deadline = System.nanoTime() + PATIENCE_NANOS;
            while (worker.get() == null)
            {
                assertTrue(System.nanoTime() - deadline < 0, "the callable never ran");
                Thread.yield();
            }
            awaitUnregisterWaiting(ctx, a, worker.get());
            assertNoEventReady(ctx);
            writeFully(pipe.writeFd, new byte[]{9, 8, 7});
            final Map<Long, Event> events = reap(ctx, 2);
            assertEquals(3, events.get(2L).res(), events.get(2L).toString());
            assertEquals(3, events.get(3L).res(), () -> "the callable's unregister failed: " + failure.get());
            assertArrayEquals(new byte[]{9, 8, 7, UNTOUCHED}, bytes(mem, 0, 4));
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Indices
    // ------------------------------------------------------------------------------------------------------------

    /**
     * The lowest free index is handed out, as open(2) does with fds, and a stale BufferRef then reaches the new
     * buffer (as a stale fd reaches the new file), never the old one.
     */
    @Test
    void freedIndicesAreReusedLowestFirstAndAStaleRefReachesTheNewBuffer()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxBuffers(8)))
        {
            final UnsafeBuffer old = untouched(PAGE);
            assertEquals(0, ctx.registerBuffer(untouched(PAGE)));
            assertEquals(1, ctx.registerBuffer(old));
            assertEquals(2, ctx.registerBuffer(untouched(PAGE)));
            ctx.unregisterBuffer(1);
            ctx.unregisterBuffer(0);
            final UnsafeBuffer first = untouched(PAGE);
            final UnsafeBuffer second = untouched(2 * PAGE);
            assertEquals(0, ctx.registerBuffer(first));
            assertEquals(1, ctx.registerBuffer(second));
            assertEquals(3, ctx.registerBuffer(untouched(PAGE)));

            final Event stale = preadInto(ctx, 1, 2 * PAGE);
            assertEquals(2 * PAGE, stale.res(), "the new buffer's capacity counts: " + stale);
            assertArrayEquals(Arrays.copyOf(data, 2 * PAGE), bytes(second, 0, 2 * PAGE));
            assertUntouched(old, "a stale ref");
        }
    }

    @Test
    void errorsNameTheIndexAndChangeNothing()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxBuffers(4)))
        {
            final UnsafeBuffer mem = untouched(PAGE);
            assertEquals(0, ctx.registerBuffer(mem));
            assertEquals(1, ctx.registerBuffer(untouched(PAGE)));
            assertAioException(Errno.EINVAL, "buffer index -1 is out of range", () -> ctx.unregisterBuffer(-1));
            assertAioException(Errno.EINVAL, "buffer index 4 is out of range", () -> ctx.unregisterBuffer(4));
            assertAioException(Errno.EINVAL, "buffer index " + Integer.MAX_VALUE + " is out of range",
                () -> ctx.unregisterBuffer(Integer.MAX_VALUE, 0));
            assertAioException(Errno.EINVAL, "buffer index 2 was never registered", () -> ctx.unregisterBuffer(2));
            ctx.unregisterBuffer(1);
            assertAioException(Errno.EINVAL, "buffer index 1 is not registered", () -> ctx.unregisterBuffer(1));
            assertEquals(PAGE, preadInto(ctx, 0, PAGE).res(), "index 0 is still registered");
            assertEquals(1, ctx.registerBuffer(untouched(PAGE)), "index 1 is free once");
            assertEquals(2, ctx.registerBuffer(untouched(PAGE)));
        }
        try (SysletContext none = SysletContext.setup(new SetupParams().maxBuffers(0)))
        {
            assertAioException(Errno.EINVAL, "buffer index 0 is out of range", () -> none.unregisterBuffer(0));
        }
        final SysletContext destroyed = SysletContext.setup(new SetupParams());
        final int index = destroyed.registerBuffer(untouched(PAGE));
        destroyed.close();
        assertAioException(Errno.EBADF, "context is destroyed", () -> destroyed.unregisterBuffer(index));
        assertAioException(Errno.EBADF, "context is destroyed", () -> destroyed.unregisterBuffer(-1, 0));
    }

    /**
     * A long-running program that registers and unregisters buffers never runs out of indices: 5,000 cycles, each
     * with an op into its buffer, in a table of 2.
     */
    @Test
    void manyRegisterUnregisterCyclesNeverRunOutOfIndices()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxBuffers(2)))
        {
            final UnsafeBuffer held = untouched(PAGE);
            assertEquals(0, ctx.registerBuffer(held));
            final UnsafeBuffer[] buffers = {untouched(PAGE), untouched(PAGE)};
            for (int cycle = 0; cycle < 5_000; cycle++)
            {
                final int index = ctx.registerBuffer(buffers[cycle & 1]);
                assertEquals(1, index, "cycle " + cycle);
                assertEquals(64, preadInto(ctx, index, 64).res(), "cycle " + cycle);
                ctx.unregisterBuffer(index);
            }
            assertEquals(1, ctx.registerBuffer(buffers[0]));
            assertAioException(Errno.ENOMEM, "all 2 buffer slots are taken", () -> ctx.registerBuffer(buffers[1]));
            ctx.unregisterBuffer(0);
            assertEquals(0, ctx.registerBuffer(buffers[1]), "a full table takes a buffer again once one goes");
        }
    }

    /**
     * The context lets go of the buffer, and so of the ByteBuffer that owns its memory: once the caller drops it
     * too, a collection frees it.
     */
    @Test
    void anUnregisteredBufferIsNoLongerReachableFromTheContext()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final WeakReference<ByteBuffer> owner = registerAndRun(ctx);
            ctx.unregisterBuffer(0);
            for (int i = 0; i < 50 && owner.get() != null; i++)
            {
                System.gc();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            assertNull(owner.get(), "the unregistered buffer's memory is still reachable");
            assertEquals(PAGE, preadInto(ctx, ctx.registerBuffer(untouched(PAGE)), PAGE).res());
        }
    }

    /**
     * In a method of its own, so that no local of the test holds the buffer.
     */
    private WeakReference<ByteBuffer> registerAndRun(final SysletContext ctx)
    {
        final ByteBuffer memory = BufferUtil.allocateDirectAligned(PAGE, PAGE);
        assertEquals(0, ctx.registerBuffer(new UnsafeBuffer(memory)));
        assertEquals(PAGE, preadInto(ctx, 0, PAGE).res());
        return new WeakReference<>(memory);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Races
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Another thread reads into the buffer, one pread after another, while it is unregistered: on the immediate path
     * (the read resolves and runs inside its submit, on that thread) and on a worker. When unregister returns the
     * buffer is filled with a marker; no read may write it after that. Each cycle registers a new buffer at the
     * same index, which the reads then reach.
     */
    @ParameterizedTest(name = "immediate path {0}")
    @ValueSource(booleans = {true, false})
    void noReadWritesTheBufferOnceUnregisterHasReturned(final boolean immediate) throws Exception
    {
        final SetupParams params = new SetupParams().flags(immediate ? 0 : SetupParams.FLAG_NO_IMMEDIATE)
            .spinTries(1 << 20); // workers that stay awake: reads come one after another, as fast as possible
        try (SysletContext ctx = SysletContext.setup(params))
        {
            final AtomicLong reads = new AtomicLong();
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicLong inlineHits = new AtomicLong();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final UnsafeBuffer first = untouched(RACE_READ);
            final int index = ctx.registerBuffer(first);
            final Thread reader = new Thread(() ->
            {
                final IocbWriter iocbs = writer();
                final UnsafeBuffer events = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 12, 64));
                try
                {
                    for (long cookie = 1; !stop.get(); cookie++)
                    {
                        iocbs.pread(cookie, fd, BufferRef.of(index, 0), RACE_READ, 0);
                        assertEquals(1, iocbs.submitTo(ctx));
                        final int bytes = ctx.getEvents(events, 0, events.capacity(), 1, PATIENCE_NANOS);
                        final EventCursor cursor = new EventCursor().wrap(events, 0, bytes);
                        assertTrue(cursor.next(), "no event within 10 s");
                        final Event event = cursor.event();
                        assertTrue(event.res() == RACE_READ || event.res() == -Errno.EFAULT, event.toString());
                        if (event.res() == RACE_READ && (event.flags() & EventDescriptor.FLAG_IMMEDIATE) != 0)
                        {
                            inlineHits.incrementAndGet();
                        }
                        reads.incrementAndGet();
                    }
                }
                catch (final Throwable e)
                {
                    failure.set(e);
                }
            }, "reader");
            reader.start();
            try
            {
                UnsafeBuffer current = first;
                for (int cycle = 0; cycle < 1_000 && failure.get() == null; cycle++)
                {
                    awaitReads(reads, 1 + (cycle & 3), failure);
                    // Right after an event the next read has not started: vary where in a read the unregister lands.
                    for (int spin = (cycle * 37) % 1024; spin > 0; spin--)
                    {
                        Thread.onSpinWait();
                    }
                    ctx.unregisterBuffer(index);
                    // The last page first: a read that went on after the return would copy it last, after the marker.
                    current.setMemory(RACE_READ - PAGE, PAGE, UNTOUCHED);
                    current.setMemory(0, RACE_READ - PAGE, UNTOUCHED);
                    awaitReads(reads, 2, failure);
                    assertUntouched(current, "cycle " + cycle);
                    current = untouched(RACE_READ);
                    assertEquals(index, ctx.registerBuffer(current));
                }
            }
            finally
            {
                stop.set(true);
                join(reader);
            }
            assertNull(failure.get(), () -> "the reader failed: " + failure.get());
            if (immediate)
            {
                assumeTrue(inlineHits.get() > 0, "no read took the immediate path (RWF_NOWAIT unsupported on " +
                    dir + "?): the submitting thread's side was not tried");
            }
        }
    }

    private static void awaitReads(final AtomicLong reads, final int more, final AtomicReference<Throwable> failure)
    {
        final long target = reads.get() + more;
        final long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (reads.get() < target && failure.get() == null)
        {
            assertTrue(System.nanoTime() - deadline < 0, "the reader stopped reading");
            Thread.yield();
        }
    }

    /**
     * Unregister racing a stream of ops on that buffer and on another: every op gets exactly one event (those on
     * the unregistered buffer a whole read or -EFAULT), and nothing stays in flight.
     */
    @Test
    void noEventIsLostWhileUnregisterRacesOps() throws Exception
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(4096));
            Pipe pipe = new Pipe())
        {
            final UnsafeBuffer kept = untouched(PAGE);
            final int b = ctx.registerBuffer(kept);
            final Map<Long, Integer> indexOf = new HashMap<>();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            long cookie = 1;
            for (int r = 0; r < 20; r++)
            {
                final int round = r;
                final int a = ctx.registerBuffer(untouched(PAGE));
                w.read(cookie, pipe.readFd, BufferRef.of(a, 0), 8);
                indexOf.put(cookie++, -1);
                for (int i = 0; i < 100; i++)
                {
                    final int target = (i & 1) == 0 ? a : b;
                    w.pread(cookie, fd, BufferRef.of(target, 0), PAGE, 0);
                    if ((i & 2) != 0)
                    {
                        w.flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
                    }
                    indexOf.put(cookie++, target == b ? b : a);
                }
                final Thread unregistering = startUnregister(ctx, a, failure);
                submitAll(w, ctx);
                writeFully(pipe.writeFd, new byte[8]); // the round's pipe read ends, so the unregister can
                join(unregistering);
                assertNull(failure.get(), () -> "round " + round + ": " + failure.get());
                assertEquals(a, ctx.registerBuffer(untouched(PAGE)), "round " + round + ": freed");
                ctx.unregisterBuffer(a);
            }
            final Map<Long, Event> events = reap(ctx, indexOf.size());
            for (final Map.Entry<Long, Integer> op : indexOf.entrySet())
            {
                final Event event = events.get(op.getKey());
                if (op.getValue() == -1)
                {
                    assertTrue(event.res() == 8 || event.res() == -Errno.EFAULT, event.toString());
                }
                else if (op.getValue() == b)
                {
                    assertEquals(PAGE, event.res(), event.toString());
                }
                else
                {
                    assertTrue(event.res() == PAGE || event.res() == -Errno.EFAULT, event.toString());
                }
            }
            SysletTestSupport.awaitInFlight(ctx, 0, "after reaping every event");
            assertNoEventReady(ctx);
        }
    }

    /**
     * Starts {@code ctx.unregisterBuffer(index, LONG_WAIT_NANOS)} on a thread of its own, named "unregistering".
     *
     * @param failure gets whatever the call throws.
     * @return the started thread.
     */
    private static Thread startUnregister(final SysletContext ctx, final int index,
        final AtomicReference<Throwable> failure)
    {
        final Thread unregistering = new Thread(() ->
        {
            try
            {
                ctx.unregisterBuffer(index, LONG_WAIT_NANOS);
            }
            catch (final Throwable e)
            {
                failure.set(e);
            }
        }, "unregistering");
        unregistering.start();
        return unregistering;
    }
}
