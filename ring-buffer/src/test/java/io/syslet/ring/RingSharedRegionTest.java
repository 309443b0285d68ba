package io.syslet.ring;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Two {@link Ring}s made from one {@link RingRegion} in one process. The WAITERS and OVERFLOW flags live in the
 * region, shared by both; the sleepers a producer wakes and the overflow list a consumer flushes must then be
 * shared too, or one instance takes the other's flag and acts on its own empty state. Only outcomes are asserted:
 * a lost wakeup shows as a thread still parked in a 30-second await when the 10-second join guard runs out.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingSharedRegionTest
{
    @Test
    void aCommitThroughOneInstanceWakesASleeperInTheOther() throws InterruptedException
    {
        try (RingRegion region = RingRegion.allocate(1024, -8))
        {
            final Ring waiter = new Ring(region);
            final Ring producer = new Ring(region);
            final int token = waiter.stateToken();
            final AtomicReference<Object> result = new AtomicReference<>();
            final Thread sleeper = new Thread(() ->
            {
                try
                {
                    result.set(waiter.await(token, 30, TimeUnit.SECONDS));
                }
                catch (final Throwable ex)
                {
                    result.set(ex);
                }
            }, "sleeper");
            sleeper.start();
            awaitParked(sleeper, waiter);
            // The producer's reservation takes WAITERS, set by the sleeper in the other instance: it must wake it.
            assertTrue(producer.offer(1, payload(4, 0), 0, 4));
            joinOrFail(sleeper);
            assertEquals(Boolean.TRUE, result.get());
        }
    }

    @Test
    void theOverflowListIsSharedByTheInstancesOfOneRegion()
    {
        try (RingRegion region = RingRegion.allocate(256, 0))
        {
            final Ring first = new Ring(region);
            final Ring second = new Ring(region);
            // 16 + 16 = 32 bytes: 8 records fill the ring; the ninth goes to the overflow list and sets OVERFLOW.
            for (int seq = 0; seq < 9; seq++)
            {
                offerSeq(first, 1, 16, seq);
            }
            assertTrue(first.isOverflowPending());
            assertFalse(offerSeq(second, 1, 16, 100), "OVERFLOW is set: the second instance's entry waits too");
            final UnsafeBuffer dst = heap(4096);
            // Drain through the first instance, as a reaper in this process does: every entry, in order, and
            // OVERFLOW clear only once nothing waits (else seq 100 sits on a list that no reaper is told of).
            for (final int seq : new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 100})
            {
                assertEquals(32, first.poll(dst, 0), "seq " + seq + " is delivered");
                assertEquals(seq, dst.getInt(16));
            }
            assertFalse(first.isOverflowPending());
            assertEquals(0, second.overflowSize());
            // The second instance's next entry goes behind its first, not ahead of it.
            assertTrue(offerSeq(second, 1, 16, 101));
            assertEquals(32, first.poll(dst, 0));
            assertEquals(101, dst.getInt(16));
            assertEquals(0, first.poll(dst, 0));
        }
    }
}
