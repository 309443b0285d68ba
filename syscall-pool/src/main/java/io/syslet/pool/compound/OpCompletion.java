package io.syslet.pool.compound;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A leaf: one op submitted to the context. Its result is the event's res; {@link #event()} holds a copy
 * of the whole event, attributes included, and {@link #failure()} what a callable op threw.
 */
public final class OpCompletion extends Completion
{
    private final Op op;
    long cookie;
    private boolean submitted;
    private UnsafeBuffer event;
    private Throwable failure;
    /** A future carries the failure: the error handler is not told of it too. */
    private boolean failureToFuture;

    OpCompletion(final Completions owner, final Op op)
    {
        super(owner);
        this.op = op;
    }

    public Op op()
    {
        return op;
    }

    /**
     * @return a copy of the op's event (fixed part then attributes), or null if the op never ran (it was
     * cancelled before it started, or could not be submitted).
     */
    public synchronized UnsafeBuffer event()
    {
        return event;
    }

    /**
     * @return the very Throwable this callable op ({@link Op#call}) threw, which made its result -EIO; null if it
     * did not throw, or threw once a cancel had interrupted it (its result is then -ECANCELED), and for every
     * other op.
     * Set before the op completes, so its callbacks find it.
     */
    public synchronized Throwable failure()
    {
        return failure;
    }

    /**
     * The op's own {@link io.syslet.abi.CallableFailureHandler}: on the worker, before the event is published.
     */
    synchronized void callableThrew(final long cookie, final long submissionId, final Throwable thrown)
    {
        failure = thrown;
    }

    synchronized void failureToFuture()
    {
        failureToFuture = true;
    }

    @Override
    void onStart()
    {
        final boolean cancelledFirst;
        synchronized (this)
        {
            cancelledFirst = isCanceled();
            submitted = !cancelledFirst;
        }
        if (cancelledFirst)
        {
            complete(canceledResult(), 0, false); // cancelled before it started: never submitted
            return;
        }
        owner.submit(this);
    }

    @Override
    void onCancel()
    {
        final boolean running;
        final long submittedAs;
        synchronized (this)
        {
            running = submitted && !isCompleted();
            submittedAs = cookie;
        }
        if (running)
        {
            // NOT_FOUND: its event is on the way, or its submit has not yet queued it (no cookie yet, or its
            // slot not yet queued); that submit sees this cancel's flag once it has, and cancels it then.
            if (submittedAs != 0)
            {
                owner.cancelInContext(submittedAs);
            }
        }
        else if (!isStarted())
        {
            start(); // completes at once with -ECANCELED
        }
    }

    void completeFromEvent(final UnsafeBuffer copy, final long res, final long res2, final boolean immediate)
    {
        final Throwable thrown;
        synchronized (this)
        {
            event = copy;
            thrown = failureToFuture ? null : failure;
        }
        if (thrown != null)
        {
            // What the callable threw is user code's failure like a callback's: where no future takes it, the
            // error handler does, before the chain runs on with -EIO.
            owner.report(this, thrown);
        }
        complete(res, res2, immediate);
    }

    @Override
    public String toString()
    {
        return "Op{" + op + ", cookie=" + cookie + "}";
    }
}
