package io.syslet.pool.compound;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A leaf: one op submitted to the context. Its result is the event's res; {@link #event()} holds a copy
 * of the whole event, attributes included.
 */
public final class OpCompletion extends Completion
{
    private final Op op;
    long cookie;
    private boolean submitted;
    private UnsafeBuffer event;

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
        synchronized (this)
        {
            event = copy;
        }
        complete(res, res2, immediate);
    }

    @Override
    public String toString()
    {
        return "Op{" + op + ", cookie=" + cookie + "}";
    }
}
