package io.syslet.pool;

import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README, "Using it as a Maven dependency": without {@code --add-opens java.base/jdk.internal.misc=ALL-UNNAMED}
 * "syslet fails at once with an IllegalStateException that names the flag, not with a bare IllegalAccessError".
 * A user's first call is {@code SysletContext.setup}, as in the README's example: it is run here in a child JVM
 * started without the flag.
 */
class MissingJvmFlagTest
{
    /** What the child JVM runs: the README's first line, then the class and message of what it threw. */
    public static final class SetupWithoutFlag
    {
        public static void main(final String[] args)
        {
            try (SysletContext ctx = SysletContext.setup(new SetupParams()))
            {
                System.out.println("no failure");
            }
            catch (final Throwable t)
            {
                System.out.println(t.getClass().getName() + ": " + t.getMessage());
            }
        }
    }

    @Test
    void setupWithoutTheFlagThrowsIllegalStateExceptionNamingIt() throws Exception
    {
        final ProcessBuilder builder = new ProcessBuilder(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
            "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            SetupWithoutFlag.class.getName()));
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.redirectErrorStream(true);
        final Process child = builder.start();
        final CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(child.getInputStream()));
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM did not end");
        final String printed = out.get(10, TimeUnit.SECONDS).strip();
        assertEquals(0, child.exitValue(), printed);
        assertTrue(printed.startsWith(IllegalStateException.class.getName() + ": "), printed);
        assertTrue(printed.contains("--add-opens java.base/jdk.internal.misc=ALL-UNNAMED"), printed);
    }

    private static String readAll(final InputStream in)
    {
        try (in)
        {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            return bytes.toString(StandardCharsets.UTF_8);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }
}
