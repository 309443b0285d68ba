package io.syslet.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.syslet.cli.MiniJson.at;
import static io.syslet.cli.MiniJson.longAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceCommandTest
{
    @TempDir
    Path tempDir;

    private DiskTree tree;

    @BeforeEach
    void generateTree() throws Exception
    {
        tree = DiskTree.create(tempDir);
    }

    @AfterEach
    void deleteTree() throws IOException
    {
        tree.delete();
    }

    @Test
    void perFileBytesAreTheFileSizesAndAddUpToTheSummary()
    {
        final CliRun run = CliRun.run("trace", tree.root.toString(), "--per-file", "--json", "--chunk", "64k",
            "--files-in-flight", "3", "--depth", "2");
        assertEquals(0, run.exitCode, run.toString());
        assertEquals("", run.err, "no progress bar without a console, nothing else on stderr");
        final List<Map<String, Object>> lines = run.jsonLines();
        final Map<String, Object> summary = lines.get(lines.size() - 1);
        final List<Map<String, Object>> perFile = lines.subList(0, lines.size() - 1);

        final Map<Path, Long> bytesByFile = new HashMap<>();
        long reads = 0;
        long hits = 0;
        long misses = 0;
        long partial = 0;
        for (final Map<String, Object> file : perFile)
        {
            final Path path = Path.of((String)at(file, "path"));
            assertEquals(null, bytesByFile.put(path, longAt(file, "bytes")), "one line per file: " + path);
            assertEquals(0, longAt(file, "errors"), file.toString());
            final long size = tree.files.get(path);
            assertEquals((size + 65535) / 65536, longAt(file, "reads"), "64 KiB chunks of " + path);
            reads += longAt(file, "reads");
            hits += longAt(file, "cache_hits");
            misses += longAt(file, "cache_misses");
            partial += longAt(file, "cache_partial");
        }
        assertEquals(tree.files, bytesByFile, "every regular file, each with its size; the FIFO and the link skipped");
        assertEquals(tree.files.size(), longAt(summary, "files"));
        assertEquals(tree.files.size(), longAt(summary, "files_read"));
        assertEquals(2, longAt(summary, "skipped"), "the FIFO and the symbolic link");
        assertEquals(tree.totalBytes(), longAt(summary, "bytes"));
        assertEquals(reads, longAt(summary, "ops", "pread", "count"));
        assertEquals(reads, longAt(summary, "ops", "pread", "service_ns", "samples"), "a latency per read");
        assertEquals(hits, longAt(summary, "cache", "hits"));
        assertEquals(misses, longAt(summary, "cache", "misses"));
        assertEquals(partial, longAt(summary, "cache", "partial"));
        for (final String op : List.of("statx", "openat", "close"))
        {
            assertEquals(tree.files.size(), longAt(summary, "ops", op, "count"), op);
            assertEquals(0, longAt(summary, "ops", op, "errors"), op);
            final long p50 = longAt(summary, "ops", op, "service_ns", "p50");
            final long p99 = longAt(summary, "ops", op, "service_ns", "p99");
            final long max = longAt(summary, "ops", op, "service_ns", "max");
            assertTrue(0 < p50 && p50 <= p99 && p99 <= max, op + ": " + at(summary, "ops", op));
            // These ops run on a worker, never inline: each one's start comes after its submit on another thread,
            // so its queue time is positive, and the queue histogram has one sample per call.
            assertEquals(tree.files.size(), longAt(summary, "ops", op, "queue_ns", "samples"), op);
            final long queueP50 = longAt(summary, "ops", op, "queue_ns", "p50");
            final long queueMax = longAt(summary, "ops", op, "queue_ns", "max");
            assertTrue(0 < queueP50 && queueP50 <= queueMax, op + " waited for a worker: " + at(summary, "ops", op));
        }
        assertEquals(List.of(), at(summary, "unreadable"));
        assertEquals(List.of(), at(summary, "vanished"));
        assertEquals(List.of(), at(summary, "errors"));
    }

    @Test
    void evictMakesEveryFileMissThenASecondPassMostlyHits()
    {
        final CliRun cold = CliRun.run("trace", tree.root.toString(), "--evict", "--per-file", "--json", "--chunk", "64k");
        assertEquals(0, cold.exitCode, cold.toString());
        final List<Map<String, Object>> lines = cold.jsonLines();
        final Map<String, Object> summary = lines.get(lines.size() - 1);
        assertTrue(longAt(summary, "cache", "misses") + longAt(summary, "cache", "partial") > 0, summary.toString());
        for (final Map<String, Object> file : lines.subList(0, lines.size() - 1))
        {
            if (longAt(file, "bytes") > 0)
            {
                assertTrue(longAt(file, "cache_misses") >= 1, "evicted just before reading, its first read misses: " + file);
            }
        }
        assertEquals(tree.totalBytes(), longAt(summary, "bytes"));

        final Map<String, Object> warm = warmSummary();
        final long hits = longAt(warm, "cache", "hits");
        final long evidence = hits + longAt(warm, "cache", "misses") + longAt(warm, "cache", "partial");
        assertTrue(hits >= 0.9 * evidence && hits > 0, "the first pass left the tree in the page cache: " + warm);
        assertEquals(tree.totalBytes(), longAt(warm, "bytes"));
    }

    private Map<String, Object> warmSummary()
    {
        final CliRun warm = CliRun.run("trace", tree.root.toString(), "--json", "--chunk", "64k");
        assertEquals(0, warm.exitCode, warm.toString());
        return MiniJson.object(warm.out.strip());
    }

    @Test
    void aFileThatCannotBeOpenedIsListedAndTheExitIsZero() throws Exception
    {
        final Path unreadable = unreadableRegularFile();
        // In the tree (mode 000, as a user), or named beside it (sysfs, as root).
        final CliRun run = unreadable.startsWith(tree.root) ?
            CliRun.run("trace", tree.root.toString(), "--per-file", "--json") :
            CliRun.run("trace", tree.root.toString(), unreadable.toString(), "--per-file", "--json");
        assertEquals(0, run.exitCode, run.toString());
        final List<Map<String, Object>> lines = run.jsonLines();
        final Map<String, Object> summary = lines.get(lines.size() - 1);
        assertEquals(List.of(Map.of("path", unreadable.toString(), "op", "openat", "error", "EACCES")),
            at(summary, "unreadable"));
        assertEquals(tree.files.size() + 1, longAt(summary, "files"));
        assertEquals(tree.files.size(), longAt(summary, "files_read"));
        assertEquals(tree.totalBytes(), longAt(summary, "bytes"), "the others were read in full");
        final Map<String, Object> line = lines.stream()
            .filter(file -> unreadable.toString().equals(file.get("path"))).findFirst().orElseThrow();
        assertEquals(1, longAt(line, "errors"));
        assertEquals(0, longAt(line, "bytes"));
        assertEquals("openat: EACCES", at(line, "error"));

        final CliRun text = CliRun.run("trace", unreadable.toString());
        assertEquals(0, text.exitCode, text.toString());
        assertTrue(text.out.contains("unreadable  " + unreadable + " (openat: EACCES)"), text.out);
        assertTrue(text.out.contains("0 read in full, 1 unreadable"), text.out);
    }

    /**
     * A regular file whose openat(O_RDONLY) fails with EACCES. As a user: a file of the tree with mode 000.
     * As root, which reads any mode: a write-only sysfs attribute, which sysfs refuses to open for
     * reading whoever asks.
     */
    private Path unreadableRegularFile() throws IOException
    {
        final Path noAccess = tree.write(tree.root.resolve("c/no-access.bin"), 4096, new SplittableRandom(1));
        tree.files.remove(noAccess); // whatever happens, it is not one of the readable files
        Files.setPosixFilePermissions(noAccess, PosixFilePermissions.fromString("---------"));
        if (opensWithAccessDenied(noAccess))
        {
            return noAccess;
        }
        Files.delete(noAccess); // root: mode 000 does not stop it
        final Optional<Path> writeOnly = writeOnlySysfsFile();
        Assumptions.assumeTrue(writeOnly.isPresent(), "needs a file openat cannot open: running as root (which " +
            "ignores mode 000) and no write-only sysfs attribute was found under /sys");
        return writeOnly.get();
    }

    private static Optional<Path> writeOnlySysfsFile()
    {
        final Set<PosixFilePermission> writeOnly = Set.of(PosixFilePermission.OWNER_WRITE);
        final List<Path> candidates = new ArrayList<>();
        for (final String top : List.of("/sys/bus", "/sys/class", "/sys/module", "/sys/devices", "/sys/kernel"))
        {
            try (Stream<Path> found = Files.find(Path.of(top), 4, (path, attrs) -> attrs.isRegularFile()))
            {
                candidates.addAll(found.filter(path -> permissions(path).equals(writeOnly)).limit(10)
                    .collect(Collectors.toList()));
            }
            catch (final IOException | RuntimeException e)
            {
                // not there, or a directory we may not walk: try the next
            }
        }
        return candidates.stream().filter(TraceCommandTest::opensWithAccessDenied).findFirst();
    }

    private static Set<PosixFilePermission> permissions(final Path path)
    {
        try
        {
            return Files.getPosixFilePermissions(path);
        }
        catch (final IOException e)
        {
            return Set.of();
        }
    }

    private static boolean opensWithAccessDenied(final Path path)
    {
        try
        {
            Files.newByteChannel(path).close();
            return false;
        }
        catch (final AccessDeniedException e)
        {
            return true;
        }
        catch (final IOException e)
        {
            return false;
        }
    }

    @Test
    void aPathThatDoesNotExistIsAUsageErrorOnOneLine()
    {
        final Path missing = tree.root.resolve("no-such-dir");
        final CliRun run = CliRun.run("trace", tree.root.toString(), missing.toString());
        assertEquals(2, run.exitCode, run.toString());
        assertEquals("syslet: " + missing + ": no such file or directory\n", run.err);
        assertEquals("", run.out, "nothing traced");
    }

    /**
     * An empty argument (an unset variable in "$DIR") resolved to the working directory, which was then traced
     * or probed. Found by running trace "" and probe "".
     */
    @Test
    void anEmptyPathIsAUsageErrorNotTheWorkingDirectory()
    {
        for (final String command : List.of("trace", "probe"))
        {
            final CliRun run = CliRun.run(command, "");
            assertEquals(2, run.exitCode, run.toString());
            assertEquals("syslet: '': no such file or directory (an empty PATH)\n", run.err);
            assertEquals("", run.out);
        }
    }

    @Test
    void aBadOptionIsAUsageErrorOnOneLine()
    {
        final CliRun unknown = CliRun.run("trace", "--no-such-option");
        assertEquals(2, unknown.exitCode, unknown.toString());
        assertEquals("syslet: Unknown option: '--no-such-option' (see 'syslet trace --help')\n", unknown.err);

        final CliRun badSize = CliRun.run("trace", tree.root.toString(), "--chunk", "12x");
        assertEquals(2, badSize.exitCode, badSize.toString());
        assertTrue(badSize.err.startsWith("syslet: Invalid value for option '--chunk': '12x' is not a size"), badSize.err);
        assertEquals(1, badSize.err.lines().count(), badSize.err);

        final CliRun outOfRange = CliRun.run("trace", tree.root.toString(), "--depth", "0");
        assertEquals(2, outOfRange.exitCode, outOfRange.toString());
        assertEquals("syslet: --depth 0 is outside 1..64\n", outOfRange.err);
    }

    @Test
    void maxDepthZeroTracesOnlyWhatIsNamedAndOneTracesTheTopLevel()
    {
        final long topLevel = tree.files.keySet().stream().filter(file -> file.getParent().equals(tree.root)).count();
        final CliRun run = CliRun.run("trace", tree.root.toString(), "--json", "--max-depth", "1");
        assertEquals(0, run.exitCode, run.toString());
        assertEquals(topLevel, longAt(MiniJson.object(run.out.strip()), "files"));

        final Path file = tree.files.keySet().stream().filter(f -> tree.files.get(f) == 200_000).findFirst().orElseThrow();
        final CliRun one = CliRun.run("trace", file.toString(), "--json", "--max-depth", "0");
        assertEquals(0, one.exitCode, one.toString());
        assertEquals(1, longAt(MiniJson.object(one.out.strip()), "files"));
        assertEquals(200_000, longAt(MiniJson.object(one.out.strip()), "bytes"));
    }

    @Test
    void aFileThatVanishedAfterTheWalkIsCountedNotFatal() throws IOException
    {
        final Path kept = tree.files.keySet().stream().filter(f -> tree.files.get(f) == 65537).findFirst().orElseThrow();
        final Path gone = tree.root.resolve("vanished.bin");
        final List<Tracer.FileResult> files = new ArrayList<>();
        final Tracer.Settings settings = new Tracer.Settings();
        // The walk saw both; gone was deleted before the trace reached it (here: never created).
        final TraceResult result = new Tracer(settings, files::add).run(List.of(gone, kept), Progress.forConsole(2, 0));
        assertEquals(1, result.vanished.size());
        assertEquals(gone, result.vanished.get(0).path);
        assertEquals("statx", result.vanished.get(0).op);
        assertEquals("ENOENT", result.vanished.get(0).error);
        assertEquals(2, result.filesDone);
        assertEquals(1, result.filesRead);
        assertEquals(65537, result.bytes);
        assertEquals(1, result.ops.get(io.syslet.abi.Opcode.STATX).errors);
        assertEquals(1, result.ops.get(io.syslet.abi.Opcode.OPENAT).count, "no openat for the vanished file");
        assertEquals(1, result.ops.get(io.syslet.abi.Opcode.CLOSE).count, "one close, for the one fd opened");
        assertEquals(2, files.size());
        assertFalse(Files.exists(gone));
    }

    @Test
    void ringFileMapsTheCompletionRingWhereDumpCanReadIt()
    {
        final Path ringFile = tempDir.resolve("trace.ring");
        final CliRun run = CliRun.run("trace", tree.root.toString(), "--json", "--ring-file", ringFile.toString());
        assertEquals(0, run.exitCode, run.toString());
        final Map<String, Object> summary = MiniJson.object(run.out.strip());
        final long preads = longAt(summary, "ops", "pread", "count");
        final long others = Stream.of("statx", "openat", "close").mapToLong(op -> longAt(summary, "ops", op, "count")).sum();
        try (io.syslet.ring.RingRegion region = io.syslet.ring.RingRegion.openFile(ringFile))
        {
            final RingPeeker peeker = new RingPeeker(region.buffer());
            assertEquals(peeker.head(), peeker.tail(), "trace consumed every event it published");
            // A record per event, from position 0 and far from the end of 1 MiB: 16-byte record header, 40-byte
            // event, TLVs latency 40, cache 24, cpu 24, blocked 32, bytes 16. Cache and bytes do not apply to
            // statx, openat and close: 8 bytes each. So 192 bytes per pread, 168 per other op.
            assertEquals(192 * preads + 168 * others, Integer.toUnsignedLong(peeker.tail()));
        }
        final CliRun dump = CliRun.run("dump", ringFile.toString());
        assertEquals(0, dump.exitCode, dump.toString());
        assertTrue(dump.out.endsWith("# 0 records\n"), dump.out);

        final CliRun badDir = CliRun.run("trace", tree.root.toString(), "--ring-file", tempDir.resolve("no/dir.ring").toString());
        assertEquals(2, badDir.exitCode, badDir.toString());
        assertEquals(1, badDir.err.lines().count(), badDir.err);
    }

    /**
     * The ring file is made anew and renamed over what has the name: over a FIFO (or /dev/null, as root) that
     * swaps a special file for a regular one. Found by running trace --ring-file /dev/null as root.
     */
    @Test
    void aRingFileThatIsNotARegularFileIsABadOptionAndIsLeftAlone()
    {
        final Path fifo = tree.root.resolve("c/fifo");
        final CliRun run = CliRun.run("trace", tree.root.toString(), "--ring-file", fifo.toString());
        assertEquals(2, run.exitCode, run.toString());
        assertEquals("syslet: --ring-file " + fifo + " is not a regular file: it would be replaced by one\n", run.err);
        assertEquals("", run.out, "nothing traced");
        assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "still the FIFO");

        final CliRun demo = CliRun.run("ring-demo", "--records", "10", "--ring-file", fifo.toString());
        assertEquals(2, demo.exitCode, demo.toString());
        assertEquals("syslet: --ring-file " + fifo + " is not a regular file: it would be replaced by one\n", demo.err);
        assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "still the FIFO");
    }

    @Test
    void withNoArgumentsSysletTracesTheRunningJdk() throws IOException
    {
        final CliRun run = CliRun.run();
        assertEquals(0, run.exitCode, run.toString());
        final Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        assertTrue(run.out.startsWith("traced      " + javaHome + "\n"), run.out);
        for (final String row : List.of("  statx ", "  openat ", "  pread ", "  close "))
        {
            assertEquals(2, run.out.lines().filter(line -> line.startsWith(row)).count(),
                "a service and a queue row for" + row + "in\n" + run.out);
        }
        assertTrue(run.out.contains("page cache  "), run.out);
        assertEquals("", run.err);
    }

    @Test
    void aFileUnderTwoGivenPathsIsReadOnce()
    {
        final Path sub = tree.files.keySet().stream().map(Path::getParent).filter(p -> !p.equals(tree.root))
            .findFirst().orElseThrow();
        final long inSub = tree.files.keySet().stream().filter(f -> f.startsWith(sub)).count();
        final CliRun both = CliRun.run("trace", tree.root.toString(), sub.toString(), "--json");
        final CliRun subFirst = CliRun.run("trace", sub.toString(), tree.root.toString(), "--json");
        for (final CliRun run : List.of(both, subFirst))
        {
            assertEquals(0, run.exitCode, run.toString());
            final Map<String, Object> summary = MiniJson.object(run.out.strip());
            assertEquals(tree.files.size(), longAt(summary, "files"), "the " + inSub + " files of " + sub + " once");
            assertEquals(tree.totalBytes(), longAt(summary, "bytes"));
        }
    }

    @Test
    void anOverlappingPathWithADepthLimitLosesNothing() throws IOException
    {
        final Path top = Files.createDirectories(tempDir.resolve("t"));
        Files.write(top.resolve("top"), new byte[10]);
        final Path deep = Files.createDirectories(top.resolve("sub/x"));
        Files.write(deep.resolve("f"), new byte[20]);
        // The walk of t stops at t/sub/x (depth 2); the walk of t/sub reaches t/sub/x/f (depth 2 from there).
        for (final List<String> order : List.of(List.of("t", "t/sub"), List.of("t/sub", "t")))
        {
            final CliRun run = CliRun.run("trace", tempDir.resolve(order.get(0)).toString(),
                tempDir.resolve(order.get(1)).toString(), "--max-depth", "2", "--json");
            assertEquals(0, run.exitCode, run.toString());
            final Map<String, Object> summary = MiniJson.object(run.out.strip());
            assertEquals(2, longAt(summary, "files"), order + ": " + run.out);
            assertEquals(30, longAt(summary, "bytes"), order + ": " + run.out);
        }
    }

    @Test
    void buffersBeyondTheJvmsDirectMemoryAreABadOptionValueNotAnOutOfMemoryError() throws Exception
    {
        final CliRun run = CliRun.inChildJvm(Map.of(), List.of("-Xmx64m", "-XX:MaxDirectMemorySize=32m"),
            "trace", tree.root.toString(), "--chunk", "16M", "--depth", "4", "--files-in-flight", "2");
        assertEquals(2, run.exitCode, run.toString());
        assertEquals(1, run.err.lines().count(), run.err);
        assertTrue(run.err.startsWith("syslet: --files-in-flight x --depth x --chunk needs "), run.err);
        assertTrue(run.err.contains(" MiB of direct memory, more than this JVM may allocate"), run.err);
        assertTrue(run.err.contains("-XX:MaxDirectMemorySize"), run.err);
    }

    @Test
    void aPathThatIsASymlinkLoopSaysSoInWords() throws IOException
    {
        final Path a = tempDir.resolve("loop-a");
        final Path b = tempDir.resolve("loop-b");
        java.nio.file.Files.createSymbolicLink(a, b);
        java.nio.file.Files.createSymbolicLink(b, a);
        final CliRun run = CliRun.run("trace", a.toString());
        assertEquals(2, run.exitCode, run.toString());
        assertTrue(run.err.startsWith("syslet: " + a + ": Too many levels of symbolic links"), run.err);
        assertFalse(run.err.contains("Exception"), "the reason, not the JDK's class name: " + run.err);
    }

    @Test
    void aSizeTooLargeForALongIsRefusedNotWrapped()
    {
        final CliRun run = CliRun.run("trace", tree.root.toString(), "--chunk", "8589934592g");
        assertEquals(2, run.exitCode, run.toString());
        assertTrue(run.err.contains("'8589934592g' is more than"), run.err);

        // Eleven digits and more were "not a size", which says less than what is wrong with them.
        final CliRun longer = CliRun.run("trace", tree.root.toString(), "--chunk", "123456789012345678901234");
        assertEquals(2, longer.exitCode, longer.toString());
        assertTrue(longer.err.contains("'123456789012345678901234' is more than"), longer.err);
    }
}
