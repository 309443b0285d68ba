package io.syslet.cli;

import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.syslet.cli.MiniJson.at;
import static io.syslet.cli.MiniJson.longAt;
import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * File names are bytes to the kernel. trace and probe must reach a file by its exact bytes, whether or not
 * they are valid in the charset the JDK decodes names with (UTF-8 here, US-ASCII under LANG=C).
 */
class FileNamesTest
{
    private static final int O_CREAT = 0100;
    private static final int O_WRONLY = 01;

    @TempDir
    Path dir;

    @Test
    void traceReadsAFileWhoseNameIsNotValidUtf8()
    {
        final byte[] name = {'b', 'a', 'd', (byte)0xFF, (byte)0xFE, 'n', 'a', 'm', 'e'};
        createRaw(name, 3);
        final Path listed = onlyFile();
        assertTrue(listed.toString().contains("\uFFFD"), "the JDK cannot decode it: " + listed);
        assertArrayEquals(concat(dir.toString().getBytes(StandardCharsets.UTF_8), "/".getBytes(StandardCharsets.UTF_8), name),
            NativePaths.bytes(listed), "yet the path still leads to the bytes the kernel knows");

        final CliRun run = CliRun.run("trace", dir.toString(), "--per-file", "--json");
        assertEquals(0, run.exitCode, run.toString());
        final List<Map<String, Object>> lines = run.jsonLines();
        final Map<String, Object> file = lines.get(0);
        assertEquals(3, longAt(file, "bytes"), "read, not reported vanished: " + file);
        assertEquals(0, longAt(file, "errors"), file.toString());
        assertEquals(1, longAt(lines.get(lines.size() - 1), "files_read"));
    }

    @Test
    void underLangCEveryNonAsciiNameIsReadAndTheJsonIsAscii() throws Exception
    {
        createRaw("caf\u00e9.txt".getBytes(StandardCharsets.UTF_8), 5);
        createRaw("\u65e5\u672c.txt".getBytes(StandardCharsets.UTF_8), 7);
        final CliRun run = CliRun.inChildJvm(Map.of("LANG", "C", "LC_ALL", "C"), List.of("-Xmx64m"),
            "trace", dir.toString(), "--per-file", "--json");
        assertEquals(0, run.exitCode, run.toString());
        assertTrue(run.out.chars().allMatch(c -> c < 0x80), "JSON is ASCII whatever the locale:\n" + run.out);
        final List<Map<String, Object>> lines = run.jsonLines();
        assertEquals(3, lines.size(), run.out);
        final Map<Long, Long> errorsBySize = lines.subList(0, 2).stream()
            .collect(Collectors.toMap(file -> longAt(file, "bytes"), file -> longAt(file, "errors")));
        assertEquals(Map.of(5L, 0L, 7L, 0L), errorsBySize, "both read in full:\n" + run.out);
        assertEquals(12, longAt(lines.get(2), "bytes"));
    }

    @Test
    void jsonKeepsAValidNameWhole()
    {
        createRaw("caf\u00e9 \"quoted\"\n.txt".getBytes(StandardCharsets.UTF_8), 2);
        final CliRun run = CliRun.run("trace", dir.toString(), "--per-file", "--json");
        assertEquals(0, run.exitCode, run.toString());
        assertTrue(run.out.contains("caf\\u00e9 \\\"quoted\\\"\\n.txt"), run.out);
        assertEquals(dir.resolve("caf\u00e9 \"quoted\"\n.txt").toString(), at(run.jsonLines().get(0), "path"));
    }

    @Test
    void probeReadsAFileWhoseNameIsNotValidUtf8()
    {
        final byte[] name = {'p', (byte)0xC3, 'x'};
        createRaw(name, 10);
        final CliRun run = CliRun.run("probe", "--json", dir.toString());
        assertEquals(0, run.exitCode, run.toString());
        @SuppressWarnings("unchecked")
        final Map<String, Object> answer =
            ((List<Map<String, Object>>)at(MiniJson.object(run.out.strip()), "rwf_nowait")).get(0);
        assertEquals(false, at(answer, "created"), "the existing file was read: " + answer);
        assertTrue(!String.valueOf(at(answer, "result")).contains("ENOENT"), answer.toString());
    }

    private Path onlyFile()
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.collect(Collectors.toList()).get(0);
        }
        catch (final java.io.IOException e)
        {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Creates dir/name, with the name's exact bytes, holding {@code size} bytes. */
    private void createRaw(final byte[] name, final int size)
    {
        final byte[] path = concat(dir.toString().getBytes(StandardCharsets.UTF_8), "/".getBytes(StandardCharsets.UTF_8),
            name, new byte[] {0});
        final UnsafeBuffer memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        memory.putBytes(0, path);
        final int fd = LIBC.openat(Natives.AT_FDCWD, memory.addressOffset(), O_CREAT | O_WRONLY | Natives.O_CLOEXEC, 0644);
        assertTrue(fd >= 0, "openat: " + Natives.lastError());
        assertEquals(size, LIBC.write(fd, memory.addressOffset() + 2048, size));
        assertEquals(0, LIBC.close(fd));
    }

    private static byte[] concat(final byte[]... parts)
    {
        int length = 0;
        for (final byte[] part : parts)
        {
            length += part.length;
        }
        final byte[] all = new byte[length];
        int at = 0;
        for (final byte[] part : parts)
        {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }
}
