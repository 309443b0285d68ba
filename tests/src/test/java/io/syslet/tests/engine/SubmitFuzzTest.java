package io.syslet.tests.engine;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.syslet.abi.AioContext;
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
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import io.syslet.ring.Ring;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static io.syslet.abi.IocbDescriptor.*;
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
 * what would let an op harm the JVM or the machine rather than test the engine (see {@link Rewriter}): RAW
 * and GETADDRINFO become NOPs, fd arguments point at fds the test owns or at fds that cannot be open, CLOSE
 * closes only fds made for it, and ops that could block for long are bounded.
 *
 * <p>Input format (read front to back by {@link InputReader}; missing bytes read as 0): u8 max in flight,
 * u16 length P then P bytes copied to the start of the registered buffer, then up to
 * {@value #MAX_SUBMISSIONS} submissions, each: u8 control (bit 0: arbitrary i32 offset and length follow,
 * else u8 offset % 17 and u8 trim % 9; bit 1: cancel an accepted op afterwards, chosen by a trailing u16;
 * bit 2: reap what is ready afterwards), then u16 length L and L submission bytes.
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
        new FuzzRun(new InputReader(input), new long[Outcome.values().length]).run();
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
            final byte[] input = randomInput(seed);
            try
            {
                final FuzzRun run = new FuzzRun(new InputReader(input), outcomes);
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
        OPENED_FD, GUARDS_INTACT
    }

    /** One iocb the rewriter walked over, whether or not the engine accepted it. */
    static final class Op
    {
        final long cookie;
        /** The opcode as the fuzzer wrote it (before RAW and GETADDRINFO become NOP). */
        final int originalOpcode;
        final int opcode;
        final boolean wellFormed;
        /** An fd made for this op to close, or -1. */
        final int sacrificialFd;
        boolean accepted;
        boolean completed;
        long res;

        Op(final long cookie, final int originalOpcode, final int opcode, final boolean wellFormed,
            final int sacrificialFd)
        {
            this.cookie = cookie;
            this.originalOpcode = originalOpcode;
            this.opcode = opcode;
            this.wellFormed = wellFormed;
            this.sacrificialFd = sacrificialFd;
        }

        @Override
        public String toString()
        {
            return Opcode.name(opcode) + " cookie 0x" + Long.toHexString(cookie) + (completed ? " res " + res : "");
        }
    }

    /** The fds a run owns. Ops never see any other valid fd. */
    static final class OwnedFds
    {
        final int file;
        final int directory;
        final int pipeRead;
        final int pipeWrite;

        OwnedFds()
        {
            directory = TestLibC.LIBC.open(DIRECTORY.toString(), TestLibC.O_RDONLY | TestLibC.O_DIRECTORY |
                TestLibC.O_CLOEXEC, 0);
            file = TestLibC.LIBC.open(DIRECTORY.resolve(FILE_NAME).toString(), TestLibC.O_RDWR | TestLibC.O_CREAT |
                TestLibC.O_TRUNC | TestLibC.O_CLOEXEC, 0600);
            // Non-blocking, so a READ of the empty pipe or a WRITE to the full one ends with EAGAIN instead of
            // occupying a worker until the run gives up.
            final int[] pipe = new int[2];
            final int pipeResult = LIBC.pipe2(pipe, Natives.O_NONBLOCK | Natives.O_CLOEXEC);
            pipeRead = pipe[0];
            pipeWrite = pipe[1];
            if (directory < 0 || file < 0 || pipeResult != 0)
            {
                close();
                fail("cannot open the run's fds: directory " + directory + ", file " + file + ", pipe " + pipeResult);
            }
            // Content to read, so that a read past the end of the registered buffer would have bytes to write.
            final long written = LIBC.pwrite(file, FILE_CONTENT.addressOffset(), FILE_CONTENT.capacity(), 0);
            if (written != FILE_CONTENT.capacity())
            {
                close();
                fail("cannot fill the run's file: pwrite returned " + written);
            }
        }

        void close()
        {
            for (final int fd : new int[]{file, directory, pipeRead, pipeWrite})
            {
                if (fd >= 0)
                {
                    LIBC.close(fd);
                }
            }
        }
    }

    /**
     * Rewrites, in place, each iocb the engine could accept, so that what it does stays inside what the test
     * owns. Buffer references, counts, offsets, flags, attributes and the structure of the submission stay as
     * the fuzzer wrote them: those are what the engine must check.
     */
    static final class Rewriter
    {
        /** Longest poll timeout, in ms; a negative timeout (infinite) is bounded too. */
        static final int MAX_POLL_MILLIS = 1;
        static final long MAX_SLEEP_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
        /** fallocate offsets and lengths above this are folded down, so that no run fills the disk. */
        static final long MAX_ALLOCATE_BYTES = 1 << 20;
        /** The most fds one run makes for CLOSE ops to close. */
        static final int MAX_SACRIFICIAL_FDS = 32;
        static final int LOCK_NB = 4;
        static final int WNOHANG = 1;
        static final int WSTOPPED = 2;
        static final int WEXITED = 4;
        static final int WCONTINUED = 8;
        static final int WNOWAIT = 0x0100_0000;
        /** No fd can have this number (Linux caps fs.nr_open below it), so the kernel answers EBADF. */
        static final long NEVER_OPEN_FD = Integer.MAX_VALUE;
        /** Not an int: the engine answers EBADF without a call. */
        static final long NOT_AN_FD = 1L << 32;

        private final long[] fds;
        private final List<Op> ops;
        private int sacrificialFds;

        Rewriter(final OwnedFds owned, final List<Op> ops)
        {
            this.fds = new long[]{owned.file, owned.pipeRead, owned.pipeWrite, owned.directory, -1, NEVER_OPEN_FD,
                NOT_AN_FD};
            this.ops = ops;
        }

        /**
         * Walks the submission as the engine does, iocb by iocb, by each one's length, and rewrites each.
         *
         * @return the iocbs walked, in order; the engine can accept at most these.
         */
        List<Op> rewrite(final UnsafeBuffer submission, final int offset, final int limit)
        {
            final List<Op> walked = new ArrayList<>();
            int position = offset;
            while (limit - position >= MIN_LENGTH && (position & (ALIGNMENT - 1)) == 0)
            {
                final int length = submission.getInt(position + LENGTH_OFFSET);
                if (length < MIN_LENGTH || (length & (ALIGNMENT - 1)) != 0 || length > limit - position)
                {
                    break;
                }
                final Op op = rewriteOne(submission, position, limit);
                ops.add(op);
                walked.add(op);
                position += length;
            }
            return walked;
        }

        private Op rewriteOne(final UnsafeBuffer iocb, final int at, final int limit)
        {
            final int originalOpcode = iocb.getShort(at + OPCODE_OFFSET) & 0xFFFF;
            final long cookie = COOKIE_BASE + ops.size();
            iocb.putLong(at + COOKIE_OFFSET, cookie);
            int sacrificialFd = -1;
            switch (originalOpcode)
            {
                case Opcode.RAW:
                    // RAW is the documented unchecked escape hatch: its arguments go to the kernel as they are, so
                    // a fuzzed one could write anywhere in the JVM or signal, kill or close anything. Nothing in
                    // the engine checks it, so there is nothing to fuzz. aux is cleared with it, so the iocb stays
                    // as well formed as it was (aux is RAW's alone).
                    iocb.putShort(at + OPCODE_OFFSET, (short)Opcode.NOP);
                    iocb.putInt(at + AUX_OFFSET, 0);
                    break;
                case Opcode.GETADDRINFO:
                    // A name from fuzzed bytes (or from whatever a concurrent read put in the buffer) would go to
                    // the resolver, a query off this machine that waits for the resolver's timeout. Its buffer
                    // checks are the ones OPENAT, STATX and PREAD exercise.
                    iocb.putShort(at + OPCODE_OFFSET, (short)Opcode.NOP);
                    break;
                case Opcode.PREAD:
                case Opcode.PWRITE:
                case Opcode.PREADV:
                case Opcode.PWRITEV:
                case Opcode.READ:
                case Opcode.WRITE:
                case Opcode.FSYNC:
                case Opcode.FDATASYNC:
                case Opcode.SYNC_FILE_RANGE:
                case Opcode.ACCEPT:
                case Opcode.CONNECT:
                case Opcode.RECV:
                case Opcode.SEND:
                case Opcode.STATX:
                    setArg(iocb, at, 0, ownedFd(arg(iocb, at, 0)));
                    break;
                case Opcode.OPENAT:
                    // O_PATH: whatever path the buffer holds (fuzzed bytes, or statx output a concurrent op
                    // wrote), the open creates, truncates, blocks on and triggers nothing; the test closes the fd.
                    setArg(iocb, at, 0, ownedFd(arg(iocb, at, 0)));
                    setArg(iocb, at, 2, TestLibC.O_PATH | TestLibC.O_CLOEXEC |
                        (arg(iocb, at, 2) & (TestLibC.O_DIRECTORY | TestLibC.O_NOFOLLOW)));
                    break;
                case Opcode.CLOSE:
                    // An fd made for this op alone, or one that cannot be open: closing any other would pull an
                    // fd out from under the JVM or from under a concurrent op, whose number the JVM could reuse.
                    if ((arg(iocb, at, 0) & 1) == 0 && sacrificialFds < MAX_SACRIFICIAL_FDS)
                    {
                        sacrificialFd = LIBC.eventfd(0, Natives.EFD_CLOEXEC);
                        assertTrue(sacrificialFd >= 0, "eventfd for a CLOSE op failed");
                        sacrificialFds++;
                        setArg(iocb, at, 0, sacrificialFd);
                    }
                    else
                    {
                        setArg(iocb, at, 0, fds[4 + (int)Math.floorMod(arg(iocb, at, 0) >> 1, 3L)]);
                    }
                    break;
                case Opcode.FALLOCATE:
                    setArg(iocb, at, 0, ownedFd(arg(iocb, at, 0)));
                    setArg(iocb, at, 2, fold(arg(iocb, at, 2), MAX_ALLOCATE_BYTES));
                    setArg(iocb, at, 3, fold(arg(iocb, at, 3), MAX_ALLOCATE_BYTES));
                    break;
                case Opcode.FLOCK:
                    // No other open file description of the test's file takes locks, so this never waits
                    // anyway; LOCK_NB makes sure.
                    setArg(iocb, at, 0, ownedFd(arg(iocb, at, 0)));
                    setArg(iocb, at, 1, arg(iocb, at, 1) | LOCK_NB);
                    break;
                case Opcode.POLL:
                    // The pollfds come from the buffer and may name any fd: poll only looks. The timeout,
                    // negative (forever) included, is bounded.
                    setArg(iocb, at, 2, Math.floorMod(arg(iocb, at, 2), (long)MAX_POLL_MILLIS + 1));
                    break;
                case Opcode.NANOSLEEP:
                    setArg(iocb, at, 0, fold(arg(iocb, at, 0), MAX_SLEEP_NANOS));
                    break;
                case Opcode.WAITID:
                    // WNOHANG: never wait; WNOWAIT: never reap a child of the JVM that something else waits for.
                    setArg(iocb, at, 3, (arg(iocb, at, 3) & (WEXITED | WSTOPPED | WCONTINUED)) | WNOHANG | WNOWAIT);
                    break;
                default:
                    // NOP, CALLABLE from bytes (-EINVAL) and opcodes this version does not define (-ENOSYS) touch
                    // nothing.
                    break;
            }
            final int opcode = iocb.getShort(at + OPCODE_OFFSET) & 0xFFFF;
            return new Op(cookie, originalOpcode, opcode, wellFormed(iocb, at, limit), sacrificialFd);
        }

        private long ownedFd(final long fuzzed)
        {
            return fds[(int)Math.floorMod(fuzzed, (long)fds.length)];
        }

        /** Keeps negative values (the engine or kernel must refuse them) and folds large ones below {@code max}. */
        private static long fold(final long value, final long max)
        {
            return value <= max ? value : value % (max + 1);
        }

        private static long arg(final UnsafeBuffer iocb, final int at, final int i)
        {
            return iocb.getLong(at + argOffset(i));
        }

        private static void setArg(final UnsafeBuffer iocb, final int at, final int i, final long value)
        {
            iocb.putLong(at + argOffset(i), value);
        }
    }

    /**
     * The ABI's well-formedness rules (the {@link IocbDescriptor} comment and docs/ABI.md), written from the
     * text rather than shared with the engine, as the oracle for what submit must accept or refuse.
     */
    static boolean wellFormed(final UnsafeBuffer buffer, final int at, final int limit)
    {
        if ((at & 7) != 0 || limit - at < 72)
        {
            return false;
        }
        final int length = buffer.getInt(at);
        final int attributes = buffer.getShort(at + 16) & 0xFFFF;
        final int opcode = buffer.getShort(at + 4) & 0xFFFF;
        return length >= 72 && length % 8 == 0 && length <= limit - at && attributes <= 64 &&
            length >= ((72 + 2 * attributes + 7) & ~7) && (buffer.getShort(at + 6) & ~1) == 0 &&
            buffer.getShort(at + 18) == 0 && (opcode == Opcode.RAW || buffer.getInt(at + 20) == 0);
    }

    /** One run: a context, some submissions, then every event reaped and checked, and destroy. */
    static final class FuzzRun
    {
        private final InputReader input;
        private final long[] outcomes;
        private final List<Op> ops = new ArrayList<>();
        private final List<Op> accepted = new ArrayList<>();
        private final EventCursor cursor = new EventCursor();
        private int completed;

        FuzzRun(final InputReader input, final long[] outcomes)
        {
            this.input = input;
            this.outcomes = outcomes;
        }

        void run()
        {
            final int maxInFlight = 1 + input.u8() % MAX_IN_FLIGHT;
            prepareMemory();
            final OwnedFds owned = new OwnedFds();
            final Rewriter rewriter = new Rewriter(owned, ops);
            final SysletContext ctx = SysletContext.setup(new SetupParams().ringBytes(4096).maxInFlight(maxInFlight)
                .maxBuffers(1).boundedWorkers(1).unboundedWorkers(2));
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

        private void submitOne(final SysletContext ctx, final Rewriter rewriter)
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
            assertTrue(res >= 0 || (res >= -MAX_ERRNO && res <= -1), "res is neither >= 0 nor a negated errno: " + what);
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
            // The count drops just after a worker publishes its event, so it may trail the last event by a moment.
            long spins = 0;
            while (ctx.inFlight() != 0)
            {
                assertTrue(++spins < 10_000_000L, "every event is reaped, yet in flight stays " + ctx.inFlight());
                Thread.yield();
            }
            final Ring ring = ctx.ring();
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

    /** Reads the input front to back; past its end every value is 0 and every byte array empty. */
    static final class InputReader
    {
        private final byte[] input;
        private int position;

        InputReader(final byte[] input)
        {
            this.input = input;
        }

        int remaining()
        {
            return input.length - position;
        }

        int u8()
        {
            return position < input.length ? input[position++] & 0xFF : 0;
        }

        int u16()
        {
            return u8() | (u8() << 8);
        }

        int i32()
        {
            return u16() | (u16() << 16);
        }

        byte[] bytes(final int count)
        {
            final int n = Math.min(count, remaining());
            final byte[] out = new byte[n];
            System.arraycopy(input, position, out, 0, n);
            position += n;
            return out;
        }
    }

    /** Writes inputs in the format {@link InputReader} reads. */
    static final class InputWriter
    {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        InputWriter u8(final int value)
        {
            out.write(value);
            return this;
        }

        InputWriter u16(final int value)
        {
            return u8(value).u8(value >>> 8);
        }

        InputWriter i32(final int value)
        {
            return u16(value).u16(value >>> 16);
        }

        InputWriter bytes(final byte[] bytes)
        {
            out.write(bytes, 0, bytes.length);
            return this;
        }

        byte[] toByteArray()
        {
            return out.toByteArray();
        }
    }

    /**
     * A pseudo-random input: a registered-buffer prefix holding a path, iov arrays and pollfds, then a few
     * submissions of iocbs of every opcode with plausible or wild arguments, some damaged.
     */
    static byte[] randomInput(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final InputWriter input = new InputWriter();
        input.u8(random.nextInt(MAX_IN_FLIGHT));
        final byte[] prefix = registeredPrefix(random);
        input.u16(prefix.length).bytes(prefix);
        final int submissions = 1 + random.nextInt(4);
        for (int s = 0; s < submissions; s++)
        {
            final byte[] iocbs = random.nextInt(16) == 0 ? new byte[0] : randomIocbs(random);
            final boolean wild = random.nextInt(8) == 0;
            final int control = (wild ? 1 : 0) | (random.nextInt(3) == 0 ? 2 : 0) | (random.nextInt(3) == 0 ? 4 : 0);
            input.u8(control);
            if (wild)
            {
                input.i32(random.nextInt(3) == 0 ? random.nextInt() : random.nextInt(-8, 24));
                input.i32(random.nextInt(3) == 0 ? random.nextInt() : iocbs.length + random.nextInt(-80, 16));
            }
            else
            {
                // Mostly the whole submission; now and then a misaligned start or a cut-off end.
                input.u8(random.nextInt(6) == 0 ? random.nextInt(17) : 0);
                input.u8(random.nextInt(6) == 0 ? random.nextInt(9) : 0);
            }
            input.u16(iocbs.length).bytes(iocbs);
            if ((control & 2) != 0)
            {
                input.u16(random.nextInt(1 << 16));
            }
        }
        return input.toByteArray();
    }

    /** Offsets in the registered buffer of what {@link #registeredPrefix} writes there. */
    static final int PATH_AT = 0;
    static final int IOV_AT = 64;
    static final int POLLFD_AT = 128;

    private static byte[] registeredPrefix(final SplittableRandom random)
    {
        final ByteBuffer prefix = ByteBuffer.allocate(POLLFD_AT + 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < prefix.capacity(); i++)
        {
            prefix.put(i, (byte)random.nextInt());
        }
        prefix.put(PATH_AT, (FILE_NAME + "\0").getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 3; i++)
        {
            // Two iovs inside the buffer, the third either inside or past its end.
            final int at = IOV_AT + i * IovDescriptor.LENGTH;
            prefix.putLong(at + IovDescriptor.BUFFER_OFFSET, BufferRef.of(0, 1024 + i * 2048));
            prefix.putLong(at + IovDescriptor.LENGTH_OFFSET, i < 2 ? 100 + i : (random.nextBoolean() ? 64 : 1 << 20));
        }
        for (int i = 0; i < 2; i++)
        {
            // struct pollfd {int fd; short events; short revents}: stdin and an fd that cannot be open.
            prefix.putInt(POLLFD_AT + i * 8, i == 0 ? 0 : Integer.MAX_VALUE);
            prefix.putShort(POLLFD_AT + i * 8 + 4, (short)1);
            prefix.putShort(POLLFD_AT + i * 8 + 6, (short)0);
        }
        return prefix.array();
    }

    private static byte[] randomIocbs(final SplittableRandom random)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[MAX_SUBMISSION_BYTES]);
        final IocbWriter writer = new IocbWriter(buffer);
        final int count = 1 + random.nextInt(12);
        for (int i = 0; i < count; i++)
        {
            if (writer.length() + IocbDescriptor.length(4) > buffer.capacity())
            {
                break;
            }
            final int opcode = random.nextInt(Opcode.COUNT + 2);
            final long[] args = new long[ARG_COUNT];
            for (int a = 0; a < ARG_COUNT; a++)
            {
                args[a] = randomArg(random, opcode, a);
            }
            final int countArg = countArg(opcode);
            if (countArg >= 0 && random.nextInt(3) == 0)
            {
                // A range that ends within a few bytes (or elements) of the buffer's end, on either side.
                final int refArg = opcode == Opcode.POLL ? 0 : 1;
                final int unit = opcode == Opcode.POLL ? 8 : opcode == Opcode.PREADV || opcode == Opcode.PWRITEV ?
                    IovDescriptor.LENGTH : 1;
                final int offset = random.nextInt(REGISTERED_BYTES + 1);
                args[refArg] = BufferRef.of(0, offset);
                args[countArg] = (REGISTERED_BYTES - offset) / unit + random.nextInt(-2, 3);
            }
            writer.append(opcode, random.nextLong(), opcode == Opcode.RAW ? random.nextInt(512) : 0,
                args[0], args[1], args[2], args[3], args[4], args[5]);
            if (random.nextInt(8) == 0)
            {
                writer.attributes(random.nextInt(1 << 16), random.nextInt(1 << 16));
            }
            if (random.nextInt(16) == 0)
            {
                writer.flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            }
        }
        final byte[] bytes = new byte[writer.length()];
        buffer.getBytes(0, bytes);
        if (random.nextInt(4) == 0)
        {
            // Damage one byte: a length, flag, reserved field, opcode or argument goes wrong.
            final int at = random.nextInt(bytes.length);
            bytes[at] = (byte)random.nextInt();
        }
        return bytes;
    }

    /** An argument that is mostly meaningful for its op (an fd index, a reference, a count), sometimes wild. */
    private static long randomArg(final SplittableRandom random, final int opcode, final int i)
    {
        if (random.nextInt(10) == 0)
        {
            return random.nextLong();
        }
        final boolean isRef = isBufferArg(opcode, i);
        if (isRef)
        {
            switch (random.nextInt(8))
            {
                case 0:
                    return BufferRef.NO_BUFFER;
                case 1:
                    return BufferRef.of(1, 0); // not registered
                case 2:
                    return BufferRef.of(0, REGISTERED_BYTES - random.nextInt(1, 64)); // near the end
                default:
                    return BufferRef.of(0, fixedRef(opcode, random));
            }
        }
        if (i == 0)
        {
            // The rewriter maps it to an fd of the run (3: the directory, for a path relative to it).
            return (opcode == Opcode.OPENAT || opcode == Opcode.STATX) && random.nextBoolean() ? 3 :
                random.nextInt(-2, 8);
        }
        switch (random.nextInt(4))
        {
            case 0:
                return 0;
            case 1:
                return random.nextInt(1, 4);
            case 2:
                return random.nextInt(4096);
            default:
                return random.nextInt(REGISTERED_BYTES + 64);
        }
    }

    private static long fixedRef(final int opcode, final SplittableRandom random)
    {
        switch (opcode)
        {
            case Opcode.OPENAT:
            case Opcode.STATX:
                return random.nextBoolean() ? PATH_AT : random.nextInt(REGISTERED_BYTES);
            case Opcode.PREADV:
            case Opcode.PWRITEV:
                return IOV_AT;
            case Opcode.POLL:
                return POLLFD_AT;
            default:
                return random.nextInt(4096, REGISTERED_BYTES);
        }
    }

    /** The argument that counts what the op's first buffer argument holds, or -1. */
    private static int countArg(final int opcode)
    {
        switch (opcode)
        {
            case Opcode.PREAD:
            case Opcode.PWRITE:
            case Opcode.PREADV:
            case Opcode.PWRITEV:
            case Opcode.READ:
            case Opcode.WRITE:
            case Opcode.CONNECT:
            case Opcode.RECV:
            case Opcode.SEND:
                return 2;
            case Opcode.POLL:
                return 1;
            default:
                return -1;
        }
    }

    private static boolean isBufferArg(final int opcode, final int i)
    {
        switch (opcode)
        {
            case Opcode.PREAD:
            case Opcode.PWRITE:
            case Opcode.PREADV:
            case Opcode.PWRITEV:
            case Opcode.READ:
            case Opcode.WRITE:
            case Opcode.OPENAT:
            case Opcode.ACCEPT:
            case Opcode.CONNECT:
            case Opcode.RECV:
            case Opcode.SEND:
                return i == 1;
            case Opcode.STATX:
                return i == 1 || i == 4;
            case Opcode.POLL:
                return i == 0;
            case Opcode.WAITID:
                return i == 2;
            case Opcode.GETADDRINFO:
                return i <= 2;
            default:
                return false;
        }
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
