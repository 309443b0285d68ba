package io.syslet.tests.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.syslet.ring.Ring;
import io.syslet.ring.RingRegion;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks that docs/examples/ring_reader.py, written from docs/ABI.md alone, reads exactly what the
 * Java ring writes: record positions, types and payloads, with skip entries and padding (aborted
 * reservations) walked over, across the end of the data area and across the 2^32 position wrap.
 */
class PythonReaderTest {

    private static final int CAPACITY = 4096;
    private static final int INITIAL_POSITION = 0xFFFF_F000;
    private static final int MAX_PAYLOAD = CAPACITY / 8 - 16;
    /** Records the lapped observer prints before the producer stops. */
    private static final int LAPPED_RECORDS = 300;

    /** One record the reader must report, formatted as the script prints it (json.dumps). */
    private record Expected(int position, int type, byte[] payload) {
        String json() {
            return "{\"position\": " + Integer.toUnsignedString(position) + ", \"type\": " + type
                    + ", \"payload_hex\": \"" + HexFormat.of().formatHex(payload) + "\"}";
        }
    }

    private record Result(int exitCode, List<String> stdout, String stderr) {}

    @TempDir
    Path dir;

    @Test
    void observerSeesExactlyTheOfferedRecords() throws Exception {
        final Path file = dir.resolve("ring");
        try (RingRegion region = RingRegion.createFile(file, CAPACITY, INITIAL_POSITION)) {
            final Ring ring = new Ring(region);
            final List<Expected> expected = fill(ring);
            region.force();

            final Result observed = runReader(file.toString());
            assertEquals(0, observed.exitCode(), observed.stderr());
            assertEquals(jsonLines(expected), observed.stdout(), "observer output");
            // Observing moves nothing: a second look sees the same records.
            assertEquals(jsonLines(expected), runReader(file.toString()).stdout(), "second observer run");
            assertFalse(ring.headPosition() == ring.tailPosition(), "the observer must not move head");
        }
    }

    @Test
    void consumeAdvancesHeadSoASecondRunSeesNothing() throws Exception {
        final Path file = dir.resolve("ring");
        try (RingRegion region = RingRegion.createFile(file, CAPACITY, INITIAL_POSITION)) {
            final Ring ring = new Ring(region);
            final List<Expected> expected = fill(ring);
            region.force();

            final Result first = runReader("--consume", file.toString());
            assertEquals(0, first.exitCode(), first.stderr());
            assertEquals(jsonLines(expected), first.stdout(), "consumer output");

            final Result second = runReader("--consume", file.toString());
            assertEquals(0, second.exitCode(), second.stderr());
            assertEquals(List.of(), second.stdout(), "a second consumer run must see nothing");

            // The file is mapped shared: the Java side sees the head that Python stored.
            assertEquals(ring.tailPosition(), ring.headPosition(), "head == tail after --consume");
            assertEquals(0, ring.poll(new UnsafeBuffer(new byte[CAPACITY]), 0), "Java sees an empty ring");
        }
    }

    /**
     * An observer that producers lap (ABI.md section 9): Java offers and consumes records on the ring file in
     * bursts of up to one and a half laps while the Python observer walks it, far slower, so what it has not read
     * yet is written over again and again. It must say so on stderr and go on from head, and print only records
     * that were written whole: each payload carries its sequence number, with the length, type and bytes that
     * follow from it, which a copy torn by an overwrite (bytes of two records) does not reproduce, and one run
     * prints them in order. An observer ends when it reaches tail or a reservation not yet committed, which a
     * producer mid-offer can show it; so observers run one after another, each while the producer runs, until
     * they have printed {@value #LAPPED_RECORDS} records and been lapped at least once.
     */
    @Test
    void observerThatProducersLapSaysSoAndPrintsOnlyWholeRecords() throws Exception {
        final Path file = dir.resolve("ring");
        try (RingRegion region = RingRegion.createFile(file, CAPACITY, INITIAL_POSITION)) {
            final Ring ring = new Ring(region);
            final UnsafeBuffer dst = new UnsafeBuffer(new byte[CAPACITY]);
            final SplittableRandom random = new SplittableRandom(11);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            long sequence = 0;
            int printed = 0;
            int lapped = 0;
            int observers = 0;
            while ((printed < LAPPED_RECORDS || lapped == 0) && System.nanoTime() - deadline < 0) {
                // Something to read from the start, so that the observer does not find the ring empty.
                while (ring.occupancy() < CAPACITY / 2) {
                    offerNumbered(ring, sequence++);
                }
                final Process process = startReader(file.toString());
                observers++;
                // Both streams are read as they come: the observer reports each lap on stderr, and a full pipe
                // would stop it.
                final List<String> lines = Collections.synchronizedList(new ArrayList<>());
                final List<String> laps = Collections.synchronizedList(new ArrayList<>());
                final Thread stdout = drain(process.getInputStream(), lines);
                final Thread stderr = drain(process.getErrorStream(), laps);
                // Until this run has done its part: enough records, and a lap if none came yet (an observer
                // that has printed enough but never been lapped must still be lapped).
                while (process.isAlive() && (printed + lines.size() < LAPPED_RECORDS || lapped + laps.size() == 0)
                        && System.nanoTime() - deadline < 0) {
                    for (int burst = 1 + random.nextInt(60); burst > 0; burst--) {
                        offerNumbered(ring, sequence++);
                        if (ring.occupancy() > CAPACITY / 2) {
                            ring.read(dst, 0, CAPACITY / 4);
                        }
                    }
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
                }
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    fail("ring_reader.py did not end within 60 s of the producer stopping");
                }
                stdout.join(TimeUnit.SECONDS.toMillis(10));
                stderr.join(TimeUnit.SECONDS.toMillis(10));
                assertEquals(0, process.exitValue(), String.join("\n", laps));
                for (final String lap : List.copyOf(laps)) {
                    assertTrue(lap.startsWith("ring_reader: lapped at position "), "unexpected on stderr: " + lap);
                }
                checkNumbered(List.copyOf(lines), sequence);
                printed += lines.size();
                lapped += laps.size();
            }
            final String summary = observers + " observers printed " + printed + " records and were lapped " + lapped +
                    " times while " + sequence + " were offered";
            System.out.println("lapped observer: " + summary);
            assertTrue(printed >= LAPPED_RECORDS && lapped > 0, summary + " (60 s at most)");
        }
    }

    /** Lines of one observer run: numbered records, whole, in order, each one offered before {@code next}. */
    private static void checkNumbered(final List<String> lines, final long next) {
        final Pattern json = Pattern.compile(
                "\\{\"position\": (\\d+), \"type\": (-?\\d+), \"payload_hex\": \"([0-9a-f]*)\"}");
        long last = -1;
        for (final String line : lines) {
            final Matcher match = json.matcher(line);
            assertTrue(match.matches(), "not a record line: " + line);
            final byte[] payload = HexFormat.of().parseHex(match.group(3));
            assertTrue(payload.length >= Long.BYTES, "payload too short to be numbered: " + line);
            final long number = new UnsafeBuffer(payload).getLong(0);
            assertTrue(number > last && number < next, "record " + number + " after " + last + ": " + line);
            assertEquals(numberedType(number), Integer.parseInt(match.group(2)), line);
            assertEquals(HexFormat.of().formatHex(numberedPayload(number).byteArray()), match.group(3),
                    "a record printed torn: " + line);
            last = number;
        }
    }

    @Test
    void headerModePrintsTheHeaderFields() throws Exception {
        final Path file = dir.resolve("ring");
        try (RingRegion region = RingRegion.createFile(file, CAPACITY, INITIAL_POSITION)) {
            region.force();
            final Result header = runReader("--header", file.toString());
            assertEquals(0, header.exitCode(), header.stderr());
            assertEquals(1, header.stdout().size(), header.stdout().toString());
            final String json = header.stdout().get(0);
            assertTrue(json.contains("\"capacity\": 4096"), json);
            assertTrue(json.contains("\"max_record_length\": 512"), json);
            assertTrue(json.contains("\"initial_position\": " + Integer.toUnsignedString(INITIAL_POSITION)), json);
            assertTrue(json.contains("\"head\": " + Integer.toUnsignedString(INITIAL_POSITION)), json);
        }
    }

    @Test
    void wrongMagicIsRefusedNamingTheField() throws Exception {
        final Path file = corruptedCopy(0, 0x1234_5678);
        final Result result = runReader(file.toString());
        assertEquals(2, result.exitCode(), "exit code for a wrong magic; stderr: " + result.stderr());
        assertEquals(List.of(), result.stdout());
        assertTrue(result.stderr().contains("magic"), result.stderr());
        assertEquals(1, result.stderr().strip().lines().count(), "one-line message: " + result.stderr());
    }

    @Test
    void unknownIncompatFeatureIsRefusedNamingTheField() throws Exception {
        final Path file = corruptedCopy(24, 0x1);
        final Result result = runReader(file.toString());
        assertEquals(2, result.exitCode(), "exit code for an unknown incompat bit; stderr: " + result.stderr());
        assertEquals(List.of(), result.stdout());
        assertTrue(result.stderr().contains("incompat_features"), result.stderr());
        assertEquals(1, result.stderr().strip().lines().count(), "one-line message: " + result.stderr());
    }

    /**
     * Warms the ring up so that head sits at data offset 2560 (position 0xFFFFFA00), then offers and
     * aborts records until the ring is exactly full: the run crosses the end of the data area (one
     * skip entry) and position 2^32, and holds two padding records. Returns what a reader must report.
     */
    private static List<Expected> fill(final Ring ring) {
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[CAPACITY]);
        for (int i = 0; i < 5; i++) {
            assertTrue(ring.offer(1, payload(MAX_PAYLOAD, 100 + i), 0, MAX_PAYLOAD));
            assertEquals(MAX_PAYLOAD + 16, ring.poll(dst, 0));
        }
        assertEquals(INITIAL_POSITION + 2560, ring.headPosition());
        assertEquals(ring.headPosition(), ring.tailPosition());

        // Payload lengths; the entries at the indexes in aborted are reserved with tryReserve, then aborted.
        final int[] lengths = {33, 0, 1, 7, 8, 9, 100, 250, 300, MAX_PAYLOAD, 200 /* skip before it */,
                MAX_PAYLOAD, 3, 0, MAX_PAYLOAD, 64, MAX_PAYLOAD, 255, 300, 80 /* exactly fills the ring */};
        final Set<Integer> aborted = Set.of(0, 13);
        final int[] types = {1, 2, 7, 42, 1000, Integer.MAX_VALUE, 0x5A5A};
        final List<Expected> expected = new ArrayList<>();
        int skips = 0;
        int aborts = 0;
        for (int i = 0; i < lengths.length; i++) {
            final int tailBefore = ring.tailPosition();
            final boolean abort = aborted.contains(i);
            final int length = lengths[i];
            final int type = types[i % types.length];
            final UnsafeBuffer src = payload(length, i);
            if (abort) {
                final int index = ring.tryReserve(type, length);
                assertTrue(index >= 0, "tryReserve answered " + index);
                ring.abort(index);
                aborts++;
            } else {
                assertTrue(ring.offer(type, src, 0, length));
            }
            assertFalse(ring.isOverflowPending(), "record " + i + " went to the overflow list");
            final int position = ring.tailPosition() - align8(16 + length);
            if (position != tailBefore) {
                skips++;
                assertEquals(0, position & (CAPACITY - 1), "a skip entry reaches the end of the data area");
            }
            if (!abort) {
                expected.add(new Expected(position, type, src.byteArray().clone()));
            }
        }
        assertEquals(1, skips, "the run must contain exactly one skip entry");
        assertEquals(2, aborts);
        assertEquals(CAPACITY, ring.tailPosition() - ring.headPosition(), "the ring must be exactly full");
        assertTrue(Integer.compareUnsigned(expected.get(0).position(), expected.get(expected.size() - 1).position()) > 0,
                "positions must cross 2^32");
        return expected;
    }

    private Path corruptedCopy(final long offset, final int littleEndianValue) throws IOException {
        final Path file = dir.resolve("ring-" + offset);
        try (RingRegion region = RingRegion.createFile(file, CAPACITY, INITIAL_POSITION)) {
            final Ring ring = new Ring(region);
            assertTrue(ring.offer(3, payload(10, 1), 0, 10));
            region.force();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            raf.writeInt(Integer.reverseBytes(littleEndianValue));
        }
        return file;
    }

    private static void offerNumbered(final Ring ring, final long number) {
        final UnsafeBuffer payload = numberedPayload(number);
        assertTrue(ring.offer(numberedType(number), payload, 0, payload.capacity()), "went to the overflow list");
    }

    /** Record {@code number}: the number, then bytes that follow from it; 8 to 207 bytes long. */
    private static UnsafeBuffer numberedPayload(final long number) {
        final UnsafeBuffer payload = payload(Long.BYTES + (int) (number % 200), (int) number);
        payload.putLong(0, number);
        return payload;
    }

    private static int numberedType(final long number) {
        return 1 + (int) (number % 5);
    }

    private static Result runReader(final String... args) throws IOException, InterruptedException {
        final Process process = startReader(args);
        // The outputs are small (a few kB), far below the pipe buffers, so reading them after exit is safe.
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("ring_reader.py " + String.join(" ", args) + " did not finish in 60 s");
        }
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        final String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(process.exitValue(), out.lines().toList(), err);
    }

    private static Process startReader(final String... args) {
        final List<String> command = new ArrayList<>(List.of("python3", script().toString()));
        command.addAll(List.of(args));
        final Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            return fail("python3 is required to run " + script() + " (it is part of the CI machine): " + e, e);
        }
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return process;
    }

    /** A started daemon thread that adds each line of {@code stream} to {@code lines}. */
    private static Thread drain(final InputStream stream, final List<String> lines) {
        final Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                reader.lines().forEach(lines::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "ring-reader-output");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** Surefire runs in the module directory (tests/); the script lives under the repository root. */
    private static Path script() {
        final Path cwd = Path.of("").toAbsolutePath();
        for (Path root = cwd; root != null; root = root.getParent()) {
            final Path candidate = root.resolve("docs/examples/ring_reader.py");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return fail("docs/examples/ring_reader.py not found above " + cwd);
    }

    private static List<String> jsonLines(final List<Expected> records) {
        return records.stream().map(Expected::json).toList();
    }

    private static UnsafeBuffer payload(final int length, final int seed) {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (seed * 31 + i * 7 + (i >>> 3));
        }
        return new UnsafeBuffer(bytes);
    }

    private static int align8(final int n) {
        return (n + 7) & ~7;
    }
}
