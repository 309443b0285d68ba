package io.syslet.pool.compound;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;

/**
 * Linked ops, like io_uring's linked SQEs: each step starts only after the one before it has settled,
 * and is built from it, so a result can be passed along (open, then pread from the fd it returned, then
 * close it).
 *
 * <p><b>Soft and hard steps.</b> A step added with {@link #then} or {@link #thenNode} is soft: it runs only if
 * the step before succeeded in full ({@link Op#failedOrShort}; a compound step fails when its result is negative)
 * and the chain has not been cancelled. Otherwise it completes with -ECANCELED without running, and its builder
 * is not called. A step added with {@link #thenHard} is hard (IOSQE_IO_HARDLINK): it runs whatever the step
 * before returned, and whether or not the chain was cancelled. Hard steps are the chain's cleanup.
 *
 * <p><b>Cancel.</b> {@link #cancel()} cancels the step in flight (an op that cannot be interrupted still
 * finishes with its own result). The soft steps after it never start. The hard steps after it still start, in
 * order, each built from the step before as usual, and that cancel does not reach them. A cancel that comes
 * while a hard step runs, whether it is the chain's first or a later one, cancels that step; the hard steps
 * after it still run. So a chain that is cancelled again while it has not settled, each time while a step is
 * in flight, settles within one cancel more than it has hard steps. A cancel that comes between steps:
 * <ul>
 *   <li>before {@link #start()}: starts the chain, whose soft steps (the first step included) complete with
 *       -ECANCELED without running, while its hard steps run;</li>
 *   <li>while a step's builder runs: the step before has settled, so nothing in flight is cancelled; the step
 *       built is cancelled before it starts if it is soft, and starts as usual if it is hard;</li>
 *   <li>after a hard step is listed in {@link #steps()}, before the chain has started it: the step is started
 *       first, then cancelled, like any hard step in flight. A cancel never makes a hard step complete
 *       unsubmitted.</li>
 * </ul>
 * A parent group's top-down cancel is a cancel of the chain, and so is a repeated cancel of the group, which
 * it passes down again. A compound step ({@link #thenNode}) is soft: a cancel of this chain while it runs cancels
 * it (a nested chain then runs its own hard steps, and a repeated cancel reaches them), and one that comes before
 * it was built skips it.
 *
 * <p>The chain completes after its last step, with the first failed step's result, or else the last step's.
 * A cancelled chain ({@link #isCanceled()}) thus ends with -ECANCELED if the cancel interrupted a step or skipped
 * one, however its hard steps did after that; if it came too late for either (the step in flight finished anyway
 * and only hard steps followed), the chain ends with its steps' own results, as a cancelled op that could not be
 * interrupted does. {@link #steps()} holds one completion per step, run or skipped.
 */
public final class Chain extends Completion
{
    private final List<Function<Completion, Completion>> builders = new ArrayList<>();
    private final List<Boolean> hard = new ArrayList<>();
    private final List<Completion> steps = new ArrayList<>();
    /**
     * The hard step listed last, until the chain has called its start(): a cancel that finds it here must not
     * cancel it yet (an op cancelled before it starts completes without ever being submitted, and a hard step
     * always runs), so it leaves {@link #cancelWhileStarting} for startStep to act on once the step has started.
     */
    private Completion startingHard;
    private boolean cancelWhileStarting;
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
        final boolean isHard;
        final boolean skip;
        synchronized (this)
        {
            isHard = hard.get(index);
            // A cancel, like a failed or short step, skips the soft steps; a hard one runs whatever came before.
            skip = !isHard && (isCanceled() || (previous != null && failedOrShort(previous)));
        }
        Completion step = null;
        if (!skip)
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
                owner.report(this, t); // the soft steps after it are skipped, as after a failed step
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
            // that came while the builder ran found the step before (settled) and cancelled nothing. That one
            // still cancels a soft step, which it skips; a hard step starts whatever came before it.
            steps.add(step);
            canceledMeanwhile = !isHard && isCanceled();
            if (isHard)
            {
                // In the same hold as the listing: no cancel can find this step listed and not know to wait.
                startingHard = step;
                cancelWhileStarting = false;
            }
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
                if (isHard)
                {
                    startingHard = step;
                }
            }
            settledAlready = step.adopt(this);
            run = false;
        }
        try
        {
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
        finally
        {
            // Even if start() threw: a wait left in place would hold every later cancel of the chain back for good.
            if (isHard && startedWithCancelWaiting(step))
            {
                step.cancel(); // started now (submitted, or completed already): the cancel that waited reaches it running
            }
        }
    }

    /**
     * Ends the wait of a hard step's start: from here on a cancel finds it started and cancels it directly.
     *
     * @return true if a cancel came while it waited.
     */
    private synchronized boolean startedWithCancelWaiting(final Completion step)
    {
        // step.start() may have completed it inline, and the next step may be listed already (on this thread,
        // through the trampoline, or on a reaper's): then the wait is that step's, and not this one to end.
        if (startingHard != step)
        {
            return false;
        }
        startingHard = null;
        final boolean waiting = cancelWhileStarting;
        cancelWhileStarting = false;
        return waiting;
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
        cancelStepInFlight();
        if (!isStarted())
        {
            start(); // nothing was listed yet: starting it, cancelled, skips the soft steps and runs the hard ones
        }
    }

    /**
     * Cancelled again: a hard step may have started since the last cancel, and only a new one reaches it.
     */
    @Override
    boolean onCancelAgain()
    {
        return cancelStepInFlight();
    }

    /**
     * Cancels the step listed last: the one in flight, or the one that settled last if the next is not yet
     * listed (its builder runs, or childSettled has yet to call startStep), which a cancel can no longer
     * change. Picked under the lock, cancelled outside it: a step that settles in between answers false.
     *
     * @return true if this asked for a cancel that had not been asked before.
     */
    private boolean cancelStepInFlight()
    {
        final Completion running;
        synchronized (this)
        {
            if (startingHard != null)
            {
                final boolean first = !cancelWhileStarting;
                cancelWhileStarting = true;
                return first;
            }
            running = steps.isEmpty() ? null : steps.get(steps.size() - 1);
        }
        return running != null && running.cancel();
    }

    @Override
    public String toString()
    {
        return "Chain@" + Integer.toHexString(System.identityHashCode(this));
    }
}
