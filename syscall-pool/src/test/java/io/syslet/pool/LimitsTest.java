package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.NetTestSupport.Memory;
import io.syslet.pool.NetTestSupport.Reaper;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.syslet.pool.NetTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The in-flight limit: what it refuses, what it reports, and that it also bounds the overflow list when
 * nobody reaps.
 */
class LimitsTest
{
    private static final int LIMIT = 8;

    @Test
    void limitRefusesWholeSubmissionsAcceptsPrefixesAndRecoversAfterCancel()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(LIMIT)))
        {
            final Memory mem = new Memory(ctx, 4096);
            final Reaper reaper = new Reaper(ctx);
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            final int[] pipe = pipe();
            try
            {
                for (int i = 1; i <= LIMIT; i++)
                {
                    writer.read(i, pipe[0], mem.ref(i * 8, 1), 1);
                }
                assertEquals(LIMIT, writer.submitTo(ctx));
                awaitWorkersInSyscall("read on the pipe", LIMIT, args -> args[0] == pipe[0]);
                assertEquals(LIMIT, ctx.inFlight());

                writer.nop(100);
                final AioException refused = assertThrows(AioException.class, () -> writer.submitTo(ctx));
                assertEquals(Errno.EAGAIN, refused.errno(), refused.getMessage());
                assertTrue(refused.getMessage().contains("limit of " + LIMIT), "names the limit: " + refused.getMessage());
                assertEquals(1, writer.count(), "a refused submission keeps its iocbs");
                final AioException refusedCallable = assertThrows(AioException.class,
                    () -> ctx.submitCallable(101, () -> 0L));
                assertEquals(Errno.EAGAIN, refusedCallable.errno());
                assertEquals(LIMIT, ctx.inFlight(), "refused ops are not counted");
                writer.reset();

                assertEquals(AioContext.CANCELED, ctx.cancel(1));
                assertEquals(AioContext.CANCELED, ctx.cancel(2));
                final Map<Long, Event> canceled = reaper.reap(2);
                assertEquals(-Errno.ECANCELED, canceled.get(1L).res());
                assertEquals(-Errno.ECANCELED, canceled.get(2L).res());
                SysletTestSupport.awaitInFlight(ctx, LIMIT - 2, "reaped ops left the count");

                writer.read(10, pipe[0], mem.ref(80, 1), 1)
                    .read(11, pipe[0], mem.ref(88, 1), 1)
                    .read(12, pipe[0], mem.ref(96, 1), 1);
                assertEquals(2, writer.submitTo(ctx), "room for two of three: the prefix goes in");
                assertEquals(1, writer.count(), "the third stays with the writer");
                assertEquals(LIMIT, ctx.inFlight());

                final long[] blocked = {3, 4, 5, 6, 7, 8, 10, 11};
                for (final long cookie : blocked)
                {
                    assertEquals(AioContext.CANCELED, ctx.cancel(cookie), "cookie " + cookie);
                }
                final Map<Long, Event> rest = reaper.reap(blocked.length);
                for (final long cookie : blocked)
                {
                    assertEquals(-Errno.ECANCELED, rest.get(cookie).res(), rest.toString());
                }
                SysletTestSupport.awaitInFlight(ctx, 0, "everything reaped");

                assertEquals(1, writer.submitTo(ctx), "submission works again after cancelling");
                mem.buffer.putByte(200, (byte)'x');
                writeFully(pipe[1], mem, 200, 1);
                assertEquals(1, reaper.reapOne(12).res());
                assertEquals('x', mem.buffer.getByte(96));
            }
            finally
            {
                close(pipe);
            }
        }
    }

    /**
     * Nobody reaps while 1M nops are offered: the ring fills, further events go to the overflow list, and
     * the in-flight limit (which counts the overflow list) must stop submission long before memory grows.
     * Then every accepted op's event arrives exactly once, overflow included.
     */
    @Test
    void overflowListIsBoundedWhenNobodyReaps()
    {
        final int ringBytes = 4096;
        final int limit = 64;
        final int attempts = 1_000_000;
        final int batch = 64;
        // One worker runs the nops: at most one event is between its freed slot and the ring at any instant.
        final SetupParams params = new SetupParams().ringBytes(ringBytes).maxInFlight(limit).boundedWorkers(1);
        try (SysletContext ctx = SysletContext.setup(params))
        {
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(batch * 80, 64)));
            long accepted = 0;
            int refusals = 0;
            for (int offered = 0; offered < attempts; offered += batch)
            {
                final int taken = offerNops(ctx, writer, accepted, batch);
                accepted += taken;
                refusals += taken == 0 ? 1 : 0;
            }
            // Then make sure the limit, not the timing, is what stops it: with every accepted nop run, the
            // next one is still refused.
            while (true)
            {
                awaitTrue("the accepted nops ran", () -> ctx.inFlight() == overflowBacklog(ctx));
                final int taken = offerNops(ctx, writer, accepted, batch);
                if (taken == 0)
                {
                    break;
                }
                accepted += taken;
            }
            final int eventRecord = 16 + 40;
            final int ringHolds = ringBytes / eventRecord;
            assertTrue(refusals > 0);
            assertTrue(accepted > ringHolds && ctx.ring().isOverflowPending(), "the ring overflowed: " + accepted);
            assertTrue(overflowBacklog(ctx) >= limit, "refused only once the list reached the limit: " +
                overflowBacklog(ctx));
            assertTrue(accepted <= ringHolds + limit + 1, accepted + " accepted without reaping: more than the ring (" +
                ringHolds + ") and the limit (" + limit + ") can hold");

            final Reaper reaper = new Reaper(ctx);
            final Map<Long, Event> events = reaper.reap((int)accepted);
            for (long cookie = 0; cookie < accepted; cookie++)
            {
                final Event event = events.get(cookie);
                assertNotNull(event, "lost the event of cookie " + cookie);
                assertEquals(0, event.res(), event.toString());
            }
            reaper.assertNoEvent("every event was delivered once");
            assertFalse(ctx.ring().isOverflowPending(), "reaping emptied the overflow list");
            SysletTestSupport.awaitInFlight(ctx, 0, "everything reaped");
        }
    }

    /**
     * A cached pread completes on the submitting thread and takes no place in the limit, so while events wait
     * on the overflow list it must not take the immediate path: its event would join the list past the limit,
     * and a caller submitting cached reads without reaping would grow the list without bound. Once the nops
     * have filled the ring and the list up to the limit, preads of a cached file are refused like the nops.
     */
    @Test
    void cachedPreadsAreRefusedAtTheLimitInsteadOfGrowingTheOverflowList() throws Exception
    {
        // A disk filesystem: on tmpfs every read goes to a worker and the immediate path is never tried.
        final Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "syslet-limits");
        final Path file = dir.resolve("cached");
        Files.write(file, new byte[4096]);
        final int limit = 64;
        final SetupParams params = new SetupParams().ringBytes(4096).maxInFlight(limit).boundedWorkers(1);
        final int fd = TEST_LIBC.open(file.toString(), Natives.O_RDONLY | Natives.O_CLOEXEC, 0);
        try (SysletContext ctx = SysletContext.setup(params))
        {
            assertTrue(fd >= 0, "open failed: errno " + testErrno());
            final Memory mem = new Memory(ctx, 8192);
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 * 80, 64)));
            final Reaper reaper = new Reaper(ctx);
            // The file is cached (just written) and its pread takes the immediate path: else this test proves nothing.
            writer.pread(-1, fd, mem.ref(0, 4096), 4096, 0);
            assertEquals(1, writer.submitTo(ctx));
            final Event warm = reaper.reapOne(-1);
            assertEquals(4096, warm.res(), warm.toString());
            assertEquals(EventDescriptor.FLAG_IMMEDIATE, warm.flags() & EventDescriptor.FLAG_IMMEDIATE,
                "a cached pread is immediate: " + warm);

            long accepted = 0;
            while (true)
            {
                awaitTrue("the accepted nops ran", () -> ctx.inFlight() == overflowBacklog(ctx));
                final int taken = offerNops(ctx, writer, accepted, 64);
                if (taken == 0)
                {
                    break;
                }
                accepted += taken;
            }
            assertTrue(ctx.ring().isOverflowPending(), "the nops overflowed the ring");
            final int backlog = overflowBacklog(ctx);
            int preadsAccepted = 0;
            for (int i = 0; i < 1000; i++)
            {
                writer.reset();
                writer.pread(1_000_000 + i, fd, mem.ref(4096, 4096), 4096, 0);
                try
                {
                    preadsAccepted += writer.submitTo(ctx);
                }
                catch (final AioException e)
                {
                    assertEquals(Errno.EAGAIN, e.errno(), e.getMessage());
                }
            }
            assertEquals(0, preadsAccepted, "cached preads accepted past the limit while the overflow list waits");
            assertEquals(backlog, overflowBacklog(ctx), "the overflow list grew past the limit");

            final Map<Long, Event> events = reaper.reap((int)accepted);
            assertEquals(accepted, events.size());
            reaper.assertNoEvent("every event was delivered once");
        }
        finally
        {
            close(fd);
            Files.delete(file);
            Files.delete(dir);
        }
    }

    /**
     * Submits {@code count} nops with cookies from {@code firstCookie}.
     *
     * @return how many were accepted; 0 if the limit refused them all.
     */
    private static int offerNops(final AioContext ctx, final IocbWriter writer, final long firstCookie, final int count)
    {
        writer.reset();
        for (int i = 0; i < count; i++)
        {
            writer.nop(firstCookie + i);
        }
        try
        {
            return writer.submitTo(ctx);
        }
        catch (final AioException e)
        {
            assertEquals(Errno.EAGAIN, e.errno(), e.getMessage());
            return 0;
        }
    }

    private static int overflowBacklog(final AioContext ctx)
    {
        return ctx.ring().isOverflowPending() ? ctx.ring().overflowSize() : 0;
    }

    /**
     * At the limit, a caller that reaped an op's event must be able to submit in its place at once: the
     * event is the caller's only sign that the op is over. Each round fails if the engine still counts
     * the op after its event was delivered.
     */
    @Test
    void reapedEventFreesItsPlaceAtOnce()
    {
        final int rounds = 20_000;
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(1)))
        {
            final Reaper reaper = new Reaper(ctx);
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            for (int round = 0; round < rounds; round++)
            {
                writer.nop(round);
                final int r = round;
                assertDoesNotThrow(() -> writer.submitTo(ctx), () -> "round " + r + ": the previous op was reaped");
                assertEquals(0, reaper.reapOne(round).res());
                SysletTestSupport.awaitInFlight(ctx, 0, "round " + round);
            }
        }
    }

    /**
     * An op cancelled while it waits in the queue has its event delivered at once; from then on it must
     * not count against the limit, even though no worker is free to take it off the queue.
     */
    @Test
    void queuedOpCancelledAndReapedLeavesTheLimit()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().unboundedWorkers(1).maxInFlight(4)))
        {
            final Memory mem = new Memory(ctx, 4096);
            final Reaper reaper = new Reaper(ctx);
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            final int[] pipe = pipe();
            try
            {
                writer.read(1, pipe[0], mem.ref(0, 1), 1);
                assertEquals(1, writer.submitTo(ctx));
                awaitWorkerBlockedOn("read", pipe[0]);
                writer.read(2, pipe[0], mem.ref(8, 1), 1).read(3, pipe[0], mem.ref(16, 1), 1)
                    .read(4, pipe[0], mem.ref(24, 1), 1);
                assertEquals(3, writer.submitTo(ctx), "queued behind the one worker");
                assertEquals(4, ctx.inFlight());

                for (long cookie = 2; cookie <= 4; cookie++)
                {
                    assertEquals(AioContext.CANCELED, ctx.cancel(cookie));
                }
                final Map<Long, Event> canceled = reaper.reap(3);
                for (long cookie = 2; cookie <= 4; cookie++)
                {
                    assertEquals(-Errno.ECANCELED, canceled.get(cookie).res(), canceled.toString());
                }
                SysletTestSupport.awaitInFlight(ctx, 1, "only the blocked read is still in flight");
                writer.read(5, pipe[0], mem.ref(32, 1), 1);
                assertEquals(1, writer.submitTo(ctx), "three slots are free again");

                mem.buffer.putShort(100, (short)0x6162);
                writeFully(pipe[1], mem, 100, 2);
                final Map<Long, Event> done = reaper.reap(2);
                assertEquals(1, done.get(1L).res(), done.toString());
                assertEquals(1, done.get(5L).res(), done.toString());
            }
            finally
            {
                close(pipe);
            }
        }
    }
}
