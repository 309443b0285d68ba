package io.syslet.tests.engine;

import java.util.concurrent.atomic.AtomicReference;

/**
 * What the threads of a many-threaded test share: the first failure, and a flag that tells every thread to
 * stop. A thread that throws records what it threw and raises the flag; the test thread checks
 * {@link #failure()} and throws it on, so a failure on any thread fails the test with its own message.
 */
final class StopOnFailure
{
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean stopped;

    /**
     * @return a daemon thread (not started) that runs {@code body}; if the body throws, the first such
     * failure is kept and every thread is told to stop.
     */
    Thread thread(final String name, final Runnable body)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                body.run();
            }
            catch (final Throwable ex)
            {
                failure.compareAndSet(null, new AssertionError(name + ": " + ex, ex));
                stopped = true;
            }
        }, name);
        thread.setDaemon(true);
        return thread;
    }

    /** Tells every thread to stop. */
    void stop()
    {
        stopped = true;
    }

    boolean stopped()
    {
        return stopped;
    }

    /**
     * @return the first failure of a thread, or null.
     */
    Throwable failure()
    {
        return failure.get();
    }
}
