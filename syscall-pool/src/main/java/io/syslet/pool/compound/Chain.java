package io.syslet.pool.compound;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;

/**
 * Linked ops, like io_uring's linked SQEs: each step starts only after the one before it has settled,
 * and is built from it, so a result can be passed along (open, then pread from the fd it returned, then
 * close it). A step that fails or comes back short ({@link Op#failedOrShort}) cancels the rest of the
 * chain: each remaining step completes with -ECANCELED without running. A step added with
 * {@link #thenHard} runs whatever the step before it returned.
 *
 * <p>The chain completes after its last step, with the first failed step's result, or else the last
 * step's. {@link #steps()} holds one completion per step, run or cancelled.
 */
public final class Chain extends Completion
{
    private final List<Function<Completion, Completion>> builders = new ArrayList<>();
    private final List<Boolean> hard = new ArrayList<>();
    private final List<Completion> steps = new ArrayList<>();
    private long firstFailure;
    private boolean failed;

    Chain(final Completions owner, final Op first)
    {
        super(owner);
        builders.add(previous -> owner.op(first));
        hard.add(Boolean.FALSE);
    }

    /**
     * Adds a step that runs only if the one before succeeded in full.
     *
     * @param next builds the op from the previous step's completion.
     * @return this.
     */
    public Chain then(final Function<Completion, Op> next)
    {
        return add(previous -> owner.op(next.apply(previous)), false);
    }

    /**
     * Adds a step that runs whatever the step before returned (a hard link).
     */
    public Chain thenHard(final Function<Completion, Op> next)
    {
        return add(previous -> owner.op(next.apply(previous)), true);
    }

    /**
     * Adds a step that is itself a compound event (a group, another chain), built, not yet started, from
     * the step before; it runs only if that step succeeded in full. A compound step fails when its result
     * is negative.
     */
    public Chain thenNode(final Function<Completion, Completion> next)
    {
        return add(next, false);
    }

    /**
     * @return a completion per step so far.
     */
    public synchronized List<Completion> steps()
    {
        return Collections.unmodifiableList(new ArrayList<>(steps));
    }

    private synchronized Chain add(final Function<Completion, Completion> next, final boolean isHard)
    {
        if (isStarted())
        {
            throw new IllegalStateException("steps are added before start()");
        }
        builders.add(next);
        hard.add(isHard);
        return this;
    }

    @Override
    void onStart()
    {
        startStep(0, null);
    }

    private void startStep(final int index, final Completion previous)
    {
        final boolean cancelRest;
        synchronized (this)
        {
            cancelRest = isCanceled() || (previous != null && !hard.get(index) && failedOrShort(previous));
        }
        Completion step = null;
        if (!cancelRest)
        {
            try
            {
                step = builders.get(index).apply(previous);
                if (step == null)
                {
                    throw new IllegalStateException("the builder of step " + index + " of " + this + " returned null");
                }
            }
            catch (final Throwable t)
            {
                owner.report(this, t); // the rest of the chain is cancelled, as after a failed step
            }
        }
        boolean run = step != null;
        if (!run)
        {
            step = standIn();
        }
        final boolean canceledMeanwhile;
        synchronized (this)
        {
            // Listed before it is adopted: once adopted, it may settle on another thread, and childSettled counts
            // the steps listed to know which comes next. Listed, a cancel() finds it as the running step; one
            // that came while the builder ran found the step before (settled) and cancelled nothing.
            steps.add(step);
            canceledMeanwhile = isCanceled();
        }
        boolean settledAlready;
        try
        {
            settledAlready = step.adopt(this);
        }
        catch (final IllegalStateException belongsElsewhere)
        {
            owner.report(this, belongsElsewhere);
            step = standIn();
            synchronized (this)
            {
                steps.set(index, step);
            }
            settledAlready = step.adopt(this);
            run = false;
        }
        if (settledAlready)
        {
            owner.settleChild(this, step); // the builder returned a node that had already settled
        }
        else if (run && !canceledMeanwhile)
        {
            step.start();
        }
        else
        {
            step.cancel();
        }
    }

    /**
     * @return a step that never runs: cancelled, it completes with -ECANCELED.
     */
    private Completion standIn()
    {
        return owner.op(Op.nop());
    }

    private static boolean failedOrShort(final Completion step)
    {
        return step instanceof OpCompletion ? ((OpCompletion)step).op().failedOrShort(step.res()) : step.res() < 0;
    }

    @Override
    void childSettled(final Completion child)
    {
        final int next;
        synchronized (this)
        {
            if (!failed && child.res() < 0)
            {
                failed = true;
                firstFailure = child.res();
            }
            next = steps.size();
        }
        if (next < builders.size())
        {
            startStep(next, child);
            return;
        }
        synchronized (this)
        {
            // Decided and marked in one hold of the lock, as a group's: a cancel from here on finds the chain
            // completed and returns false, rather than true over a result it had no part in.
            markCompleted(failed ? firstFailure : child.res(), steps.size(), false);
        }
        announceCompletion(false);
    }

    @Override
    void onCancel()
    {
        final Completion running;
        synchronized (this)
        {
            running = steps.isEmpty() ? null : steps.get(steps.size() - 1);
        }
        if (running != null)
        {
            running.cancel();
        }
        else if (!isStarted())
        {
            start();
        }
    }

    @Override
    public String toString()
    {
        return "Chain@" + Integer.toHexString(System.identityHashCode(this));
    }
}
