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
import io.syslet.attributes.AttributeCursor;
import io.syslet.attributes.AttributeId;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static io.syslet.abi.IocbDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A caller that rewrites its iocbs while {@code submit} reads them, on another thread, with no ordering at all:
 * the engine must run each iocb as the values it read say, or refuse it, never read past what it checked, and
 * lose or duplicate nothing. (Submit reads each field of an iocb once, after checking it, and refuses one that
 * a rewrite left no longer fitting with EINVAL "changed while submit read it".)
 *
 * <p>The submission holds {@value #IOCBS} preads of a cached file, each with room for {@value #ID_ROOM} attribute
 * ids. One thread rewrites, over and over and in random order, everything of them but the cookies and fds:
 * opcode (PREAD, NOP or one this version does not know), flags (NO_IMMEDIATE, or an undefined bit), the
 * reserved field and aux, the attribute count (within the room, past it, past the maximum), the ids (known and
 * unknown), the length (right, too short, misaligned, the whole submission), the buffer reference (right, unregistered,
 * past the buffer's end) and the count. The values are chosen so that no rewrite can make bytes inside an iocb
 * parse as a further well-formed iocb (see {@link #mutate}), so whatever submit accepts is a prefix of the
 * iocbs, with known cookies. The test thread submits, round after round, and reaps each round's events:
 * <ul>
 *   <li>submit either accepts some iocbs or throws {@link AioException} with EINVAL (the first was malformed
 *       or changed under it); nothing else escapes;</li>
 *   <li>every accepted iocb has exactly one event, and no event comes for any other;</li>
 *   <li>every event is whole: a known opcode's result or -ENOSYS, and attribute TLVs that parse;</li>
 *   <li>at the end nothing is in flight and nothing is left to reap.</li>
 * </ul>
 */
final class SubmitRewriteRaceTest
{
    private static final int ROUNDS = 50_000;
    private static final int IOCBS = 8;
    private static final int ID_ROOM = 16;
    private static final int IOCB_LENGTH = IocbDescriptor.length(ID_ROOM);
    private static final int BLOCK = 4096;
    private static final int UNKNOWN_OPCODE = 0x7FFF;
    /** Each below 72 or odd: no pair of them, read as an iocb's length, is a valid one. */
    private static final int[] IDS = {AttributeId.LATENCY, AttributeId.CACHE, AttributeId.BYTES, AttributeId.CPU,
        AttributeId.WORKER_TID, 0, 63, 0x7FFF};
    private static final int REAP_BYTES = 64 * 1024;
    /** Not a timing assertion: turns a hang into a failure that says where. */
    private static final long STALL_GUARD_NANOS = TimeUnit.SECONDS.toNanos(60);

    @TempDir
    Path directory;

    private final StopOnFailure run = new StopOnFailure();

    @Test
    void submitTakesEachIocbAsItWasOrRefusesItAndLosesNothing() throws Exception
    {
        final int fd = EngineTests.openCachedFile(directory.resolve("data"), IOCBS * BLOCK * 4, 3);
        final long seed = System.nanoTime();
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        try
        {
            final UnsafeBuffer memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(IOCBS * BLOCK, 4096));
            final int buffer = ctx.registerBuffer(memory);
            final IocbWriter writer = new IocbWriter(
                new UnsafeBuffer(BufferUtil.allocateDirectAligned(IOCBS * IOCB_LENGTH, 64)));
            for (int i = 0; i < IOCBS; i++)
            {
                writer.pread(i, fd, BufferRef.of(buffer, (long)i * BLOCK), BLOCK, (long)i * BLOCK);
                writer.attributes(new int[ID_ROOM]);
            }
            final UnsafeBuffer submission = (UnsafeBuffer)writer.buffer();
            final int length = writer.length();
            assertEquals(IOCBS * IOCB_LENGTH, length);

            final Thread rewriter = run.thread("iocb-rewriter", () ->
            {
                final SplittableRandom random = new SplittableRandom(seed);
                while (!run.stopped())
                {
                    mutate(submission, random.nextInt(IOCBS) * IOCB_LENGTH, buffer, random);
                }
            });
            rewriter.start();
            final long[] outcome = submitRounds(ctx, submission, length);
            run.stop();
            rewriter.join();
            if (run.failure() != null)
            {
                throw new AssertionError("seed " + seed + ": " + run.failure().getMessage(), run.failure());
            }
            System.out.printf("submit rewrite race: %d rounds, %d iocbs accepted, %d refused rounds (seed %d)%n",
                ROUNDS, outcome[0], outcome[1], seed);
            // A run where the rewrites never got through, or never lost, raced nothing.
            assertTrue(outcome[0] > 0 && outcome[1] > 0, "accepted " + outcome[0] + ", refused " + outcome[1]);
            EngineTests.awaitNothingInFlight(ctx, System.nanoTime() + STALL_GUARD_NANOS);
            final UnsafeBuffer left = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REAP_BYTES, 64));
            assertEquals(0, ctx.getEvents(left, 0, REAP_BYTES, 0, 0), "an event beyond one per accepted iocb");
        }
        finally
        {
            run.stop();
            ctx.destroy(TimeUnit.SECONDS.toNanos(5));
            Natives.LIBC.close(fd);
        }
    }

    /**
     * @return iocbs accepted in all, and rounds refused whole.
     */
    private long[] submitRounds(final SysletContext ctx, final UnsafeBuffer submission, final int length)
    {
        final UnsafeBuffer events = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REAP_BYTES, 64));
        final EventCursor cursor = new EventCursor();
        final AttributeCursor attributes = new AttributeCursor();
        final boolean[] seen = new boolean[IOCBS];
        long accepted = 0;
        long refused = 0;
        for (int round = 0; round < ROUNDS && !run.stopped(); round++)
        {
            final long firstCookie = (long)round * IOCBS;
            for (int i = 0; i < IOCBS; i++)
            {
                submission.putLong(i * IOCB_LENGTH + COOKIE_OFFSET, firstCookie + i);
            }
            if ((round & 3) == 0)
            {
                runFirst(ctx, submission, events, attributes, firstCookie);
            }
            int taken;
            try
            {
                taken = ctx.submit(submission, 0, length);
            }
            catch (final AioException e)
            {
                assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
                refused++;
                continue;
            }
            accepted += taken;
            Arrays.fill(seen, false);
            int reaped = 0;
            final long deadline = System.nanoTime() + STALL_GUARD_NANOS;
            while (reaped < taken)
            {
                assertTrue(System.nanoTime() - deadline < 0, "round " + round + ": " + reaped + " of " + taken +
                    " events after 60 s");
                cursor.wrap(events, 0, ctx.getEvents(events, 0, REAP_BYTES, 1, TimeUnit.MILLISECONDS.toNanos(100)));
                while (cursor.next())
                {
                    final Event event = cursor.event();
                    final long index = event.cookie() - firstCookie;
                    if (index < 0 || index >= taken || seen[(int)index])
                    {
                        fail("round " + round + " accepted " + taken + " iocbs from cookie " + firstCookie +
                            ", yet an event came for cookie " + event.cookie() + ": " + event);
                    }
                    seen[(int)index] = true;
                    checkWhole(event, attributes);
                    reaped++;
                }
            }
        }
        return new long[]{accepted, refused};
    }

    /**
     * {@code run()} of the first iocb, under the same rewrites: its event, written into {@code dst}, or EINVAL.
     */
    private static void runFirst(final SysletContext ctx, final UnsafeBuffer submission, final UnsafeBuffer dst,
        final AttributeCursor attributes, final long cookie)
    {
        final int length;
        try
        {
            length = ctx.run(submission, 0, dst, 0);
        }
        catch (final AioException e)
        {
            assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
            return;
        }
        final Event event = new Event().wrap(dst, 0);
        assertEquals(length, event.length(), event.toString());
        assertEquals(cookie, event.cookie(), event.toString());
        checkWhole(event, attributes);
    }

    private static void checkWhole(final Event event, final AttributeCursor attributes)
    {
        switch (event.opcode())
        {
            case Opcode.PREAD:
                // Its count or buffer may have been rewritten: a length it could read, or the engine's refusal.
                assertTrue(event.res() <= 2 * BLOCK && (event.res() >= 0 || event.res() == -Errno.EFAULT ||
                    event.res() == -Errno.EINVAL), event.toString());
                break;
            case Opcode.NOP:
                assertEquals(0, event.res(), event.toString());
                break;
            case UNKNOWN_OPCODE:
                assertEquals(-Errno.ENOSYS, event.res(), event.toString());
                break;
            default:
                fail("an opcode no iocb had: " + event);
        }
        assertEquals(0, event.flags() & EventDescriptor.FLAG_CANCELED, event.toString());
        assertTrue(event.attributesLength() >= 0 && event.length() == EventDescriptor.MIN_LENGTH + event.attributesLength(),
            event.toString());
        attributes.wrap(event.buffer(), event.offset() + EventDescriptor.ATTRIBUTES_OFFSET, event.attributesLength());
        int count = 0;
        while (attributes.next())
        {
            count++;
        }
        // An iocb whose length was made the whole submission may list up to the maximum, ids read from the rest.
        assertTrue(count <= MAX_ATTRIBUTES, count + " attributes in " + event);
    }

    /**
     * Rewrites one field of the iocb at {@code at}. The only lengths it writes that can be valid are the iocb's
     * own and 72 (the header alone, valid with no ids): an iocb cut at 72 leaves its id area to be read as the
     * next iocb, whose length is then a pair of ids, and no pair of {@link #IDS} is a valid length. So an iocb
     * misread from inside another is malformed, and whatever submit accepts is a prefix of the real ones, with
     * their cookies. (A length of 8 more would make the next iocb's cookie a length, and a NOP of its opcode.)
     */
    private static void mutate(final UnsafeBuffer submission, final int at, final int buffer,
        final SplittableRandom random)
    {
        switch (random.nextInt(9))
        {
            case 0:
                submission.putShort(at + OPCODE_OFFSET,
                    (short)(random.nextBoolean() ? Opcode.PREAD : random.nextBoolean() ? Opcode.NOP : UNKNOWN_OPCODE));
                break;
            case 1:
                submission.putShort(at + FLAGS_OFFSET,
                    (short)(random.nextInt(8) == 0 ? 0x4000 : random.nextBoolean() ? FLAG_NO_IMMEDIATE : 0));
                break;
            case 2:
                // Refused as malformed, and put back most of the time so that rounds get through.
                final boolean dirty = random.nextInt(16) == 0;
                submission.putShort(at + RESERVED_OFFSET, (short)(dirty && random.nextBoolean() ? 1 : 0));
                submission.putInt(at + AUX_OFFSET, dirty && random.nextBoolean() ? 59 : 0);
                break;
            case 3:
                final int roll = random.nextInt(16);
                submission.putShort(at + ATTRIBUTE_COUNT_OFFSET,
                    (short)(roll == 0 ? ID_ROOM + 1 + random.nextInt(MAX_ATTRIBUTES) : roll == 1 ? 0xFFFF :
                        random.nextInt(ID_ROOM + 1)));
                break;
            case 4:
                submission.putShort(at + ATTRIBUTES_OFFSET + 2 * random.nextInt(ID_ROOM),
                    (short)IDS[random.nextInt(IDS.length)]);
                break;
            case 5:
                // Mostly right, so that rounds get through; a length left wrong refuses the rest of the round.
                final int[] wrong = {MIN_LENGTH, IOCB_LENGTH - 4, 0, IOCB_LENGTH * IOCBS};
                submission.putInt(at + LENGTH_OFFSET,
                    random.nextInt(8) == 0 ? wrong[random.nextInt(wrong.length)] : IOCB_LENGTH);
                break;
            case 6:
                final int block = at / IOCB_LENGTH;
                final long[] refs = {BufferRef.of(buffer, (long)block * BLOCK), BufferRef.of(buffer, (long)block * BLOCK),
                    BufferRef.of(buffer + 1, 0), BufferRef.of(buffer, (long)IOCBS * BLOCK - 8), BufferRef.NO_BUFFER};
                submission.putLong(at + ARGS_OFFSET + 8, refs[random.nextInt(refs.length)]);
                break;
            case 7:
                final long[] counts = {BLOCK, BLOCK, 0, 1, 2 * BLOCK, 1L << 40, -1};
                submission.putLong(at + ARGS_OFFSET + 16, counts[random.nextInt(counts.length)]);
                break;
            default:
                Thread.onSpinWait();
        }
    }
}
