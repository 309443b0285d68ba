package io.syslet.pool;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Event;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.attributes.AttributeCursor;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.CacheOutcome;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class AttributesSmokeTest
{
    @Test
    void missThenHit() throws Exception
    {
        final Path file = Files.createTempFile(Path.of("/var/tmp"), "syslet", ".bin");
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            Files.write(file, new byte[8 << 20]);
            final UnsafeBuffer mem = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8 << 20, 4096));
            final int buf = ctx.registerBuffer(mem);
            final int fd = Natives.LIBC.openat(Natives.AT_FDCWD, pathRef(mem, file), Natives.O_RDONLY, 0);
            assertTrue(fd > 0);
            Natives.LIBC.fdatasync(fd);
            assertEquals(0, Natives.LIBC.posix_fadvise(fd, 0, 0, 4));
            final IocbWriter w = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            final int[] all = {AttributeId.LATENCY, AttributeId.CACHE, AttributeId.CPU, AttributeId.BLOCKED, AttributeId.BYTES, AttributeId.WORKER_TID, 99};
            w.pread(1, fd, BufferRef.of(buf, 0), 4 << 20, 0).attributes(all);
            w.submitTo(ctx);
            Map<Long, Event> ev = SmokeTest.reap(ctx, 1);
            System.out.println(describe(ev.get(1L)));
            w.pread(2, fd, BufferRef.of(buf, 0), 4 << 20, 0).attributes(all);
            w.submitTo(ctx);
            ev = SmokeTest.reap(ctx, 1);
            System.out.println(describe(ev.get(2L)));
            w.nanosleep(3, 10_000_000).attributes(all);
            w.submitTo(ctx);
            ev = SmokeTest.reap(ctx, 1);
            System.out.println(describe(ev.get(3L)));
        }
        finally
        {
            Files.delete(file);
        }
    }

    static long pathRef(final UnsafeBuffer mem, final Path file)
    {
        final byte[] b = (file + "\0").getBytes();
        mem.putBytes(mem.capacity() - 4096, b);
        return mem.addressOffset() + mem.capacity() - 4096;
    }

    static String describe(final Event e)
    {
        final StringBuilder sb = new StringBuilder(e.toString());
        final AttributeCursor c = new AttributeCursor().wrap(e.buffer(), e.offset() + 40, e.attributesLength());
        while (c.next())
        {
            sb.append("\n  ").append(AttributeId.name(c.id())).append(' ').append(c.status());
            if (!c.isOk()) continue;
            switch (c.id())
            {
                case AttributeId.LATENCY: sb.append(" queue=").append(c.latencyStartNanos() - c.latencySubmitNanos()).append(" service=").append(c.latencyEndNanos() - c.latencyStartNanos()).append(" total=").append(c.latencyPublishNanos() - c.latencySubmitNanos()); break;
                case AttributeId.CACHE: sb.append(' ').append(CacheOutcome.name(c.cacheOutcome())).append(" bytes=").append(c.cacheBytes()); break;
                case AttributeId.CPU: sb.append(" on=").append(c.cpuOnNanos()).append(" off=").append(c.cpuOffNanos()); break;
                case AttributeId.BLOCKED: sb.append(" blocked=").append(c.blocked()).append(" vol=").append(c.voluntarySwitches()); break;
                case AttributeId.BYTES: sb.append(' ').append(c.bytes()); break;
                case AttributeId.WORKER_TID: sb.append(' ').append(c.workerTid()); break;
            }
        }
        return sb.toString();
    }
}
