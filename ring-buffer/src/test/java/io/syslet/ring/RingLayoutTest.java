package io.syslet.ring;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The bytes a ring writes, read back at the offsets {@link RingDescriptor} and {@link EntryDescriptor}
 * document.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingLayoutTest
{
    @Test
    void descriptorConstantsMatchTheDocumentedOffsets()
    {
        assertEquals(0x4752_5953, RingDescriptor.MAGIC);
        assertEquals(1, RingDescriptor.ABI_VERSION);
        assertEquals(0, RingDescriptor.MAGIC_OFFSET);
        assertEquals(4, RingDescriptor.VERSION_OFFSET);
        assertEquals(8, RingDescriptor.HEADER_LENGTH_OFFSET);
        assertEquals(12, RingDescriptor.CAPACITY_OFFSET);
        assertEquals(16, RingDescriptor.MAX_RECORD_LENGTH_OFFSET);
        assertEquals(20, RingDescriptor.COMPAT_FEATURES_OFFSET);
        assertEquals(24, RingDescriptor.INCOMPAT_FEATURES_OFFSET);
        assertEquals(28, RingDescriptor.OWNER_FLAGS_OFFSET);
        assertEquals(32, RingDescriptor.INITIAL_POSITION_OFFSET);
        assertEquals(128, RingDescriptor.TAIL_WORD_OFFSET);
        assertEquals(128, RingDescriptor.TAIL_POSITION_OFFSET);
        assertEquals(132, RingDescriptor.PRODUCER_FLAGS_OFFSET);
        assertEquals(256, RingDescriptor.HEAD_CACHE_OFFSET);
        assertEquals(384, RingDescriptor.HEAD_POSITION_OFFSET);
        assertEquals(512, RingDescriptor.HEADER_LENGTH);
        assertEquals(0, EntryDescriptor.STAMP_OFFSET);
        assertEquals(4, EntryDescriptor.LENGTH_OFFSET);
        assertEquals(8, EntryDescriptor.TYPE_OFFSET);
        assertEquals(12, EntryDescriptor.CHECK_OFFSET);
        assertEquals(16, EntryDescriptor.RECORD_HEADER_LENGTH);
        assertEquals(8, EntryDescriptor.SKIP_HEADER_LENGTH);
        assertEquals(-1, EntryDescriptor.PADDING_TYPE);
        assertEquals(4096 + 512, RingDescriptor.regionLength(4096));
        assertEquals(512, RingDescriptor.maxRecordLength(4096));
    }

    @Test
    void magicSpellsSyrgInLittleEndian()
    {
        try (RingRegion region = RingRegion.allocate(256))
        {
            final AtomicBuffer buffer = region.buffer();
            assertEquals('S', buffer.getByte(0));
            assertEquals('Y', buffer.getByte(1));
            assertEquals('R', buffer.getByte(2));
            assertEquals('G', buffer.getByte(3));
        }
    }

    @Test
    void allocateFormatsEveryHeaderField()
    {
        final int capacity = 4096;
        final int initial = 0x1234_5678;
        try (RingRegion region = RingRegion.allocate(capacity, initial))
        {
            final AtomicBuffer buffer = region.buffer();
            assertFalse(region.isMapped());
            assertEquals(512 + capacity, buffer.capacity());
            assertEquals(0x4752_5953, buffer.getInt(0), "magic");
            assertEquals(1, buffer.getInt(4), "version");
            assertEquals(512, buffer.getInt(8), "header length");
            assertEquals(capacity, buffer.getInt(12), "capacity");
            assertEquals(capacity / 8, buffer.getInt(16), "max record length");
            assertEquals(0, buffer.getInt(20), "compat features");
            assertEquals(0, buffer.getInt(24), "incompat features");
            assertEquals(0, buffer.getInt(28), "owner flags");
            assertEquals(initial, buffer.getInt(32), "initial position");
            assertEquals(initial, buffer.getInt(128), "tail");
            assertEquals(0, buffer.getInt(132), "producer flags");
            assertEquals(initial, buffer.getInt(256), "head cache");
            assertEquals(initial, buffer.getInt(384), "head");

            // Bytes 36..39 hold the random check salt; the records of other tests check it is the one used.
            for (int i = 40; i < 512; i++)
            {
                if (i >= 128 && i < 136 || i >= 256 && i < 260 || i >= 384 && i < 388)
                {
                    continue;
                }
                assertEquals(0, buffer.getByte(i), "header byte " + i + " must be zero");
            }
            for (int i = 512; i < 512 + capacity; i++)
            {
                assertEquals(0, buffer.getByte(i), "data byte " + i + " must be zero");
            }

            final Ring ring = new Ring(region);
            assertEquals(capacity, ring.capacity());
            assertEquals(capacity / 8, ring.maxRecordLength());
            assertEquals(capacity / 8 - 16, ring.maxPayloadLength());
            assertEquals(initial, ring.headPosition());
            assertEquals(initial, ring.tailPosition());
            assertEquals(initial, ring.stateToken());
            assertEquals(0, ring.occupancy());
            assertFalse(ring.isOverflowPending());
            assertEquals(0, ring.overflowSize());
            // The ring's own view of the region's memory: the same bytes, not the caller's flyweight.
            assertEquals(region.buffer().addressOffset(), ring.buffer().addressOffset());
            assertEquals(region.buffer().capacity(), ring.buffer().capacity());
            assertNotSame(region.buffer(), ring.buffer());
        }
    }

    @Test
    void formatZeroesMemoryTheCallerOwns()
    {
        final int capacity = 256;
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(512 + capacity));
        buffer.setMemory(0, buffer.capacity(), (byte)0x5A);
        RingRegion.format(buffer, capacity, 64);
        assertEquals(capacity, RingRegion.validate(buffer, "test"));
        assertEquals(0, buffer.getInt(40));
        assertEquals(0, buffer.getInt(136));
        assertEquals(0, buffer.getInt(512));
        assertEquals(0, buffer.getInt(512 + capacity - 4));
        final Ring ring = new Ring(buffer);
        assertEquals(64, ring.headPosition());
        assertEquals(0, ring.poll(heap(64), 0), "formatted ring must be empty even though the memory was not zero");
    }

    @Test
    void firstCommitWritesCommitWordTypeCheckAndPayload()
    {
        final int capacity = 4096;
        final int initial = 0x1234_5678;
        try (RingRegion region = RingRegion.allocate(capacity, initial))
        {
            final Ring ring = new Ring(region);
            final AtomicBuffer buffer = region.buffer();
            final int recordOffset = 512 + (initial & (capacity - 1));
            assertEquals(512 + 0x678, recordOffset);

            assertTrue(ring.offer(7, payload(13, 1), 0, 13));

            assertEquals(initial, buffer.getInt(recordOffset), "stamp = position");
            assertEquals(29, buffer.getInt(recordOffset + 4), "length = 16 + payload");
            assertEquals(7, buffer.getInt(recordOffset + 8), "type");
            assertEquals(EntryDescriptor.check(initial, 29, 7, salt(ring)), buffer.getInt(recordOffset + 12), "check");
            assertEquals(expectedCheck(salt(ring), initial, 29, 7), buffer.getInt(recordOffset + 12), "check formula");
            assertEquals(EntryDescriptor.commitWord(initial, 29), buffer.getLong(recordOffset), "commit word");
            assertPayload(buffer, recordOffset + 16, 13, 1);
            assertEquals(initial + 32, buffer.getInt(128), "tail advances by align(29, 8)");
            assertEquals(initial, buffer.getInt(384), "head unchanged");
            assertEquals(32, ring.occupancy());

            assertTrue(ring.offer(9, payload(5, 2), 0, 5));
            final int next = recordOffset + align8(29);
            assertEquals(recordOffset + 32, next);
            assertRecord(ring, buffer, next, initial + 32, 9, 5, 2);
            assertEquals(initial + 32 + 24, buffer.getInt(128));
        }
    }

    @Test
    void reservationIsStampedWithLengthZeroUntilCommit()
    {
        try (RingRegion region = RingRegion.allocate(1024, 64))
        {
            final Ring ring = new Ring(region);
            final AtomicBuffer buffer = region.buffer();
            final int index = ring.tryReserve(3, 10);
            assertEquals(512 + 64 + 16, index, "payload index follows the record header");
            assertEquals(64, buffer.getInt(512 + 64), "stamp written at reservation");
            assertEquals(0, buffer.getInt(512 + 64 + 4), "length 0 = not committed");
            assertEquals(64 + 32, ring.tailPosition(), "tail moved at reservation");
            assertEquals(0, ring.read(heap(256), 0, 256), "an uncommitted record is not readable");

            buffer.putBytes(index, payload(10, 4), 0, 10);
            ring.commit(index);
            assertRecord(ring, buffer, 512 + 64, 64, 3, 10, 4);

            final UnsafeBuffer dst = heap(64);
            assertEquals(26, ring.poll(dst, 0));
            assertRecord(ring, dst, 0, 64, 3, 10, 4);
            assertEquals(64 + 32, ring.headPosition());
        }
    }

    @Test
    void recordsStartAtEightByteAlignedOffsetsForEveryPayloadLength()
    {
        try (RingRegion region = RingRegion.allocate(4096, 0))
        {
            final Ring ring = new Ring(region);
            int position = 0;
            for (int length = 0; length <= 17; length++)
            {
                assertTrue(ring.offer(1 + length, payload(length, length), 0, length));
                assertRecord(ring, region.buffer(), 512 + position, position, 1 + length, length, length);
                position += align8(16 + length);
                assertEquals(position, ring.tailPosition(), "tail after payload " + length);
                assertEquals(0, position % 8);
            }
        }
    }

    @Test
    void checkWordHasTheDocumentedValue()
    {
        // ~0 ^ (16 * 0x9E3779B1 mod 2^32 = 0xE3779B10) ^ 1 ^ salt
        assertEquals(0x1C88_64EE, EntryDescriptor.check(0, 16, 1, 0));
        assertEquals(0x1C88_64EE ^ 0x5A17_0001, EntryDescriptor.check(0, 16, 1, 0x5A17_0001));
        assertEquals(0x0000_0010_FFFF_FFF8L, EntryDescriptor.commitWord(-8, 16));
        assertEquals(-8, EntryDescriptor.stamp(EntryDescriptor.commitWord(-8, -24)));
        assertEquals(-24, EntryDescriptor.length(EntryDescriptor.commitWord(-8, -24)));
        assertEquals(16, EntryDescriptor.align(16));
        assertEquals(24, EntryDescriptor.align(17));
        assertEquals(0, EntryDescriptor.align(0));
    }

    @Test
    void aCallerRewrappingItsBufferDoesNotMoveTheRing()
    {
        // The ring reads and writes its region unchecked through its own view: re-pointing the caller's
        // flyweight elsewhere must neither redirect nor break it.
        try (RingRegion region = RingRegion.allocate(4096))
        {
            final UnsafeBuffer callers = new UnsafeBuffer(region.buffer());
            final Ring ring = new Ring(callers);
            assertTrue(ring.offer(1, payload(40, 7), 0, 40));
            callers.wrap(new byte[64]);
            final UnsafeBuffer dst = heap(4096);
            assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + 40, ring.poll(dst, 0));
            assertPayload(dst, EntryDescriptor.RECORD_HEADER_LENGTH, 40, 7);
            assertEquals(RingDescriptor.HEADER_LENGTH + 4096, ring.buffer().capacity());
        }
    }

    @Test
    void aRingUsedAfterItsRegionIsClosedStillReadsLiveMemory()
    {
        // The ring accesses the region unchecked, so it must never see the memory freed under it: closing
        // the region only releases it, and the ring keeps it alive until the ring itself is unreachable.
        final RingRegion region = RingRegion.allocate(4096);
        final Ring ring = new Ring(region);
        assertTrue(ring.offer(1, payload(40, 3), 0, 40));
        region.close();
        assertThrows(IllegalStateException.class, region::buffer, "the closed region hands out no more views");
        System.gc();
        final UnsafeBuffer dst = heap(4096);
        assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + 40, ring.poll(dst, 0));
        assertPayload(dst, EntryDescriptor.RECORD_HEADER_LENGTH, 40, 3);
        assertTrue(ring.offer(1, payload(40, 4), 0, 40));
    }

    @Test
    void rewrappingTheBufferTheRingHandsOutDoesNotMoveTheRing()
    {
        try (RingRegion region = RingRegion.allocate(4096))
        {
            final Ring ring = new Ring(region);
            ring.buffer().wrap(new byte[64]);
            assertTrue(ring.offer(1, payload(24, 5), 0, 24));
            final UnsafeBuffer dst = heap(4096);
            assertEquals(EntryDescriptor.RECORD_HEADER_LENGTH + 24, ring.read(dst, 0, 4096));
            assertPayload(dst, EntryDescriptor.RECORD_HEADER_LENGTH, 24, 5);
        }
    }

    @Test
    void positionsThatAreNotMultiplesOf8AreRefusedNotFollowedPastTheRegion()
    {
        try (RingRegion region = RingRegion.allocate(4096))
        {
            final Ring ring = new Ring(region);
            final AtomicBuffer header = region.buffer();
            // Something other than a ring wrote an unaligned tail at the very end of the data area: a skip word
            // written there would pass the region's end.
            final int corrupt = 4096 - 3;
            header.putInt(RingDescriptor.TAIL_POSITION_OFFSET, corrupt);
            final IllegalStateException tail =
                assertThrows(IllegalStateException.class, () -> ring.offer(1, payload(16, 1), 0, 16));
            assertEquals("ring tail position 4093 is not a multiple of 8: the region is corrupt", tail.getMessage());
            header.putInt(RingDescriptor.HEAD_POSITION_OFFSET, corrupt);
            final UnsafeBuffer dst = heap(4096);
            assertThrows(IllegalStateException.class, () -> ring.poll(dst, 0));
            assertThrows(IllegalStateException.class, () -> ring.read(dst, 0, 4096));
            final RingFormatException open = assertThrows(RingFormatException.class, () -> new Ring(header));
            assertTrue(open.getMessage().contains("is not a multiple of 8"), open.getMessage());
        }
    }

    /**
     * Head and tail of a ring that a writer left are 0 to capacity bytes apart. A region where they are not (a
     * damaged or hand-edited file) had poll spin for ever on a record at head that no producer would commit,
     * and reserve find room that was not there; a Ring now refuses it. Positions that wrapped past 2^32 are fine.
     */
    @Test
    void aRegionWhoseHeadAndTailNoWriterCouldHaveLeftIsRefused()
    {
        try (RingRegion region = RingRegion.allocate(4096))
        {
            final AtomicBuffer header = region.buffer();
            header.putInt(RingDescriptor.HEAD_POSITION_OFFSET, 0);
            header.putInt(RingDescriptor.TAIL_POSITION_OFFSET, 4096 + 8);
            final RingFormatException pastALap = assertThrows(RingFormatException.class, () -> new Ring(region));
            assertEquals("ring region damaged: tail 4104 and head 0 are 4104 bytes apart, not 0 to the capacity " +
                "of 4096", pastALap.getMessage());

            header.putInt(RingDescriptor.HEAD_POSITION_OFFSET, 128);
            header.putInt(RingDescriptor.TAIL_POSITION_OFFSET, 64);
            final RingFormatException behind = assertThrows(RingFormatException.class, () -> new Ring(header));
            assertEquals("ring region damaged: tail 64 and head 128 are -64 bytes apart, not 0 to the capacity " +
                "of 4096", behind.getMessage());

            // A full ring whose positions wrapped past 2^32: a writer could leave that.
            header.putInt(RingDescriptor.HEAD_POSITION_OFFSET, -4096 + 64);
            header.putInt(RingDescriptor.HEAD_CACHE_OFFSET, -4096 + 64);
            header.putInt(RingDescriptor.TAIL_POSITION_OFFSET, 64);
            assertEquals(4096, new Ring(region).occupancy());
        }
    }
}
