package io.syslet.pool.compound;

/**
 * A callback at the head of a completion's chain. It runs before every {@link Notifier}, may replace the
 * result ({@link Completion#result(long)}: a decrypting layer, say) and may stop the chain for now by
 * returning false; someone then calls {@link Completion#resume()} (after a retry, say) and the chain
 * goes on with the next callback.
 */
@FunctionalInterface
public interface Interceptor
{
    /**
     * @param completion the completion, with its current result.
     * @return true to go on with the chain, false to stop it until {@link Completion#resume()}.
     * @throws Exception reported to the {@link Completions}' error handler; the chain then goes on.
     */
    boolean intercept(Completion completion) throws Exception;
}
