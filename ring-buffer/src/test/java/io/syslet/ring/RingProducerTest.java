package io.syslet.ring;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Reserve, commit, abort and offer: the happy paths at their limits and every refused input.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingProducerTest
{
    private static final int CAPACITY = 1024;

    /**
     * head_cache is a hint that may lag: a producer reads head, stalls, and stores that value after others
     * stored newer ones. docs/ABI.md makes the room test signed so that a lag of more than a lap reads as "no
     * room". But a lag of more than 2^31 + capacity (a producer preempted between its read of head and its store
     * of the cache while 2 GiB went through) makes {@code tail - head_cache} negative as an i32, and the
     * room test then found more room than the capacity: producers reserved over unconsumed records without
     * ever reading head. The state is written directly: this test cannot push 2 GiB through the ring.
     */
    @Test
    void aHeadCacheLaggingByMoreThanHalfThePositionRangeIsNotTakenForRoom()
    {
        for (final long lag : new long[]{ (1L << 31) + 2 * CAPACITY, (1L << 32) - 8, (1L << 32) - 2 * CAPACITY })
        {
            try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
            {
                final Ring ring = new Ring(region);
                int records = 0;
                for (int index; (index = ring.tryReserve(1, 8)) >= 0; records++)
                {
                    region.buffer().putBytes(index, payload(8, records), 0, 8);
                    ring.commit(index);
                }
                assertEquals(CAPACITY / 24, records);
                final int tail = ring.tailPosition();
                assertEquals(0, ring.headPosition());
                // A value head held long ago, stored late: as a u32 it is behind tail by the lag.
                region.buffer().putIntVolatile(256, (int)(tail - lag));
                assertEquals(Ring.INSUFFICIENT_CAPACITY, ring.tryReserve(1, 8),
                    "lag " + lag + ": the ring is full; head, not the stale cache, says so");
                assertFalse(ring.offer(2, payload(8, 2), 0, 8), "lag " + lag + ": a full ring sends it to the list");
                assertEquals(tail, ring.tailPosition(), "lag " + lag + ": nothing reserved over unconsumed records");
                final UnsafeBuffer dst = heap(64);
                for (int i = 0; i < records; i++)
                {
                    assertEquals(24, ring.poll(dst, 0), "lag " + lag + ": record " + i);
                    assertRecord(ring, dst, 0, 24 * i, 1, 8, i);
                }
                assertEquals(24, ring.poll(dst, 0), "lag " + lag + ": then the offered one, from the list");
                assertEquals(2, dst.getInt(8));
                assertPayload(dst, 16, 8, 2);
                assertEquals(0, ring.poll(dst, 0));
            }
        }
    }

    @Test
    void abortedReservationIsSteppedOverByPollAndLaterRecordsKeepTheirOrder()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final AtomicBuffer buffer = region.buffer();
            assertTrue(ring.offer(1, payload(3, 1), 0, 3));                 // position 0, 24 bytes
            final int aborted = ring.tryReserve(2, 8);                      // position 24, 24 bytes
            final int kept = ring.tryReserve(3, 9);                         // position 48, 32 bytes
            assertEquals(512 + 24 + 16, aborted);
            assertEquals(512 + 48 + 16, kept);
            buffer.putBytes(aborted, payload(8, 2), 0, 8);
            buffer.putBytes(kept, payload(9, 3), 0, 9);
            ring.commit(kept);
            ring.abort(aborted);
            assertTrue(ring.offer(4, payload(1, 4), 0, 1));                 // position 80

            assertRecordHeader(ring, buffer, 512 + 24, 24, 24, -1);

            final UnsafeBuffer dst = heap(64);
            assertEquals(19, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 0, 1, 3, 1);
            assertEquals(25, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 48, 3, 9, 3);
            assertEquals(17, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 80, 4, 1, 4);
            assertEquals(0, ring.poll(dst, 0));
            assertEquals(ring.tailPosition(), ring.headPosition());
        }
    }

    @Test
    void abortedReservationIsSteppedOverByRead()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int first = ring.tryReserve(1, 8);
            final int second = ring.tryReserve(2, 8);
            region.buffer().putBytes(second, payload(8, 2), 0, 8);
            ring.abort(first);
            ring.commit(second);
            assertTrue(ring.offer(3, payload(2, 3), 0, 2));

            final UnsafeBuffer dst = heap(256);
            assertEquals(24 + 24, ring.read(dst, 0, 256), "the aborted record takes no room in the batch");
            assertRecord(ring, dst, 0, 24, 2, 8, 2);
            assertRecord(ring, dst, 24, 48, 3, 2, 3);
            assertEquals(0, ring.read(dst, 0, 256));
        }
    }

    @Test
    void onlyAbortedRecordsMeansNothingToDeliver()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            ring.abort(ring.tryReserve(1, 0));
            ring.abort(ring.tryReserve(1, 5));
            assertEquals(0, ring.read(heap(256), 0, 256));
            assertEquals(ring.tailPosition(), ring.headPosition(), "read consumed the padding");
            ring.abort(ring.tryReserve(1, 7));
            assertEquals(0, ring.poll(heap(256), 0));
            assertEquals(ring.tailPosition(), ring.headPosition(), "poll consumed the padding");
        }
    }

    @Test
    void readDoesNotPassAnUncommittedReservation()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int open = ring.tryReserve(1, 4);
            assertTrue(ring.offer(2, payload(4, 2), 0, 4));
            final UnsafeBuffer dst = heap(256);
            assertEquals(0, ring.read(dst, 0, 256), "the record behind an open reservation must wait");
            assertEquals(0, ring.headPosition());

            region.buffer().putBytes(open, payload(4, 1), 0, 4);
            ring.commit(open);
            assertEquals(48, ring.read(dst, 0, 256));
            assertRecord(ring, dst, 0, 0, 1, 4, 1);
            assertRecord(ring, dst, 24, 24, 2, 4, 2);
        }
    }

    @Test
    void pollWaitsForTheProducerOfTheRecordAtHead() throws InterruptedException
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int open = ring.tryReserve(1, 4);
            assertTrue(ring.offer(2, payload(4, 2), 0, 4));

            final UnsafeBuffer dst = heap(64);
            final int[] polled = new int[1];
            final CountDownLatch started = new CountDownLatch(1);
            final Thread consumer = new Thread(() ->
            {
                started.countDown();
                polled[0] = ring.poll(dst, 0);
            }, "poll-consumer");
            consumer.start();
            assertTrue(started.await(10, TimeUnit.SECONDS));
            region.buffer().putBytes(open, payload(4, 1), 0, 4);
            ring.commit(open);
            joinOrFail(consumer);

            assertEquals(20, polled[0]);
            assertRecord(ring, dst, 0, 0, 1, 4, 1);
            assertEquals(20, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 24, 2, 4, 2);
        }
    }

    @Test
    void maximumPayloadFitsAndOneMoreIsRefusedNamingBothSizes()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            assertEquals(112, ring.maxPayloadLength());
            assertEquals(128, ring.maxRecordLength());

            final int index = ring.tryReserve(1, 112);
            region.buffer().putBytes(index, payload(112, 1), 0, 112);
            ring.commit(index);
            assertTrue(ring.offer(2, payload(112, 2), 0, 112));

            final UnsafeBuffer dst = heap(128);
            assertEquals(128, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 0, 1, 112, 1);
            assertEquals(128, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 128, 2, 112, 2);

            final int tail = ring.tailPosition();
            final IllegalArgumentException reserve =
                assertThrows(IllegalArgumentException.class, () -> ring.tryReserve(1, 113));
            assertMessageNames(reserve, "113", "112");
            final IllegalArgumentException offer =
                assertThrows(IllegalArgumentException.class, () -> ring.offer(1, payload(113, 0), 0, 113));
            assertMessageNames(offer, "113", "112");
            assertEquals(tail, ring.tailPosition(), "a refused record reserves nothing");
            assertEquals(0, ring.overflowSize());
        }
    }

    @Test
    void maximumRecordFitsInAnEmptyRingEvenWhenItNeedsTheLongestSkip()
    {
        // Smallest ring: max record 32 bytes. Start 24 bytes before the end: skip 24, then the record.
        try (RingRegion region = RingRegion.allocate(256, -24))
        {
            final Ring ring = new Ring(region);
            assertEquals(16, ring.maxPayloadLength());
            assertTrue(ring.offer(1, payload(16, 1), 0, 16));
            assertEquals(-24, region.buffer().getInt(512 + 256 - 24 + 4));
            assertRecord(ring, region.buffer(), 512, 0, 1, 16, 1);
        }
    }

    @Test
    void typeBelowOneIsRefused()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.tryReserve(0, 4)), "type 0");
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.tryReserve(-1, 4)), "type -1");
            assertMessageNames(
                assertThrows(IllegalArgumentException.class, () -> ring.offer(0, payload(4, 0), 0, 4)), "type 0");
            assertMessageNames(assertThrows(IllegalArgumentException.class,
                () -> ring.offer(Integer.MIN_VALUE, payload(4, 0), 0, 4)), "type " + Integer.MIN_VALUE);
            assertEquals(0, ring.tailPosition());
            final int index = ring.tryReserve(1, 0);
            assertEquals(512 + 16, index, "type 1 is the smallest user type");
            ring.commit(index);
            assertEquals(16, ring.poll(heap(16), 0));
        }
    }

    @Test
    void negativeLengthIsRefused()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.tryReserve(1, -1)), "-1", "negative");
            assertMessageNames(
                assertThrows(IllegalArgumentException.class, () -> ring.offer(1, payload(8, 0), 0, -1)), "-1");
            assertMessageNames(assertThrows(IllegalArgumentException.class,
                () -> ring.tryReserve(1, Integer.MIN_VALUE)), String.valueOf(Integer.MIN_VALUE));
            assertEquals(0, ring.tailPosition());
        }
    }

    @Test
    void offerFromASourceShorterThanOffsetPlusLengthIsRefused()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final UnsafeBuffer src = payload(10, 0);
            assertMessageNames(
                assertThrows(IllegalArgumentException.class, () -> ring.offer(1, src, 0, 11)), "10", "11", "0");
            assertMessageNames(
                assertThrows(IllegalArgumentException.class, () -> ring.offer(1, src, 3, 8)), "10", "8", "3");
            assertMessageNames(
                assertThrows(IllegalArgumentException.class, () -> ring.offer(1, src, -1, 4)), "-1");
            assertMessageNames(assertThrows(IllegalArgumentException.class,
                () -> ring.offer(1, src, Integer.MAX_VALUE, 4)), String.valueOf(Integer.MAX_VALUE));
            assertEquals(0, ring.tailPosition(), "nothing reserved");

            assertTrue(ring.offer(1, src, 2, 8), "offset + length == source length is fine");
            final UnsafeBuffer dst = heap(64);
            assertEquals(24, ring.poll(dst, 0));
            for (int i = 0; i < 8; i++)
            {
                assertEquals(patternByte(0, i + 2), dst.getByte(16 + i));
            }
        }
    }

    @Test
    void commitOrAbortOfAnIndexThatWasNeverReservedIsRefused()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int never = 512 + 16;
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.commit(never)),
                String.valueOf(never), "not an open reservation");
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.abort(never)),
                String.valueOf(never), "not an open reservation");

            final int reserved = ring.tryReserve(1, 8);
            final int beyond = reserved + 24;
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.commit(beyond)),
                String.valueOf(beyond), "not an open reservation");
            ring.commit(reserved);
            assertEquals(24, ring.poll(heap(64), 0));
        }
    }

    @Test
    void doubleCommitAndCommitAfterAbortAreRefused()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int committed = ring.tryReserve(1, 4);
            region.buffer().putBytes(committed, payload(4, 1), 0, 4);
            ring.commit(committed);
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.commit(committed)),
                String.valueOf(committed), "already committed");
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.abort(committed)),
                String.valueOf(committed), "already committed");

            final int aborted = ring.tryReserve(2, 4);
            ring.abort(aborted);
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.commit(aborted)),
                String.valueOf(aborted), "aborted");
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.abort(aborted)),
                String.valueOf(aborted), "aborted");

            // The refused calls changed nothing: the committed record is still whole and first.
            final UnsafeBuffer dst = heap(64);
            assertEquals(20, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 0, 1, 4, 1);
            assertEquals(0, ring.poll(dst, 0));
        }
    }

    @Test
    void doubleCommitIsRefusedEvenWhenTheCheckWordLooksLikeAPendingLength()
    {
        // While reserved, the check field holds the record length. Choose the type so that the final
        // check word of a 24-byte record at position 0 is 64, a plausible length: only the commit word can
        // tell. The type must be >= 1, which half of the random salts allow.
        final int stamp = 0;
        RingRegion drawn = RingRegion.allocate(CAPACITY, stamp);
        while (typeGiving64(drawn) < 1)
        {
            drawn.close();
            drawn = RingRegion.allocate(CAPACITY, stamp);
        }
        final int type = typeGiving64(drawn);
        try (RingRegion region = drawn)
        {
            final Ring ring = new Ring(region);
            final int index = ring.tryReserve(type, 8);
            ring.commit(index);
            assertEquals(64, region.buffer().getInt(index - 4), "check word chosen to look like a length");
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.commit(index)),
                String.valueOf(index));
            assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.abort(index)),
                String.valueOf(index));
            final UnsafeBuffer dst = heap(64);
            assertEquals(24, ring.poll(dst, 0));
            assertRecordHeader(ring, dst, 0, stamp, 24, type);
        }
    }

    private static int typeGiving64(final RingRegion region)
    {
        return 64 ^ ~0 ^ (24 * 0x9E37_79B1) ^ region.buffer().getInt(36);
    }

    @Test
    void commitOrAbortOfAnOutOfRangeOrMisalignedIndexIsRefused()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final int index = ring.tryReserve(1, 8);
            // 512 + CAPACITY: a record header in the last 16 bytes could not hold even an empty record.
            for (final int bad : new int[]{ 0, -16, 16, 511 + 16, 512 + CAPACITY, 512 + CAPACITY + 16,
                Integer.MAX_VALUE, Integer.MIN_VALUE, index + 1, index - 4, index + 4 })
            {
                assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.commit(bad),
                    "commit(" + bad + ")"), "index " + bad);
                assertMessageNames(assertThrows(IllegalStateException.class, () -> ring.abort(bad),
                    "abort(" + bad + ")"), "index " + bad);
            }
            ring.commit(index);
            assertEquals(24, ring.poll(heap(64), 0), "the real reservation was not disturbed");
        }
    }

    @Test
    void reserveReportsInsufficientCapacityWhenFull()
    {
        try (RingRegion region = RingRegion.allocate(256, 0))
        {
            final Ring ring = new Ring(region);
            for (int i = 0; i < 8; i++)
            {
                final int index = ring.tryReserve(1, 16);
                assertTrue(index >= 0, "record " + i);
                ring.commit(index);
            }
            assertEquals(256, ring.occupancy());
            assertEquals(Ring.INSUFFICIENT_CAPACITY, ring.tryReserve(1, 0));
            assertEquals(256, ring.occupancy(), "a refused reservation moves nothing");
            assertFalse(ring.isOverflowPending(), "tryReserve never uses the overflow list");
            assertEquals(32, ring.poll(heap(32), 0));
            assertTrue(ring.tryReserve(1, 16) >= 0, "room again after a poll");
        }
    }
}
