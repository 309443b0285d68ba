package io.syslet.ring;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The end of the data area (skip entries) and the end of the 32-bit position range (2^32).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingWrapTest
{
    private static final int CAPACITY = 1024;

    @Test
    void recordThatDoesNotFitBeforeTheEndIsPrecededByASkipAndCrossesTwoToThe32()
    {
        final int initial = -64;
        try (RingRegion region = RingRegion.allocate(CAPACITY, initial))
        {
            final Ring ring = new Ring(region);
            final AtomicBuffer buffer = region.buffer();
            final int skipOffset = 512 + CAPACITY - 64;
            assertEquals(skipOffset, dataOffset(ring, initial));
            assertEquals(0xFFFF_FFC0L, Integer.toUnsignedLong(ring.tailPosition()));

            // 116-byte record occupies 120: it does not fit in the 64 bytes left before the end.
            assertTrue(ring.offer(5, payload(100, 11), 0, 100));

            assertEquals(initial ^ salt(ring), buffer.getInt(skipOffset), "skip stamp = old tail position ^ salt");
            assertEquals(-64, buffer.getInt(skipOffset + 4), "skip length = -(bytes to end)");
            assertRecord(ring, buffer, 512, 0, 5, 100, 11);

            final int tail = ring.tailPosition();
            assertEquals(120L, Integer.toUnsignedLong(tail), "tail crossed 2^32");
            assertTrue(Integer.toUnsignedLong(tail) < Integer.toUnsignedLong(initial), "unsigned value wrapped");
            assertEquals(64 + 120, Positions.distance(initial, tail));
            assertTrue(Positions.isBefore(initial, tail));
            assertEquals(184, ring.occupancy());

            final UnsafeBuffer dst = heap(256);
            assertEquals(116, ring.poll(dst, 8));
            assertRecord(ring, dst, 8, 0, 5, 100, 11);
            assertEquals(tail, ring.headPosition());
            assertEquals(0, ring.occupancy());
            assertEquals(0, ring.poll(dst, 0));
        }
    }

    @Test
    void readStepsOverTheSkipEntry()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -64))
        {
            final Ring ring = new Ring(region);
            assertTrue(ring.offer(1, payload(40, 1), 0, 40));   // 56 bytes at offset 960, 8 left
            assertTrue(ring.offer(2, payload(30, 2), 0, 30));   // skip 8, then 48 bytes at offset 0
            assertEquals(-8 ^ salt(ring), region.buffer().getInt(512 + CAPACITY - 8), "8-byte skip stamp");
            assertEquals(-8, region.buffer().getInt(512 + CAPACITY - 8 + 4), "8-byte skip length");

            final UnsafeBuffer dst = heap(512);
            assertEquals(56 + 48, ring.read(dst, 0, 512), "the skip is not copied");
            assertRecord(ring, dst, 0, -64, 1, 40, 1);
            assertRecord(ring, dst, 56, 0, 2, 30, 2);
            assertEquals(48, ring.headPosition());
        }
    }

    @Test
    void eightByteSkipWhenExactlyEightBytesAreLeft()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -8))
        {
            final Ring ring = new Ring(region);
            final AtomicBuffer buffer = region.buffer();
            assertTrue(ring.offer(3, payload(0, 0), 0, 0));    // 16 bytes: one more than fits in 8

            final int skipOffset = 512 + CAPACITY - 8;
            assertEquals(-8 ^ salt(ring), buffer.getInt(skipOffset), "stamp");
            assertEquals(-8, buffer.getInt(skipOffset + 4), "length");
            assertRecordHeader(ring, buffer, 512, 0, 16, 3);
            assertEquals(16, ring.tailPosition());

            final UnsafeBuffer dst = heap(16);
            assertEquals(16, ring.poll(dst, 0), "a destination of exactly the record length is enough");
            assertRecordHeader(ring, dst, 0, 0, 16, 3);
            assertEquals(16, ring.headPosition());
        }
    }

    @Test
    void recordThatEndsExactlyAtTheEndNeedsNoSkip()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -24))
        {
            final Ring ring = new Ring(region);
            final AtomicBuffer buffer = region.buffer();
            assertTrue(ring.offer(4, payload(8, 4), 0, 8));    // 24 bytes, 24 left
            assertRecord(ring, buffer, 512 + CAPACITY - 24, -24, 4, 8, 4);
            assertEquals(0, ring.tailPosition(), "tail is exactly 2^32");
            assertTrue(ring.offer(5, payload(8, 5), 0, 8));
            assertRecord(ring, buffer, 512, 0, 5, 8, 5);

            final UnsafeBuffer dst = heap(64);
            assertEquals(24, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, -24, 4, 8, 4);
            assertEquals(24, ring.poll(dst, 24));
            assertRecord(ring, dst, 24, 0, 5, 8, 5);
        }
    }

    @Test
    void abortedRecordAfterASkipIsSteppedOver()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, -8))
        {
            final Ring ring = new Ring(region);
            final int index = ring.tryReserve(2, 4);
            assertEquals(512 + 16, index, "record after the skip lands at data offset 0");
            ring.abort(index);
            assertRecordHeader(ring, region.buffer(), 512, 0, 20, -1);
            assertTrue(ring.offer(6, payload(4, 6), 0, 4));

            final UnsafeBuffer dst = heap(64);
            assertEquals(20, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 24, 6, 4, 6);
            assertEquals(0, ring.poll(dst, 0));
        }
    }

    @Test
    void manyLapsAcrossTwoToThe32KeepEveryRecordIntact()
    {
        final int capacity = 256;
        // Positions start 8 laps below 2^32 and run 64 laps: they cross 2^32 with the data area wrapping too.
        final int initial = -8 * capacity - 40;
        try (RingRegion region = RingRegion.allocate(capacity, initial))
        {
            final Ring ring = new Ring(region);
            final UnsafeBuffer dst = heap(64);
            int expectedHead = initial;
            boolean crossed = false;
            for (int i = 0; i < 64 * capacity / 24; i++)
            {
                final int length = i % 17;
                final int before = ring.tailPosition();
                assertTrue(ring.offer(1 + i % 5, payload(length, i), 0, length));
                final int recordLength = 16 + length;
                final int toEnd = capacity - (before & (capacity - 1));
                final int stamp = align8(recordLength) > toEnd ? before + toEnd : before;
                assertEquals(recordLength, ring.poll(dst, 0), "record " + i);
                assertRecord(ring, dst, 0, stamp, 1 + i % 5, length, i);
                expectedHead = stamp + align8(recordLength);
                assertEquals(expectedHead, ring.headPosition());
                crossed |= Integer.toUnsignedLong(expectedHead) < Integer.toUnsignedLong(before);
            }
            assertTrue(crossed, "positions must have crossed 2^32");
            assertTrue(Positions.isBefore(initial, expectedHead));
        }
    }
}
