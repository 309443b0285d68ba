package io.syslet.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The command run in-process, through picocli as {@code main} runs it, with stdout and stderr captured; or,
 * where this JVM's settings matter, in a child JVM.
 */
final class CliRun
{
    final int exitCode;
    final String out;
    final String err;

    private CliRun(final int exitCode, final String out, final String err)
    {
        this.exitCode = exitCode;
        this.out = out;
        this.err = err;
    }

    static CliRun run(final String... args)
    {
        final PrintStream originalOut = System.out;
        final PrintStream originalErr = System.err;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exitCode;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try
        {
            exitCode = SysletCommand.execute(args);
        }
        finally
        {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        return new CliRun(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * The command run as {@code main} in a child JVM, for what cannot be set in this one: the locale's file-name
     * charset, the direct-memory limit.
     *
     * @param environment added to this process's environment (LANG, LC_ALL...).
     * @param jvmOptions  options for the child JVM, before the class.
     * @param args        the command line.
     */
    static CliRun inChildJvm(final Map<String, String> environment, final List<String> jvmOptions,
        final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            SysletCommand.class.getName()));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        final Process child = builder.start();
        final CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(child.getInputStream()));
        final CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(child.getErrorStream()));
        // A safety net against a child that never ends, not a speed requirement.
        if (!child.waitFor(120, TimeUnit.SECONDS))
        {
            child.destroyForcibly();
            throw new IllegalStateException("the child JVM did not end: " + command);
        }
        // ISO-8859-1: every byte maps to one char, so a test can see whether the output was pure ASCII.
        return new CliRun(child.exitValue(), new String(out.join(), StandardCharsets.ISO_8859_1),
            new String(err.join(), StandardCharsets.ISO_8859_1));
    }

    private static byte[] readAll(final InputStream in)
    {
        try
        {
            return in.readAllBytes();
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @return stdout's lines, each parsed as a JSON object.
     */
    List<Map<String, Object>> jsonLines()
    {
        return out.lines().filter(line -> !line.isBlank()).map(MiniJson::object).collect(Collectors.toList());
    }

    @Override
    public String toString()
    {
        return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
