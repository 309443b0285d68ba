package io.syslet.cli;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.Probe;
import io.syslet.abi.SetupParams;
import io.syslet.attributes.AttributeCursor;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.AttributeStatus;
import io.syslet.attributes.CacheOutcome;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;

import static io.syslet.pool.natives.Natives.LIBC;
import static io.syslet.pool.natives.Natives.RWF_NOWAIT;

/**
 * {@code syslet probe}: what the engine supports here, and whether each filesystem answers
 * {@code preadv2(RWF_NOWAIT)}, which the immediate path and the cache attribute depend on.
 */
@Command(name = "probe", mixinStandardHelpOptions = true,
    description = {
        "Lists the ops and attributes the engine supports, whether running ops can be interrupted (and how), " +
            "and for each PATH (default: java.home and /dev/shm) whether its filesystem supports " +
            "preadv2(RWF_NOWAIT), with which the engine tells page-cache hits from misses."})
final class ProbeCommand implements Callable<Integer>
{
    private static final int EOPNOTSUPP = 95;
    private static final int PATH_OFFSET = 0;
    private static final int IOVEC_OFFSET = Tracer.PATH_BYTES;
    private static final int DATA_OFFSET = IOVEC_OFFSET + 16;
    private static final int EVENT_OFFSET = DATA_OFFSET + 64;
    /** Enough for a path, an iovec, a byte to read and an event with the cache attribute. */
    private static final int SCRATCH_BYTES = 8192;

    @Parameters(paramLabel = "PATH", arity = "0..*",
        description = "directories or files whose filesystem to test (default: java.home and /dev/shm)")
    List<Path> paths = new ArrayList<>();

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    /** What a 1-byte RWF_NOWAIT read of one file said. */
    static final class NowaitAnswer
    {
        final Path path;
        String filesystem;
        Path file;
        boolean created;
        /** "supported", "unsupported" or "unknown". */
        String verdict;
        /** What the read returned: {@code "1 byte"}, {@code "EAGAIN"}, ... */
        String result;
        /** The engine's own cache attribute for a 1-byte pread of that file. */
        String cacheAttribute;

        NowaitAnswer(final Path path)
        {
            this.path = path;
        }
    }

    @Override
    public Integer call()
    {
        final List<Path> targets = new ArrayList<>();
        if (paths.isEmpty())
        {
            targets.add(FileTree.realPath(Path.of(System.getProperty("java.home"))));
            final Path shm = Path.of("/dev/shm");
            if (Files.isDirectory(shm))
            {
                targets.add(FileTree.realPath(shm));
            }
        }
        else
        {
            for (final Path path : paths)
            {
                targets.add(FileTree.realPath(path)); // as trace does: a link is probed where it leads
            }
        }
        final UnsafeBuffer scratch = new UnsafeBuffer(BufferUtil.allocateDirectAligned(SCRATCH_BYTES, 4096));
        try (SysletContext ctx = SysletContext.setup(new SetupParams().boundedWorkers(1).unboundedWorkers(1)))
        {
            final int bufferIndex = ctx.registerBuffer(scratch);
            final Probe probe = ctx.probe();
            final List<NowaitAnswer> answers = new ArrayList<>();
            for (final Path target : targets)
            {
                answers.add(testNowait(ctx, bufferIndex, scratch, target));
            }
            print(System.out, probe, answers);
        }
        return 0;
    }

    private void print(final PrintStream out, final Probe probe, final List<NowaitAnswer> answers)
    {
        if (json)
        {
            final Json json = new Json().beginObject();
            json.name("ops").beginArray();
            probe.supportedOps().forEach(json::value);
            json.endArray().name("attributes").beginArray();
            probe.supportedAttributes().forEach(json::value);
            json.endArray();
            json.name("interrupt").beginObject()
                .field("running_ops", probe.canInterruptRunningOps())
                .field("detail", probe.interruptDetail())
                .endObject();
            json.name("rwf_nowait").beginArray();
            for (final NowaitAnswer answer : answers)
            {
                json.beginObject()
                    .field("path", answer.path.toString())
                    .field("filesystem", answer.filesystem)
                    .field("file", answer.file == null ? null : answer.file.toString())
                    .field("created", answer.created)
                    .field("verdict", answer.verdict)
                    .field("result", answer.result)
                    .field("cache_attribute", answer.cacheAttribute)
                    .endObject();
            }
            json.endArray();
            out.println(json.endObject());
            return;
        }
        out.printf("ops          %s (%d; any other opcode completes with -ENOSYS)%n",
            String.join(" ", probe.supportedOps()), probe.supportedOps().size());
        out.printf("attributes   %s%n", String.join(" ", probe.supportedAttributes()));
        out.printf("interrupt    %s: %s%n", probe.canInterruptRunningOps() ?
            "running ops that sleep interruptibly (pipes, sockets, sleeps, locks, waits) can be cancelled" :
            "running ops cannot be interrupted; cancel answers -EALREADY", probe.interruptDetail());
        out.println("             a running disk read, statx or getaddrinfo cannot be interrupted (cancel answers " +
            "-EALREADY); callables get Thread.interrupt()");
        for (final NowaitAnswer answer : answers)
        {
            out.printf("RWF_NOWAIT   %s (%s): %s, %s%s%n", answer.path, answer.filesystem, answer.verdict, answer.result,
                answer.file == null ? "" : "; tested on " + answer.file + (answer.created ? " (created, then deleted)" : "") +
                    "; engine cache attribute: " + answer.cacheAttribute);
        }
    }

    /**
     * Opens a regular file on the path's filesystem and reads its first byte with RWF_NOWAIT, directly
     * and through the engine.
     */
    private static NowaitAnswer testNowait(final SysletContext ctx, final int bufferIndex, final UnsafeBuffer scratch,
        final Path target)
    {
        final NowaitAnswer answer = new NowaitAnswer(target);
        try
        {
            answer.filesystem = Files.getFileStore(target).type();
        }
        catch (final IOException e)
        {
            answer.filesystem = "unknown filesystem";
        }
        if (Files.isRegularFile(target) && sizeOf(target) == 0)
        {
            answer.verdict = "unknown";
            answer.result = "the file is empty: a read of 0 bytes cannot tell";
            return answer;
        }
        Path file = Files.isRegularFile(target) ? target : firstReadableFile(target);
        if (file == null && Files.isDirectory(target) && Files.isWritable(target))
        {
            try
            {
                file = Files.createTempFile(target, "syslet-probe-", ".tmp");
                Files.write(file, new byte[]{1});
                answer.created = true;
            }
            catch (final IOException e)
            {
                file = null;
            }
        }
        if (file == null)
        {
            answer.verdict = "unknown";
            answer.result = "no regular file to read there, and none could be created";
            return answer;
        }
        answer.file = file;
        try
        {
            readFirstByte(ctx, bufferIndex, scratch, answer);
        }
        finally
        {
            if (answer.created)
            {
                try
                {
                    Files.deleteIfExists(file);
                }
                catch (final IOException e)
                {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return answer;
    }

    private static long sizeOf(final Path file)
    {
        try
        {
            return Files.size(file);
        }
        catch (final IOException e)
        {
            return -1;
        }
    }

    private static void readFirstByte(final SysletContext ctx, final int bufferIndex, final UnsafeBuffer scratch,
        final NowaitAnswer answer)
    {
        final byte[] name = NativePaths.bytes(answer.file);
        if (name.length >= Tracer.PATH_BYTES)
        {
            answer.verdict = "unknown";
            answer.result = "path too long";
            return;
        }
        scratch.putBytes(PATH_OFFSET, name);
        scratch.putByte(PATH_OFFSET + name.length, (byte)0);
        final int fd = LIBC.openat(Natives.AT_FDCWD, scratch.addressOffset() + PATH_OFFSET,
            Natives.O_RDONLY | Natives.O_CLOEXEC | Natives.O_NONBLOCK, 0);
        if (fd < 0)
        {
            answer.verdict = "unknown";
            answer.result = "openat failed: " + Errno.name(Natives.lastError());
            return;
        }
        try
        {
            // One iovec {base, len} over one byte of the scratch buffer: the count fits what it points at.
            scratch.putLong(IOVEC_OFFSET, scratch.addressOffset() + DATA_OFFSET);
            scratch.putLong(IOVEC_OFFSET + 8, 1);
            final long res = Natives.result(LIBC.preadv2(fd, scratch.addressOffset() + IOVEC_OFFSET, 1, 0, RWF_NOWAIT));
            if (res >= 0)
            {
                answer.verdict = "supported";
                answer.result = res + " byte" + (res == 1 ? "" : "s") + " from the page cache";
            }
            else if (res == -Errno.EAGAIN)
            {
                answer.verdict = "supported";
                answer.result = "EAGAIN: not in the page cache";
            }
            else if (res == -EOPNOTSUPP || res == -Errno.EINVAL)
            {
                answer.verdict = "unsupported";
                answer.result = Errno.name(res) + ": reads there are never immediate and have no cache evidence";
            }
            else
            {
                answer.verdict = "unknown";
                answer.result = "preadv2 failed: " + Errno.name(res);
            }
            answer.cacheAttribute = engineCacheAnswer(ctx, bufferIndex, scratch, fd);
        }
        finally
        {
            LIBC.close(fd);
        }
    }

    /**
     * @return the cache attribute of a 1-byte pread through the engine, run synchronously.
     */
    private static String engineCacheAnswer(final SysletContext ctx, final int bufferIndex, final UnsafeBuffer scratch,
        final int fd)
    {
        final UnsafeBuffer iocb = new UnsafeBuffer(BufferUtil.allocateDirectAligned(256, 64));
        new IocbWriter(iocb).pread(1, fd, BufferRef.of(bufferIndex, DATA_OFFSET), 1, 0).attributes(AttributeId.CACHE);
        ctx.run(iocb, 0, scratch, EVENT_OFFSET);
        final Event event = new Event().wrap(scratch, EVENT_OFFSET);
        final AttributeCursor cursor = new AttributeCursor()
            .wrap(scratch, EVENT_OFFSET + EventDescriptor.ATTRIBUTES_OFFSET, event.attributesLength());
        if (!cursor.next())
        {
            return "none";
        }
        if (!cursor.isOk())
        {
            return AttributeStatus.name(cursor.status());
        }
        return CacheOutcome.name(cursor.cacheOutcome()) + (event.res() < 0 ? " (pread " + Errno.name(event.res()) + ")" : "");
    }

    /**
     * @return the first non-empty regular file we may read a few levels down, or null.
     */
    private static Path firstReadableFile(final Path dir)
    {
        final Path[] found = new Path[1];
        try
        {
            Files.walkFileTree(dir, EnumSet.noneOf(FileVisitOption.class), 3, new SimpleFileVisitor<>()
            {
                @Override
                public FileVisitResult visitFile(final Path file, final BasicFileAttributes attrs)
                {
                    if (attrs.isRegularFile() && attrs.size() > 0 && Files.isReadable(file))
                    {
                        found[0] = file;
                        return FileVisitResult.TERMINATE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(final Path file, final IOException e)
                {
                    return FileVisitResult.CONTINUE;
                }
            });
        }
        catch (final IOException e)
        {
            return null;
        }
        return found[0];
    }
}
