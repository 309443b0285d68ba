package io.syslet.pool;

import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.attributes.AttributeId;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Slot#load}'s own checks, which only an iocb rewritten between submit's check and its read can reach
 * through the public API (SubmitRewriteRaceTest in the tests module makes that race): here the rewrite is made
 * before the call, deterministically.
 */
final class SlotLoadTest
{
    private static final int[] IDS = {AttributeId.LATENCY, AttributeId.CACHE, AttributeId.BYTES};

    private final UnsafeBuffer submission = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1024, 64));
    private final IocbWriter writer = new IocbWriter(submission);
    private final Slot slot = new Slot(-1);

    @Test
    void copiesAWellFormedIocb()
    {
        writer.nop(42).attributes(IDS);
        slot.load(submission, 0, IocbDescriptor.length(IDS.length));
        assertEquals(42, slot.cookie);
        assertEquals(IDS.length, slot.attributeCount);
        assertEquals((1 << AttributeId.LATENCY) | (1 << AttributeId.CACHE) | (1 << AttributeId.BYTES), slot.attributeMask);
        // Sized from the ids it read, as the ABI's own helper sizes it.
        assertEquals(io.syslet.abi.Iocb.eventLength(submission, 0), slot.eventLength);
    }

    /** A length cut to the header alone while ids are still listed: the ids would be read from past the iocb. */
    @Test
    void refusesIdsThatNoLongerLieWithinTheIocb()
    {
        writer.nop(1).attributes(IDS);
        final IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> slot.load(submission, 0, IocbDescriptor.MIN_LENGTH));
        assertTrue(e.getMessage().contains("lists 3 attributes, more than its 72 bytes hold"), e.getMessage());
    }

    @Test
    void refusesAnIocbLengthPastTheBuffer()
    {
        writer.nop(1);
        assertThrows(IndexOutOfBoundsException.class,
            () -> slot.load(submission, 1024 - IocbDescriptor.MIN_LENGTH, IocbDescriptor.MIN_LENGTH + 8));
    }
}
