package io.syslet.cli;

import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.RingDescriptor;
import io.syslet.ring.RingRegion;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;

import java.lang.invoke.VarHandle;

/**
 * Reads the records of a ring that another process owns and consumes, without taking them: an
 * observer with a private position (docs/ABI.md part 1, section 9). It never writes to the region, so
 * the owner's consumers still get every record.
 *
 * <p>Because nobody waits for an observer, a writer can lap it: the bytes at its position are then
 * reused for later records. A record is trusted only if, after it was copied, its commit word is
 * unchanged and the tail has not moved more than a capacity past its position (the seqlock pattern:
 * read the version, copy, fence, read the version again). Otherwise the copy may be torn: the peeker
 * reports the bytes it missed and starts again at head, the oldest position the owner still holds.
 *
 * <p>Not thread-safe: one peeker per reading thread.
 */
final class RingPeeker
{
    /** {@link #peek}: no committed record at the position yet (empty, or a reservation not committed). */
    static final int NOTHING = 0;
    /** {@link #peek}: the writer lapped this reader; see {@link #lastMissedBytes()}; now at head. */
    static final int LAPPED = -1;

    private final AtomicBuffer region;
    private final int capacity;
    private int salt;
    private final int mask;
    private final int maxRecordLength;
    private int position;
    private int lastPosition;
    private long lastMissedBytes;
    private long missedBytes;

    /**
     * @param region a whole ring region (header then data area); it is validated here.
     * @throws io.syslet.ring.RingFormatException if it is not a ring this version can read.
     * @throws IllegalStateException if its head and tail are not 0 to capacity bytes apart.
     */
    RingPeeker(final AtomicBuffer region)
    {
        this.capacity = RingRegion.validate(region, "ring");
        this.region = region;
        this.mask = capacity - 1;
        this.maxRecordLength = RingDescriptor.maxRecordLength(capacity);
        this.salt = region.getInt(RingDescriptor.CHECK_SALT_OFFSET);
        this.position = consistentHead();
    }

    int capacity()
    {
        return capacity;
    }

    /**
     * @return the owner's head now (acquire load): the oldest record it has not consumed.
     */
    int head()
    {
        return region.getIntVolatile(RingDescriptor.HEAD_POSITION_OFFSET);
    }

    /**
     * @return the tail now (acquire load): the end of the last reservation.
     */
    int tail()
    {
        return region.getIntVolatile(RingDescriptor.TAIL_POSITION_OFFSET);
    }

    /**
     * @return the producer flags now (OVERFLOW, WAITERS).
     */
    int producerFlags()
    {
        return region.getIntVolatile(RingDescriptor.PRODUCER_FLAGS_OFFSET);
    }

    /**
     * @return where the next {@link #peek} looks.
     */
    int position()
    {
        return position;
    }

    void position(final int position)
    {
        this.position = position;
    }

    /**
     * @return the position of the record the last successful {@link #peek} copied.
     */
    int lastPosition()
    {
        return lastPosition;
    }

    /**
     * @return bytes skipped by the last {@link #LAPPED} answer.
     */
    long lastMissedBytes()
    {
        return lastMissedBytes;
    }

    /**
     * @return bytes skipped by every lap so far.
     */
    long missedBytes()
    {
        return missedBytes;
    }

    /**
     * Copies the next committed record (its 16-byte header, then the payload) and moves past it, over
     * skip entries and aborted (padding) records.
     *
     * @param dst       where the record goes; it must hold {@code maxRecordLength} bytes from dstOffset.
     * @param dstOffset where in dst.
     * @return the record's length (header included), {@link #NOTHING} or {@link #LAPPED}.
     * @throws IllegalStateException if the ring is damaged: a skip entry (stamped with the salt, which
     * only a producer knows) that does not reach the end of the data area, while the writer has not
     * lapped this reader. A record that fails its checks is only not committed yet (ABI section 6).
     */
    int peek(final MutableDirectBuffer dst, final int dstOffset)
    {
        if (dst.capacity() - dstOffset < maxRecordLength)
        {
            throw new IllegalArgumentException("destination of " + (dst.capacity() - dstOffset) +
                " bytes cannot hold the ring's largest record of " + maxRecordLength);
        }
        while (true)
        {
            final int p = position;
            final int ahead = tail() - p;
            if (ahead == 0)
            {
                return NOTHING;
            }
            if (ahead < 0 || ahead > capacity)
            {
                // Behind by more than a lap, or ahead of the tail (the ring was formatted again): resynchronise.
                return lapped(p, ahead < 0);
            }
            final int offset = RingDescriptor.HEADER_LENGTH + (p & mask);
            final long word = region.getLongVolatile(offset);
            final int stamp = EntryDescriptor.stamp(word);
            final int length = EntryDescriptor.length(word);
            if (length == 0 || stamp != (length < 0 ? EntryDescriptor.skipStamp(p, salt) : p))
            {
                // Reserved and not committed yet, or already overwritten by a later lap: the tail tells which.
                return isLapped(p) ? lapped(p, false) : NOTHING;
            }
            if (length < 0)
            {
                if (-length != capacity - (p & mask))
                {
                    return damagedOrLapped(p, "skip entry of " + -length + " bytes does not reach the end of the data area");
                }
                position = p - length;
                continue;
            }
            if (length < EntryDescriptor.RECORD_HEADER_LENGTH || length > maxRecordLength ||
                length > capacity - (p & mask))
            {
                // Not a record of this lap (ABI section 6): payload of an earlier lap that a reservation
                // has not yet covered can hold any bytes, this stamp included.
                return notCommittedOrLapped(p);
            }
            dst.putBytes(dstOffset, region, offset, length);
            // Seqlock: the copy's loads must not be reordered after the re-check's loads.
            VarHandle.acquireFence();
            if (region.getLongVolatile(offset) != word || isLapped(p))
            {
                return lapped(p, false); // overwritten while copying: the copy may be torn
            }
            final int type = dst.getInt(dstOffset + EntryDescriptor.TYPE_OFFSET);
            if (dst.getInt(dstOffset + EntryDescriptor.CHECK_OFFSET) != EntryDescriptor.check(p, length, type, salt))
            {
                return notCommittedOrLapped(p); // as above: only a committed record carries the salted check
            }
            position = p + EntryDescriptor.align(length);
            if (type == EntryDescriptor.PADDING_TYPE)
            {
                continue; // an aborted reservation: nothing to deliver
            }
            lastPosition = p;
            return length;
        }
    }

    /**
     * @return true if a producer may have written over position p: the tail is more than a lap past it.
     */
    private boolean isLapped(final int p)
    {
        final int ahead = tail() - p;
        return ahead < 0 || ahead > capacity;
    }

    private int lapped(final int p, final boolean reformatted)
    {
        final int head = consistentHead();
        if (reformatted)
        {
            salt = region.getInt(RingDescriptor.CHECK_SALT_OFFSET); // a new format draws a new salt
        }
        lastMissedBytes = reformatted ? 0 : Integer.toUnsignedLong(head - p);
        missedBytes += lastMissedBytes;
        position = head;
        return LAPPED;
    }

    /**
     * @return head, checked against the tail: going on from a head that no writer could have left would find
     * the same lap (or the same "formatted again") at once, for ever.
     * @throws IllegalStateException if head and tail are not 0 to capacity bytes apart: a damaged ring.
     */
    private int consistentHead()
    {
        while (true)
        {
            final int head = head();
            final int tail = tail();
            if (head() != head)
            {
                continue; // the owner consumed between the loads: the tail may belong to a later head
            }
            final int ahead = tail - head;
            if (ahead < 0)
            {
                throw new IllegalStateException("ring damaged: head " + Integer.toUnsignedString(head) +
                    " is ahead of tail " + Integer.toUnsignedString(tail));
            }
            if (ahead > capacity)
            {
                throw new IllegalStateException("ring damaged: tail " + Integer.toUnsignedString(tail) + " is " + ahead +
                    " bytes past head " + Integer.toUnsignedString(head) + ", more than the capacity of " + capacity);
            }
            return head;
        }
    }

    /**
     * For an entry whose words do not make a committed record of position p.
     *
     * @return LAPPED if a producer may have overwritten p or the ring was formatted again; else NOTHING:
     * the entry is a reservation not committed yet.
     */
    private int notCommittedOrLapped(final int p)
    {
        if (isLapped(p))
        {
            return lapped(p, false);
        }
        if (region.getInt(RingDescriptor.CHECK_SALT_OFFSET) != salt)
        {
            return lapped(p, true); // formatted again under us: its records carry the new salt
        }
        return NOTHING;
    }

    private int damagedOrLapped(final int p, final String fault)
    {
        if (notCommittedOrLapped(p) == LAPPED)
        {
            return LAPPED;
        }
        throw new IllegalStateException("ring damaged at position " + Integer.toUnsignedString(p) + ": " + fault);
    }
}
