package io.syslet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

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
        return commandLine.execute(args.length == 0 ? new String[] { "trace" } : args);
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
