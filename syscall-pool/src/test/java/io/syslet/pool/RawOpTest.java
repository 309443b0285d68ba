package io.syslet.pool;

import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.NetTestSupport.Reaper;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static io.syslet.pool.NetTestSupport.PATIENCE_NANOS;
import static io.syslet.pool.NetTestSupport.TEST_LIBC;
import static io.syslet.pool.NetTestSupport.isX86_64;
import static io.syslet.pool.NetTestSupport.testErrno;
import static io.syslet.pool.natives.Natives.LIBC;
import static io.syslet.pool.natives.Natives.O_CLOEXEC;
import static io.syslet.pool.natives.Natives.O_RDONLY;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The RAW op: a syscall by number, run on a worker. Numbers are x86_64's.
 */
class RawOpTest
{
    private static final int SYS_LSEEK = 8;
    private static final int SYS_PREAD64 = 17;
    private static final int SYS_GETPID = 39;
    private static final int SYS_GETPPID = 110;
    private static final int SYS_STATX = 332;
    private static final int NO_SUCH_SYSCALL = 100_000;
    private static final int SEEK_SET = 0;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_SIZE = 0x200;
    private static final int STATX_SIZE_OFFSET = 40;

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

    /**
     * A declared argument count of 1 to 4 takes the engine's 4-argument call; 0 (not given), 5 and 6 the
     * 6-argument one. Both must pass the arguments the syscall reads as written and bring its errno back:
     * lseek proves the first three, pread64 four (the bytes at the offset in the fourth), statx five (it
     * writes the size into the buffer named by the fifth).
     */
    @Test
    void aDeclaredArgumentCountGivesWhatAllSixArgumentsGive(@TempDir final Path dir) throws IOException
    {
        Assumptions.assumeTrue(isX86_64(), "needs x86_64: the syscall numbers 8, 39, 110 and 332 are that ABI's");
        final Path file = dir.resolve("data");
        final byte[] content = SysletTestSupport.randomBytes(10_000, 17);
        Files.write(file, content);
        final int fd = TEST_LIBC.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        assertTrue(fd >= 0, "open failed: errno " + testErrno());
        // RAW is unchecked: plain native memory we own, not a registered buffer.
        final UnsafeBuffer mem = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        final long emptyPath = mem.addressOffset(); // a NUL byte: statx(fd, "", AT_EMPTY_PATH) stats the fd
        final long statxOut = mem.addressOffset() + 256;
        final int preadAt = 1024;
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        try
        {
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            writer.raw(1, SYS_GETPID, IocbDescriptor.RAW_ARGS_NOT_GIVEN, 0, 0, 0, 0, 0, 0)
                .raw(2, SYS_GETPID, 1, 0, 0, 0, 0, 0, 0)
                .raw(3, SYS_GETPID, 6, 0, 0, 0, 0, 0, 0)
                .raw(4, SYS_GETPPID, 1, 0, 0, 0, 0, 0, 0)
                .raw(5, SYS_LSEEK, 3, fd, 4242, SEEK_SET, 0, 0, 0)
                .raw(6, SYS_LSEEK, IocbDescriptor.RAW_ARGS_NOT_GIVEN, fd, 777, SEEK_SET, 0, 0, 0)
                .raw(7, SYS_STATX, 5, fd, emptyPath, AT_EMPTY_PATH, STATX_SIZE, statxOut, 0)
                .raw(8, NO_SUCH_SYSCALL, 1, 0, 0, 0, 0, 0, 0)
                .raw(9, SYS_PREAD64, 4, fd, mem.addressOffset() + preadAt, 100, 5000, 0, 0);
            assertEquals(9, writer.submitTo(ctx));
            final Map<Long, Event> events = new Reaper(ctx).reap(9);
            final long pid = ProcessHandle.current().pid();
            assertEquals(pid, events.get(1L).res(), "getpid, count not given: " + events.get(1L));
            assertEquals(pid, events.get(2L).res(), "getpid, at most 1 argument: " + events.get(2L));
            assertEquals(pid, events.get(3L).res(), "getpid, 6 arguments: " + events.get(3L));
            assertEquals(ProcessHandle.current().parent().orElseThrow().pid(), events.get(4L).res(),
                "getppid, at most 1 argument: " + events.get(4L));
            assertEquals(4242, events.get(5L).res(), "lseek(fd, 4242, SEEK_SET), 3 arguments: " + events.get(5L));
            assertEquals(777, events.get(6L).res(), "lseek(fd, 777, SEEK_SET), count not given: " + events.get(6L));
            assertEquals(0, events.get(7L).res(), "statx(fd, \"\", AT_EMPTY_PATH, STATX_SIZE, out): " + events.get(7L));
            assertEquals(10_000, mem.getLong(256 + STATX_SIZE_OFFSET), "stx_size statx wrote through the 5th argument");
            assertEquals(-Errno.ENOSYS, events.get(8L).res(), "unknown syscall, 1 argument: " + events.get(8L));
            assertEquals(100, events.get(9L).res(), "pread64(fd, buf, 100, 5000), 4 arguments: " + events.get(9L));
            assertArrayEquals(Arrays.copyOfRange(content, 5000, 5100), SysletTestSupport.bytes(mem, preadAt, 100));
        }
        finally
        {
            assertTrue(ctx.destroy(PATIENCE_NANOS));
            LIBC.close(fd);
            Reference.reachabilityFence(mem); // the kernel wrote into it through an address
        }
    }

    @Test
    void theWriterRefusesAnArgumentCountOutsideZeroToSixAndANumberAbove24Bits()
    {
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
        final IllegalArgumentException seven =
            assertThrows(IllegalArgumentException.class, () -> writer.raw(1, SYS_GETPID, 7, 0, 0, 0, 0, 0, 0));
        assertTrue(seven.getMessage().contains("at most 6 arguments, not 7"), seven.getMessage());
        assertThrows(IllegalArgumentException.class, () -> writer.raw(1, SYS_GETPID, -1, 0, 0, 0, 0, 0, 0));
        final IllegalArgumentException wide =
            assertThrows(IllegalArgumentException.class, () -> writer.raw(1, 1 << 24, 0, 0, 0, 0, 0, 0));
        assertTrue(wide.getMessage().contains("syscall number 16777216"), wide.getMessage());
        assertEquals(0, writer.count(), "a refused op leaves nothing in the writer");
        assertEquals(5 << IocbDescriptor.RAW_MAX_ARGS_SHIFT | SYS_LSEEK, IocbDescriptor.rawAux(SYS_LSEEK, 5));
        assertEquals(SYS_LSEEK, IocbDescriptor.rawNumber(IocbDescriptor.rawAux(SYS_LSEEK, 5)));
        assertEquals(5, IocbDescriptor.rawMaxArgs(IocbDescriptor.rawAux(SYS_LSEEK, 5)));
    }
}
