package io.syslet.pool.compound;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.*;

class CompoundTest
{
    private static final int STATX_BASIC_STATS = 0x7ff;

    @TempDir
    Path dir;

    private SysletContext context;
    private Completions completions;
    private UnsafeBuffer memory;
    private int buffer;
    private int pathCursor;
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void setUp()
    {
        context = SysletContext.setup(new SetupParams().maxInFlight(1024));
        completions = new Completions(context);
        memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8 << 20, 4096));
        buffer = context.registerBuffer(memory);
        pathCursor = 4 << 20;
    }

    @AfterEach
    void tearDown()
    {
        context.close();
        fds.forEach(LIBC::close);
    }

    @Test
    void mirroredReadFileWinsAndThePipeReadIsCancelled() throws Exception
    {
        final Path file = Files.write(dir.resolve("mirror"), "mirror data".getBytes(StandardCharsets.US_ASCII));
        final int[] pipe = pipe();
        final int fileFd = open(file);
        final Group read = completions.anyOf();
        final OpCompletion fromPipe = read.add(Op.read(pipe[0], BufferRef.of(buffer, 0), 11));
        final OpCompletion fromFile = read.add(Op.pread(fileFd, BufferRef.of(buffer, 4096), 11, 0));
        read.start();
        completions.runUntilSettled(read, 10, TimeUnit.SECONDS);

        assertSame(fromFile, read.winner());
        assertEquals(11, read.res());
        assertEquals(11, fromFile.res());
        assertEquals(-Errno.ECANCELED, fromPipe.res());
        assertEquals(EventDescriptor.FLAG_CANCELED, fromPipe.event().getShort(EventDescriptor.FLAGS_OFFSET) & EventDescriptor.FLAG_CANCELED,
            "the pipe read's event in the ring says it was cancelled");
        assertEquals(11, fromFile.event().getLong(EventDescriptor.RES_OFFSET), "the ring held the file read's event");
        assertEquals("mirror data", memory.getStringWithoutLengthAscii(4096, 11));
        assertEquals(0, completions.pendingOps());
    }

    /**
     * A node (or the graph it was added to) that nobody started can never settle: runUntilSettled waits out its
     * timeout, and its message says why, where it said only that the node did not settle.
     */
    @Test
    void waitingForANodeNeverStartedSaysItWasNeverStarted()
    {
        final OpCompletion alone = completions.op(Op.nop());
        final IllegalStateException unstarted = assertThrows(IllegalStateException.class,
            () -> completions.runUntilSettled(alone, 50, TimeUnit.MILLISECONDS));
        assertTrue(unstarted.getMessage().endsWith(": it was never started (call start())"), unstarted.getMessage());

        final Group group = completions.allOf();
        final OpCompletion child = group.add(Op.nop());
        final IllegalStateException inUnstartedGroup = assertThrows(IllegalStateException.class,
            () -> completions.runUntilSettled(child, 50, TimeUnit.MILLISECONDS));
        assertTrue(inUnstartedGroup.getMessage().endsWith(": the graph it is in was never started (call start() on " +
            group + ")"), inUnstartedGroup.getMessage());

        group.start();
        completions.runUntilSettled(child, 10, TimeUnit.SECONDS);
        assertEquals(0, child.res());
    }

    @Test
    void threeLevelNestedAllOfAggregatesExactly() throws Exception
    {
        final Path file = Files.write(dir.resolve("data"), new byte[1000]);
        final int fd = open(file);
        final Group top = completions.allOf();
        final Group middleOk = completions.allOf();
        final Group middleBad = completions.allOf();
        final Group leafOk = completions.allOf();
        final Group leafBad = completions.allOf();
        leafOk.add(Op.pread(fd, BufferRef.of(buffer, 0), 100, 0));
        leafOk.add(Op.pread(fd, BufferRef.of(buffer, 100), 200, 0));
        leafBad.add(Op.pread(fd, BufferRef.of(buffer, 300), 10, 0));
        leafBad.add(Op.pread(999_999, BufferRef.of(buffer, 0), 10, 0)); // -EBADF
        leafBad.add(Op.of(4000, 0, 0, 0, 0, 0, 0)); // -ENOSYS, after the first failure
        middleOk.add(leafOk);
        middleOk.add(Op.nanosleep(1_000_000));
        middleBad.add(leafBad);
        middleBad.add(Op.pread(fd, BufferRef.of(buffer, 400), 50, 950));
        top.add(middleOk);
        top.add(middleBad);
        top.start();
        completions.runUntilSettled(top, 10, TimeUnit.SECONDS);

        assertEquals(300, leafOk.res());
        assertEquals(0, leafOk.failures());
        assertEquals(300, middleOk.res());
        assertEquals(-Errno.EBADF, leafBad.res());
        assertEquals(2, leafBad.failures());
        assertEquals(-Errno.EBADF, middleBad.res());
        assertEquals(1, middleBad.failures());
        assertEquals(-Errno.EBADF, top.res());
        assertEquals(1, top.failures());
        assertEquals(-Errno.ENOSYS, leafBad.children().get(2).res());
        assertEquals(50, middleBad.children().get(1).res());
        assertSettledAfterChildren(top);
    }

    @Test
    void openPreadCloseChainPassesTheFdAlong() throws Exception
    {
        final byte[] content = "linked ops, like io_uring".getBytes(StandardCharsets.US_ASCII);
        final Path file = Files.write(dir.resolve("linked"), content);
        final Chain chain = openReadClose(file, content.length);
        chain.start();
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        final List<Completion> steps = chain.steps();
        assertEquals(3, steps.size());
        assertTrue(steps.get(0).res() >= 0);
        assertEquals(content.length, steps.get(1).res());
        assertEquals(0, steps.get(2).res(), "close of the fd the open returned succeeded");
        assertEquals(0, chain.res());
        assertEquals(new String(content, StandardCharsets.US_ASCII), memory.getStringWithoutLengthAscii(0, content.length));
        assertEquals(-1, LIBC.close((int)steps.get(0).res()), "the chain closed the fd already");
        assertEquals(-Errno.EBADF, Natives.lastError());

        final Chain missing = openReadClose(dir.resolve("missing"), content.length);
        missing.start();
        completions.runUntilSettled(missing, 10, TimeUnit.SECONDS);
        assertEquals(List.of((long)-Errno.ENOENT, (long)-Errno.ECANCELED, 0L),
            missing.steps().stream().map(Completion::res).collect(Collectors.toList()),
            "no read, and the hard link closes nothing: a NOP, not close(-ENOENT)");
        assertEquals(Opcode.NOP, ((OpCompletion)missing.steps().get(2)).op().opcode());
        assertEquals(-Errno.ENOENT, missing.res());
    }

    /** The README's chain: open, pread from the fd it returned, then close that fd whatever the read did. */
    private Chain openReadClose(final Path file, final int length)
    {
        return completions.chain(Op.openat(Natives.AT_FDCWD, path(file), Natives.O_RDONLY, 0))
            .then(open -> Op.pread((int)open.res(), BufferRef.of(buffer, 0), length, 0))
            .thenHard(read ->
            {
                final long fd = ((Chain)read.parent()).steps().get(0).res();
                return fd >= 0 ? Op.close((int)fd) : Op.nop();
            });
    }

    @Test
    void chainOnMissingFileFailsTheOpenAndCancelsTheRest()
    {
        final Chain chain = completions.chain(Op.openat(Natives.AT_FDCWD, path(dir.resolve("missing")), Natives.O_RDONLY, 0))
            .then(open -> Op.pread((int)open.res(), BufferRef.of(buffer, 0), 10, 0))
            .then(read -> Op.close(3));
        chain.start();
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        final List<Completion> steps = chain.steps();
        assertEquals(3, steps.size());
        assertEquals(-Errno.ENOENT, steps.get(0).res());
        assertEquals(-Errno.ECANCELED, steps.get(1).res());
        assertEquals(-Errno.ECANCELED, steps.get(2).res());
        assertNull(((OpCompletion)steps.get(1)).event(), "a cancelled step never ran, so it has no event");
        assertEquals(-Errno.ENOENT, chain.res());
    }

    @Test
    void shortReadCancelsTheRestButAHardLinkRuns() throws Exception
    {
        final Path file = Files.write(dir.resolve("short"), new byte[10]);
        final int fd = open(file);
        final Chain chain = completions.chain(Op.pread(fd, BufferRef.of(buffer, 0), 100, 0))
            .then(read -> Op.nop())
            .thenHard(nop -> Op.nop());
        chain.start();
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        assertEquals(10, chain.steps().get(0).res());
        assertEquals(-Errno.ECANCELED, chain.steps().get(1).res());
        assertEquals(0, chain.steps().get(2).res(), "a hard link runs after a cancelled step");
    }

    @Test
    void interceptorStopsTheChainAndResumesItAfterARetry() throws Exception
    {
        final int[] pipe = pipe();
        final AtomicInteger attempts = new AtomicInteger();
        final List<String> order = Collections.synchronizedList(new ArrayList<>());
        final OpCompletion read = completions.op(Op.read(pipe[0], BufferRef.of(buffer, 0), 5).expecting(5));
        read.intercept(c ->
        {
            order.add("interceptor res=" + c.res());
            if (c.res() == -Errno.ECANCELED && attempts.getAndIncrement() == 0)
            {
                // Retry: read again; when the retry completes, take its result and resume.
                final OpCompletion retry = completions.op(Op.read(pipe[0], BufferRef.of(buffer, 0), 5));
                retry.notify(r ->
                {
                    c.result(r.res());
                    c.resume();
                });
                retry.start();
                writeToPipe(pipe[1], "retry");
                return false;
            }
            return true;
        }).notify(c -> order.add("notifier res=" + c.res()));
        read.start();
        Thread.sleep(50);
        assertEquals(0, context.cancel(read.cookie), "the first read is blocked, then cancelled");
        completions.runUntilSettled(read, 10, TimeUnit.SECONDS);
        assertEquals(5, read.res());
        assertEquals(List.of("interceptor res=-125", "notifier res=5"), order);
        assertEquals("retry", memory.getStringWithoutLengthAscii(0, 5));
    }

    /**
     * Completion's contract: interceptors run in the order added, all before every notifier, and notifiers in the
     * order added, however the two kinds were interleaved when they were added. A first interceptor that stops
     * the chain must stop the later ones too; that needs this order.
     */
    @Test
    void interceptorsAndNotifiersEachRunInTheOrderAdded()
    {
        final List<String> order = Collections.synchronizedList(new ArrayList<>());
        final OpCompletion sleep = completions.op(Op.nanosleep(1000));
        for (int i = 1; i <= 3; i++)
        {
            final int n = i;
            sleep.notify(c -> order.add("notifier " + n)).intercept(c -> order.add("interceptor " + n));
        }
        sleep.start();
        completions.runUntilSettled(sleep, 10, TimeUnit.SECONDS);
        assertEquals(0, sleep.res());
        assertEquals(List.of("interceptor 1", "interceptor 2", "interceptor 3", "notifier 1", "notifier 2",
            "notifier 3"), order);
    }

    @Test
    void throwingCallbackIsReportedAndTheChainGoesOn()
    {
        final List<Throwable> reported = Collections.synchronizedList(new ArrayList<>());
        final Completions reporting = new Completions(context, null, (c, t) -> reported.add(t));
        final AtomicInteger laterNotifier = new AtomicInteger();
        final Group group = reporting.allOf();
        final OpCompletion child = group.add(Op.nanosleep(1000));
        child.notify(c -> { throw new IllegalStateException("boom"); }).notify(c -> laterNotifier.incrementAndGet());
        group.add(Op.nop());
        group.start();
        reporting.runUntilSettled(group, 10, TimeUnit.SECONDS);
        assertEquals(1, reported.size());
        assertEquals("boom", reported.get(0).getMessage());
        assertEquals(1, laterNotifier.get());
        assertEquals(0, group.res());
        assertTrue(group.isSettled(), "the group still completed");
        final OpCompletion after = reporting.submit(Op.nanosleep(1000));
        reporting.runUntilSettled(after, 10, TimeUnit.SECONDS);
        assertEquals(0, after.res(), "the reaper and the workers are fine after the throw");
    }

    @Test
    void immediateAndDelayedCallbacksKnowWhereTheyRun() throws Exception
    {
        final Path file = Files.write(dir.resolve("hot"), new byte[4096]);
        final int fd = open(file);
        assertEquals(4096, LIBC.pread(fd, memory.addressOffset(), 4096, 0));
        final Thread submitter = Thread.currentThread();
        final AtomicReference<String> seen = new AtomicReference<>();
        final OpCompletion hit = completions.op(Op.pread(fd, BufferRef.of(buffer, 0), 4096, 0));
        hit.notify(c -> seen.set((c.isImmediate() ? "immediate" : "delayed") + " on " +
            (Thread.currentThread() == submitter ? "submitter" : Thread.currentThread().getName())));
        hit.start();
        assertEquals("immediate on submitter", seen.get(), "a cached pread completes inline, inside start()");

        final ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "delayed-callbacks"));
        try
        {
            final List<Throwable> thrown = Collections.synchronizedList(new ArrayList<>());
            final Completions onExecutor = new Completions(context, executor, (c, t) -> thrown.add(t));
            final OpCompletion sleep = onExecutor.op(Op.nanosleep(1_000_000));
            final CompletableFuture<String> where = new CompletableFuture<>();
            sleep.notify(c -> where.complete((c.isImmediate() ? "immediate" : "delayed") + " on " +
                Thread.currentThread().getName()));
            sleep.start();
            onExecutor.runUntilSettled(sleep, 10, TimeUnit.SECONDS);
            assertEquals("delayed on delayed-callbacks", where.get(10, TimeUnit.SECONDS));
            assertEquals(List.of(), thrown, "no callback threw");
        }
        finally
        {
            executor.shutdownNow();
        }
        final OpCompletion sleep = completions.op(Op.nanosleep(1_000_000));
        sleep.notify(c -> seen.set((c.isImmediate() ? "immediate" : "delayed") + " on " +
            (Thread.currentThread() == submitter ? "reaper" : Thread.currentThread().getName())));
        sleep.start();
        completions.runUntilSettled(sleep, 10, TimeUnit.SECONDS);
        assertEquals("delayed on reaper", seen.get(), "never on a worker thread");
    }

    @Test
    void feederStatsTenThousandFilesWithAtMost64InFlight() throws Exception
    {
        final int files = 10_000;
        final List<Long> paths = new ArrayList<>(files);
        final Path tree = Files.createDirectory(dir.resolve("tree"));
        for (int i = 0; i < files; i++)
        {
            final Path file = Files.write(tree.resolve("f" + i), new byte[i % 97]);
            paths.add(path(file));
        }
        final AtomicInteger statted = new AtomicInteger();
        final long[] seenSizes = new long[files];
        final Group group = completions.allOf().feed(paths.iterator(), 64, ref ->
        {
            final int index = statted.getAndIncrement();
            final long out = BufferRef.of(buffer, 256L * (index % 8192));
            final OpCompletion stat = completions.op(Op.statx(Natives.AT_FDCWD, ref, 0, STATX_BASIC_STATS, out));
            stat.notify(c -> seenSizes[index] = c.res() < 0 ? c.res() : memory.getLong((int)BufferRef.offset(out) + 40));
            return stat;
        });
        group.start();
        completions.runUntilSettled(group, 120, TimeUnit.SECONDS);
        assertEquals(files, group.res2(), "every file fed");
        assertEquals(List.of(), group.children(), "the settled fed children are let go");
        assertEquals(0, group.failures(), () -> "failed sizes: " + java.util.Arrays.stream(seenSizes).filter(v -> v < 0)
            .limit(5).boxed().collect(java.util.stream.Collectors.toList()));
        assertTrue(group.maxInFlight() <= 64, "observed " + group.maxInFlight() + " in flight");
        assertEquals(64, group.maxInFlight(), "the feeder kept the limit busy");
        final List<String> wrong = new ArrayList<>();
        for (int i = 0; i < files; i++)
        {
            if (seenSizes[i] != i % 97 && wrong.size() < 5)
            {
                wrong.add("f" + i + " size " + seenSizes[i]);
            }
        }
        assertEquals(List.of(), wrong, "every statx saw its file's size");
    }

    @Test
    void cancellingAParentCancelsItsChildrenTopDownButNotTheOtherWayRound() throws Exception
    {
        final int[] pipe = pipe();
        final Group top = completions.allOf();
        final Group inner = completions.allOf();
        final OpCompletion a = inner.add(Op.read(pipe[0], BufferRef.of(buffer, 0), 1));
        final OpCompletion b = inner.add(Op.nanosleep(TimeUnit.SECONDS.toNanos(60)));
        top.add(inner);
        final OpCompletion c = top.add(Op.read(pipe[0], BufferRef.of(buffer, 0), 1));
        top.start();
        Thread.sleep(50);
        assertTrue(c.cancel(), "cancel a child");
        completions.runUntilSettled(c, 10, TimeUnit.SECONDS);
        assertEquals(-Errno.ECANCELED, c.res());
        assertFalse(top.isCompleted(), "cancelling a child does not cancel the parent");
        assertTrue(top.cancel());
        completions.runUntilSettled(top, 10, TimeUnit.SECONDS);
        assertEquals(-Errno.ECANCELED, a.res());
        assertEquals(-Errno.ECANCELED, b.res());
        assertEquals(-Errno.ECANCELED, inner.res());
        assertEquals(-Errno.ECANCELED, top.res());
        assertSettledAfterChildren(top);
    }

    @Test
    void childThatCompletesBeforeItsParentIsSetUpIsCounted()
    {
        final OpCompletion early = completions.submit(Op.nop());
        completions.runUntilSettled(early, 10, TimeUnit.SECONDS);
        final Group group = completions.allOf();
        group.add(early);
        group.add(Op.nop());
        group.start();
        completions.runUntilSettled(group, 10, TimeUnit.SECONDS);
        assertEquals(0, group.res());
        assertEquals(2, group.children().size());
    }

    /**
     * A group's last child can settle (on a reaping thread) while the thread that started the group is
     * still finishing its start: exactly one of the two completes the group. A reaper polls without a pause
     * while this thread starts 2 s worth of one-child groups whose pread completes inside the start.
     */
    @Test
    void aGroupWhoseChildSettlesDuringItsStartCompletesOnce() throws Exception
    {
        final int fd = open(Files.write(dir.resolve("one-page"), new byte[4096]));
        int groups = 0;
        try (BackgroundReaper reaper = new BackgroundReaper(completions, 0, 0))
        {
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() - end < 0 && reaper.failure() == null)
            {
                final Group group = completions.allOf();
                group.add(Op.pread(fd, BufferRef.of(buffer, 0), 512, 0));
                group.start();
                while (!group.isCompleted() && reaper.failure() == null)
                {
                    Thread.onSpinWait();
                }
                groups++;
            }
        }
        assertTrue(groups > 0);
    }

    @Test
    void futureAdapterCompletesWithTheResultOrTheErrno() throws Exception
    {
        final CompletableFuture<Long> ok = completions.future(Op.raw(110, 0, 0, 0, 0, 0, 0));
        final CompletableFuture<Long> bad = completions.future(Op.of(Opcode.CLOSE, 999_999, 0, 0, 0, 0, 0));
        while (!ok.isDone() || !bad.isDone())
        {
            completions.poll(1, TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertEquals(ProcessHandle.current().parent().orElseThrow().pid(), ok.get());
        final ExecutionException failure = assertThrows(ExecutionException.class, bad::get);
        assertTrue(failure.getCause().getMessage().startsWith("EBADF"), failure.getCause().getMessage());
    }

    // ------------------------------------------------------------------------------------------------------------

    private static void assertSettledAfterChildren(final Completion node)
    {
        assertTrue(node.isSettled());
        if (node instanceof Group)
        {
            for (final Completion child : ((Group)node).children())
            {
                assertTrue(child.isSettled(), child + " settled before its parent");
                assertSettledAfterChildren(child);
            }
        }
    }

    private int[] pipe()
    {
        final int[] pipe = new int[2];
        assertEquals(0, LIBC.pipe2(pipe, Natives.O_CLOEXEC));
        fds.add(pipe[0]);
        fds.add(pipe[1]);
        return pipe;
    }

    private void writeToPipe(final int fd, final String text)
    {
        final int at = 7 << 20;
        memory.putStringWithoutLengthAscii(at, text);
        assertEquals(text.length(), LIBC.write(fd, memory.addressOffset() + at, text.length()));
    }

    private int open(final Path file)
    {
        final long ref = path(file);
        final int fd = LIBC.openat(Natives.AT_FDCWD, memory.addressOffset() + BufferRef.offset(ref), Natives.O_RDONLY, 0);
        assertTrue(fd >= 0);
        fds.add(fd);
        return fd;
    }

    /** Writes a NUL-terminated path into the registered buffer. */
    private long path(final Path file)
    {
        final byte[] bytes = file.toString().getBytes(StandardCharsets.UTF_8);
        if (pathCursor + bytes.length + 1 > (7 << 20))
        {
            pathCursor = 4 << 20;
        }
        final int at = pathCursor;
        memory.putBytes(at, bytes);
        memory.putByte(at + bytes.length, (byte)0);
        pathCursor += bytes.length + 1;
        return BufferRef.of(buffer, at);
    }
}
