package io.syslet.cli;

import io.syslet.ring.RingRegion;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;

/**
 * Entry point of the {@code syslet} command. With no arguments it runs {@code trace} of the running JDK.
 */
@Command(
    name = "syslet",
    mixinStandardHelpOptions = true,
    version = "syslet 0.1.0",
    description = "Asynchronous blocking syscalls with completions in a lock-free variable-length ring. " +
        "With no command: trace the running JDK.",
    subcommands = { TraceCommand.class, ProbeCommand.class, DumpCommand.class, RingDemoCommand.class })
public final class SysletCommand implements Runnable
{
    /** PrintStream keeps the IOException of a failed write to itself: this is all that can be said of it. */
    static final String OUTPUT_FAILED = "cannot write to standard output (a closed pipe or a full disk)";

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /**
     * Runs the command line and exits with its code: 0 success, 1 failure, 2 bad usage or a bad option value.
     *
     * @param args command line.
     */
    public static void main(final String[] args)
    {
        System.exit(execute(args));
    }

    /**
     * Runs the command line without exiting, for tests.
     *
     * @param args command line.
     * @return exit code.
     */
    public static int execute(final String... args)
    {
        final String undecodable = undecodable(args);
        if (undecodable != null)
        {
            // Else picocli's "Unmatched argument" or a path that does not exist: neither says the locale is why.
            System.err.println("syslet: argument '" + undecodable + "' has bytes the JVM could not decode as " +
                System.getProperty("sun.jnu.encoding") + ", the locale's charset (shown as ?); run with a UTF-8 " +
                "locale (LANG=C.UTF-8) for names in UTF-8");
            return CommandLine.ExitCode.USAGE;
        }
        try
        {
            // Before any command touches Agrona: without the flag that would be a bare IllegalAccessError.
            RingRegion.checkAgronaAccess();
        }
        catch (final IllegalStateException | UnsupportedOperationException e)
        {
            System.err.println("syslet: " + oneLine(e.getMessage()));
            return 1;
        }
        final CommandLine commandLine = new CommandLine(new SysletCommand());
        // Bad input (an option value or a path the command refuses) is a usage error: 2, like picocli's own;
        // anything else is 1. Either way one line, so scripts can show it as is.
        commandLine.setExecutionExceptionHandler((ex, cl, parseResult) ->
        {
            cl.getErr().println("syslet: " + oneLine(ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            return ex instanceof IllegalArgumentException ? 2 : 1;
        });
        commandLine.setParameterExceptionHandler((ex, args1) ->
        {
            final CommandLine failed = ex.getCommandLine();
            failed.getErr().println("syslet: " + oneLine(ex.getMessage()) + " (see '" +
                failed.getCommandSpec().qualifiedName() + " --help')");
            return CommandLine.ExitCode.USAGE;
        });
        final int exitCode = commandLine.execute(args.length == 0 ? new String[] { "trace" } : args);
        // A command that ran to the end may still have lost its output: PrintStream does not throw.
        if (exitCode == 0 && System.out.checkError())
        {
            commandLine.getErr().println("syslet: " + OUTPUT_FAILED);
            return 1;
        }
        return exitCode;
    }

    /**
     * For commands that write as they go: without it, one whose reader has gone ({@code | head -1}) would go
     * on to the end, or for ever with {@code dump --follow}.
     *
     * @throws UncheckedIOException if a write to out has failed.
     */
    static void checkOutput(final PrintStream out)
    {
        if (out.checkError())
        {
            throw new UncheckedIOException(OUTPUT_FAILED, new IOException(OUTPUT_FAILED));
        }
    }

    /**
     * @return the first argument the JVM could not decode (it holds U+FFFD, which no one types), or null.
     */
    private static String undecodable(final String[] args)
    {
        for (final String arg : args)
        {
            if (arg.indexOf('\uFFFD') >= 0)
            {
                return arg.replace('\uFFFD', '?');
            }
        }
        return null;
    }

    private static String oneLine(final String message)
    {
        return message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    @Override
    public void run()
    {
        spec.commandLine().usage(System.out);
    }
}
