package io.syslet.abi;

import io.syslet.ring.RingReader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;

import java.util.concurrent.Callable;

/**
 * An AIO context: ops go in as iocbs, run on a worker pool, and come back as events in a ring. Every
 * method is safe to call from any thread. After {@link #close()} every method throws an
 * {@link AioException} with EBADF.
 */
public interface AioContext extends AutoCloseable
{
    /** {@link #cancel} result: the op was found and will complete with -ECANCELED. */
    int CANCELED = 0;
    /**
     * {@link #cancel} result: the op is running and may not terminate early (a disk read, say), or has finished
     * on its own and its event is on the way (after a callable's {@link CallableFailureHandler}, say).
     */
    int RUNNING_MAY_NOT_TERMINATE = -Errno.EALREADY;
    /** {@link #cancel} result: no op in flight has this cookie. */
    int NOT_FOUND = -Errno.ENOENT;

    /**
     * Registers off-heap memory that iocbs may then name with {@link BufferRef}s. A file's mapping may be
     * registered even if its file may shrink later: an op that touches a page past the file's new end completes
     * with -EFAULT, and nothing else notices (docs/ABI.md section 12, which gives the cost).
     *
     * @param buffer direct or mapped memory; the context keeps a reference, and never frees it, until
     *               {@link #unregisterBuffer} gives the index back.
     * @return the buffer's index: the lowest free one, which may be one unregistered earlier.
     * @throws AioException EINVAL if the buffer is on the heap; ENOMEM if every index of the table
     * ({@link SetupParams#maxBuffers}) is taken.
     */
    int registerBuffer(AtomicBuffer buffer);

    /**
     * {@link #unregisterBuffer(int, long)} that waits up to 5 s, as {@link #close()} gives destroy.
     */
    void unregisterBuffer(int index);

    /**
     * Gives a registered buffer's index back, like io_uring's buffer unregistration: once this returns, no op
     * touches the buffer's memory any more, and the context no longer holds the buffer (nor the ByteBuffer that
     * owns its memory), so the caller may reuse or free it.
     *
     * <p>From the start of the call, every op that resolves a {@link BufferRef} to this index fails with -EFAULT in
     * its event, as one naming an index never registered does: ops submitted later, and ops already queued (a
     * pread whose first part the immediate path read included). Ops already running that may hold an address in
     * the buffer (one that names it in an argument, and any preadv or pwritev, whose elements may) and calls of
     * {@link #submit} and {@link #run} then inside on other threads (which may read into it on their own thread)
     * are waited for: this returns when each has ended, and what they wrote into the buffer is there. Ops that
     * start meanwhile never keep it waiting. RAW ops and callables resolve no BufferRef: the engine tracks no
     * memory of theirs. A running op that may never end (a read of a pipe nobody writes) makes the wait run out:
     * cancel it first ({@link #cancel}), or catch EBUSY and call again later.
     *
     * <p>The index is then free: a later {@link #registerBuffer} may hand it out again (it takes the lowest free
     * index), and a stale BufferRef that still names it then reaches the new buffer, as a closed and reused fd
     * does. Called from inside one of the context's own ops (a callable), it waits as from anywhere else: a
     * callable is never among the ops it waits for, so it never waits for itself.
     *
     * @param index        a registered buffer's index.
     * @param timeoutNanos longest wait for the ops and calls that may still use the buffer; 0 does not wait
     *                     (EBUSY at once if any may).
     * @throws AioException EINVAL, naming the index, if it is out of range, was never registered or is already
     * unregistered; EBUSY if an op or call still used the buffer at the timeout, EINTR if the calling thread was
     * interrupted while waiting (its flag stays set): in both cases ops naming the index already fail with
     * -EFAULT, but the index is not free and the context still holds the buffer; call again to wait again (the
     * index counts as registered until a call returns); EBADF if the context is destroyed, before or during the
     * wait.
     */
    void unregisterBuffer(int index, long timeoutNanos);

    /**
     * Submits packed iocbs (see {@link IocbDescriptor}), like io_submit(2).
     *
     * @param iocbs  buffer holding them.
     * @param offset where the first starts.
     * @param length bytes of iocbs.
     * @return how many iocbs were accepted: a prefix. It stops at the first malformed iocb, or when
     * the in-flight limit is reached.
     * @throws AioException EINVAL, naming the fault, if the first iocb is malformed; EAGAIN if the
     * in-flight limit lets none in. Nothing is submitted in either case.
     */
    int submit(DirectBuffer iocbs, int offset, int length);

    /**
     * Submits blocking Java code as an op. Its event's res is the value returned (null counts as 0);
     * -ECANCELED if it was cancelled (interrupted: what it throws then is dropped); -EIO if it threw, an
     * {@link Error} too. What it threw goes to the context's {@link SetupParams#callableFailureHandler} (by
     * default the worker thread's uncaught exception handler) on the worker, before the event is published; see
     * {@link CallableFailureHandler}.
     *
     * @param cookie returned unchanged in the event.
     * @param op     code to run on a worker of the unbounded class.
     * @throws AioException EAGAIN at the in-flight limit.
     */
    default void submitCallable(final long cookie, final Callable<Long> op)
    {
        submitCallable(cookie, op, null);
    }

    /**
     * {@link #submitCallable(long, Callable)} whose failure goes to {@code onFailure} instead of the context's
     * handler: for a caller that completes its own future, say, with what the op threw. Costs a small object per
     * op when {@code onFailure} is given.
     *
     * @param cookie    returned unchanged in the event.
     * @param op        code to run on a worker of the unbounded class.
     * @param onFailure told of the Throwable if the op completes with -EIO because it threw
     *                  ({@link CallableFailureHandler}); null for the context's handler.
     * @throws AioException EAGAIN at the in-flight limit.
     */
    void submitCallable(long cookie, Callable<Long> op, CallableFailureHandler onFailure);

    /**
     * Copies whole events, as ring records (record header first, 8-byte aligned; walk them with
     * {@link EventCursor}), into {@code dst}, like io_getevents(2) in byte units. Flushes the overflow
     * list into the ring as room allows.
     *
     * @param dst          destination.
     * @param offset       where the first record goes.
     * @param maxBytes     room from {@code offset}.
     * @param minEvents    return once at least this many were copied.
     * @param timeoutNanos longest wait for {@code minEvents}; 0 does not wait.
     * @return bytes copied; fewer than {@code minEvents} events only at the timeout, when {@code dst}
     * is full, or if the calling thread is interrupted (its flag stays set).
     * @throws AioException EINVAL if {@code dst} cannot hold the next event.
     */
    int getEvents(MutableDirectBuffer dst, int offset, int maxBytes, int minEvents, long timeoutNanos);

    /**
     * {@link #getEvents(MutableDirectBuffer, int, int, int, long)} that does not wait at all if the ring
     * has moved since the caller read {@code seenState} from {@link #stateToken()}: no wakeup between
     * the caller's look and this call is lost.
     */
    int getEvents(MutableDirectBuffer dst, int offset, int maxBytes, int minEvents, long timeoutNanos, int seenState);

    /**
     * @return the ring's state now, for {@link #getEvents(MutableDirectBuffer, int, int, int, long, int)}.
     */
    int stateToken();

    /**
     * Cancels the op in flight with this cookie, like io_uring's async cancel. If several ops in flight share
     * the cookie, it cancels one of them, not necessarily the oldest (the engine looks for it by request
     * slot, and slots are not taken in submission order): give each op its own cookie to choose.
     *
     * @param cookie user cookie of the op.
     * @return {@link #CANCELED}, {@link #RUNNING_MAY_NOT_TERMINATE} or {@link #NOT_FOUND}.
     */
    int cancel(long cookie);

    /**
     * Runs one iocb on the calling thread and writes its event into {@code dst}, not into the ring.
     *
     * @param iocb      buffer holding one iocb.
     * @param offset    where it starts.
     * @param dst       where the event goes.
     * @param dstOffset where in {@code dst}.
     * @return bytes of the event.
     * @throws AioException EINVAL if the iocb is malformed or {@code dst} is too short.
     */
    int run(DirectBuffer iocb, int offset, MutableDirectBuffer dst, int dstOffset);

    /**
     * @return what this context supports.
     */
    Probe probe();

    /**
     * The context's eventfd: it becomes readable when an event is published where reapers stand, that is
     * into a ring they had emptied. An event published behind unreaped ones adds nothing, so after each
     * wakeup read the eventfd, then reap until {@link #getEvents} (minEvents 0) returns nothing, then
     * wait again. No wakeup is lost that way (docs/ABI.md section 18).
     *
     * @return the eventfd; -1 if the context was set up with {@link SetupParams#FLAG_NO_EVENTFD}.
     */
    int eventFd();

    /**
     * Turns eventfd notification off or on by flipping {@link OwnerFlags#NOTIFY_DISABLED} in the ring
     * header; a process that maps the ring can do the same. After turning it back on, reap until empty
     * before waiting on the eventfd: events published while it was off signalled nothing.
     */
    void notifications(boolean enabled);

    /**
     * The completion ring's consumer side, for reaping without a call: a reaper that finds it empty with
     * {@link RingReader#isOverflowPending()} set must call {@link #getEvents} (or {@link RingReader#flush()}).
     * Only the consumer's side: the context alone produces into its ring.
     *
     * @return the ring, to read.
     */
    RingReader ring();

    /**
     * Ops accepted whose events have not reached the ring yet: queued, running, or with their event on the
     * overflow list. An op stops counting here only after its event is published, so a 0 means that the
     * event of every op accepted before this call is in the ring (or already reaped). The limit of
     * {@link SetupParams#maxInFlight} is kept a little ahead of this count: an op frees its place just
     * before its event becomes visible, so a caller that has reaped an event can always submit again.
     *
     * @return ops in flight.
     */
    int inFlight();

    /**
     * Destroys the context: cancels what is queued, interrupts what can be interrupted, waits up to
     * {@code timeoutNanos} for the rest, stops the workers, closes the eventfd and frees the ring.
     * Events already in the ring are lost with it. Every later call on the context fails with EBADF;
     * a later destroy tries again to free what is left, and once everything is freed returns true at
     * once.
     *
     * @return true if everything was freed; false if some op was still running at the timeout, or a
     * thread was still inside a call on the context (a synchronous {@code run} of a blocking op), in
     * which case the ring's memory and the workers are left to them (never freed under them).
     * @throws AioException EDEADLK, changing nothing, if called from one of the context's own ops (a callable
     * op's code, which runs on the context's worker): destroy would wait for that op, that is for itself.
     */
    boolean destroy(long timeoutNanos);

    /**
     * {@link #destroy(long)} with a 5 s timeout.
     */
    @Override
    void close();
}
