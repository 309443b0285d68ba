package io.syslet.ring;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A short many-producer, many-consumer run on a small ring that starts below 2^32 (so the positions
 * wrap and, when consumers fall behind, the overflow list is used): every record is delivered exactly
 * once, intact, and each consumer sees each producer's records in the order they were offered. The
 * deep concurrency checks (Lincheck, jcstress) live in the tests module; this one keeps the unit suite
 * honest about the basic promise.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingConcurrencyTest
{
    private static final int PRODUCERS = 2;
    private static final int PER_PRODUCER = 10_000;
    private static final int TOTAL = PRODUCERS * PER_PRODUCER;

    /**
     * @param reserve true: producers use tryReserve/commit (retrying while full, with an aborted
     *                reservation before every seventh record), so only the lock-free path runs; false:
     *                producers use offer, which under a consumer that falls behind goes mostly through the list.
     */
    @ParameterizedTest
    @ValueSource(booleans = { false, true })
    void everyRecordOnceAndInPerProducerOrder(final boolean reserve)
    {
        try (RingRegion region = RingRegion.allocate(1024, -4096))
        {
            final Ring ring = new Ring(region);
            final AtomicIntegerArray seen = new AtomicIntegerArray(TOTAL);
            final AtomicInteger delivered = new AtomicInteger();
            final AtomicInteger viaList = new AtomicInteger();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final CyclicBarrier start = new CyclicBarrier(PRODUCERS + 2);
            final long deadline = System.nanoTime() + GUARD_NANOS;

            final Thread[] threads = new Thread[PRODUCERS + 2];
            for (int p = 0; p < PRODUCERS; p++)
            {
                final int producer = p;
                threads[p] = new Thread(() -> run(start, failure, () ->
                {
                    final UnsafeBuffer src = heap(64);
                    for (int seq = 0; seq < PER_PRODUCER; seq++)
                    {
                        final int length = 8 + (seq % 5) * 8 + seq % 3;
                        src.putInt(0, producer);
                        src.putInt(4, seq);
                        for (int i = 8; i < length; i++)
                        {
                            src.putByte(i, patternByte(seq, i));
                        }
                        if (reserve)
                        {
                            if (seq % 7 == 3)
                            {
                                ring.abort(reserveRetrying(ring, 1 + producer, 12, failure, deadline));
                            }
                            final int index = reserveRetrying(ring, 1 + producer, length, failure, deadline);
                            ring.buffer().putBytes(index, src, 0, length);
                            ring.commit(index);
                        }
                        else if (!ring.offer(1 + producer, src, 0, length))
                        {
                            viaList.incrementAndGet();
                        }
                    }
                }), "producer-" + p);
            }
            threads[PRODUCERS] = new Thread(() -> run(start, failure, () ->
            {
                final UnsafeBuffer dst = heap(64);
                final int[] last = newLast();
                while (delivered.get() < TOTAL && failure.get() == null && System.nanoTime() - deadline < 0)
                {
                    final int token = ring.stateToken();
                    final int length = ring.poll(dst, 0);
                    if (length > 0)
                    {
                        check(ring, dst, 0, length, last, seen);
                        delivered.incrementAndGet();
                    }
                    else
                    {
                        idle(ring, token);
                    }
                }
            }), "poll-consumer");
            threads[PRODUCERS + 1] = new Thread(() -> run(start, failure, () ->
            {
                final UnsafeBuffer dst = heap(512);
                final int[] last = newLast();
                while (delivered.get() < TOTAL && failure.get() == null && System.nanoTime() - deadline < 0)
                {
                    final int token = ring.stateToken();
                    final int written = ring.read(dst, 0, 512);
                    if (written == 0)
                    {
                        idle(ring, token);
                    }
                    int offset = 0;
                    while (offset < written)
                    {
                        final int length = dst.getInt(offset + 4);
                        check(ring, dst, offset, length, last, seen);
                        delivered.incrementAndGet();
                        offset += align8(length);
                    }
                }
            }), "read-consumer");

            for (final Thread thread : threads)
            {
                thread.start();
            }
            for (final Thread thread : threads)
            {
                joinOrFail(thread);
            }

            if (failure.get() != null)
            {
                throw new AssertionError("reserve=" + reserve + ": " + failure.get(), failure.get());
            }
            assertEquals(TOTAL, delivered.get(), "delivered");
            if (reserve)
            {
                assertEquals(0, viaList.get());
                assertEquals(0, ring.overflowSize(), "tryReserve never uses the list");
            }
            for (int i = 0; i < TOTAL; i++)
            {
                assertEquals(1, seen.get(i), "record " + i + " (producer " + i / PER_PRODUCER + ")");
            }
            assertEquals(0, ring.poll(heap(64), 0));
            assertFalse(ring.isOverflowPending());
            assertEquals(0, ring.occupancy());
        }
    }

    private static int reserveRetrying(
        final Ring ring,
        final int type,
        final int length,
        final AtomicReference<Throwable> failure,
        final long deadline)
    {
        while (true)
        {
            if (failure.get() != null || System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("gave up: ring head " + Positions.unsigned(ring.headPosition()) +
                    ", tail " + Positions.unsigned(ring.tailPosition()) + ", occupancy " + ring.occupancy());
            }
            final int index = ring.tryReserve(type, length);
            if (index >= 0)
            {
                return index;
            }
            assertEquals(Ring.INSUFFICIENT_CAPACITY, index, "nobody offers, so the list stays empty");
            Thread.yield();
        }
    }

    /**
     * Sleeps instead of spinning when there is nothing to take: on a small shared machine spinning
     * consumers starve the producers they wait for. The result does not matter, only the yield.
     */
    private static void idle(final Ring ring, final int token)
    {
        try
        {
            ring.await(token, 1, TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private static int[] newLast()
    {
        final int[] last = new int[PRODUCERS];
        Arrays.fill(last, -1);
        return last;
    }

    private static void check(
        final Ring ring,
        final UnsafeBuffer dst, final int offset, final int length, final int[] last, final AtomicIntegerArray seen)
    {
        final int producer = dst.getInt(offset + 16);
        final int seq = dst.getInt(offset + 20);
        assertTrue(producer >= 0 && producer < PRODUCERS, "producer " + producer);
        assertEquals(1 + producer, dst.getInt(offset + 8), "type");
        assertEquals(16 + 8 + (seq % 5) * 8 + seq % 3, length, "length of " + producer + "/" + seq);
        assertEquals(expectedCheck(salt(ring), dst.getInt(offset), length, 1 + producer), dst.getInt(offset + 12), "check");
        for (int i = 8; i < length - 16; i++)
        {
            assertEquals(patternByte(seq, i), dst.getByte(offset + 16 + i), "payload byte " + i);
        }
        assertTrue(seq > last[producer], "producer " + producer + ": " + seq + " after " + last[producer]);
        last[producer] = seq;
        seen.incrementAndGet(producer * PER_PRODUCER + seq);
    }

    private static void run(final CyclicBarrier start, final AtomicReference<Throwable> failure, final Runnable body)
    {
        try
        {
            start.await();
            body.run();
        }
        catch (final Throwable ex)
        {
            failure.compareAndSet(null, ex);
        }
    }
}
