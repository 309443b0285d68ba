package io.syslet.ring;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Threads asleep in {@link Ring#await}: a fixed table of slots so that registering allocates nothing.
 * A thread that finds the table full gets no slot and polls with short sleeps instead; it still never
 * misses a wakeup, only reacts a little later.
 */
final class Sleepers
{
    static final int SLOTS = 64;

    private final AtomicReferenceArray<Thread> slots = new AtomicReferenceArray<>(SLOTS);

    /**
     * @return the slot taken, or -1 if all are taken.
     */
    int register(final Thread thread)
    {
        for (int i = 0; i < SLOTS; i++)
        {
            // CAS publishes the thread before the caller sets WAITERS, so a waker that saw the flag sees it.
            if (slots.get(i) == null && slots.compareAndSet(i, null, thread))
            {
                return i;
            }
        }
        return -1;
    }

    void deregister(final int slot)
    {
        if (slot >= 0)
        {
            slots.set(slot, null);
        }
    }

    void wakeAll()
    {
        for (int i = 0; i < SLOTS; i++)
        {
            final Thread thread = slots.get(i);
            if (thread != null)
            {
                LockSupport.unpark(thread);
            }
        }
    }
}
