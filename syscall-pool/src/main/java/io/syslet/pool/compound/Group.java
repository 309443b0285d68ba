package io.syslet.pool.compound;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;

/**
 * A compound event made of children (ops, chains, other groups, to any depth).
 *
 * <ul>
 *   <li><b>all-of</b> completes when every child has settled. Its res is the sum of the children's
 *       results if none failed, else the first failed child's (in the order added) result;
 *       {@link #failures()} counts the failed ones.</li>
 *   <li><b>any-of</b>: the first child to succeed wins ({@link #winner()}); the others are cancelled.
 *       It completes once they have all settled, with the winner's result, or with the first failure if
 *       none succeeded.</li>
 * </ul>
 * A group can be fed from an iterator with a concurrency limit (libeio's feeder): at most {@code limit}
 * children are in flight; each one that settles pulls the next. Cancelling the group cancels its
 * children top-down and stops the feeder (a feed stopped before its iterator ended completes an all-of with
 * -ECANCELED, even if every child fed so far succeeded); cancelling a child does not cancel the group. A feeder whose
 * iterator or mapping throws (or gives null, or a node that belongs to another parent) is reported to the
 * error handler and stops as if cancelled: the group completes with -ECANCELED once the children in flight
 * have settled (an any-of group that has a winner keeps its result). A child may
 * complete before the group is fully set up (while {@link #start()} is still starting its siblings):
 * the group completes only once it is sealed and every child has settled.
 */
public final class Group extends Completion
{
    private final boolean anyOf;
    private final List<Completion> children = new ArrayList<>();
    private Iterator<?> feeder;
    private Function<Object, Completion> feederMapping;
    private int limit = Integer.MAX_VALUE;
    private int maxInFlight;
    /** Children added and not yet settled: the ones in flight. */
    private int unsettled;
    private int failures;
    private boolean sealed;
    /**
     * The feed ended before its iterator did: the feeder or its mapping threw, or the group was cancelled. The
     * group then did not do all it was given, so it ends as a cancel, never as a success over the children that
     * happened to be fed.
     */
    private boolean feedFailed;
    /** What the feeder threw, until feedMore reports it outside the lock. */
    private Throwable feedFailure;
    private Completion winner;

    Group(final Completions owner, final boolean anyOf)
    {
        super(owner);
        this.anyOf = anyOf;
    }

    /**
     * Adds a child; it starts when the group does (at once, if the group has started and is fed).
     *
     * @return this.
     */
    public Group add(final Completion child)
    {
        synchronized (this)
        {
            if (sealed || isStarted())
            {
                throw new IllegalStateException("children are added before start(); use a feeder to add later");
            }
            children.add(child);
            unsettled++;
            maxInFlight = Math.max(maxInFlight, unsettled);
        }
        if (adoptListed(child))
        {
            owner.settleChild(this, child); // it settled before it joined: count it now
        }
        return this;
    }

    /**
     * Adopts a child already listed and counted.
     *
     * @return true if it had already settled.
     * @throws IllegalStateException if it belongs to another parent; it is then taken off the list again.
     */
    private boolean adoptListed(final Completion child)
    {
        try
        {
            return child.adopt(this);
        }
        catch (final IllegalStateException belongsElsewhere)
        {
            synchronized (this)
            {
                children.remove(child);
                unsettled--;
            }
            throw belongsElsewhere;
        }
    }

    /**
     * Adds an op as a child.
     *
     * @return the child.
     */
    public OpCompletion add(final Op op)
    {
        final OpCompletion child = owner.op(op);
        add(child);
        return child;
    }

    /**
     * Feeds the group from an iterator: each element becomes an op (or any completion) started only when
     * fewer than {@code limit} children are in flight.
     *
     * @param source  ops, or anything {@code mapping} turns into a completion.
     * @param limit   most children in flight at once.
     * @param mapping element to child; {@code Op}s may use {@code owner::op}.
     * @return this.
     */
    @SuppressWarnings("unchecked")
    public <T> Group feed(final Iterator<T> source, final int limit, final Function<T, Completion> mapping)
    {
        if (limit < 1)
        {
            throw new IllegalArgumentException("feeder limit " + limit + " is below 1");
        }
        synchronized (this)
        {
            if (isStarted() || feeder != null)
            {
                throw new IllegalStateException("a feeder is set once, before start()");
            }
            this.feeder = source;
            this.feederMapping = (Function<Object, Completion>)(Function<?, Completion>)mapping;
            this.limit = limit;
        }
        return this;
    }

    /**
     * @return the children so far, in the order added.
     */
    public synchronized List<Completion> children()
    {
        return Collections.unmodifiableList(new ArrayList<>(children));
    }

    /**
     * @return children whose result was a failure.
     */
    public synchronized int failures()
    {
        return failures;
    }

    /**
     * @return for any-of, the first child that succeeded, or null.
     */
    public synchronized Completion winner()
    {
        return winner;
    }

    /**
     * @return the most children that were in flight at once (for a feeder, at most its limit).
     */
    public synchronized int maxInFlight()
    {
        return maxInFlight;
    }

    public boolean isAnyOf()
    {
        return anyOf;
    }

    @Override
    void onStart()
    {
        for (final Completion child : children())
        {
            child.start();
        }
        feedMore();
        synchronized (this)
        {
            if (feeder == null)
            {
                sealed = true;
            }
        }
        settleIfDone();
    }

    /**
     * Starts fed children while there is room, once the group has started: a child that settles before then
     * (started or cancelled on its own) must not start the feed of a group nobody started.
     */
    private void feedMore()
    {
        while (true)
        {
            final Completion next;
            final Throwable feedFailure;
            synchronized (this)
            {
                if (!isStarted())
                {
                    return; // onStart feeds
                }
                if (feeder == null || unsettled >= limit || isCanceled() || (anyOf && winner != null))
                {
                    if (feeder != null && (isCanceled() || (anyOf && winner != null)))
                    {
                        endFeed();
                        if (isCanceled())
                        {
                            feedFailed = true; // cut short, as in onCancel (an any-of's winner still decides its result)
                        }
                    }
                    return;
                }
                next = nextFed();
                feedFailure = this.feedFailure;
                this.feedFailure = null;
                if (next != null)
                {
                    children.add(next);
                    unsettled++;
                    maxInFlight = Math.max(maxInFlight, unsettled);
                }
            }
            if (feedFailure != null)
            {
                owner.report(this, feedFailure); // outside the lock: the handler may look at the group
                return;
            }
            if (next == null)
            {
                return;
            }
            final boolean settledAlready;
            try
            {
                settledAlready = adoptListed(next);
            }
            catch (final IllegalStateException adoptedMeanwhile)
            {
                synchronized (this)
                {
                    endFeed();
                    feedFailed = true;
                }
                owner.report(this, adoptedMeanwhile);
                return;
            }
            if (settledAlready)
            {
                owner.settleChild(this, next); // through the trampoline: a feed of settled nodes is a loop
            }
            else
            {
                next.start();
            }
        }
    }

    /**
     * The feeder's next child, not yet adopted; null when the feed has ended: the iterator is done, or it or
     * the mapping threw or gave null, or the child belongs to another parent (then in {@link #feedFailure}).
     * Under the group's lock.
     */
    private Completion nextFed()
    {
        try
        {
            if (!feeder.hasNext())
            {
                endFeed();
                return null;
            }
            final Completion next = feederMapping.apply(feeder.next());
            if (next == null)
            {
                throw new IllegalStateException("the feeder's mapping returned null");
            }
            if (next.parent() != null)
            {
                throw new IllegalStateException(next + " already belongs to " + next.parent());
            }
            return next;
        }
        catch (final Throwable t)
        {
            endFeed();
            feedFailed = true;
            feedFailure = t;
            return null;
        }
    }

    private void endFeed()
    {
        feeder = null;
        sealed = true;
    }

    @Override
    void childSettled(final Completion child)
    {
        final List<Completion> losers;
        synchronized (this)
        {
            unsettled--;
            final long res = child.res();
            if (res < 0)
            {
                failures++;
            }
            losers = anyOf && res >= 0 && winner == null ? others(child) : null;
            if (losers != null)
            {
                winner = child;
            }
        }
        if (losers != null)
        {
            for (final Completion loser : losers)
            {
                loser.cancel();
            }
        }
        feedMore();
        settleIfDone();
    }

    private List<Completion> others(final Completion child)
    {
        final List<Completion> others = new ArrayList<>(children.size());
        for (final Completion c : children)
        {
            if (c != child)
            {
                others.add(c);
            }
        }
        return others;
    }

    private void settleIfDone()
    {
        synchronized (this)
        {
            if (!sealed || unsettled > 0 || isCompleted() || !isStarted())
            {
                return;
            }
            // Decided and marked completed in one hold of the lock: the start and a child's settling can race
            // here, and so can a cancel, which must either come first (and count in the result) or find the
            // group completed, never slip in between and say "cancelled" over a result that was not.
            markCompleted(aggregate(), children.size(), false);
        }
        announceCompletion(false);
    }

    private long aggregate()
    {
        if (anyOf && winner != null)
        {
            return winner.res();
        }
        if (feedFailed || (isCanceled() && (anyOf || failures > 0)))
        {
            return canceledResult();
        }
        long sum = 0;
        for (final Completion child : children)
        {
            final long res = child.res();
            if (res < 0)
            {
                return res;
            }
            sum += res;
        }
        return sum;
    }

    @Override
    void onCancel()
    {
        final List<Completion> toCancel;
        synchronized (this)
        {
            toCancel = new ArrayList<>(children);
            if (feeder != null)
            {
                endFeed();
                feedFailed = true; // cut short: an all-of whose fed children all succeeded is still not a success
            }
        }
        for (final Completion child : toCancel)
        {
            child.cancel();
        }
        if (!isStarted())
        {
            start();
        }
        settleIfDone();
    }

    @Override
    public String toString()
    {
        return (anyOf ? "AnyOf" : "AllOf") + "@" + Integer.toHexString(System.identityHashCode(this));
    }
}
