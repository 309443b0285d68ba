package io.syslet.ring;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * poll and read: batches, limits and refused destinations.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingConsumerTest
{
    private static final int CAPACITY = 1024;
    private static final int[] LENGTHS = { 5, 16, 1, 30, 0 };

    @Test
    void pollAndReadReturnZeroOnAnEmptyRing()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0x7FFF_FFF8))
        {
            final Ring ring = new Ring(region);
            final UnsafeBuffer dst = heap(64);
            dst.setMemory(0, 64, (byte)0x33);
            assertEquals(0, ring.poll(dst, 0));
            assertEquals(0, ring.read(dst, 0, 64));
            assertEquals(0, ring.read(dst, 0, 0));
            for (int i = 0; i < 64; i++)
            {
                assertEquals(0x33, dst.getByte(i), "destination untouched at " + i);
            }
            assertEquals(0x7FFF_FFF8, ring.headPosition());
        }
    }

    @Test
    void readCopiesSeveralRecordsAtAlignedOffsetsWithHeadersIntact()
    {
        final int initial = 0x10_0000;
        try (RingRegion region = RingRegion.allocate(CAPACITY, initial))
        {
            final Ring ring = new Ring(region);
            int expectedBytes = 0;
            for (int i = 0; i < LENGTHS.length; i++)
            {
                assertTrue(ring.offer(1 + i, payload(LENGTHS[i], i), 0, LENGTHS[i]));
                expectedBytes += align8(16 + LENGTHS[i]);
            }
            assertEquals(24 + 32 + 24 + 48 + 16, expectedBytes);

            final UnsafeBuffer dst = heap(8 + expectedBytes + 8);
            assertEquals(expectedBytes, ring.read(dst, 8, expectedBytes + 8));
            int offset = 8;
            int position = initial;
            for (int i = 0; i < LENGTHS.length; i++)
            {
                assertRecord(ring, dst, offset, position, 1 + i, LENGTHS[i], i);
                offset += align8(16 + LENGTHS[i]);
                position += align8(16 + LENGTHS[i]);
            }
            assertEquals(0, dst.getLong(0), "nothing written before dstOffset");
            assertEquals(0, dst.getLong(8 + expectedBytes), "nothing written past the batch");
            assertEquals(position, ring.headPosition());
            assertEquals(0, ring.read(dst, 0, dst.capacity()));
        }
    }

    @Test
    void readStopsBeforeTheRecordThatWouldPassMaxBytes()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            for (int i = 0; i < LENGTHS.length; i++)
            {
                assertTrue(ring.offer(1 + i, payload(LENGTHS[i], i), 0, LENGTHS[i]));
            }
            final UnsafeBuffer dst = heap(256);
            dst.setMemory(0, 256, (byte)0x77);

            assertEquals(24 + 32, ring.read(dst, 0, 24 + 32 + 23), "third record (24 bytes) would pass 79");
            assertRecord(ring, dst, 0, 0, 1, 5, 0);
            assertRecord(ring, dst, 24, 24, 2, 16, 1);
            assertEquals(0x77, dst.getByte(56), "nothing copied past the batch");
            assertEquals(56, ring.headPosition());

            assertEquals(24, ring.read(dst, 0, 24), "maxBytes equal to the aligned length is enough");
            assertRecord(ring, dst, 0, 56, 3, 1, 2);

            assertEquals(48 + 16, ring.read(dst, 0, 64));
            assertRecord(ring, dst, 0, 80, 4, 30, 3);
            assertRecord(ring, dst, 48, 128, 5, 0, 4);
            assertEquals(0, ring.read(dst, 0, 64));
        }
    }

    @Test
    void readWithMaxBytesLargerThanTheDestinationIsRefused()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            assertTrue(ring.offer(1, payload(4, 1), 0, 4));
            final UnsafeBuffer dst = heap(64);
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.read(dst, 0, 65)),
                "64", "65");
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.read(dst, 8, 57)),
                "64", "57", "8");
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.read(dst, -8, 8)), "-8");
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.read(dst, 0, -1)), "-1");
            assertEquals(0, ring.headPosition(), "nothing consumed");
            assertEquals(24, ring.read(dst, 8, 56));
            assertRecord(ring, dst, 8, 0, 1, 4, 1);
        }
    }

    @Test
    void readWhoseFirstRecordDoesNotFitInMaxBytesIsRefusedAndTheRecordStays()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            assertTrue(ring.offer(1, payload(30, 1), 0, 30));   // 46 bytes, 48 aligned
            final UnsafeBuffer dst = heap(256);
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.read(dst, 0, 40)),
                "46", "40");
            // Documented: the aligned length is what must fit, so 46 bytes of room is not enough, and the message
            // says so (naming 48), instead of claiming that 46 bytes do not fit in 46.
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.read(dst, 0, 46)),
                "46", "48", "batch of 46 bytes");
            assertEquals(0, ring.headPosition(), "the record stays in the ring");
            assertEquals(48, ring.read(dst, 0, 48));
            assertRecord(ring, dst, 0, 0, 1, 30, 1);
        }
    }

    @Test
    void pollIntoATooSmallDestinationIsRefusedAndTheRecordStays()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -16))
        {
            final Ring ring = new Ring(region);
            assertTrue(ring.offer(3, payload(20, 3), 0, 20));   // 36 bytes, after a 16-byte skip
            assertTrue(ring.offer(4, payload(2, 4), 0, 2));

            final UnsafeBuffer small = heap(35);
            final IllegalArgumentException ex =
                assertThrows(IllegalArgumentException.class, () -> ring.poll(small, 0));
            assertMessageNames(ex, "36", "35");
            final UnsafeBuffer exact = heap(64);
            assertMessageNames(assertThrows(IllegalArgumentException.class, () -> ring.poll(exact, 29)),
                "36", "35", "29");

            assertEquals(0, ring.headPosition() & (CAPACITY - 1), "head stepped over the skip at most");
            assertEquals(36, ring.poll(exact, 28), "a big enough destination gets the same record");
            assertRecord(ring, exact, 28, 0, 3, 20, 3);
            assertEquals(18, ring.poll(exact, 0));
            assertRecord(ring, exact, 0, 40, 4, 2, 4);
        }
    }

    @Test
    void pollTakesOneRecordAtATimeInOrder()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            for (int i = 0; i < LENGTHS.length; i++)
            {
                assertTrue(ring.offer(1 + i, payload(LENGTHS[i], i), 0, LENGTHS[i]));
            }
            final UnsafeBuffer dst = heap(64);
            int position = 0;
            for (int i = 0; i < LENGTHS.length; i++)
            {
                assertEquals(16 + LENGTHS[i], ring.poll(dst, 0));
                assertRecord(ring, dst, 0, position, 1 + i, LENGTHS[i], i);
                position += align8(16 + LENGTHS[i]);
                assertEquals(position, ring.headPosition());
            }
            assertEquals(0, ring.poll(dst, 0));
        }
    }
}
