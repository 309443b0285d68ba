package io.syslet.pool.natives;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

import static io.syslet.pool.natives.Natives.LIBC;

/**
 * Interrupts a thread blocked in an interruptible syscall, the way the JDK interrupts its own blocked
 * NIO threads: a signal with a no-op handler installed without {@code SA_RESTART}, sent with
 * {@code tgkill} to that one thread, makes the syscall return EINTR.
 *
 * <p>We reuse the JDK's signal (SIGRTMAX - 2) and its handler, which {@code sun.nio.ch.NativeThread}
 * installs when it is initialized, rather than install a handler of our own: a handler must be native
 * code and we write none. Before we ever send the signal we read its disposition back with
 * {@code sigaction}: a real-time signal left at SIG_DFL would kill the process, and one installed
 * with SA_RESTART would not interrupt anything. If either holds, {@link #available()} is false and
 * the engine answers "running, may not terminate" instead.
 */
public final class ThreadSignal
{
    private static final long SIG_DFL = 0;
    private static final long SIG_IGN = 1;
    private static final int SA_RESTART = 0x1000_0000;
    /** glibc x86_64/aarch64 {@code struct sigaction}: handler 8, mask 128, flags int at 136, restorer. */
    private static final int SIGACTION_LENGTH = 152;
    private static final int SIGACTION_FLAGS_OFFSET = 136;

    private static final ThreadSignal INSTANCE = probe();

    private final int signal;
    private final boolean available;
    private final String detail;
    private final int pid;

    private ThreadSignal(final int signal, final boolean available, final String detail)
    {
        this.signal = signal;
        this.available = available;
        this.detail = detail;
        this.pid = LIBC.getpid();
    }

    /**
     * @return the process-wide instance, probed once.
     */
    public static ThreadSignal instance()
    {
        return INSTANCE;
    }

    /**
     * @return true if {@link #interrupt} can make a blocked syscall return EINTR.
     */
    public boolean available()
    {
        return available;
    }

    /**
     * @return the signal used and how its handler was verified, or why it cannot be used.
     */
    public String detail()
    {
        return detail;
    }

    /**
     * Sends the signal to one thread of this process.
     *
     * @param tid native thread id.
     * @return 0, or a negated errno (ESRCH if the thread is gone).
     * @throws IllegalStateException if {@link #available()} is false.
     */
    public int interrupt(final int tid)
    {
        if (!available)
        {
            throw new IllegalStateException("cannot interrupt threads here: " + detail);
        }
        return (int)Natives.result(LIBC.tgkill(pid, tid, signal));
    }

    private static ThreadSignal probe()
    {
        final int signal = LIBC.__libc_current_sigrtmax() - 2;
        try
        {
            Class.forName("sun.nio.ch.NativeThread", true, ClassLoader.getSystemClassLoader());
        }
        catch (final ClassNotFoundException | LinkageError e)
        {
            return new ThreadSignal(signal, false, "the JDK's NIO interrupt handler could not be loaded: " + e);
        }
        final UnsafeBuffer action = new UnsafeBuffer(ByteBuffer.allocateDirect(SIGACTION_LENGTH));
        if (LIBC.sigaction(signal, 0, action.addressOffset()) != 0)
        {
            return new ThreadSignal(signal, false, "sigaction(" + signal + ") failed with errno " + -Natives.lastError());
        }
        final long handler = action.getLong(0);
        final int flags = action.getInt(SIGACTION_FLAGS_OFFSET);
        if (handler == SIG_DFL || handler == SIG_IGN)
        {
            return new ThreadSignal(signal, false, "signal " + signal + " has no handler (it would " +
                (handler == SIG_DFL ? "kill the process" : "be ignored") + ")");
        }
        if ((flags & SA_RESTART) != 0)
        {
            return new ThreadSignal(signal, false, "signal " + signal + "'s handler restarts syscalls (SA_RESTART)");
        }
        return new ThreadSignal(signal, true, "signal " + signal + " (SIGRTMAX-2, the JDK's NIO interrupt signal) " +
            "to the worker thread; handler installed without SA_RESTART");
    }
}
