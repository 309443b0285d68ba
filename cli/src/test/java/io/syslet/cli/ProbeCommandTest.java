package io.syslet.cli;

import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.syslet.cli.MiniJson.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProbeCommandTest
{
    @TempDir
    Path dir;

    @Test
    void listsOpsAttributesAndTheInterruptMechanism()
    {
        final CliRun run = CliRun.run("probe", "--json", dir.toString());
        assertEquals(0, run.exitCode, run.toString());
        final Map<String, Object> probe = MiniJson.object(run.out.strip());
        final List<?> ops = (List<?>)at(probe, "ops");
        assertTrue(ops.containsAll(List.of("nop", "pread", "openat", "close", "statx", "nanosleep", "callable")), ops.toString());
        assertEquals(List.of("latency", "cache", "cpu", "blocked", "bytes", "worker_tid"), at(probe, "attributes"));
        // What the library's own probe says (Linux with real-time signals: true), not just a Boolean.
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            assertEquals(ctx.probe().canInterruptRunningOps(), at(probe, "interrupt", "running_ops"));
            assertEquals(ctx.probe().interruptDetail(), at(probe, "interrupt", "detail"));
        }
        assertTrue(((String)at(probe, "interrupt", "detail")).contains("signal"), probe.toString());
    }

    /**
     * The direct RWF_NOWAIT read and the engine's cache attribute are independent answers: they must agree.
     * On a disk filesystem both say supported; on tmpfs both say unsupported.
     */
    @Test
    void rwfNowaitIsSupportedOnDiskAndNotOnTmpfsAndTheEngineAgrees() throws IOException
    {
        final String diskType = Files.getFileStore(dir).type();
        final Path shm = Path.of("/dev/shm");
        final boolean shmIsTmpfs = Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type());
        Assumptions.assumeTrue(!"tmpfs".equals(diskType) && shmIsTmpfs,
            "needs the temp dir on a disk filesystem (it is " + diskType + ") and /dev/shm on tmpfs");
        Files.write(dir.resolve("some.bin"), new byte[8192]);
        final CliRun run = CliRun.run("probe", "--json", dir.toString(), shm.toString());
        assertEquals(0, run.exitCode, run.toString());
        @SuppressWarnings("unchecked")
        final List<Map<String, Object>> answers = (List<Map<String, Object>>)at(MiniJson.object(run.out.strip()), "rwf_nowait");
        assertEquals(2, answers.size());

        final Map<String, Object> disk = answers.get(0);
        assertEquals(dir.toString(), at(disk, "path"));
        assertEquals(diskType, at(disk, "filesystem"));
        assertEquals(dir.resolve("some.bin").toString(), at(disk, "file"), "an existing file is read, none created");
        assertEquals(false, at(disk, "created"));
        assertEquals("supported", at(disk, "verdict"), disk.toString());
        assertTrue(List.of("HIT", "MISS", "PARTIAL").contains(at(disk, "cache_attribute")), disk.toString());

        final Map<String, Object> tmpfs = answers.get(1);
        assertEquals("tmpfs", at(tmpfs, "filesystem"));
        assertEquals("unsupported", at(tmpfs, "verdict"), tmpfs.toString());
        assertTrue(((String)at(tmpfs, "result")).startsWith("EOPNOTSUPP"), tmpfs.toString());
        assertEquals("UNSUPPORTED_BY_FILESYSTEM", at(tmpfs, "cache_attribute"), tmpfs.toString());
        if ((Boolean)at(tmpfs, "created"))
        {
            assertTrue(!Files.exists(Path.of((String)at(tmpfs, "file"))), "the file probe made is gone");
        }
    }

    @Test
    void theTextFormSaysTheSame()
    {
        final CliRun run = CliRun.run("probe", dir.toString());
        assertEquals(0, run.exitCode, run.toString());
        final List<String> lines = run.out.lines().collect(Collectors.toList());
        assertTrue(lines.get(0).startsWith("ops          nop raw pread "), run.out);
        assertTrue(lines.get(1).startsWith("attributes   latency cache cpu blocked bytes worker_tid"), run.out);
        assertTrue(lines.get(2).startsWith("interrupt    "), run.out);
        assertEquals(1, Stream.of(run.out.split("\n")).filter(line -> line.startsWith("RWF_NOWAIT   " + dir + " (")).count(),
            run.out);
    }

    @Test
    void aPathThatDoesNotExistIsAUsageError()
    {
        final CliRun run = CliRun.run("probe", dir.resolve("nothing").toString());
        assertEquals(2, run.exitCode, run.toString());
        assertEquals("syslet: " + dir.resolve("nothing") + ": no such file or directory\n", run.err);
    }

    @Test
    void aLinkToADirectoryIsProbedOnTheDirectoryItNames() throws IOException
    {
        final Path real = Files.createDirectory(dir.resolve("real"));
        Files.write(real.resolve("data.bin"), new byte[100]);
        final Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        final CliRun run = CliRun.run("probe", "--json", link.toString());
        assertEquals(0, run.exitCode, run.toString());
        @SuppressWarnings("unchecked")
        final Map<String, Object> answer =
            ((List<Map<String, Object>>)at(MiniJson.object(run.out.strip()), "rwf_nowait")).get(0);
        assertEquals(real.toRealPath().toString(), at(answer, "path"));
        assertEquals(real.toRealPath().resolve("data.bin").toString(), at(answer, "file"), "found by walking the target");
        assertEquals(false, at(answer, "created"), "nothing written into the link's target");
    }

    @Test
    void anEmptyFileIsNoEvidenceEitherWay() throws IOException
    {
        final Path empty = Files.createFile(dir.resolve("empty"));
        final CliRun run = CliRun.run("probe", "--json", empty.toString());
        assertEquals(0, run.exitCode, run.toString());
        @SuppressWarnings("unchecked")
        final Map<String, Object> answer =
            ((List<Map<String, Object>>)at(MiniJson.object(run.out.strip()), "rwf_nowait")).get(0);
        assertEquals("unknown", at(answer, "verdict"), answer.toString());
        assertTrue(((String)at(answer, "result")).contains("empty"), answer.toString());
    }
}
