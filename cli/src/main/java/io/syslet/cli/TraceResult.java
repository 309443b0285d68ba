package io.syslet.cli;

import io.syslet.abi.Opcode;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a trace measured, and the two ways of printing it: a table for people, one JSON object for
 * programs.
 */
final class TraceResult
{
    final int workers;
    final Map<Integer, OpStats> ops = new LinkedHashMap<>();
    long filesDone;
    /** Files read to the end with no failed op. */
    long filesRead;
    long bytes;
    long cacheHits;
    long cacheMisses;
    long cachePartial;
    long cacheUnsupported;
    long cacheUnmeasured;
    /** Reads that completed on the submitting thread (all in the page cache): no thread hop. */
    long immediate;
    long cpuNanos;
    long offCpuNanos;
    long elapsedNanos;
    final List<FileTree.Problem> unreadable = new ArrayList<>();
    final List<FileTree.Problem> vanished = new ArrayList<>();
    final List<FileTree.Problem> errors = new ArrayList<>();
    /** From the walk. */
    long directories;
    long skipped;

    TraceResult(final int workers)
    {
        this.workers = workers;
        for (final int opcode : Tracer.TRACED_OPS)
        {
            ops.put(opcode, new OpStats(Opcode.name(opcode)));
        }
    }

    OpStats stats(final int opcode)
    {
        return ops.computeIfAbsent(opcode, op -> new OpStats(Opcode.name(op)));
    }

    /**
     * Adds what the walk found: its problems go first on their lists.
     */
    void addWalk(final FileTree tree)
    {
        directories = tree.directories;
        skipped = tree.skipped;
        unreadable.addAll(0, tree.unreadable);
        vanished.addAll(0, tree.vanished);
    }

    long blocked()
    {
        return ops.values().stream().mapToLong(s -> s.blocked).sum();
    }

    long blockedMeasured()
    {
        return ops.values().stream().mapToLong(s -> s.blockedMeasured).sum();
    }

    /**
     * @return hits over reads with evidence (hit, miss or partial); NaN when there were none.
     */
    double hitRatio()
    {
        return (double)cacheHits / (cacheHits + cacheMisses + cachePartial);
    }

    double seconds()
    {
        return elapsedNanos / 1e9;
    }

    void printText(final PrintStream out, final List<Path> paths, final Tracer.Settings settings)
    {
        out.printf("traced      %s%n", paths.size() == 1 ? paths.get(0) : paths.toString());
        out.printf("files       %,d read in full, %,d unreadable, %,d vanished, %,d with errors " +
                "(%,d directories, %,d non-regular skipped)%n",
            filesRead, unreadable.size(), vanished.size(), errors.size(), directories, skipped);
        out.printf("bytes       %s in %.3f s: %s/s, %,.0f files/s%n",
            Sizes.format(bytes), seconds(), Sizes.format((long)(bytes / Math.max(seconds(), 1e-9))),
            filesDone / Math.max(seconds(), 1e-9));
        out.printf("engine      %d bounded workers, %d files in flight, %d reads of %s in flight per file%s%n",
            workers, settings.filesInFlight, settings.depth, Sizes.format(settings.chunk),
            settings.evict ? ", each file evicted from the page cache first" : "");
        out.println();
        out.println("service time per syscall, us (end - start of the call, from the latency attribute)");
        printTable(out, true);
        out.println();
        out.println("queue time per syscall, us (start - submit: the wait for a worker; 0 on the immediate path)");
        printTable(out, false);
        out.println();
        final long evidence = cacheHits + cacheMisses + cachePartial;
        out.printf("page cache  %,d hits, %,d misses, %,d partial: %s hits (pread, RWF_NOWAIT evidence)%n",
            cacheHits, cacheMisses, cachePartial, evidence == 0 ? "n/a" : percent(cacheHits, evidence));
        if (cacheUnsupported > 0 || cacheUnmeasured > 0)
        {
            out.printf("            %,d reads on filesystems without RWF_NOWAIT (no evidence, not misses), %,d failed " +
                "before the cache was asked%n", cacheUnsupported, cacheUnmeasured);
        }
        out.printf("immediate   %,d reads completed on the submitting thread, with no thread hop%n", immediate);
        out.printf("blocked     %,d of %,d ops slept in the kernel (%s)%n", blocked(), blockedMeasured(),
            blockedMeasured() == 0 ? "n/a" : percent(blocked(), blockedMeasured()));
        out.printf("off-CPU     %.3f s in all, beside %.3f s on CPU, inside the syscalls%n",
            offCpuNanos / 1e9, cpuNanos / 1e9);
        printProblems(out, "unreadable", unreadable);
        printProblems(out, "vanished", vanished);
        printProblems(out, "error", errors);
    }

    private void printTable(final PrintStream out, final boolean service)
    {
        out.printf("  %-8s %9s", "syscall", "count");
        for (final String name : OpStats.PERCENTILE_NAMES)
        {
            out.printf(" %9s", name);
        }
        out.printf(" %10s%s%n", "max", service ? "  errors  blocked" : "");
        for (final OpStats stats : ops.values())
        {
            final Histogram histogram = service ? stats.service : stats.queue;
            out.printf("  %-8s %,9d", stats.name, stats.count);
            for (final double percentile : OpStats.PERCENTILES)
            {
                out.print(micros(histogram.getTotalCount() == 0 ? -1 : histogram.getValueAtPercentile(percentile), 9));
            }
            out.print(micros(histogram.getTotalCount() == 0 ? -1 : histogram.getMaxValue(), 10));
            if (service)
            {
                out.printf(" %7d %7s", stats.errors, percent(stats.blocked, stats.blockedMeasured));
            }
            out.println();
        }
    }

    /**
     * @return {@code "12.5%"}; {@code "<0.1%"} rather than a 0.0% that hides a few; {@code "-"} of nothing.
     */
    private static String percent(final long part, final long whole)
    {
        if (whole == 0)
        {
            return "-";
        }
        final double percent = 100.0 * part / whole;
        return part > 0 && percent < 0.1 ? "<0.1%" : String.format("%.1f%%", percent);
    }

    private static String micros(final long nanos, final int width)
    {
        return nanos < 0 ? String.format(" %" + width + "s", "-") : String.format(" %," + width + ".1f", nanos / 1e3);
    }

    private static void printProblems(final PrintStream out, final String what, final List<FileTree.Problem> problems)
    {
        for (final FileTree.Problem problem : problems)
        {
            out.printf("%-11s %s (%s: %s)%n", what, problem.path, problem.op, problem.error);
        }
    }

    String toJson(final List<Path> paths, final Tracer.Settings settings)
    {
        final Json json = new Json().beginObject();
        json.name("paths").beginArray();
        paths.forEach(path -> json.value(path.toString()));
        json.endArray()
            .field("files", filesDone)
            .field("files_read", filesRead)
            .field("directories", directories)
            .field("skipped", skipped)
            .field("bytes", bytes)
            .field("seconds", seconds())
            .field("bytes_per_second", bytes / Math.max(seconds(), 1e-9))
            .field("files_per_second", filesDone / Math.max(seconds(), 1e-9));
        json.name("settings").beginObject()
            .field("chunk", settings.chunk)
            .field("depth", settings.depth)
            .field("files_in_flight", settings.filesInFlight)
            .field("workers", workers)
            .field("evict", settings.evict)
            .endObject();
        json.name("ops").beginObject();
        for (final OpStats stats : ops.values())
        {
            stats.toJson(json.name(stats.name));
        }
        json.endObject();
        json.name("cache").beginObject()
            .field("hits", cacheHits)
            .field("misses", cacheMisses)
            .field("partial", cachePartial)
            .field("unsupported_by_filesystem", cacheUnsupported)
            .field("unmeasured", cacheUnmeasured)
            .field("hit_ratio", hitRatio())
            .endObject();
        json.field("immediate", immediate);
        json.name("blocked").beginObject()
            .field("ops", blocked())
            .field("measured", blockedMeasured())
            .field("ratio", (double)blocked() / blockedMeasured())
            .endObject();
        json.field("cpu_ns", cpuNanos).field("off_cpu_ns", offCpuNanos);
        problemsJson(json, "unreadable", unreadable);
        problemsJson(json, "vanished", vanished);
        problemsJson(json, "errors", errors);
        return json.endObject().toString();
    }

    private static void problemsJson(final Json json, final String name, final List<FileTree.Problem> problems)
    {
        json.name(name).beginArray();
        for (final FileTree.Problem problem : problems)
        {
            json.beginObject()
                .field("path", problem.path.toString())
                .field("op", problem.op)
                .field("error", problem.error)
                .endObject();
        }
        json.endArray();
    }
}
