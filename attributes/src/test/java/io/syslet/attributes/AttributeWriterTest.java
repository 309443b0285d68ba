package io.syslet.attributes;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The writer checks each TLV once, then writes its fields unchecked: every field must land where the
 * cursor reads it, on heap and off-heap buffers alike, and a TLV that does not fit must be refused
 * before any of its bytes is written.
 */
class AttributeWriterTest
{
    private static final int SIZE = 256;

    @Test
    void everyTlvReadsBackThroughTheCursorOnHeapAndOffHeap()
    {
        for (final UnsafeBuffer buffer : new UnsafeBuffer[] {
            new UnsafeBuffer(new byte[SIZE]), new UnsafeBuffer(ByteBuffer.allocateDirect(SIZE))})
        {
            buffer.setMemory(0, SIZE, (byte)0x5A); // garbage where padding and reserved bytes go
            final AttributeWriter writer = new AttributeWriter().wrap(buffer, 8);
            writer.latency(1, 2, 3, 4);
            writer.cache(CacheOutcome.PARTIAL, 1234);
            writer.cpu(5, 6);
            writer.blocked(true, 7, 8);
            writer.bytes(9);
            writer.workerTid(10);
            writer.status(99, AttributeStatus.UNSUPPORTED);

            final AttributeCursor cursor = new AttributeCursor().wrap(buffer, 8, writer.length());
            assertTrue(cursor.next());
            assertEquals(AttributeId.LATENCY, cursor.id());
            assertEquals(AttributeStatus.OK, cursor.status());
            assertEquals(1, cursor.latencySubmitNanos());
            assertEquals(2, cursor.latencyStartNanos());
            assertEquals(3, cursor.latencyEndNanos());
            assertEquals(4, cursor.latencyPublishNanos());
            assertTrue(cursor.next());
            assertEquals(CacheOutcome.PARTIAL, cursor.cacheOutcome());
            assertEquals(1234, cursor.cacheBytes());
            assertTrue(cursor.next());
            assertEquals(5, cursor.cpuOnNanos());
            assertEquals(6, cursor.cpuOffNanos());
            assertTrue(cursor.next());
            assertTrue(cursor.blocked());
            assertEquals(7, cursor.voluntarySwitches());
            assertEquals(8, cursor.involuntarySwitches());
            assertTrue(cursor.next());
            assertEquals(9, cursor.bytes());
            assertTrue(cursor.next());
            assertEquals(10, cursor.workerTid());
            assertEquals(0, buffer.getInt(cursor.valueOffset() + 4), "padding after the tid is zeroed");
            assertTrue(cursor.next());
            assertEquals(99, cursor.id());
            assertEquals(AttributeStatus.UNSUPPORTED, cursor.status());
            assertEquals(0, cursor.valueLength());
            assertFalse(cursor.next());
            assertEquals(0x5A5A5A5A5A5A5A5AL, buffer.getLong(0), "nothing is written before the start");
        }
    }

    @Test
    void aTlvThatDoesNotFitIsRefusedWhole()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        final AttributeWriter writer = new AttributeWriter().wrap(buffer, 32);
        // A latency TLV takes 40 bytes; 32 are left.
        final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> writer.latency(1, 2, 3, 4));
        assertEquals("attribute 1 needs 40 bytes at offset 32 of a buffer of 64", e.getMessage());
        assertEquals(0, writer.length());
        for (int i = 0; i < 64; i += 8)
        {
            assertEquals(0, buffer.getLong(i), "no byte written at " + i);
        }
        writer.cache(CacheOutcome.HIT, 4096); // 24 bytes still fit
        assertEquals(24, writer.length());
    }

    @Test
    void eachKindOfTlvIsRightAsTheFirstOnAFreshWriterOnHeapAndOffHeap()
    {
        // A value written through a base object read before the TLV's header set it went to a null base
        // plus a heap offset: a JVM crash. Every kind goes first on a fresh writer, on both kinds of buffer.
        for (int kind = 0; kind < 7; kind++)
        {
            for (final UnsafeBuffer buffer : new UnsafeBuffer[] {
                new UnsafeBuffer(new byte[SIZE]), new UnsafeBuffer(ByteBuffer.allocateDirect(SIZE))})
            {
                final AttributeWriter writer = new AttributeWriter().wrap(buffer, 16);
                switch (kind)
                {
                    case 0: writer.latency(1, 2, 3, 4); break;
                    case 1: writer.cache(CacheOutcome.MISS, 5); break;
                    case 2: writer.cpu(6, 7); break;
                    case 3: writer.blocked(false, 8, 9); break;
                    case 4: writer.bytes(10); break;
                    case 5: writer.workerTid(11); break;
                    default: writer.status(AttributeId.CPU, AttributeStatus.FAILED);
                }
                final AttributeCursor cursor = new AttributeCursor().wrap(buffer, 16, writer.length());
                assertTrue(cursor.next(), "kind " + kind);
                final long expected = kind == 0 ? cursor.latencySubmitNanos() : kind == 1 ? cursor.cacheBytes() :
                    kind == 2 ? cursor.cpuOnNanos() : kind == 3 ? cursor.voluntarySwitches() :
                    kind == 4 ? cursor.bytes() : kind == 5 ? cursor.workerTid() : cursor.status();
                assertEquals(new long[] {1, 5, 6, 8, 10, 11, AttributeStatus.FAILED}[kind], expected, "kind " + kind);
                assertFalse(cursor.next());
            }
        }
    }

    /**
     * The writer's status TLV and cache outcome go into fields narrower than their parameters, with values the
     * decoder checks: a status TLV of OK for a known id (which has no value), an undefined status, an id past 16
     * bits (65537 would read back as LATENCY) or an outcome past the four defined ones would write bytes that
     * the cursor refuses as malformed, or that read back as another, valid attribute. Each is refused before any
     * byte is written. (A status TLV is one without a value: OK is for the typed methods.)
     */
    @Test
    void aStatusOrOutcomeTheDecoderWouldRefuseOrReadAsAnotherIsRefusedBeforeAnyByte()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        final AttributeWriter writer = new AttributeWriter().wrap(buffer, 0);
        assertThrows(IllegalArgumentException.class, () -> writer.status(AttributeId.LATENCY, AttributeStatus.OK));
        assertThrows(IllegalArgumentException.class, () -> writer.status(99, AttributeStatus.OK));
        assertThrows(IllegalArgumentException.class, () -> writer.status(AttributeId.CPU, AttributeStatus.FAILED + 1));
        assertThrows(IllegalArgumentException.class, () -> writer.status(AttributeId.CPU, -1));
        final IllegalArgumentException id = assertThrows(IllegalArgumentException.class,
            () -> writer.status(0x10000 | AttributeId.LATENCY, AttributeStatus.UNSUPPORTED));
        assertEquals("attribute id 65537 does not fit its 16-bit field (0 .. 65535)", id.getMessage());
        assertThrows(IllegalArgumentException.class, () -> writer.status(-1, AttributeStatus.UNSUPPORTED));
        assertThrows(IllegalArgumentException.class,
            () -> writer.cache(CacheOutcome.UNSUPPORTED_BY_FILESYSTEM + 1, 0));
        assertThrows(IllegalArgumentException.class, () -> writer.cache(0x100 | CacheOutcome.MISS, 0));
        assertThrows(IllegalArgumentException.class, () -> writer.cache(-1, 0));
        assertEquals(0, writer.length());
        for (int i = 0; i < 64; i += 8)
        {
            assertEquals(0, buffer.getLong(i), "no byte written at " + i);
        }
        writer.status(AttributeId.CPU, AttributeStatus.NOT_APPLICABLE);
        writer.status(0xFFFF, AttributeStatus.UNSUPPORTED);
        final AttributeCursor cursor = new AttributeCursor().wrap(buffer, 0, writer.length());
        assertTrue(cursor.next());
        assertEquals(AttributeStatus.NOT_APPLICABLE, cursor.status());
        assertTrue(cursor.next());
        assertEquals(0xFFFF, cursor.id());
        assertFalse(cursor.next());
    }
}
