package io.syslet.pool.readme;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.attributes.AttributeCursor;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.CacheOutcome;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's example, verbatim between the markers, so that it is known to compile and work.
 */
class ReadmeExampleTest
{
    @Test
    void readmeExampleRuns() throws Exception
    {
        final Path file = Files.write(Files.createTempFile(Path.of("/var/tmp"), "readme", ".txt"), new byte[4096]);
        final UnsafeBuffer path = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
        path.putStringWithoutLengthAscii(0, file + "\0");
        final int fd = Natives.LIBC.openat(Natives.AT_FDCWD, path.addressOffset(), Natives.O_RDONLY, 0);
        final List<String> printed = new ArrayList<>();
        // README-BEGIN
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            UnsafeBuffer memory = new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16));
            int buf = ctx.registerBuffer(memory);                     // ops point into registered memory
            IocbWriter iocbs = new IocbWriter(new UnsafeBuffer(ByteBuffer.allocateDirect(4096)));
            iocbs.pread(42, fd, BufferRef.of(buf, 0), 4096, 0).attributes(AttributeId.LATENCY, AttributeId.CACHE);
            iocbs.submitTo(ctx);
            UnsafeBuffer events = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
            int bytes = ctx.getEvents(events, 0, events.capacity(), 1, TimeUnit.SECONDS.toNanos(1));
            for (EventCursor c = new EventCursor().wrap(events, 0, bytes); c.next(); )
            {
                Event e = c.event();                                  // cookie 42, res 4096 (bytes read)
                AttributeCursor a = new AttributeCursor().wrap(e.buffer(), e.offset() + 40, e.attributesLength());
                a.next();                                             // latency: submit, start, end, publish
                long serviceNanos = a.latencyEndNanos() - a.latencyStartNanos();
                a.next();                                             // cache: HIT, MISS, PARTIAL, ...
                printed.add(e.cookie() + " " + e.res() + " " + CacheOutcome.name(a.cacheOutcome()) + " " + (serviceNanos >= 0));
            }
        }
        // README-END
        Natives.LIBC.close(fd);
        Files.delete(file);
        assertEquals(1, printed.size());
        assertEquals("42 4096 HIT true", printed.get(0));
        assertEquals(40, EventDescriptor.ATTRIBUTES_OFFSET, "the README writes 40 for the event's fixed part");
    }

    /**
     * "Verbatim" is checked, not assumed: the README's java block that sets up a context holds exactly the lines
     * between this test's markers, but for the one that collects what the loop saw for the asserts above. (The
     * module's directory is the tests' working directory: Maven's default.)
     */
    @Test
    void theReadmeShowsThisExampleVerbatim() throws Exception
    {
        final List<String> source = Files.readAllLines(
            Path.of("src/test/java/io/syslet/pool/readme/ReadmeExampleTest.java"));
        final List<String> example = new ArrayList<>();
        boolean in = false;
        for (final String line : source)
        {
            if (line.strip().equals("// README-END"))
            {
                break;
            }
            if (in && !line.contains("printed.add("))
            {
                example.add(line.strip());
            }
            in |= line.strip().equals("// README-BEGIN");
        }
        final List<String> readme = Files.readAllLines(Path.of("..", "README.md"));
        List<String> block = null;
        for (int at = 0; at < readme.size() && block == null; at++)
        {
            if (readme.get(at).equals("```java") && at + 1 < readme.size() &&
                readme.get(at + 1).contains("SysletContext.setup("))
            {
                block = new ArrayList<>();
                for (int line = at + 1; !readme.get(line).equals("```"); line++)
                {
                    block.add(readme.get(line).strip());
                }
            }
        }
        assertTrue(block != null, "README.md has no java block that sets up a SysletContext");
        assertTrue(example.size() > 10, "the markers enclose the example: " + example);
        assertEquals(example, block, "README.md's example differs from ReadmeExampleTest's");
    }
}
