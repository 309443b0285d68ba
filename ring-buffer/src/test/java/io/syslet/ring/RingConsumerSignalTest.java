package io.syslet.ring;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The {@link ConsumerSignal}: called for a commit where consumers stand, so a consumer that drains the ring
 * after each signal misses nothing, and not for records committed behind unconsumed ones.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingConsumerSignalTest
{
    private static final int CAPACITY = 1024;

    private final AtomicInteger signals = new AtomicInteger();
    private final UnsafeBuffer dst = heap(CAPACITY);

    @Test
    void theFirstRecordIntoADrainedRingSignalsAndTheOnesBehindItDoNot()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region, signals::incrementAndGet);
            assertTrue(offerSeq(ring, 1, 40, 1));
            assertEquals(1, signals.get(), "a consumer that found the ring empty stands where this record went");
            assertTrue(offerSeq(ring, 1, 40, 2));
            assertTrue(offerSeq(ring, 1, 40, 3));
            assertEquals(1, signals.get(), "records behind an unconsumed one are found by whoever consumes it");

            assertEquals(3 * 56, ring.read(dst, 0, CAPACITY));
            assertEquals(0, ring.read(dst, 0, CAPACITY));
            assertTrue(offerSeq(ring, 1, 40, 4));
            assertEquals(2, signals.get(), "drained: the next record signals again");
        }
    }

    @Test
    void aCommitBehindAnOpenReservationLeavesTheSignalToThatReservationsCommit()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region, signals::incrementAndGet);
            final int first = ring.tryReserve(1, 40);
            final int second = ring.tryReserve(2, 40);
            ring.commit(second);
            assertEquals(0, signals.get());
            assertEquals(0, ring.read(dst, 0, CAPACITY), "the consumer stops at the open reservation");

            ring.commit(first);
            assertEquals(1, signals.get(), "the consumer stands at this record");
            assertEquals(2 * 56, ring.read(dst, 0, CAPACITY), "both records, in order");
            assertEquals(1, dst.getInt(8));
            assertEquals(2, dst.getInt(56 + 8));
        }
    }

    @Test
    void anAbortWhereTheConsumerStandsSignalsSoItReachesTheRecordsBehind()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region, signals::incrementAndGet);
            final int aborted = ring.tryReserve(1, 40);
            final int behind = ring.tryReserve(2, 40);
            ring.commit(behind);
            assertEquals(0, ring.read(dst, 0, CAPACITY));
            assertEquals(0, signals.get());

            ring.abort(aborted);
            assertEquals(1, signals.get(), "without it a consumer waiting at the aborted record would never see the next");
            assertEquals(56, ring.read(dst, 0, CAPACITY));
            assertEquals(2, dst.getInt(8));
        }
    }

    @Test
    void aRecordAfterASkipSignalsWhetherTheConsumerStoodAtTheSkipOrPastIt()
    {
        // 64 bytes before the end of the data area: a 116-byte record needs a skip entry first.
        try (RingRegion region = RingRegion.allocate(CAPACITY, -64))
        {
            final Ring ring = new Ring(region, signals::incrementAndGet);
            assertTrue(ring.offer(5, payload(100, 1), 0, 100));
            assertEquals(1, signals.get(), "consumer at the skip entry's position");
            assertEquals(120, ring.read(dst, 0, CAPACITY));

            // Again a lap later, with the consumer past the skip when the commit lands.
            fillAndDrainUpTo(ring, CAPACITY - 64);
            final int signalsBefore = signals.get();
            final int index = ring.tryReserve(5, 100);
            assertEquals(0, ring.read(dst, 0, CAPACITY), "steps over the skip, stops at the open reservation");
            assertEquals(index - 16, dataOffset(ring, ring.headPosition()), "head moved past the skip");
            ring.commit(index);
            assertEquals(signalsBefore + 1, signals.get());
            assertEquals(120, ring.read(dst, 0, CAPACITY));
        }
    }

    /** Offers and consumes records until the tail sits at {@code offset} in the data area. */
    private void fillAndDrainUpTo(final Ring ring, final int offset)
    {
        int left;
        while ((left = (offset - ring.tailPosition()) & (CAPACITY - 1)) != 0)
        {
            final int record = Math.min(left, ring.maxRecordLength());
            assertTrue(ring.offer(1, payload(record - 16, left), 0, record - 16));
            assertEquals(record, ring.read(dst, 0, CAPACITY));
        }
    }

    @Test
    void entriesOnTheOverflowListSignalWhenTheyReachTheRingWhereTheConsumerStands()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region, signals::incrementAndGet);
            int offered = 0;
            while (offerSeq(ring, 1, 112, offered))
            {
                offered++;
            }
            offered++;
            assertFalse(offerSeq(ring, 1, 112, offered++), "the flag keeps later entries on the list too");
            assertEquals(1, signals.get(), "only the first record into the empty ring");

            int received = 0;
            int bytes;
            while ((bytes = ring.read(dst, 0, CAPACITY)) > 0)
            {
                received += bytes / 128;
            }
            assertEquals(offered, received, "the reads flushed the overflow list into the ring and took all of it");
            assertEquals(2, signals.get(), "the flush landed its first entry where the consumer stood");
            assertFalse(ring.isOverflowPending());
        }
    }

    /**
     * Two producers, a 4 KiB ring that overflows all the time, and one consumer that waits only for the
     * signal (as an epoll loop waits on an eventfd) and then drains: every record arrives once, in each
     * producer's order, and the consumer never waits out the guard with records undelivered.
     */
    @Test
    void aConsumerThatWaitsOnlyForSignalsAndDrainsAfterEachGetsEveryRecord() throws InterruptedException
    {
        final int perProducer = 100_000;
        final AtomicLong pending = new AtomicLong();
        final Thread[] consumerThread = new Thread[1];
        try (RingRegion region = RingRegion.allocate(4096, -2048))
        {
            final Ring ring = new Ring(region, () ->
            {
                pending.incrementAndGet();
                LockSupport.unpark(consumerThread[0]);
            });
            final AtomicReference<String> failure = new AtomicReference<>();
            final int[] received = new int[2];
            consumerThread[0] = new Thread(() ->
            {
                final UnsafeBuffer batch = heap(4096);
                while (received[0] + received[1] < 2 * perProducer && failure.get() == null)
                {
                    final long deadline = System.nanoTime() + GUARD_NANOS;
                    while (pending.getAndSet(0) == 0)
                    {
                        if (System.nanoTime() - deadline > 0)
                        {
                            failure.set("no signal for " + TimeUnit.NANOSECONDS.toSeconds(GUARD_NANOS) + " s with " +
                                (2 * perProducer - received[0] - received[1]) + " records undelivered: a lost wakeup");
                            return;
                        }
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                    }
                    // Drain: until read finds nothing and the overflow list is empty (a reaper of the ring that
                    // finds it empty with OVERFLOW set must flush).
                    int bytes;
                    while ((bytes = ring.read(batch, 0, batch.capacity())) > 0 || ring.isOverflowPending())
                    {
                        if (bytes == 0)
                        {
                            ring.flush();
                        }
                        for (int at = 0; at < bytes; at += align8(batch.getInt(at + 4)))
                        {
                            final int producer = batch.getInt(at + 8) - 1;
                            final int seq = batch.getInt(at + 16);
                            if (seq != received[producer])
                            {
                                failure.compareAndSet(null,
                                    "producer " + producer + ": record " + seq + " where " + received[producer] + " was due");
                            }
                            received[producer]++;
                        }
                    }
                }
            }, "signal-consumer");
            final Thread[] producers = new Thread[2];
            for (int p = 0; p < producers.length; p++)
            {
                final int type = p + 1;
                producers[p] = new Thread(() ->
                {
                    final SplittableRandom random = new SplittableRandom(type);
                    for (int seq = 0; seq < perProducer; seq++)
                    {
                        offerSeq(ring, type, 4 + 8 * random.nextInt(12), seq);
                    }
                }, "signal-producer-" + type);
            }
            consumerThread[0].start();
            for (final Thread producer : producers)
            {
                producer.start();
            }
            for (final Thread producer : producers)
            {
                joinOrFail(producer);
            }
            joinOrFail(consumerThread[0]);
            assertNull(failure.get());
            assertEquals(perProducer, received[0]);
            assertEquals(perProducer, received[1]);
        }
    }
}
