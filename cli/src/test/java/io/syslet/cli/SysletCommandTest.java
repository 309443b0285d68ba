package io.syslet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SysletCommandTest
{
    /**
     * Under LANG=C the JVM decodes a non-ASCII argument into U+FFFD, and picocli said "Unmatched argument";
     * the message now says the locale is why and what to do.
     */
    @Test
    void anArgumentTheJvmCouldNotDecodeIsAUsageErrorThatNamesTheLocale()
    {
        final String err = captureErr(() -> assertEquals(2, SysletCommand.execute("trace", "/tmp/d\uFFFD\uFFFD")));
        assertTrue(err.startsWith("syslet: argument '/tmp/d??' has bytes the JVM could not decode"), err);
        assertTrue(err.contains("LANG=C.UTF-8"), err);
        assertEquals(1, err.lines().count(), err);
    }

    @Test
    void ringDemoDeliversEveryRecordThroughAMappedFileAndExitsZero(@TempDir final Path dir) throws Exception
    {
        final Path ringFile = dir.resolve("demo.ring");
        final String out = captureOut(() -> assertEquals(0, SysletCommand.execute(
            "ring-demo", "--records", "20000", "--producers", "3", "--consumers", "2", "--ring-file", ringFile.toString())));
        assertTrue(out.contains("60,000 delivered of 60,000 offered"), out);
        assertTrue(out.contains("result         OK"), out);
        assertEquals(512 + 4096, Files.size(ringFile), "the ring file is kept when named");
    }

    @Test
    void aCapacityTheRingRefusesIsAUsageErrorNamingTheValue()
    {
        final String err = captureErr(() -> assertEquals(2, SysletCommand.execute("ring-demo", "--capacity", "1000")));
        assertTrue(err.startsWith("syslet: ring capacity 1000 must be a power of two"), err);
        assertEquals(1, err.strip().lines().count(), "one line: " + err);
    }

    /**
     * --start was cast to an int: 4294967296 ran from 0 while the report said "started at 4294967296", and -1
     * was refused as "initial position 4294967295". Records near Integer.MAX_VALUE overflowed the size of the
     * bookkeeping array: "syslet: -33554431". Found by running ring-demo with those values.
     */
    @Test
    void ringDemoRefusesAStartOutsideTheU32RangeAndOverlargeRecordCountsByName()
    {
        for (final String start : new String[]{"4294967296", "-1"})
        {
            final String err = captureErr(() -> assertEquals(2, SysletCommand.execute("ring-demo", "--records", "10",
                "--start", start)));
            assertEquals("syslet: --start " + start + " is outside 0..4294967295\n", err);
        }
        final String err = captureErr(() -> assertEquals(2, SysletCommand.execute("ring-demo", "--records",
            Integer.toString(Integer.MAX_VALUE))));
        assertEquals("syslet: --producers and --consumers must be 1..64, --records 1..100000000\n",
            err);
    }

    @Test
    void anUnknownOptionIsAUsageError()
    {
        final String err = captureErr(() -> assertEquals(2, SysletCommand.execute("--bogus")));
        assertTrue(err.contains("Unknown option: '--bogus'"), err);
    }

    private static String captureOut(final Runnable action)
    {
        return capture(System.out, System::setOut, action);
    }

    private static String captureErr(final Runnable action)
    {
        return capture(System.err, System::setErr, action);
    }

    private static String capture(final PrintStream original, final Consumer<PrintStream> install, final Runnable action)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        install.accept(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try
        {
            action.run();
        }
        finally
        {
            install.accept(original);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
