package io.syslet.cli;

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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README: every JVM that runs syslet needs {@code --add-opens java.base/jdk.internal.misc=ALL-UNNAMED}, and
 * "without it, syslet fails at once with an IllegalStateException that names the flag, not with a bare
 * IllegalAccessError". The command run as {@code java -jar syslet.jar probe}, without the {@code ./syslet}
 * script that adds the flag, printed a bare IllegalAccessError stack trace.
 */
class MissingJvmFlagCliTest
{
    @Test
    void theCommandWithoutTheFlagSaysWhichFlagInOneLine() throws Exception
    {
        final ProcessBuilder builder = new ProcessBuilder(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
            "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            SysletCommand.class.getName(), "probe"));
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        final Process child = builder.start();
        final CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(child.getInputStream()));
        final CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(child.getErrorStream()));
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM did not end");
        final String stderr = err.get(10, TimeUnit.SECONDS);
        assertEquals(1, child.exitValue(), stderr);
        assertEquals("", out.get(10, TimeUnit.SECONDS));
        assertFalse(stderr.contains("IllegalAccessError"), stderr);
        assertTrue(stderr.startsWith("syslet: ") && stderr.contains("--add-opens java.base/jdk.internal.misc=ALL-UNNAMED"),
            stderr);
        assertEquals(1, stderr.strip().lines().count(), stderr);
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
