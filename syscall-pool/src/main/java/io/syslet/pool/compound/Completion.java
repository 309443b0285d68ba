package io.syslet.pool.compound;

import io.syslet.abi.Errno;

import java.util.ArrayList;
import java.util.List;

/**
 * A compound event (the "cev" of the seed mail 000): something that completes once, with a result, and
 * then runs its callback chain, interceptors at the head and notifiers at the tail, before its parent
 * hears of it. Leaves are ops ({@link OpCompletion}); inner nodes are {@link Group}s and linked
 * {@link Chain}s, nestable to any depth. Cancelling a node cancels everything under it, top-down.
 *
 * <p>Thread safety: state changes happen under the node's monitor; callbacks run outside it, one at a
 * time per node, in order.
 */
public abstract class Completion
{
    final Completions owner;
    Completion parent;
    private final List<Interceptor> interceptors = new ArrayList<>(1);
    private final List<Notifier> notifiers = new ArrayList<>(1);
    private long res;
    private long res2;
    private boolean started;
    private boolean completed;
    private boolean settled;
    private boolean canceled;
    private boolean immediate;
    private boolean stopped;
    /** An interceptor is running: a resume() now (a retry that completed at once) is kept for when it returns. */
    private boolean intercepting;
    private boolean resumedWhileIntercepting;
    private int nextCallback;

    Completion(final Completions owner)
    {
        this.owner = owner;
    }

    /**
     * Adds an interceptor; they run in the order added, before every notifier.
     *
     * @return this.
     * @throws IllegalStateException once the node has completed.
     */
    public synchronized Completion intercept(final Interceptor interceptor)
    {
        checkNotCompleted();
        interceptors.add(interceptor);
        return this;
    }

    /**
     * Adds a notifier; they run in the order added, after every interceptor.
     *
     * @return this.
     * @throws IllegalStateException once the node has completed.
     */
    public synchronized Completion notify(final Notifier notifier)
    {
        checkNotCompleted();
        notifiers.add(notifier);
        return this;
    }

    /**
     * Starts the node: submits the op, or starts the children. Idempotent.
     *
     * @return this.
     */
    public final Completion start()
    {
        synchronized (this)
        {
            if (started)
            {
                return this;
            }
            started = true;
        }
        onStart();
        return this;
    }

    /**
     * Cancels this node and, top-down, everything under it. An op that was not started completes with
     * -ECANCELED without running; a running one is cancelled through the context; a group or chain
     * completes once its children have. A chain's hard steps still run after a cancel ({@link Chain}), so a
     * node cancelled before can have something new in flight: cancelled again, a group or chain passes the
     * cancel down again, and it reaches the hard steps that started since.
     *
     * @return false if the node had already completed, or was cancelled before and this call reached nothing
     * that had not been asked already; true if this call asked for a cancel. An op asked still completes with
     * its own result if it finished first or cannot be interrupted (a disk read: docs/ABI.md, cancel); the
     * result says which.
     */
    public final boolean cancel()
    {
        final boolean again;
        synchronized (this)
        {
            if (completed)
            {
                return false;
            }
            again = canceled;
            canceled = true;
        }
        if (again)
        {
            return onCancelAgain();
        }
        onCancel();
        return true;
    }

    /**
     * Goes on with a chain an interceptor stopped, from the callback after it, on the calling thread.
     *
     * <p>May also be called while the interceptor is still running, before it returns false: a retry it
     * started can complete at once (a cached pread on the immediate path) or on another thread before the
     * interceptor gets to return. The chain then goes on, on the interceptor's thread, as soon as it returns.
     *
     * @throws IllegalStateException if the chain is neither stopped nor in an interceptor.
     */
    public final void resume()
    {
        synchronized (this)
        {
            if (intercepting)
            {
                resumedWhileIntercepting = true;
                return;
            }
            if (!stopped)
            {
                throw new IllegalStateException("callback chain is not stopped");
            }
            stopped = false;
        }
        runCallbacks();
    }

    /**
     * Replaces the result; for interceptors.
     */
    public synchronized void result(final long res)
    {
        this.res = res;
    }

    public synchronized long res()
    {
        return res;
    }

    public synchronized long res2()
    {
        return res2;
    }

    /**
     * @return true once the result is known (callbacks may still be running).
     */
    public synchronized boolean isCompleted()
    {
        return completed;
    }

    /**
     * @return true once the callback chain has run to its end and the parent has been told.
     */
    public synchronized boolean isSettled()
    {
        return settled;
    }

    public synchronized boolean isCanceled()
    {
        return canceled;
    }

    /**
     * @return true while callbacks run on the submitting thread because the op completed inline.
     */
    public synchronized boolean isImmediate()
    {
        return immediate;
    }

    /**
     * @return the group or chain this node belongs to, or null.
     */
    public synchronized Completion parent()
    {
        return parent;
    }

    abstract void onStart();

    abstract void onCancel();

    /**
     * A cancel of a node cancelled before: passes it down to what started since, if anything can have (a
     * chain's hard step). An op was asked once and answers once, so by default there is nothing new to ask.
     *
     * @return true if it asked something below for a cancel.
     */
    boolean onCancelAgain()
    {
        return false;
    }

    synchronized boolean isStarted()
    {
        return started;
    }

    /**
     * Sets the result once and runs the chain: here if immediate or there is no delayed executor, else on
     * the executor.
     */
    final void complete(final long res, final long res2, final boolean immediate)
    {
        synchronized (this)
        {
            markCompleted(res, res2, immediate);
        }
        announceCompletion(immediate);
    }

    /**
     * The first half of {@link #complete}, for a caller that holds this node's lock and decides the result in
     * the same hold: from here on {@link #cancel()} finds the node completed.
     */
    final void markCompleted(final long res, final long res2, final boolean immediate)
    {
        if (completed)
        {
            throw new IllegalStateException(this + " completed twice");
        }
        completed = true;
        started = true;
        this.res = res;
        this.res2 = res2;
        this.immediate = immediate;
    }

    /**
     * The second half of {@link #complete}, without the lock: runs the callbacks.
     */
    final void announceCompletion(final boolean immediate)
    {
        if (immediate || owner.delayedExecutor == null)
        {
            runCallbacks();
            return;
        }
        try
        {
            owner.delayedExecutor.execute(this::runCallbacks);
        }
        catch (final RuntimeException rejected)
        {
            // A shut-down or saturated executor must not leave the node unsettled: run the chain here instead.
            owner.report(this, rejected);
            runCallbacks();
        }
    }

    private void runCallbacks()
    {
        while (true)
        {
            final Interceptor interceptor;
            final Notifier notifier;
            synchronized (this)
            {
                final int index = nextCallback++;
                if (index < interceptors.size())
                {
                    interceptor = interceptors.get(index);
                    notifier = null;
                }
                else if (index - interceptors.size() < notifiers.size())
                {
                    interceptor = null;
                    notifier = notifiers.get(index - interceptors.size());
                }
                else
                {
                    break;
                }
            }
            if (interceptor != null)
            {
                if (!intercepted(interceptor))
                {
                    return;
                }
            }
            else
            {
                callGuarded(null, notifier);
            }
        }
        final Completion parent;
        synchronized (this)
        {
            settled = true;
            immediate = false;
            parent = this.parent;
            notifyAll();
        }
        if (parent != null)
        {
            owner.settleChild(parent, this);
        }
    }

    /**
     * Runs one interceptor.
     *
     * @return true to go on with the chain: the interceptor returned true (or threw, which is reported), or
     * it returned false after a {@link #resume()} that came while it ran.
     */
    private boolean intercepted(final Interceptor interceptor)
    {
        synchronized (this)
        {
            intercepting = true;
            resumedWhileIntercepting = false;
        }
        final boolean goOn = callGuarded(interceptor, null);
        synchronized (this)
        {
            intercepting = false;
            if (goOn || resumedWhileIntercepting)
            {
                return true;
            }
            stopped = true;
            return false;
        }
    }

    /**
     * Runs one interceptor or notifier, marked as a callback (so that {@link Completions#runUntilSettled}
     * refuses to wait inside it); what it throws goes to the error handler.
     *
     * @return what the interceptor returned; true for a notifier, or for a callback that threw.
     */
    private boolean callGuarded(final Interceptor interceptor, final Notifier notifier)
    {
        final Completions.Trampoline trampoline = owner.enterCallback();
        try
        {
            if (interceptor != null)
            {
                return interceptor.intercept(this);
            }
            notifier.completed(this);
            return true;
        }
        catch (final Throwable t)
        {
            owner.report(this, t);
            return true;
        }
        finally
        {
            Completions.exitCallback(trampoline);
        }
    }

    /**
     * A child has completed and run its chain.
     */
    void childSettled(final Completion child)
    {
        throw new IllegalStateException(this + " has no children");
    }

    /**
     * Blocks until the node has settled; for tests and simple callers that do not run a reaper loop
     * themselves (the {@link Completions} must be polled by someone).
     *
     * @return this.
     */
    public synchronized Completion awaitSettled(final long timeoutMillis) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!settled)
        {
            final long left = deadline - System.currentTimeMillis();
            if (left <= 0)
            {
                throw new IllegalStateException(this + " did not settle within " + timeoutMillis + " ms");
            }
            wait(left);
        }
        return this;
    }

    /**
     * Attaches this node under a group or chain. A node that already completed is accepted: the parent
     * counts it at once (the race of a child that completes before its parent is set up).
     *
     * @return true if the child had already settled, so the parent must count it now.
     * @throws IllegalStateException if it has a parent, or is {@code newParent} or above it: a node under
     * itself would wait for its own settling, and hang its graph without a word.
     */
    boolean adopt(final Completion newParent)
    {
        // Walked before taking this node's lock: parent() takes each ancestor's, and locks go parent to child.
        for (Completion above = newParent; above != null; above = above.parent())
        {
            if (above == this)
            {
                throw new IllegalStateException(this + (above == newParent ? " cannot be its own child" :
                    " is above " + newParent + ": under it, it would make a cycle"));
            }
        }
        return adoptChecked(newParent);
    }

    private synchronized boolean adoptChecked(final Completion newParent)
    {
        if (parent != null)
        {
            throw new IllegalStateException(this + " already belongs to " + parent);
        }
        parent = newParent;
        return settled;
    }

    static long canceledResult()
    {
        return -Errno.ECANCELED;
    }

    private void checkNotCompleted()
    {
        if (completed)
        {
            throw new IllegalStateException(this + " has completed: callbacks must be added before");
        }
    }
}
