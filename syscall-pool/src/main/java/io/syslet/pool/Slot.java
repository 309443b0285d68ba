package io.syslet.pool;

import io.syslet.abi.EventDescriptor;
import io.syslet.abi.Iocb;
import io.syslet.abi.IocbDescriptor;
import io.syslet.attributes.AttributeId;
import org.agrona.DirectBuffer;
import org.agrona.UnsafeApi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;

import static io.syslet.abi.IocbDescriptor.*;

/**
 * One op in flight: a pooled request slot that holds the decoded iocb from submit until its event is
 * published. They are all made at setup, so submit allocates nothing.
 *
 * <p>{@link #control} packs the slot's generation (high 32 bits) with its state (low 32) so that every
 * transition is one CAS that also proves the slot was not reused in between: a canceller holding an old
 * generation can never cancel the next op that lands in the same slot.
 *
 * <pre>
 *   FREE --claim--&gt; CLAIMED --submit--&gt; QUEUED --worker--&gt; RUNNING --done--&gt; DONE --released--&gt; FREE
 *                                      |                   |
 *                                      cancel              cancel
 *                                      v                   v
 *                                QUEUE_CANCELING    CANCEL_REQUESTED --done--&gt; DONE
 *                                      | published
 *                                      v
 *                                QUEUE_CANCELED --worker--&gt; FREE
 * </pre>
 *
 * The generation goes up by one from CLAIMED to QUEUED, each time the slot takes a new op.
 *
 * A completed op's slot is released before its event is published, so that an op whose event can be
 * reaped no longer counts against the in-flight limit.
 */
final class Slot
{
    static final int FREE = 0;
    static final int QUEUED = 1;
    static final int RUNNING = 2;
    static final int CANCEL_REQUESTED = 3;
    static final int DONE = 4;
    /** Cancelled while queued; the canceller is publishing -ECANCELED from the slot's fields. */
    static final int QUEUE_CANCELING = 5;
    /** Cancelled while queued and published; the worker that dequeues it frees it. */
    static final int QUEUE_CANCELED = 6;
    /** Taken by a submitter that is loading an op into it; not yet queued, so not yet cancellable. */
    static final int CLAIMED = 7;

    private static final VarHandle CONTROL;
    private static final VarHandle CANCELED_GENERATION;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            CONTROL = lookup.findVarHandle(Slot.class, "control", long.class);
            CANCELED_GENERATION = lookup.findVarHandle(Slot.class, "canceledGeneration", int.class);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new ExceptionInInitializerError(e);
        }
    }

    final int index;
    @SuppressWarnings("unused")
    private volatile long control;
    /** The generation whose op ended as cancelled; read by a canceller after the slot moved on. */
    @SuppressWarnings("unused")
    private volatile int canceledGeneration = -1;

    // The op. Written by the submitter before the release store of QUEUED; read by the worker after its
    // CAS from QUEUED (acquire), so plain fields suffice.
    int opcode;
    int flags;
    long cookie;
    int aux;
    long a0, a1, a2, a3, a4, a5;
    int attributeCount;
    final short[] attributeIds = new short[IocbDescriptor.MAX_ATTRIBUTES];
    /** Bit {@code 1 << id} for each known attribute the iocb lists. */
    int attributeMask;
    /**
     * Bytes the event this op publishes takes at most: the fixed part plus each listed attribute's largest
     * TLV. Submit and run check their limits against it.
     */
    int eventLength;
    Callable<Long> callable;
    /**
     * What a callable threw, from the throw until the worker hands it to the failure handler; null otherwise.
     * Written and cleared only on that path, by the one worker that runs the op.
     */
    Throwable failure;
    long submitNanos;

    // Measurements, by whoever runs the op (see Measurements).
    boolean ran;
    long startNanos;
    long endNanos;
    long cpuNanos;
    long voluntarySwitches;
    long involuntarySwitches;
    boolean cpuMeasured;
    boolean switchesMeasured;
    int runnerTid;
    /** A CacheOutcome, or Measurements.CACHE_UNMEASURED / CACHE_FAILED. */
    int cacheOutcome;
    long cacheBytes;
    /** Bytes a read already got without blocking (the immediate path's partial result). */
    long bytesDone;

    // Set by the worker that runs the op, before its CAS to RUNNING, so a canceller that sees RUNNING
    // also sees who to interrupt.
    volatile Thread workerThread;
    volatile int workerTid;

    // The result, written by whoever completes the op.
    long res;
    long res2;
    int eventFlags;

    Slot(final int index)
    {
        this.index = index;
    }

    static int generation(final long control)
    {
        return (int)(control >>> 32);
    }

    static int state(final long control)
    {
        return (int)control;
    }

    static long control(final int generation, final int state)
    {
        return ((long)generation << 32) | (state & 0xFFFF_FFFFL);
    }

    long control()
    {
        return (long)CONTROL.getVolatile(this);
    }

    int generation()
    {
        return generation(control());
    }

    /**
     * Takes the slot for a new op if it is free.
     *
     * @return true if it was FREE and is now CLAIMED by the caller.
     */
    boolean claimIfFree()
    {
        final long control = control();
        return state(control) == FREE &&
            CONTROL.compareAndSet(this, control, control(generation(control), CLAIMED));
    }

    boolean transition(final int generation, final int from, final int to)
    {
        return CONTROL.compareAndSet(this, control(generation, from), control(generation, to));
    }

    /** Publishes a state with release semantics: every plain write before it is visible to its reader. */
    void setState(final int generation, final int state)
    {
        CONTROL.setRelease(this, control(generation, state));
    }

    void markCanceled(final int generation)
    {
        CANCELED_GENERATION.setVolatile(this, generation);
    }

    boolean wasCanceled(final int generation)
    {
        return (int)CANCELED_GENERATION.getVolatile(this) == generation;
    }

    /**
     * Copies a well-formed iocb's fields in: one that {@link io.syslet.abi.Iocb#malformation} passed in this
     * buffer, so that its header lies within it and is read without bounds checks. Each field, the attribute
     * ids included, is read once, and the event's length is sized from the ids read.
     *
     * @param iocbLength the iocb's length as the caller last read it: the ids must lie within it.
     * @throws IllegalStateException if the ids now listed do not lie within the iocb: the caller rewrote it
     * after it was checked.
     * @throws IndexOutOfBoundsException if the iocb, header included, does not lie within the buffer.
     */
    void load(final DirectBuffer iocb, final int offset, final int iocbLength)
    {
        if (offset < 0 || iocbLength < IocbDescriptor.MIN_LENGTH || iocbLength > iocb.capacity() - offset)
        {
            throw new IndexOutOfBoundsException("iocb of " + iocbLength + " bytes at " + offset +
                " does not lie within its buffer of " + iocb.capacity() + " bytes");
        }
        final byte[] array = iocb.byteArray();
        final long at = iocb.addressOffset() + offset;
        opcode = UnsafeApi.getShort(array, at + OPCODE_OFFSET) & 0xFFFF;
        flags = UnsafeApi.getShort(array, at + FLAGS_OFFSET) & 0xFFFF;
        cookie = UnsafeApi.getLong(array, at + COOKIE_OFFSET);
        aux = UnsafeApi.getInt(array, at + AUX_OFFSET);
        a0 = UnsafeApi.getLong(array, at + argOffset(0));
        a1 = UnsafeApi.getLong(array, at + argOffset(1));
        a2 = UnsafeApi.getLong(array, at + argOffset(2));
        a3 = UnsafeApi.getLong(array, at + argOffset(3));
        a4 = UnsafeApi.getLong(array, at + argOffset(4));
        a5 = UnsafeApi.getLong(array, at + argOffset(5));
        final int count = UnsafeApi.getShort(array, at + ATTRIBUTE_COUNT_OFFSET) & 0xFFFF;
        if (count > MAX_ATTRIBUTES || IocbDescriptor.length(count) > iocbLength)
        {
            // Only an iocb rewritten since it was checked can get here: never read ids from past its end.
            throw new IllegalStateException("it now lists " + count + " attributes, more than its " + iocbLength +
                " bytes hold");
        }
        attributeCount = count;
        int mask = 0;
        int length = EventDescriptor.MIN_LENGTH;
        for (int i = 0; i < count; i++)
        {
            final int id = UnsafeApi.getShort(array, at + ATTRIBUTES_OFFSET + i * 2) & 0xFFFF;
            attributeIds[i] = (short)id;
            mask |= AttributeId.isKnown(id) ? 1 << id : 0;
            length += AttributeId.maxTlvLength(id);
        }
        attributeMask = mask;
        eventLength = length;
        callable = null;
        reset();
    }

    private void reset()
    {
        res = 0;
        res2 = 0;
        eventFlags = 0;
        ran = false;
        cpuMeasured = false;
        switchesMeasured = false;
        cacheOutcome = Measurements.CACHE_UNMEASURED;
        cacheBytes = 0;
        bytesDone = 0;
    }

    /**
     * Takes an op from the submitting thread's staging slot: the op as submit read it from the iocb (not
     * read again: a caller rewriting the iocb in between must not change the op half-way), and, if the
     * immediate path tried it, its cache answer and the bytes it already read, so the worker goes on from
     * there.
     */
    void takeStaged(final Slot attempt)
    {
        opcode = attempt.opcode;
        flags = attempt.flags;
        cookie = attempt.cookie;
        aux = attempt.aux;
        a0 = attempt.a0;
        a1 = attempt.a1;
        a2 = attempt.a2;
        a3 = attempt.a3;
        a4 = attempt.a4;
        a5 = attempt.a5;
        attributeCount = attempt.attributeCount;
        System.arraycopy(attempt.attributeIds, 0, attributeIds, 0, attempt.attributeCount);
        attributeMask = attempt.attributeMask;
        eventLength = attempt.eventLength;
        callable = null;
        reset();
        cacheOutcome = attempt.cacheOutcome;
        cacheBytes = attempt.cacheBytes;
        bytesDone = attempt.bytesDone;
        submitNanos = attempt.submitNanos;
    }

    /**
     * @param id an attribute id.
     * @return true if the iocb listed it.
     */
    boolean wants(final int id)
    {
        return (attributeMask & (1 << id)) != 0;
    }

    void loadCallable(final long cookie, final Callable<Long> callable)
    {
        opcode = io.syslet.abi.Opcode.CALLABLE;
        flags = 0;
        this.cookie = cookie;
        aux = 0;
        a0 = a1 = a2 = a3 = a4 = a5 = 0;
        attributeCount = 0;
        attributeMask = 0;
        eventLength = EventDescriptor.MIN_LENGTH;
        this.callable = callable;
        reset();
    }
}
