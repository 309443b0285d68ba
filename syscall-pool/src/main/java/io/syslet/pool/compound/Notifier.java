package io.syslet.pool.compound;

/**
 * A callback at the tail of a completion's chain, after every {@link Interceptor}. It sees the final
 * result; {@link Completion#isImmediate()} tells whether it runs on the submitting thread because the
 * op completed inline, or delayed, on a reaping thread or the delayed executor.
 */
@FunctionalInterface
public interface Notifier
{
    /**
     * @param completion the completion, with its final result.
     * @throws Exception reported to the {@link Completions}' error handler; the chain then goes on.
     */
    void completed(Completion completion) throws Exception;
}
