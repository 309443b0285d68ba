package io.syslet.cli;

import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.Ring;
import io.syslet.ring.RingDescriptor;
import io.syslet.ring.RingFormatException;
import io.syslet.ring.RingRegion;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingPeekerTest
{
    private static final int CAPACITY = 4096;
    /** Just below 2^32, so the positions wrap during the tests. */
    private static final int START = 0xFFFF_F800;

    private final RingRegion region = RingRegion.allocate(CAPACITY, START);
    private final Ring ring = new Ring(region);
    private final UnsafeBuffer copy = new UnsafeBuffer(new byte[CAPACITY / 8]);

    @AfterEach
    void free()
    {
        region.close();
    }

    @Test
    void peeksEveryRecordInOrderAcrossTheWrapAndTheOwnerStillTakesThemAll()
    {
        final RingPeeker peeker = new RingPeeker(region.buffer());
        final List<Integer> sizes = new ArrayList<>();
        // Uneven sizes up to the largest payload: the ring ends up with skip entries at its end.
        for (int i = 0; i < 9; i++)
        {
            final int size = 8 + (i * 97) % (ring.maxPayloadLength() - 8);
            offer(i, size);
            sizes.add(size);
        }
        final int head = ring.headPosition();
        for (int i = 0; i < sizes.size(); i++)
        {
            final int length = peeker.peek(copy, 0);
            assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + sizes.get(i), length, "record " + i);
            assertRecord(i, sizes.get(i));
        }
        assertEquals(RingPeeker.NOTHING, peeker.peek(copy, 0), "nothing after the tail");
        assertEquals(head, ring.headPosition(), "peeking never moves head");
        for (int i = 0; i < sizes.size(); i++)
        {
            assertTrue(ring.poll(copy, 0) > 0, "the owner takes record " + i);
            assertRecord(i, sizes.get(i));
        }
    }

    @Test
    void followsAnOwnerThatConsumesEachRecordAtOnce()
    {
        final RingPeeker peeker = new RingPeeker(region.buffer());
        final UnsafeBuffer taken = new UnsafeBuffer(new byte[CAPACITY / 8]);
        for (int i = 0; i < 100; i++) // about 3 laps of the ring, one record at a time
        {
            offer(i, 100);
            assertTrue(ring.poll(taken, 0) > 0);
            assertEquals(ring.headPosition(), ring.tailPosition(), "the owner took it");
            assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + 100, peeker.peek(copy, 0), "record " + i);
            assertRecord(i, 100);
        }
        assertEquals(0, peeker.missedBytes());
    }

    @Test
    void aLappedReaderIsToldHowManyBytesItMissedAndGoesOnFromHead()
    {
        final RingPeeker peeker = new RingPeeker(region.buffer());
        final int from = peeker.position();
        final UnsafeBuffer taken = new UnsafeBuffer(new byte[CAPACITY / 8]);
        for (int i = 0; i < 60; i++) // 60 x 120 bytes: more than a lap past the peeker
        {
            offer(i, 104);
            ring.poll(taken, 0);
        }
        offer(60, 104); // left in the ring: head is at it
        final int head = ring.headPosition();
        assertEquals(RingPeeker.LAPPED, peeker.peek(copy, 0));
        assertEquals(Integer.toUnsignedLong(head - from), peeker.lastMissedBytes());
        assertTrue(peeker.lastMissedBytes() >= 60 * 120, "60 records of 120 bytes, and skip entries");
        assertEquals(head, peeker.position());
        assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + 104, peeker.peek(copy, 0));
        assertRecord(60, 104);
        assertEquals(RingPeeker.NOTHING, peeker.peek(copy, 0));
    }

    @Test
    void aRecordOverwrittenWhileItIsBeingCopiedIsALapNotADelivery()
    {
        final RingPeeker peeker = new RingPeeker(region.buffer());
        offer(1, 100);
        final UnsafeBuffer taken = new UnsafeBuffer(new byte[CAPACITY / 8]);
        // The writer laps the reader right after the copy, before the re-check: the copy cannot be trusted.
        final UnsafeBuffer lappedDuringCopy = new UnsafeBuffer(new byte[CAPACITY / 8])
        {
            private boolean lapped;

            @Override
            public void putBytes(final int index, final org.agrona.DirectBuffer src, final int srcIndex, final int length)
            {
                super.putBytes(index, src, srcIndex, length);
                for (int i = 0; !lapped && i < 40; i++) // 40 x 120 bytes: more than a lap
                {
                    offer(2 + i, 104);
                    ring.poll(taken, 0);
                }
                lapped = true;
            }
        };
        assertEquals(RingPeeker.LAPPED, peeker.peek(lappedDuringCopy, 0));
        assertTrue(peeker.lastMissedBytes() > CAPACITY, "record 1 and the lap after it: " + peeker.lastMissedBytes());
        assertEquals(ring.headPosition(), peeker.position());
    }

    @Test
    void aReservationIsNothingUntilCommittedAndAnAbortedOneIsSteppedOver()
    {
        final RingPeeker peeker = new RingPeeker(region.buffer());
        final int open = ring.tryReserve(1, 16);
        assertTrue(open >= 0);
        assertEquals(RingPeeker.NOTHING, peeker.peek(copy, 0), "reserved, not committed");
        ring.abort(open);
        assertEquals(RingPeeker.NOTHING, peeker.peek(copy, 0), "aborted: padding, nothing to deliver");
        offer(5, 40);
        assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + 40, peeker.peek(copy, 0));
        assertRecord(5, 40);
    }

    /**
     * A record whose check word does not match is not committed (ABI section 6): bytes of an earlier lap
     * that a reservation has not covered yet can hold anything, a plausible stamp included. So are words
     * whose length would cross the end of the data area. The peeker waits there, as a consumer would.
     */
    @Test
    void aRecordThatFailsItsChecksIsNotCommittedYet()
    {
        final RingPeeker peeker = new RingPeeker(region.buffer());
        offer(1, 32);
        final int position = ring.headPosition();
        final int entry = entryOffset(position);
        final int check = region.buffer().getInt(entry + EntryDescriptor.CHECK_OFFSET);
        region.buffer().putInt(entry + EntryDescriptor.CHECK_OFFSET, check ^ 1);
        assertEquals(RingPeeker.NOTHING, peeker.peek(copy, 0), "check word off by one bit");
        final int length = region.buffer().getInt(entry + EntryDescriptor.LENGTH_OFFSET);
        region.buffer().putInt(entry + EntryDescriptor.CHECK_OFFSET, check);
        region.buffer().putInt(entry + EntryDescriptor.LENGTH_OFFSET, CAPACITY - (position & (CAPACITY - 1)) + 8);
        assertEquals(RingPeeker.NOTHING, peeker.peek(copy, 0), "a length that crosses the end of the data area");
        region.buffer().putInt(entry + EntryDescriptor.LENGTH_OFFSET, length);
        assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + 32, peeker.peek(copy, 0), "committed after all");
        assertRecord(1, 32);
    }

    /**
     * A skip entry carries the salt in its stamp, which only a producer knows: one that does not reach the
     * end of the data area is damage, and an error naming its position.
     */
    @Test
    void aDamagedSkipEntryIsAnErrorNamingItsPosition()
    {
        final RingPeeker peeker = new RingPeeker(region.buffer());
        offer(1, 32);
        final int position = ring.headPosition();
        final int entry = entryOffset(position);
        final int salt = region.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET);
        region.buffer().putInt(entry + EntryDescriptor.STAMP_OFFSET, EntryDescriptor.skipStamp(position, salt));
        region.buffer().putInt(entry + EntryDescriptor.LENGTH_OFFSET, -48);
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> peeker.peek(copy, 0));
        assertTrue(e.getMessage().startsWith("ring damaged at position " + Integer.toUnsignedString(position)),
            e.getMessage());
    }

    @Test
    void aRegionThatIsNotARingIsRefused()
    {
        final UnsafeBuffer zeros = new UnsafeBuffer(ByteBuffer.allocateDirect(RingDescriptor.regionLength(CAPACITY)));
        final RingFormatException e = assertThrows(RingFormatException.class, () -> new RingPeeker(zeros));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
    }

    /**
     * A writer that produces and consumes as fast as it can while the peeker follows: the peeker is lapped
     * again and again, and whatever it delivers must be whole (checksum) and in order; what it loses it
     * counts as missed bytes. Stops after a fixed number of records, not a time.
     */
    @Test
    void underAFastWriterEveryRecordDeliveredIsIntactAndInOrder() throws Exception
    {
        final int records = 50_000;
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicLong seen = new AtomicLong(-1);
        final AtomicInteger caughtUp = new AtomicInteger(START - 8);
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread writer = new Thread(() ->
        {
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[ring.maxPayloadLength()]);
            final UnsafeBuffer taken = new UnsafeBuffer(new byte[CAPACITY / 8]);
            final CRC32C crc = new CRC32C();
            try
            {
                for (long sequence = 0; sequence < records; sequence++)
                {
                    final int length = 16 + (int)(sequence * 31 % (ring.maxPayloadLength() - 16));
                    for (int i = 16; i < length; i++)
                    {
                        payload.putByte(i, (byte)(sequence * 7 + i));
                    }
                    payload.putLong(0, sequence);
                    crc.reset();
                    crc.update(payload.byteArray(), 16, length - 16);
                    payload.putLong(8, crc.getValue());
                    // The handshake record goes in only once the peeker has caught up with the tail, so that it
                    // is not lapped past it.
                    final boolean handshake = sequence % 1000 == 999;
                    while (handshake && caughtUp.get() != ring.tailPosition() && !stop.get())
                    {
                        Thread.onSpinWait();
                    }
                    ring.offer(1, payload, 0, length);
                    while (ring.poll(taken, 0) > 0)
                    {
                        // the owner consumes: the peeker gets no protection from it
                    }
                    // Paced, so that the peeker keeps up most of the time, but with bursts of 100 records
                    // (several laps) that it cannot keep up with.
                    final long until = System.nanoTime() + (sequence % 1000 < 100 ? 0 : 2_000);
                    while (System.nanoTime() - until < 0)
                    {
                        Thread.onSpinWait();
                    }
                    // Once per 1000, wait until the peeker has this record: however the threads are scheduled,
                    // some records are delivered (the writer waits, so nothing overwrites this one meanwhile).
                    while (handshake && seen.get() < sequence && !stop.get())
                    {
                        Thread.onSpinWait();
                    }
                }
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
            finally
            {
                done.set(true);
            }
        }, "writer");
        final RingPeeker peeker = new RingPeeker(region.buffer());
        writer.setDaemon(true);
        writer.start();
        long delivered = 0;
        long laps = 0;
        try
        {
            final CRC32C crc = new CRC32C();
            long lastSequence = -1;
            while (!done.get() || peeker.position() != ring.tailPosition())
            {
                final int length = peeker.peek(copy, 0);
                if (length == RingPeeker.LAPPED)
                {
                    laps++;
                    continue;
                }
                if (length == RingPeeker.NOTHING)
                {
                    caughtUp.set(peeker.position());
                    Thread.onSpinWait();
                    continue;
                }
                final int payload = EntryDescriptor.RECORD_HEADER_LENGTH;
                final long sequence = copy.getLong(payload);
                crc.reset();
                crc.update(copy.byteArray(), payload + 16, length - payload - 16);
                assertEquals(crc.getValue(), copy.getLong(payload + 8), "record " + sequence + " is torn");
                assertTrue(sequence > lastSequence, "record " + sequence + " after " + lastSequence);
                lastSequence = sequence;
                seen.set(sequence);
                delivered++;
            }
        }
        finally
        {
            stop.set(true); // a failed assertion must not leave the writer waiting for the peeker
        }
        writer.join();

        assertEquals(null, failure.get());
        assertEquals(ring.tailPosition(), peeker.position(), "caught up with the writer");
        assertTrue(delivered >= records / 1000 && delivered <= records, delivered + " delivered");
        assertEquals(laps > 0, peeker.missedBytes() > 0, "laps " + laps + ", missed " + peeker.missedBytes());
    }

    /**
     * @return where in the region the entry for {@code position} starts.
     */
    private static int entryOffset(final int position)
    {
        return RingDescriptor.HEADER_LENGTH + (position & (CAPACITY - 1));
    }

    private void offer(final int value, final int size)
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[size]);
        for (int i = 0; i < size; i++)
        {
            payload.putByte(i, (byte)(value + i));
        }
        assertTrue(ring.offer(7, payload, 0, size));
        assertTrue(!ring.isOverflowPending(), "the test's records fit the ring");
    }

    private void assertRecord(final int value, final int size)
    {
        assertEquals(7, copy.getInt(EntryDescriptor.TYPE_OFFSET));
        assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + size, copy.getInt(EntryDescriptor.LENGTH_OFFSET));
        for (int i = 0; i < size; i++)
        {
            assertEquals((byte)(value + i), copy.getByte(EntryDescriptor.RECORD_HEADER_LENGTH + i), "byte " + i);
        }
    }
}
