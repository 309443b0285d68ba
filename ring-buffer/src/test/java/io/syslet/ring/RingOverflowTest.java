package io.syslet.ring;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The overflow list: offer never loses an entry, order is kept across ring and list, and the OVERFLOW
 * flag in the tail word is set exactly while the list holds entries.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingOverflowTest
{
    private static final int CAPACITY = 1024;
    /** 112 + 16 = 128 bytes: exactly 8 records fill the ring. */
    private static final int PAYLOAD = 112;
    private static final int RECORD = 128;
    private static final int FILL = CAPACITY / RECORD;

    @Test
    void fullRingSendsOffersToTheListAndPollDeliversEachExactlyOnceInOrder()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -3 * RECORD))
        {
            final Ring ring = new Ring(region);
            for (int seq = 0; seq < FILL; seq++)
            {
                assertTrue(offerSeq(ring, 1, PAYLOAD, seq), "record " + seq + " fits in the ring");
            }
            assertEquals(CAPACITY, ring.occupancy());
            assertFalse(ring.isOverflowPending());
            assertEquals(0, region.buffer().getInt(132) & RingDescriptor.FLAG_OVERFLOW);

            final int total = FILL + 5;
            for (int seq = FILL; seq < total; seq++)
            {
                assertFalse(offerSeq(ring, 1 + seq % 3, seq % 2 == 0 ? PAYLOAD : 4, seq),
                    "record " + seq + " goes through the list");
                assertTrue(ring.isOverflowPending());
                assertEquals(RingDescriptor.FLAG_OVERFLOW, region.buffer().getInt(132) & RingDescriptor.FLAG_OVERFLOW,
                    "OVERFLOW is bit 0 of the producer flags word");
                assertEquals(Ring.OVERFLOW_PENDING, ring.tryReserve(1, 0));
            }
            assertEquals(5, ring.overflowSize());

            final UnsafeBuffer dst = heap(RECORD);
            int delivered = 0;
            while (true)
            {
                final int length = ring.poll(dst, 0);
                if (length == 0)
                {
                    break;
                }
                final int seq = dst.getInt(16);
                assertEquals(delivered, seq, "FIFO across ring and overflow list");
                final int payloadLength = seq < FILL || seq % 2 == 0 ? PAYLOAD : 4;
                assertEquals(16 + payloadLength, length);
                assertEquals(seq < FILL ? 1 : 1 + seq % 3, dst.getInt(8), "type of " + seq);
                assertPayload(dst, 20, payloadLength - 4, seq, 4);
                delivered++;
                assertEquals(ring.overflowSize() > 0, ring.isOverflowPending(),
                    "flag set exactly while the list is not empty (after " + delivered + " polls)");
                if (ring.isOverflowPending())
                {
                    assertEquals(Ring.OVERFLOW_PENDING, ring.tryReserve(1, 0), "no reservation may jump the list");
                }
            }
            assertEquals(total, delivered, "every record exactly once");
            assertFalse(ring.isOverflowPending());
            assertEquals(0, ring.overflowSize());
            assertEquals(0, region.buffer().getInt(132), "no producer flag left set");
            assertEquals(0, ring.occupancy());
            assertTrue(ring.tryReserve(1, 0) >= 0, "reservations work again once the list is empty");
        }
    }

    @Test
    void offerWhileTheListIsPendingGoesBehindItEvenWhenTheRingHasRoom()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            for (int seq = 0; seq < FILL; seq++)
            {
                assertTrue(offerSeq(ring, 1, PAYLOAD, seq));
            }
            assertFalse(offerSeq(ring, 1, PAYLOAD, FILL));
            assertFalse(offerSeq(ring, 1, PAYLOAD, FILL + 1));

            final UnsafeBuffer dst = heap(RECORD);
            assertEquals(RECORD, ring.poll(dst, 0));
            assertEquals(0, dst.getInt(16));
            assertTrue(ring.isOverflowPending(), "the ring had records, so poll did not flush");
            assertEquals(Ring.OVERFLOW_PENDING, ring.tryReserve(1, 4), "room in the ring, but the list is first");

            // This offer flushes the list as far as room allows and then queues behind it.
            assertFalse(offerSeq(ring, 1, 4, FILL + 2));
            assertEquals(2, ring.overflowSize(), "one list entry moved into the freed room");

            for (int seq = 1; seq <= FILL + 2; seq++)
            {
                assertTrue(ring.poll(dst, 0) > 0);
                assertEquals(seq, dst.getInt(16));
            }
            assertEquals(0, ring.poll(dst, 0));
            assertFalse(ring.isOverflowPending());
        }
    }

    @Test
    void flushReturnsTheEntriesStillOnTheList()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            assertEquals(0, ring.flush(), "nothing to flush");
            for (int seq = 0; seq < FILL + 3; seq++)
            {
                offerSeq(ring, 1, PAYLOAD, seq);
            }
            assertEquals(3, ring.overflowSize());
            assertEquals(3, ring.flush(), "ring full: nothing moves");

            final UnsafeBuffer dst = heap(RECORD);
            assertEquals(RECORD, ring.poll(dst, 0));
            assertEquals(2, ring.flush(), "room for one");
            assertTrue(ring.isOverflowPending());
            assertEquals(CAPACITY, ring.occupancy());

            assertEquals(RECORD, ring.poll(dst, 0));
            assertEquals(RECORD, ring.poll(dst, 0));
            assertEquals(0, ring.flush(), "room for both");
            assertFalse(ring.isOverflowPending(), "flush clears the flag once the list is empty");
            assertEquals(0, ring.flush());

            for (int seq = 3; seq < FILL + 3; seq++)
            {
                assertEquals(RECORD, ring.poll(dst, 0));
                assertEquals(seq, dst.getInt(16));
            }
            assertEquals(0, ring.poll(dst, 0));
        }
    }

    @Test
    void readAlsoFlushesTheListWhenTheRingIsEmpty()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -RECORD))
        {
            final Ring ring = new Ring(region);
            for (int seq = 0; seq < FILL + 3; seq++)
            {
                offerSeq(ring, 1, PAYLOAD, seq);
            }
            final UnsafeBuffer dst = heap(4096);
            assertEquals(CAPACITY, ring.read(dst, 0, 4096), "first batch: the whole ring");
            for (int seq = 0; seq < FILL; seq++)
            {
                assertEquals(seq, dst.getInt(seq * RECORD + 16));
            }
            assertTrue(ring.isOverflowPending());
            assertEquals(3, ring.overflowSize());

            assertEquals(3 * RECORD, ring.read(dst, 0, 4096), "empty ring: read flushes the list, then reads it");
            for (int seq = FILL; seq < FILL + 3; seq++)
            {
                assertRecordHeader(ring, dst, (seq - FILL) * RECORD, seq * RECORD - RECORD, RECORD, 1);
                assertEquals(seq, dst.getInt((seq - FILL) * RECORD + 16));
            }
            assertFalse(ring.isOverflowPending());
            assertEquals(0, ring.overflowSize());
            assertEquals(0, ring.read(dst, 0, 4096));
        }
    }

    @Test
    void pollOnAnEmptyRingFlushesTheList()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            for (int seq = 0; seq < FILL + 1; seq++)
            {
                offerSeq(ring, 1, PAYLOAD, seq);
            }
            final UnsafeBuffer dst = heap(4096);
            assertEquals(CAPACITY, ring.read(dst, 0, 4096));
            assertEquals(1, ring.overflowSize());
            assertEquals(RECORD, ring.poll(dst, 0));
            assertEquals(FILL, dst.getInt(16));
            assertEquals(CAPACITY, dst.getInt(0), "stamped with the position it got when flushed");
            assertFalse(ring.isOverflowPending());
        }
    }

    /**
     * The overflow list belongs to the instance whose offers filled it. Another instance over the same
     * region (a consumer in another process, say) that finds the ring empty with OVERFLOW set can neither
     * flush it nor clear the flag: it answers empty, and the owner's entries keep their place in line.
     */
    @Test
    void anotherInstanceOverTheRegionLeavesTheOwnersFlagAndListAlone()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring owner = new Ring(region);
            // A ring over the same memory but not made from the region: what a consumer in another process has.
            final Ring other = new Ring(region.buffer());
            for (int seq = 0; seq < FILL + 2; seq++)
            {
                offerSeq(owner, 1, PAYLOAD, seq);
            }
            assertEquals(2, owner.overflowSize());
            final UnsafeBuffer dst = heap(4096);
            for (int seq = 0; seq < FILL; seq++)
            {
                assertEquals(RECORD, other.poll(dst, 0));
                assertEquals(seq, dst.getInt(16));
            }
            assertEquals(0, other.poll(dst, 0), "the other instance cannot flush the owner's list");
            assertEquals(0, other.read(dst, 0, 4096));
            assertTrue(owner.isOverflowPending(), "OVERFLOW stays set while the owner's list holds entries");
            assertFalse(offerSeq(owner, 1, PAYLOAD, FILL + 2), "a new offer still goes behind the list");
            for (int seq = FILL; seq < FILL + 3; seq++)
            {
                assertEquals(RECORD, owner.poll(dst, 0));
                assertEquals(seq, dst.getInt(16), "the owner delivers its list in order");
            }
            assertFalse(owner.isOverflowPending());
            assertEquals(0, owner.poll(dst, 0));
        }
    }

    private static void assertPayload(
        final UnsafeBuffer dst, final int offset, final int length, final int seed, final int skip)
    {
        for (int i = 0; i < length; i++)
        {
            assertEquals(patternByte(seed, i + skip), dst.getByte(offset + i), "payload byte " + (i + skip));
        }
    }
}
