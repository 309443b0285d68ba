package io.syslet.ring;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayDeque;
import java.util.Random;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded random single-threaded runs against a plain FIFO model: every operation's result, every
 * delivered byte and the header invariants are checked after each step. Positions start a few laps
 * below 2^32, so each run crosses it; small capacities make skips, full rings and the overflow list
 * frequent.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingModelTest
{
    private static final int STEPS = 20_000;

    private record Expected(int type, byte[] payload)
    {
    }

    /** How often each interesting path ran: a run that never reached one would prove nothing about it. */
    private static final class Coverage
    {
        int skips;
        int insufficient;
        int overflowPending;
        int refusedReads;
        int aborts;
    }

    @ParameterizedTest
    @ValueSource(longs = { 1, 2, 3, 0xC0FFEE })
    void randomOperationsMatchAFifoModel(final long seed)
    {
        final Random random = new Random(seed);
        final int capacity = random.nextBoolean() ? 256 : 512;
        final int initial = -3 * capacity - 8 * random.nextInt(capacity / 8);
        try (RingRegion region = RingRegion.allocate(capacity, initial))
        {
            final Ring ring = new Ring(region);
            final ArrayDeque<Expected> model = new ArrayDeque<>();
            final Coverage coverage = new Coverage();
            final UnsafeBuffer dst = heap(4 * capacity);
            boolean crossed = false;
            int previousTail = initial;

            for (int step = 0; step < STEPS; step++)
            {
                final String where = "seed " + seed + " step " + step;
                final int op = random.nextInt(100);
                if (op < 35)
                {
                    final Expected record = newRecord(random, ring);
                    ring.offer(record.type(), new UnsafeBuffer(record.payload()), 0, record.payload().length);
                    model.addLast(record);
                }
                else if (op < 55)
                {
                    reserve(ring, random, model, coverage, where);
                }
                else if (op < 80)
                {
                    final int length = ring.poll(dst, 0);
                    final Expected expected = model.pollFirst();
                    if (expected == null)
                    {
                        assertEquals(0, length, where);
                    }
                    else
                    {
                        assertDelivered(ring, expected, dst, 0, length, where);
                    }
                }
                else if (op < 95)
                {
                    read(ring, random, model, dst, coverage, where);
                }
                else
                {
                    final int before = ring.overflowSize();
                    final int remaining = ring.flush();
                    assertEquals(ring.overflowSize(), remaining, where);
                    assertTrue(remaining <= before, where);
                }

                final int tail = ring.tailPosition();
                crossed |= Integer.toUnsignedLong(tail) < Integer.toUnsignedLong(previousTail);
                previousTail = tail;
                assertInvariants(ring, capacity, where);
            }

            // Drain what is left.
            while (!model.isEmpty())
            {
                assertDelivered(ring, model.pollFirst(), dst, 0, ring.poll(dst, 0), "drain");
            }
            assertEquals(0, ring.poll(dst, 0));
            assertEquals(0, ring.occupancy());
            assertFalse(ring.isOverflowPending());
            assertTrue(crossed, "the run must cross 2^32");
            assertTrue(coverage.skips > 0, "skips");
            assertTrue(coverage.insufficient > 0, "full ring");
            assertTrue(coverage.overflowPending > 0, "overflow list");
            assertTrue(coverage.refusedReads > 0, "refused reads");
            assertTrue(coverage.aborts > 0, "aborts");
        }
    }

    private static void reserve(
        final Ring ring, final Random random, final ArrayDeque<Expected> model, final Coverage coverage,
        final String where)
    {
        final Expected record = newRecord(random, ring);
        final int length = record.payload().length;
        final int head = ring.headPosition();
        final int tail = ring.tailPosition();
        final boolean pending = ring.isOverflowPending();

        final int index = ring.tryReserve(record.type(), length);
        if (pending)
        {
            assertEquals(Ring.OVERFLOW_PENDING, index, where);
            coverage.overflowPending++;
            return;
        }

        final int capacity = ring.capacity();
        final int required = align8(16 + length);
        final int toEnd = capacity - (tail & (capacity - 1));
        final int skip = required > toEnd ? toEnd : 0;
        if (required + skip > capacity - (tail - head))
        {
            assertEquals(Ring.INSUFFICIENT_CAPACITY, index, where);
            assertEquals(tail, ring.tailPosition(), where);
            coverage.insufficient++;
            return;
        }

        assertEquals(HEADER + ((tail + skip) & (capacity - 1)) + 16, index, where);
        assertEquals(tail + skip + required, ring.tailPosition(), where);
        if (skip != 0)
        {
            coverage.skips++;
            assertEquals(tail ^ salt(ring), ring.buffer().getInt(dataOffset(ring, tail)), where + " skip stamp");
            assertEquals(-skip, ring.buffer().getInt(dataOffset(ring, tail) + 4), where + " skip length");
        }
        ring.buffer().putBytes(index, record.payload());
        if (random.nextInt(5) == 0)
        {
            ring.abort(index);
            coverage.aborts++;
        }
        else
        {
            ring.commit(index);
            model.addLast(record);
        }
    }

    private static void read(
        final Ring ring, final Random random, final ArrayDeque<Expected> model, final UnsafeBuffer dst,
        final Coverage coverage, final String where)
    {
        final int maxBytes = random.nextInt(3 * ring.maxRecordLength() + 1);
        final Expected first = model.peekFirst();
        if (first == null)
        {
            assertEquals(0, ring.read(dst, 0, maxBytes), where);
            return;
        }
        if (align8(16 + first.payload().length) > maxBytes)
        {
            final int head = ring.headPosition();
            assertThrows(IllegalArgumentException.class, () -> ring.read(dst, 0, maxBytes), where);
            assertEquals(model.peekFirst(), first);
            assertTrue(Positions.distance(head, ring.headPosition()) >= 0, where);
            coverage.refusedReads++;
            return;
        }

        final int written = ring.read(dst, 0, maxBytes);
        assertTrue(written > 0 && written <= maxBytes, where + ": wrote " + written + " of " + maxBytes);
        int offset = 0;
        while (offset < written)
        {
            final Expected expected = model.pollFirst();
            assertNotNull(expected, where + ": read delivered more than was offered");
            final int length = dst.getInt(offset + 4);
            assertDelivered(ring, expected, dst, offset, length, where + " at batch offset " + offset);
            offset += align8(length);
        }
        assertEquals(written, offset, where);
        final Expected next = model.peekFirst();
        if (next != null && written + align8(16 + next.payload().length) <= maxBytes && ring.overflowSize() == 0)
        {
            // With no list to flush, everything committed is in the ring: a batch stops only at maxBytes.
            fail(where + ": batch of " + written + " stopped although the next record fit in " + maxBytes);
        }
    }

    private static Expected newRecord(final Random random, final Ring ring)
    {
        final int length = random.nextInt(4) == 0 ? random.nextInt(ring.maxPayloadLength() + 1) : random.nextInt(9);
        final byte[] payload = new byte[length];
        random.nextBytes(payload);
        return new Expected(1 + random.nextInt(1000), payload);
    }

    private static void assertDelivered(
        final Ring ring,
        final Expected expected, final UnsafeBuffer dst, final int offset, final int length, final String where)
    {
        assertEquals(16 + expected.payload().length, length, where + " length");
        assertEquals(length, dst.getInt(offset + 4), where + " header length");
        assertEquals(expected.type(), dst.getInt(offset + 8), where + " type");
        assertEquals(expectedCheck(salt(ring), dst.getInt(offset), length, expected.type()), dst.getInt(offset + 12),
            where + " check");
        final byte[] actual = new byte[expected.payload().length];
        dst.getBytes(offset + 16, actual);
        assertArrayEquals(expected.payload(), actual, where + " payload");
    }

    private static void assertInvariants(final Ring ring, final int capacity, final String where)
    {
        final int occupancy = ring.occupancy();
        assertTrue(occupancy >= 0 && occupancy <= capacity, where + ": occupancy " + occupancy);
        assertEquals(0, occupancy % 8, where);
        assertEquals(0, ring.headPosition() % 8, where);
        assertEquals(ring.overflowSize() > 0, ring.isOverflowPending(), where + ": flag iff list not empty");
        assertEquals(0, ring.buffer().getInt(132) & RingDescriptor.FLAG_WAITERS, where + ": nobody waits");
    }
}
