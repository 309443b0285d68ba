package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.syslet.pool.SysletTestSupport.reap;
import static org.junit.jupiter.api.Assertions.*;

class SmokeTest
{
    @TempDir
    Path dir;

    @Test
    void writeReadCancel() throws Exception
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final UnsafeBuffer mem = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 4096));
            final int buf = ctx.registerBuffer(mem);
            final Path file = dir.resolve("f");
            final byte[] path = (file + "\0").getBytes(StandardCharsets.UTF_8);
            mem.putBytes(0, path);
            mem.putStringWithoutLengthAscii(4096, "hello syslet");
            final IocbWriter w = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            w.openat(1, Natives.AT_FDCWD, BufferRef.of(buf, 0), Natives.O_CREAT | Natives.O_RDWR, 0644);
            assertEquals(1, w.submitTo(ctx));
            final Map<Long, Event> got = reap(ctx, 1);
            final int fd = (int)got.get(1L).res();
            assertTrue(fd > 0, got.toString());
            w.pwrite(2, fd, BufferRef.of(buf, 4096), 12, 0).fsync(3, fd).nop(4).append(999, 5, 0, 0, 0, 0, 0, 0, 0);
            assertEquals(4, w.submitTo(ctx));
            Map<Long, Event> ev = reap(ctx, 4);
            assertEquals(12, ev.get(2L).res());
            assertEquals(0, ev.get(4L).res());
            assertEquals(-Errno.ENOSYS, ev.get(5L).res());
            w.pread(6, fd, BufferRef.of(buf, 8192), 12, 0).pread(7, fd, BufferRef.of(buf, 65530), 12, 0).pread(8, 9999, BufferRef.of(buf, 0), 1, 0);
            assertEquals(3, w.submitTo(ctx));
            ev = reap(ctx, 3);
            assertEquals(12, ev.get(6L).res());
            assertEquals(-Errno.EFAULT, ev.get(7L).res());
            assertEquals(-Errno.EBADF, ev.get(8L).res());
            assertEquals("hello syslet", mem.getStringWithoutLengthAscii(8192, 12));
            assertEquals("hello syslet", Files.readString(file));

            final int[] fds = new int[2];
            assertEquals(0, Natives.LIBC.pipe2(fds, Natives.O_CLOEXEC));
            w.read(10, fds[0], BufferRef.of(buf, 100), 10);
            w.submitTo(ctx);
            Thread.sleep(50);
            assertEquals(AioContext.CANCELED, ctx.cancel(10));
            ev = reap(ctx, 1);
            assertEquals(-Errno.ECANCELED, ev.get(10L).res());
            assertEquals(AioContext.NOT_FOUND, ctx.cancel(10));
            w.nanosleep(11, TimeUnit.SECONDS.toNanos(30));
            w.submitTo(ctx);
            Thread.sleep(20);
            assertEquals(AioContext.CANCELED, ctx.cancel(11));
            assertEquals(-Errno.ECANCELED, reap(ctx, 1).get(11L).res());
            ctx.submitCallable(12, () -> { Thread.sleep(60_000); return 1L; });
            Thread.sleep(20);
            assertEquals(AioContext.CANCELED, ctx.cancel(12));
            assertEquals(-Errno.ECANCELED, reap(ctx, 1).get(12L).res());
            System.out.println(ctx.probe());
        }
    }
}
