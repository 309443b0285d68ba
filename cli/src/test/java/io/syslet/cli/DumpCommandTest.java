package io.syslet.cli;

import io.syslet.abi.IocbWriter;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.syslet.cli.MiniJson.at;
import static io.syslet.cli.MiniJson.longAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DumpCommandTest
{
    private static final int PUBLISHED = 40;

    @TempDir
    Path dir;

    private Process writer;

    @AfterEach
    void stopWriter() throws InterruptedException
    {
        if (writer != null)
        {
            writer.destroyForcibly();
            writer.waitFor();
        }
    }

    @Test
    void dumpDecodesEveryEventAnotherJvmPublishedAndTakesNone() throws Exception
    {
        final Path ring = dir.resolve("events.ring");
        startWriter(ring, "publish", Integer.toString(PUBLISHED));

        final CliRun run = CliRun.run("dump", ring.toString(), "--json");
        assertEquals(0, run.exitCode, run.toString());
        final Map<Long, Map<String, Object>> byCookie = new HashMap<>();
        for (final Map<String, Object> event : run.jsonLines())
        {
            assertEquals(null, byCookie.put(longAt(event, "cookie"), event), "each event once: " + event);
        }
        assertEquals(PUBLISHED, byCookie.size(), run.out);
        for (int i = 0; i < PUBLISHED; i++)
        {
            final Map<String, Object> event = byCookie.get(RingWriterMain.FIRST_COOKIE + i);
            final String[] expected = RingWriterMain.expected(i);
            assertEquals(expected[0], at(event, "op"), event.toString());
            assertEquals(Long.parseLong(expected[1]), longAt(event, "res"), event.toString());
            if (expected[0].equals("openat"))
            {
                assertEquals("ENOENT", at(event, "error"));
            }
            if (expected[0].equals("pread"))
            {
                final long submit = longAt(event, "attributes", "latency", "submit");
                final long start = longAt(event, "attributes", "latency", "start");
                final long end = longAt(event, "attributes", "latency", "end");
                final long publish = longAt(event, "attributes", "latency", "publish");
                assertTrue(submit <= start && start <= end && end <= publish, event.toString());
                assertTrue(Set.of("HIT", "MISS", "PARTIAL").contains(at(event, "attributes", "cache", "outcome")),
                    "a file on disk: " + event);
                assertEquals((long)RingWriterMain.DATA_BYTES, longAt(event, "attributes", "bytes"));
            }
            else if (expected[0].equals("statx"))
            {
                // CPU and off-CPU time, context switches, and the worker: a thread of the writer's JVM.
                assertTrue(longAt(event, "attributes", "cpu", "on_ns") > 0, event.toString());
                assertTrue(longAt(event, "attributes", "cpu", "off_ns") >= 0, event.toString());
                final long voluntary = longAt(event, "attributes", "blocked", "voluntary");
                assertTrue(voluntary >= 0 && longAt(event, "attributes", "blocked", "involuntary") >= 0, event.toString());
                assertEquals(voluntary > 0, at(event, "attributes", "blocked", "blocked"), event.toString());
                final long tid = longAt(event, "attributes", "worker_tid");
                assertTrue(Files.isDirectory(Path.of("/proc", Long.toString(writer.pid()), "task", Long.toString(tid))),
                    "worker_tid " + tid + " is a thread of the writer's JVM: " + event);
            }
            else
            {
                assertEquals(Map.of(), at(event, "attributes"), "nops and openats ask for no attributes");
            }
        }

        final CliRun text = CliRun.run("dump", ring.toString());
        assertEquals(0, text.exitCode, text.toString());
        assertTrue(text.out.lines().anyMatch(line -> line.contains(" cookie=1001 op=openat res=-2 (ENOENT) flags=-")),
            text.out);
        assertTrue(text.out.lines().anyMatch(line -> line.matches(
            "@\\d+ cookie=1002 op=pread res=4096 flags=\\S+ latency=\\{queue=.*us service=.*us total=.*us} " +
                "cache=(HIT|MISS|PARTIAL)\\(\\d+ B cached\\) bytes=4096")), text.out);
        assertTrue(text.out.lines().anyMatch(line -> line.matches(
            "@\\d+ cookie=1003 op=statx res=0 flags=\\S+ cpu=\\{on=\\S+us off=\\S+us} " +
                "blocked=(yes|no)\\{voluntary=\\d+ involuntary=\\d+} worker_tid=\\d+")), text.out);
        assertTrue(text.out.startsWith("# ring " + ring + ": capacity 1048576 bytes, head 0, tail "), text.out);
        assertTrue(text.out.endsWith("# " + PUBLISHED + " records\n"), "dump takes nothing: the second look sees " +
            "them all again\n" + text.out);
    }

    @Test
    void followSeesEachNewEventOfAnOwnerThatConsumesThem() throws Exception
    {
        final Path ring = dir.resolve("stream.ring");
        startWriter(ring, "stream");
        final int count = 30;
        final CliRun run = CliRun.run("dump", ring.toString(), "--follow", "--count", Integer.toString(count), "--json",
            "--timeout", "60s");
        assertEquals(0, run.exitCode, run.toString());
        final List<Map<String, Object>> events = run.jsonLines();
        assertEquals(count, events.size(), "no missed bytes at one small event every 2 ms in a 1 MiB ring:\n" + run.out);
        final long first = longAt(events.get(0), "cookie");
        for (int i = 0; i < count; i++)
        {
            final Map<String, Object> event = events.get(i);
            assertEquals(first + i, longAt(event, "cookie"), "consecutive: " + run.out);
            assertEquals("nop", at(event, "op"));
            assertEquals(0, longAt(event, "res"));
            assertTrue(longAt(event, "attributes", "latency", "submit") > 0, event.toString());
        }
    }

    @Test
    void aFileThatIsNotARingIsAUsageErrorOnOneLine() throws IOException
    {
        final Path junk = dir.resolve("junk.ring");
        final byte[] bytes = new byte[512 + 4096];
        new Random(3).nextBytes(bytes);
        Files.write(junk, bytes);
        final CliRun run = CliRun.run("dump", junk.toString());
        assertEquals(2, run.exitCode, run.toString());
        assertTrue(run.err.startsWith("syslet: ring file " + junk + ": magic 0x"), run.err);
        assertEquals(1, run.err.lines().count(), run.err);

        final CliRun missing = CliRun.run("dump", dir.resolve("none.ring").toString());
        assertEquals(2, missing.exitCode, missing.toString());
        assertEquals("syslet: " + dir.resolve("none.ring") + ": no such ring file\n", missing.err);
    }

    /**
     * A ring whose tail is more than a lap past its head, or behind it, has no writer that made it: going on
     * from head, as for a lap, finds the same positions again. dump printed "# missed 0 bytes" for ever, with
     * or without --follow. Found by dumping ring files with their tail and head words rewritten.
     */
    @Test
    void aRingWhoseHeadAndTailAreMoreThanALapApartIsAnErrorNotAnEndlessLap() throws IOException
    {
        final Path file = dir.resolve("damaged.ring");
        final int capacity = 4096;
        io.syslet.ring.RingRegion.createFile(file, capacity, 0).close();
        putHeaderWord(file, io.syslet.ring.RingDescriptor.TAIL_POSITION_OFFSET, 5 * capacity);
        for (final String[] args : List.of(new String[]{"dump", file.toString()},
            new String[]{"dump", file.toString(), "--follow", "--timeout", "20s"}))
        {
            final CliRun run = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.run(args));
            assertEquals(1, run.exitCode, run.toString());
            assertEquals("syslet: ring damaged: tail 20480 is 20480 bytes past head 0, more than the capacity of " +
                "4096\n", run.err);
            assertEquals("", run.out, "no endless laps");
        }

        putHeaderWord(file, io.syslet.ring.RingDescriptor.TAIL_POSITION_OFFSET, 64);
        putHeaderWord(file, io.syslet.ring.RingDescriptor.HEAD_POSITION_OFFSET, 128);
        for (final String[] args : List.of(new String[]{"dump", file.toString()},
            new String[]{"dump", file.toString(), "--follow", "--timeout", "20s"}))
        {
            final CliRun ahead = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.run(args));
            assertEquals(1, ahead.exitCode, ahead.toString());
            assertEquals("syslet: ring damaged: head 128 is ahead of tail 64\n", ahead.err);
            assertEquals("", ahead.out, "not a header that says 4294967232 bytes are not consumed");
        }
    }

    /**
     * dump said "no such ring file" of a directory, a FIFO or a device: they exist, and are not ring files.
     * Found by running dump on /tmp, a FIFO and /dev/zero.
     */
    @Test
    void somethingThatIsNotARegularFileIsNamedForWhatItIs() throws Exception
    {
        final Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        final CliRun directory = CliRun.run("dump", dir.toString());
        assertEquals(2, directory.exitCode, directory.toString());
        assertEquals("syslet: " + dir + ": a directory, not a ring file\n", directory.err);
        for (final Path special : List.of(fifo, Path.of("/dev/zero")))
        {
            final CliRun run = CliRun.run("dump", special.toString());
            assertEquals(2, run.exitCode, run.toString());
            assertEquals("syslet: " + special + ": not a regular file (a FIFO, a socket or a device), not a ring file\n",
                run.err);
        }
    }

    @Test
    void followGoesOnToTheRingOfANewWriterThatReplacesTheFile() throws Exception
    {
        final Path file = dir.resolve("replaced.ring");
        final CompletableFuture<CliRun> dump;
        try (SysletContext first = SysletContext.setup(new SetupParams().ringFile(file)))
        {
            submitNops(first, 1, 2);
            dump = CompletableFuture.supplyAsync(() -> CliRun.run("dump", file.toString(), "--follow", "--count", "4",
                "--json", "--timeout", "60s"));
            awaitMappedTwice(file); // this context's mapping and dump's
        }
        try (SysletContext second = SysletContext.setup(new SetupParams().ringFile(file)))
        {
            submitNops(second, 3, 4);
            final CliRun run = dump.get(90, TimeUnit.SECONDS);
            assertEquals(0, run.exitCode, run.toString());
            final List<Map<String, Object>> lines = run.jsonLines();
            assertEquals(5, lines.size(), run.out);
            assertEquals(List.of(1L, 2L), List.of(longAt(lines.get(0), "cookie"), longAt(lines.get(1), "cookie")));
            assertEquals(file.toString(), at(lines.get(2), "ring_replaced"), run.out);
            assertEquals(List.of(3L, 4L), List.of(longAt(lines.get(3), "cookie"), longAt(lines.get(4), "cookie")));
        }
    }

    /** Rewrites a u32 of a ring file's header, as no writer would. */
    private static void putHeaderWord(final Path file, final int offset, final int value) throws IOException
    {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
            java.nio.file.StandardOpenOption.WRITE))
        {
            channel.write(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, value), offset);
        }
    }

    private static void submitNops(final SysletContext context, final long... cookies)
    {
        final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
        for (final long cookie : cookies)
        {
            writer.append(Opcode.NOP, cookie, 0, 0, 0, 0, 0, 0, 0);
        }
        assertEquals(cookies.length, writer.submitTo(context));
    }

    /** Waits until this process maps the file twice (/proc/self/maps lists each mapping). */
    private static void awaitMappedTwice(final Path file) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(line -> line.endsWith(" " + file)).count() < 2)
        {
            assertTrue(System.nanoTime() < deadline, "dump never mapped " + file);
            Thread.sleep(10);
        }
    }

    /**
     * Starts RingWriterMain in its own JVM, with this JVM's test class path, and waits for its READY.
     */
    private void startWriter(final Path ring, final String... mode) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx64m", "-XX:TieredStopAtLevel=1",
            "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            RingWriterMain.class.getName(), ring.toString(), dir.toString()));
        command.addAll(List.of(mode));
        final Path errors = dir.resolve("writer.err");
        writer = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        final BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
        // A safety net against a writer that never gets ready, not a speed requirement.
        final String line = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return out.readLine();
            }
            catch (final IOException e)
            {
                return "IOException " + e;
            }
        }).get(120, TimeUnit.SECONDS);
        assertEquals("READY", line, () -> "the writer JVM did not get ready: " + readQuietly(errors));
    }

    private static String readQuietly(final Path file)
    {
        try
        {
            return Files.readString(file);
        }
        catch (final IOException e)
        {
            return e.toString();
        }
    }
}
