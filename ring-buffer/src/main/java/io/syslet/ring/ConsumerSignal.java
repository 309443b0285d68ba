package io.syslet.ring;

/**
 * Wakes consumers that wait for a ring outside of it, where {@link Ring#await} cannot reach them: an
 * eventfd that an epoll loop watches, say.
 *
 * <p>The ring calls it on the committing producer's thread, after a commit (or an abort) at the position
 * where consumers stand, so at most once per record and usually once per burst. A consumer that takes a
 * signal must read until the ring is empty before it waits again: records committed behind unconsumed ones
 * signal nothing. Keep it short and non-blocking; it must not throw.
 */
@FunctionalInterface
public interface ConsumerSignal
{
    /**
     * Called after a commit that a consumer which found the ring empty may be waiting for.
     */
    void signal();
}
