package io.syslet.tests.ring.jcstress;

import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.Ring;
import io.syslet.ring.RingDescriptor;
import io.syslet.ring.RingRegion;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small ring whose memory already went round once, shared by the jcstress tests of this package.
 *
 * <p>The constructor fills one whole lap with committed "old" records and consumes them, so the bytes
 * where the next record will be written hold valid-looking headers (right check word, stamp one lap
 * behind) and old payload. A consumer that trusted those bytes, or that saw the new record before its
 * commit, shows up as {@link #STALE} or {@link #TORN} instead of {@link #WHOLE}.
 *
 * <p>The test record is {@value #RECORD_LENGTH} bytes with a payload of {@value #PAYLOAD_LONGS} longs,
 * long {@code i} being {@code NEW + i}: a partial copy, a copy of old bytes or a shifted copy all fail the
 * comparison. Each consumer gets its own destination so that two racing consumers never share one.
 */
final class RingFixture
{
    /** Smallest data area that takes a record with a 48-byte payload (max record = capacity / 8). */
    static final int CAPACITY = 512;
    static final int TYPE = 7;
    static final int PAYLOAD_LONGS = 6;
    static final int PAYLOAD_LENGTH = PAYLOAD_LONGS * Long.BYTES;
    static final int RECORD_LENGTH = EntryDescriptor.RECORD_HEADER_LENGTH + PAYLOAD_LENGTH;

    /** Positions whose next record lands in the middle of the data area, far from 2^32. */
    static final int PLAIN_START = 4096 + 64;
    /**
     * After one lap of filler the next record sits 32 bytes before the end of the data area and 32 bytes
     * before 2^32: it needs a skip entry and its stamp wraps to 0.
     */
    static final int WRAP_START = -CAPACITY - 32;

    /** Result of one consume: the ring gave nothing. */
    static final int NOTHING = 0;
    /** Result of one consume: exactly the test record, header and payload. */
    static final int WHOLE = 1;
    /** Result of one consume: a header that is not the test record's (wrong stamp, length, type, check). */
    static final int BAD_HEADER = 2;
    /** Result of one consume: the right header but a payload that mixes new and other bytes. */
    static final int TORN = 3;
    /** Result of one consume: the right header but not one payload long of the new record. */
    static final int STALE = 4;
    /** Result of one consume: more bytes than one record (read() returned a batch). */
    static final int TOO_MUCH = 5;

    private static final AtomicInteger STATES = new AtomicInteger();
    private static final long NEW = 0x5EED_0000_0000_1000L;
    private static final long OLD = 0x01D0_01D0_01D0_0000L;
    private static final int FILLER_PAYLOAD_LENGTH = 16;
    private static final int FILLER_SPAN = EntryDescriptor.RECORD_HEADER_LENGTH + FILLER_PAYLOAD_LENGTH;

    final Ring ring;
    /**
     * Calls of the ring's {@link io.syslet.ring.ConsumerSignal} since the constructor returned; only a
     * fixture made by {@link #signalled()} has one. Plain: only the committing actor writes it.
     */
    int signals;
    /** Where the test record's header will be: after a skip entry if it would cross the end. */
    final int recordPosition;
    final UnsafeBuffer source = new UnsafeBuffer(new byte[PAYLOAD_LENGTH]);
    final UnsafeBuffer destination1 = new UnsafeBuffer(new byte[CAPACITY]);
    final UnsafeBuffer destination2 = new UnsafeBuffer(new byte[CAPACITY]);

    /**
     * A fresh ring at the next of the two starting positions: states alternate between a record mid data
     * area ({@link #PLAIN_START}) and one that needs a skip entry and wraps past 2^32 ({@link #WRAP_START}),
     * so each test runs both cases. (jcstress has no parameters, and does not inherit actors, so one
     * state class per case would copy every actor.)
     */
    RingFixture()
    {
        this((STATES.getAndIncrement() & 1) == 0 ? PLAIN_START : WRAP_START, false);
    }

    /**
     * @return a fixture like {@link #RingFixture()} whose ring counts its consumer signals in {@link #signals}.
     */
    static RingFixture signalled()
    {
        return new RingFixture((STATES.getAndIncrement() & 1) == 0 ? PLAIN_START : WRAP_START, true);
    }

    private RingFixture(final int initialPosition, final boolean signalled)
    {
        final RingRegion region = RingRegion.allocate(CAPACITY, initialPosition);
        ring = signalled ? new Ring(region, () -> signals++) : new Ring(region);
        final UnsafeBuffer filler = new UnsafeBuffer(new byte[FILLER_PAYLOAD_LENGTH]);
        // 32-byte fillers tile a lap exactly from any 32-aligned start, so the fill itself needs no skip.
        for (int i = 0; i < CAPACITY / FILLER_SPAN; i++)
        {
            filler.putLong(0, OLD + 2L * i);
            filler.putLong(Long.BYTES, OLD + 2L * i + 1);
            if (!ring.offer(TYPE, filler, 0, FILLER_PAYLOAD_LENGTH) || ring.poll(destination1, 0) != FILLER_SPAN)
            {
                throw new IllegalStateException("filler lap did not go straight through the ring");
            }
        }
        final int tail = ring.tailPosition();
        final int toEnd = CAPACITY - (tail & (CAPACITY - 1));
        recordPosition = toEnd < RECORD_LENGTH ? tail + toEnd : tail;
        for (int i = 0; i < PAYLOAD_LONGS; i++)
        {
            source.putLong(i * Long.BYTES, NEW + i);
        }
        // The fill went through destination1: clear it so a result can only come from the test's own copy.
        destination1.setMemory(0, CAPACITY, (byte)0);
        signals = 0;
    }

    /**
     * Commits a 32-byte filler record (not the test record) with {@link Ring#offer}.
     *
     * @return its span in the ring.
     */
    int offerFiller()
    {
        final UnsafeBuffer filler = new UnsafeBuffer(new byte[FILLER_PAYLOAD_LENGTH]);
        if (!ring.offer(TYPE, filler, 0, FILLER_PAYLOAD_LENGTH))
        {
            throw new IllegalStateException("filler record did not go straight into the ring");
        }
        return FILLER_SPAN;
    }

    /**
     * Takes a batch with {@link Ring#read} without looking at it.
     *
     * @return the bytes the batch took.
     */
    int readBytes(final MutableDirectBuffer destination)
    {
        return ring.read(destination, 0, CAPACITY);
    }

    /**
     * Adds the test record with {@link Ring#offer}.
     *
     * @return true if it went straight into the ring.
     */
    boolean offer()
    {
        return ring.offer(TYPE, source, 0, PAYLOAD_LENGTH);
    }

    /**
     * Reserves the test record and writes its payload without committing it.
     *
     * @return the reservation index.
     */
    int reserveAndWrite()
    {
        final int index = ring.tryReserve(TYPE, PAYLOAD_LENGTH);
        if (index < 0)
        {
            throw new IllegalStateException("reservation failed: " + index);
        }
        for (int i = 0; i < PAYLOAD_LONGS; i++)
        {
            ring.buffer().putLong(index + i * Long.BYTES, NEW + i);
        }
        return index;
    }

    /**
     * Takes one record with {@link Ring#poll}.
     *
     * @param destination this consumer's own buffer.
     * @return what it got: {@link #NOTHING}, {@link #WHOLE} or a defect code.
     */
    int poll(final MutableDirectBuffer destination)
    {
        return classify(destination, ring.poll(destination, 0), RECORD_LENGTH);
    }

    /**
     * Takes a batch with {@link Ring#read}.
     *
     * @param destination this consumer's own buffer.
     * @return what it got: {@link #NOTHING}, {@link #WHOLE} or a defect code.
     */
    int read(final MutableDirectBuffer destination)
    {
        final int bytes = ring.read(destination, 0, CAPACITY);
        return classify(destination, bytes, EntryDescriptor.align(RECORD_LENGTH));
    }

    private int classify(final MutableDirectBuffer copy, final int bytes, final int expectedBytes)
    {
        if (bytes == 0)
        {
            return NOTHING;
        }
        if (bytes > expectedBytes)
        {
            return TOO_MUCH;
        }
        if (bytes != expectedBytes ||
            copy.getInt(EntryDescriptor.STAMP_OFFSET) != recordPosition ||
            copy.getInt(EntryDescriptor.LENGTH_OFFSET) != RECORD_LENGTH ||
            copy.getInt(EntryDescriptor.TYPE_OFFSET) != TYPE ||
            copy.getInt(EntryDescriptor.CHECK_OFFSET) != EntryDescriptor.check(recordPosition, RECORD_LENGTH, TYPE,
                ring.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET)))
        {
            return BAD_HEADER;
        }
        int matching = 0;
        for (int i = 0; i < PAYLOAD_LONGS; i++)
        {
            if (copy.getLong(EntryDescriptor.RECORD_HEADER_LENGTH + i * Long.BYTES) == NEW + i)
            {
                matching++;
            }
        }
        return matching == PAYLOAD_LONGS ? WHOLE : matching == 0 ? STALE : TORN;
    }
}
