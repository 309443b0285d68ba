package io.syslet.pool.compound;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A thread that polls a {@link Completions} until closed, for tests that race it with the test thread.
 * What the reaper throws is kept: {@link #failure()} while it runs, and {@link #close()} rethrows it.
 */
final class BackgroundReaper implements AutoCloseable
{
    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean stop;

    /**
     * @param minEvents    each poll's minimum: 0 to poll without a pause.
     * @param timeoutNanos each poll's longest wait.
     */
    BackgroundReaper(final Completions completions, final int minEvents, final long timeoutNanos)
    {
        thread = new Thread(() ->
        {
            try
            {
                while (!stop)
                {
                    completions.poll(minEvents, timeoutNanos);
                }
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        }, "background-reaper");
        thread.start();
    }

    /**
     * @return what the reaper threw, or null.
     */
    Throwable failure()
    {
        return failure.get();
    }

    /**
     * Stops the reaper and waits for it.
     *
     * @throws AssertionError carrying what the reaper threw, if it did.
     */
    @Override
    public void close() throws InterruptedException
    {
        stop = true;
        thread.join();
        if (failure.get() != null)
        {
            throw new AssertionError("the reaper failed: " + failure.get(), failure.get());
        }
    }
}
