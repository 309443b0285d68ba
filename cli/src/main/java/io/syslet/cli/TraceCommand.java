package io.syslet.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code syslet trace}: reads every regular file under the paths through the engine and reports what
 * each syscall cost.
 */
@Command(name = "trace", mixinStandardHelpOptions = true,
    description = {
        "Reads every regular file under PATH (default: the running JDK) through the engine, asynchronously: " +
            "statx, openat, pread in chunks, close. Reports throughput, latency percentiles per syscall " +
            "(service and queue time), page-cache hits, blocking and off-CPU time.",
        "Each file is read as far as statx says it is long: pseudo-files that say 0 (most of /proc and /sys) " +
            "are opened and closed but not read. A file under two PATHs is read once.",
        "Unreadable and vanished files are listed, never fatal. Exit 0, or 2 for a bad option or PATH."})
final class TraceCommand implements Callable<Integer>
{
    private static final int MAX_CHUNK = 64 << 20;
    private static final long MAX_MEMORY = 1L << 30;

    @Parameters(paramLabel = "PATH", arity = "0..*", description = "directories or files (default: java.home)")
    List<Path> paths = new ArrayList<>();

    @Option(names = "--max-depth", paramLabel = "N", description = "directory levels to descend (default: all)")
    int maxDepth = Integer.MAX_VALUE;

    @Option(names = "--chunk", paramLabel = "SIZE", converter = Sizes.class,
        description = "bytes per pread, e.g. 64k, 1M (default: 128k)")
    int chunk = 128 * 1024;

    @Option(names = "--depth", paramLabel = "N", description = "preads in flight per file (default: ${DEFAULT-VALUE})")
    int depth = 4;

    @Option(names = "--files-in-flight", paramLabel = "N",
        description = "files being read at once (default: ${DEFAULT-VALUE})")
    int filesInFlight = 32;

    @Option(names = "--workers", paramLabel = "N", description = "bounded workers (default: the engine's, " +
        "max(4, 2 x CPUs))")
    int workers;

    @Option(names = "--evict", description = "posix_fadvise(DONTNEED) each file after opening it, before reading: " +
        "cold-cache reads")
    boolean evict;

    @Option(names = "--json", description = "print the summary as one JSON object")
    boolean json;

    @Option(names = "--per-file", description = "print a JSON line per file: path, bytes, reads, cache_hits, " +
        "cache_misses, cache_partial, errors")
    boolean perFile;

    @Option(names = "--jfr", description = "commit a JFR event (io.syslet.Op) per op; record with " +
        "JDK_JAVA_OPTIONS=-XX:StartFlightRecording=filename=trace.jfr")
    boolean jfr;

    @Option(names = "--ring-file", paramLabel = "FILE",
        description = "map the completion ring in FILE, for 'syslet dump FILE --follow' in another terminal " +
            "(an existing FILE is replaced, not overwritten: a dump reading it goes on to the new one; so it must be a " +
            "regular file, never a FIFO or a device)")
    Path ringFile;

    @Override
    public Integer call()
    {
        final Tracer.Settings settings = settings();
        final List<Path> roots = roots();
        final FileTree tree = FileTree.walk(roots, maxDepth);
        final PrintStream out = System.out;
        final Tracer tracer = new Tracer(settings, perFile ? file ->
        {
            out.println(file.toJson());
            SysletCommand.checkOutput(out);
        } : null);
        final TraceResult result = tracer.run(tree.files, Progress.forConsole(tree.files.size(), tree.bytes));
        result.addWalk(tree);
        if (json)
        {
            out.println(result.toJson(roots, settings));
        }
        else
        {
            result.printText(out, roots, settings);
        }
        out.flush();
        return 0;
    }

    private Tracer.Settings settings()
    {
        check(maxDepth >= 0, "--max-depth " + maxDepth + " is negative");
        check(chunk >= 512 && chunk <= MAX_CHUNK, "--chunk " + chunk + " is outside 512 bytes .. 64 MiB");
        check(depth >= 1 && depth <= 64, "--depth " + depth + " is outside 1..64");
        check(filesInFlight >= 1 && filesInFlight <= 1024, "--files-in-flight " + filesInFlight + " is outside 1..1024");
        check(workers >= 0 && workers <= 4096, "--workers " + workers + " is outside 0..4096 (0: the engine's default)");
        final Tracer.Settings settings = new Tracer.Settings();
        settings.chunk = chunk;
        settings.depth = depth;
        settings.filesInFlight = filesInFlight;
        settings.workers = workers;
        settings.evict = evict;
        settings.jfr = jfr;
        settings.ringFile = ringFile;
        if (ringFile != null)
        {
            final Path parent = ringFile.toAbsolutePath().getParent();
            check(parent != null && Files.isDirectory(parent), "--ring-file " + ringFile + ": no such directory " + parent);
            check(!Files.isDirectory(ringFile), "--ring-file " + ringFile + " is a directory");
            checkRingFile(ringFile);
        }
        check(settings.memoryBytes() <= MAX_MEMORY, "--files-in-flight x --depth x --chunk needs " +
            Sizes.format(settings.memoryBytes()) + " of buffers, more than " + Sizes.format(MAX_MEMORY));
        return settings;
    }

    /**
     * @return the paths, resolved (a link given by name is followed), default java.home.
     * @throws IllegalArgumentException for a path that does not exist: a usage error.
     */
    private List<Path> roots()
    {
        final List<Path> given = paths.isEmpty() ? List.of(Path.of(System.getProperty("java.home"))) : paths;
        final List<Path> roots = new ArrayList<>();
        for (final Path path : given)
        {
            roots.add(FileTree.realPath(path));
        }
        return roots;
    }

    /**
     * The ring is made in a new file renamed over the old one (RingRegion.createFile): over a FIFO, a socket or
     * a device (/dev/null, as root) that would put a regular file in its place.
     *
     * @throws IllegalArgumentException if something other than a regular file has the name: a usage error.
     */
    static void checkRingFile(final Path ringFile)
    {
        check(!Files.exists(ringFile) || Files.isRegularFile(ringFile),
            "--ring-file " + ringFile + " is not a regular file: it would be replaced by one");
    }

    private static void check(final boolean ok, final String message)
    {
        if (!ok)
        {
            throw new IllegalArgumentException(message);
        }
    }
}
