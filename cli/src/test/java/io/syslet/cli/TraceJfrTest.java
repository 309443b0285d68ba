package io.syslet.cli;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.syslet.cli.MiniJson.longAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceJfrTest
{
    private static final Set<String> CACHE_OUTCOMES = Set.of("HIT", "MISS", "PARTIAL", "UNSUPPORTED_BY_FILESYSTEM");

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
    void withJfrEveryOpIsAnEventWithItsLatencySplitAndItsBytes() throws Exception
    {
        final List<RecordedEvent> events;
        final CliRun run;
        try (Recording recording = new Recording())
        {
            recording.enable(OpEvent.NAME);
            recording.start();
            run = CliRun.run("trace", tree.root.toString(), "--jfr", "--json", "--chunk", "64k");
            recording.stop();
            events = read(recording);
        }
        assertEquals(0, run.exitCode, run.toString());
        final Map<String, Object> summary = MiniJson.object(run.out.strip());
        final Map<String, List<RecordedEvent>> byOp = events.stream().collect(Collectors.groupingBy(e -> e.getString("op")));
        assertEquals(Set.of("statx", "openat", "pread", "close"), byOp.keySet());
        for (final String op : byOp.keySet())
        {
            assertEquals(longAt(summary, "ops", op, "count"), byOp.get(op).size(), "an event per " + op);
        }
        final Map<Path, Long> bytesByFile = new HashMap<>();
        for (final RecordedEvent event : events)
        {
            final long queue = event.getLong("queueTime");
            final long service = event.getLong("serviceTime");
            final long total = event.getLong("totalTime");
            assertTrue(queue >= 0 && service >= 0 && queue + service <= total, "queue + service <= total: " + event);
            final Path path = Path.of(event.getString("path"));
            assertTrue(tree.files.containsKey(path), "a file of the tree: " + event);
            assertTrue(event.getLong("res") >= 0, "nothing failed: " + event);
            if (event.getString("op").equals("pread"))
            {
                assertTrue(CACHE_OUTCOMES.contains(event.getString("cache")), event.toString());
                assertEquals(event.getLong("res"), event.getLong("bytes"), event.toString());
                bytesByFile.merge(path, event.getLong("bytes"), Long::sum);
            }
            else
            {
                assertEquals(null, event.getString("cache"), "no cache answer for " + event);
                assertEquals(0, event.getLong("bytes"), event.toString());
            }
        }
        tree.files.forEach((file, size) -> assertEquals(size, bytesByFile.getOrDefault(file, 0L), file.toString()));
    }

    @Test
    void withoutJfrNoEventIsCommitted() throws Exception
    {
        final List<RecordedEvent> events;
        final CliRun run;
        try (Recording recording = new Recording())
        {
            recording.enable(OpEvent.NAME);
            recording.start();
            run = CliRun.run("trace", tree.root.toString(), "--json");
            recording.stop();
            events = read(recording);
        }
        assertEquals(0, run.exitCode, run.toString());
        assertTrue(longAt(MiniJson.object(run.out.strip()), "ops", "pread", "count") > 0);
        assertEquals(List.of(), events, "off by default");
    }

    private List<RecordedEvent> read(final Recording recording) throws IOException
    {
        final Path file = tempDir.resolve("trace-" + recording.getId() + ".jfr");
        recording.dump(file);
        return RecordingFile.readAllEvents(file).stream()
            .filter(event -> event.getEventType().getName().equals(OpEvent.NAME))
            .collect(Collectors.toList());
    }
}
