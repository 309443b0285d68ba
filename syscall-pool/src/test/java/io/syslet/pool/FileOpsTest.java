package io.syslet.pool;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.IovDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletTestSupport.Pipe;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static io.syslet.pool.SysletTestSupport.bytes;
import static io.syslet.pool.SysletTestSupport.closeViaEngine;
import static io.syslet.pool.SysletTestSupport.directBuffer;
import static io.syslet.pool.SysletTestSupport.openViaEngine;
import static io.syslet.pool.SysletTestSupport.putPath;
import static io.syslet.pool.SysletTestSupport.randomBytes;
import static io.syslet.pool.SysletTestSupport.reap;
import static io.syslet.pool.SysletTestSupport.reapOne;
import static io.syslet.pool.SysletTestSupport.submitAll;
import static io.syslet.pool.SysletTestSupport.writer;
import static io.syslet.pool.natives.Natives.AT_FDCWD;
import static io.syslet.pool.natives.Natives.O_CLOEXEC;
import static io.syslet.pool.natives.Natives.O_CREAT;
import static io.syslet.pool.natives.Natives.O_RDONLY;
import static io.syslet.pool.natives.Natives.O_RDWR;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The regular-file ops against real files: what the engine writes is what the JDK reads back from the
 * file system, and the other way round.
 */
class FileOpsTest
{
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1;
    private static final int SYNC_FILE_RANGE_WRITE = 2;
    private static final int SYNC_FILE_RANGE_WAIT_AFTER = 4;
    private static final int PATH_AT = 50_000;

    @TempDir
    Path dir;

    private final UnsafeBuffer mem = directBuffer(1 << 16);
    private final IocbWriter w = writer();

    @Test
    void pwriteThenPreadRoundTripThenFsyncAndFdatasync() throws IOException
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final Path file = dir.resolve("data");
            final int fd = openViaEngine(ctx, w, mem, buf, file, O_CREAT | O_RDWR | O_CLOEXEC);
            final byte[] data = randomBytes(3000, 1);
            mem.putBytes(0, data);

            w.pwrite(1, fd, BufferRef.of(buf, 0), data.length, 123);
            submitAll(w, ctx);
            final Event written = reapOne(ctx, 1);
            assertEquals(Opcode.PWRITE, written.opcode());
            assertEquals(data.length, written.res(), written.toString());
            final byte[] onDisk = Files.readAllBytes(file);
            assertEquals(123 + data.length, onDisk.length);
            assertArrayEquals(new byte[123], Arrays.copyOfRange(onDisk, 0, 123), "the hole before the write");
            assertArrayEquals(data, Arrays.copyOfRange(onDisk, 123, onDisk.length));

            // Ask for more than the file holds: the kernel's short read must come back as it is.
            mem.setMemory(8192, 4096, (byte)0x55);
            w.pread(2, fd, BufferRef.of(buf, 8192), 4096, 123);
            submitAll(w, ctx);
            final Event read = reapOne(ctx, 2);
            assertEquals(Opcode.PREAD, read.opcode());
            assertEquals(data.length, read.res(), read.toString());
            assertArrayEquals(data, bytes(mem, 8192, data.length));
            assertEquals((byte)0x55, mem.getByte(8192 + data.length), "pread wrote past what it read");

            try (Pipe pipe = new Pipe())
            {
                w.fsync(3, fd).fdatasync(4, fd).fsync(5, pipe.writeFd);
                submitAll(w, ctx);
                final Map<Long, Event> synced = reap(ctx, 3);
                assertEquals(0, synced.get(3L).res(), synced.get(3L).toString());
                assertEquals(0, synced.get(4L).res(), synced.get(4L).toString());
                assertEquals(-Errno.EINVAL, synced.get(5L).res(), "fsync of a pipe reaches the kernel, which refuses it");
            }
            closeViaEngine(ctx, w, fd);
        }
    }

    @Test
    void pwritevThenPreadvWithThreeIovElements() throws IOException
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final Path file = dir.resolve("vectored");
            final int fd = openViaEngine(ctx, w, mem, buf, file, O_CREAT | O_RDWR | O_CLOEXEC);
            final byte[] data = randomBytes(4101, 2);

            // Gather from three scattered pieces (100 + 1 + 4000 bytes) into one run at file offset 10.
            mem.putBytes(0, data, 0, 100);
            mem.putBytes(1000, data, 100, 1);
            mem.putBytes(2000, data, 101, 4000);
            putIov(40_000, BufferRef.of(buf, 0), 100, BufferRef.of(buf, 1000), 1, BufferRef.of(buf, 2000), 4000);
            w.pwritev(1, fd, BufferRef.of(buf, 40_000), 3, 10);
            submitAll(w, ctx);
            assertEquals(data.length, reapOne(ctx, 1).res());
            final byte[] onDisk = Files.readAllBytes(file);
            assertEquals(10 + data.length, onDisk.length);
            assertArrayEquals(data, Arrays.copyOfRange(onDisk, 10, onDisk.length));

            // Scatter it back with a different split (7 + 3000 + 1094) into fresh places.
            mem.setMemory(20_000, 10_000, (byte)0);
            putIov(41_000, BufferRef.of(buf, 20_000), 7, BufferRef.of(buf, 21_000), 3000, BufferRef.of(buf, 25_000), 1094);
            w.preadv(2, fd, BufferRef.of(buf, 41_000), 3, 10);
            submitAll(w, ctx);
            assertEquals(data.length, reapOne(ctx, 2).res());
            assertArrayEquals(Arrays.copyOfRange(data, 0, 7), bytes(mem, 20_000, 7));
            assertArrayEquals(Arrays.copyOfRange(data, 7, 3007), bytes(mem, 21_000, 3000));
            assertArrayEquals(Arrays.copyOfRange(data, 3007, 4101), bytes(mem, 25_000, 1094));
            closeViaEngine(ctx, w, fd);
        }
    }

    @Test
    void fallocateGrowsTheFileAndSyncFileRangeReachesTheKernel() throws IOException
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final Path file = dir.resolve("allocated");
            final int fd = openViaEngine(ctx, w, mem, buf, file, O_CREAT | O_RDWR | O_CLOEXEC);
            assertEquals(0, Files.size(file));

            w.fallocate(1, fd, 0, 0, 1 << 20);
            submitAll(w, ctx);
            assertEquals(0, reapOne(ctx, 1).res());
            assertEquals(1 << 20, Files.size(file));

            w.fallocate(2, fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20).fallocate(3, fd, 0, 0, -1);
            submitAll(w, ctx);
            final Map<Long, Event> allocated = reap(ctx, 2);
            assertEquals(0, allocated.get(2L).res(), allocated.get(2L).toString());
            assertEquals(-Errno.EINVAL, allocated.get(3L).res(), "a negative length goes to the kernel unchanged");
            assertEquals(1 << 20, Files.size(file), "KEEP_SIZE allocates without growing the size");

            final int flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
            w.syncFileRange(4, fd, 0, 1 << 20, flags).syncFileRange(5, fd, 0, 0, 0x80);
            submitAll(w, ctx);
            final Map<Long, Event> synced = reap(ctx, 2);
            assertEquals(0, synced.get(4L).res(), synced.get(4L).toString());
            assertEquals(-Errno.EINVAL, synced.get(5L).res(), "an undefined sync_file_range flag");
            closeViaEngine(ctx, w, fd);
        }
    }

    @Test
    void openatThenCloseAndASecondCloseGivesEbadf() throws IOException
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final Path file = dir.resolve("opened");
            final long path = putPath(mem, buf, PATH_AT, file);

            w.openat(1, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
            submitAll(w, ctx);
            assertEquals(-Errno.ENOENT, reapOne(ctx, 1).res(), "the file does not exist yet");

            final int fd = openViaEngine(ctx, w, mem, buf, file, O_CREAT | O_RDWR | O_CLOEXEC);
            assertTrue(Files.exists(file));
            assertEquals(file, Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)));

            // Closing an fd number twice is only safe if nobody can be handed that number in between:
            // the kernel gives out the lowest free number, so a high duplicate is ours alone.
            final int high = TestLibC.LIBC.fcntl(fd, TestLibC.F_DUPFD_CLOEXEC, 1000);
            assertTrue(high >= 1000, "fcntl(F_DUPFD_CLOEXEC) gave " + high);
            closeViaEngine(ctx, w, fd);
            closeViaEngine(ctx, w, high);
            w.close(2, high);
            submitAll(w, ctx);
            final Event second = reapOne(ctx, 2);
            assertEquals(Opcode.CLOSE, second.opcode());
            assertEquals(-Errno.EBADF, second.res(), second.toString());
        }
    }

    private void putIov(final int at, final long ref0, final long length0, final long ref1, final long length1,
        final long ref2, final long length2)
    {
        final long[] refs = {ref0, ref1, ref2};
        final long[] lengths = {length0, length1, length2};
        for (int i = 0; i < refs.length; i++)
        {
            mem.putLong(at + i * IovDescriptor.LENGTH + IovDescriptor.BUFFER_OFFSET, refs[i]);
            mem.putLong(at + i * IovDescriptor.LENGTH + IovDescriptor.LENGTH_OFFSET, lengths[i]);
        }
    }
}
