package io.syslet.ring;

import java.util.concurrent.locks.ReentrantLock;

/**
 * What the rings over one region keep in this process's memory, beside the flags in the region that refer to it:
 * the overflow list (OVERFLOW says it holds entries) and the sleepers (WAITERS says some are registered). Every
 * {@link Ring} made from one {@link RingRegion} shares the region's: were it per ring, one ring would take a flag
 * that speaks of another's list or sleepers and act on its own, empty ones (clear OVERFLOW while the other's list
 * still holds entries, or take WAITERS and wake nobody).
 */
final class LocalState
{
    final ReentrantLock overflowLock = new ReentrantLock();
    /** Guarded by {@link #overflowLock}. */
    final OverflowList overflow = new OverflowList();
    final Sleepers sleepers = new Sleepers();
    /** Mirror of OVERFLOW for consumers; written under the overflow lock with the flag. */
    volatile boolean overflowPending;
}
