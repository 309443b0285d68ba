package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.NetTestSupport.Memory;
import io.syslet.pool.NetTestSupport.Reaper;
import io.syslet.pool.natives.Natives;
import io.syslet.pool.natives.ThreadSignal;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.syslet.pool.NetTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Ops that wait for something outside the process: poll on a pipe, waitid on a child, flock against a
 * lock the test holds. Each test first proves the op is blocked in the kernel, then provides the thing it
 * waits for (or cancels it).
 */
class WaitOpsTest
{
    private static final int POLLIN = 1;
    private static final int POLLFD_AT = 0;
    private static final int DATA_AT = 64;
    private static final int SIGINFO_AT = 256;
    private static final int SPAWN_AT = 1024;
    private static final int P_PID = 1;
    private static final int WEXITED = 4;
    private static final int WNOWAIT = 0x0100_0000;
    private static final int SIGCHLD = 17;
    private static final int CLD_EXITED = 1;

    @TempDir
    Path dir;

    private SysletContext ctx;
    private Memory mem;
    private Reaper reaper;
    private IocbWriter writer;

    @BeforeEach
    void setUp()
    {
        ctx = SysletContext.setup(new SetupParams());
        mem = new Memory(ctx, 8192);
        reaper = new Reaper(ctx);
        writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
    }

    @AfterEach
    void tearDown()
    {
        assertTrue(ctx.destroy(PATIENCE_NANOS), "destroy left an op running");
    }

    @Test
    void pollBlocksUntilThePipeIsReadable()
    {
        final int[] pipe = pipe();
        try
        {
            putPollFd(pipe[0]);
            writer.poll(1, mem.ref(POLLFD_AT, 8), 1, -1);
            assertEquals(1, writer.submitTo(ctx));
            final long pollFdAddress = mem.address(POLLFD_AT, 8);
            awaitWorkersInSyscall("poll on the pollfd array", 1, args -> args[0] == pollFdAddress);
            reaper.assertNoEvent("poll must wait while the pipe is empty");

            mem.buffer.putByte(DATA_AT, (byte)1);
            writeFully(pipe[1], mem, DATA_AT, 1);
            final Event event = reaper.reapOne(1);
            assertEquals(1, event.res(), "one fd ready: " + event);
            assertEquals(pipe[0], mem.buffer.getInt(POLLFD_AT), "the kernel leaves fd alone");
            assertEquals(POLLIN, mem.buffer.getShort(POLLFD_AT + 6) & POLLIN, "revents has POLLIN");
        }
        finally
        {
            close(pipe);
        }
    }

    /**
     * A signal nobody asked for (a cancel's signal that lands after its op ended, on the next op of that worker)
     * wakes poll with EINTR, and the engine polls again: for the time left, not the whole timeout, or a stray
     * signal every so often would keep the poll from ever timing out. Here one comes every 20 ms into a 500 ms
     * poll, for up to 20 s: before, the poll never ended.
     */
    @Test
    void aPollThatStraySignalsKeepWakingStillTimesOutWhenItsTimeoutIsUp()
    {
        final ThreadSignal signal = ThreadSignal.instance();
        Assumptions.assumeTrue(signal.available(), "needs the engine's interrupt signal: " + signal.detail());
        final int[] pipe = pipe();
        try
        {
            putPollFd(pipe[0]);
            writer.poll(1, mem.ref(POLLFD_AT, 8), 1, 500);
            assertEquals(1, writer.submitTo(ctx));
            final int tid = SysletTestSupport.awaitThreadBlockedIn("syslet-unbounde", "poll");
            final long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int signals = 0;
            Map<Long, Event> events = Map.of();
            while (events.isEmpty() && System.nanoTime() - giveUp < 0)
            {
                assertEquals(0, signal.interrupt(tid), "tgkill");
                signals++;
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                events = SysletTestSupport.reapReady(ctx);
            }
            assertFalse(events.isEmpty(), "the poll never timed out: " + signals + " stray signals each restarted " +
                "its whole timeout");
            assertEquals(0, events.get(1L).res(), "timed out with no fd ready, not EINTR: " + events.get(1L));
            assertTrue(signals >= 2, "it was woken while it waited: " + signals + " signals");
        }
        finally
        {
            close(pipe);
        }
    }

    @Test
    void pollWithZeroTimeoutOnAnEmptyPipeReturnsZero()
    {
        final int[] pipe = pipe();
        try
        {
            putPollFd(pipe[0]);
            mem.buffer.putShort(POLLFD_AT + 6, (short)0x7777); // the kernel must overwrite revents
            writer.poll(1, mem.ref(POLLFD_AT, 8), 1, 0);
            assertEquals(1, writer.submitTo(ctx));
            final Event event = reaper.reapOne(1);
            assertEquals(0, event.res(), "nothing ready: " + event);
            assertEquals(0, mem.buffer.getShort(POLLFD_AT + 6), "no revents");
        }
        finally
        {
            close(pipe);
        }
    }

    private void putPollFd(final int fd)
    {
        mem.buffer.putInt(POLLFD_AT, fd);
        mem.buffer.putShort(POLLFD_AT + 4, (short)POLLIN);
        mem.buffer.putShort(POLLFD_AT + 6, (short)0);
    }

    /**
     * The child is spawned with posix_spawn(3), not ProcessBuilder: the JDK runs a reaper thread that
     * waitpid(2)s every Process it starts, and whichever of it and our waitid gets there first would decide
     * the result. A child the JDK does not know about is ours alone. It blocks reading a pipe the test
     * holds, so the test decides when it exits, after the engine's waitid is blocked on it.
     */
    @Test
    void waitidSeesTheChildsExitStatus()
    {
        Assumptions.assumeTrue(isX86_64(), "needs x86_64: the siginfo_t offsets checked here are that ABI's");
        final int[] stdin = pipe();
        final int pid;
        try
        {
            pid = spawnShell(stdin[0], "read line; exit 7");
        }
        finally
        {
            close(stdin[0]);
        }
        try
        {
            // WNOWAIT first: the child stays waitable, so the second waitid must see the same exit.
            writer.waitid(1, P_PID, pid, mem.ref(SIGINFO_AT, 128), WEXITED | WNOWAIT);
            assertEquals(1, writer.submitTo(ctx));
            awaitWorkersInSyscall("waitid on pid " + pid, 1, args -> args[0] == P_PID && args[1] == pid);
            reaper.assertNoEvent("waitid must wait while the child runs");

            mem.buffer.putByte(DATA_AT, (byte)'\n');
            writeFully(stdin[1], mem, DATA_AT, 1);
            final Event peeked = reaper.reapOne(1);
            assertEquals(0, peeked.res(), peeked.toString());
            assertSigInfo(pid, 7);

            mem.buffer.setMemory(SIGINFO_AT, 128, (byte)0);
            writer.waitid(2, P_PID, pid, mem.ref(SIGINFO_AT, 128), WEXITED);
            assertEquals(1, writer.submitTo(ctx));
            final Event reaped = reaper.reapOne(2);
            assertEquals(0, reaped.res(), reaped.toString());
            assertSigInfo(pid, 7);

            writer.waitid(3, P_PID, pid, mem.ref(SIGINFO_AT, 128), WEXITED);
            assertEquals(1, writer.submitTo(ctx));
            final Event gone = reaper.reapOne(3);
            assertEquals(-ECHILD, gone.res(), "the second waitid without WNOWAIT reaped the child: " + gone);
        }
        finally
        {
            close(stdin[1]);
        }
    }

    /**
     * A siginfo buffer in read-only memory is refused before the call. Left to the kernel, waitid reaps the
     * child first and fails to copy its siginfo after (EFAULT), so the exit status is lost: the next waitid got
     * ECHILD before the engine checked for read-only memory.
     */
    @Test
    void waitidIntoReadOnlyMemoryFailsBeforeItReapsTheChild() throws Exception
    {
        Assumptions.assumeTrue(isX86_64(), "needs x86_64: the siginfo_t offsets checked here are that ABI's");
        final Path roFile = dir.resolve("read-only");
        Files.write(roFile, new byte[4096]);
        final int readOnly;
        try (FileChannel channel = FileChannel.open(roFile, StandardOpenOption.READ))
        {
            readOnly = ctx.registerBuffer(new UnsafeBuffer(channel.map(FileChannel.MapMode.READ_ONLY, 0, 4096)));
        }
        final int[] stdin = pipe();
        final int pid;
        try
        {
            pid = spawnShell(stdin[0], "exit 3");
        }
        finally
        {
            close(stdin);
        }
        writer.waitid(1, P_PID, pid, BufferRef.of(readOnly, 0), WEXITED);
        assertEquals(1, writer.submitTo(ctx));
        final Event refused = reaper.reapOne(1);
        assertEquals(-Errno.EFAULT, refused.res(), refused.toString());

        writer.waitid(2, P_PID, pid, mem.ref(SIGINFO_AT, 128), WEXITED);
        assertEquals(1, writer.submitTo(ctx));
        final Event reaped = reaper.reapOne(2);
        assertEquals(0, reaped.res(), "the child is still there to reap: " + reaped);
        assertSigInfo(pid, 3);
    }

    private void assertSigInfo(final int pid, final int status)
    {
        assertEquals(SIGCHLD, mem.buffer.getInt(SIGINFO_AT), "si_signo");
        assertEquals(CLD_EXITED, mem.buffer.getInt(SIGINFO_AT + 8), "si_code");
        assertEquals(pid, mem.buffer.getInt(SIGINFO_AT + 16), "si_pid");
        assertEquals(status, mem.buffer.getInt(SIGINFO_AT + 24), "si_status");
    }

    /**
     * Starts {@code /bin/sh -c script} with stdin on {@code stdinFd} and an empty environment.
     *
     * @return its pid.
     */
    private int spawnShell(final int stdinFd, final String script)
    {
        assertTrue(Files.isExecutable(Path.of("/bin/sh")), "needs /bin/sh");
        final int pidAt = SPAWN_AT;
        final int actionsAt = SPAWN_AT + 64; // posix_spawn_file_actions_t: 80 bytes on glibc x86_64
        final int argvAt = SPAWN_AT + 256;
        final int stringsAt = SPAWN_AT + 512;
        final String[] argv = {"sh", "-c", script};
        int at = stringsAt;
        for (int i = 0; i < argv.length; i++)
        {
            mem.cString(at, argv[i]);
            mem.buffer.putLong(argvAt + i * 8, mem.address(at, argv[i].length() + 1));
            at += argv[i].length() + 1;
        }
        mem.buffer.putLong(argvAt + argv.length * 8, 0L);
        mem.buffer.putLong(argvAt + (argv.length + 1) * 8, 0L); // envp: an empty list
        final long actions = mem.address(actionsAt, 192);
        assertEquals(0, TEST_LIBC.posix_spawn_file_actions_init(actions));
        try
        {
            assertEquals(0, TEST_LIBC.posix_spawn_file_actions_adddup2(actions, stdinFd, 0));
            final int rc = TEST_LIBC.posix_spawn(mem.address(pidAt, 4), "/bin/sh", actions, 0,
                mem.address(argvAt, (argv.length + 1) * 8), mem.address(argvAt + argv.length * 8 + 8, 8));
            assertEquals(0, rc, "posix_spawn failed: error " + rc);
        }
        finally
        {
            TEST_LIBC.posix_spawn_file_actions_destroy(actions);
        }
        final int pid = mem.buffer.getInt(pidAt);
        assertTrue(pid > 0);
        return pid;
    }

    @Test
    void flockBlocksOnAHeldLockCancelsAndThenSucceeds() throws Exception
    {
        final Path file = dir.resolve("lock");
        Files.writeString(file, "lock");
        final int heldFd = TEST_LIBC.open(file.toString(), Natives.O_RDWR | Natives.O_CLOEXEC, 0);
        // A second open is a second open file description: flock conflicts between the two.
        final int engineFd = TEST_LIBC.open(file.toString(), Natives.O_RDWR | Natives.O_CLOEXEC, 0);
        try
        {
            assertTrue(heldFd >= 0 && engineFd >= 0, "open failed: errno " + testErrno());
            assertEquals(0, TEST_LIBC.flock(heldFd, LOCK_EX), "errno " + testErrno());

            writer.flock(1, engineFd, LOCK_EX);
            assertEquals(1, writer.submitTo(ctx));
            awaitWorkerBlockedOn("flock", engineFd);
            reaper.assertNoEvent("flock must wait while the test holds the lock");
            assertEquals(AioContext.CANCELED, ctx.cancel(1));
            final Event canceled = reaper.reapOne(1);
            assertEquals(-Errno.ECANCELED, canceled.res(), canceled.toString());

            // Blocked again; this time the holder lets go and the engine's flock gets the lock.
            writer.flock(2, engineFd, LOCK_EX);
            assertEquals(1, writer.submitTo(ctx));
            awaitWorkerBlockedOn("flock", engineFd);
            reaper.assertNoEvent("flock must wait while the test holds the lock");
            assertEquals(0, TEST_LIBC.flock(heldFd, LOCK_UN), "errno " + testErrno());
            final Event locked = reaper.reapOne(2);
            assertEquals(0, locked.res(), locked.toString());
            assertEquals(-1, TEST_LIBC.flock(heldFd, LOCK_EX | LOCK_NB), "the engine's fd holds the lock now");
            assertEquals(EWOULDBLOCK, testErrno());

            writer.flock(3, engineFd, LOCK_UN);
            assertEquals(1, writer.submitTo(ctx));
            assertEquals(0, reaper.reapOne(3).res());
            assertEquals(0, TEST_LIBC.flock(heldFd, LOCK_EX | LOCK_NB), "unlocked by the engine: errno " + testErrno());
        }
        finally
        {
            close(heldFd, engineFd);
        }
    }

    /**
     * flock, waitid, poll and nanosleep are of the unbounded class (docs/ABI.md, the op table): blocked, they
     * must not hold the workers of regular-file IO. With one bounded worker, a pread still completes while
     * one of each waits; run on that worker, any of them would hold the pread up until it was cancelled.
     * (PoolTest checks this for pipe reads only.)
     */
    @Test
    void blockedFlockWaitidPollAndSleepLeaveTheBoundedWorkerFree() throws Exception
    {
        assertTrue(ctx.destroy(PATIENCE_NANOS), "destroy left an op running");
        ctx = SysletContext.setup(new SetupParams().boundedWorkers(1));
        mem = new Memory(ctx, 8192);
        reaper = new Reaper(ctx);
        final Path file = dir.resolve("lock");
        Files.writeString(file, "bounded class");
        final int heldFd = TEST_LIBC.open(file.toString(), Natives.O_RDWR | Natives.O_CLOEXEC, 0);
        final int engineFd = TEST_LIBC.open(file.toString(), Natives.O_RDWR | Natives.O_CLOEXEC, 0);
        final int[] stdin = pipe();
        final int[] silent = pipe();
        final int pid;
        try
        {
            pid = spawnShell(stdin[0], "read line; exit 3");
        }
        finally
        {
            close(stdin[0]);
        }
        try
        {
            assertTrue(heldFd >= 0 && engineFd >= 0, "open failed: errno " + testErrno());
            assertEquals(0, TEST_LIBC.flock(heldFd, LOCK_EX), "errno " + testErrno());
            putPollFd(silent[0]);
            writer.flock(1, engineFd, LOCK_EX)
                .waitid(2, P_PID, pid, mem.ref(SIGINFO_AT, 128), WEXITED | WNOWAIT)
                .poll(3, mem.ref(POLLFD_AT, 8), 1, -1)
                .nanosleep(4, TimeUnit.MINUTES.toNanos(10));
            assertEquals(4, writer.submitTo(ctx));
            awaitWorkerBlockedOn("flock", engineFd);
            awaitWorkersInSyscall("waitid on pid " + pid, 1, args -> args[0] == P_PID && args[1] == pid);
            final long pollFdAddress = mem.address(POLLFD_AT, 8);
            awaitWorkersInSyscall("poll on the pollfd array", 1, args -> args[0] == pollFdAddress);

            // Off the immediate path: the file is cached, and a pread completed on this thread needs no worker.
            writer.pread(5, engineFd, mem.ref(DATA_AT, 13), 13, 0).flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            assertEquals(1, writer.submitTo(ctx));
            final Event pread = reaper.reapOne(5);
            assertEquals(13, pread.res(), pread.toString());
            assertEquals(0, pread.flags() & EventDescriptor.FLAG_IMMEDIATE, pread.toString());
            assertEquals("bounded class", mem.buffer.getStringWithoutLengthAscii(DATA_AT, 13));
            reaper.assertNoEvent("the flock, the waitid, the poll and the sleep still wait");

            for (long cookie = 1; cookie <= 4; cookie++)
            {
                assertEquals(AioContext.CANCELED, ctx.cancel(cookie), "cancel " + cookie);
            }
            final Map<Long, Event> canceled = reaper.reap(4);
            for (long cookie = 1; cookie <= 4; cookie++)
            {
                assertEquals(-Errno.ECANCELED, canceled.get(cookie).res(), canceled.toString());
            }

            // Let the child exit, and reap it.
            mem.buffer.putByte(DATA_AT + 64, (byte)'\n');
            writeFully(stdin[1], mem, DATA_AT + 64, 1);
            writer.waitid(6, P_PID, pid, mem.ref(SIGINFO_AT, 128), WEXITED);
            assertEquals(1, writer.submitTo(ctx));
            assertEquals(0, reaper.reapOne(6).res());
        }
        finally
        {
            close(stdin[1]);
            close(silent);
            close(heldFd, engineFd);
        }
    }
}
