package io.syslet.abi;

import io.syslet.ring.EntryDescriptor;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cursor over reaped bytes: it steps over records of other types, and refuses an event record too
 * short for its own fields with a message, instead of letting an accessor read past the record.
 */
class EventCursorTest
{
    private final UnsafeBuffer bytes = new UnsafeBuffer(new byte[1024]);
    private final EventCursor cursor = new EventCursor();

    /**
     * Writes a record header at {@code at}.
     *
     * @return where the next record goes.
     */
    private int record(final int at, final int type, final int payloadLength)
    {
        final int length = EntryDescriptor.RECORD_HEADER_LENGTH + payloadLength;
        bytes.putInt(at + EntryDescriptor.LENGTH_OFFSET, length);
        bytes.putInt(at + EntryDescriptor.TYPE_OFFSET, type);
        return at + EntryDescriptor.align(length);
    }

    @Test
    void walksEventsAndStepsOverOtherRecords()
    {
        int at = record(0, 7, 24);
        final int event = at + EntryDescriptor.RECORD_HEADER_LENGTH;
        at = record(at, EventDescriptor.RECORD_TYPE, EventDescriptor.MIN_LENGTH + 16);
        bytes.putLong(event + EventDescriptor.COOKIE_OFFSET, 42);
        bytes.putInt(event + EventDescriptor.ATTRIBUTES_LENGTH_OFFSET, 16);
        cursor.wrap(bytes, 0, at);
        assertTrue(cursor.next());
        assertEquals(42, cursor.event().cookie());
        assertEquals(16, cursor.event().attributesLength());
        assertFalse(cursor.next());
    }

    @Test
    void anEventRecordShorterThanTheFixedPartIsRefused()
    {
        final int end = record(0, EventDescriptor.RECORD_TYPE, 0);
        cursor.wrap(bytes, 0, end);
        final IllegalStateException e = assertThrows(IllegalStateException.class, cursor::next);
        assertEquals("event record at byte 0 has 0 bytes of event, which cannot hold the 40-byte fixed part and " +
            "0 bytes of attributes", e.getMessage());
    }

    @Test
    void attributesThatRunPastTheirRecordAreRefused()
    {
        final int second = record(0, EventDescriptor.RECORD_TYPE, EventDescriptor.MIN_LENGTH + 8);
        bytes.putInt(EntryDescriptor.RECORD_HEADER_LENGTH + EventDescriptor.ATTRIBUTES_LENGTH_OFFSET, 24);
        final int end = record(second, EventDescriptor.RECORD_TYPE, EventDescriptor.MIN_LENGTH);
        cursor.wrap(bytes, 0, end);
        final IllegalStateException e = assertThrows(IllegalStateException.class, cursor::next);
        assertTrue(e.getMessage().contains("48 bytes of event, which cannot hold the 40-byte fixed part and 24 bytes"),
            e.getMessage());
        assertThrows(IllegalStateException.class, cursor::next, "the cursor stays on the bad record");
    }

    @Test
    void aRangeOutsideTheBufferIsRefusedNotWalkedAsEmpty()
    {
        record(0, EventDescriptor.RECORD_TYPE, EventDescriptor.MIN_LENGTH);
        // 8 + MAX_VALUE wraps negative: the cursor used to take that for "no event" and say nothing.
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> cursor.wrap(bytes, 8, Integer.MAX_VALUE));
        assertEquals(Integer.MAX_VALUE + " bytes at offset 8 do not lie within a buffer of 1024 bytes", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cursor.wrap(bytes, -8, 64));
        assertThrows(IllegalArgumentException.class, () -> cursor.wrap(bytes, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> cursor.wrap(bytes, 1000, 64));
        assertTrue(cursor.wrap(bytes, 0, bytes.capacity()).next());
    }
}
