package io.syslet.ring;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static io.syslet.ring.EntryDescriptor.*;
import static io.syslet.ring.RingDescriptor.*;

/**
 * A many-producer, many-consumer ring of variable-length records over a {@link RingRegion}.
 *
 * <h2>Producers (lock-free)</h2>
 * {@link #tryReserve} claims space by one CAS on the tail word, {@link #commit} publishes the record
 * with one release store of its commit word, {@link #abort} publishes it as padding that consumers
 * step over. {@link #offer} is reserve + copy + commit and never loses an entry: when the ring has no
 * room the entry goes to a FIFO overflow list and the OVERFLOW flag is set in the same word as the
 * tail, so no reservation can slip in front of it. While the flag is set every new entry also goes
 * to the list. {@link #flush()} moves the list into the ring as room allows and clears the flag once
 * it is empty. The overflow path copies the entry to the heap and takes a lock; the ring path does
 * neither.
 *
 * <h2>Consumers (lock-free)</h2>
 * A consumer copies the record at head into its own buffer, then claims it by CAS on head. A failed
 * CAS means another consumer took it; the copy is discarded. A successful CAS proves the copy is
 * whole: producers only write behind head, and head had not moved. Consumed memory is never zeroed
 * (that would race with a consumer still copying), and consumers do not read tail on their way through
 * committed entries (that would pull the line every producer CASes; only a {@link #poll} that finds the
 * entry at head uncommitted, or a {@link #read} of an empty ring with entries on the overflow list, looks
 * at it): an entry counts as committed when it carries the position it was written
 * for, and a record also a check word keyed by the region's random salt. An earlier lap's header has
 * the wrong stamp; its payload bytes would need the exact stamp and the salted check, which random data
 * matches with odds of 2^-64 and data crafted without the salt with odds of 2^-32. {@link #poll} waits for a producer that has
 * reserved the record at head but not yet committed it, so it behaves as a linearizable FIFO queue;
 * {@link #read} is the batch form and returns what is committed without waiting.
 *
 * <h2>Waiting</h2>
 * {@link #stateToken()} returns the tail position; {@link #await} sleeps until the ring has moved past
 * that token, a record is readable, the overflow list is pending, or the timeout passes. A sleeper sets
 * the WAITERS flag in the tail word; the next producer to reserve clears it and wakes every sleeper
 * after its commit, so no wakeup is lost and producers pay nothing while nobody sleeps.
 *
 * <p>A consumer that waits outside the ring (on an eventfd in epoll, say) cannot set that flag; a
 * {@link ConsumerSignal} given to the constructor serves it instead. It is called only for a commit at
 * the position where consumers stand, since a consumer that drained the ring stops there; a record
 * committed behind others still unconsumed is found by whoever consumes those. So a consumer that, after
 * each signal, drains the ring misses none, and a burst of records costs one signal. To drain: read until
 * {@link #read} returns 0, then, if {@link #isOverflowPending()}, {@link #flush()} and read again. (Read and
 * poll flush only if the overflow lock is free; a producer holding it to add an entry that finds no room
 * commits nothing, so nothing would signal that entry. Flush waits for the lock, and its commits signal.)
 *
 * <p>Every reservation must be committed or aborted exactly once: a reservation left open stalls
 * consumers at its position.
 */
public final class Ring implements RingReader
{
    /** {@link #tryReserve} result: not enough free space. */
    public static final int INSUFFICIENT_CAPACITY = -2;
    /** {@link #tryReserve} result: entries wait on the overflow list; a reservation now would jump them. */
    public static final int OVERFLOW_PENDING = -3;

    /** How long a sleeper waits between looks while a producer it cannot wake is mid-commit. */
    private static final long IN_FLIGHT_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    /** Marks, in a reservation's check field, that its producer must wake sleepers after commit. */
    private static final int WAKE_ON_COMMIT = 0x8000_0000;
    private static final int SPINS_BEFORE_YIELD = 64;
    private static final long POSITION_MASK = 0xFFFF_FFFFL;

    /**
     * The ring's own view of the region, never handed out: a caller re-wrapping a buffer cannot move it, and
     * it holds the direct or mapped buffer that owns the memory (if any), so the memory outlives a
     * {@link RingRegion#close} for as long as this ring is reachable.
     */
    private final UnsafeBuffer view;
    /** What {@link #buffer()} hands out: another view of the same memory, for callers to write payloads. */
    private final UnsafeBuffer callerView;
    /**
     * {@link #view}'s base object (null off-heap) and address: the hot paths read and write through these
     * with no bounds check (see the helpers at the end), because every offset they use lies in the region:
     * header offsets are constants below its length, {@link #dataOffset} masks a position into the data area
     * (8-aligned, so a u64 at it fits even if a corrupt position is not aligned), and a record's extent is
     * checked against the end of the data area before its bytes are touched ({@link #committedSpan},
     * {@link #publishChecked}). Bulk copies go through {@link #view}, checked once per copy.
     */
    private final byte[] array;
    private final long address;
    private final int capacity;
    private final int mask;
    private final int maxRecordLength;
    /** The region's check salt: a committed record's check word depends on it. */
    private final int salt;
    /**
     * The overflow list, its lock and the sleepers: shared by every ring made from the same {@link RingRegion}, since
     * the OVERFLOW and WAITERS flags in the region speak of them (see {@link LocalState}).
     */
    private final LocalState local;
    private final ReentrantLock overflowLock;
    private final OverflowList overflow;
    private final Sleepers sleepers;
    /** Null if nobody waits outside the ring: then a commit pays nothing for it. */
    private final ConsumerSignal consumerSignal;

    /**
     * A ring over a region.
     *
     * @param region a formatted region; the ring does not own it.
     * @throws IllegalStateException if the region is closed.
     */
    public Ring(final RingRegion region)
    {
        this(region, null);
    }

    /**
     * A ring over a region whose consumers may wait outside it.
     *
     * @param region         a formatted region; the ring does not own it.
     * @param consumerSignal called on the committing thread after a commit that a consumer may be waiting for;
     *                       null for none.
     * @throws IllegalStateException if the region is closed.
     */
    public Ring(final RingRegion region, final ConsumerSignal consumerSignal)
    {
        this(region.buffer(), consumerSignal, region.localState());
    }

    /**
     * A ring over memory that already holds a valid header, with an overflow list and sleepers of its own: in one
     * process, offer and await on a region through rings made from one {@link RingRegion} (they share them), not
     * through rings made from separate buffers over it, whose lists and sleepers the region's flags cannot tell apart.
     *
     * @param buffer the whole region: header then data area.
     * @throws RingFormatException if the header is not valid.
     */
    public Ring(final AtomicBuffer buffer)
    {
        this(buffer, null);
    }

    /**
     * A ring over memory that already holds a valid header, whose consumers may wait outside it.
     *
     * @param buffer         the whole region: header then data area.
     * @param consumerSignal called on the committing thread after a commit that a consumer may be waiting for;
     *                       null for none.
     * @throws RingFormatException if the header is not valid.
     * @throws IllegalArgumentException if the buffer is read-only.
     */
    public Ring(final AtomicBuffer buffer, final ConsumerSignal consumerSignal)
    {
        this(buffer, consumerSignal, new LocalState());
    }

    private Ring(final AtomicBuffer buffer, final ConsumerSignal consumerSignal, final LocalState local)
    {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
        {
            throw new UnsupportedOperationException("the ring's layout is little-endian and is accessed in native " +
                "order; this platform is " + ByteOrder.nativeOrder());
        }
        if (buffer.byteBuffer() != null && buffer.byteBuffer().isReadOnly())
        {
            // Its memory may be mapped without write permission: the first store would crash the JVM.
            throw new IllegalArgumentException("the region is read-only (a ring file mapped for reading): a ring " +
                "writes its head and tail; an observer reads such a region without a Ring (docs/ABI.md, observers)");
        }
        // Validate the view, not the caller's buffer: what is checked is what will be used.
        this.view = new UnsafeBuffer(buffer);
        view.verifyAlignment();
        this.capacity = RingRegion.validate(view, "ring region");
        checkHeadAndTail(view, capacity);
        this.callerView = new UnsafeBuffer(view);
        this.array = view.byteArray();
        this.address = view.addressOffset();
        this.mask = capacity - 1;
        this.maxRecordLength = RingDescriptor.maxRecordLength(capacity);
        this.salt = getInt(CHECK_SALT_OFFSET);
        this.consumerSignal = consumerSignal;
        this.local = local;
        this.overflowLock = local.overflowLock;
        this.overflow = local.overflow;
        this.sleepers = local.sleepers;
    }

    /**
     * Head and tail of a live ring are 0 to capacity bytes apart: tail never passes head by more than a lap, and
     * head never passes tail. A region where they are not (a damaged or hand-edited file) would have poll wait
     * for ever for a record at head that no producer will commit, and reserve find room that is not there.
     * Both move while another process uses the region: head is read again after tail until it held still, so
     * the pair is one that was true at the moment tail was read (head only moves forward).
     *
     * @throws RingFormatException naming both positions if they are not.
     */
    private static void checkHeadAndTail(final AtomicBuffer region, final int capacity)
    {
        int head;
        int tail;
        do
        {
            head = region.getIntVolatile(HEAD_POSITION_OFFSET);
            tail = region.getIntVolatile(TAIL_POSITION_OFFSET);
        }
        while (region.getIntVolatile(HEAD_POSITION_OFFSET) != head);
        final int ahead = tail - head;
        if (ahead < 0 || ahead > capacity)
        {
            throw new RingFormatException("ring region damaged: tail " + Positions.unsigned(tail) + " and head " +
                Positions.unsigned(head) + " are " + ahead + " bytes apart, not 0 to the capacity of " + capacity);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Producers
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Claims space for one record.
     *
     * @param type   record type, &gt;= 1.
     * @param length payload bytes, at most {@link #maxPayloadLength()}.
     * @return the buffer index at which to write the payload, or {@link #INSUFFICIENT_CAPACITY}, or
     * {@link #OVERFLOW_PENDING}.
     * @throws IllegalArgumentException if the type is not &gt;= 1 or the record would exceed the maximum.
     */
    public int tryReserve(final int type, final int length)
    {
        return reserve(checkType(type), checkedRecordLength(length), false);
    }

    /**
     * Publishes a reserved record.
     *
     * @param index a value returned by {@link #tryReserve}, not yet committed or aborted.
     * @throws IllegalStateException if the index is not an open reservation.
     */
    public void commit(final int index)
    {
        publishChecked(index, false);
    }

    /**
     * Publishes a reserved record as padding: consumers step over it.
     *
     * @param index a value returned by {@link #tryReserve}, not yet committed or aborted.
     * @throws IllegalStateException if the index is not an open reservation.
     */
    public void abort(final int index)
    {
        publishChecked(index, true);
    }

    /**
     * Adds a record; never loses it. Zero allocation when it goes straight into the ring.
     *
     * @param type      record type, &gt;= 1.
     * @param src       payload source.
     * @param srcOffset payload offset in {@code src}.
     * @param length    payload bytes, at most {@link #maxPayloadLength()}.
     * @return true if the record went straight into the ring, false if it went through the overflow
     * list (it is still delivered exactly once, in order).
     * @throws IllegalArgumentException if the type is not &gt;= 1, the record would exceed the maximum or
     * {@code src} is shorter than {@code srcOffset + length}.
     */
    public boolean offer(final int type, final DirectBuffer src, final int srcOffset, final int length)
    {
        checkType(type);
        final int recordLength = checkedRecordLength(length);
        if (srcOffset < 0 || srcOffset > src.capacity() - length)
        {
            throw new IllegalArgumentException("source of " + src.capacity() + " bytes cannot supply " + length +
                " bytes at offset " + srcOffset);
        }
        return writeIfRoom(type, recordLength, src, srcOffset, length) ||
            offerSlow(type, recordLength, src, srcOffset, length);
    }

    /**
     * Moves entries from the overflow list into the ring as room allows; clears OVERFLOW once the list
     * is empty. Blocks only while another thread adds to or flushes the list.
     *
     * @return entries still on the overflow list.
     */
    @Override
    public int flush()
    {
        overflowLock.lock();
        try
        {
            drainOverflowLocked();
            return overflow.size();
        }
        finally
        {
            overflowLock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Consumers
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Takes the record at head: copies it, header included, into {@code dst} and claims it. If a
     * producer has reserved that record but not committed it, waits for the commit. If the ring is empty
     * and this instance's overflow list is not, flushes first. (The overflow list belongs to the rings
     * made from the {@link RingRegion} whose offers filled it: another ring over the same memory, in another process
     * say, finds the ring empty with OVERFLOW set and returns 0; the owner must flush.)
     *
     * @param dst       destination.
     * @param dstOffset where the record's header goes.
     * @return the record length (header + payload), or 0 if the ring and the overflow list are empty.
     * @throws IllegalArgumentException if the record at head does not fit in {@code dst}; it stays in
     * the ring.
     */
    @Override
    public int poll(final MutableDirectBuffer dst, final int dstOffset)
    {
        int idle = 0;
        while (true)
        {
            final int head = checkAligned(getIntVolatile(HEAD_POSITION_OFFSET), "head");
            final int offset = dataOffset(head);
            // Volatile, so at least acquire: if the stamp matches, the header and payload written before the commit
            // are visible. Sequentially consistent, too, as the consumer signal's Dekker pair needs (consumersStandAt).
            final long commitWord = getLongVolatile(offset);
            final int span = committedSpan(commitWord, head, offset);
            if (span == 0)
            {
                // Volatile: read after the commit word, so "tail == head" means empty at this instant.
                final long tailWord = getLongVolatile(TAIL_WORD_OFFSET);
                if ((int)tailWord == head)
                {
                    if (!isOverflowFlagSet(tailWord))
                    {
                        return 0;
                    }
                    if (!local.overflowPending)
                    {
                        // OVERFLOW, and this instance's list empty: the flag is another instance's, whose owner
                        // alone can flush; or this instance's drain emptied the list between the two reads. A
                        // drain moves tail or clears the flag, so an unchanged word means the first.
                        if (getLongVolatile(TAIL_WORD_OFFSET) == tailWord)
                        {
                            return 0;
                        }
                        continue;
                    }
                    tryDrainOverflow();
                }
                // Otherwise a producer reserved head and has not committed: wait for it (keeps poll linearizable).
                idle = backOff(idle);
                continue;
            }
            if (span > 0)
            {
                final int length = EntryDescriptor.length(commitWord);
                if (dst.capacity() - dstOffset < length || dstOffset < 0)
                {
                    if (getIntVolatile(HEAD_POSITION_OFFSET) != head)
                    {
                        continue;
                    }
                    throw new IllegalArgumentException("record of " + length + " bytes at position " +
                        Positions.unsigned(head) + " does not fit in " + (dst.capacity() - dstOffset) +
                        " bytes of destination at offset " + dstOffset);
                }
                dst.putBytes(dstOffset, view, offset, length);
                // The CAS validates the copy: head still at this record means no producer overwrote it.
                if (compareAndSetInt(HEAD_POSITION_OFFSET, head, head + span))
                {
                    return length;
                }
            }
            else
            {
                compareAndSetInt(HEAD_POSITION_OFFSET, head, head - span);
            }
        }
    }

    /**
     * Takes a batch: copies whole committed records, headers included, each at an 8-byte-aligned offset
     * (the bytes between a record's end and the next offset are unspecified), into {@code dst} until the
     * next one would pass {@code maxBytes}, then claims them all with one CAS. Does not wait for producers
     * that are mid-commit. If the ring is empty and this instance's overflow list is not, flushes first
     * (see {@link #poll} on whose list it is).
     *
     * @param dst       destination.
     * @param dstOffset where the first record goes.
     * @param maxBytes  bytes available in {@code dst} from {@code dstOffset}.
     * @return bytes written: the sum of the records' aligned lengths; 0 if nothing is committed.
     * @throws IllegalArgumentException if {@code dst} is shorter than {@code dstOffset + maxBytes}, or the
     * next record's aligned length is more than {@code maxBytes} (it stays in the ring).
     */
    @Override
    public int read(final MutableDirectBuffer dst, final int dstOffset, final int maxBytes)
    {
        if (dstOffset < 0 || maxBytes < 0 || dst.capacity() - dstOffset < maxBytes)
        {
            throw new IllegalArgumentException("destination of " + dst.capacity() + " bytes cannot take " + maxBytes +
                " bytes at offset " + dstOffset);
        }
        while (true)
        {
            final int head = checkAligned(getIntVolatile(HEAD_POSITION_OFFSET), "head");
            int position = head;
            int written = 0;
            // Records that lie back to back in the ring are copied with one copy, alignment bytes included: they
            // land at the same aligned offsets as one by one, and a batch of small records pays one copy, not one
            // per record. A skip, padding or the end of the batch closes the run.
            int runOffset = 0;
            int runBytes = 0;
            while (true)
            {
                final int offset = dataOffset(position);
                final long commitWord = getLongVolatile(offset);
                final int span = committedSpan(commitWord, position, offset);
                if (span == 0)
                {
                    break;
                }
                final int advance = Math.abs(span);
                if (span > 0)
                {
                    if (written + advance > maxBytes)
                    {
                        if (written == 0 && getIntVolatile(HEAD_POSITION_OFFSET) == head)
                        {
                            // Name the aligned length: it is what must fit, and "46 bytes do not fit in 46" reads
                            // as a bug.
                            throw new IllegalArgumentException("record of " + EntryDescriptor.length(commitWord) +
                                " bytes (" + advance + " with its alignment) at position " +
                                Positions.unsigned(position) + " does not fit in a batch of " + maxBytes + " bytes");
                        }
                        break;
                    }
                    if (runBytes == 0)
                    {
                        runOffset = offset;
                    }
                    runBytes += advance;
                    written += advance;
                }
                else if (runBytes != 0)
                {
                    dst.putBytes(dstOffset + written - runBytes, view, runOffset, runBytes);
                    runBytes = 0;
                }
                position += advance;
                if ((position & mask) == 0 && runBytes != 0)
                {
                    // The data area ends here: the next entry is at its start, not behind this run.
                    dst.putBytes(dstOffset + written - runBytes, view, runOffset, runBytes);
                    runBytes = 0;
                }
            }
            if (runBytes != 0)
            {
                dst.putBytes(dstOffset + written - runBytes, view, runOffset, runBytes);
            }

            if (position == head)
            {
                // The mirror, not the tail word: a consumer spinning on an empty ring must not keep pulling
                // the line that every producer CASes.
                if (local.overflowPending && getIntVolatile(TAIL_POSITION_OFFSET) == head && tryDrainOverflow())
                {
                    continue;
                }
                return 0;
            }
            // One CAS claims the whole batch and validates every copy in it.
            if (compareAndSetInt(HEAD_POSITION_OFFSET, head, position) && written > 0)
            {
                return written;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Waiting
    // ------------------------------------------------------------------------------------------------------------

    /**
     * The ring state a consumer saw: pass it to {@link #await} after finding the ring empty.
     *
     * @return the tail position.
     */
    @Override
    public int stateToken()
    {
        return getIntVolatile(TAIL_POSITION_OFFSET);
    }

    /**
     * Sleeps until the ring has moved since {@code token} was read (a reservation since, a committed
     * record at head, or entries on the overflow list) or the timeout passes. Returns at once if it
     * already has. Any number of threads may wait; a commit wakes all of them.
     *
     * @param token   from {@link #stateToken()}.
     * @param timeout how long to wait at most; 0 only checks.
     * @param unit    unit of {@code timeout}.
     * @return true if the ring moved, false on timeout.
     * @throws InterruptedException if the thread is interrupted while it waits.
     */
    @Override
    public boolean await(final int token, final long timeout, final TimeUnit unit) throws InterruptedException
    {
        final long deadline = System.nanoTime() + unit.toNanos(timeout);
        final int slot = sleepers.register(Thread.currentThread());
        try
        {
            while (true)
            {
                // Order matters: register, then set WAITERS by CAS on the tail word, then look. A producer
                // whose reservation CAS comes after ours sees the flag and wakes us after its commit; one
                // that came before has already moved the tail away from the token.
                if (!setWaitersFlag(token) || hasMoved(token))
                {
                    return true;
                }
                final long remaining = deadline - System.nanoTime();
                if (remaining <= 0)
                {
                    return false;
                }
                if (Thread.interrupted())
                {
                    throw new InterruptedException();
                }
                // A producer that reserved before we set the flag will not wake us: look again soon.
                final boolean inFlight = getIntVolatile(HEAD_POSITION_OFFSET) != token;
                LockSupport.parkNanos(this, inFlight || slot < 0 ? Math.min(remaining, IN_FLIGHT_POLL_NANOS) : remaining);
            }
        }
        finally
        {
            sleepers.deregister(slot);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // State
    // ------------------------------------------------------------------------------------------------------------

    /**
     * @return data area bytes.
     */
    @Override
    public int capacity()
    {
        return capacity;
    }

    /**
     * @return the largest record, header included: capacity / 8.
     */
    @Override
    public int maxRecordLength()
    {
        return maxRecordLength;
    }

    /**
     * @return the largest payload: {@link #maxRecordLength()} - 16.
     */
    @Override
    public int maxPayloadLength()
    {
        return maxRecordLength - RECORD_HEADER_LENGTH;
    }

    /**
     * @return the u32 head position.
     */
    @Override
    public int headPosition()
    {
        return getIntVolatile(HEAD_POSITION_OFFSET);
    }

    /**
     * @return the u32 tail position (end of the last reservation).
     */
    @Override
    public int tailPosition()
    {
        return getIntVolatile(TAIL_POSITION_OFFSET);
    }

    /**
     * @return bytes between head and tail, reserved or committed.
     */
    @Override
    public int occupancy()
    {
        final int head = getIntVolatile(HEAD_POSITION_OFFSET);
        final int tail = getIntVolatile(TAIL_POSITION_OFFSET);
        return Positions.distance(head, tail);
    }

    /**
     * @return true while the OVERFLOW flag is set.
     */
    @Override
    public boolean isOverflowPending()
    {
        return isOverflowFlagSet(getLongVolatile(TAIL_WORD_OFFSET));
    }

    /**
     * @return entries on the overflow list now.
     */
    @Override
    public int overflowSize()
    {
        overflowLock.lock();
        try
        {
            return overflow.size();
        }
        finally
        {
            overflowLock.unlock();
        }
    }

    /**
     * @return the ring's view of the region it runs over (its own flyweight over the same memory: write
     * reserved payloads through it).
     */
    @Override
    public AtomicBuffer buffer()
    {
        return callerView;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    private int reserve(final int type, final int recordLength, final boolean flushing)
    {
        final int required = align(recordLength);
        long tailWord;
        int tail;
        int padding;
        do
        {
            // Volatile: the CAS below needs the current word, flags included.
            tailWord = getLongVolatile(TAIL_WORD_OFFSET);
            tail = checkAligned((int)tailWord, "tail");
            if (!flushing && isOverflowFlagSet(tailWord))
            {
                return OVERFLOW_PENDING;
            }
            final int toEnd = capacity - (tail & mask);
            padding = required > toEnd ? toEnd : 0;
            // Negative "used" is no room either: a cache stored late by a producer that stalled while more than
            // 2^31 + capacity bytes went by lags tail by that much, which reads as negative as an i32 and would
            // otherwise pass for more room than the ring has. Read head then, as for a full ring.
            final int used = Positions.distance(getIntVolatile(HEAD_CACHE_OFFSET), tail);
            if ((used < 0 || required + padding > capacity - used) && !hasRoomBehindHead(tail, required + padding))
            {
                return INSUFFICIENT_CAPACITY;
            }
        }
        while (!compareAndSetLong(TAIL_WORD_OFFSET, tailWord,
            (tailWord & ((long)~FLAG_WAITERS << 32)) | ((tail + padding + required) & POSITION_MASK)));

        final int position = tail + padding;
        final int recordOffset = dataOffset(position);
        // Stamp with length 0 = reserved, not committed. Until it lands a consumer at this position sees
        // bytes of an earlier lap, which the stamp and the salted check reject.
        putLong(recordOffset, commitWord(position, 0));
        putInt(recordOffset + TYPE_OFFSET, type);
        final boolean wake = (tailWord & ((long)FLAG_WAITERS << 32)) != 0;
        putInt(recordOffset + CHECK_OFFSET, wake ? recordLength | WAKE_ON_COMMIT : recordLength);
        if (padding != 0)
        {
            // Release, after the record's stamp: a consumer that steps over the skip finds that stamp.
            putLongRelease(dataOffset(tail), commitWord(skipStamp(tail, salt), -padding));
        }
        return recordOffset + RECORD_HEADER_LENGTH;
    }

    /**
     * The slow half of the room check, once the head cache said no: reads head itself.
     */
    private boolean hasRoomBehindHead(final int tail, final int total)
    {
        final int head = getIntVolatile(HEAD_POSITION_OFFSET);
        if (total > capacity - Positions.distance(head, tail))
        {
            return false;
        }
        // A stale cache is harmless: it is only ever behind head, so it can only under-report room.
        putIntRelease(HEAD_CACHE_OFFSET, head);
        return true;
    }

    /**
     * Publishes the reservation at {@code recordOffset}.
     *
     * @param stamp   its position.
     * @param pending its check field as the reservation left it: record length, plus WAKE_ON_COMMIT.
     */
    private void publish(final int recordOffset, final int stamp, final int pending, final boolean abort)
    {
        final int length = pending & ~WAKE_ON_COMMIT;
        final int type;
        if (abort)
        {
            type = PADDING_TYPE;
            putInt(recordOffset + TYPE_OFFSET, PADDING_TYPE);
        }
        else
        {
            type = getInt(recordOffset + TYPE_OFFSET);
        }
        putInt(recordOffset + CHECK_OFFSET, check(stamp, length, type, salt));
        // Release: payload, type and check are visible to anyone who sees this commit word.
        putLongRelease(recordOffset + COMMIT_WORD_OFFSET, commitWord(stamp, length));
        if (pending < 0)
        {
            sleepers.wakeAll();
        }
        if (consumerSignal != null && consumersStandAt(stamp, length))
        {
            consumerSignal.signal();
        }
    }

    /**
     * Whether consumers may have stopped at this just-committed record, finding it not yet committed.
     *
     * <p>A consumer stops where it reads an entry that is not committed, and before that read head has
     * reached the entry: its own CAS moved head there, or its volatile read of head found it there. This
     * producer stored the commit word, then reads head. The full fence between the two is the other half of
     * a Dekker pair: either the consumer's read of the entry comes after the commit and finds it, or this
     * read of head comes after head reached the entry and finds it there. A consumer may also have stopped
     * at the skip entry in front of a record at the start of the data area, before its producer wrote it:
     * head anywhere in the record's aligned length before it counts (over-signalling, once a lap at most,
     * when other records lie there unconsumed). Abort comes here too: consumers stopped at an aborted record
     * must go on to the records after it, whose producers saw head short of them and did not signal.
     *
     * <p>The consumer's half needs its move of head ordered before its next read of a commit word: here the
     * head CAS is a full fence and the commit word is read with a volatile (sequentially consistent) load.
     * An acquire load after a release store of head would not do; docs/ABI.md section 18 says so for readers
     * in other languages.
     */
    private boolean consumersStandAt(final int position, final int length)
    {
        VarHandle.fullFence();
        final int behind = position - getIntVolatile(HEAD_POSITION_OFFSET);
        return behind == 0 || ((position & mask) == 0 && behind > 0 && behind < align(length));
    }

    /** {@link #publish} for a reservation this class just made. */
    private void publishOwn(final int index)
    {
        final int recordOffset = index - RECORD_HEADER_LENGTH;
        publish(recordOffset, getInt(recordOffset + STAMP_OFFSET), getInt(recordOffset + CHECK_OFFSET),
            false);
    }

    private boolean writeIfRoom(
        final int type, final int recordLength, final DirectBuffer src, final int srcOffset, final int length)
    {
        final int index = reserve(type, recordLength, false);
        if (index < 0)
        {
            return false;
        }
        view.putBytes(index, src, srcOffset, length);
        publishOwn(index);
        return true;
    }

    private boolean offerSlow(
        final int type, final int recordLength, final DirectBuffer src, final int srcOffset, final int length)
    {
        overflowLock.lock();
        try
        {
            // Only holders of this lock set or clear OVERFLOW, so the flag cannot change under us.
            if (!isOverflowPending() && writeIfRoom(type, recordLength, src, srcOffset, length))
            {
                return true;
            }
            overflow.add(type, src, srcOffset, length);
            local.overflowPending = true;
            changeFlag(FLAG_OVERFLOW, true);
            drainOverflowLocked();
            return false;
        }
        finally
        {
            overflowLock.unlock();
        }
    }

    /**
     * @return true if this call moved at least one entry from the overflow list into the ring.
     */
    private boolean tryDrainOverflow()
    {
        if (overflowLock.tryLock())
        {
            try
            {
                return drainOverflowLocked() > 0;
            }
            finally
            {
                overflowLock.unlock();
            }
        }
        return false;
    }

    private int drainOverflowLocked()
    {
        int moved = 0;
        OverflowList.Entry entry;
        while ((entry = overflow.peek()) != null)
        {
            final byte[] payload = entry.payload();
            final int index = reserve(entry.type(), RECORD_HEADER_LENGTH + payload.length, true);
            if (index < 0)
            {
                return moved;
            }
            view.putBytes(index, payload);
            publishOwn(index);
            overflow.remove();
            moved++;
        }
        if (local.overflowPending)
        {
            // The list is empty and every entry from it is committed in the ring before the flag clears,
            // so a producer that sees the flag clear and reserves lands behind all of them. Only the instance
            // whose list it is clears the flag: another Ring over the same region (a reader in another
            // process, say) has an empty list of its own, which says nothing of this one.
            changeFlag(FLAG_OVERFLOW, false);
            local.overflowPending = false;
        }
        return moved;
    }

    private void changeFlag(final int flag, final boolean set)
    {
        final long bits = (long)flag << 32;
        final long waiters = (long)FLAG_WAITERS << 32;
        long word;
        long next;
        do
        {
            word = getLongVolatile(TAIL_WORD_OFFSET);
            next = set ? word | bits : word & ~bits;
            // Setting OVERFLOW is news for sleepers ("the ring moved"): take the WAITERS flag and wake them.
            if (set)
            {
                next &= ~waiters;
            }
        }
        while (!compareAndSetLong(TAIL_WORD_OFFSET, word, next));
        if (set && (word & waiters) != 0)
        {
            sleepers.wakeAll();
        }
    }

    /**
     * Sets WAITERS if the tail still equals the token.
     *
     * @return false if the tail has moved from the token.
     */
    private boolean setWaitersFlag(final int token)
    {
        final long bit = (long)FLAG_WAITERS << 32;
        while (true)
        {
            final long word = getLongVolatile(TAIL_WORD_OFFSET);
            if ((int)word != token)
            {
                return false;
            }
            if ((word & bit) != 0 || compareAndSetLong(TAIL_WORD_OFFSET, word, word | bit))
            {
                return true;
            }
        }
    }

    private boolean hasMoved(final int token)
    {
        final long tailWord = getLongVolatile(TAIL_WORD_OFFSET);
        if ((int)tailWord != token || isOverflowFlagSet(tailWord))
        {
            return true;
        }
        final int head = getIntVolatile(HEAD_POSITION_OFFSET);
        if (head == token)
        {
            return false;
        }
        final long commitWord = getLongVolatile(dataOffset(head));
        return committedSpan(commitWord, head, dataOffset(head)) != 0;
    }

    /**
     * Whether the entry at {@code position} is committed, and how far it reaches.
     *
     * <p>Committed means written for this position in this lap: a record carries the position as its stamp
     * and a check word over stamp, length, type and the salt; a skip, which has no room for a check word,
     * carries the position xor the salt and must reach exactly to the end of the data area. Anything else
     * is a reservation not yet committed, or bytes of an earlier lap: leftover headers have a stamp a lap
     * or more old, and leftover payload cannot match the salt unless it knows it.
     *
     * @param commitWord the word at {@code offset}, read with acquire.
     * @return 0 if the entry is not committed; else the bytes it spans in the data area, positive for a
     * record to deliver, negative for an entry consumers step over (a skip, or an aborted record). The sign
     * saves the callers a second read of the type.
     */
    private int committedSpan(final long commitWord, final int position, final int offset)
    {
        final int length = EntryDescriptor.length(commitWord);
        if (length > 0)
        {
            // A record never crosses the end of the data area (its producer put a skip there first): one that
            // would is no committed record of this lap, whatever its words say.
            if (stamp(commitWord) != position || length < RECORD_HEADER_LENGTH || length > maxRecordLength ||
                length > capacity - (position & mask))
            {
                return 0;
            }
            // Type and check are neighbours in one aligned u64: one read (and one bounds check) for both.
            final long typeAndCheck = getLong(offset + TYPE_OFFSET);
            final int type = (int)typeAndCheck;
            if ((int)(typeAndCheck >>> 32) != EntryDescriptor.check(position, length, type, salt))
            {
                return 0;
            }
            return type != PADDING_TYPE ? align(length) : -align(length);
        }
        // A skip's length is already minus its span.
        return length < 0 && stamp(commitWord) == skipStamp(position, salt) &&
            -length == capacity - (position & mask) ? length : 0;
    }

    /**
     * {@link #publish} for an index that came from outside: refuses anything that is not an open reservation
     * before writing a byte. Reads the header once for both.
     */
    private void publishChecked(final int index, final boolean abort)
    {
        final int recordOffset = index - RECORD_HEADER_LENGTH;
        if (recordOffset < RingDescriptor.HEADER_LENGTH ||
            recordOffset > RingDescriptor.HEADER_LENGTH + capacity - RECORD_HEADER_LENGTH ||
            (recordOffset & (ALIGNMENT - 1)) != 0)
        {
            throw notAReservation(index);
        }
        // Volatile: another thread's commit of the same index must show as "not open", not be repeated.
        final long reservedWord = getLongVolatile(recordOffset);
        final int pending = getInt(recordOffset + CHECK_OFFSET);
        final int length = pending & ~WAKE_ON_COMMIT;
        if (EntryDescriptor.length(reservedWord) != 0 || dataOffset(stamp(reservedWord)) != recordOffset ||
            length < RECORD_HEADER_LENGTH || length > maxRecordLength)
        {
            throw notOpen(index);
        }
        publish(recordOffset, stamp(reservedWord), pending, abort);
    }

    private static IllegalStateException notAReservation(final int index)
    {
        return new IllegalStateException("index " + index + " is not a reservation in this ring");
    }

    private static IllegalStateException notOpen(final int index)
    {
        return new IllegalStateException("index " + index + " is not an open reservation: already committed, " +
            "aborted, or never reserved");
    }

    private int checkedRecordLength(final int length)
    {
        if (length < 0 || length > maxRecordLength - RECORD_HEADER_LENGTH)
        {
            throw badPayloadLength(length);
        }
        return RECORD_HEADER_LENGTH + length;
    }

    private IllegalArgumentException badPayloadLength(final int length)
    {
        if (length < 0)
        {
            return new IllegalArgumentException("payload length " + length + " is negative");
        }
        return new IllegalArgumentException("payload of " + length + " bytes exceeds the maximum of " +
            (maxRecordLength - RECORD_HEADER_LENGTH) + " bytes for this ring (capacity " + capacity +
            ", max record " + maxRecordLength + " bytes including the " + RECORD_HEADER_LENGTH + "-byte header)");
    }

    private static int checkType(final int type)
    {
        if (type < 1)
        {
            throw badType(type);
        }
        return type;
    }

    private static IllegalArgumentException badType(final int type)
    {
        return new IllegalArgumentException("record type " + type + " is reserved: user types are >= 1");
    }

    /**
     * @return {@code position}, if it is a multiple of 8, as every position a ring writes is.
     * @throws IllegalStateException if it is not: something other than a ring wrote the region's head or tail.
     */
    private static int checkAligned(final int position, final String which)
    {
        if ((position & (ALIGNMENT - 1)) != 0)
        {
            throw new IllegalStateException("ring " + which + " position " + Positions.unsigned(position) +
                " is not a multiple of " + ALIGNMENT + ": the region is corrupt");
        }
        return position;
    }

    private int dataOffset(final int position)
    {
        // Positions are multiples of 8; the alignment mask only keeps a corrupt one inside the region.
        return RingDescriptor.HEADER_LENGTH + (position & mask & -ALIGNMENT);
    }

    private static boolean isOverflowFlagSet(final long tailWord)
    {
        return (tailWord & ((long)FLAG_OVERFLOW << 32)) != 0;
    }

    private static int backOff(final int idle)
    {
        if (idle < SPINS_BEFORE_YIELD)
        {
            Thread.onSpinWait();
        }
        else
        {
            Thread.yield();
        }
        return idle + 1;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Unchecked access to the region (see the note on {@link #array}): the same orderings as the AtomicBuffer
    // methods of the same names, without their bounds check.
    // ------------------------------------------------------------------------------------------------------------

    private int getInt(final int offset)
    {
        return UnsafeApi.getInt(array, address + offset);
    }

    private long getLong(final int offset)
    {
        return UnsafeApi.getLong(array, address + offset);
    }

    private int getIntVolatile(final int offset)
    {
        return UnsafeApi.getIntVolatile(array, address + offset);
    }

    private long getLongVolatile(final int offset)
    {
        return UnsafeApi.getLongVolatile(array, address + offset);
    }

    private void putInt(final int offset, final int value)
    {
        UnsafeApi.putInt(array, address + offset, value);
    }

    private void putLong(final int offset, final long value)
    {
        UnsafeApi.putLong(array, address + offset, value);
    }

    private void putIntRelease(final int offset, final int value)
    {
        UnsafeApi.putIntRelease(array, address + offset, value);
    }

    private void putLongRelease(final int offset, final long value)
    {
        UnsafeApi.putLongRelease(array, address + offset, value);
    }

    private boolean compareAndSetInt(final int offset, final int expected, final int value)
    {
        return UnsafeApi.compareAndSetInt(array, address + offset, expected, value);
    }

    private boolean compareAndSetLong(final int offset, final long expected, final long value)
    {
        return UnsafeApi.compareAndSetLong(array, address + offset, expected, value);
    }
}
