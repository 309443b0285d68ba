package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.Iocb;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.OwnerFlags;
import io.syslet.abi.Probe;
import io.syslet.abi.SetupParams;
import io.syslet.pool.natives.Natives;
import io.syslet.pool.natives.ThreadSignal;
import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.Ring;
import io.syslet.ring.RingDescriptor;
import io.syslet.ring.RingRegion;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static io.syslet.abi.EventDescriptor.*;
import static io.syslet.pool.natives.Natives.LIBC;

/**
 * The engine: an {@link AioContext} that runs ops on two worker pools (see {@link WorkerPool}) and
 * publishes their events into a {@link Ring}. Create one with {@link #setup(SetupParams)}
 * ({@code io_setup2}).
 *
 * <p>Submit, complete and reap allocate nothing in the steady state: slots are pooled, iocbs are read
 * in place, events are built in per-thread native scratch and copied into the ring.
 */
public final class SysletContext implements AioContext
{
    /** Longest a cancel waits for an interrupted op to acknowledge, re-signalling meanwhile. */
    private static final long CANCEL_ACK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long CANCEL_RESIGNAL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** getevents sleeps in slices this long so that destroy never waits for a caller's whole timeout. */
    private static final long WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long DEFAULT_DESTROY_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final SetupParams params;
    private final RingRegion region;
    private final Ring ring;
    private final AtomicBuffer header;
    private final Slot[] slots;
    private final ManyToManyConcurrentArrayQueue<Slot> freeSlots;
    private final WorkerPool[] pools = new WorkerPool[2];
    private final RegisteredBuffers buffers;
    private final ThreadSignal signal = ThreadSignal.instance();
    private final ThreadLocal<Scratch> callerScratch = ThreadLocal.withInitial(() -> new Scratch(LIBC.gettid()));
    private final UnsafeBuffer reapView = new UnsafeBuffer(0, 0);
    private final int eventFd;
    private final int maxInFlight;
    /** Ops accepted whose slots are not yet free. */
    private final AtomicInteger activeOps = new AtomicInteger();
    /** Threads inside a public call; destroy waits for them before it frees anything. */
    private final AtomicInteger callers = new AtomicInteger();
    private volatile boolean closed;
    private boolean destroyed;
    private boolean freed;

    private SysletContext(final SetupParams params, final RingRegion region, final int eventFd)
    {
        this.params = params;
        this.region = region;
        this.ring = new Ring(region);
        this.header = region.buffer();
        this.eventFd = eventFd;
        this.maxInFlight = params.maxInFlight();
        this.buffers = new RegisteredBuffers(params.maxBuffers());
        this.slots = new Slot[maxInFlight];
        this.freeSlots = new ManyToManyConcurrentArrayQueue<>(Math.max(2, maxInFlight));
        for (int i = 0; i < maxInFlight; i++)
        {
            slots[i] = new Slot(i);
            freeSlots.offer(slots[i]);
        }
        pools[Dispatch.BOUNDED] = new WorkerPool("bounded", params.boundedWorkers(), maxInFlight, params.spinTries(),
            params.idleTimeoutNanos(), this::runQueued);
        pools[Dispatch.UNBOUNDED] = new WorkerPool("unbounded", params.unboundedWorkers(), maxInFlight,
            params.spinTries(), params.idleTimeoutNanos(), this::runQueued);
    }

    /**
     * io_setup2: checks every parameter, then creates the ring, the eventfd and the pools (workers
     * start on demand).
     *
     * @param params what to create.
     * @return the context.
     * @throws AioException EINVAL naming the bad parameter (nothing is created); or the errno of a
     * failed eventfd(2) or ring-file creation.
     */
    public static SysletContext setup(final SetupParams params)
    {
        params.validate();
        RingRegion.checkAgronaAccess();
        final RingRegion region;
        try
        {
            region = params.ringFile() == null ? RingRegion.allocate(params.ringBytes()) :
                RingRegion.createFile(params.ringFile(), params.ringBytes(), 0);
        }
        catch (final UncheckedIOException e)
        {
            throw new AioException(Errno.EIO, "cannot create ring file " + params.ringFile() + ": " + e.getMessage());
        }
        int eventFd = -1;
        if (!params.hasFlag(SetupParams.FLAG_NO_EVENTFD))
        {
            eventFd = LIBC.eventfd(0, Natives.EFD_CLOEXEC | Natives.EFD_NONBLOCK);
            if (eventFd < 0)
            {
                final int errno = -Natives.lastError();
                region.close();
                throw new AioException(errno, "eventfd(2) failed");
            }
        }
        return new SysletContext(params, region, eventFd);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Submission
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public int registerBuffer(final AtomicBuffer buffer)
    {
        enter();
        try
        {
            return buffers.register(buffer);
        }
        finally
        {
            exit();
        }
    }

    @Override
    public int submit(final DirectBuffer iocbs, final int offset, final int length)
    {
        enter();
        try
        {
            if (offset < 0 || length < 0 || offset > iocbs.capacity() - length)
            {
                throw new AioException(Errno.EINVAL, "submission of " + length + " bytes at offset " + offset +
                    " does not lie within its buffer of " + iocbs.capacity() + " bytes");
            }
            final int limit = offset + length;
            int accepted = 0;
            int position = offset;
            while (position < limit)
            {
                final String fault = Iocb.malformation(iocbs, position, limit);
                if (fault != null)
                {
                    if (accepted == 0)
                    {
                        throw new AioException(Errno.EINVAL, fault);
                    }
                    break;
                }
                final Slot slot = acquireSlot(accepted == 0);
                if (slot == null)
                {
                    break;
                }
                slot.load(iocbs, position);
                start(slot);
                accepted++;
                position += iocbs.getInt(position + IocbDescriptor.LENGTH_OFFSET);
            }
            return accepted;
        }
        finally
        {
            exit();
        }
    }

    @Override
    public void submitCallable(final long cookie, final Callable<Long> op)
    {
        if (op == null)
        {
            throw new AioException(Errno.EINVAL, "callable op is null");
        }
        enter();
        try
        {
            final Slot slot = acquireSlot(true);
            slot.loadCallable(cookie, op);
            start(slot);
        }
        finally
        {
            exit();
        }
    }

    /**
     * Takes a free slot if the in-flight limit allows: ops whose slots are busy plus events waiting on
     * the overflow list stay at most {@code maxInFlight}, so the overflow list is bounded too.
     *
     * @param mustSucceed throw EAGAIN instead of returning null.
     */
    private Slot acquireSlot(final boolean mustSucceed)
    {
        final int backlog = ring.isOverflowPending() ? ring.overflowSize() : 0;
        while (true)
        {
            final int active = activeOps.get();
            if (active + backlog >= maxInFlight)
            {
                if (mustSucceed)
                {
                    throw new AioException(Errno.EAGAIN, active + " ops in flight and " + backlog +
                        " events on the overflow list reach the limit of " + maxInFlight + "; reap events first");
                }
                return null;
            }
            if (activeOps.compareAndSet(active, active + 1))
            {
                // A slot is free: slots are released before activeOps drops, and there are maxInFlight of them.
                // The lock-free list can still answer empty for a moment, while the thread releasing that slot is
                // half-way through its offer; a null here would leak one count of the limit.
                Slot slot;
                while ((slot = freeSlots.poll()) == null)
                {
                    Thread.yield();
                }
                return slot;
            }
        }
    }

    private void start(final Slot slot)
    {
        final int generation = slot.generation() + 1;
        slot.submitNanos = System.nanoTime();
        if (!Dispatch.isSupported(slot.opcode))
        {
            // Nothing to run: complete inline, so an unknown op costs no thread hop and cannot disturb the batch.
            slot.setState(generation, Slot.DONE);
            slot.eventFlags |= FLAG_IMMEDIATE;
            publish(slot.cookie, EventDescriptor.submissionId(slot.index, generation), -Errno.ENOSYS, 0,
                slot.opcode, slot.eventFlags, callerScratch.get());
            release(slot, generation);
            return;
        }
        slot.setState(generation, Slot.QUEUED); // release: the worker that takes it sees every field above
        pools[Dispatch.workerClass(slot.opcode)].execute(slot);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Completion (on workers)
    // ------------------------------------------------------------------------------------------------------------

    private void runQueued(final Slot slot, final Scratch scratch)
    {
        final int generation = slot.generation();
        slot.workerTid = scratch.tid;
        slot.workerThread = Thread.currentThread();
        if (!slot.transition(generation, Slot.QUEUED, Slot.RUNNING))
        {
            release(slot, generation); // QUEUE_CANCELED: the canceller already published its event
            return;
        }
        long res = Dispatch.execute(slot, scratch, buffers);
        if (!slot.transition(generation, Slot.RUNNING, Slot.DONE))
        {
            // CANCEL_REQUESTED. Under the slot's lock, so that no interrupt for this op lands after DONE.
            synchronized (slot)
            {
                if (res == -Errno.EINTR)
                {
                    res = -Errno.ECANCELED;
                    slot.eventFlags |= FLAG_CANCELED;
                    slot.markCanceled(generation);
                }
                Thread.interrupted();
                slot.setState(generation, Slot.DONE);
            }
        }
        publish(slot.cookie, EventDescriptor.submissionId(slot.index, generation), res, slot.res2, slot.opcode,
            slot.eventFlags, scratch);
        release(slot, generation);
    }

    private void publish(final long cookie, final long submissionId, final long res, final long res2, final int opcode,
        final int flags, final Scratch scratch)
    {
        final UnsafeBuffer event = scratch.buffer;
        final int at = Scratch.EVENT_OFFSET;
        event.putLong(at + COOKIE_OFFSET, cookie);
        event.putLong(at + SUBMISSION_ID_OFFSET, submissionId);
        event.putLong(at + RES_OFFSET, res);
        event.putLong(at + RES2_OFFSET, res2);
        event.putShort(at + OPCODE_OFFSET, (short)opcode);
        event.putShort(at + FLAGS_OFFSET, (short)flags);
        event.putInt(at + ATTRIBUTES_LENGTH_OFFSET, 0);
        ring.offer(RECORD_TYPE, event, at, MIN_LENGTH);
        if (eventFd >= 0 && (header.getIntVolatile(RingDescriptor.OWNER_FLAGS_OFFSET) & OwnerFlags.NOTIFY_DISABLED) == 0)
        {
            LIBC.write(eventFd, scratch.address + Scratch.ONE_OFFSET, 8);
        }
    }

    private void release(final Slot slot, final int generation)
    {
        slot.callable = null;
        slot.workerThread = null;
        slot.setState(generation, Slot.FREE);
        // The list has room for every slot, but can answer full for a moment while a poller is half-way through
        // the entry this offer would reuse: a slot dropped here would be gone for good.
        while (!freeSlots.offer(slot))
        {
            Thread.yield();
        }
        activeOps.decrementAndGet();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reaping
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public int getEvents(final MutableDirectBuffer dst, final int offset, final int maxBytes, final int minEvents,
        final long timeoutNanos)
    {
        return getEvents(dst, offset, maxBytes, minEvents, timeoutNanos, false, 0);
    }

    @Override
    public int getEvents(final MutableDirectBuffer dst, final int offset, final int maxBytes, final int minEvents,
        final long timeoutNanos, final int seenState)
    {
        return getEvents(dst, offset, maxBytes, minEvents, timeoutNanos, true, seenState);
    }

    private int getEvents(final MutableDirectBuffer dst, final int offset, final int maxBytes, final int minEvents,
        final long timeoutNanos, final boolean haveState, final int seenState)
    {
        enter();
        try
        {
            if (offset < 0 || maxBytes < 0 || dst.capacity() - offset < maxBytes)
            {
                throw new AioException(Errno.EINVAL, "destination of " + dst.capacity() + " bytes cannot take " +
                    maxBytes + " bytes at offset " + offset);
            }
            final long deadline = System.nanoTime() + Math.max(0, timeoutNanos);
            int written = 0;
            int events = 0;
            boolean mayWait = !haveState || ring.stateToken() == seenState;
            while (true)
            {
                final int token = ring.stateToken();
                if (ring.isOverflowPending())
                {
                    ring.flush();
                }
                final int bytes = readSome(dst, offset + written, maxBytes - written, written);
                if (bytes < 0)
                {
                    return written; // the next event does not fit in what is left
                }
                events += countEvents(dst, offset + written, bytes);
                written += bytes;
                if (events >= minEvents || !mayWait || closed)
                {
                    return written;
                }
                final long left = deadline - System.nanoTime();
                if (left <= 0)
                {
                    return written;
                }
                if (bytes == 0)
                {
                    try
                    {
                        ring.await(token, Math.min(left, WAIT_SLICE_NANOS), TimeUnit.NANOSECONDS);
                    }
                    catch (final InterruptedException e)
                    {
                        Thread.currentThread().interrupt();
                        return written;
                    }
                }
            }
        }
        finally
        {
            exit();
        }
    }

    /**
     * @return bytes read, or -1 if the next event does not fit in {@code room} and {@code written} &gt; 0.
     */
    private int readSome(final MutableDirectBuffer dst, final int at, final int room, final int written)
    {
        try
        {
            return ring.read(dst, at, room);
        }
        catch (final IllegalArgumentException e)
        {
            if (written > 0)
            {
                return -1;
            }
            throw new AioException(Errno.EINVAL, "destination of " + room + " bytes cannot hold the next event (" +
                e.getMessage() + ")");
        }
    }

    private int countEvents(final DirectBuffer dst, final int at, final int bytes)
    {
        int count = 0;
        int position = at;
        final int end = at + bytes;
        while (position < end)
        {
            if (dst.getInt(position + EntryDescriptor.TYPE_OFFSET) == RECORD_TYPE)
            {
                count++;
            }
            position += EntryDescriptor.align(dst.getInt(position + EntryDescriptor.LENGTH_OFFSET));
        }
        return count;
    }

    @Override
    public int stateToken()
    {
        enter();
        try
        {
            return ring.stateToken();
        }
        finally
        {
            exit();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Cancellation
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public int cancel(final long cookie)
    {
        enter();
        try
        {
            for (final Slot slot : slots)
            {
                final long control = slot.control();
                final int state = Slot.state(control);
                if ((state != Slot.QUEUED && state != Slot.RUNNING) || slot.cookie != cookie)
                {
                    continue;
                }
                // Fields read after an acquire of control and before a CAS that succeeds on the same
                // control belong to this generation.
                final int generation = Slot.generation(control);
                final int opcode = slot.opcode;
                if (state == Slot.QUEUED)
                {
                    if (slot.transition(generation, Slot.QUEUED, Slot.QUEUE_CANCELED))
                    {
                        slot.markCanceled(generation);
                        publish(cookie, EventDescriptor.submissionId(slot.index, generation), -Errno.ECANCELED, 0,
                            opcode, FLAG_CANCELED, callerScratch.get());
                        return CANCELED;
                    }
                    if (slot.control() != Slot.control(generation, Slot.RUNNING))
                    {
                        continue;
                    }
                }
                return cancelRunning(slot, generation, opcode);
            }
            return NOT_FOUND;
        }
        finally
        {
            exit();
        }
    }

    private int cancelRunning(final Slot slot, final int generation, final int opcode)
    {
        if (!canInterrupt(opcode))
        {
            return RUNNING_MAY_NOT_TERMINATE;
        }
        if (!slot.transition(generation, Slot.RUNNING, Slot.CANCEL_REQUESTED))
        {
            return slot.wasCanceled(generation) ? CANCELED : NOT_FOUND; // it finished meanwhile
        }
        final long requested = cancelRequestedControl(generation);
        final long deadline = System.nanoTime() + CANCEL_ACK_NANOS;
        // One signal can land before the worker enters the syscall and be lost: repeat until it answers.
        while (slot.control() == requested && System.nanoTime() - deadline < 0)
        {
            interruptIfStillRequested(slot, requested);
            final long until = System.nanoTime() + CANCEL_RESIGNAL_NANOS;
            while (slot.control() == requested && System.nanoTime() - until < 0)
            {
                Thread.onSpinWait();
            }
        }
        return slot.wasCanceled(generation) ? CANCELED : RUNNING_MAY_NOT_TERMINATE;
    }

    private static long cancelRequestedControl(final int generation)
    {
        return Slot.control(generation, Slot.CANCEL_REQUESTED);
    }

    private boolean canInterrupt(final int opcode)
    {
        return Dispatch.isInterruptible(opcode) && (opcode == Opcode.CALLABLE || signal.available());
    }

    private void interruptIfStillRequested(final Slot slot, final long requested)
    {
        synchronized (slot)
        {
            if (slot.control() != requested)
            {
                return;
            }
            if (slot.opcode == Opcode.CALLABLE)
            {
                final Thread worker = slot.workerThread;
                if (worker != null)
                {
                    worker.interrupt();
                }
            }
            else
            {
                signal.interrupt(slot.workerTid);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Synchronous run, probe, notification, state
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public int run(final DirectBuffer iocb, final int offset, final MutableDirectBuffer dst, final int dstOffset)
    {
        enter();
        try
        {
            if (offset < 0 || offset > iocb.capacity())
            {
                throw new AioException(Errno.EINVAL, "iocb offset " + offset + " lies outside its buffer of " +
                    iocb.capacity() + " bytes");
            }
            final String fault = Iocb.malformation(iocb, offset, iocb.capacity());
            if (fault != null)
            {
                throw new AioException(Errno.EINVAL, fault);
            }
            if (dstOffset < 0 || dst.capacity() - dstOffset < MIN_LENGTH)
            {
                throw new AioException(Errno.EINVAL, "event destination of " + dst.capacity() + " bytes cannot take a " +
                    MIN_LENGTH + "-byte event at offset " + dstOffset);
            }
            final Slot slot = new Slot(-1);
            slot.load(iocb, offset);
            final long res = Dispatch.isSupported(slot.opcode) ?
                Dispatch.execute(slot, callerScratch.get(), buffers) : -Errno.ENOSYS;
            dst.putLong(dstOffset + COOKIE_OFFSET, slot.cookie);
            dst.putLong(dstOffset + SUBMISSION_ID_OFFSET, 0);
            dst.putLong(dstOffset + RES_OFFSET, res);
            dst.putLong(dstOffset + RES2_OFFSET, slot.res2);
            dst.putShort(dstOffset + OPCODE_OFFSET, (short)slot.opcode);
            dst.putShort(dstOffset + FLAGS_OFFSET, (short)FLAG_IMMEDIATE);
            dst.putInt(dstOffset + ATTRIBUTES_LENGTH_OFFSET, 0);
            return MIN_LENGTH;
        }
        finally
        {
            exit();
        }
    }

    @Override
    public Probe probe()
    {
        final boolean[] supported = new boolean[Opcode.COUNT];
        for (int op = 0; op < Opcode.COUNT; op++)
        {
            supported[op] = Dispatch.isSupported(op);
        }
        return new Probe(supported, signal.available(), signal.detail());
    }

    @Override
    public int eventFd()
    {
        enter();
        try
        {
            return eventFd;
        }
        finally
        {
            exit();
        }
    }

    @Override
    public void notifications(final boolean enabled)
    {
        enter();
        try
        {
            while (true)
            {
                final int flags = header.getIntVolatile(RingDescriptor.OWNER_FLAGS_OFFSET);
                final int next = enabled ? flags & ~OwnerFlags.NOTIFY_DISABLED : flags | OwnerFlags.NOTIFY_DISABLED;
                if (header.compareAndSetInt(RingDescriptor.OWNER_FLAGS_OFFSET, flags, next))
                {
                    return;
                }
            }
        }
        finally
        {
            exit();
        }
    }

    @Override
    public Ring ring()
    {
        enter();
        try
        {
            return ring;
        }
        finally
        {
            exit();
        }
    }

    @Override
    public int inFlight()
    {
        return activeOps.get() + (ring.isOverflowPending() ? ring.overflowSize() : 0);
    }

    /**
     * @return the parameters the context was set up with.
     */
    public SetupParams params()
    {
        return params;
    }

    /**
     * @return worker threads alive in the bounded and unbounded classes.
     */
    public int[] workerCounts()
    {
        return new int[]{pools[Dispatch.BOUNDED].workerCount(), pools[Dispatch.UNBOUNDED].workerCount()};
    }

    // ------------------------------------------------------------------------------------------------------------
    // Destroy
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void close()
    {
        destroy(DEFAULT_DESTROY_NANOS);
    }

    @Override
    public synchronized boolean destroy(final long timeoutNanos)
    {
        if (destroyed)
        {
            return freed;
        }
        closed = true;
        final long deadline = System.nanoTime() + Math.max(0, timeoutNanos);
        while (callers.get() != 0)
        {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
        final Scratch scratch = callerScratch.get();
        boolean busy = true;
        while (busy && System.nanoTime() - deadline < 0)
        {
            busy = false;
            for (final Slot slot : slots)
            {
                final long control = slot.control();
                final int generation = Slot.generation(control);
                switch (Slot.state(control))
                {
                    case Slot.QUEUED:
                        final int opcode = slot.opcode;
                        final long cookie = slot.cookie;
                        if (slot.transition(generation, Slot.QUEUED, Slot.QUEUE_CANCELED))
                        {
                            slot.markCanceled(generation);
                            publish(cookie, EventDescriptor.submissionId(slot.index, generation), -Errno.ECANCELED, 0,
                                opcode, FLAG_CANCELED, scratch);
                        }
                        busy = true;
                        break;
                    case Slot.RUNNING:
                        if (canInterrupt(slot.opcode))
                        {
                            slot.transition(generation, Slot.RUNNING, Slot.CANCEL_REQUESTED);
                        }
                        busy = true;
                        break;
                    case Slot.CANCEL_REQUESTED:
                        interruptIfStillRequested(slot, control);
                        busy = true;
                        break;
                    case Slot.FREE:
                        break;
                    default:
                        busy = true; // DONE or QUEUE_CANCELED: a worker is about to release it
                }
            }
            if (busy)
            {
                LockSupport.parkNanos(CANCEL_RESIGNAL_NANOS);
            }
        }
        boolean workersEnded = true;
        try
        {
            for (final WorkerPool pool : pools)
            {
                workersEnded &= pool.stop(deadline);
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            workersEnded = false;
        }
        destroyed = true;
        freed = !busy && workersEnded;
        if (freed)
        {
            // Only now: a worker still inside an op would publish into the ring and write to the eventfd,
            // whose number the kernel could already have handed to someone else.
            if (eventFd >= 0)
            {
                LIBC.close(eventFd);
            }
            region.close();
        }
        return freed;
    }

    private void enter()
    {
        callers.incrementAndGet();
        if (closed)
        {
            callers.decrementAndGet();
            throw new AioException(Errno.EBADF, "context is destroyed");
        }
    }

    private void exit()
    {
        callers.decrementAndGet();
    }
}
