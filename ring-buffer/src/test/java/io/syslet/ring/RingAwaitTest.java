package io.syslet.ring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * stateToken and await. Only outcomes are asserted, never durations: a lost wakeup shows as a thread
 * still parked in a 30-second await when the 10-second join guard runs out.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingAwaitTest
{
    private static final int CAPACITY = 1024;
    private static final long LONG_WAIT_SECONDS = 30;

    @Test
    void staleTokenReturnsTrueAtOnce() throws InterruptedException
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -8))
        {
            final Ring ring = new Ring(region);
            final int token = ring.stateToken();
            assertEquals(ring.tailPosition(), token);
            assertTrue(ring.offer(1, payload(4, 0), 0, 4));
            assertNotEquals(token, ring.stateToken(), "the token follows the tail");
            assertTrue(ring.await(token, LONG_WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(ring.await(token, 0, TimeUnit.NANOSECONDS), "timeout 0 still reports a moved ring");
        }
    }

    @Test
    void currentTokenWithAReadableRecordReturnsTrueAtOnce() throws InterruptedException
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            assertTrue(ring.offer(1, payload(4, 0), 0, 4));
            assertTrue(ring.await(ring.stateToken(), LONG_WAIT_SECONDS, TimeUnit.SECONDS),
                "a committed record at head is something to read");
        }
    }

    @Test
    void currentTokenWithThePendingOverflowListReturnsTrueAtOnce() throws InterruptedException
    {
        try (RingRegion region = RingRegion.allocate(256, 0))
        {
            final Ring ring = new Ring(region);
            for (int i = 0; i < 9; i++)
            {
                offerSeq(ring, 1, 16, i);
            }
            assertTrue(ring.isOverflowPending());
            assertEquals(256, ring.read(heap(256), 0, 256));
            assertTrue(ring.isOverflowPending(), "ring empty, list pending");
            assertTrue(ring.await(ring.stateToken(), LONG_WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    @Test
    void nothingHappeningTimesOutWithFalse() throws InterruptedException
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int token = ring.stateToken();
            assertFalse(ring.await(token, 0, TimeUnit.MILLISECONDS));
            assertFalse(ring.await(token, 20, TimeUnit.MILLISECONDS));
            assertEquals(0, ring.poll(heap(32), 0));

            // A sleeper that timed out may leave WAITERS set; the next producer must still work.
            assertTrue(ring.offer(2, payload(3, 2), 0, 3));
            assertEquals(0, region.buffer().getInt(132) & RingDescriptor.FLAG_WAITERS, "the producer cleared WAITERS");
            assertTrue(ring.await(token, 0, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void anOpenReservationIsNotSomethingToRead() throws InterruptedException
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int index = ring.tryReserve(1, 4);
            final int token = ring.stateToken();
            assertFalse(ring.await(token, 5, TimeUnit.MILLISECONDS), "reserved but not committed");
            ring.commit(index);
            assertTrue(ring.await(token, LONG_WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    @Test
    void sleeperIsWokenByAnOfferFromAnotherThread()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -8))
        {
            final Ring ring = new Ring(region);
            final int token = ring.stateToken();
            final AtomicReference<Object> result = new AtomicReference<>();
            final Thread sleeper = startAwait(ring, token, result, "sleeper");

            awaitParked(sleeper, ring);
            assertTrue(ring.offer(1, payload(4, 0), 0, 4));
            joinOrFail(sleeper);

            assertEquals(Boolean.TRUE, result.get());
            assertEquals(0, region.buffer().getInt(132) & RingDescriptor.FLAG_WAITERS);
        }
    }

    @Test
    void sleeperIsWokenByACommitAfterAReservation()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int token = ring.stateToken();
            final AtomicReference<Object> result = new AtomicReference<>();
            final Thread sleeper = startAwait(ring, token, result, "sleeper");

            awaitParked(sleeper, ring);
            final int index = ring.tryReserve(1, 8);
            ring.commit(index);
            joinOrFail(sleeper);

            assertEquals(Boolean.TRUE, result.get());
            assertEquals(24, ring.poll(heap(64), 0));
        }
    }

    @Test
    void everySleeperWakesOnOneCommit()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int token = ring.stateToken();
            final int sleeperCount = 4;
            final Thread[] sleepers = new Thread[sleeperCount];
            final List<AtomicReference<Object>> results = new ArrayList<>();
            for (int i = 0; i < sleeperCount; i++)
            {
                results.add(new AtomicReference<>());
                sleepers[i] = startAwait(ring, token, results.get(i), "sleeper-" + i);
            }
            for (final Thread sleeper : sleepers)
            {
                awaitParked(sleeper, ring);
            }

            assertTrue(ring.offer(1, payload(4, 0), 0, 4));

            for (int i = 0; i < sleeperCount; i++)
            {
                joinOrFail(sleepers[i]);
                assertEquals(Boolean.TRUE, results.get(i).get(), "sleeper " + i);
            }
        }
    }

    @Test
    void sleeperIsInterruptible()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final AtomicReference<Object> result = new AtomicReference<>();
            final Thread sleeper = startAwait(ring, ring.stateToken(), result, "sleeper");

            awaitParked(sleeper, ring);
            sleeper.interrupt();
            joinOrFail(sleeper);

            assertInstanceOf(InterruptedException.class, result.get());
            assertEquals(0, ring.poll(heap(32), 0), "nothing happened to the ring");
        }
    }

    @Test
    void awaitWithTheInterruptFlagAlreadySetThrows()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            Thread.currentThread().interrupt();
            try
            {
                assertThrows(InterruptedException.class,
                    () -> ring.await(ring.stateToken(), LONG_WAIT_SECONDS, TimeUnit.SECONDS));
            }
            finally
            {
                Thread.interrupted();
            }
        }
    }

    private static Thread startAwait(
        final Ring ring, final int token, final AtomicReference<Object> result, final String name)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                result.set(ring.await(token, LONG_WAIT_SECONDS, TimeUnit.SECONDS));
            }
            catch (final InterruptedException | RuntimeException ex)
            {
                result.set(ex);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
