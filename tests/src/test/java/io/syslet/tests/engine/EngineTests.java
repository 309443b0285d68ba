package io.syslet.tests.engine;

import io.syslet.abi.AioContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Set-up and wind-down the engine's many-threaded tests share.
 */
final class EngineTests
{
    private EngineTests()
    {
    }

    /**
     * Writes {@code bytes} random bytes to {@code file}, reads them back once so that preads find the file in
     * the page cache, and opens it read-only.
     *
     * @return the fd; the caller closes it.
     */
    static int openCachedFile(final Path file, final int bytes, final long seed) throws IOException
    {
        final byte[] content = new byte[bytes];
        new SplittableRandom(seed).nextBytes(content);
        Files.write(file, content);
        assertArrayEquals(content, Files.readAllBytes(file));
        final int fd = TestLibC.LIBC.open(file.toString(), TestLibC.O_RDONLY | TestLibC.O_CLOEXEC, 0);
        assertTrue(fd >= 0, "open " + file);
        return fd;
    }

    /**
     * Waits for the in-flight count to reach 0 once every event is reaped: an op leaves it just after its event
     * is published (see {@link AioContext#inFlight}), so it may trail the last event by a moment.
     *
     * @param deadline {@link System#nanoTime()} after which a count still above 0 fails the test.
     */
    static void awaitNothingInFlight(final AioContext ctx, final long deadline)
    {
        while (ctx.inFlight() != 0)
        {
            assertTrue(System.nanoTime() - deadline < 0, "every event reaped, yet in flight stays " + ctx.inFlight());
            Thread.yield();
        }
    }
}
