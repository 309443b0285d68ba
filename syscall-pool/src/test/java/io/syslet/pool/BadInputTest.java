package io.syslet.pool;

import io.syslet.abi.AddrInfoDescriptor;
import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.Iocb;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.IovDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.stream.Stream;

import static io.syslet.abi.IocbDescriptor.MIN_LENGTH;
import static io.syslet.pool.SysletTestSupport.assertAioException;
import static io.syslet.pool.SysletTestSupport.assertNoEventReady;
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
import static io.syslet.pool.natives.Natives.O_RDWR;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of bad input an iocb or a call can carry: each is refused the documented way, for that op
 * or that call alone, and none of them lets native code write where it should not.
 */
class BadInputTest
{
    private static final int SMALL_CAPACITY = 4096;
    private static final int CANARY_LENGTH = 4096;
    private static final byte CANARY = (byte)0xA5;
    private static final int FILE_LENGTH = 8192;

    @TempDir
    Path dir;

    private final UnsafeBuffer mem = directBuffer(1 << 16);
    private final IocbWriter w = writer();
    /**
     * {@link #guarded} is its first {@link #SMALL_CAPACITY} bytes; the canary bytes after them are in no
     * registered buffer, so a native call that ignored the registered bounds would land there.
     */
    private final UnsafeBuffer guardedBlock = directBuffer(SMALL_CAPACITY + CANARY_LENGTH);
    private final UnsafeBuffer guarded = new UnsafeBuffer(guardedBlock, 0, SMALL_CAPACITY);

    @BeforeEach
    void layCanary()
    {
        guardedBlock.setMemory(0, guardedBlock.capacity(), CANARY);
    }

    @Test
    void anUnknownOpcodeCompletesWithEnosysAndTheRestOfItsBatchRuns() throws IOException
    {
        final byte[] content = dataFile();
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final int fd = openViaEngine(ctx, w, mem, buf, dir.resolve("data"), O_RDWR | O_CLOEXEC);
            w.nop(1).append(Opcode.COUNT, 2, 0, 0, 0, 0, 0, 0, 0).pread(3, fd, BufferRef.of(buf, 0), 10, 5)
                .append(0xFFFF, 4, 0, 0, 0, 0, 0, 0, 0).nop(5);
            submitAll(w, ctx);
            final Map<Long, Event> events = reap(ctx, 5);
            assertEquals(-Errno.ENOSYS, events.get(2L).res(), events.get(2L).toString());
            assertEquals(Opcode.COUNT, events.get(2L).opcode(), "the event names the opcode it was given");
            assertEquals(-Errno.ENOSYS, events.get(4L).res(), events.get(4L).toString());
            assertEquals(0xFFFF, events.get(4L).opcode());
            assertEquals(0, events.get(1L).res());
            assertEquals(0, events.get(5L).res());
            assertEquals(10, events.get(3L).res(), events.get(3L).toString());
            assertArrayEquals(Arrays.copyOfRange(content, 5, 15), bytes(mem, 0, 10));
            closeViaEngine(ctx, w, fd);
        }
    }

    @Test
    void aBadFdCompletesWithEbadf()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            // -1 is refused before any call; Integer.MAX_VALUE is above any fd limit, so the kernel refuses it.
            w.pread(1, -1, BufferRef.of(buf, 0), 10, 0).pread(2, Integer.MAX_VALUE, BufferRef.of(buf, 0), 10, 0)
                .pwrite(3, Integer.MAX_VALUE, BufferRef.of(buf, 0), 10, 0).fsync(4, -1).close(5, Integer.MAX_VALUE)
                .read(6, Integer.MAX_VALUE, BufferRef.of(buf, 0), 10).fallocate(7, -3, 0, 0, 4096);
            submitAll(w, ctx);
            final Map<Long, Event> events = reap(ctx, 7);
            for (long cookie = 1; cookie <= 7; cookie++)
            {
                assertEquals(-Errno.EBADF, events.get(cookie).res(), events.get(cookie).toString());
            }
        }
    }

    /**
     * Binary iocbs carry 64-bit arguments; where the syscall takes a C int, a value that does not fit in 32
     * bits must be refused, not cut down to another, valid one (1 << 32 | O_RDONLY would open the file).
     */
    @Test
    void anIntArgumentThatDoesNotFitIn32BitsIsRefused() throws IOException
    {
        final Path file = dir.resolve("ints");
        Files.write(file, randomBytes(16, 3));
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final long path = putPath(mem, buf, 1024, file);
            w.append(Opcode.OPENAT, 1, 0, AT_FDCWD, path, 1L << 32 | O_CLOEXEC, 0, 0, 0)
                .append(Opcode.OPENAT, 2, 0, 1L << 32 | AT_FDCWD & 0xFFFF_FFFFL, path, O_CLOEXEC, 0, 0, 0)
                .append(Opcode.POLL, 3, 0, BufferRef.NO_BUFFER, 0, 1L << 40, 0, 0, 0)
                .append(Opcode.FLOCK, 4, 0, 0, Long.MIN_VALUE, 0, 0, 0, 0)
                .append(Opcode.POLL, 5, 0, BufferRef.NO_BUFFER, 0, 0, 0, 0, 0)
                .append(Opcode.OPENAT, 6, 0, AT_FDCWD, path, O_CLOEXEC, 0, 0, 0);
            submitAll(w, ctx);
            final Map<Long, Event> events = reap(ctx, 6);
            assertEquals(-Errno.EINVAL, events.get(1L).res(), "flags above 32 bits: " + events.get(1L));
            assertEquals(-Errno.EBADF, events.get(2L).res(), "a dirfd above 32 bits: " + events.get(2L));
            assertEquals(-Errno.EINVAL, events.get(3L).res(), "a poll timeout above 32 bits: " + events.get(3L));
            assertEquals(-Errno.EINVAL, events.get(4L).res(), "a flock operation below -2^31: " + events.get(4L));
            assertEquals(0, events.get(5L).res(), "a poll of no fds with timeout 0: " + events.get(5L));
            final Event opened = events.get(6L);
            assertTrue(opened.res() >= 0, "the same open with its flags in range: " + opened);
            closeViaEngine(ctx, w, (int)opened.res());
        }
    }

    @Test
    void aBufferRangeOutsideItsRegisteredBufferCompletesWithEfault() throws IOException
    {
        final byte[] content = dataFile();
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final int small = ctx.registerBuffer(guarded);
            final int fd = openViaEngine(ctx, w, mem, buf, dir.resolve("data"), O_RDWR | O_CLOEXEC);
            final Map<Long, String> cases = new LinkedHashMap<>();
            int cookie = 0;
            for (final long[] bad : badRanges(small))
            {
                cases.put((long)++cookie, "pread " + BufferRef.index(bad[0]) + ":" + BufferRef.offset(bad[0]) + "+" + bad[1]);
                w.pread(cookie, fd, bad[0], bad[1], 0);
                cases.put((long)++cookie, "pwrite " + BufferRef.index(bad[0]) + ":" + BufferRef.offset(bad[0]) + "+" + bad[1]);
                w.pwrite(cookie, fd, bad[0], bad[1], 0);
            }
            // An iov array whose second element runs past the end of the buffer.
            mem.putLong(1000, BufferRef.of(small, 0));
            mem.putLong(1008, 100);
            mem.putLong(1016, BufferRef.of(small, 4000));
            mem.putLong(1024, 200);
            cases.put((long)++cookie, "preadv with a bad second element");
            w.preadv(cookie, fd, BufferRef.of(buf, 1000), 2, 0);
            cases.put((long)++cookie, "iov array itself past the end");
            w.preadv(cookie, fd, BufferRef.of(small, SMALL_CAPACITY - IovDescriptor.LENGTH), 2, 0);
            // A path with no NUL before the end of its buffer, and a statx result that does not fit.
            guarded.setMemory(SMALL_CAPACITY - 16, 16, (byte)'x');
            cases.put((long)++cookie, "openat path without NUL");
            w.openat(cookie, AT_FDCWD, BufferRef.of(small, SMALL_CAPACITY - 16), O_RDWR, 0);
            putPath(mem, buf, 2000, dir);
            cases.put((long)++cookie, "statx out past the end");
            w.statx(cookie, AT_FDCWD, BufferRef.of(buf, 2000), 0, 0x7ff, BufferRef.of(small, SMALL_CAPACITY - 100));
            submitAll(w, ctx);

            final Map<Long, Event> events = reap(ctx, cases.size());
            for (final Map.Entry<Long, String> c : cases.entrySet())
            {
                assertEquals(-Errno.EFAULT, events.get(c.getKey()).res(), c.getValue() + ": " + events.get(c.getKey()));
            }
            assertCanaryIntact();
            assertArrayEquals(content, Files.readAllBytes(dir.resolve("data")), "a refused pwrite wrote");
            closeViaEngine(ctx, w, fd);
        }
    }

    @Test
    void tenThousandBadSubmissionsLeaveTheJvmAndEveryBufferIntact() throws IOException
    {
        final byte[] content = dataFile();
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final int small = ctx.registerBuffer(guarded);
            final int fd = openViaEngine(ctx, w, mem, buf, dir.resolve("data"), O_RDWR | O_CLOEXEC);
            final long[][] bad = badRanges(small);
            final int batch = 100;
            for (int submitted = 0; submitted < 10_000; submitted += batch)
            {
                for (int i = 0; i < batch; i++)
                {
                    final int n = submitted + i;
                    final long[] range = bad[n % bad.length];
                    if ((n / bad.length & 1) == 0) // every bad range as both a read and a write
                    {
                        w.pread(i, fd, range[0], range[1], 0);
                    }
                    else
                    {
                        w.pwrite(i, fd, range[0], range[1], 0);
                    }
                }
                submitAll(w, ctx);
                for (final Event event : reap(ctx, batch).values())
                {
                    assertEquals(-Errno.EFAULT, event.res(), "submission " + submitted + ": " + event);
                }
            }
            System.gc(); // a stray native write over the heap tends to show up when the collector walks it

            assertCanaryIntact();
            assertArrayEquals(content, Files.readAllBytes(dir.resolve("data")));
            w.pread(1, fd, BufferRef.of(small, 96), 1000, 4000);
            submitAll(w, ctx);
            assertEquals(1000, reapOne(ctx, 1).res());
            assertArrayEquals(Arrays.copyOfRange(content, 4000, 5000), bytes(guarded, 96, 1000));
            closeViaEngine(ctx, w, fd);
        }
    }

    @Test
    void aBufferOnTheJavaHeapIsRefused()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            assertAioException(Errno.EINVAL, "Java heap", () -> ctx.registerBuffer(new UnsafeBuffer(new byte[4096])));
            assertAioException(Errno.EINVAL, "Java heap",
                () -> ctx.registerBuffer(new UnsafeBuffer(ByteBuffer.allocate(4096))));
            assertEquals(0, ctx.registerBuffer(mem), "the refused buffers took no index");
        }
    }

    /**
     * Memory Java holds read-only (a file mapped READ_ONLY) may be registered: it is a fine source for pwrite
     * and paths. An op that would write into it fails with EFAULT before the call: getaddrinfo's records are
     * written by Java code, and a write to a read-only mapping there is a SIGSEGV that kills the JVM (this test
     * crashed the surefire fork, {@code Unsafe_PutInt}); a pread would leave the kernel's EFAULT only after the
     * call, too late for ops whose effect is already done then (waitid's reap, accept's connection).
     */
    /**
     * The other read-only memory RegisteredBuffers names: an {@code asReadOnlyBuffer()} view of writable memory.
     * The MMU does not stop the kernel there, so only the engine's check keeps every op that writes (a preadv's
     * iov elements, poll's revents, statx's buffer) out of it: the mapped file of
     * {@link #anOpThatWouldWriteIntoReadOnlyMemoryFailsWithEfaultBeforeTheCall} gets the kernel's own EFAULT
     * after the call, which hides a missing check.
     */
    @Test
    void anAsReadOnlyBufferViewIsNeverWrittenByAnOp() throws IOException
    {
        final byte[] content = dataFile();
        final int pollIn = 1;
        final UnsafeBuffer backing = directBuffer(SMALL_CAPACITY);
        final byte[] roContent = randomBytes(SMALL_CAPACITY, 13);
        backing.putBytes(0, roContent);
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final int ro = ctx.registerBuffer(new UnsafeBuffer(backing.byteBuffer().asReadOnlyBuffer()));
            final int fd = openViaEngine(ctx, w, mem, buf, dir.resolve("data"), O_RDWR | O_CLOEXEC);
            // preadv: the iov array in writable memory, its one element in the read-only view.
            final int iovAt = 4096;
            mem.putLong(iovAt + IovDescriptor.BUFFER_OFFSET, BufferRef.of(ro, 0));
            mem.putLong(iovAt + IovDescriptor.LENGTH_OFFSET, 100);
            // poll: a regular file is always readable, so the kernel would write POLLIN into revents at once.
            final int pollAt = 512;
            backing.putInt(pollAt, fd);
            backing.putShort(pollAt + 4, (short)pollIn);
            backing.putShort(pollAt + 6, (short)0);
            final byte[] before = bytes(backing, 0, SMALL_CAPACITY);
            w.preadv(1, fd, BufferRef.of(buf, iovAt), 1, 0)
                .poll(2, BufferRef.of(ro, pollAt), 1, 0)
                .pread(3, fd, BufferRef.of(ro, 0), 100, 0)
                .pwrite(4, fd, BufferRef.of(ro, 0), 100, 0)
                .statx(5, AT_FDCWD, putPath(mem, buf, 200, dir), 0, 0x7ff, BufferRef.of(ro, 1024));
            submitAll(w, ctx);
            final Map<Long, Event> events = reap(ctx, 5);
            for (final long cookie : new long[]{1, 2, 3, 5})
            {
                assertEquals(-Errno.EFAULT, events.get(cookie).res(), events.get(cookie).toString());
            }
            assertEquals(100, events.get(4L).res(), "a read-only view is still a source: " + events.get(4L));
            assertArrayEquals(before, bytes(backing, 0, SMALL_CAPACITY), "an op wrote into the read-only view");
            final byte[] expected = content.clone();
            System.arraycopy(roContent, 0, expected, 0, 100);
            assertArrayEquals(expected, Files.readAllBytes(dir.resolve("data")));
            closeViaEngine(ctx, w, fd);
        }
    }

    @Test
    void anOpThatWouldWriteIntoReadOnlyMemoryFailsWithEfaultBeforeTheCall() throws IOException
    {
        final byte[] content = dataFile();
        final Path roFile = dir.resolve("read-only");
        final byte[] roContent = randomBytes(SMALL_CAPACITY, 11);
        Files.write(roFile, roContent);
        try (SysletContext ctx = SysletContext.setup(new SetupParams());
            FileChannel channel = FileChannel.open(roFile, StandardOpenOption.READ))
        {
            final UnsafeBuffer readOnly = new UnsafeBuffer(channel.map(FileChannel.MapMode.READ_ONLY, 0, SMALL_CAPACITY));
            final int buf = ctx.registerBuffer(mem);
            final int ro = ctx.registerBuffer(readOnly);
            final int fd = openViaEngine(ctx, w, mem, buf, dir.resolve("data"), O_RDWR | O_CLOEXEC);
            final long node = putPath(mem, buf, 100, Path.of("localhost"));
            final long out = BufferRef.of(ro, 0);
            w.getaddrinfo(1, node, BufferRef.NO_BUFFER, out, SMALL_CAPACITY, 0, 0)
                .pread(2, fd, out, 100, 0)
                .read(3, fd, out, 100)
                .statx(4, AT_FDCWD, putPath(mem, buf, 200, dir), 0, 0x7ff, out)
                .pwrite(5, fd, out, 100, 0);
            submitAll(w, ctx);
            final Map<Long, Event> events = reap(ctx, 5);
            for (long cookie = 1; cookie <= 4; cookie++)
            {
                assertEquals(-Errno.EFAULT, events.get(cookie).res(), events.get(cookie).toString());
            }
            assertEquals(100, events.get(5L).res(), "read-only memory is still a source: " + events.get(5L));
            assertArrayEquals(roContent, bytes(readOnly, 0, SMALL_CAPACITY));
            final byte[] expected = content.clone();
            System.arraycopy(roContent, 0, expected, 0, 100);
            assertArrayEquals(expected, Files.readAllBytes(dir.resolve("data")));
            closeViaEngine(ctx, w, fd);
        }
    }

    /**
     * A registered file mapping whose file is truncated under it: its pages past the new end raise SIGBUS on
     * any touch. The kernel's touches fail with EFAULT; the engine's own Java reads and writes of it (a
     * path's NUL search, preadv's element array, getaddrinfo's records) must fail their op the same way, and
     * the JVM, the context, every other op and every worker go on. (Before they went through the kernel, the
     * InternalError HotSpot raises for such a SIGBUS surfaced after the op and ended its worker.) The page
     * before the new end still serves every one of those ops.
     */
    @Test
    void registeredMemoryOfAFileTruncatedUnderItsMappingFailsEachOpThatTouchesItWithEfault() throws IOException
    {
        final byte[] content = dataFile();
        final Path mapped = dir.resolve("mapped");
        Files.write(mapped, randomBytes(2 * SMALL_CAPACITY, 13));
        final List<Throwable> workerDeaths = new CopyOnWriteArrayList<>();
        final ThreadFactory recording = runnable ->
        {
            final Thread thread = new Thread(runnable);
            thread.setUncaughtExceptionHandler((t, e) -> workerDeaths.add(e));
            return thread;
        };
        try (SysletContext ctx = SysletContext.setup(new SetupParams().workerThreadFactory(recording));
            FileChannel channel = FileChannel.open(mapped, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final UnsafeBuffer mapping =
                new UnsafeBuffer(channel.map(FileChannel.MapMode.READ_WRITE, 0, 2 * SMALL_CAPACITY));
            final int buf = ctx.registerBuffer(mem);
            final int file = ctx.registerBuffer(mapping);
            final int fd = openViaEngine(ctx, w, mem, buf, dir.resolve("data"), O_RDWR | O_CLOEXEC);
            final Path data = dir.resolve("data");
            final long node = putPath(mem, buf, 100, Path.of("localhost"));
            // What the page that stays holds: a path, a one-element iov array, room for records and for statx.
            final long keptPath = putPath(mapping, file, 0, data);
            mapping.putLong(1024 + IovDescriptor.BUFFER_OFFSET, BufferRef.of(buf, 8192));
            mapping.putLong(1024 + IovDescriptor.LENGTH_OFFSET, 100);
            mapping.setMemory(3000, SMALL_CAPACITY - 3000, (byte)'x'); // a string that reaches the new end
            // The same in the page that goes.
            final long lostPath = putPath(mapping, file, SMALL_CAPACITY, data);
            mapping.putLong(SMALL_CAPACITY + 1024 + IovDescriptor.BUFFER_OFFSET, BufferRef.of(buf, 8192));
            mapping.putLong(SMALL_CAPACITY + 1024 + IovDescriptor.LENGTH_OFFSET, 100);
            channel.truncate(SMALL_CAPACITY);
            final long lost = BufferRef.of(file, SMALL_CAPACITY);
            w.openat(1, AT_FDCWD, lostPath, O_CLOEXEC, 0)
                .statx(2, AT_FDCWD, lostPath, 0, 0x7ff, BufferRef.of(buf, 4096))
                .pread(3, fd, lost, 100, 0)
                .preadv(4, fd, BufferRef.of(file, SMALL_CAPACITY + 1024), 1, 0)
                .getaddrinfo(5, node, BufferRef.NO_BUFFER, lost, SMALL_CAPACITY, 0, 0)
                .statx(6, AT_FDCWD, BufferRef.of(file, 3000), 0, 0x7ff, BufferRef.of(buf, 4096))
                .openat(11, AT_FDCWD, keptPath, O_CLOEXEC, 0)
                .statx(12, AT_FDCWD, keptPath, 0, 0x7ff, BufferRef.of(file, 2048))
                .preadv(13, fd, BufferRef.of(file, 1024), 1, 0)
                .pread(14, fd, BufferRef.of(file, 2800), 100, 1000)
                .getaddrinfo(15, node, BufferRef.NO_BUFFER, BufferRef.of(file, 2400), 2 * AddrInfoDescriptor.LENGTH,
                    0, 0);
            submitAll(w, ctx);
            final Map<Long, Event> events = reap(ctx, 11);
            for (long cookie = 1; cookie <= 6; cookie++)
            {
                assertEquals(-Errno.EFAULT, events.get(cookie).res(), events.get(cookie).toString());
            }
            final Event opened = events.get(11L);
            assertTrue(opened.res() >= 0, "a path in the page that stays opens: " + opened);
            closeViaEngine(ctx, w, (int)opened.res());
            assertEquals(0, events.get(12L).res(), events.get(12L).toString());
            assertEquals(content.length, mapping.getLong(2048 + 40), "statx wrote stx_size into the mapping");
            assertEquals(100, events.get(13L).res(), events.get(13L).toString());
            assertArrayEquals(Arrays.copyOf(content, 100), bytes(mem, 8192, 100), "preadv's element, read via the kernel");
            assertEquals(100, events.get(14L).res(), events.get(14L).toString());
            assertArrayEquals(Arrays.copyOfRange(content, 1000, 1100), bytes(mapping, 2800, 100));
            final Event resolved = events.get(15L);
            assertTrue(resolved.res() >= 1, "localhost resolves into the mapping: " + resolved);
            final int family = mapping.getInt(2400 + AddrInfoDescriptor.FAMILY_OFFSET);
            assertTrue(family == 2 || family == 10, "AF_INET or AF_INET6 copied out: " + family);
            assertEquals(family == 2 ? 16 : 28, mapping.getInt(2400 + AddrInfoDescriptor.ADDRESS_LENGTH_OFFSET));
            closeViaEngine(ctx, w, fd);
        }
        assertEquals(List.of(), workerDeaths, "no worker ended with a throw");
    }

    /**
     * Agrona flyweights are made to be re-wrapped. The engine keeps the range a buffer had when it was
     * registered: re-wrapping the caller's flyweight afterwards, even onto the heap, changes nothing for
     * the ops that name it, and no op fails or throws inside a worker because of it.
     */
    @Test
    void aRegisteredBufferKeepsItsRangeWhenTheCallersFlyweightIsRewrapped() throws IOException
    {
        final Path file = dir.resolve("rewrap");
        Files.write(file, randomBytes(64, 7));
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxBuffers((1 << 24) - 1)))
        {
            final UnsafeBuffer flyweight = directBuffer(8192);
            final int index = ctx.registerBuffer(flyweight);
            final UnsafeBuffer memory = new UnsafeBuffer(flyweight.addressOffset(), flyweight.capacity());
            final long path = putPath(memory, index, 100, file);
            flyweight.wrap(new byte[16]);
            w.openat(1, AT_FDCWD, path, O_CLOEXEC, 0);
            submitAll(w, ctx);
            final Event opened = reapOne(ctx, 1);
            assertTrue(opened.res() >= 0, "openat through the registered range: " + opened);
            final int fd = (int)opened.res();
            w.pread(2, fd, BufferRef.of(index, 4096), 64, 0);
            submitAll(w, ctx);
            assertEquals(64, reapOne(ctx, 2).res());
            assertArrayEquals(randomBytes(64, 7), bytes(memory, 4096, 64));
            closeViaEngine(ctx, w, fd);
        }
    }

    static Stream<Arguments> malformations()
    {
        return Stream.of(
            malformed("length not a multiple of 8", MIN_LENGTH + 8, "has length 76, not a multiple of 8",
                (b, at) -> b.putInt(at + IocbDescriptor.LENGTH_OFFSET, MIN_LENGTH + 4)),
            malformed("length below the header", MIN_LENGTH, "has length 64, not a multiple of 8 that is >= 72",
                (b, at) -> b.putInt(at + IocbDescriptor.LENGTH_OFFSET, 64)),
            malformed("reserved field set", MIN_LENGTH, "has a non-zero reserved field",
                (b, at) -> b.putShort(at + IocbDescriptor.RESERVED_OFFSET, (short)1)),
            malformed("undefined flag", MIN_LENGTH, "sets undefined flag bits 0x8000",
                (b, at) -> b.putShort(at + IocbDescriptor.FLAGS_OFFSET, (short)0x8000)),
            malformed("aux on a non-RAW op", MIN_LENGTH, "sets aux, which only RAW uses, for nop",
                (b, at) -> b.putInt(at + IocbDescriptor.AUX_OFFSET, 7)),
            malformed("RAW declaring 7 arguments", MIN_LENGTH, "declares 7 arguments for RAW syscall 39",
                (b, at) ->
                {
                    b.putShort(at + IocbDescriptor.OPCODE_OFFSET, (short)Opcode.RAW);
                    b.putInt(at + IocbDescriptor.AUX_OFFSET, 7 << IocbDescriptor.RAW_MAX_ARGS_SHIFT | 39);
                }),
            malformed("truncated header", 40, "has 40 bytes, fewer than the 72", (b, at) -> { }),
            malformed("truncated body", MIN_LENGTH, "has length 80 but only 72 bytes remain",
                (b, at) -> b.putInt(at + IocbDescriptor.LENGTH_OFFSET, MIN_LENGTH + 8)),
            malformed("too many attributes", MIN_LENGTH, "lists 65 attributes",
                (b, at) -> b.putShort(at + IocbDescriptor.ATTRIBUTE_COUNT_OFFSET, (short)65)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformations")
    void aMalformedFirstIocbRefusesTheWholeSubmission(final Corruption corruption, final int length,
        final String fault)
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final UnsafeBuffer iocbs = directBuffer(4096);
            new Iocb().wrap(iocbs, 0).write(Opcode.NOP, 0, 1, 0, 0, 0, 0, 0, 0, 0);
            corruption.apply(iocbs, 0);
            assertAioException(Errno.EINVAL, "iocb at byte 0 " + fault, () -> ctx.submit(iocbs, 0, length));
            SysletTestSupport.awaitInFlight(ctx, 0, "after reaping");
            assertNoEventReady(ctx);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformations")
    void aMalformedIocbAfterAValidOneEndsTheAcceptedPrefix(final Corruption corruption, final int length,
        final String fault)
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final UnsafeBuffer iocbs = directBuffer(4096);
            new Iocb().wrap(iocbs, 0).write(Opcode.NOP, 0, 1, 0, 0, 0, 0, 0, 0, 0);
            new Iocb().wrap(iocbs, MIN_LENGTH).write(Opcode.NOP, 0, 2, 0, 0, 0, 0, 0, 0, 0);
            corruption.apply(iocbs, MIN_LENGTH);
            assertEquals(1, ctx.submit(iocbs, 0, MIN_LENGTH + length));
            assertEquals(0, reapOne(ctx, 1).res());
            SysletTestSupport.awaitInFlight(ctx, 0, "only the valid iocb was taken");
            assertNoEventReady(ctx);
        }
    }

    @Test
    void aCallableOpcodeInBinaryFormCompletesWithEinval()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            w.append(Opcode.CALLABLE, 1, 0, 0, 0, 0, 0, 0, 0);
            submitAll(w, ctx);
            final Event event = reapOne(ctx, 1);
            assertEquals(Opcode.CALLABLE, event.opcode());
            assertEquals(-Errno.EINVAL, event.res(), event.toString());
        }
    }

    @Test
    void runCompletesOnTheCallingThreadWithFlagImmediate() throws IOException
    {
        final byte[] content = dataFile();
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final int buf = ctx.registerBuffer(mem);
            final int fd = openViaEngine(ctx, w, mem, buf, dir.resolve("data"), O_RDWR | O_CLOEXEC);
            final UnsafeBuffer iocb = directBuffer(MIN_LENGTH);
            new Iocb().wrap(iocb, 0).write(Opcode.PREAD, 0, 77, 0, fd, BufferRef.of(buf, 100), 5, 2, 0, 0);
            final UnsafeBuffer dst = directBuffer(64);
            assertEquals(EventDescriptor.MIN_LENGTH, ctx.run(iocb, 0, dst, 8));
            final Event event = new Event().wrap(dst, 8);
            assertEquals(77, event.cookie());
            assertEquals(Opcode.PREAD, event.opcode());
            assertEquals(5, event.res(), event.toString());
            assertEquals(EventDescriptor.FLAG_IMMEDIATE, event.flags() & EventDescriptor.FLAG_IMMEDIATE);
            assertArrayEquals(Arrays.copyOfRange(content, 2, 7), bytes(mem, 100, 5));
            assertNoEventReady(ctx);
            SysletTestSupport.awaitInFlight(ctx, 0, "after reaping");

            assertAioException(Errno.EINVAL, "cannot take a 40-byte event", () -> ctx.run(iocb, 0, dst, 30));
            iocb.putShort(IocbDescriptor.RESERVED_OFFSET, (short)1);
            assertAioException(Errno.EINVAL, "non-zero reserved field", () -> ctx.run(iocb, 0, dst, 0));
            closeViaEngine(ctx, w, fd);
        }
    }

    @Test
    void everyCallAfterCloseThrowsEbadf()
    {
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        ctx.registerBuffer(mem);
        w.nop(1);
        final UnsafeBuffer dst = directBuffer(4096);
        final int token = ctx.stateToken();
        ctx.close();

        final Map<String, Executable> calls = new LinkedHashMap<>();
        calls.put("registerBuffer", () -> ctx.registerBuffer(directBuffer(64)));
        calls.put("submit", () -> ctx.submit(w.buffer(), 0, w.length()));
        calls.put("submitCallable", () -> ctx.submitCallable(2, () -> 0L));
        calls.put("getEvents", () -> ctx.getEvents(dst, 0, dst.capacity(), 0, 0));
        calls.put("getEvents with state", () -> ctx.getEvents(dst, 0, dst.capacity(), 0, 0, token));
        calls.put("stateToken", ctx::stateToken);
        calls.put("cancel", () -> ctx.cancel(1));
        calls.put("run", () -> ctx.run(w.buffer(), 0, dst, 0));
        calls.put("probe", ctx::probe);
        calls.put("eventFd", ctx::eventFd);
        calls.put("notifications", () -> ctx.notifications(false));
        calls.put("ring", ctx::ring);
        calls.put("inFlight", ctx::inFlight);
        for (final Map.Entry<String, Executable> call : calls.entrySet())
        {
            final Throwable thrown = assertThrows(Throwable.class, call.getValue(),
                call.getKey() + " after close");
            assertTrue(thrown instanceof AioException, call.getKey() + " threw " + thrown);
            assertEquals(Errno.EBADF, ((AioException)thrown).errno(), call.getKey());
            assertTrue(thrown.getMessage().contains("context is destroyed"), call.getKey() + ": " + thrown.getMessage());
        }
        ctx.close();
        assertTrue(ctx.destroy(0), "destroy stays idempotent and still reports a clean destroy");
    }

    /** Changes an iocb in place to make it malformed. */
    @FunctionalInterface
    interface Corruption
    {
        void apply(MutableDirectBuffer buffer, int iocbOffset);
    }

    private static Arguments malformed(final String name, final int length, final String fault, final Corruption corruption)
    {
        return Arguments.of(Named.of(name, corruption), length, fault);
    }

    /**
     * @return a file "data" of {@link #FILE_LENGTH} random bytes, and those bytes.
     */
    private byte[] dataFile() throws IOException
    {
        final byte[] content = randomBytes(FILE_LENGTH, 3);
        Files.write(dir.resolve("data"), content);
        return content;
    }

    private void assertCanaryIntact()
    {
        for (int i = SMALL_CAPACITY; i < guardedBlock.capacity(); i++)
        {
            assertEquals(CANARY, guardedBlock.getByte(i), "canary byte " + i + " past the registered buffer was written");
        }
    }

    /**
     * @return {BufferRef, count} pairs that each leave the registered range of {@code small}.
     */
    private static long[][] badRanges(final int small)
    {
        return new long[][]{
            {BufferRef.of(small, 0), SMALL_CAPACITY + 1},
            {BufferRef.of(small, 4000), 100},
            {BufferRef.of(small, SMALL_CAPACITY), 1},
            {BufferRef.of(small, SMALL_CAPACITY + 1000), 1},
            {BufferRef.of(small, BufferRef.MAX_OFFSET), 1},
            {BufferRef.of(small, 1), Long.MAX_VALUE},
            {BufferRef.of(small + 1, 0), 1},
            {BufferRef.of(BufferRef.MAX_INDEX, 0), 1},
        };
    }
}
