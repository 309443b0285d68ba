package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.IovDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.attributes.AttributeCursor;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.AttributeStatus;
import io.syslet.attributes.CacheOutcome;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Attributes against the real page cache. Files live under /var/tmp, a disk filesystem, because a
 * tmpfs /tmp would make every read UNSUPPORTED_BY_FILESYSTEM; tmpfs is tested on purpose with /dev/shm.
 */
class AttributesTest
{
    private static final int POSIX_FADV_RANDOM = 1;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final int PAGE = 4096;
    private static final int[] ALL = {AttributeId.LATENCY, AttributeId.CACHE, AttributeId.CPU, AttributeId.BLOCKED,
        AttributeId.BYTES, AttributeId.WORKER_TID};

    private final List<Integer> fds = new ArrayList<>();
    private Path dir;
    private UnsafeBuffer memory;
    private IocbWriter writer;

    @BeforeEach
    void setUp() throws IOException
    {
        dir = Files.createTempDirectory(Path.of("/var/tmp"), "syslet-attr");
        memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(16 << 20, PAGE));
        writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 64)));
    }

    @AfterEach
    void tearDown() throws IOException
    {
        for (final int fd : fds)
        {
            LIBC.close(fd);
        }
        try (var paths = Files.walk(dir))
        {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void evictedFileIsMissAndBlockedThenHitAndNotBlocked() throws IOException
    {
        final Path file = writeSynced(dir.resolve("cold.bin"), 8 << 20);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(memory);
            final int fd = open(file);
            warmUp(ctx);
            evict(fd);
            // Off the immediate path for the cold read: Linux starts readahead even when RWF_NOWAIT answers
            // EAGAIN, so on a loaded machine the IO can finish during the hand-off to a worker and the
            // worker would rightly not sleep. On the worker, the RWF_NOWAIT probe and the blocking read
            // follow each other at once, so the read waits for the IO the probe found missing.
            writer.pread(1, fd, BufferRef.of(buf, 0), 4 << 20, 0).attributes(ALL).flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            final Event miss = submitOne(ctx);
            assertEquals(4 << 20, miss.res());
            final AttributeCursor first = attributes(miss);
            assertEquals(CacheOutcome.MISS, find(first, AttributeId.CACHE).cacheOutcome(), describe(miss));
            assertTrue(find(first, AttributeId.BLOCKED).blocked(), "a 4 MiB read of an evicted file slept: " +
                describe(miss));

            writer.pread(2, fd, BufferRef.of(buf, 0), 4 << 20, 0).attributes(ALL);
            final Event hit = submitOne(ctx);
            final AttributeCursor second = attributes(hit);
            assertEquals(CacheOutcome.HIT, find(second, AttributeId.CACHE).cacheOutcome(), describe(hit));
            assertEquals(4 << 20, second.cacheBytes());
            assertFalse(find(second, AttributeId.BLOCKED).blocked(), describe(hit));
            assertEquals(EventDescriptor.FLAG_IMMEDIATE, hit.flags() & EventDescriptor.FLAG_IMMEDIATE);
            assertEquals(LIBC.gettid(), find(second, AttributeId.WORKER_TID).workerTid(),
                "the immediate path ran on the submitting thread");
        }
    }

    /** Pages per file that may turn up between the mincore look and the read with no miss to explain them. */
    private static final int MAX_UNEXPLAINED_ARRIVALS = 1;

    @Test
    void perFileHitsAndMissesAgreeWithFincore() throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/fincore")),
            "needs fincore (util-linux) as the oracle of page-cache residency");
        final SplittableRandom random = new SplittableRandom(42);
        final List<Path> files = new ArrayList<>();
        for (int i = 0; i < 12; i++)
        {
            files.add(writeSynced(dir.resolve("f" + i), PAGE * (8 + random.nextInt(40))));
        }
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(memory);
            for (final Path file : files)
            {
                // No readahead on this description, so a read caches exactly the pages it asks for.
                final int fd = open(file);
                assertEquals(0, LIBC.posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM));
                final int pages = (int)(Files.size(file) / PAGE);
                final boolean[] preload = new boolean[pages];
                for (int page = 0; page < pages; page++)
                {
                    preload[page] = random.nextInt(3) == 0;
                }
                assertNull(compareWithFincore(ctx, buf, file, fd, pages, preload));
            }
        }
    }

    /**
     * Evicts the file, caches the preload pages, asks fincore how many pages are resident, then reads
     * every page through the engine, one at a time, with the cache attribute, back to front.
     *
     * <p>A miss can make the kernel bring in a neighbour of the page it reads (a large folio, or
     * read-around; seen on 6.18 even with POSIX_FADV_RANDOM), which turns a later read of that neighbour
     * into a true hit that fincore, asked before, did not count. So each page's residency is also taken
     * from mincore ({@link MappedByteBuffer#isLoaded} of a one-page mapping, which touches nothing) at the
     * start and again just before its read: the engine's answer must match the latter for every page, and
     * its hit count must equal fincore's count plus the pages that came in behind a miss. The one answer
     * allowed to differ is a HIT for a page that came in between the look and the read, once a miss had
     * started IO in the file (it failed CI once that way); a MISS for a page resident before its read never.
     *
     * @return null if all of that holds, else the first difference.
     */
    private String compareWithFincore(final SysletContext ctx, final int buf, final Path file, final int fd,
        final int pages, final boolean[] preload) throws Exception
    {
        evict(fd);
        assertEquals(0, fincorePages(file), "DONTNEED left pages of " + file + " in the cache");
        for (int page = 0; page < pages; page++)
        {
            if (preload[page])
            {
                assertEquals(PAGE, LIBC.pread(fd, memory.addressOffset(), PAGE, (long)page * PAGE));
            }
        }
        final long resident = fincorePages(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            final MappedByteBuffer[] pageMaps = new MappedByteBuffer[pages];
            final boolean[] residentAtStart = new boolean[pages];
            int residentByMincore = 0;
            for (int page = 0; page < pages; page++)
            {
                pageMaps[page] = channel.map(FileChannel.MapMode.READ_ONLY, (long)page * PAGE, PAGE);
                residentAtStart[page] = pageMaps[page].isLoaded();
                residentByMincore += residentAtStart[page] ? 1 : 0;
            }
            if (residentByMincore != resident)
            {
                return file + ": fincore said " + resident + " of " + pages + " pages resident, mincore " +
                    residentByMincore;
            }
            int hits = 0;
            int broughtInByMisses = 0;
            int arrivedUnexplained = 0;
            boolean sawMiss = false;
            for (int page = pages - 1; page >= 0; page--)
            {
                final boolean residentNow = pageMaps[page].isLoaded();
                broughtInByMisses += residentNow && !residentAtStart[page] ? 1 : 0;
                writer.pread(page, fd, BufferRef.of(buf, (long)page * PAGE), PAGE, (long)page * PAGE)
                    .attributes(AttributeId.CACHE);
                final Event event = submitOne(ctx);
                assertEquals(PAGE, event.res());
                final int outcome = find(attributes(event), AttributeId.CACHE).cacheOutcome();
                if (outcome != CacheOutcome.HIT)
                {
                    assertEquals(CacheOutcome.MISS, outcome, describe(event));
                }
                if (outcome == CacheOutcome.HIT && !residentNow && sawMiss)
                {
                    // The IO a miss started for a neighbour can complete between the look and the read.
                    broughtInByMisses++;
                }
                else if (outcome == CacheOutcome.HIT && !residentNow && arrivedUnexplained < MAX_UNEXPLAINED_ARRIVALS)
                {
                    // mincore counts only up-to-date pages: a page whose read is still in flight looks absent,
                    // then RWF_NOWAIT finds it done. Seen once in CI with no miss before it in the file. A
                    // HIT is what RWF_NOWAIT returned without waiting, so it is right; but an engine that
                    // called every absent page a hit would pass this many per file at most.
                    arrivedUnexplained++;
                    broughtInByMisses++;
                }
                else if ((outcome == CacheOutcome.HIT) != residentNow)
                {
                    return file + ": page " + page + " was " + (residentNow ? "" : "not ") + "resident just " +
                        "before its read (mincore), but the engine said " + (residentNow ? "MISS" : "HIT") +
                        (residentNow ? "" : ", and neither a miss before it nor IO in flight explains it");
                }
                sawMiss |= outcome == CacheOutcome.MISS;
                hits += outcome == CacheOutcome.HIT ? 1 : 0;
            }
            return hits == resident + broughtInByMisses ? null :
                file + ": fincore said " + resident + " of " + pages + " pages resident and " + broughtInByMisses +
                " came in behind misses; the engine saw " + hits + " hits";
        }
    }

    @Test
    void tmpfsIsNeverAMiss() throws IOException
    {
        final Path shm = Path.of("/dev/shm");
        Assumptions.assumeTrue(Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type()),
            "needs /dev/shm on tmpfs");
        final Path file = Files.createTempFile(shm, "syslet", ".bin");
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            SysletContext noImmediate = SysletContext.setup(new SetupParams().flags(SetupParams.FLAG_NO_IMMEDIATE)))
        {
            Files.write(file, new byte[1 << 20]);
            final int fd = open(file);
            evict(fd);
            for (final SysletContext context : new SysletContext[]{ctx, noImmediate})
            {
                final int buf = context.registerBuffer(memory);
                for (int i = 0; i < 16; i++)
                {
                    writer.pread(i, fd, BufferRef.of(buf, 0), 65536, i * 65536L).attributes(AttributeId.CACHE);
                }
                writer.submitTo(context);
                for (final Event event : SysletTestSupport.reap(context, 16).values())
                {
                    assertEquals(65536, event.res());
                    assertEquals(CacheOutcome.UNSUPPORTED_BY_FILESYSTEM,
                        find(attributes(event), AttributeId.CACHE).cacheOutcome(), describe(event));
                }
            }
        }
        finally
        {
            Files.delete(file);
        }
    }

    @Test
    void sleepIsOffCpu()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            writer.nanosleep(1, TimeUnit.MILLISECONDS.toNanos(10)).attributes(AttributeId.CPU, AttributeId.BLOCKED,
                AttributeId.CACHE, AttributeId.BYTES);
            final Event event = submitOne(ctx);
            assertEquals(0, event.res());
            final AttributeCursor cpu = find(attributes(event), AttributeId.CPU);
            assertTrue(cpu.cpuOffNanos() >= TimeUnit.MILLISECONDS.toNanos(9), describe(event));
            assertTrue(cpu.cpuOnNanos() <= TimeUnit.MILLISECONDS.toNanos(2), describe(event));
            assertTrue(find(attributes(event), AttributeId.BLOCKED).blocked(), describe(event));
            assertEquals(AttributeStatus.NOT_APPLICABLE, find(attributes(event), AttributeId.CACHE).status());
            assertEquals(AttributeStatus.NOT_APPLICABLE, find(attributes(event), AttributeId.BYTES).status());
        }
    }

    /**
     * The other half of {@link #sleepIsOffCpu}: copying 8 MiB out of the page cache is CPU work on the calling
     * thread, which its CPU clock must show (a CPU time that is always 0 passes the sleep test).
     */
    @Test
    void aCachedCopyIsOnCpu() throws IOException
    {
        final Path file = writeSynced(dir.resolve("copy.bin"), 8 << 20);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            assertEquals(8 << 20, LIBC.pread(fd, memory.addressOffset(), 8 << 20, 0)); // cache it
            final int buf = ctx.registerBuffer(memory);
            writer.pread(1, fd, BufferRef.of(buf, 0), 8 << 20, 0).attributes(AttributeId.CPU)
                .flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            final Event event = submitOne(ctx);
            assertEquals(8 << 20, event.res(), describe(event));
            assertTrue(find(attributes(event), AttributeId.CPU).cpuOnNanos() > 0, describe(event));
        }
    }

    /**
     * The blocked attribute's involuntary count (docs/ABI.md section 21, u64 involuntary @16) is the call's
     * preemptions: cached 16 MiB copies run on a worker while more threads than CPUs spin, so the scheduler must
     * take the CPU from some copy (at the latest when its syscall returns to user space). Not timing: the copies
     * repeat until one reports a preemption, which with every CPU oversubscribed comes within a few; an engine that
     * always said 0 never gets there.
     */
    @Test
    void aCopyThatCompetesForTheCpuCountsItsPreemptions() throws Exception
    {
        final int size = 16 << 20;
        final Path file = writeSynced(dir.resolve("contended.bin"), size);
        final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        final List<Thread> spinners = new ArrayList<>();
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            assertEquals(size, LIBC.pread(fd, memory.addressOffset(), size, 0)); // cache it
            final int buf = ctx.registerBuffer(memory);
            for (int i = 0; i <= Runtime.getRuntime().availableProcessors(); i++)
            {
                final Thread spinner = new Thread(() ->
                {
                    while (!stop.get())
                    {
                        Thread.onSpinWait();
                    }
                }, "attributes-test-spinner-" + i);
                spinner.setDaemon(true);
                spinner.start();
                spinners.add(spinner);
            }
            final List<String> seen = new ArrayList<>();
            for (int attempt = 0; attempt < 500; attempt++)
            {
                writer.pread(attempt, fd, BufferRef.of(buf, 0), size, 0).attributes(AttributeId.BLOCKED)
                    .flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
                final Event event = submitOne(ctx);
                assertEquals(size, event.res(), describe(event));
                final AttributeCursor blocked = find(attributes(event), AttributeId.BLOCKED);
                assertTrue(blocked.involuntarySwitches() >= 0, describe(event));
                if (blocked.involuntarySwitches() > 0)
                {
                    return;
                }
                if (seen.size() < 5)
                {
                    seen.add(describe(event));
                }
            }
            fail("500 contended 16 MiB copies, none preempted by the engine's count: " + seen);
        }
        finally
        {
            stop.set(true);
            for (final Thread spinner : spinners)
            {
                spinner.join();
            }
        }
    }

    @Test
    void latencyIntervalsHoldOverManyRandomOps() throws IOException
    {
        final Path file = writeSynced(dir.resolve("warm.bin"), 1 << 20);
        final int total = Integer.getInteger("syslet.latency.ops", 100_000);
        final SplittableRandom random = new SplittableRandom(7);
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(1024)))
        {
            final int buf = ctx.registerBuffer(memory);
            final int fd = open(file);
            final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 20, 64));
            final io.syslet.abi.EventCursor cursor = new io.syslet.abi.EventCursor();
            final AttributeCursor attributes = new AttributeCursor();
            // Per cookie: a clock reading taken before the submit that accepted it (so no timestamp of its may be
            // earlier), and the nanosleep it asked for (its service time must cover it: the kernel sleeps at
            // least that long on CLOCK_MONOTONIC, the clock of System.nanoTime), or -1.
            final long[] notBefore = new long[total];
            final long[] sleepNanos = new long[total];
            int submitted = 0;
            int stamped = 0;
            int reaped = 0;
            int immediate = 0;
            while (reaped < total)
            {
                while (submitted < total && writer.count() < 64)
                {
                    final int kind = random.nextInt(5);
                    final long cookie = submitted++;
                    sleepNanos[(int)cookie] = -1;
                    switch (kind)
                    {
                        case 0: writer.nop(cookie); break;
                        case 1: writer.pread(cookie, fd, BufferRef.of(buf, 0), PAGE, random.nextInt(256) * (long)PAGE); break;
                        case 2:
                            sleepNanos[(int)cookie] = random.nextInt(20_000);
                            writer.nanosleep(cookie, sleepNanos[(int)cookie]);
                            break;
                        case 3: writer.raw(cookie, 110, 0, 0, 0, 0, 0, 0); break;
                        default: writer.pwrite(cookie, fd, BufferRef.of(buf, 0), 0, 0); break;
                    }
                    writer.attributes(AttributeId.LATENCY);
                }
                // Iocbs still in the writer were appended before this reading, so it is before their submit.
                final long beforeSubmit = System.nanoTime();
                for (; stamped < submitted; stamped++)
                {
                    notBefore[stamped] = beforeSubmit;
                }
                try
                {
                    writer.submitTo(ctx);
                }
                catch (final AioException e)
                {
                    assertEquals(Errno.EAGAIN, e.errno());
                }
                final int bytes = ctx.getEvents(dst, 0, dst.capacity(), 1, TimeUnit.SECONDS.toNanos(10));
                final long afterReap = System.nanoTime();
                cursor.wrap(dst, 0, bytes);
                while (cursor.next())
                {
                    final Event event = cursor.event();
                    attributes.wrap(event.buffer(), event.offset() + EventDescriptor.ATTRIBUTES_OFFSET,
                        event.attributesLength());
                    assertTrue(attributes.next());
                    assertEquals(AttributeStatus.OK, attributes.status(), event::toString);
                    final long queue = attributes.latencyStartNanos() - attributes.latencySubmitNanos();
                    final long service = attributes.latencyEndNanos() - attributes.latencyStartNanos();
                    final long all = attributes.latencyPublishNanos() - attributes.latencySubmitNanos();
                    if (queue < 0 || service < 0 || all < 0 || queue + service > all)
                    {
                        fail("latency intervals broken: queue=" + queue + " service=" + service + " total=" + all +
                            " for " + event);
                    }
                    // Not timing: readings of the one monotonic clock, ordered by what happened.
                    final long cookie = event.cookie();
                    if (attributes.latencySubmitNanos() - notBefore[(int)cookie] < 0 ||
                        afterReap - attributes.latencyPublishNanos() < 0)
                    {
                        fail("latency timestamps outside [before its submit, after its reap] = [" +
                            notBefore[(int)cookie] + ", " + afterReap + "]: submit " + attributes.latencySubmitNanos() +
                            ", publish " + attributes.latencyPublishNanos() + " for " + event);
                    }
                    if (sleepNanos[(int)cookie] >= 0 && (event.res() != 0 || service < sleepNanos[(int)cookie]))
                    {
                        fail("a nanosleep of " + sleepNanos[(int)cookie] + " ns gave res " + event.res() +
                            " and a service time of " + service + " ns: " + event);
                    }
                    // Nothing cancels these ops: wherever one ran, its event was built right after its call, and
                    // its end reading is its publication time (docs/ABI.md section 21).
                    assertEquals(queue + service, all, event::toString);
                    if (event.opcode() == Opcode.PREAD && (event.flags() & EventDescriptor.FLAG_IMMEDIATE) != 0)
                    {
                        // Completed inside submit: one reading for submit and start.
                        assertEquals(0, queue, event::toString);
                        immediate++;
                    }
                    reaped++;
                }
            }
            assertEquals(total, reaped);
            assertTrue(immediate > 0, "no pread of the synced, cached file completed on the immediate path");
        }
    }

    /**
     * The queue time is real: with one unbounded worker, held by a read of an empty pipe until the test writes
     * to it, a nanosleep submitted with it waits in the queue until the read ends. No timing: every bound
     * below is a reading of the same monotonic clock, ordered by what had to happen first. The sleep's submit
     * timestamp is from before submit returned, its start from after the read ended, which was after the write.
     */
    @Test
    void anOpQueuedBehindABlockedOneHasItsQueueTimeFromSubmitToStart()
    {
        final int[] pipe = pipe();
        try (SysletContext ctx = SysletContext.setup(new SetupParams().unboundedWorkers(1)))
        {
            final int buf = ctx.registerBuffer(memory);
            writer.read(1, pipe[0], BufferRef.of(buf, 0), 1).attributes(AttributeId.LATENCY);
            writer.nanosleep(2, 0).attributes(AttributeId.LATENCY);
            final long beforeSubmit = System.nanoTime();
            assertEquals(2, writer.submitTo(ctx));
            final long afterSubmit = System.nanoTime();
            long beforeWrite = System.nanoTime();
            while (beforeWrite == afterSubmit)
            {
                beforeWrite = System.nanoTime();
            }
            memory.putByte(4096, (byte)7);
            assertEquals(1, LIBC.write(pipe[1], memory.addressOffset() + 4096, 1));
            final Map<Long, Event> events = SysletTestSupport.reap(ctx, 2);
            final Event read = events.get(1L);
            final Event sleep = events.get(2L);
            assertEquals(1, read.res(), read.toString());
            assertEquals(0, sleep.res(), sleep.toString());
            final AttributeCursor readLatency = find(attributes(read), AttributeId.LATENCY);
            final AttributeCursor sleepLatency = find(attributes(sleep), AttributeId.LATENCY);
            final String both = describe(read) + " / " + describe(sleep) + "; submit called at " + beforeSubmit +
                ", returned at " + afterSubmit + ", write at " + beforeWrite;
            assertTrue(readLatency.latencySubmitNanos() - beforeSubmit >= 0, both);
            assertTrue(afterSubmit - readLatency.latencySubmitNanos() >= 0, both);
            assertTrue(readLatency.latencyEndNanos() - beforeWrite >= 0, "the read ended after the write: " + both);
            assertTrue(sleepLatency.latencySubmitNanos() - beforeSubmit >= 0, both);
            assertTrue(afterSubmit - sleepLatency.latencySubmitNanos() >= 0, "the sleep was submitted within submit: " +
                both);
            assertTrue(sleepLatency.latencyStartNanos() - readLatency.latencyEndNanos() >= 0,
                "the one worker started the sleep after the read ended: " + both);
        }
    }

    /**
     * docs/ABI.md section 21: an op cancelled while it ran ends when the cancel wakes it, and its event, built
     * after the cancel's lock, is published no earlier than that end.
     */
    @Test
    void anOpCancelledWhileRunningEndsAfterTheCancelAndIsPublishedAfterItsEnd()
    {
        final int[] pipe = pipe();
        try (SysletContext ctx = SysletContext.setup(new SetupParams().unboundedWorkers(1)))
        {
            final int buf = ctx.registerBuffer(memory);
            writer.read(1, pipe[0], BufferRef.of(buf, 0), 1).attributes(AttributeId.LATENCY);
            final long beforeSubmit = System.nanoTime();
            assertEquals(1, writer.submitTo(ctx));
            NetTestSupport.awaitWorkerBlockedOn("read", pipe[0]);
            final long beforeCancel = System.nanoTime();
            assertEquals(AioContext.CANCELED, ctx.cancel(1));
            final Event canceled = SysletTestSupport.reapOne(ctx, 1);
            assertEquals(-Errno.ECANCELED, canceled.res(), describe(canceled));
            assertTrue((canceled.flags() & EventDescriptor.FLAG_CANCELED) != 0, describe(canceled));
            final AttributeCursor latency = find(attributes(canceled), AttributeId.LATENCY);
            assertEquals(AttributeStatus.OK, latency.status(), describe(canceled));
            final String readings = describe(canceled) + "; submit called at " + beforeSubmit + ", cancel at " +
                beforeCancel;
            assertTrue(latency.latencySubmitNanos() - beforeSubmit >= 0, readings);
            assertTrue(latency.latencyStartNanos() - latency.latencySubmitNanos() >= 0, readings);
            assertTrue(beforeCancel - latency.latencyStartNanos() >= 0, "it started before the cancel: " + readings);
            assertTrue(latency.latencyEndNanos() - beforeCancel >= 0, "the cancel ended it: " + readings);
            assertTrue(latency.latencyPublishNanos() - latency.latencyEndNanos() >= 0, readings);
        }
    }

    /**
     * docs/ABI.md section 21: latency, cpu, blocked and worker_tid are NOT_APPLICABLE for an op that never ran,
     * an unknown opcode or one cancelled while queued. A value there would be made up (a start and end never
     * read, a thread that ran nothing).
     */
    @Test
    void anOpThatNeverRanHasNoLatencyCpuBlockedOrWorkerTid()
    {
        final int[] never = {AttributeId.LATENCY, AttributeId.CPU, AttributeId.BLOCKED, AttributeId.WORKER_TID};
        final int[] pipe = pipe();
        try (SysletContext ctx = SysletContext.setup(new SetupParams().unboundedWorkers(1)))
        {
            final int buf = ctx.registerBuffer(memory);
            writer.append(Opcode.COUNT, 1, 0, 0, 0, 0, 0, 0, 0).attributes(never);
            final Event unknown = submitOne(ctx);
            assertEquals(-Errno.ENOSYS, unknown.res(), describe(unknown));
            assertNeverRan(unknown, never);

            // The one unbounded worker waits in the first read; the second waits in the queue and is cancelled there.
            writer.read(2, pipe[0], BufferRef.of(buf, 0), 1).read(3, pipe[0], BufferRef.of(buf, 8), 1).attributes(never);
            assertEquals(2, writer.submitTo(ctx));
            SysletTestSupport.awaitInFlight(ctx, 2, "both reads accepted");
            NetTestSupport.awaitWorkerBlockedOn("read", pipe[0]);
            assertEquals(AioContext.CANCELED, ctx.cancel(3));
            final Event canceled = SysletTestSupport.reapOne(ctx, 3);
            assertEquals(-Errno.ECANCELED, canceled.res(), describe(canceled));
            assertNeverRan(canceled, never);

            assertEquals(AioContext.CANCELED, ctx.cancel(2));
            assertEquals(-Errno.ECANCELED, SysletTestSupport.reapOne(ctx, 2).res());
        }
    }

    private static void assertNeverRan(final Event event, final int[] ids)
    {
        for (final int id : ids)
        {
            assertEquals(AttributeStatus.NOT_APPLICABLE, find(attributes(event), id).status(),
                AttributeId.name(id) + " of an op that never ran: " + describe(event));
        }
    }

    /**
     * docs/ABI.md, the event's submission_id: slot index (low 32 bits) and the slot's generation (high 32) for
     * an op that took a slot, so that no two ops share one even when they reuse a slot; 0xFFFFFFFF for a pread
     * the immediate path completed; 0 for a synchronous run.
     */
    @Test
    void submissionIdsNameSlotAndGenerationTheImmediatePathAndRun() throws IOException
    {
        final Path file = writeSynced(dir.resolve("ids.bin"), PAGE);
        final int maxInFlight = 4;
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(maxInFlight)))
        {
            final int fd = open(file);
            final int buf = ctx.registerBuffer(memory);
            final java.util.Set<Long> ids = new java.util.HashSet<>();
            final int ops = 200;
            for (int i = 0; i < ops; i++)
            {
                writer.nop(i);
                final Event event = submitOne(ctx);
                final long id = event.submissionId();
                assertTrue(ids.add(id), "submission id " + Long.toHexString(id) + " given twice, at op " + i);
                assertNotEquals(SysletContext.INLINE_SUBMISSION_ID, id);
                assertTrue(EventDescriptor.slot(id) >= 0 && EventDescriptor.slot(id) < maxInFlight + 16,
                    "slot index of " + Long.toHexString(id));
            }
            // Far fewer slots than ops: the ids differ by generation where a slot was reused.
            assertEquals(ops, ids.size());

            assertEquals(PAGE, LIBC.pread(fd, memory.addressOffset(), PAGE, 0)); // cache it
            writer.pread(ops, fd, BufferRef.of(buf, 0), PAGE, 0);
            final Event inline = submitOne(ctx);
            assertEquals(EventDescriptor.FLAG_IMMEDIATE, inline.flags() & EventDescriptor.FLAG_IMMEDIATE, describe(inline));
            assertEquals(SysletContext.INLINE_SUBMISSION_ID, inline.submissionId(), describe(inline));

            writer.nop(ops + 1);
            final UnsafeBuffer dst = new UnsafeBuffer(new byte[512]);
            ctx.run(writer.buffer(), 0, dst, 0);
            writer.reset();
            assertEquals(0, new Event().wrap(dst, 0).submissionId(), "a synchronous run takes no slot");
        }
    }

    @Test
    void unknownAttributeIsUnsupportedAndTheOpSucceeds()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            writer.raw(1, 110, 0, 0, 0, 0, 0, 0).attributes(999, AttributeId.BYTES, 0);
            final Event event = submitOne(ctx);
            assertEquals(ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L), event.res());
            final AttributeCursor cursor = attributes(event);
            assertTrue(cursor.next());
            assertEquals(999, cursor.id());
            assertEquals(AttributeStatus.UNSUPPORTED, cursor.status());
            assertTrue(cursor.next());
            assertEquals(AttributeStatus.NOT_APPLICABLE, cursor.status());
            assertTrue(cursor.next());
            assertEquals(0, cursor.id());
            assertEquals(AttributeStatus.UNSUPPORTED, cursor.status());
            assertFalse(cursor.next());
        }
    }

    @Test
    void immediatePathCanBeTurnedOffBySetupOrPerIocb() throws IOException
    {
        final Path file = writeSynced(dir.resolve("hot.bin"), 1 << 20);
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            SysletContext off = SysletContext.setup(new SetupParams().flags(SetupParams.FLAG_NO_IMMEDIATE)))
        {
            final int fd = open(file);
            assertEquals(65536, LIBC.pread(fd, memory.addressOffset(), 65536, 0)); // cache it
            final int buf = ctx.registerBuffer(memory);
            writer.pread(1, fd, BufferRef.of(buf, 0), 65536, 0).attributes(AttributeId.WORKER_TID, AttributeId.CACHE)
                .flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            final Event perIocb = submitOne(ctx);
            assertEquals(0, perIocb.flags() & EventDescriptor.FLAG_IMMEDIATE);
            assertNotEquals(LIBC.gettid(), find(attributes(perIocb), AttributeId.WORKER_TID).workerTid());
            assertEquals(CacheOutcome.HIT, find(attributes(perIocb), AttributeId.CACHE).cacheOutcome(),
                "the worker measures the cache itself when the immediate path is off");

            final int offBuf = off.registerBuffer(memory);
            writer.pread(2, fd, BufferRef.of(offBuf, 0), 65536, 0).attributes(AttributeId.WORKER_TID);
            final Event bySetup = submitOne(off);
            assertEquals(65536, bySetup.res());
            assertEquals(0, bySetup.flags() & EventDescriptor.FLAG_IMMEDIATE);
            assertNotEquals(LIBC.gettid(), find(attributes(bySetup), AttributeId.WORKER_TID).workerTid());
        }
    }

    @Test
    void partlyCachedReadIsPartialAndComplete() throws IOException
    {
        final Path file = dir.resolve("partial.bin");
        final byte[] content = writeRandom(file, 3);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            assertEquals(0, LIBC.fdatasync(fd));
            assertEquals(0, LIBC.posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM));
            evict(fd);
            assertEquals(65536, LIBC.pread(fd, memory.addressOffset(), 65536, 0));
            final int buf = ctx.registerBuffer(memory);
            memory.setMemory(0, content.length, (byte)0);
            writer.pread(1, fd, BufferRef.of(buf, 0), content.length, 0).attributes(AttributeId.CACHE, AttributeId.BYTES);
            final Event event = submitOne(ctx);
            assertEquals(content.length, event.res());
            final AttributeCursor cache = find(attributes(event), AttributeId.CACHE);
            assertEquals(CacheOutcome.PARTIAL, cache.cacheOutcome(), describe(event));
            assertEquals(65536, cache.cacheBytes());
            assertEquals(content.length, find(attributes(event), AttributeId.BYTES).bytes());
            final byte[] read = new byte[content.length];
            memory.getBytes(0, read);
            assertArrayEquals(content, read);
        }
    }

    /**
     * PREADV is a read too, and its partial path is its own: the worker's RWF_NOWAIT attempt fills part of the
     * vector, then the blocking read continues from the element and the byte within it where the cached part
     * ended. The cached 64 KiB end inside the middle element, so both must be right for the bytes to land.
     */
    @Test
    void preadvReportsTheCacheAndAPartlyCachedVectorIsFilledWhole() throws IOException
    {
        final Path file = dir.resolve("vectored.bin");
        final byte[] content = writeRandom(file, 5);
        final int[] at = {0, 100_000, 200_000};
        final int[] lengths = {10_000, 100_000, content.length - 110_000};
        final int iovAt = 1 << 20;
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            assertEquals(0, LIBC.fdatasync(fd));
            assertEquals(0, LIBC.posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM));
            final int buf = ctx.registerBuffer(memory);
            for (int i = 0; i < at.length; i++)
            {
                memory.putLong(iovAt + i * IovDescriptor.LENGTH + IovDescriptor.BUFFER_OFFSET, BufferRef.of(buf, at[i]));
                memory.putLong(iovAt + i * IovDescriptor.LENGTH + IovDescriptor.LENGTH_OFFSET, lengths[i]);
            }

            evict(fd);
            assertEquals(65536, LIBC.pread(fd, memory.addressOffset() + (2 << 20), 65536, 0));
            memory.setMemory(0, iovAt, (byte)0);
            writer.preadv(1, fd, BufferRef.of(buf, iovAt), at.length, 0).attributes(AttributeId.CACHE, AttributeId.BYTES);
            final Event partial = submitOne(ctx);
            assertEquals(content.length, partial.res(), describe(partial));
            final AttributeCursor cache = find(attributes(partial), AttributeId.CACHE);
            assertEquals(CacheOutcome.PARTIAL, cache.cacheOutcome(), describe(partial));
            assertEquals(65536, cache.cacheBytes(), describe(partial));
            assertEquals(content.length, find(attributes(partial), AttributeId.BYTES).bytes());
            assertVectorHolds(content, at, lengths);

            writer.preadv(2, fd, BufferRef.of(buf, iovAt), at.length, 0).attributes(AttributeId.CACHE);
            final Event hit = submitOne(ctx);
            assertEquals(content.length, hit.res(), describe(hit));
            assertEquals(CacheOutcome.HIT, find(attributes(hit), AttributeId.CACHE).cacheOutcome(), describe(hit));

            evict(fd);
            memory.setMemory(0, iovAt, (byte)0);
            writer.preadv(3, fd, BufferRef.of(buf, iovAt), at.length, 0).attributes(AttributeId.CACHE);
            final Event miss = submitOne(ctx);
            assertEquals(content.length, miss.res(), describe(miss));
            assertEquals(CacheOutcome.MISS, find(attributes(miss), AttributeId.CACHE).cacheOutcome(), describe(miss));
            assertVectorHolds(content, at, lengths);
        }
    }

    /**
     * @return the 256 KiB of random bytes now in {@code file}.
     */
    private static byte[] writeRandom(final Path file, final long seed) throws IOException
    {
        final byte[] content = new byte[256 * 1024];
        new SplittableRandom(seed).nextBytes(content);
        Files.write(file, content);
        return content;
    }

    private void assertVectorHolds(final byte[] content, final int[] at, final int[] lengths)
    {
        int from = 0;
        for (int i = 0; i < at.length; i++)
        {
            final byte[] got = new byte[lengths[i]];
            memory.getBytes(at[i], got);
            assertArrayEquals(java.util.Arrays.copyOfRange(content, from, from + lengths[i]), got,
                "iov element " + i + " (file bytes " + from + " to " + (from + lengths[i]) + ")");
            from += lengths[i];
        }
    }

    @Test
    void readPastTheEndOfACachedFileIsAHitOnTheSubmittingThread() throws IOException
    {
        final Path file = writeSynced(dir.resolve("tail.bin"), 10_000);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            assertEquals(10_000, LIBC.pread(fd, memory.addressOffset(), 16_384, 0)); // cache it
            final int buf = ctx.registerBuffer(memory);
            writer.pread(1, fd, BufferRef.of(buf, 0), 16_384, 0).attributes(AttributeId.CACHE, AttributeId.WORKER_TID);
            final Event event = submitOne(ctx);
            assertEquals(10_000, event.res(), "a short read at the end of the file");
            assertEquals(EventDescriptor.FLAG_IMMEDIATE, event.flags() & EventDescriptor.FLAG_IMMEDIATE);
            assertEquals(CacheOutcome.HIT, find(attributes(event), AttributeId.CACHE).cacheOutcome(), describe(event));
            assertEquals(LIBC.gettid(), find(attributes(event), AttributeId.WORKER_TID).workerTid());
        }
    }

    /**
     * The preadv half of {@link #readPastTheEndOfACachedFileIsAHitOnTheSubmittingThread}: preadv is not asked
     * again without blocking, so its short RWF_NOWAIT answer at the end of a cached file is settled by the
     * blocking read of the rest, which returns 0 (docs/ABI.md section 21: "If asking again or that blocking read
     * returns 0 (end of file), the answer is HIT"). Every byte came from the cache: not PARTIAL.
     */
    @Test
    void preadvPastTheEndOfACachedFileIsAHit() throws IOException
    {
        final Path file = writeSynced(dir.resolve("vtail.bin"), 10_000);
        final int iovAt = 1 << 20;
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            assertEquals(10_000, LIBC.pread(fd, memory.addressOffset(), 16_384, 0)); // cache it
            final int buf = ctx.registerBuffer(memory);
            for (int i = 0; i < 2; i++)
            {
                memory.putLong(iovAt + i * IovDescriptor.LENGTH + IovDescriptor.BUFFER_OFFSET,
                    BufferRef.of(buf, i * 8192L));
                memory.putLong(iovAt + i * IovDescriptor.LENGTH + IovDescriptor.LENGTH_OFFSET, 8192);
            }
            writer.preadv(1, fd, BufferRef.of(buf, iovAt), 2, 0).attributes(AttributeId.CACHE, AttributeId.BYTES);
            final Event event = submitOne(ctx);
            assertEquals(10_000, event.res(), "a short read at the end of the file: " + describe(event));
            final AttributeCursor cache = find(attributes(event), AttributeId.CACHE);
            assertEquals(CacheOutcome.HIT, cache.cacheOutcome(), describe(event));
            assertEquals(10_000, cache.cacheBytes(), describe(event));
            assertEquals(10_000, find(attributes(event), AttributeId.BYTES).bytes(), describe(event));
        }
    }

    @Test
    void cacheSideChannelCanBeClosed() throws IOException
    {
        final Path file = writeSynced(dir.resolve("secret.bin"), 65536);
        try (SysletContext ctx = SysletContext.setup(new SetupParams().flags(SetupParams.FLAG_NO_CACHE_ATTRIBUTE)))
        {
            assertFalse(ctx.probe().supportedAttributes().contains("cache"));
            final int fd = open(file);
            assertEquals(65536, LIBC.pread(fd, memory.addressOffset(), 65536, 0));
            final int buf = ctx.registerBuffer(memory);
            writer.pread(1, fd, BufferRef.of(buf, 0), 65536, 0).attributes(AttributeId.CACHE, AttributeId.WORKER_TID);
            final Event event = submitOne(ctx);
            assertEquals(65536, event.res());
            assertEquals(0, event.flags() & EventDescriptor.FLAG_IMMEDIATE);
            assertEquals(AttributeStatus.NOT_APPLICABLE, find(attributes(event), AttributeId.CACHE).status());
            // Nor does anything else tell a hit: the read of a cached file went to a worker like any other.
            assertNotEquals(SysletContext.INLINE_SUBMISSION_ID, event.submissionId(), "no inline completion");
            assertNotEquals(LIBC.gettid(), find(attributes(event), AttributeId.WORKER_TID).workerTid());
        }
    }

    @Test
    void aReadThatFailsWithEinvalSaysNothingOfTheCache() throws IOException
    {
        final Path file = writeSynced(dir.resolve("einval.bin"), 4096);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            final int buf = ctx.registerBuffer(memory);
            writer.pread(1, fd, BufferRef.of(buf, 0), 4096, -4096).attributes(AttributeId.CACHE);
            final Event event = submitOne(ctx);
            assertEquals(-Errno.EINVAL, event.res());
            assertEquals(AttributeStatus.FAILED, find(attributes(event), AttributeId.CACHE).status(),
                "a negative offset is the op's own EINVAL, not a kernel without RWF_NOWAIT");
        }
    }

    /**
     * A negative count is refused with EINVAL before any call, and that says nothing of the cache. The cache
     * probe took the refusal for the RWF_NOWAIT attempt's answer: a count of exactly -22 equals it, which read
     * as "all of it came from the cache" (an inline HIT of -22 bytes on an op that failed), and any other
     * negative count as a kernel without RWF_NOWAIT (UNSUPPORTED_BY_FILESYSTEM).
     */
    @Test
    void aReadOfCountMinus22FailsWithEinvalAndIsNoCacheHit() throws IOException
    {
        final Path file = writeSynced(dir.resolve("minus-22.bin"), 4096);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            final int buf = ctx.registerBuffer(memory);
            writer.pread(1, fd, BufferRef.of(buf, 0), -Errno.EINVAL, 0).attributes(AttributeId.CACHE);
            writer.pread(2, fd, BufferRef.of(buf, 0), -Errno.EINVAL, 0).attributes(AttributeId.CACHE)
                .flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            writer.pread(3, fd, BufferRef.of(buf, 0), -1, 0).attributes(AttributeId.CACHE);
            assertEquals(3, writer.submitTo(ctx));
            final Map<Long, Event> events = SysletTestSupport.reap(ctx, 3);
            for (long cookie = 1; cookie <= 3; cookie++)
            {
                final Event event = events.get(cookie);
                assertEquals(-Errno.EINVAL, event.res(), describe(event));
                assertEquals(AttributeStatus.FAILED, find(attributes(event), AttributeId.CACHE).status(), describe(event));
            }
        }
    }

    /**
     * A preadv refused before any call (an iov array outside its buffer, a negative iovcnt, a bad fd) says
     * nothing of the cache: FAILED, as a pread refused before its call does (section 21: FAILED "could not be
     * measured"; NOT_APPLICABLE is for ops the cache does not describe, and preadv is one it does). The probe
     * was never reached, and the attribute answered NOT_APPLICABLE.
     */
    @Test
    void aPreadvRefusedBeforeAnyCallSaysFailedForTheCacheAsAPreadDoes() throws IOException
    {
        final Path file = writeSynced(dir.resolve("refused.bin"), PAGE);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            final int buf = ctx.registerBuffer(memory);
            final int iov = 1 << 20;
            memory.putLong(iov + IovDescriptor.BUFFER_OFFSET, BufferRef.of(buf, 0));
            memory.putLong(iov + IovDescriptor.LENGTH_OFFSET, PAGE);
            writer.preadv(1, fd, BufferRef.of(buf, memory.capacity() - 8), 1, 0).attributes(AttributeId.CACHE);
            writer.preadv(2, fd, BufferRef.of(buf, iov), -1, 0).attributes(AttributeId.CACHE);
            writer.preadv(3, -1, BufferRef.of(buf, iov), 1, 0).attributes(AttributeId.CACHE);
            writer.pread(4, -1, BufferRef.of(buf, 0), PAGE, 0).attributes(AttributeId.CACHE);
            assertEquals(4, writer.submitTo(ctx));
            final Map<Long, Event> events = SysletTestSupport.reap(ctx, 4);
            assertEquals(-Errno.EFAULT, events.get(1L).res(), describe(events.get(1L)));
            assertEquals(-Errno.EINVAL, events.get(2L).res(), describe(events.get(2L)));
            assertEquals(-Errno.EBADF, events.get(3L).res(), describe(events.get(3L)));
            assertEquals(-Errno.EBADF, events.get(4L).res(), describe(events.get(4L)));
            for (long cookie = 1; cookie <= 4; cookie++)
            {
                assertEquals(AttributeStatus.FAILED, find(attributes(events.get(cookie)), AttributeId.CACHE).status(),
                    describe(events.get(cookie)));
            }
        }
    }

    /**
     * preadv2 reads an offset of -1 as "the fd's current position, and move it": a pread or preadv asking for
     * offset -1 must not get that from the RWF_NOWAIT attempt, but pread's own answer, EINVAL, on every path,
     * and leave the fd's position alone.
     */
    @Test
    void aReadAtOffsetMinusOneFailsWithEinvalOnEveryPathAndLeavesTheFdPositionAlone() throws IOException
    {
        final Path file = writeSynced(dir.resolve("minus-one.bin"), 2 * PAGE);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            assertEquals(2 * PAGE, LIBC.pread(fd, memory.addressOffset(), 2 * PAGE, 0)); // cached: the fast path answers
            final int buf = ctx.registerBuffer(memory);
            final int iov = 1 << 20;
            memory.putLong(iov + IovDescriptor.BUFFER_OFFSET, BufferRef.of(buf, 0));
            memory.putLong(iov + IovDescriptor.LENGTH_OFFSET, PAGE);
            // Inline, on a worker with the cache probe, on a worker without it; preadv with the probe.
            writer.pread(1, fd, BufferRef.of(buf, 0), PAGE, -1);
            writer.pread(2, fd, BufferRef.of(buf, 0), PAGE, -1).attributes(AttributeId.CACHE)
                .flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            writer.pread(3, fd, BufferRef.of(buf, 0), PAGE, -1).flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            writer.preadv(4, fd, BufferRef.of(buf, iov), 1, -1).attributes(AttributeId.CACHE);
            assertEquals(4, writer.submitTo(ctx));
            final Map<Long, Event> events = SysletTestSupport.reap(ctx, 4);
            for (long cookie = 1; cookie <= 4; cookie++)
            {
                assertEquals(-Errno.EINVAL, events.get(cookie).res(), "op " + cookie + ": " + describe(events.get(cookie)));
            }
            // A read of the fd's own position shows where it stands: still at the start.
            assertEquals(PAGE, LIBC.read(fd, memory.addressOffset(), PAGE));
            assertEquals(PAGE, LIBC.read(fd, memory.addressOffset() + PAGE, PAGE));
            assertEquals(0, LIBC.read(fd, memory.addressOffset(), PAGE), "the fd was at 0, so two pages reach its end");
        }
    }

    @Test
    void attributesThatCannotFitTheRingAreRefused()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().ringBytes(4096)))
        {
            final int[] many = new int[16];
            java.util.Arrays.fill(many, AttributeId.LATENCY);
            writer.nop(1).attributes(many);
            final AioException e = assertThrows(AioException.class, () -> writer.submitTo(ctx));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("680-byte event") && e.getMessage().contains("496 bytes"), e.getMessage());
        }
    }

    @Test
    void synchronousRunCarriesAttributesFromTheCallingThread() throws IOException
    {
        final Path file = writeSynced(dir.resolve("sync.bin"), 8192);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            final int buf = ctx.registerBuffer(memory);
            writer.pread(5, fd, BufferRef.of(buf, 0), 8192, 0).attributes(AttributeId.WORKER_TID, AttributeId.BYTES,
                AttributeId.LATENCY);
            final UnsafeBuffer dst = new UnsafeBuffer(new byte[512]);
            final int length = ctx.run(writer.buffer(), 0, dst, 0);
            writer.reset();
            final Event event = new Event().wrap(dst, 0);
            assertEquals(length, event.length());
            assertEquals(8192, event.res());
            assertEquals(Opcode.PREAD, event.opcode());
            assertEquals(LIBC.gettid(), find(attributes(event), AttributeId.WORKER_TID).workerTid());
            assertEquals(8192, find(attributes(event), AttributeId.BYTES).bytes());
        }
    }

    /**
     * The bytes attribute is what the call transferred (docs/ABI.md section 21): res for a short read and for
     * the write ops, 0 for a transferring op that failed, NOT_APPLICABLE for an op that moves no bytes. The
     * other tests only read whole files of exactly the size asked for, where the count asked and the bytes
     * moved are the same number.
     */
    @Test
    void bytesIsWhatTheCallTransferredForReadsAndWritesAndZeroWhenItFailed() throws IOException
    {
        final Path file = writeSynced(dir.resolve("bytes.bin"), 5000);
        final int[] pipe = pipe();
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            final int buf = ctx.registerBuffer(memory);

            writer.pread(1, fd, BufferRef.of(buf, 0), 8192, 0).attributes(AttributeId.BYTES);
            final Event shortRead = submitOne(ctx);
            assertEquals(5000, shortRead.res(), describe(shortRead));
            assertEquals(5000, find(attributes(shortRead), AttributeId.BYTES).bytes(), "a short read: " +
                describe(shortRead));

            writer.pwrite(2, fd, BufferRef.of(buf, 0), 3000, 5000).attributes(AttributeId.BYTES);
            final Event pwrite = submitOne(ctx);
            assertEquals(3000, pwrite.res(), describe(pwrite));
            assertEquals(3000, find(attributes(pwrite), AttributeId.BYTES).bytes(), describe(pwrite));
            assertEquals(8000, Files.size(file));

            writer.write(3, pipe[1], BufferRef.of(buf, 0), 700).attributes(AttributeId.BYTES);
            final Event write = submitOne(ctx);
            assertEquals(700, write.res(), describe(write));
            assertEquals(700, find(attributes(write), AttributeId.BYTES).bytes(), describe(write));

            writer.read(4, pipe[0], BufferRef.of(buf, PAGE), 4096).attributes(AttributeId.BYTES);
            final Event read = submitOne(ctx);
            assertEquals(700, read.res(), describe(read));
            assertEquals(700, find(attributes(read), AttributeId.BYTES).bytes(), describe(read));

            // A transferring op that fails moved nothing: 0, not its negative errno nor the count it asked for.
            writer.pwrite(5, pipe[0], BufferRef.of(buf, 0), 4096, 0).attributes(AttributeId.BYTES);
            final Event failed = submitOne(ctx);
            assertTrue(failed.res() < 0, describe(failed));
            assertEquals(0, find(attributes(failed), AttributeId.BYTES).bytes(), describe(failed));

            writer.fdatasync(6, fd).attributes(AttributeId.BYTES);
            final Event sync = submitOne(ctx);
            assertEquals(0, sync.res(), describe(sync));
            assertEquals(AttributeStatus.NOT_APPLICABLE, find(attributes(sync), AttributeId.BYTES).status());
        }
    }

    /**
     * run() holds its op in the caller's staging slot, which submit uses too: interleaved, neither may see
     * the other's op, and run() allocates nothing once warm (it used to allocate a slot per call).
     */
    @Test
    void synchronousRunAllocatesNothingAndDoesNotDisturbSubmit() throws IOException
    {
        final Path file = writeSynced(dir.resolve("run.bin"), 4 * PAGE);
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
            "this JVM cannot count a thread's allocated bytes");
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int fd = open(file);
            final int buf = ctx.registerBuffer(memory);
            final IocbWriter runIocb = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(256, 64)));
            runIocb.pread(7, fd, BufferRef.of(buf, 0), PAGE, PAGE).attributes(AttributeId.LATENCY, AttributeId.BYTES);
            final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(512, 64));
            final Event event = new Event();
            final int calls = 20_000;
            long allocated = 0;
            for (int round = 0; round < 2; round++)
            {
                final long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
                for (int i = 0; i < calls; i++)
                {
                    final int length = ctx.run(runIocb.buffer(), 0, dst, 0);
                    event.wrap(dst, 0);
                    if (length != event.length() || event.res() != PAGE || event.cookie() != 7)
                    {
                        fail("run " + i + " gave res " + event.res() + ", cookie " + event.cookie());
                    }
                }
                allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
            }
            // The second round, warm: less than one byte per call leaves no room for an object per call.
            assertTrue(allocated < calls, allocated + " bytes allocated by " + calls + " warm run() calls");

            // A submit between runs gets its own op, and a run after it its own.
            writer.nop(99);
            final Event submitted = submitOne(ctx);
            assertEquals(99, submitted.cookie());
            assertEquals(Opcode.NOP, submitted.opcode());
            assertEquals(0, submitted.res());
            ctx.run(runIocb.buffer(), 0, dst, 0);
            event.wrap(dst, 0);
            assertEquals(7, event.cookie());
            assertEquals(Opcode.PREAD, event.opcode());
            assertEquals(PAGE, event.res());
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    private Event submitOne(final SysletContext ctx)
    {
        assertEquals(1, writer.submitTo(ctx));
        final Map<Long, Event> events = SysletTestSupport.reap(ctx, 1);
        assertEquals(1, events.size());
        return events.values().iterator().next();
    }

    private void warmUp(final SysletContext ctx)
    {
        writer.nop(-1);
        submitOne(ctx);
    }

    private static AttributeCursor attributes(final Event event)
    {
        return new AttributeCursor().wrap(event.buffer(), event.offset() + EventDescriptor.ATTRIBUTES_OFFSET,
            event.attributesLength());
    }

    private static AttributeCursor find(final AttributeCursor cursor, final int id)
    {
        while (cursor.next())
        {
            if (cursor.id() == id)
            {
                return cursor;
            }
        }
        throw new AssertionError("event has no " + AttributeId.name(id) + " attribute");
    }

    private static String describe(final Event event)
    {
        final StringBuilder text = new StringBuilder(event.toString());
        final AttributeCursor cursor = attributes(event);
        while (cursor.next())
        {
            text.append(' ').append(AttributeId.name(cursor.id())).append('=');
            if (!cursor.isOk())
            {
                text.append(AttributeStatus.name(cursor.status()));
                continue;
            }
            switch (cursor.id())
            {
                case AttributeId.CACHE:
                    text.append(CacheOutcome.name(cursor.cacheOutcome())).append('/').append(cursor.cacheBytes());
                    break;
                case AttributeId.BLOCKED:
                    text.append(cursor.blocked()).append("/vcsw=").append(cursor.voluntarySwitches());
                    break;
                case AttributeId.CPU:
                    text.append(cursor.cpuOnNanos()).append("on/").append(cursor.cpuOffNanos()).append("off");
                    break;
                case AttributeId.LATENCY:
                    text.append("queue ").append(cursor.latencyStartNanos() - cursor.latencySubmitNanos())
                        .append(" service ").append(cursor.latencyEndNanos() - cursor.latencyStartNanos());
                    break;
                default:
                    text.append("ok");
            }
        }
        return text.toString();
    }

    private Path writeSynced(final Path file, final int size) throws IOException
    {
        final byte[] content = new byte[size];
        new SplittableRandom(size).nextBytes(content);
        Files.write(file, content);
        final int fd = open(file);
        assertEquals(0, LIBC.fdatasync(fd));
        return file;
    }

    private int open(final Path file)
    {
        final UnsafeBuffer path = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 8));
        final byte[] bytes = file.toString().getBytes(StandardCharsets.UTF_8);
        path.putBytes(0, bytes);
        path.putByte(bytes.length, (byte)0);
        final int fd = LIBC.openat(Natives.AT_FDCWD, path.addressOffset(), Natives.O_RDWR | Natives.O_CLOEXEC, 0);
        assertTrue(fd >= 0, "open " + file + ": errno " + -Natives.lastError());
        fds.add(fd);
        return fd;
    }

    private static void evict(final int fd)
    {
        assertEquals(0, LIBC.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
    }

    private static long fincorePages(final Path file) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder("fincore", "--noheadings", "--raw", "--output", "PAGES",
            file.toString()).redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, process.waitFor(), out);
        return Long.parseLong(out);
    }

    /**
     * @return a pipe, closed after the test.
     */
    private int[] pipe()
    {
        final int[] pipe = new int[2];
        assertEquals(0, LIBC.pipe2(pipe, Natives.O_CLOEXEC));
        fds.add(pipe[0]);
        fds.add(pipe[1]);
        return pipe;
    }
}
