package io.syslet.ring;

/**
 * Wakes consumers that wait for a ring outside of it, where {@link Ring#await} cannot reach them: an
 * eventfd that an epoll loop watches, say.
 *
 * <p>The ring calls it on the thread that commits, after a commit (or an abort) at the position where
 * consumers stand, so at most once per record and usually once per burst. That is a producer, or a consumer
 * whose read, poll or flush moves entries from the overflow list into the ring. A consumer that takes a
 * signal must drain the ring before it waits again (see {@link Ring}: read until empty, and flush if the
 * overflow list is pending): records committed behind unconsumed ones signal nothing. Keep it short and
 * non-blocking; it must not throw.
 */
@FunctionalInterface
public interface ConsumerSignal
{
    /**
     * Called after a commit that a consumer which found the ring empty may be waiting for.
     */
    void signal();
}
