package io.syslet.tests.engine;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import io.syslet.ring.RingReader;
import io.syslet.tests.engine.IocbRewriter.Op;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing of the engine's iocb decoder and submit path: arbitrary bytes, at an arbitrary
 * offset and length, go to {@link SysletContext#submit} on a context with one registered buffer.
 *
 * <p>The only outcomes allowed are an {@link AioException} with EINVAL (the range or the first iocb is
 * malformed) or EAGAIN (the in-flight limit lets none in), or a count n &gt;= 0 of accepted iocbs, a prefix of
 * the submission. Nothing else may escape, and the JVM must not crash. Then exactly n events must arrive, one
 * per accepted iocb (each iocb gets a unique cookie), each with the iocb's opcode and a res that is &gt;= 0 or a
 * negated errno in 1..4095, and nothing else: the ring and the overflow list end empty, and destroy frees
 * everything. An independent model of the ABI's well-formedness rules (see {@link IocbDescriptor}) says
 * whether EINVAL was due and which iocbs could be accepted. Guard pages on both sides of the registered buffer
 * must be intact after every run: the engine writes only inside registered buffers.
 *
 * <p>The fuzzer chooses every buffer reference, count, offset, flag and attribute list; the test rewrites only
 * what would let an op harm the JVM or the machine rather than test the engine (see {@link IocbRewriter}): RAW
 * and GETADDRINFO become NOPs, fd arguments point at fds the test owns or at fds that cannot be open, CLOSE
 * closes only fds made for it, and ops that could block for long are bounded.
 *
 * <p>Input format (read front to back by {@link SubmitFuzzInput.Reader}; missing bytes read as 0): u8 max in
 * flight, u16 length P then P bytes copied to the start of the registered buffer, then up to
 * {@value #MAX_SUBMISSIONS} submissions, each: u8 control (bit 0: arbitrary i32 offset and length follow,
 * else u8 offset % 17 and u8 trim % 9; bit 1: cancel an accepted op afterwards, chosen by a trailing u16;
 * bit 2: reap what is ready afterwards; bit 3: then unregister the buffer, with ops still in flight, and
 * register it again), then u16 length L and L submission bytes.
 *
 * <p>Regression mode (the normal build) runs the fuzz test on the inputs under
 * {@code src/test/resources/io/syslet/tests/engine/SubmitFuzzTestInputs/arbitrarySubmissionsCompleteExactlyOnce/},
 * and {@link #pseudoRandomSubmissionsReachEveryOutcome()} runs seeded pseudo-random submissions of every opcode.
 * With {@code JAZZER_FUZZ=1} Jazzer fuzzes it: the {@code fuzz-submit} surefire execution in this module's pom
 * does that for 60 s in {@code mvn verify}.
 */
final class SubmitFuzzTest
{
    static final int MAX_SUBMISSIONS = 8;
    static final int MAX_SUBMISSION_BYTES = 4096;
    static final int MAX_IN_FLIGHT = 64;
    /** Bytes of the one registered buffer. */
    static final int REGISTERED_BYTES = 16 * 1024;
    /** The most input bytes copied into the registered buffer (iov arrays, pollfds, paths). */
    static final int MAX_PREFIX_BYTES = 2048;
    /** Bytes on each side of the registered buffer that no op may touch. */
    static final int GUARD_BYTES = 4096;
    /** Cookies are {@code COOKIE_BASE + the iocb's index in the run}, so each is unique and unlikely by chance. */
    static final long COOKIE_BASE = 0x5C00_C1E0_0000_0000L;
    /** The file the test owns, in its own temporary directory; OPENAT paths may name it. */
    static final String FILE_NAME = "data";
    /** Longest wait for the events still due before the run counts as hung; not a timing assertion. */
    private static final long HANG_GUARD_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final long DESTROY_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int MAX_ERRNO = 4095;

    private static final Path DIRECTORY = createDirectory();
    private static final UnsafeBuffer MEMORY =
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(GUARD_BYTES + REGISTERED_BYTES + GUARD_BYTES, 4096));
    private static final UnsafeBuffer REGISTERED = new UnsafeBuffer(MEMORY, GUARD_BYTES, REGISTERED_BYTES);
    private static final UnsafeBuffer FILE_CONTENT = fileContent();
    private static final UnsafeBuffer EVENTS = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 * 1024, 64));

    /**
     * Entry point for Jazzer.
     *
     * @param input fuzzer input, in the format the class comment describes.
     */
    @FuzzTest(maxDuration = "60s")
    void arbitrarySubmissionsCompleteExactlyOnce(final byte[] input)
    {
        new FuzzRun(new SubmitFuzzInput.Reader(input), new long[Outcome.values().length]).run();
    }

    /**
     * The same run on seeded pseudo-random inputs made of well-formed iocbs of every opcode (plausible and
     * wild arguments), some of them damaged, so the normal build covers every op and every outcome even when
     * nobody fuzzes.
     */
    @Test
    void pseudoRandomSubmissionsReachEveryOutcome()
    {
        final long[] outcomes = new long[Outcome.values().length];
        final long[] completedByOpcode = new long[Opcode.COUNT + 1];
        for (int seed = 0; seed < 300; seed++)
        {
            final byte[] input = SubmitFuzzInput.random(seed);
            try
            {
                final FuzzRun run = new FuzzRun(new SubmitFuzzInput.Reader(input), outcomes);
                run.run();
                run.addCompletedByOpcode(completedByOpcode);
            }
            catch (final AssertionError ex)
            {
                throw new AssertionError("run with seed " + seed + " failed: " + ex.getMessage(), ex);
            }
        }
        for (final Outcome outcome : Outcome.values())
        {
            assertTrue(outcomes[outcome.ordinal()] > 0, "no run reached " + outcome);
        }
        for (int opcode = 0; opcode <= Opcode.COUNT; opcode++)
        {
            assertTrue(completedByOpcode[opcode] > 0, "no accepted iocb of " + Opcode.name(opcode) + " completed");
        }
    }

    /** What runs count, so a test can show that it reaches all of them. */
    enum Outcome
    {
        ACCEPTED_ALL, ACCEPTED_PREFIX, RANGE_REFUSED, MALFORMED_REFUSED, LIMIT_REFUSED, EMPTY_SUBMISSION,
        CANCEL_CANCELED, CANCEL_NOT_FOUND, SUCCEEDED, FAILED_WITH_ERRNO, EFAULT, ENOSYS, SACRIFICIAL_FD_CLOSED,
        OPENED_FD, GUARDS_INTACT, BUFFER_UNREGISTERED
    }

    /** One run: a context, some submissions, then every event reaped and checked, and destroy. */
    static final class FuzzRun
    {
        private final SubmitFuzzInput.Reader input;
        private final long[] outcomes;
        private final List<Op> ops = new ArrayList<>();
        private final List<Op> accepted = new ArrayList<>();
        private final EventCursor cursor = new EventCursor();
        private int completed;

        FuzzRun(final SubmitFuzzInput.Reader input, final long[] outcomes)
        {
            this.input = input;
            this.outcomes = outcomes;
        }

        void run()
        {
            final int maxInFlight = 1 + input.u8() % MAX_IN_FLIGHT;
            prepareMemory();
            final OwnedFds owned = new OwnedFds(DIRECTORY, FILE_NAME, FILE_CONTENT);
            final IocbRewriter rewriter = new IocbRewriter(owned, ops);
            final SysletContext ctx;
            try
            {
                // Few workers: each run starts its own, and thread starts are most of a short run's cost.
                ctx = SysletContext.setup(new SetupParams().ringBytes(4096).maxInFlight(maxInFlight).maxBuffers(1)
                    .boundedWorkers(1).unboundedWorkers(2));
            }
            catch (final RuntimeException ex)
            {
                owned.close();
                throw ex;
            }
            boolean freed = false;
            try
            {
                assertEquals(0, ctx.registerBuffer(REGISTERED));
                for (int i = 0; i < MAX_SUBMISSIONS && input.remaining() > 0; i++)
                {
                    submitOne(ctx, rewriter);
                }
                reapAll(ctx);
                checkNothingLeft(ctx);
                freed = ctx.destroy(DESTROY_NANOS);
                assertTrue(freed, "destroy did not free the context: an op was still running after 5 s");
            }
            finally
            {
                // After a failure, destroy at least; if an op may still run on the run's fds, leave them open
                // rather than let it write to whatever reuses their numbers.
                if (freed || ctx.destroy(DESTROY_NANOS))
                {
                    closeWhatOpsLeftOpen();
                    owned.close();
                }
            }
            checkGuards();
        }

        void addCompletedByOpcode(final long[] byOpcode)
        {
            for (final Op op : ops)
            {
                if (op.completed)
                {
                    byOpcode[Math.min(op.originalOpcode, Opcode.COUNT)]++;
                }
            }
        }

        private void prepareMemory()
        {
            for (int i = 0; i < MEMORY.capacity(); i++)
            {
                MEMORY.putByte(i, guardByte(i));
            }
            REGISTERED.setMemory(0, REGISTERED_BYTES, (byte)0);
            final byte[] prefix = input.bytes(input.u16() % (MAX_PREFIX_BYTES + 1));
            REGISTERED.putBytes(0, prefix);
        }

        private void submitOne(final SysletContext ctx, final IocbRewriter rewriter)
        {
            final int control = input.u8();
            final int offset;
            final int length;
            final byte[] bytes;
            if ((control & 1) != 0)
            {
                offset = input.i32();
                length = input.i32();
                bytes = input.bytes(input.u16() % (MAX_SUBMISSION_BYTES + 1));
            }
            else
            {
                offset = input.u8() % 17;
                final int trim = input.u8() % 9;
                bytes = input.bytes(input.u16() % (MAX_SUBMISSION_BYTES + 1));
                length = bytes.length - offset - trim;
            }
            final UnsafeBuffer submission = new UnsafeBuffer(bytes);
            final boolean inRange = offset >= 0 && length >= 0 && offset <= bytes.length - length;
            final List<Op> walked = inRange ? rewriter.rewrite(submission, offset, offset + length) : List.of();
            final boolean firstWellFormed = !walked.isEmpty() && walked.get(0).wellFormed;
            final String what = "submit(offset " + offset + ", length " + length + ") of " + bytes.length +
                " bytes, walked " + walked;

            int count = -1;
            try
            {
                count = ctx.submit(submission, offset, length);
            }
            catch (final AioException ex)
            {
                if (ex.errno() == Errno.EINVAL)
                {
                    assertTrue(!inRange || (length > 0 && !firstWellFormed), what + " refused: " + ex.getMessage());
                    count(inRange ? Outcome.MALFORMED_REFUSED : Outcome.RANGE_REFUSED);
                }
                else if (ex.errno() == Errno.EAGAIN)
                {
                    assertTrue(firstWellFormed, what + " refused with EAGAIN though the first iocb is malformed: " +
                        ex.getMessage());
                    count(Outcome.LIMIT_REFUSED);
                }
                else
                {
                    throw new AssertionError(what + " threw errno " + Errno.name(ex.errno()) + ": " + ex.getMessage(),
                        ex);
                }
            }
            if (count >= 0)
            {
                checkAccepted(what, inRange, length, walked, firstWellFormed, count);
            }
            if ((control & 2) != 0)
            {
                cancelOne(ctx, input.u16());
            }
            if ((control & 4) != 0)
            {
                reap(ctx, 0, 0);
            }
            if ((control & 8) != 0)
            {
                reregister(ctx);
            }
        }

        /**
         * Unregisters the one buffer while the ops submitted so far may still run, then registers it again: the
         * ops that had not resolved it fail with -EFAULT, which the oracle allows any op, and the ones that had
         * must be done with it before unregister returns (the guard pages and the events say whether they were).
         * Every op here ends within destroy's 5 s, so the unregister must not time out.
         */
        private void reregister(final SysletContext ctx)
        {
            ctx.unregisterBuffer(0, DESTROY_NANOS);
            assertEquals(0, ctx.registerBuffer(REGISTERED), "the freed index is the lowest free");
            count(Outcome.BUFFER_UNREGISTERED);
        }

        private void checkAccepted(final String what, final boolean inRange, final int length, final List<Op> walked,
            final boolean firstWellFormed, final int count)
        {
            assertTrue(inRange, what + " accepted " + count + " iocbs from a range outside its buffer");
            if (length == 0)
            {
                assertEquals(0, count, what);
                count(Outcome.EMPTY_SUBMISSION);
                return;
            }
            assertTrue(firstWellFormed, what + " accepted " + count + " iocbs though the first is malformed");
            assertTrue(count >= 1, what + " accepted none without EAGAIN");
            assertTrue(count <= walked.size(), what + " accepted " + count + " iocbs, more than it holds");
            for (int i = 0; i < count; i++)
            {
                final Op op = walked.get(i);
                assertTrue(op.wellFormed, what + " accepted iocb " + i + " (" + op + "), which is malformed");
                op.accepted = true;
                accepted.add(op);
            }
            count(count == walked.size() ? Outcome.ACCEPTED_ALL : Outcome.ACCEPTED_PREFIX);
        }

        private void cancelOne(final AioContext ctx, final int which)
        {
            if (accepted.isEmpty())
            {
                return;
            }
            final Op op = accepted.get(which % accepted.size());
            final int result = ctx.cancel(op.cookie);
            if (result == AioContext.CANCELED)
            {
                count(Outcome.CANCEL_CANCELED);
            }
            else if (result == AioContext.NOT_FOUND)
            {
                count(Outcome.CANCEL_NOT_FOUND);
            }
            else
            {
                assertEquals(AioContext.RUNNING_MAY_NOT_TERMINATE, result, "cancel of " + op);
            }
        }

        private void reapAll(final AioContext ctx)
        {
            long lastProgress = System.nanoTime();
            while (completed < accepted.size())
            {
                final int before = completed;
                reap(ctx, accepted.size() - completed, TimeUnit.MILLISECONDS.toNanos(100));
                if (completed > before)
                {
                    lastProgress = System.nanoTime();
                }
                else if (System.nanoTime() - lastProgress > HANG_GUARD_NANOS)
                {
                    final List<Op> missing = new ArrayList<>();
                    for (final Op op : accepted)
                    {
                        if (!op.completed)
                        {
                            missing.add(op);
                        }
                    }
                    fail("no event for 30 s; still missing " + missing + "; in flight " + ctx.inFlight());
                }
            }
        }

        private void reap(final AioContext ctx, final int minEvents, final long timeoutNanos)
        {
            final int bytes = ctx.getEvents(EVENTS, 0, EVENTS.capacity(), minEvents, timeoutNanos);
            cursor.wrap(EVENTS, 0, bytes);
            while (cursor.next())
            {
                check(cursor.event());
            }
        }

        private void check(final Event event)
        {
            final long index = event.cookie() - COOKIE_BASE;
            if (index < 0 || index >= ops.size())
            {
                fail("event with a cookie no iocb had: " + event);
            }
            final Op op = ops.get((int)index);
            final String what = op + ": " + event;
            assertTrue(op.accepted, "event for an iocb submit did not accept: " + what);
            assertTrue(!op.completed, "second event for " + what);
            op.completed = true;
            op.res = event.res();
            completed++;
            assertEquals(op.opcode, event.opcode(), what);
            final long res = event.res();
            assertTrue(res >= 0 || (res >= -MAX_ERRNO && res <= -1), "res neither >= 0 nor a negated errno: " + what);
            final int flags = event.flags();
            assertEquals(0, flags & ~(EventDescriptor.FLAG_IMMEDIATE | EventDescriptor.FLAG_CANCELED),
                "undefined event flags: " + what);
            if ((flags & EventDescriptor.FLAG_CANCELED) != 0)
            {
                assertEquals(-Errno.ECANCELED, res, "cancelled flag without -ECANCELED: " + what);
            }
            final boolean canceled = res == -Errno.ECANCELED;
            if (op.opcode == Opcode.NOP)
            {
                assertTrue(res == 0 || canceled, what);
            }
            else if (op.opcode == Opcode.CALLABLE)
            {
                assertTrue(res == -Errno.EINVAL || canceled, "a CALLABLE iocb from bytes has no code to run: " + what);
            }
            else if (op.opcode >= Opcode.COUNT)
            {
                assertEquals(-Errno.ENOSYS, res, what);
                count(Outcome.ENOSYS);
            }
            else if (op.opcode == Opcode.CLOSE)
            {
                // Its own fd closes; the others cannot be open.
                assertTrue(res == (op.sacrificialFd >= 0 ? 0 : -Errno.EBADF) || canceled, "close: " + what);
            }
            count(res >= 0 ? Outcome.SUCCEEDED : Outcome.FAILED_WITH_ERRNO);
            if (res == -Errno.EFAULT)
            {
                count(Outcome.EFAULT);
            }
        }

        private void checkNothingLeft(final SysletContext ctx)
        {
            // An op stops counting just after its event is published (see AioContext.inFlight), so the count may
            // trail the last event by a moment; once it is 0 every event is out, and none may be left.
            final long deadline = System.nanoTime() + HANG_GUARD_NANOS;
            while (ctx.inFlight() != 0)
            {
                assertTrue(System.nanoTime() - deadline < 0, "every event reaped, yet in flight stays " +
                    ctx.inFlight());
                Thread.yield();
            }
            final RingReader ring = ctx.ring();
            assertEquals(0, ctx.getEvents(EVENTS, 0, EVENTS.capacity(), 0, 0), "events beyond one per accepted iocb");
            assertEquals(0, ring.occupancy(), "ring not empty");
            assertTrue(!ring.isOverflowPending() && ring.overflowSize() == 0, "overflow list not empty");
        }

        private void closeWhatOpsLeftOpen()
        {
            for (final Op op : ops)
            {
                if (op.sacrificialFd >= 0)
                {
                    // Closed unless the op never ran: not accepted, or cancelled while queued (CLOSE cannot be
                    // interrupted, so -ECANCELED means it never started).
                    if (!op.accepted || op.res == -Errno.ECANCELED)
                    {
                        LIBC.close(op.sacrificialFd);
                    }
                    else
                    {
                        count(Outcome.SACRIFICIAL_FD_CLOSED);
                    }
                }
                if (op.opcode == Opcode.OPENAT && op.completed && op.res >= 0)
                {
                    LIBC.close((int)op.res);
                    count(Outcome.OPENED_FD);
                }
            }
        }

        private void checkGuards()
        {
            for (int i = 0; i < MEMORY.capacity(); i++)
            {
                if ((i < GUARD_BYTES || i >= GUARD_BYTES + REGISTERED_BYTES) && MEMORY.getByte(i) != guardByte(i))
                {
                    fail("an op wrote outside the registered buffer, at byte " + (i - GUARD_BYTES) + " of it (ops " +
                        ops + ")");
                }
            }
            count(Outcome.GUARDS_INTACT);
        }

        private void count(final Outcome outcome)
        {
            outcomes[outcome.ordinal()]++;
        }
    }

    private static byte guardByte(final int i)
    {
        return (byte)(i * 131 + 7);
    }

    private static UnsafeBuffer fileContent()
    {
        final UnsafeBuffer content = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2 * REGISTERED_BYTES, 64));
        for (int i = 0; i < content.capacity(); i++)
        {
            content.putByte(i, (byte)(i * 251 + 1));
        }
        return content;
    }

    private static Path createDirectory()
    {
        try
        {
            // Each run truncates and refills the test's file: about 20 us on tmpfs, over a millisecond on a disk
            // file system, which would cut the fuzzer's runs per second several times.
            final Path shm = Path.of("/dev/shm");
            final Path directory = Files.isDirectory(shm) && Files.isWritable(shm) ?
                Files.createTempDirectory(shm, "syslet-submit-fuzz") : Files.createTempDirectory("syslet-submit-fuzz");
            final File file = directory.toFile();
            file.deleteOnExit();
            new File(file, FILE_NAME).deleteOnExit();
            return directory;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
