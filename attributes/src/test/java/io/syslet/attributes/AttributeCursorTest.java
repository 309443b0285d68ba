package io.syslet.attributes;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checks docs/ABI.md section 20 asks of a TLV reader, one broken field at a time: the reserved byte is
 * zero, the status is defined, a TLV that is not OK carries no value, and an OK value of a known id has that
 * id's length. (AttributeCursorFuzzTest checks that no input makes the cursor read outside its range; an input
 * each of these checks refuses is inside its range, so that test passes whether they refuse it or not.)
 */
class AttributeCursorTest
{
    /** Where the second TLV (bytes, an 8-byte value) starts: after the first, cpu, a header and 16 bytes. */
    private static final int SECOND = AttributeDescriptor.HEADER_LENGTH + 16;

    @Test
    void theUnbrokenInputWalks()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        final int length = write(buffer);
        final AttributeCursor cursor = new AttributeCursor().wrap(buffer, 0, length);
        assertTrue(cursor.next());
        assertEquals(5, cursor.cpuOnNanos());
        assertTrue(cursor.next());
        assertEquals(SECOND, cursor.valueOffset() - AttributeDescriptor.VALUE_OFFSET);
        assertEquals(7, cursor.bytes());
        assertTrue(cursor.next());
        assertEquals(AttributeStatus.NOT_APPLICABLE, cursor.status());
        assertFalse(cursor.next());
    }

    @Test
    void aReservedByteThatIsNotZeroIsMalformed()
    {
        assertSecondRefused(b -> b.putByte(SECOND + AttributeDescriptor.RESERVED_OFFSET, (byte)1),
            "reserved byte is not zero");
    }

    @Test
    void anUndefinedStatusIsMalformed()
    {
        assertSecondRefused(b -> b.putByte(SECOND + AttributeDescriptor.STATUS_OFFSET, (byte)(AttributeStatus.FAILED + 1)),
            "status 4 is not defined");
    }

    @Test
    void aTlvThatIsNotOkButCarriesAValueIsMalformed()
    {
        assertSecondRefused(b -> b.putByte(SECOND + AttributeDescriptor.STATUS_OFFSET, (byte)AttributeStatus.NOT_APPLICABLE),
            "carries a 8-byte value");
    }

    @Test
    void anOkValueOfAKnownIdWithAnotherLengthIsMalformed()
    {
        // The bytes TLV's id becomes worker_tid, whose value is 4 bytes, not 8.
        assertSecondRefused(b -> b.putShort(SECOND + AttributeDescriptor.ID_OFFSET, (short)AttributeId.WORKER_TID),
            "value is 8 bytes, not 4");
    }

    private static int write(final UnsafeBuffer buffer)
    {
        final AttributeWriter writer = new AttributeWriter().wrap(buffer, 0);
        writer.cpu(5, 6);
        writer.bytes(7);
        writer.status(AttributeId.CACHE, AttributeStatus.NOT_APPLICABLE);
        return writer.length();
    }

    /**
     * Writes cpu, bytes, cache NOT_APPLICABLE; breaks the bytes TLV; the cpu TLV still reads, the broken one is
     * refused with a message that names the fault.
     */
    private static void assertSecondRefused(final Consumer<UnsafeBuffer> breakIt, final String fault)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        final int length = write(buffer);
        breakIt.accept(buffer);
        final AttributeCursor cursor = new AttributeCursor().wrap(buffer, 0, length);
        assertTrue(cursor.next());
        assertEquals(5, cursor.cpuOnNanos());
        final MalformedAttributeException e = assertThrows(MalformedAttributeException.class, cursor::next);
        assertTrue(e.getMessage().startsWith("attribute at byte " + SECOND), e.getMessage());
        assertTrue(e.getMessage().contains(fault), e.getMessage());
    }
}
