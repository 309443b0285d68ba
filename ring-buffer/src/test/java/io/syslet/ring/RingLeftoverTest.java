package io.syslet.ring;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bytes an earlier lap left behind tail, crafted to look like a committed entry for the position a
 * consumer will look at next: the right stamp, a plausible length and type, and a check word computed
 * with everything but the region's salt. Consumers never read tail, so only the salted check keeps them
 * from taking such bytes for a record.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingLeftoverTest
{
    private static final int CAPACITY = 1024;
    private static final int FILLER_PAYLOAD = 16;
    private static final int FILLER_SPAN = RECORD_HEADER + FILLER_PAYLOAD;
    /** Where the forged header sits: data offset 32, so it speaks for position CAPACITY + 32 in lap 2. */
    private static final int FORGED_POSITION = CAPACITY + 32;

    /**
     * Payload of a first record at position 0 that holds, at data offset 32, a forged header for
     * {@link #FORGED_POSITION}, and after it 16 forged payload bytes.
     */
    private static UnsafeBuffer craftedPayload(final int forgedLength, final int forgedType, final int guessedSalt)
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[48]);
        payload.putInt(16, FORGED_POSITION);
        payload.putInt(20, forgedLength);
        payload.putInt(24, forgedType);
        payload.putInt(28, expectedCheck(guessedSalt, FORGED_POSITION, forgedLength, forgedType));
        payload.putLong(32, 0x0BAD_F00D_0BAD_F00DL);
        payload.putLong(40, 0x0BAD_F00D_0BAD_F00DL);
        return payload;
    }

    /**
     * Writes the crafted record, then 32-byte fillers (each taken at once) until tail stands on the forgery.
     */
    private static void leaveForgeryAtTail(final Ring ring, final UnsafeBuffer crafted, final UnsafeBuffer dst)
    {
        assertTrue(ring.offer(1, crafted, 0, 48));
        assertEquals(64, ring.poll(dst, 0));
        int seed = 100;
        while (ring.tailPosition() != FORGED_POSITION)
        {
            assertTrue(ring.offer(1, payload(FILLER_PAYLOAD, seed), 0, FILLER_PAYLOAD));
            assertEquals(FILLER_SPAN, ring.poll(dst, 0));
            assertPayload(dst, RECORD_HEADER, FILLER_PAYLOAD, seed++);
        }
        assertEquals(FORGED_POSITION, ring.headPosition());
    }

    @Test
    void aRecordForgedWithoutTheSaltIsNotTakenFromAnEmptyRing() throws InterruptedException
    {
        // Everything right but the salt: the unsalted formula, then the salt with one bit flipped.
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
            {
                final Ring ring = new Ring(region);
                final UnsafeBuffer dst = heap(CAPACITY);
                final int guess = attempt == 0 ? 0 : salt(ring) ^ 1;
                assumeTrue(guess != salt(ring), "this region drew salt 0 (odds 2^-32): the unsalted guess is right");
                leaveForgeryAtTail(ring, craftedPayload(32, 1, guess), dst);

                assertEquals(0, ring.poll(dst, 0), "poll took the forgery (salt guess " + guess + ")");
                assertEquals(0, ring.read(dst, 0, CAPACITY), "read took the forgery");
                assertFalse(ring.await(ring.stateToken(), 0, TimeUnit.MILLISECONDS), "await saw a record");
                assertEquals(FORGED_POSITION, ring.headPosition());

                // The real record written over the forgery comes out, and only it.
                assertTrue(ring.offer(2, payload(40, 9), 0, 40));
                assertEquals(56, ring.poll(dst, 0));
                assertRecord(ring, dst, 0, FORGED_POSITION, 2, 40, 9);
                assertEquals(0, ring.poll(dst, 0));
            }
        }
    }

    /**
     * Producers never let a record cross the end of the data area: they put a skip entry there first. So
     * words that say otherwise, even with the salt right (a writer that can read the mapped file can), are
     * no record: consumers must not copy past the end of the region.
     */
    @Test
    void aRecordThatWouldCrossTheEndOfTheDataAreaIsNotTaken()
    {
        final int position = CAPACITY - 64;
        try (RingRegion region = RingRegion.allocate(CAPACITY, position))
        {
            final Ring ring = new Ring(region);
            final int length = 96;
            final int at = dataOffset(ring, position);
            region.buffer().putInt(at + EntryDescriptor.STAMP_OFFSET, position);
            region.buffer().putInt(at + EntryDescriptor.LENGTH_OFFSET, length);
            region.buffer().putInt(at + EntryDescriptor.TYPE_OFFSET, 1);
            region.buffer().putInt(at + EntryDescriptor.CHECK_OFFSET, expectedCheck(salt(ring), position, length, 1));
            final UnsafeBuffer dst = heap(CAPACITY);
            assertEquals(0, ring.poll(dst, 0));
            assertEquals(0, ring.read(dst, 0, CAPACITY));
            assertEquals(position, ring.headPosition());
        }
    }

    @Test
    void aSkipEntryForgedOverALeftoverIsNotFollowed()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY, 0))
        {
            final Ring ring = new Ring(region);
            final UnsafeBuffer dst = heap(CAPACITY);
            // A skip entry has no check word: its stamp carries the salt. Forged with the position alone and a
            // length that reaches the end exactly, it must not send head to the end of the data area.
            final UnsafeBuffer crafted = craftedPayload(-(CAPACITY - 32), 0, 0);
            assumeTrue(salt(ring) != 0, "this region drew salt 0 (odds 2^-32): an unsalted skip is the real one");
            leaveForgeryAtTail(ring, crafted, dst);
            assertEquals(0, ring.poll(dst, 0));
            assertEquals(FORGED_POSITION, ring.headPosition(), "head did not jump to the end of the data area");
        }
    }

    @Test
    void everyRegionGetsItsOwnSaltAndAMappedFileKeepsIt()
    {
        final Set<Integer> salts = new HashSet<>();
        for (int i = 0; i < 8; i++)
        {
            try (RingRegion region = RingRegion.allocate(CAPACITY))
            {
                salts.add(new Ring(region).buffer().getInt(36));
            }
        }
        // Eight independent 32-bit draws all equal: odds 2^-224.
        assertTrue(salts.size() > 1, "salts " + salts);
    }
}
