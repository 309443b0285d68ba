package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.AioException;
import io.syslet.abi.CallableFailureHandler;
import io.syslet.abi.Errno;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.Iocb;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.OwnerFlags;
import io.syslet.abi.Probe;
import io.syslet.abi.SetupParams;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.AttributeWriter;
import io.syslet.pool.natives.Natives;
import io.syslet.pool.natives.ThreadSignal;
import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.Ring;
import io.syslet.ring.RingDescriptor;
import io.syslet.ring.RingReader;
import io.syslet.ring.RingRegion;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.VarHandle;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

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
    /**
     * How often getevents looks at an empty ring before it sleeps, with many ops in flight, yielding its
     * core before each look: about 60 us when nothing else wants the core. With more busy threads than
     * cores (the caller and the workers), the yield lets a worker run to publish what the caller waits
     * for, so events pile up into batches, and neither side pays a futex sleep and wake: several us each,
     * the larger part of a pool op's cost when the caller slept at once.
     */
    private static final int REAPER_YIELD_LOOKS = 200;
    /**
     * How long getevents looks at an empty ring before it sleeps, with one or two ops in flight, pausing
     * (tens of ns) before each look. The event due is most likely the caller's own, from a worker on
     * another core; a yield there would only add its syscall to every round trip. Bounded by time, not by
     * looks: a pause lasts from about 10 to about 140 cycles depending on the CPU, so a count of looks that
     * covers a pool round trip (a few us) on one machine gives up before it on another, and then every op
     * pays a futex sleep and wake on top.
     */
    private static final long REAPER_SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(10);
    /** Bytes of the smallest event record: the record header and an event without attributes. */
    private static final int SMALLEST_EVENT_RECORD = EntryDescriptor.RECORD_HEADER_LENGTH + MIN_LENGTH;
    /** In-flight count up to which getevents spins rather than yields. */
    private static final int FEW_IN_FLIGHT = 2;
    private static final long ONE_ACTIVE = 1L;
    private static final long ONE_UNPUBLISHED = 1L << 32;
    private static final long ONE_OP = ONE_ACTIVE + ONE_UNPUBLISHED;
    private static final long DEFAULT_DESTROY_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** How long {@link #unregisterBuffer(int)} waits for ops using the buffer: as long as close() gives destroy. */
    private static final long DEFAULT_UNREGISTER_NANOS = DEFAULT_DESTROY_NANOS;
    /** Looks an unregister waiting for ops makes, yielding before each, before it parks between looks. */
    private static final int UNREGISTER_YIELDS = 100;
    private static final long UNREGISTER_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    /**
     * Publication time of an op whose event carries no latency, so that no clock is read for it: one that never
     * ran (its latency is NOT_APPLICABLE), or a callable (which lists no attributes).
     */
    private static final long NO_LATENCY = 0;
    /** Submission id of an op the immediate path completed without a slot: slot 0xFFFFFFFF, generation 0. */
    public static final long INLINE_SUBMISSION_ID = 0xFFFF_FFFFL;
    private final SetupParams params;
    private final RingRegion region;
    private final Ring ring;
    private final AtomicBuffer header;
    private final Slot[] slots;
    private final WorkerPool[] pools = new WorkerPool[2];
    private final RegisteredBuffers buffers;
    private final ThreadSignal signal = ThreadSignal.instance();
    private final ThreadLocal<Scratch> callerScratches = ThreadLocal.withInitial(this::newCallerScratch);
    /**
     * The scratch {@link #callerScratch()} handed out last. Plain field, read and written racily: a reader
     * uses it only if its final {@link Scratch#owner} is the reading thread, which then made it itself.
     */
    private Scratch lastCallerScratch;
    private final int eventFd;
    /**
     * The 8-byte 1 that every eventfd signal writes; only ever read. Per context, made after {@link #setup} has
     * checked Agrona's access: a static one would reach Agrona's Unsafe when the class initializes, and a JVM
     * without the --add-opens flag would fail with a bare IllegalAccessError before setup could name the flag.
     */
    private final UnsafeBuffer eventFdIncrement = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8, 8));
    /** Threads inside {@link #signalEventFd}; {@link #stopSignalling} adds Integer.MIN_VALUE. */
    private final AtomicInteger eventFdWriters = new AtomicInteger();
    private final int maxInFlight;
    /** False with NO_CACHE_ATTRIBUTE: the page-cache side channel is closed. */
    private final boolean cacheVisible;
    /** False with NO_IMMEDIATE. */
    private final boolean immediate;
    /**
     * Two counts of ops in one word, so that a submit takes its place in both with one CAS. Low 32 bits,
     * <em>active</em>: ops admitted against the limit, up from acceptance until just before the event is
     * published, so a reaper that took an event can always submit in its place. High 32 bits,
     * <em>unpublished</em>: ops accepted whose events are not in the ring yet, down only after the event
     * is published. Neither goes below 0, so neither half borrows from the other.
     */
    private final AtomicLong opCounts = new AtomicLong();
    /** Slots of ops cancelled while queued that no worker has taken off its queue yet. */
    private final AtomicInteger canceledInQueue = new AtomicInteger();
    /** Held by the one submit that goes through the queues for the slots of cancelled ops. */
    private final ReentrantLock compacting = new ReentrantLock();
    /**
     * The scratch of every live thread that has called in: each counts the public calls its thread is
     * inside, and destroy waits until all are out before it frees anything. Per thread, not one shared
     * counter: a call pays one fence on a line its own thread owns, not two atomics on a line every caller
     * and destroy fight over.
     */
    private final Queue<Scratch> callers = new ConcurrentLinkedQueue<>();
    /** Told of what a callable op threw, unless the op came with a handler of its own. */
    private final CallableFailureHandler callableFailureHandler;
    private volatile boolean closed;
    private boolean freed;

    private SysletContext(final SetupParams params, final RingRegion region, final int eventFd)
    {
        this.params = params;
        this.region = region;
        this.header = region.buffer();
        this.eventFd = eventFd;
        eventFdIncrement.putLong(0, 1L);
        this.ring = new Ring(region, eventFd >= 0 ? this::signalEventFd : null);
        this.maxInFlight = params.maxInFlight();
        this.callableFailureHandler = params.callableFailureHandler();
        this.cacheVisible = !params.hasFlag(SetupParams.FLAG_NO_CACHE_ATTRIBUTE);
        // The immediate path is itself the side channel NO_CACHE_ATTRIBUTE closes: an inline completion shows in
        // its submission id, its worker tid and the event being there when submit returns.
        this.immediate = !params.hasFlag(SetupParams.FLAG_NO_IMMEDIATE) && cacheVisible;
        this.buffers = new RegisteredBuffers(params.maxBuffers());
        final int slotCount = slotCount(maxInFlight);
        this.slots = new Slot[slotCount];
        for (int i = 0; i < slotCount; i++)
        {
            slots[i] = new Slot(i);
        }
        // Each queue can hold every slot: ops cancelled while queued stay in their queue until a worker drops them.
        pools[Dispatch.BOUNDED] = new WorkerPool("bounded", params.boundedWorkers(), slotCount, params.spinTries(),
            params.idleTimeoutNanos(), params.workerThreadFactory(), this::runQueued, this::rejectQueued);
        pools[Dispatch.UNBOUNDED] = new WorkerPool("unbounded", params.unboundedWorkers(), slotCount,
            params.spinTries(), params.idleTimeoutNanos(), params.workerThreadFactory(), this::runQueued,
            this::rejectQueued);
    }

    /**
     * @return request slots for this max in flight: one per op, and spares for ops cancelled while queued, which
     * leave the in-flight count at once but keep their slot in the queue until it is dropped.
     */
    private static int slotCount(final int maxInFlight)
    {
        return maxInFlight + Math.max(16, maxInFlight / 4);
    }

    /**
     * @return MiB of heap a context of this max in flight makes: 1.25 request slots per op (at least 16 spare)
     * of about 400 bytes, and two queues of a reference per slot, rounded up to a power of two.
     */
    private static long heapMiB(final int maxInFlight)
    {
        final long slots = slotCount(maxInFlight);
        final long queueEntries = Long.highestOneBit(slots - 1) << 1;
        return (slots * 400 + 2 * queueEntries * 8) >> 20;
    }

    /**
     * io_setup2: checks every parameter, then creates the ring, the eventfd and the pools (workers
     * start on demand).
     *
     * @param requested what to create; the context keeps a copy.
     * @return the context.
     * @throws AioException EINVAL naming the bad parameter (nothing is created); the errno of a failed
     * eventfd(2); for a ring file that cannot be made, ENOENT (its directory does not exist), EACCES (no
     * permission), EEXIST, or EIO for any other cause, each with a message that names the file and the cause;
     * ENOMEM if the heap cannot hold the request slots of {@link SetupParams#maxInFlight}.
     */
    public static SysletContext setup(final SetupParams requested)
    {
        // A copy: checked and used as it is now, whatever the caller does with its own afterwards.
        final SetupParams params = requested.copy();
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
            throw new AioException(ringFileErrno(e.getCause()), e.getMessage()); // which names the file
        }
        catch (final IllegalArgumentException e)
        {
            throw new AioException(Errno.EINVAL, e.getMessage()); // a name held by something no ring may replace
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
        try
        {
            return new SysletContext(params, region, eventFd);
        }
        catch (final RuntimeException | Error e)
        {
            if (eventFd >= 0)
            {
                LIBC.close(eventFd);
            }
            region.close();
            if (e instanceof OutOfMemoryError)
            {
                // What grows with max in flight: its request slots (about 400 bytes each), and the two worker
                // queues, each with room for every slot. What was made is garbage now: the heap has room again.
                throw new AioException(Errno.ENOMEM, "max in flight " + params.maxInFlight() + " needs about " +
                    heapMiB(params.maxInFlight()) + " MiB of Java heap for its request slots and queues, more " +
                    "than the heap has free (lower maxInFlight or raise -Xmx)");
            }
            throw e;
        }
    }

    /**
     * @return the errno of a ring file that could not be made, where Java says which by the exception's type; EIO
     * for the rest (whose message still says why).
     */
    private static int ringFileErrno(final IOException cause)
    {
        if (cause instanceof NoSuchFileException)
        {
            return Errno.ENOENT;
        }
        if (cause instanceof AccessDeniedException)
        {
            return Errno.EACCES;
        }
        if (cause instanceof FileAlreadyExistsException)
        {
            return Errno.EEXIST;
        }
        return Errno.EIO;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Submission
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public int registerBuffer(final AtomicBuffer buffer)
    {
        final Scratch caller = enter();
        try
        {
            return buffers.register(buffer);
        }
        finally
        {
            exit(caller);
        }
    }

    @Override
    public void unregisterBuffer(final int index)
    {
        unregisterBuffer(index, DEFAULT_UNREGISTER_NANOS);
    }

    @Override
    public void unregisterBuffer(final int index, final long timeoutNanos)
    {
        final Scratch caller = enter();
        try
        {
            // First the table, so that nothing resolves the index from here on; then the ops and threads that may
            // have resolved it before: none is waited for that could not have. Nothing on the ops' side pays for
            // this: the slots' states and the callers' call words are what they write anyway.
            final RegisteredBuffers.Registration live = buffers.retire(index);
            new BufferUsers(index).await(Math.max(0, timeoutNanos));
            buffers.free(index, live);
        }
        finally
        {
            exit(caller);
        }
    }

    /**
     * What an unregister waits for, as it stood just after the index was retired: each op then running that may
     * hold an address in the buffer (a request slot's generation in RUNNING or CANCEL_REQUESTED, whose op
     * {@link Dispatch#mayTouchBuffer} says may), until its slot leaves that run; and each thread then inside a
     * submit or run (which may have resolved it on its own thread: the immediate path, a synchronous op), until
     * it leaves that call. Ops and calls that start later see the retired entry: their resolve fails with
     * -EFAULT. A snapshot, not a condition looked at again: ops that come and go meanwhile never keep it waiting.
     *
     * <p>Why nothing is missed: the retire's volatile write of the table comes before the reads below; a worker
     * CASes its slot to RUNNING, and a caller writes its call word (both volatile), before its first volatile read
     * of the table. In the one order of synchronization actions, either the read here sees the op or call, or the
     * op's or call's read of the table comes after the retire and sees the retired entry. An op queued now
     * resolves on its worker after its CAS to RUNNING: it fails with -EFAULT (even a pread the immediate path
     * had read a part of), and is not waited for.
     */
    private final class BufferUsers
    {
        private final int index;
        private int[] slotIndices = new int[4];
        private int[] generations = new int[4];
        private long[] cookies = new long[4];
        private int[] opcodes = new int[4];
        private int ops;
        private Scratch[] threads = new Scratch[4];
        private long[] callWords = new long[4];
        private int calls;

        BufferUsers(final int index)
        {
            this.index = index;
            for (final Slot slot : slots)
            {
                final long control = slot.control();
                if (!isRunning(control))
                {
                    continue;
                }
                final int generation = Slot.generation(control);
                final long cookie = slot.cookie;
                final int opcode = slot.opcode;
                final boolean touches = Dispatch.mayTouchBuffer(slot, index);
                // The fields are this op's only if the slot still runs the same generation after they were read (it
                // cannot come back to RUNNING in a generation it left): as in cancel. If it does not, the op ended.
                VarHandle.acquireFence();
                final long after = slot.control();
                if (touches && isRunning(after) && Slot.generation(after) == generation)
                {
                    addOp(slot.index, generation, cookie, opcode);
                }
            }
            for (final Scratch thread : callers)
            {
                // The calling thread's own word shows this unregister, which is no memory call; and no callable is an
                // op that may touch a buffer. So a callable that unregisters never waits for itself: no EDEADLK.
                final long word = thread.calls();
                if (Scratch.isInMemoryCall(word))
                {
                    if (calls == threads.length)
                    {
                        threads = Arrays.copyOf(threads, 2 * calls);
                        callWords = Arrays.copyOf(callWords, 2 * calls);
                    }
                    threads[calls] = thread;
                    callWords[calls] = word;
                    calls++;
                }
            }
        }

        private void addOp(final int slotIndex, final int generation, final long cookie, final int opcode)
        {
            if (ops == slotIndices.length)
            {
                slotIndices = Arrays.copyOf(slotIndices, 2 * ops);
                generations = Arrays.copyOf(generations, 2 * ops);
                cookies = Arrays.copyOf(cookies, 2 * ops);
                opcodes = Arrays.copyOf(opcodes, 2 * ops);
            }
            slotIndices[ops] = slotIndex;
            generations[ops] = generation;
            cookies[ops] = cookie;
            opcodes[ops] = opcode;
            ops++;
        }

        /**
         * Waits for every op and call in the snapshot to end. Each is looked at with a volatile read of what its
         * own thread writes when it ends (the slot's control, released after the op returned; the call word,
         * released at the call's exit), so what they did to the memory happens before this returns. Polls: a
         * wake-up from the ops' side would cost every op.
         *
         * @throws AioException EBUSY at the timeout, EINTR if the thread is interrupted (its flag stays set), EBADF
         * if the context is destroyed meanwhile (destroy waits for this call to leave, then stops the ops itself).
         */
        void await(final long timeoutNanos)
        {
            long start = 0;
            for (int looks = 0; ; looks++)
            {
                dropEnded();
                if (ops == 0 && calls == 0)
                {
                    return;
                }
                final long now = System.nanoTime();
                if (looks == 0)
                {
                    start = now;
                }
                if (closed)
                {
                    throw new AioException(Errno.EBADF, "context is destroyed (while unregister of buffer index " +
                        index + " waited for " + users() + ")");
                }
                if (Thread.currentThread().isInterrupted())
                {
                    throw new AioException(Errno.EINTR, "interrupted while unregister of buffer index " + index +
                        " waited for " + users() + notFreeYet());
                }
                if (now - start >= timeoutNanos)
                {
                    throw new AioException(Errno.EBUSY, "buffer index " + index + " is still in use after " +
                        TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms, by " + users() + notFreeYet());
                }
                if (looks < UNREGISTER_YIELDS)
                {
                    Thread.yield(); // an op on a regular file is about done: a park would add 50 us or more
                }
                else
                {
                    LockSupport.parkNanos(Math.min(UNREGISTER_PARK_NANOS, timeoutNanos - (now - start)));
                }
            }
        }

        private void dropEnded()
        {
            int kept = 0;
            for (int i = 0; i < ops; i++)
            {
                final long control = slots[slotIndices[i]].control();
                if (isRunning(control) && Slot.generation(control) == generations[i])
                {
                    slotIndices[kept] = slotIndices[i];
                    generations[kept] = generations[i];
                    cookies[kept] = cookies[i];
                    opcodes[kept] = opcodes[i];
                    kept++;
                }
            }
            ops = kept;
            kept = 0;
            for (int i = 0; i < calls; i++)
            {
                if (!threads[i].leftMemoryCallSince(callWords[i]))
                {
                    threads[kept] = threads[i];
                    callWords[kept] = callWords[i];
                    kept++;
                }
            }
            for (int i = kept; i < calls; i++)
            {
                threads[i] = null;
            }
            calls = kept;
        }

        private String users()
        {
            final StringBuilder text = new StringBuilder();
            if (ops > 0)
            {
                text.append(ops).append(ops == 1 ? " op" : " ops").append(" still running (");
                for (int i = 0; i < Math.min(ops, 4); i++)
                {
                    text.append(i == 0 ? "" : ", ").append(Opcode.name(opcodes[i])).append(" cookie ")
                        .append(cookies[i]);
                }
                text.append(ops > 4 ? ", ...)" : ")");
            }
            if (calls > 0)
            {
                text.append(ops > 0 ? " and " : "").append("thread ").append(threads[0].owner.getName())
                    .append(calls > 1 ? " and " + (calls - 1) + " more" : "")
                    .append(" inside submit or run");
            }
            return text.toString();
        }

        private String notFreeYet()
        {
            return "; ops that name it fail with -EFAULT already, but the index is not free and the memory may " +
                "still be in use: call unregisterBuffer again (or cancel the op first)";
        }
    }

    private static boolean isRunning(final long control)
    {
        final int state = Slot.state(control);
        return state == Slot.RUNNING || state == Slot.CANCEL_REQUESTED;
    }

    @Override
    public int submit(final DirectBuffer iocbs, final int offset, final int length)
    {
        final Scratch caller = enterMemoryCall(); // the immediate path reads into registered memory
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
                final int iocbLength;
                final boolean triedInline;
                try
                {
                    // Read again after the check, and once: a caller that rewrites the iocb meanwhile so that it
                    // no longer fits gets it refused, and everything after this works from the staged copy.
                    iocbLength = lengthStillValid(iocbs, position, limit);
                    load(caller.staged, iocbs, position, iocbLength);
                    // From the copy: a look at the iocb itself could see another opcode than the one copied.
                    triedInline = isImmediateCandidate(caller.staged);
                }
                catch (final RuntimeException e)
                {
                    if (accepted == 0)
                    {
                        throw changedUnderSubmit(position, e);
                    }
                    break;
                }
                if (caller.staged.eventLength > ring.maxPayloadLength())
                {
                    if (accepted == 0)
                    {
                        throw new AioException(Errno.EINVAL, eventTooLarge(position, caller.staged));
                    }
                    break;
                }
                if (triedInline && completedInline(caller))
                {
                    accepted++;
                    position += iocbLength;
                    continue;
                }
                final Slot slot = acquireSlot(accepted == 0, caller);
                if (slot == null)
                {
                    break;
                }
                // The op as submit read it, and how far the immediate path got with it (a miss or a partial
                // read: the worker goes on from there).
                slot.takeStaged(caller.staged);
                if (!triedInline)
                {
                    slot.submitNanos = Measurements.latencyClock(slot);
                }
                start(slot, caller);
                accepted++;
                position += iocbLength;
            }
            return accepted;
        }
        finally
        {
            exitMemoryCall(caller);
        }
    }

    @Override
    public void submitCallable(final long cookie, final Callable<Long> op, final CallableFailureHandler onFailure)
    {
        final Scratch caller = enter(); // first: a destroyed context is EBADF whatever the arguments
        try
        {
            if (op == null)
            {
                throw new AioException(Errno.EINVAL, "callable op is null");
            }
            // Its own handler rides with the code in the slot's one callable field, which every op clears anyway.
            final Callable<Long> code = onFailure == null ? op : new CallableWithHandler(op, onFailure);
            final Slot slot = acquireSlot(true, caller);
            slot.loadCallable(cookie, code);
            slot.submitNanos = 0;
            start(slot, caller);
        }
        finally
        {
            exit(caller);
        }
    }

    /**
     * Takes a free slot if the in-flight limit allows: ops whose slots are busy plus events waiting on
     * the overflow list stay at most {@code maxInFlight}, so the overflow list is bounded too.
     *
     * @param mustSucceed throw EAGAIN instead of returning null.
     */
    private Slot acquireSlot(final boolean mustSucceed, final Scratch caller)
    {
        while (true)
        {
            // The count first, then the list: an op that moves from one to the other in between is seen
            // twice, never missed.
            final long counts = opCounts.get();
            final int active = active(counts);
            final int backlog = ring.isOverflowPending() ? ring.overflowSize() : 0;
            if (active + backlog >= maxInFlight)
            {
                if (mustSucceed)
                {
                    throw new AioException(Errno.EAGAIN, active + " ops in flight and " + backlog +
                        " events on the overflow list reach the limit of " + maxInFlight + "; reap events first");
                }
                return null;
            }
            if (opCounts.compareAndSet(counts, counts + ONE_OP))
            {
                // The count admits this op, so a slot is free; one pass can still miss it, when other submitters
                // took the free slots ahead of the cursor while one behind it was freed: look again, unless
                // the slots really are all taken, the spare ones by ops cancelled in a queue whose workers are
                // all busy.
                Slot slot;
                while ((slot = claimFreeSlot(caller)) == null)
                {
                    // The count as it is now, not as this submit read it before its CAS: another submitter admitted
                    // after that read may have taken the last free slot, and the stale count would then never see
                    // the slots as all taken (nor this loop end before some op frees one).
                    if (active(opCounts.get()) + canceledInQueue.get() > slots.length)
                    {
                        if (dropCanceledFromQueues(caller))
                        {
                            continue;
                        }
                        opCounts.addAndGet(-ONE_OP);
                        if (mustSucceed)
                        {
                            throw new AioException(Errno.EAGAIN, "every request slot is taken: " + slots.length +
                                " slots, " + canceledInQueue.get() + " of them held by ops cancelled in a queue " +
                                "whose workers are all busy");
                        }
                        return null;
                    }
                    Thread.yield();
                }
                return slot;
            }
        }
    }

    /**
     * Frees the slots of ops cancelled while queued without waiting for a worker of their class: every such op
     * keeps its slot in its queue until a worker takes it off, and with every worker of one class blocked (pipe
     * reads, say) enough of them would hold every spare slot, and submit would refuse ops of the other class
     * too, whose pool is idle. So a submit that finds every slot taken goes once through each queue: a cancelled
     * op's slot is freed, a live op goes back to the tail (behind any op submitted meanwhile: the only time the
     * engine reorders a queue) with the wake-up a submit gives it. One thread at a time; another that finds every
     * slot taken meanwhile waits for it and looks again for the slots it freed (answering EAGAIN at once would
     * refuse an op while the very slots it needs were being freed).
     *
     * @return true if a slot was freed, or another submit has just been through the queues: look again.
     */
    private boolean dropCanceledFromQueues(final Scratch caller)
    {
        if (!compacting.tryLock())
        {
            compacting.lock(); // never held across a wait for anything but a canceller's few stores
            compacting.unlock();
            return true;
        }
        try
        {
            boolean freed = false;
            for (final WorkerPool pool : pools)
            {
                for (int left = pool.queued(); left > 0; left--)
                {
                    final Slot slot = pool.pollQueued();
                    if (slot == null)
                    {
                        break; // the workers took the rest
                    }
                    final long control = slot.control();
                    final int state = Slot.state(control);
                    if (state == Slot.QUEUE_CANCELING || state == Slot.QUEUE_CANCELED)
                    {
                        dropCanceledInQueue(slot, Slot.generation(control));
                        freed = true;
                    }
                    else
                    {
                        // QUEUED, or cancelled since that look: a worker runs it or drops it, as for any queued op.
                        pool.execute(slot, caller);
                    }
                }
            }
            return freed;
        }
        finally
        {
            compacting.unlock();
        }
    }

    private static int active(final long opCounts)
    {
        return (int)opCounts;
    }

    private static int unpublished(final long opCounts)
    {
        return (int)(opCounts >>> 32);
    }

    /**
     * Looks for a free slot round-robin from where the last search ended. Ops end roughly in the order
     * they came, so the slot at the cursor is nearly always free: the search costs one look at a line
     * the submitter writes next anyway. (A shared free list cost an atomic on each side per op, on lines
     * that submitters and workers fight over.)
     *
     * @return a slot now CLAIMED by the caller, or null if one pass over every slot found none free.
     */
    private Slot claimFreeSlot(final Scratch caller)
    {
        final Slot[] all = slots;
        int index = caller.slotCursor;
        for (int looked = 0; looked < all.length; looked++)
        {
            if (index >= all.length)
            {
                index = 0;
            }
            final Slot slot = all[index++];
            if (slot.claimIfFree())
            {
                caller.slotCursor = index;
                return slot;
            }
        }
        return null;
    }

    /**
     * @return why an iocb is refused whose staged event is longer than one ring record holds.
     */
    private String eventTooLarge(final int offset, final Slot staged)
    {
        return "iocb at byte " + offset + " lists " + staged.attributeCount + " attributes, which make a " +
            staged.eventLength + "-byte event; the ring's largest event is " + ring.maxPayloadLength() +
            " bytes (ring capacity / 8 - 16)";
    }

    /**
     * @return the calling thread's scratch. Most contexts are driven by one thread: for it, this is a field
     * read and a compare instead of a ThreadLocal lookup, which perf put at about a tenth of what the
     * immediate path adds to its preadv2.
     */
    private Scratch callerScratch()
    {
        final Scratch last = lastCallerScratch;
        if (last != null && last.owner == Thread.currentThread())
        {
            return last;
        }
        final Scratch mine = callerScratches.get();
        lastCallerScratch = mine;
        return mine;
    }

    /**
     * @return the iocb's length, read again after {@link Iocb#malformation} checked it.
     * @throws IllegalStateException if the caller has rewritten it into one that does not fit in the submission.
     */
    private static int lengthStillValid(final DirectBuffer iocbs, final int position, final int limit)
    {
        final int length = iocbs.getInt(position + IocbDescriptor.LENGTH_OFFSET);
        if (length < IocbDescriptor.MIN_LENGTH || (length & (IocbDescriptor.ALIGNMENT - 1)) != 0 ||
            length > limit - position)
        {
            throw new IllegalStateException("its length is now " + length);
        }
        return length;
    }

    /**
     * The refusal of an iocb that was well formed a moment ago: only a caller that rewrites its iocbs while
     * submit reads them gets it.
     */
    private static AioException changedUnderSubmit(final int position, final RuntimeException e)
    {
        return new AioException(Errno.EINVAL, "iocb at byte " + position + " changed while submit read it (" +
            e.getMessage() + ")");
    }

    /**
     * Copies a well-formed iocb into a slot, minus the cache attribute where the context hides it. The caller
     * stamps its submission time, if it wants one.
     */
    private void load(final Slot slot, final DirectBuffer iocbs, final int position, final int iocbLength)
    {
        slot.load(iocbs, position, iocbLength);
        if (!cacheVisible)
        {
            slot.attributeMask &= ~(1 << AttributeId.CACHE);
        }
    }

    private void start(final Slot slot, final Scratch caller)
    {
        final int generation = slot.generation() + 1;
        if (!Dispatch.isSupported(slot.opcode))
        {
            // Nothing to run: complete inline, so an unknown op costs no thread hop and cannot disturb the batch.
            slot.setState(generation, Slot.DONE);
            slot.eventFlags |= immediateFlag();
            releaseAndPublish(slot, generation, -Errno.ENOSYS, NO_LATENCY, caller);
            return;
        }
        slot.setState(generation, Slot.QUEUED); // release: the worker that takes it sees every field above
        pools[Dispatch.workerClass(slot.opcode)].execute(slot, caller);
    }

    /**
     * @return IMMEDIATE for an event completed on the calling thread; nothing with NO_CACHE_ATTRIBUTE,
     * where the flag would tell a cache hit from a miss.
     */
    private int immediateFlag()
    {
        return cacheVisible ? FLAG_IMMEDIATE : 0;
    }

    /**
     * @return true for a pread the immediate path may take: on, not refused by the iocb, and no events
     * waiting on the overflow list (an inline op takes no place in the limit, so it must not add to the
     * list).
     */
    private boolean isImmediateCandidate(final Slot staged)
    {
        return immediate && staged.opcode == Opcode.PREAD && (staged.flags & IocbDescriptor.FLAG_NO_IMMEDIATE) == 0 &&
            !ring.isOverflowPending();
    }

    /**
     * The immediate path: a pread whose bytes are all in the page cache completes here, on the submitting
     * thread, with no thread hop and without taking a request slot. Its event still goes through the
     * ring, so reapers see one stream.
     *
     * @return true if the op completed; false if it must go to a worker (a miss, a partial read, or a
     * filesystem without RWF_NOWAIT), with what was learnt in {@code scratch.staged}.
     */
    private boolean completedInline(final Scratch scratch)
    {
        final Slot slot = scratch.staged;
        Measurements.before(slot, scratch);
        // Accepted and started within this call, nothing in between: one clock reading serves both.
        slot.submitNanos = slot.startNanos;
        final long res = Dispatch.probePread(slot, scratch, buffers);
        Measurements.after(slot, scratch);
        if (res == Dispatch.CONTINUE)
        {
            return false;
        }
        slot.eventFlags |= immediateFlag();
        // The event is built right after the call returns: the end reading serves as the publication time too.
        publishEvent(buildEvent(slot, INLINE_SUBMISSION_ID, res, slot.endNanos, scratch), scratch);
        return true;
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
            dropCanceledInQueue(slot, generation);
            return;
        }
        long res;
        try
        {
            res = executeMeasured(slot, scratch);
        }
        catch (final Dispatch.CallableThrew e)
        {
            // A catch of its own, so that ordinary ops pay nothing for a callable's failure.
            completeThrownCallable(slot, generation, scratch);
            return;
        }
        catch (final RuntimeException | Error e)
        {
            // An engine fault, not the op's: thrown on, it would end this worker with the op unfinished, its
            // event never published and its slot never freed.
            res = -Errno.EIO;
        }
        if (settledUncontended(slot, generation))
        {
            // Nothing but that CAS since the call's end reading: it serves as the publication time too, as on
            // the immediate path, which saves a clock reading on the worker (docs/ABI.md section 21).
            releaseAndPublish(slot, generation, res, slot.endNanos, scratch);
        }
        else
        {
            releaseAndPublish(slot, generation, settleCancelRequested(slot, generation, res),
                Measurements.latencyClock(slot), scratch);
        }
    }

    /**
     * Ends a running op that no cancel asked for: DONE, after which no cancel interrupts this thread for it, with
     * any interrupt it left cleared.
     *
     * @return false if a cancel did (the state is CANCEL_REQUESTED): {@link #settleCancelRequested} must end it.
     */
    private static boolean settledUncontended(final Slot slot, final int generation)
    {
        if (!slot.transition(generation, Slot.RUNNING, Slot.DONE))
        {
            return false;
        }
        // A callable may have left this thread interrupted: the next op must not see that, nor an idle park
        // return at once. No cancel can interrupt this op now: it does so only under the slot's lock while the
        // state is CANCEL_REQUESTED.
        Thread.interrupted();
        return true;
    }

    /**
     * Ends a running op a cancel asked for, as {@link #settledUncontended} does, under the slot's lock, so that
     * no interrupt for it lands after DONE.
     *
     * @return its res: -ECANCELED for an -EINTR that the cancel caused.
     */
    private static long settleCancelRequested(final Slot slot, final int generation, final long result)
    {
        long res = result;
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
        return res;
    }

    /**
     * A callable that threw with no cancel asking for it: -EIO, and its Throwable to its handler. Settled first,
     * so that no cancel interrupts the handler (a cancel now answers RUNNING_MAY_NOT_TERMINATE); published after,
     * so that whoever reaps the event finds what the handler recorded.
     */
    private void completeThrownCallable(final Slot slot, final int generation, final Scratch scratch)
    {
        final Throwable failure = slot.failure;
        slot.failure = null;
        if (!settledUncontended(slot, generation))
        {
            settleCancelRequested(slot, generation, -Errno.EIO);
        }
        final Callable<Long> code = slot.callable;
        final CallableFailureHandler handler = code instanceof CallableWithHandler ?
            ((CallableWithHandler)code).onFailure : callableFailureHandler;
        try
        {
            handler.onFailure(slot.cookie, EventDescriptor.submissionId(slot.index, generation), failure);
        }
        catch (final Throwable handlerFailure)
        {
            // Thrown on, it would end this worker with the event unpublished and the slot held; dropped unseen, it
            // would hide the one report of this failure.
            printHandlerFailure(slot.cookie, failure, handlerFailure);
        }
        Thread.interrupted(); // the handler's: the next op must not see it
        releaseAndPublish(slot, generation, -Errno.EIO, NO_LATENCY, scratch);
    }

    private static void printHandlerFailure(final long cookie, final Throwable failure, final Throwable handlerFailure)
    {
        try
        {
            if (handlerFailure != failure)
            {
                handlerFailure.addSuppressed(failure);
            }
            System.err.println("syslet: the failure handler of the callable op with cookie " + cookie +
                " threw; the op's own Throwable is suppressed in it:");
            handlerFailure.printStackTrace();
        }
        catch (final Throwable ignored)
        {
            // Out of memory, say: the event must still be published.
        }
    }

    /**
     * A queued op whose pool has no worker and cannot start one completes with EAGAIN, on the submitting
     * thread. Straight from QUEUED to DONE: never RUNNING, so no cancel can signal or interrupt this thread
     * for it.
     */
    private void rejectQueued(final Slot slot, final Scratch scratch)
    {
        final int generation = slot.generation();
        if (!slot.transition(generation, Slot.QUEUED, Slot.DONE))
        {
            dropCanceledInQueue(slot, generation);
            return;
        }
        slot.eventFlags |= immediateFlag(); // completed inside submit, as an unknown opcode's ENOSYS is
        releaseAndPublish(slot, generation, -Errno.EAGAIN, NO_LATENCY, scratch);
    }

    /**
     * Frees the slot of an op cancelled while queued, once its canceller has published from the slot's fields.
     */
    private void dropCanceledInQueue(final Slot slot, final int generation)
    {
        while (slot.control() != Slot.control(generation, Slot.QUEUE_CANCELED))
        {
            Thread.onSpinWait();
        }
        recycle(slot, generation); // its canceller already took it out of the in-flight count
        canceledInQueue.decrementAndGet();
    }

    /**
     * Runs the slot's op on this thread, taking the readings its attributes ask for around the call.
     */
    private long executeMeasured(final Slot slot, final Scratch scratch)
    {
        Measurements.before(slot, scratch);
        try
        {
            return Dispatch.execute(slot, scratch, buffers);
        }
        finally
        {
            // Also when it throws (a callable's failure, an engine fault): its event's end and publication times
            // come from here, not from whatever op this slot ran before.
            Measurements.after(slot, scratch);
        }
    }

    /**
     * Builds the event from the slot, frees the slot, then publishes. Release first: whoever reaps the
     * event must find the op out of the in-flight count and its slot free, or a submit right after the
     * reap would get EAGAIN at the limit. (The in-flight bound on the overflow list loosens by at most one
     * event per thread that is between these two steps.)
     */
    private void releaseAndPublish(final Slot slot, final int generation, final long res, final long publishNanos,
        final Scratch scratch)
    {
        final int length = buildEvent(slot, EventDescriptor.submissionId(slot.index, generation), res, publishNanos,
            scratch);
        release(slot, generation);
        offerEvent(length, scratch);
    }

    private void offerEvent(final int length, final Scratch scratch)
    {
        publishEvent(length, scratch);
        opCounts.addAndGet(-ONE_UNPUBLISHED);
    }

    private void publishEvent(final int length, final Scratch scratch)
    {
        ring.offer(RECORD_TYPE, scratch.buffer, Scratch.EVENT_OFFSET, length);
    }

    /**
     * The ring's {@link io.syslet.ring.ConsumerSignal}: adds 1 to the eventfd after a commit where reapers
     * stand, unless the header says not to. Not once per event: an event behind others still unreaped
     * is found by whoever reaps those, and a write(2) per event cost the pool path at depth 32 up to
     * two fifths of its throughput (docs/ABI.md section 18).
     */
    private void signalEventFd()
    {
        // Negative once destroy closes the fd: not only workers signal, but any thread whose read or flush of
        // ring() moves entries from the overflow list into the ring, which destroy cannot wait for.
        try
        {
            if (eventFdWriters.getAndIncrement() >= 0 &&
                (header.getIntVolatile(RingDescriptor.OWNER_FLAGS_OFFSET) & OwnerFlags.NOTIFY_DISABLED) == 0)
            {
                LIBC.write(eventFd, eventFdIncrement.addressOffset(), Long.BYTES);
            }
        }
        finally
        {
            // Whatever happened in between: a count left raised would keep destroy waiting forever.
            eventFdWriters.getAndDecrement();
        }
    }

    /**
     * Makes every later signal skip the eventfd and waits for the writes under way (each a non-blocking
     * write(2)), so that the fd can be closed. Once only: destroy calls it when it frees the context, which
     * happens once; a second call would bring the count back to 0 and signalling back on.
     */
    private void stopSignalling()
    {
        eventFdWriters.getAndAdd(Integer.MIN_VALUE);
        // Writers that came after see a negative count and only step in and out again.
        while (eventFdWriters.get() != Integer.MIN_VALUE)
        {
            Thread.yield();
        }
    }

    /**
     * Writes the slot's event, attributes included, at {@link Scratch#EVENT_OFFSET}.
     *
     * @return its length.
     */
    private int buildEvent(final Slot slot, final long submissionId, final long res, final long publishNanos,
        final Scratch scratch)
    {
        // The fixed part lies at constant offsets inside the scratch's event area: no bounds check per field.
        final long at = scratch.address + Scratch.EVENT_OFFSET;
        UnsafeApi.putLong(at + COOKIE_OFFSET, slot.cookie);
        UnsafeApi.putLong(at + SUBMISSION_ID_OFFSET, submissionId);
        UnsafeApi.putLong(at + RES_OFFSET, res);
        UnsafeApi.putLong(at + RES2_OFFSET, slot.res2);
        UnsafeApi.putShort(at + OPCODE_OFFSET, (short)slot.opcode);
        UnsafeApi.putShort(at + FLAGS_OFFSET, (short)slot.eventFlags);
        int attributesLength = 0;
        if (slot.attributeCount > 0)
        {
            final AttributeWriter writer = scratch.attributes.wrap(scratch.event, ATTRIBUTES_OFFSET);
            Measurements.write(slot, res, publishNanos, cacheVisible, writer);
            attributesLength = writer.length();
        }
        UnsafeApi.putInt(at + ATTRIBUTES_LENGTH_OFFSET, attributesLength);
        return MIN_LENGTH + attributesLength;
    }

    private void release(final Slot slot, final int generation)
    {
        recycle(slot, generation);
        opCounts.addAndGet(-ONE_ACTIVE);
    }

    private void recycle(final Slot slot, final int generation)
    {
        slot.callable = null;
        slot.workerThread = null;
        slot.setState(generation, Slot.FREE);
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
        final Scratch caller = enter();
        try
        {
            if (offset < 0 || maxBytes < 0 || dst.capacity() - offset < maxBytes)
            {
                throw new AioException(Errno.EINVAL, "destination of " + dst.capacity() + " bytes cannot take " +
                    maxBytes + " bytes at offset " + offset);
            }
            long waitStart = 0;
            long deadline = 0;
            boolean clockRead = false; // read the clock only once there is something to wait for
            int written = 0;
            int events = 0;
            final boolean mayWait = timeoutNanos > 0 && (!haveState || ring.stateToken() == seenState);
            final boolean few = unpublished(opCounts.get()) <= FEW_IN_FLIGHT;
            int idleLooks = 0;
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
                // A destination the events copied have filled cannot take even an event without attributes: waiting
                // for one more would only end at the timeout, or in the refusal of the event that comes.
                if (events >= minEvents || !mayWait || closed ||
                    (written > 0 && maxBytes - written < SMALLEST_EVENT_RECORD))
                {
                    return written;
                }
                final long now = System.nanoTime();
                if (!clockRead)
                {
                    waitStart = now;
                    deadline = now + timeoutNanos;
                    clockRead = true;
                }
                final long left = deadline - now;
                if (left <= 0)
                {
                    return written;
                }
                final boolean stillSpinning = few && now - waitStart < REAPER_SPIN_NANOS;
                if (bytes == 0 && !stillSpinning && (few || ++idleLooks > REAPER_YIELD_LOOKS))
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
                else if (bytes == 0 && few)
                {
                    Thread.onSpinWait();
                }
                else if (bytes == 0)
                {
                    Thread.yield();
                }
            }
        }
        finally
        {
            exit(caller);
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
        final Scratch caller = enter();
        try
        {
            return ring.stateToken();
        }
        finally
        {
            exit(caller);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Cancellation
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public int cancel(final long cookie)
    {
        final Scratch caller = enter();
        try
        {
            for (final Slot slot : slots)
            {
                final long control = slot.control();
                final int state = Slot.state(control);
                // CANCEL_REQUESTED too: an op an earlier cancel asked to stop still runs until it answers (that
                // cancel may have given up after CANCEL_ACK_NANOS), so it is in flight, never "not found". DONE too:
                // its event is still to come, after a callable's failure handler, which may take a while.
                if ((state != Slot.QUEUED && state != Slot.RUNNING && state != Slot.CANCEL_REQUESTED &&
                    state != Slot.DONE) || slot.cookie != cookie)
                {
                    continue;
                }
                final int generation = Slot.generation(control);
                final int opcode = slot.opcode;
                // The slot may have moved on to another op since control was read, and the cookie and opcode
                // read be that op's: a new op's fields are written while the slot is CLAIMED, which it leaves
                // for FREE or for the next generation. So they are this op's if, after them, the generation is
                // the same and the slot neither FREE nor CLAIMED. (Not "control unchanged": the worker taking
                // the op, QUEUED to RUNNING, must not make the cancel miss it.)
                VarHandle.acquireFence();
                final long now = slot.control();
                if (Slot.generation(now) != generation || Slot.state(now) == Slot.FREE ||
                    Slot.state(now) == Slot.CLAIMED)
                {
                    continue;
                }
                if (state == Slot.DONE)
                {
                    return RUNNING_MAY_NOT_TERMINATE; // it finished on its own
                }
                if (state == Slot.QUEUED)
                {
                    if (cancelQueued(slot, generation, caller))
                    {
                        return CANCELED;
                    }
                    final long after = slot.control();
                    if (after != Slot.control(generation, Slot.RUNNING) && after != cancelRequestedControl(generation))
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
            exit(caller);
        }
    }

    /**
     * Cancels a queued op: builds its -ECANCELED event, takes it out of the in-flight count, publishes,
     * and leaves the slot for the worker that dequeues it to recycle.
     *
     * @return false if the op was no longer queued.
     */
    private boolean cancelQueued(final Slot slot, final int generation, final Scratch scratch)
    {
        if (!slot.transition(generation, Slot.QUEUED, Slot.QUEUE_CANCELING))
        {
            return false;
        }
        slot.markCanceled(generation);
        slot.eventFlags |= FLAG_CANCELED;
        final int length = buildEvent(slot, EventDescriptor.submissionId(slot.index, generation), -Errno.ECANCELED,
            NO_LATENCY, scratch);
        canceledInQueue.incrementAndGet();
        slot.setState(generation, Slot.QUEUE_CANCELED);
        // Out of the in-flight count before the event shows, as for any op that ends; the slot itself comes
        // back when a worker of its class takes it off the queue.
        opCounts.addAndGet(-ONE_ACTIVE);
        offerEvent(length, scratch);
        return true;
    }

    private int cancelRunning(final Slot slot, final int generation, final int opcode)
    {
        if (!canInterrupt(opcode))
        {
            return RUNNING_MAY_NOT_TERMINATE;
        }
        final long requested = cancelRequestedControl(generation);
        // Already CANCEL_REQUESTED: another cancel asked first and may have given up waiting; the op still runs,
        // so signal it again and wait for its answer like the first. (Volatile read after the failed CAS: a
        // state other than these two means the op finished meanwhile.)
        if (!slot.transition(generation, Slot.RUNNING, Slot.CANCEL_REQUESTED) && slot.control() != requested)
        {
            // It finished meanwhile, on its own (or by another cancel): found in flight, so not NOT_FOUND, which
            // says no op had the cookie (ABI.md section 17).
            return slot.wasCanceled(generation) ? CANCELED : RUNNING_MAY_NOT_TERMINATE;
        }
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
        final Scratch caller = enterMemoryCall(); // runs the op here, in registered memory
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
            // The staging slot is idle outside submit, and no call runs the caller's code on its thread, so run
            // and submit never nest on one thread: it holds this op too, and run allocates nothing.
            final Slot slot = caller.staged;
            try
            {
                load(slot, iocb, offset, lengthStillValid(iocb, offset, iocb.capacity()));
            }
            catch (final RuntimeException e)
            {
                throw new AioException(Errno.EINVAL, "iocb at byte " + offset + " changed while run read it (" +
                    e.getMessage() + ")");
            }
            if (dstOffset < 0 || dst.capacity() - dstOffset < slot.eventLength)
            {
                throw new AioException(Errno.EINVAL, "event destination of " + dst.capacity() + " bytes cannot take a " +
                    slot.eventLength + "-byte event at offset " + dstOffset);
            }
            long res = -Errno.ENOSYS;
            if (Dispatch.isSupported(slot.opcode))
            {
                res = executeMeasured(slot, caller);
                // Run inside this call: submit and start are one reading, end and publication another.
                slot.submitNanos = slot.startNanos;
            }
            slot.eventFlags = immediateFlag();
            final int length = buildEvent(slot, 0, res, slot.endNanos, caller);
            dst.putBytes(dstOffset, caller.buffer, Scratch.EVENT_OFFSET, length);
            return length;
        }
        finally
        {
            exitMemoryCall(caller);
        }
    }

    @Override
    public Probe probe()
    {
        final Scratch caller = enter();
        try
        {
            final boolean[] supported = new boolean[Opcode.COUNT];
            for (int op = 0; op < Opcode.COUNT; op++)
            {
                supported[op] = Dispatch.isSupported(op);
            }
            return new Probe(supported, signal.available(), signal.detail(), cacheVisible);
        }
        finally
        {
            exit(caller);
        }
    }

    @Override
    public int eventFd()
    {
        final Scratch caller = enter();
        try
        {
            return eventFd;
        }
        finally
        {
            exit(caller);
        }
    }

    @Override
    public void notifications(final boolean enabled)
    {
        final Scratch caller = enter();
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
            exit(caller);
        }
    }

    @Override
    public RingReader ring()
    {
        final Scratch caller = enter();
        try
        {
            return ring;
        }
        finally
        {
            exit(caller);
        }
    }

    @Override
    public int inFlight()
    {
        final Scratch caller = enter(); // the ring's memory is gone after destroy
        try
        {
            // The count first, then the list: an event that moves from one to the other in between is seen
            // twice, never missed.
            final int notInRing = unpublished(opCounts.get());
            return notInRing + (ring.isOverflowPending() ? ring.overflowSize() : 0);
        }
        finally
        {
            exit(caller);
        }
    }

    /**
     * @return a copy of the parameters the context was set up with.
     */
    public SetupParams params()
    {
        return params.copy();
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
    public boolean destroy(final long timeoutNanos)
    {
        // Before the monitor: another thread inside destroy holds it while it waits for this very op, which
        // would wait for the monitor (no interrupt ends that wait) until the other destroy ran out of time.
        for (final WorkerPool pool : pools)
        {
            if (pool.isWorker(Thread.currentThread()))
            {
                throw new AioException(Errno.EDEADLK, "destroy called from one of this context's own ops (" +
                    Thread.currentThread().getName() + "), which it would wait for: destroy from another thread");
            }
        }
        return destroyLocked(timeoutNanos);
    }

    private synchronized boolean destroyLocked(final long timeoutNanos)
    {
        if (freed)
        {
            return true;
        }
        closed = true;
        final long deadline = System.nanoTime() + Math.max(0, timeoutNanos);
        // A thread inside a call (a synchronous run() of a blocking op, say) may still touch the ring.
        while (anyCallerInside())
        {
            if (System.nanoTime() - deadline >= 0)
            {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
        final Scratch scratch = callerScratch();
        boolean busy;
        do
        {
            busy = false;
            for (final Slot slot : slots)
            {
                final long control = slot.control();
                final int generation = Slot.generation(control);
                switch (Slot.state(control))
                {
                    case Slot.QUEUED:
                        cancelQueued(slot, generation, scratch);
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
                    case Slot.CLAIMED: // no caller is inside any more, so no submit goes on loading it
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
        while (busy && System.nanoTime() - deadline < 0);
        boolean workersEnded = true;
        for (final WorkerPool pool : pools)
        {
            workersEnded &= pool.stop(deadline);
        }
        freed = !busy && workersEnded;
        if (freed)
        {
            // Only now: a worker still inside an op would publish into the ring and write to the eventfd,
            // whose number the kernel could already have handed to someone else.
            if (eventFd >= 0)
            {
                stopSignalling();
                LIBC.close(eventFd);
            }
            region.close();
        }
        return freed;
    }

    /**
     * Marks the calling thread inside a public call, or refuses the call if the context is destroyed.
     *
     * @return the thread's scratch, to hand to {@link #exit}.
     */
    private Scratch enter()
    {
        return enter(false);
    }

    /**
     * {@link #enter()} for a call that may resolve BufferRefs and touch registered memory on the calling thread
     * (submit's immediate path, run): an unregister waits for such a call to end. Costs what enter() does: the
     * same one volatile write, with other bits.
     *
     * @return the thread's scratch, to hand to {@link #exitMemoryCall}.
     */
    private Scratch enterMemoryCall()
    {
        return enter(true);
    }

    private Scratch enter(final boolean touchesMemory)
    {
        final Scratch caller = callerScratch();
        // Volatile write, then volatile read; destroy does the mirror (closed, then every depth). In the
        // one order of synchronization actions, either destroy sees this depth or this call sees closed.
        // Unregister does the same with the buffer table (which a resolve reads) and the memory-call depth.
        caller.enterCall(touchesMemory);
        if (closed)
        {
            caller.exitCall(touchesMemory);
            throw new AioException(Errno.EBADF, "context is destroyed");
        }
        return caller;
    }

    private static void exit(final Scratch caller)
    {
        caller.exitCall(false);
    }

    private static void exitMemoryCall(final Scratch caller)
    {
        caller.exitCall(true);
    }

    private boolean anyCallerInside()
    {
        for (final Scratch caller : callers)
        {
            if (caller.isInCall())
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Makes a calling thread's scratch and lists it for destroy. Scratches of threads that have ended are
     * dropped from the list here, so threads that come and go do not pile up in it.
     */
    private Scratch newCallerScratch()
    {
        callers.removeIf(caller -> !caller.owner.isAlive());
        final Scratch scratch = new Scratch(Thread.currentThread());
        scratch.tid = LIBC.gettid();
        // Listed before its first call: a destroy that misses it here finds closed set at that call.
        callers.add(scratch);
        return scratch;
    }
}
