package io.syslet.ring;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Helpers shared by the ring's unit tests. Offsets are written as literals on purpose: the ABI is fixed
 * byte by byte, so a test that used the production constants could not notice the constants moving.
 */
final class RingTestSupport
{
    /** Bytes of the region header; the data area starts here. */
    static final int HEADER = 512;
    /** Bytes of a record header. */
    static final int RECORD_HEADER = 16;

    /** Guard for waits on other threads: a hang fails the test instead of stalling the build. */
    static final long GUARD_NANOS = TimeUnit.SECONDS.toNanos(10);

    private RingTestSupport()
    {
    }

    static byte patternByte(final int seed, final int i)
    {
        return (byte)(seed * 131 + i * 7 + 3);
    }

    /**
     * A heap buffer of {@code length} bytes whose content depends on {@code seed}, so that a record
     * delivered in the wrong place or with the wrong payload does not match.
     */
    static UnsafeBuffer payload(final int length, final int seed)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[length]);
        for (int i = 0; i < length; i++)
        {
            buffer.putByte(i, patternByte(seed, i));
        }
        return buffer;
    }

    static void assertPayload(final DirectBuffer actual, final int offset, final int length, final int seed)
    {
        for (int i = 0; i < length; i++)
        {
            if (actual.getByte(offset + i) != patternByte(seed, i))
            {
                fail("payload byte " + i + " at offset " + (offset + i) + ": expected " + patternByte(seed, i) +
                    " but was " + actual.getByte(offset + i));
            }
        }
    }

    /** Independent of {@link EntryDescriptor#check}: the formula of the ABI document. */
    static int expectedCheck(final int salt, final int stamp, final int length, final int type)
    {
        return ~stamp ^ (length * 0x9E37_79B1) ^ type ^ salt;
    }

    /** The check salt of a ring, read from its header bytes (offset 36). */
    static int salt(final Ring ring)
    {
        return ring.buffer().getInt(36);
    }

    static void assertRecordHeader(
        final Ring ring, final DirectBuffer buffer, final int offset, final int stamp, final int length, final int type)
    {
        final int salt = salt(ring);
        assertEquals(stamp, buffer.getInt(offset), "stamp at " + offset);
        assertEquals(length, buffer.getInt(offset + 4), "length at " + (offset + 4));
        assertEquals(type, buffer.getInt(offset + 8), "type at " + (offset + 8));
        assertEquals(expectedCheck(salt, stamp, length, type), buffer.getInt(offset + 12), "check at " + (offset + 12));
        assertEquals(EntryDescriptor.check(stamp, length, type, salt), buffer.getInt(offset + 12), "EntryDescriptor.check");
    }

    static void assertRecord(
        final Ring ring,
        final DirectBuffer buffer,
        final int offset,
        final int stamp,
        final int type,
        final int payloadLength,
        final int seed)
    {
        assertRecordHeader(ring, buffer, offset, stamp, RECORD_HEADER + payloadLength, type);
        assertPayload(buffer, offset + RECORD_HEADER, payloadLength, seed);
    }

    static int align8(final int length)
    {
        return (length + 7) / 8 * 8;
    }

    /** Buffer index of the entry for {@code position}. */
    static int dataOffset(final Ring ring, final int position)
    {
        return HEADER + (position & (ring.capacity() - 1));
    }

    static UnsafeBuffer heap(final int length)
    {
        return new UnsafeBuffer(new byte[length]);
    }

    /** Offers a patterned payload; the payload's first 4 bytes (if any) carry {@code seq}. */
    static boolean offerSeq(final Ring ring, final int type, final int payloadLength, final int seq)
    {
        final UnsafeBuffer src = payload(payloadLength, seq);
        if (payloadLength >= 4)
        {
            src.putInt(0, seq);
        }
        return ring.offer(type, src, 0, payloadLength);
    }

    /** Waits (spinning, guarded) until {@code thread} is parked in a timed wait. */
    static void awaitParked(final Thread thread, final Ring ring)
    {
        final long deadline = System.nanoTime() + GUARD_NANOS;
        while (thread.getState() != Thread.State.TIMED_WAITING ||
            (ring.buffer().getIntVolatile(132) & RingDescriptor.FLAG_WAITERS) == 0)
        {
            if (!thread.isAlive())
            {
                fail("thread " + thread.getName() + " ended before it parked");
            }
            if (System.nanoTime() - deadline > 0)
            {
                fail("thread " + thread.getName() + " never parked: state " + thread.getState());
            }
            Thread.yield();
        }
    }

    static void joinOrFail(final Thread thread)
    {
        try
        {
            thread.join(TimeUnit.NANOSECONDS.toMillis(GUARD_NANOS));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            fail("interrupted while joining " + thread.getName());
        }
        if (thread.isAlive())
        {
            fail("thread " + thread.getName() + " did not finish: state " + thread.getState());
        }
    }

    static void assertMessageNames(final Throwable ex, final String... parts)
    {
        final String message = ex.getMessage();
        assertNotNull(message, "exception without a message: " + ex);
        for (final String part : parts)
        {
            assertTrue(message.contains(part), "message \"" + message + "\" should name \"" + part + "\"");
        }
    }
}
