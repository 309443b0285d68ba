package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.Opcode;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the engine tests share: direct buffers, reaping events by cookie, pipes, and looking at the
 * process from {@code /proc} (which thread is blocked in which syscall, which fds are open).
 */
final class SysletTestSupport
{
    /**
     * Linux keeps 15 characters of a thread's name in {@code comm}, and the JDK passes the Java name on:
     * {@code syslet-bounded-1} shows as {@code syslet-bounded-}, {@code syslet-unbounded-1} as
     * {@code syslet-unbounde}. The two prefixes still tell the worker classes apart.
     */
    static final String BOUNDED_WORKER_COMM = "syslet-bounded-";
    static final String UNBOUNDED_WORKER_COMM = "syslet-unbounde";

    /** Bytes at the end of a registered buffer that {@link #openViaEngine} writes paths into. */
    static final int PATH_ROOM = 4096;
    /** Cookies of the helpers' own ops; tests number theirs from 1. */
    static final long OPEN_COOKIE = -1;
    static final long CLOSE_COOKIE = -2;

    /** Generous: only a broken engine or a hung kernel call gets near it. */
    static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(10);

    private SysletTestSupport()
    {
    }

    static UnsafeBuffer directBuffer(final int bytes)
    {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(bytes, 4096));
    }

    static byte[] randomBytes(final int length, final long seed)
    {
        final byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] bytes(final UnsafeBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return bytes;
    }

    /** A writer with room for 200 plain iocbs. */
    static IocbWriter writer()
    {
        return new IocbWriter(directBuffer(200 * 72));
    }

    /**
     * Writes {@code path} NUL-terminated into a registered buffer.
     *
     * @return the BufferRef an iocb names it by.
     */
    static long putPath(final UnsafeBuffer mem, final int bufferIndex, final int offset, final Path path)
    {
        final byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        assertTrue(offset + bytes.length + 1 <= mem.capacity(), "path " + path + " does not fit at " + offset);
        mem.putBytes(offset, bytes);
        mem.putByte(offset + bytes.length, (byte)0);
        return BufferRef.of(bufferIndex, offset);
    }

    /**
     * Submits everything the writer holds and checks the context took all of it.
     */
    static void submitAll(final IocbWriter writer, final AioContext ctx)
    {
        final int count = writer.count();
        assertEquals(count, writer.submitTo(ctx), "iocbs accepted");
    }

    /**
     * Opens a file through the engine (its path goes in the last {@link #PATH_ROOM} bytes of {@code mem}).
     *
     * @return the fd.
     */
    static int openViaEngine(final AioContext ctx, final IocbWriter w, final UnsafeBuffer mem, final int buf,
        final Path file, final int flags)
    {
        w.openat(OPEN_COOKIE, Natives.AT_FDCWD, putPath(mem, buf, mem.capacity() - PATH_ROOM, file), flags, 0644);
        submitAll(w, ctx);
        final Event opened = reapOne(ctx, OPEN_COOKIE);
        assertEquals(Opcode.OPENAT, opened.opcode());
        assertTrue(opened.res() >= 0, "openat " + file + ": " + opened);
        return (int)opened.res();
    }

    static void closeViaEngine(final AioContext ctx, final IocbWriter w, final int fd)
    {
        w.close(CLOSE_COOKIE, fd);
        submitAll(w, ctx);
        final Event closed = reapOne(ctx, CLOSE_COOKIE);
        assertEquals(Opcode.CLOSE, closed.opcode());
        assertEquals(0, closed.res(), "close(" + fd + "): " + closed);
    }

    /**
     * Reaps {@code n} events, waiting up to {@link #PATIENCE_NANOS} for them; more than {@code n} in the
     * ring fails.
     *
     * @return the events by cookie, each over its own copy; a cookie seen twice fails.
     */
    static Map<Long, Event> reap(final AioContext ctx, final int n)
    {
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 64));
        final Map<Long, Event> events = new HashMap<>();
        final long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (events.size() < n)
        {
            final long left = deadline - System.nanoTime();
            assertTrue(left > 0, "only " + events.size() + " of " + n + " events within 10 s: " + events.values());
            collect(dst, ctx.getEvents(dst, 0, dst.capacity(), n - events.size(), left), events);
        }
        assertEquals(n, events.size(), "more events than ops expected to complete: " + events.values());
        return events;
    }

    /**
     * @return the events in the ring now, by cookie, without waiting.
     */
    static Map<Long, Event> reapReady(final AioContext ctx)
    {
        final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 64));
        final Map<Long, Event> events = new HashMap<>();
        collect(dst, ctx.getEvents(dst, 0, dst.capacity(), 0, 0), events);
        return events;
    }

    /**
     * Copies each event getEvents wrote into {@code dst} out, so it outlives the next call.
     */
    private static void collect(final UnsafeBuffer dst, final int bytes, final Map<Long, Event> events)
    {
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[bytes]);
        copy.putBytes(0, dst, 0, bytes);
        final EventCursor cursor = new EventCursor().wrap(copy, 0, bytes);
        while (cursor.next())
        {
            final Event event = new Event().wrap(copy, cursor.event().offset());
            assertNull(events.put(event.cookie(), event), "second event for cookie " + event.cookie());
        }
    }

    /**
     * @return the one event with this cookie, after reaping exactly one.
     */
    static Event reapOne(final AioContext ctx, final long cookie)
    {
        final Event event = reap(ctx, 1).get(cookie);
        assertTrue(event != null, "the event reaped is not cookie " + cookie);
        return event;
    }

    /**
     * Checks that the ring holds no event now (for ops whose completion the test has ruled out).
     */
    static void assertNoEventReady(final AioContext ctx)
    {
        final Map<Long, Event> ready = reapReady(ctx);
        assertTrue(ready.isEmpty(), "events in the ring: " + ready.values());
    }

    static AioException assertAioException(final int errno, final String messageFragment, final Executable call)
    {
        final AioException e = assertThrows(AioException.class, call);
        assertEquals(errno, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(messageFragment), "message \"" + e.getMessage() + "\" should name \"" +
            messageFragment + "\"");
        return e;
    }

    /**
     * Writes bytes to an fd from the test thread, not through the engine.
     */
    static void writeFully(final int fd, final byte[] bytes)
    {
        final UnsafeBuffer src = directBuffer(Math.max(bytes.length, 1));
        src.putBytes(0, bytes);
        assertEquals(bytes.length, Natives.result(LIBC.write(fd, src.addressOffset(), bytes.length)));
    }

    /** A pipe(2) whose ends are closed with it. */
    static final class Pipe implements AutoCloseable
    {
        final int readFd;
        final int writeFd;

        Pipe()
        {
            final int[] fds = new int[2];
            assertEquals(0, LIBC.pipe2(fds, Natives.O_CLOEXEC), "pipe2");
            readFd = fds[0];
            writeFd = fds[1];
        }

        @Override
        public void close()
        {
            LIBC.close(readFd);
            LIBC.close(writeFd);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // The process seen from /proc
    // ------------------------------------------------------------------------------------------------------------

    /**
     * The syscall number {@code /proc/<tid>/syscall} shows for a thread blocked in {@code name}.
     */
    static int syscallNumber(final String name)
    {
        final String arch = System.getProperty("os.arch");
        final boolean x86 = "amd64".equals(arch) || "x86_64".equals(arch);
        final boolean arm = "aarch64".equals(arch);
        assumeTrue(x86 || arm, "needs a known syscall table: this test knows x86_64 and aarch64, not " + arch);
        switch (name)
        {
            case "read":
                return x86 ? 0 : 63;
            case "openat":
                return x86 ? 257 : 56;
            case "clock_nanosleep":
                return x86 ? 230 : 115;
            case "poll":
                return x86 ? 7 : 73; // aarch64 has no poll: glibc's poll() makes ppoll
            default:
                throw new IllegalArgumentException(name);
        }
    }

    /**
     * Waits until a thread whose {@code comm} starts with {@code commPrefix} sleeps inside the syscall
     * {@code syscall}: {@code /proc/self/task/<tid>/syscall} names the call a blocked thread is in, so this
     * tells "running and blocked in the kernel" from "queued" or "about to call" without any timing.
     *
     * @return the thread's tid.
     */
    static int awaitThreadBlockedIn(final String commPrefix, final String syscall)
    {
        final String number = Integer.toString(syscallNumber(syscall));
        final long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (true)
        {
            final List<String> seen = new ArrayList<>();
            for (final Path task : tasks())
            {
                final String comm = readProc(task.resolve("comm"));
                if (comm == null || !comm.startsWith(commPrefix))
                {
                    continue;
                }
                final String state = readProc(task.resolve("syscall"));
                if (state == null)
                {
                    continue;
                }
                seen.add(task.getFileName() + " " + comm + ": " + state);
                if (state.split(" ")[0].equals(number))
                {
                    return Integer.parseInt(task.getFileName().toString());
                }
            }
            if (System.nanoTime() - deadline > 0)
            {
                fail("no thread " + commPrefix + "* blocked in " + syscall + "(2) within 10 s; seen " + seen);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /**
     * @return fds open in this process, by number, with what each links to; fds on {@code /proc} itself
     * (this listing's own, at whatever number it got) are left out.
     */
    static Map<Integer, String> openFds()
    {
        final Map<Integer, String> fds = new HashMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd")))
        {
            for (final Path fd : dir)
            {
                try
                {
                    final String target = Files.readSymbolicLink(fd).toString();
                    if (!target.startsWith("/proc/"))
                    {
                        fds.put(Integer.parseInt(fd.getFileName().toString()), target);
                    }
                }
                catch (final NoSuchFileException e)
                {
                    // An fd closed while we listed.
                }
            }
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
        return fds;
    }

    static long countEventFds()
    {
        return openFds().values().stream().filter("anon_inode:[eventfd]"::equals).count();
    }

    /**
     * @return names of the live Java threads that the engine starts.
     */
    static List<String> sysletThreadNames()
    {
        final List<String> names = new ArrayList<>();
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            if (thread.getName().startsWith("syslet-"))
            {
                names.add(thread.getName());
            }
        }
        return names;
    }

    private static List<Path> tasks()
    {
        final List<Path> tasks = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/task")))
        {
            dir.forEach(tasks::add);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
        return tasks;
    }

    /**
     * @return the file's text, trimmed; null if the thread is gone.
     */
    private static String readProc(final Path file)
    {
        try
        {
            return Files.readString(file).trim();
        }
        catch (final NoSuchFileException e)
        {
            return null;
        }
        catch (final IOException e)
        {
            if (e.getMessage() != null && e.getMessage().contains("No such process"))
            {
                return null;
            }
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits, bounded, until {@code inFlight()} reads {@code expected}. An op leaves the count only after
     * its event is published, so a reaper that has just taken the event may see it counted for a moment;
     * this is not a speed check (the bound only turns a leak into a failure).
     */
    static void awaitInFlight(final AioContext ctx, final int expected, final String what)
    {
        final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        int seen;
        while ((seen = ctx.inFlight()) != expected)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError(what + ": inFlight() stayed at " + seen + ", expected " + expected);
            }
            Thread.yield();
        }
    }

    /**
     * Runs {@code main} in a JVM of its own, on this test's class path, with {@code jvmOptions} and nothing from
     * the environment's JAVA_TOOL_OPTIONS or JDK_JAVA_OPTIONS.
     *
     * @return what it printed, stdout and stderr together.
     * @throws AssertionError if it did not end within a minute or exited with other than 0.
     */
    static String runInChildJvm(final Class<?> main, final String... jvmOptions) throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path",
            System.getProperty("java.class.path")), main.getName()));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        final Process child = builder.start();
        final CompletableFuture<byte[]> output = CompletableFuture.supplyAsync(() ->
        {
            try (InputStream in = child.getInputStream())
            {
                return in.readAllBytes();
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e);
            }
        });
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM did not end within a minute");
        final String printed = new String(output.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), printed);
        return printed;
    }
}
