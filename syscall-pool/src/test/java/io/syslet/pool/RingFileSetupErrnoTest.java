package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SysletContext.setup: "@throws AioException ... the errno of a failed eventfd(2) or ring-file creation". A ring
 * file whose directory does not exist failed with EIO, whatever the cause, so a caller could not tell a missing
 * directory from an IO error without parsing the message. The causes Java reports by type now keep their errno
 * (ENOENT, EACCES, EEXIST); the rest stay EIO, and the Javadoc says so.
 */
class RingFileSetupErrnoTest
{
    @Test
    void aRingFileInADirectoryThatDoesNotExistFailsWithEnoent(@TempDir final Path home)
    {
        final Path ring = home.resolve("no-such-directory").resolve("trace.ring");
        final AioException e = assertThrows(AioException.class,
            () -> SysletContext.setup(new SetupParams().ringFile(ring)).close());
        assertEquals(Errno.ENOENT, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(ring.toString()), e.getMessage());
    }

    @Test
    void otherRingFileFailuresAreEioWithTheCauseInTheMessage(@TempDir final Path home) throws Exception
    {
        final Path notADirectory = Files.createFile(home.resolve("plain"));
        final Path ring = notADirectory.resolve("trace.ring");
        final AioException e = assertThrows(AioException.class,
            () -> SysletContext.setup(new SetupParams().ringFile(ring)).close());
        assertEquals(Errno.EIO, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(ring.toString()), e.getMessage());
    }
}
