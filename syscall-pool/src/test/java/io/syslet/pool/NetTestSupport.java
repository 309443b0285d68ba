package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.pool.natives.Natives;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Shared helpers for the engine's real-kernel tests of sockets, waits, limits and destroy: the libc
 * functions only tests need, registered native memory, reaping with an exactly-once check, and a way to
 * know that a worker really sits inside a blocking syscall (so that "it blocks" and "cancel interrupts it"
 * are tested against the kernel's state, not against a sleep).
 */
final class NetTestSupport
{
    /** Longest any test waits for something the kernel should do at once; only reached on failure. */
    static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(30);

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_CLOEXEC = 02000000;
    static final int IPPROTO_TCP = 6;
    static final int SOCKADDR_IN_LENGTH = 16;
    static final int SOCKADDR_IN6_LENGTH = 28;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;
    static final int LOCK_UN = 8;
    static final int ECHILD = 10;
    static final int EWOULDBLOCK = 11;

    /** libc functions the tests call directly; the engine's own binding stays as small as the engine needs. */
    public interface TestLibC
    {
        int socket(int domain, int type, int protocol);

        int bind(int fd, long addr, int addrlen);

        int listen(int fd, int backlog);

        int getsockname(int fd, long addr, long addrlenPtr);

        int open(String path, int flags, int mode);

        int mkfifo(String path, int mode);

        int flock(int fd, int operation);

        int posix_spawn(long pidPtr, String path, long fileActions, long attributes, long argv, long envp);

        int posix_spawn_file_actions_init(long fileActions);

        int posix_spawn_file_actions_adddup2(long fileActions, int fd, int newFd);

        int posix_spawn_file_actions_destroy(long fileActions);
    }

    static final TestLibC TEST_LIBC = LibraryLoader.create(TestLibC.class).load("c");
    private static final Runtime TEST_RUNTIME = Runtime.getRuntime(TEST_LIBC);

    private NetTestSupport()
    {
    }

    /**
     * @return the errno the last {@link #TEST_LIBC} call on this thread left.
     */
    static int testErrno()
    {
        return TEST_RUNTIME.getLastError();
    }

    /**
     * Direct memory registered with a context, with checked addresses for the test's own native calls:
     * JNR-FFI writes wherever it is told, so every address handed out is checked against the capacity.
     */
    static final class Memory
    {
        final UnsafeBuffer buffer;
        final int index;

        Memory(final AioContext ctx, final int bytes)
        {
            buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(bytes, 4096));
            index = ctx.registerBuffer(buffer);
        }

        /**
         * @return the native address of {@code length} bytes at {@code offset}, after checking they lie inside.
         */
        long address(final int offset, final int length)
        {
            if (offset < 0 || length < 0 || offset > buffer.capacity() - length)
            {
                throw new IllegalArgumentException(length + " bytes at " + offset + " do not fit in " +
                    buffer.capacity());
            }
            return buffer.addressOffset() + offset;
        }

        /**
         * @return a BufferRef to {@code length} bytes at {@code offset}, checked the same way.
         */
        long ref(final int offset, final int length)
        {
            address(offset, length);
            return BufferRef.of(index, offset);
        }

        /**
         * Writes a NUL-terminated ASCII string.
         *
         * @return a BufferRef to it.
         */
        long cString(final int offset, final String value)
        {
            final int length = buffer.putStringWithoutLengthAscii(offset, value);
            buffer.putByte(offset + length, (byte)0);
            return ref(offset, length + 1);
        }
    }

    /**
     * Reaps events and checks that no cookie is ever delivered twice over the reaper's life.
     */
    static final class Reaper
    {
        private final AioContext ctx;
        private final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 64));
        private final EventCursor cursor = new EventCursor();
        private final Set<Long> seen = new HashSet<>();

        Reaper(final AioContext ctx)
        {
            this.ctx = ctx;
        }

        /**
         * Waits for exactly {@code count} more events.
         *
         * @return them by cookie.
         */
        Map<Long, Event> reap(final int count)
        {
            final Map<Long, Event> events = new HashMap<>();
            final long deadline = System.nanoTime() + PATIENCE_NANOS;
            while (events.size() < count)
            {
                final long left = deadline - System.nanoTime();
                assertTrue(left > 0, "only " + events.size() + " of " + count + " events within 30 s: " + events);
                final int bytes = ctx.getEvents(dst, 0, dst.capacity(), count - events.size(), left);
                collect(bytes, events);
            }
            assertEquals(count, events.size(), "more events than expected: " + events);
            return events;
        }

        /**
         * Waits for at least one event.
         *
         * @return every event that was ready, by cookie.
         */
        Map<Long, Event> reapSome()
        {
            final Map<Long, Event> events = new HashMap<>();
            final long deadline = System.nanoTime() + PATIENCE_NANOS;
            while (events.isEmpty())
            {
                final long left = deadline - System.nanoTime();
                assertTrue(left > 0, "no event within 30 s");
                collect(ctx.getEvents(dst, 0, dst.capacity(), 1, left), events);
            }
            return events;
        }

        /**
         * Waits for one event.
         */
        Event reapOne(final long cookie)
        {
            final Event event = reap(1).get(cookie);
            assertNotNull(event, "expected the event of cookie " + cookie);
            return event;
        }

        /**
         * Asserts that no event is ready now.
         */
        void assertNoEvent(final String why)
        {
            final Map<Long, Event> events = new HashMap<>();
            collect(ctx.getEvents(dst, 0, dst.capacity(), 1, 0), events);
            assertTrue(events.isEmpty(), why + ", but got " + events);
        }

        /**
         * @return every cookie reaped so far.
         */
        Set<Long> seen()
        {
            return seen;
        }

        private void collect(final int bytes, final Map<Long, Event> events)
        {
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[Math.max(bytes, 1)]);
            copy.putBytes(0, dst, 0, bytes);
            cursor.wrap(copy, 0, bytes);
            while (cursor.next())
            {
                final Event event = new Event().wrap(copy, cursor.event().offset());
                assertTrue(seen.add(event.cookie()), "cookie " + event.cookie() + " delivered twice: " + event);
                assertNull(events.put(event.cookie(), event));
            }
        }
    }

    /**
     * @return a pipe, both ends close-on-exec: [read end, write end].
     */
    static int[] pipe()
    {
        final int[] fds = new int[2];
        assertEquals(0, Natives.LIBC.pipe2(fds, Natives.O_CLOEXEC), "pipe2 failed: errno " + -Natives.lastError());
        return fds;
    }

    static void close(final int... fds)
    {
        for (final int fd : fds)
        {
            if (fd >= 0)
            {
                assertEquals(0, Natives.LIBC.close(fd), "close(" + fd + ") failed: errno " + -Natives.lastError());
            }
        }
    }

    /**
     * Writes bytes from registered memory to an fd with the test's own write(2), all of them.
     */
    static void writeFully(final int fd, final Memory memory, final int offset, final int length)
    {
        int done = 0;
        while (done < length)
        {
            final long n = Natives.result(Natives.LIBC.write(fd, memory.address(offset + done, length - done),
                length - done));
            assertTrue(n > 0, "write(" + fd + ") returned " + n);
            done += (int)n;
        }
    }

    /**
     * Puts a {@code sockaddr_in} for 127.0.0.1:port (port in network order, as the kernel wants).
     */
    static void putLoopback(final UnsafeBuffer buffer, final int offset, final int port)
    {
        buffer.setMemory(offset, SOCKADDR_IN_LENGTH, (byte)0);
        buffer.putShort(offset, (short)AF_INET);
        buffer.putByte(offset + 2, (byte)(port >>> 8));
        buffer.putByte(offset + 3, (byte)port);
        buffer.putByte(offset + 4, (byte)127);
        buffer.putByte(offset + 7, (byte)1);
    }

    /**
     * @return the port of a {@code sockaddr_in} or {@code sockaddr_in6} (both keep it at byte 2).
     */
    static int port(final UnsafeBuffer buffer, final int offset)
    {
        return ((buffer.getByte(offset + 2) & 0xFF) << 8) | (buffer.getByte(offset + 3) & 0xFF);
    }

    /**
     * A TCP socket of the test's own, close-on-exec.
     */
    static int tcpSocket()
    {
        final int fd = TEST_LIBC.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assertTrue(fd >= 0, "socket failed: errno " + testErrno());
        return fd;
    }

    /**
     * A listening TCP socket on 127.0.0.1 with a port the kernel chose.
     *
     * @param scratch where the address is built; {@link #SOCKADDR_IN_LENGTH} + 4 bytes at {@code offset}.
     * @return [fd, port].
     */
    static int[] listenOnLoopback(final Memory scratch, final int offset)
    {
        final int fd = tcpSocket();
        putLoopback(scratch.buffer, offset, 0);
        assertEquals(0, TEST_LIBC.bind(fd, scratch.address(offset, SOCKADDR_IN_LENGTH), SOCKADDR_IN_LENGTH),
            "bind failed: errno " + testErrno());
        assertEquals(0, TEST_LIBC.listen(fd, 16), "listen failed: errno " + testErrno());
        return new int[]{fd, localPort(fd, scratch, offset)};
    }

    /**
     * @return the local port of a bound socket, from getsockname(2).
     */
    static int localPort(final int fd, final Memory scratch, final int offset)
    {
        final int lengthAt = offset + SOCKADDR_IN_LENGTH;
        scratch.buffer.putInt(lengthAt, SOCKADDR_IN_LENGTH);
        assertEquals(0, TEST_LIBC.getsockname(fd, scratch.address(offset, SOCKADDR_IN_LENGTH),
            scratch.address(lengthAt, 4)), "getsockname failed: errno " + testErrno());
        assertEquals(SOCKADDR_IN_LENGTH, scratch.buffer.getInt(lengthAt));
        assertEquals(AF_INET, scratch.buffer.getShort(offset));
        return port(scratch.buffer, offset);
    }

    /**
     * What one thread of this process is doing in the kernel, from {@code /proc/self/task/<tid>}.
     */
    record TaskSyscall(int tid, String name, long number, long[] args)
    {
        @Override
        public String toString()
        {
            return name + "/" + tid + " in syscall " + number + "(0x" + Long.toHexString(args[0]) + ", 0x" +
                Long.toHexString(args[1]) + ", ...)";
        }
    }

    /**
     * @return the syscalls that engine workers ({@code syslet-*} threads) are blocked in now; a worker
     * that is running in user space is left out.
     */
    static List<TaskSyscall> workerSyscalls()
    {
        final List<TaskSyscall> out = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Paths.get("/proc/self/task")))
        {
            for (final Path task : tasks.collect(Collectors.toList()))
            {
                final String name;
                final String syscall;
                try
                {
                    name = Files.readString(task.resolve("comm")).trim();
                    if (!name.startsWith("syslet-"))
                    {
                        continue;
                    }
                    syscall = Files.readString(task.resolve("syscall")).trim();
                }
                catch (final IOException e)
                {
                    continue; // the thread ended meanwhile
                }
                final String[] fields = syscall.split(" ");
                if (fields.length < 7 || fields[0].equals("running") || fields[0].equals("-1"))
                {
                    continue;
                }
                final long[] args = new long[6];
                for (int i = 0; i < 6; i++)
                {
                    args[i] = Long.parseUnsignedLong(fields[i + 1].substring(2), 16);
                }
                out.add(new TaskSyscall(Integer.parseInt(task.getFileName().toString()), name,
                    Long.parseLong(fields[0]), args));
            }
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * Waits until {@code count} engine workers sit in a syscall whose arguments match: then the op is
     * really blocked in the kernel, where only data, a peer or a signal can end it. Matching on the
     * arguments (an fd, a buffer address, a pid) keeps this independent of the architecture's syscall
     * numbers and cannot mistake a parked worker (futex on a JVM address) for one.
     *
     * @param what  for the failure message.
     * @param count how many workers must match.
     * @param args  test on the six raw arguments.
     */
    static void awaitWorkersInSyscall(final String what, final int count, final Predicate<long[]> args)
    {
        final long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (true)
        {
            final List<TaskSyscall> now = workerSyscalls();
            if (now.stream().filter(t -> args.test(t.args())).count() >= count)
            {
                return;
            }
            if (System.nanoTime() - deadline > 0)
            {
                fail(count + " worker(s) never blocked in " + what + "; workers in syscalls: " + now);
            }
            sleepMillis(1);
        }
    }

    /**
     * {@link #awaitWorkersInSyscall} for one worker blocked on an fd (the syscall's first argument).
     */
    static void awaitWorkerBlockedOn(final String what, final int fd)
    {
        awaitWorkersInSyscall(what + " on fd " + fd, 1, args -> args[0] == fd);
    }

    static void sleepMillis(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Polls until the condition holds; a failure names what never happened. Not a timed assertion:
     * the limit is only there so a broken engine fails instead of hanging.
     */
    static void awaitTrue(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("never happened within 30 s: " + what);
            }
            sleepMillis(2);
        }
    }

    /**
     * @return this process's open fds and what each one refers to.
     */
    static Map<Integer, String> openFds()
    {
        return new TreeMap<>(SysletTestSupport.openFds());
    }

    /**
     * @return the live threads whose names mark them as engine workers.
     */
    static Set<Thread> sysletThreads()
    {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith("syslet-") && t.isAlive())
            .collect(Collectors.toSet());
    }

    /**
     * Asserts that a call on a destroyed context is refused with EBADF.
     */
    static void assertBadF(final String call, final Executable executable)
    {
        final AioException e = assertThrows(AioException.class, executable, call + " after destroy");
        assertEquals(Errno.EBADF, e.errno(), call + ": " + e.getMessage());
    }

    /**
     * @return true on x86_64, where the raw syscall numbers and siginfo offsets the tests use hold.
     */
    static boolean isX86_64()
    {
        final String arch = System.getProperty("os.arch");
        return "amd64".equals(arch) || "x86_64".equals(arch);
    }
}
