package io.syslet.tests.engine;

import io.syslet.pool.natives.Natives;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Path;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fds one fuzz run owns: a file with known content, its directory and a non-blocking pipe. The fuzzed
 * ops never see any other valid fd (see {@link IocbRewriter}).
 */
final class OwnedFds
{
    final int file;
    final int directory;
    final int pipeRead;
    final int pipeWrite;

    /**
     * @param home     the file's directory.
     * @param fileName the file, created or truncated.
     * @param content  what the file then holds.
     */
    OwnedFds(final Path home, final String fileName, final UnsafeBuffer content)
    {
        directory = TestLibC.LIBC.open(home.toString(), TestLibC.O_RDONLY | TestLibC.O_DIRECTORY |
            TestLibC.O_CLOEXEC, 0);
        file = TestLibC.LIBC.open(home.resolve(fileName).toString(), TestLibC.O_RDWR | TestLibC.O_CREAT |
            TestLibC.O_TRUNC | TestLibC.O_CLOEXEC, 0600);
        // Non-blocking, so a READ of the empty pipe or a WRITE to the full one ends with EAGAIN instead of
        // occupying a worker until the run gives up.
        final int[] pipe = {-1, -1};
        final int pipeResult = LIBC.pipe2(pipe, Natives.O_NONBLOCK | Natives.O_CLOEXEC);
        pipeRead = pipe[0];
        pipeWrite = pipe[1];
        if (directory < 0 || file < 0 || pipeResult != 0)
        {
            close();
            fail("cannot open the run's fds: directory " + directory + ", file " + file + ", pipe " + pipeResult);
        }
        // Content to read, so that a read past the end of the registered buffer would have bytes to write.
        final long written = LIBC.pwrite(file, content.addressOffset(), content.capacity(), 0);
        if (written != content.capacity())
        {
            close();
            fail("cannot fill the run's file: pwrite returned " + written);
        }
    }

    void close()
    {
        for (final int fd : new int[]{file, directory, pipeRead, pipeWrite})
        {
            if (fd >= 0)
            {
                LIBC.close(fd);
            }
        }
    }
}
