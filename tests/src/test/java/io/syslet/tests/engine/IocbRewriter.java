package io.syslet.tests.engine;

import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.pool.natives.Natives;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.syslet.abi.IocbDescriptor.*;
import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rewrites, in place, each iocb the engine could accept, so that what it does stays inside what the test
 * owns. Buffer references, counts, offsets, flags, attributes and the structure of the submission (see
 * {@link IocbDescriptor}) stay as the fuzzer wrote them: those are what the engine must check. What changes:
 * <ul>
 *   <li>RAW and GETADDRINFO become NOP (an unchecked syscall; a DNS query off this machine);</li>
 *   <li>every fd argument becomes, by its value, one of the run's own fds ({@link OwnedFds}) or one that cannot
 *       be open, so no op reads, writes, locks or syncs an fd of the JVM;</li>
 *   <li>CLOSE closes an fd made for that op alone, or one that cannot be open;</li>
 *   <li>OPENAT opens with O_PATH only, whatever path the buffer holds;</li>
 *   <li>what could block for long is bounded: poll and sleep times, flock without waiting, waitid with
 *       WNOHANG (the pipe is non-blocking);</li>
 *   <li>fallocate sizes are folded below 1 MiB; the cookie becomes the op's unique number in the run.</li>
 * </ul>
 */
final class IocbRewriter
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
    /** -1, {@link #NEVER_OPEN_FD} and {@link #NOT_AN_FD}, last in the fd table. */
    private static final int INVALID_FDS = 3;

    /** The run's fds, then the {@link #INVALID_FDS} that cannot be open (all CLOSE may pick from). */
    private final long[] fds;
    private final List<Op> ops;
    private int sacrificialFds;

    IocbRewriter(final OwnedFds owned, final List<Op> ops)
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
        final long cookie = SubmitFuzzTest.COOKIE_BASE + ops.size();
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
                    final int invalid = (int)Math.floorMod(arg(iocb, at, 0) >> 1, (long)INVALID_FDS);
                    setArg(iocb, at, 0, fds[fds.length - INVALID_FDS + invalid]);
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
}
