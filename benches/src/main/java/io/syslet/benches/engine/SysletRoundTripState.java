package io.syslet.benches.engine;

import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbWriter;
import io.syslet.pool.SysletContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import static io.syslet.pool.natives.Natives.LIBC;

/**
 * The engine at queue depth 1: submit one op, wait for its event, check it. Reused writer, event buffer
 * and cursor.
 */
@State(Scope.Thread)
public class SysletRoundTripState
{
    private SysletContext context;
    private IocbWriter writer;
    private UnsafeBuffer events;
    private final EventCursor cursor = new EventCursor();
    private int getppidNumber;
    private long parentPid;

    @Setup(Level.Trial)
    public void setUp()
    {
        context = SysletContext.setup(Engine.params());
        writer = Engine.writer(1);
        events = Engine.direct(Engine.EVENT_SPAN);
        getppidNumber = getppidSyscallNumber();
        parentPid = LIBC.getppid();
    }

    /**
     * A RAW op, {@code syscall(SYS_getppid)}: runs on the unbounded worker class.
     *
     * @return the parent's pid, checked.
     */
    public long rawGetppid()
    {
        writer.raw(1, getppidNumber, 0, 0, 0, 0, 0, 0);
        return roundTrip(parentPid);
    }

    /**
     * The same RAW op declaring that getppid reads at most 1 argument (it takes none; the count is an upper
     * bound and 0 means "not given"): the engine then calls a shorter syscall() binding that does not
     * allocate.
     *
     * @return the parent's pid, checked.
     */
    public long rawGetppidCounted()
    {
        writer.raw(1, getppidNumber, 1, 0, 0, 0, 0, 0, 0);
        return roundTrip(parentPid);
    }

    /**
     * A NOP: what the engine costs with no syscall at all (it still goes through a worker).
     *
     * @return 0, checked.
     */
    public long nop()
    {
        writer.nop(2);
        return roundTrip(0);
    }

    private long roundTrip(final long expectedRes)
    {
        Engine.submitAndReap(context, writer, events, cursor, expectedRes);
        return expectedRes;
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        context.close();
    }

    /**
     * @return {@code SYS_getppid} on this machine's architecture.
     */
    static int getppidSyscallNumber()
    {
        final String arch = System.getProperty("os.arch");
        switch (arch)
        {
            case "amd64":
            case "x86_64":
                return 110;
            case "aarch64":
                return 173;
            default:
                throw new IllegalStateException("SYS_getppid is not known here for os.arch " + arch);
        }
    }
}
