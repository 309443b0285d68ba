package io.syslet.cli;

import io.syslet.abi.BufferRef;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.attributes.AttributeId;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The other process of the dump tests: owns a context whose ring is mapped in a file, and writes events
 * into it that the test's {@code syslet dump} decodes. It prints {@code READY} on stdout once the test may
 * look, then runs until killed.
 *
 * <pre>
 * RingWriterMain RINGFILE DIR publish K   K ops with cookies 1000.. (see {@link #expected}), left unconsumed
 * RingWriterMain RINGFILE DIR stream      a nop every 2 ms, cookies 1, 2, 3, ..., each consumed at once
 * </pre>
 */
public final class RingWriterMain
{
    static final long FIRST_COOKIE = 1000;
    static final int DATA_BYTES = 4096;
    private static final int MISSING_PATH = 0;
    private static final int DATA_PATH = 1024;
    private static final int STATX_OUT = 2048;
    private static final int READ_BUFFER = 4096;

    private RingWriterMain()
    {
    }

    /**
     * @return the op name and res the i-th op of {@code publish} completes with.
     */
    static String[] expected(final int i)
    {
        switch (i % 4)
        {
            case 0: return new String[]{"nop", "0"};
            case 1: return new String[]{"openat", "-2"}; // a path that does not exist: ENOENT
            case 2: return new String[]{"pread", Integer.toString(DATA_BYTES)};
            default: return new String[]{"statx", "0"};
        }
    }

    public static void main(final String[] args) throws Exception
    {
        exitWhenTheParentDoes();
        final Path ringFile = Path.of(args[0]);
        final Path dir = Path.of(args[1]);
        final SetupParams params = new SetupParams().ringFile(ringFile).ringBytes(1 << 20).boundedWorkers(2);
        try (SysletContext ctx = SysletContext.setup(params))
        {
            final UnsafeBuffer memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(READ_BUFFER + DATA_BYTES, 4096));
            final int buffer = ctx.registerBuffer(memory);
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 64)));
            if (args[2].equals("publish"))
            {
                publish(ctx, writer, memory, buffer, dir, Integer.parseInt(args[3]));
            }
            else
            {
                stream(ctx, writer);
            }
        }
    }

    private static void publish(final SysletContext ctx, final IocbWriter writer, final UnsafeBuffer memory,
        final int buffer, final Path dir, final int count) throws Exception
    {
        final Path data = dir.resolve("data.bin");
        Files.write(data, new byte[DATA_BYTES]);
        putPath(memory, MISSING_PATH, dir.resolve("no-such-file"));
        putPath(memory, DATA_PATH, data);
        final int fd = Natives.LIBC.openat(Natives.AT_FDCWD, memory.addressOffset() + DATA_PATH,
            Natives.O_RDONLY | Natives.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new IllegalStateException("cannot open " + data + ": errno " + -Natives.lastError());
        }
        for (int i = 0; i < count; i++)
        {
            final long cookie = FIRST_COOKIE + i;
            switch (i % 4)
            {
                case 0:
                    writer.nop(cookie);
                    break;
                case 1:
                    writer.openat(cookie, Natives.AT_FDCWD, BufferRef.of(buffer, MISSING_PATH), Natives.O_RDONLY, 0);
                    break;
                case 2:
                    writer.pread(cookie, fd, BufferRef.of(buffer, READ_BUFFER), DATA_BYTES, 0)
                        .attributes(AttributeId.LATENCY, AttributeId.CACHE, AttributeId.BYTES);
                    break;
                default:
                    writer.statx(cookie, Natives.AT_FDCWD, BufferRef.of(buffer, DATA_PATH), 0, 0x7ff,
                        BufferRef.of(buffer, STATX_OUT))
                        .attributes(AttributeId.CPU, AttributeId.BLOCKED, AttributeId.WORKER_TID);
                    break;
            }
        }
        if (writer.submitTo(ctx) != count)
        {
            throw new IllegalStateException("the context refused some of the " + count + " ops");
        }
        // Published means in the ring; nobody here consumes them, so they stay between head and tail.
        while (ctx.inFlight() > 0)
        {
            Thread.sleep(1);
        }
        ready();
        Thread.sleep(Long.MAX_VALUE); // until killed: the ring stays mapped and owned
    }

    private static void stream(final SysletContext ctx, final IocbWriter writer) throws Exception
    {
        final UnsafeBuffer reaped = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 64));
        ready();
        for (long cookie = 1; ; cookie++)
        {
            writer.reset();
            writer.nop(cookie).attributes(AttributeId.LATENCY);
            writer.submitTo(ctx);
            // The owner consumes each event as a real one would; dump must see them all the same.
            ctx.getEvents(reaped, 0, reaped.capacity(), 1, TimeUnit.SECONDS.toNanos(10));
            Thread.sleep(2);
        }
    }

    private static void putPath(final UnsafeBuffer memory, final int offset, final Path path)
    {
        final byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        memory.putBytes(offset, bytes);
        memory.putByte(offset + bytes.length, (byte)0);
    }

    /**
     * The test holds this process's stdin; when the test JVM ends, however it ends, stdin reaches its end.
     */
    private static void exitWhenTheParentDoes()
    {
        final Thread watcher = new Thread(() ->
        {
            try
            {
                while (System.in.read() >= 0)
                {
                    // nothing is ever written
                }
            }
            catch (final java.io.IOException e)
            {
                // the same: the parent is gone
            }
            Runtime.getRuntime().halt(0);
        }, "parent-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void ready()
    {
        System.out.println("READY");
        System.out.flush();
    }
}
