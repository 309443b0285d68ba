package io.syslet.abi;

import io.syslet.attributes.AttributeId;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The iocb flyweight checks a write's extent once and then writes its fields unchecked, and the
 * decoder reads a header only once it knows the header lies in the buffer: fields must land where the
 * accessors read them on heap and off-heap buffers, and nothing may be read or written outside the buffer.
 */
class IocbTest
{
    @Test
    void writtenFieldsReadBackOnHeapAndOffHeap()
    {
        final int length = IocbDescriptor.length(2);
        for (final UnsafeBuffer buffer : new UnsafeBuffer[] {
            new UnsafeBuffer(new byte[8 + length]), new UnsafeBuffer(ByteBuffer.allocateDirect(8 + length))})
        {
            buffer.setMemory(0, buffer.capacity(), (byte)0x5A); // garbage where reserved and padding bytes go
            final Iocb iocb = new Iocb().wrap(buffer, 8);
            iocb.write(Opcode.PREAD, IocbDescriptor.FLAG_NO_IMMEDIATE, 77, 0, 1, 2, 3, 4, 5, 6);
            assertEquals(length, iocb.addAttributes(AttributeId.LATENCY, AttributeId.CACHE));

            assertNull(Iocb.malformation(buffer, 8, buffer.capacity()));
            assertEquals(length, iocb.length());
            assertEquals(Opcode.PREAD, iocb.opcode());
            assertEquals(IocbDescriptor.FLAG_NO_IMMEDIATE, iocb.flags());
            assertEquals(77, iocb.cookie());
            assertEquals(2, iocb.attributeCount());
            assertEquals(AttributeId.LATENCY, iocb.attributeId(0));
            assertEquals(AttributeId.CACHE, iocb.attributeId(1));
            for (int i = 0; i < IocbDescriptor.ARG_COUNT; i++)
            {
                assertEquals(i + 1, iocb.arg(i));
            }
            assertEquals(EventDescriptor.MIN_LENGTH + AttributeId.maxTlvLength(AttributeId.LATENCY) +
                AttributeId.maxTlvLength(AttributeId.CACHE), Iocb.eventLength(buffer, 8));
            assertEquals(0x5A5A5A5A5A5A5A5AL, buffer.getLong(0), "nothing is written before the iocb");
        }
    }

    @Test
    void aWriteThatWouldPassTheEndOfTheBufferIsRefusedBeforeAnyByte()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(IocbDescriptor.MIN_LENGTH + 8));
        final Iocb iocb = new Iocb().wrap(buffer, 16);
        final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
            () -> iocb.write(Opcode.PREAD, 0, 1, 0, 0, 0, 0, 0, 0, 0));
        assertEquals("iocb of " + IocbDescriptor.MIN_LENGTH + " bytes at offset 16 does not fit in a buffer of " +
            buffer.capacity() + " bytes", e.getMessage());
        for (int i = 0; i < buffer.capacity(); i += 8)
        {
            assertEquals(0, buffer.getLong(i), "no byte written at " + i);
        }
    }

    @Test
    void attributesThatWouldPassTheEndOfTheBufferAreRefusedAndTheIocbKept()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(IocbDescriptor.MIN_LENGTH));
        final Iocb iocb = new Iocb().wrap(buffer, 0);
        iocb.write(Opcode.PREAD, 0, 1, 0, 0, 0, 0, 0, 0, 0);
        assertThrows(IndexOutOfBoundsException.class, () -> iocb.addAttributes(AttributeId.LATENCY));
        assertEquals(0, iocb.attributeCount());
        assertEquals(IocbDescriptor.MIN_LENGTH, iocb.length());
        assertNull(Iocb.malformation(buffer, 0, buffer.capacity()));
    }

    @Test
    void valuesThatDoNotFitTheirSixteenBitFieldsAreRefusedNotCutToAnotherValue()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(IocbDescriptor.length(2)));
        final Iocb iocb = new Iocb().wrap(buffer, 0);
        // 0x10000 | LATENCY would have been written as LATENCY: a different, valid request.
        iocb.write(Opcode.PREAD, 0, 1, 0, 0, 0, 0, 0, 0, 0);
        final IllegalArgumentException id = assertThrows(IllegalArgumentException.class,
            () -> iocb.addAttributes(AttributeId.CACHE, 0x10000 | AttributeId.LATENCY));
        assertEquals("attribute id " + (0x10000 | AttributeId.LATENCY) + " does not fit its 16-bit field (0 .. 65535)",
            id.getMessage());
        assertEquals(0, iocb.attributeCount(), "no id of the refused call written");
        assertThrows(IllegalArgumentException.class, () -> iocb.addAttributes(-1));
        assertThrows(IllegalArgumentException.class,
            () -> iocb.write(0x10000 | Opcode.PREAD, 0, 1, 0, 0, 0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class,
            () -> iocb.write(Opcode.PREAD, 0x10000 | IocbDescriptor.FLAG_NO_IMMEDIATE, 1, 0, 0, 0, 0, 0, 0, 0));

        final IocbWriter writer = new IocbWriter(buffer);
        writer.pread(1, 0, 0, 0, 0);
        final IllegalArgumentException flags = assertThrows(IllegalArgumentException.class,
            () -> writer.flags(0x10000 | IocbDescriptor.FLAG_NO_IMMEDIATE));
        assertEquals("flags 65537 does not fit its 16-bit field (0 .. 65535)", flags.getMessage());
        assertEquals(0, iocb.wrap(buffer, 0).flags());
    }

    /**
     * An append refused for its opcode writes nothing and appends nothing, so the writer's last iocb is still
     * the one before it: flags and attributes set next go to that one, not to the bytes past the end where
     * the refused iocb would have gone (flags there were lost without a word, and attributes grew the
     * submission over whatever those bytes held).
     */
    @Test
    void anAppendRefusedForItsOpcodeLeavesTheLastIocbTheOneBeforeIt()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(1024));
        final IocbWriter writer = new IocbWriter(buffer);
        writer.pread(1, 0, 0, 0, 0);
        assertThrows(IllegalArgumentException.class,
            () -> writer.append(0x10000 | Opcode.PREAD, 2, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(1, writer.count());
        assertEquals(IocbDescriptor.MIN_LENGTH, writer.length());

        writer.flags(IocbDescriptor.FLAG_NO_IMMEDIATE).attributes(AttributeId.LATENCY);
        final Iocb first = new Iocb().wrap(buffer, 0);
        assertEquals(IocbDescriptor.FLAG_NO_IMMEDIATE, first.flags());
        assertEquals(1, first.attributeCount());
        assertEquals(AttributeId.LATENCY, first.attributeId(0));
        assertEquals(IocbDescriptor.length(1), writer.length());
        assertNull(Iocb.malformation(buffer, 0, writer.length()));
    }

    @Test
    void theDecoderRefusesAnExtentOutsideItsBufferInsteadOfReadingIt()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(IocbDescriptor.MIN_LENGTH));
        final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
            () -> Iocb.malformation(buffer, 0, IocbDescriptor.MIN_LENGTH + 4096));
        assertEquals("iocb at byte 0 with submission end " + (IocbDescriptor.MIN_LENGTH + 4096) +
            " is not within a buffer of " + IocbDescriptor.MIN_LENGTH + " bytes", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> Iocb.malformation(buffer, -8, 8));
    }

    @Test
    void attributesOnAnIocbWhoseLengthIsGarbageAreRefusedBeforeAnyByte()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
        buffer.putInt(64 + IocbDescriptor.LENGTH_OFFSET, -4096); // not an iocb: zeroing from here would run backwards
        final Iocb iocb = new Iocb().wrap(buffer, 64);
        final IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> iocb.addAttributes(AttributeId.LATENCY));
        // The field is a u32: the message shows it as one.
        assertEquals("iocb at byte 64 has length 4294963200, not a multiple of 8 that holds its 0 attribute ids",
            e.getMessage());
        assertEquals("iocb at byte 64 has length 4294963200, not a multiple of 8 that is >= " +
            IocbDescriptor.MIN_LENGTH, Iocb.malformation(buffer, 64, buffer.capacity()));
        for (int i = 0; i < buffer.capacity(); i += 8)
        {
            assertEquals(i == 64 ? (-4096 & 0xFFFFFFFFL) : 0, buffer.getLong(i), "no byte written at " + i);
        }
    }

    @Test
    void eventLengthRefusesAnIocbWhoseIdsWouldRunPastTheBuffer()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(IocbDescriptor.MIN_LENGTH));
        new Iocb().wrap(buffer, 0).write(Opcode.PREAD, 0, 1, 0, 0, 0, 0, 0, 0, 0);
        assertEquals(EventDescriptor.MIN_LENGTH, Iocb.eventLength(buffer, 0));
        // As if the caller rewrote the count after malformation passed it: 64 ids do not fit in 72 bytes.
        buffer.putShort(IocbDescriptor.ATTRIBUTE_COUNT_OFFSET, (short)64);
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> Iocb.eventLength(buffer, 0));
        assertEquals("iocb at byte 0 lists 64 attributes, more than its buffer holds", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> Iocb.eventLength(buffer, 8));
        assertThrows(IndexOutOfBoundsException.class, () -> Iocb.eventLength(buffer, -8));
    }

    /**
     * discard(n) trusted n: past the writer's count it walked lengths past the last iocb (zeros, or stale bytes
     * of an earlier submission) and left a negative count (or threw from the copy with a negative length), and a
     * negative n raised the count above the iocbs written. Either way the writer no longer said what its buffer
     * held. It refuses such an n and keeps its iocbs.
     */
    @Test
    void discardingMoreIocbsThanWrittenOrANegativeNumberIsRefusedAndTheWriterKept()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(1024));
        final IocbWriter writer = new IocbWriter(buffer);
        writer.nop(1).nop(2);
        assertThrows(IllegalArgumentException.class, () -> writer.discard(3));
        assertThrows(IllegalArgumentException.class, () -> writer.discard(-1));
        assertEquals(2, writer.count());
        assertEquals(2 * IocbDescriptor.MIN_LENGTH, writer.length());
        writer.discard(1);
        assertEquals(1, writer.count());
        assertEquals(2, new Iocb().wrap(buffer, 0).cookie());
    }
}
