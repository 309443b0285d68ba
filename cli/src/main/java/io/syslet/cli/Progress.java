package io.syslet.cli;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

/**
 * A one-line progress bar on stderr, redrawn at most ten times a second; silent unless a person is
 * watching (the JVM has a console), so piped or captured output never holds carriage returns.
 */
final class Progress
{
    private static final long REDRAW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final long totalFiles;
    private final long totalBytes;
    private long lastDraw = System.nanoTime();
    private boolean drawn;

    private Progress(final PrintStream err, final long totalFiles, final long totalBytes)
    {
        this.err = err;
        this.totalFiles = totalFiles;
        this.totalBytes = totalBytes;
    }

    /**
     * @return a bar on stderr if the JVM has a console, else one that draws nothing.
     */
    static Progress forConsole(final long totalFiles, final long totalBytes)
    {
        return new Progress(System.console() != null ? System.err : null, totalFiles, totalBytes);
    }

    void update(final long files, final long bytes)
    {
        final long now = System.nanoTime();
        if (err == null || now - lastDraw < REDRAW_NANOS)
        {
            return;
        }
        lastDraw = now;
        drawn = true;
        // By bytes: the walk's sizes; a file that grew since can take it past the end, so clamp.
        final double done = totalBytes == 0 ? (totalFiles == 0 ? 1 : (double)files / totalFiles) :
            Math.min(1, (double)bytes / totalBytes);
        final int filled = (int)(done * WIDTH);
        err.printf("\r[%s%s] %3.0f%%  %,d/%,d files  %s ", "#".repeat(filled), ".".repeat(WIDTH - filled), 100 * done,
            files, totalFiles, Sizes.format(bytes));
        err.flush();
    }

    void finish()
    {
        if (err != null && drawn)
        {
            err.print("\r" + " ".repeat(WIDTH + 60) + "\r");
            err.flush();
        }
    }
}
