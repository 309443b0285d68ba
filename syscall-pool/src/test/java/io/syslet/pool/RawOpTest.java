package io.syslet.pool;

import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.NetTestSupport.Reaper;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.syslet.pool.NetTestSupport.PATIENCE_NANOS;
import static io.syslet.pool.NetTestSupport.isX86_64;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The RAW op: a syscall by number, run on a worker. Numbers are x86_64's.
 */
class RawOpTest
{
    private static final int SYS_GETPID = 39;
    private static final int SYS_GETPPID = 110;
    private static final int NO_SUCH_SYSCALL = 100_000;

    @Test
    void rawSyscallsRunInThisProcess()
    {
        Assumptions.assumeTrue(isX86_64(), "needs x86_64: the syscall numbers 39 and 110 are that ABI's");
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        try
        {
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            writer.raw(1, SYS_GETPID, 0, 0, 0, 0, 0, 0)
                .raw(2, SYS_GETPPID, 0, 0, 0, 0, 0, 0)
                .raw(3, NO_SUCH_SYSCALL, 0, 0, 0, 0, 0, 0);
            assertEquals(3, writer.submitTo(ctx));
            final Map<Long, Event> events = new Reaper(ctx).reap(3);
            assertEquals(ProcessHandle.current().pid(), events.get(1L).res(), "getpid on a worker: " + events.get(1L));
            final long parent = ProcessHandle.current().parent().orElseThrow().pid();
            assertEquals(parent, events.get(2L).res(), "getppid: " + events.get(2L));
            assertEquals(-Errno.ENOSYS, events.get(3L).res(), "unknown syscall number: " + events.get(3L));
        }
        finally
        {
            assertTrue(ctx.destroy(PATIENCE_NANOS));
        }
    }
}
