package io.syslet.cli;

import io.syslet.abi.IocbWriter;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Standard output that fails, as a pipe whose reader has gone ({@code syslet ... | head -1}) or a full disk
 * ({@code > /dev/full}) make it: PrintStream swallows the error, so the command must ask. Found by running
 * {@code trace --per-file /usr | head -1} (it read all of /usr, then exited 0), {@code dump --follow | head -1}
 * (it never ended) and {@code trace > /dev/full} (exit 0, output lost).
 */
class ClosedOutputTest
{
    private static final String MESSAGE = "syslet: cannot write to standard output (a closed pipe or a full disk)\n";

    @TempDir
    Path dir;

    @Test
    void traceStopsAtTheFirstLineItCannotWriteAndExitsOne() throws IOException
    {
        for (int i = 0; i < 40; i++)
        {
            Files.write(dir.resolve("f" + i), new byte[100]);
        }
        final ClosedAfter out = new ClosedAfter(0);
        final Result result = run(out, "trace", dir.toString(), "--per-file", "--json", "--files-in-flight", "1");
        assertEquals(1, result.exitCode, result.err);
        assertEquals(MESSAGE, result.err);
        assertFalse(out.attempted.toString(StandardCharsets.UTF_8).contains("\"paths\""),
            "stopped, not traced to the end and summed up: " + out.attempted.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aSummaryThatCannotBeWrittenIsAnErrorNotExitZero()
    {
        final Result result = run(new ClosedAfter(0), "trace", dir.toString());
        assertEquals(1, result.exitCode, result.err);
        assertEquals(MESSAGE, result.err);
    }

    @Test
    void followEndsWhenItsOutputIsClosed()
    {
        final Path file = dir.resolve("follow.ring");
        try (SysletContext context = SysletContext.setup(new SetupParams().ringFile(file)))
        {
            final IocbWriter writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
            for (long cookie = 1; cookie <= 3; cookie++)
            {
                writer.append(Opcode.NOP, cookie, 0, 0, 0, 0, 0, 0, 0);
            }
            assertEquals(3, writer.submitTo(context));
            // Never reaped: the three events stay in the ring for dump to print. Its header line gets through.
            final Result result = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> run(new ClosedAfter(1), "dump", file.toString(), "--follow"));
            assertEquals(1, result.exitCode, result.err);
            assertEquals(MESSAGE, result.err);
        }
    }

    private static final class Result
    {
        final int exitCode;
        final String err;

        Result(final int exitCode, final String err)
        {
            this.exitCode = exitCode;
            this.err = err;
        }
    }

    private static Result run(final OutputStream out, final String... args)
    {
        final PrintStream originalOut = System.out;
        final PrintStream originalErr = System.err;
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try
        {
            return new Result(SysletCommand.execute(args), err.toString(StandardCharsets.UTF_8));
        }
        finally
        {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    /** A pipe whose reader goes away after some lines: every later write fails, as EPIPE does. */
    private static final class ClosedAfter extends OutputStream
    {
        final ByteArrayOutputStream attempted = new ByteArrayOutputStream();
        private int linesLeft;

        ClosedAfter(final int lines)
        {
            this.linesLeft = lines;
        }

        @Override
        public void write(final int b) throws IOException
        {
            write(new byte[]{(byte)b}, 0, 1);
        }

        @Override
        public void write(final byte[] b, final int off, final int len) throws IOException
        {
            attempted.write(b, off, len);
            if (linesLeft <= 0)
            {
                throw new IOException("Broken pipe");
            }
            for (int i = off; i < off + len; i++)
            {
                if (b[i] == '\n')
                {
                    linesLeft--;
                }
            }
        }
    }
}
