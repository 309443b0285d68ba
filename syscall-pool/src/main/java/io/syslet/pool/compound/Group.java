package io.syslet.pool.compound;

import org.agrona.collections.LongArrayList;

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
 *
 * <p>A fed child is let go once it has settled and counted: a feed of millions holds memory for its limit,
 * not its length. So {@link #children()} lists the children added with {@code add} and the fed ones still in
 * flight; the group's {@code res2} counts every child it had.
 */
public final class Group extends Completion
{
    private final boolean anyOf;
    /** Children added with add(), in order: as many as the caller made, kept for children(). */
    private final List<Completion> children = new ArrayList<>();
    /** Fed children in flight (at most the limit), and beside each its place in the feed (0, 1, ...). */
    private final List<Completion> fedInFlight = new ArrayList<>();
    private final LongArrayList fedPlaces = new LongArrayList();
    /** Fed children so far, settled or not. */
    private long fedCount;
    /** Sum of the settled fed children's results that were not failures. */
    private long fedSum;
    /** The place in the feed of the first fed child (in feed order) that failed, and its result. */
    private long firstFedFailurePlace = Long.MAX_VALUE;
    private long firstFedFailureRes;
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
    /** A thread is pulling from the feeder: the one that set it, alone, calls the iterator and the mapping. */
    private boolean feeding;
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
                if (!children.remove(child))
                {
                    takeFed(child);
                    fedCount--;
                }
                unsettled--;
            }
            throw belongsElsewhere;
        }
    }

    /**
     * Takes a fed child off the in-flight list. Under the group's lock.
     *
     * @return its place in the feed, or -1 if it is not a fed child in flight.
     */
    private long takeFed(final Completion child)
    {
        for (int i = 0; i < fedInFlight.size(); i++)
        {
            if (fedInFlight.get(i) == child)
            {
                fedInFlight.remove(i);
                return fedPlaces.removeAt(i);
            }
        }
        return -1;
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
     * @return the children added with {@code add}, in the order added, then the fed children still in flight
     * (a fed child that has settled is let go).
     */
    public synchronized List<Completion> children()
    {
        final List<Completion> all = new ArrayList<>(children.size() + fedInFlight.size());
        all.addAll(children);
        all.addAll(fedInFlight);
        return Collections.unmodifiableList(all);
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
        final List<Completion> added;
        synchronized (this)
        {
            added = new ArrayList<>(children); // none is fed yet: feeding starts below
        }
        for (final Completion child : added)
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
     *
     * <p>One thread feeds at a time ({@link #feeding}), and it calls the iterator and the mapping without the
     * group's lock: they are the caller's code and may block (a hasNext() that waits for work), which under
     * the lock held up every cancel(), isSettled() and res() of the group on other threads; and code that
     * takes other locks must not run under this one. A child that settles while another thread
     * feeds does not wait either: the feeding thread looks at the room again under the lock before it stops,
     * and stops ({@code feeding = false}) in the same hold, so a child that settles after that finds no feeder
     * and feeds itself.
     */
    private void feedMore()
    {
        final Iterator<?> source;
        final Function<Object, Completion> mapping;
        synchronized (this)
        {
            if (!isStarted() || feeding || !mayFeed())
            {
                return; // not started (onStart feeds), or another thread feeds and looks again before it stops
            }
            feeding = true;
            source = feeder;
            mapping = feederMapping;
        }
        boolean stopped = false;
        try
        {
            while (true)
            {
                Completion next = null;
                Throwable failure = null;
                try
                {
                    if (source.hasNext())
                    {
                        next = mapping.apply(source.next());
                        if (next == null)
                        {
                            throw new IllegalStateException("the feeder's mapping returned null");
                        }
                        if (next.parent() != null)
                        {
                            throw new IllegalStateException(next + " already belongs to " + next.parent());
                        }
                    }
                }
                catch (final Throwable t)
                {
                    next = null;
                    failure = t;
                }
                final boolean canceledMeanwhile;
                synchronized (this)
                {
                    if (next == null)
                    {
                        // The iterator is done, or it or the mapping failed: the feed ends either way.
                        if (feeder != null)
                        {
                            endFeed();
                        }
                        feedFailed |= failure != null;
                        feeding = false;
                        stopped = true;
                    }
                    else
                    {
                        // Made, so fed and counted even if a cancel came meanwhile: it is cancelled below.
                        fedInFlight.add(next);
                        fedPlaces.addLong(fedCount++);
                        unsettled++;
                        maxInFlight = Math.max(maxInFlight, unsettled);
                    }
                    // A cancel, or an any-of's winner, that came while the mapping ran (without the lock) did
                    // not see this child among the ones to cancel: it is a loser like them.
                    canceledMeanwhile = isCanceled() || (anyOf && winner != null);
                }
                if (next == null)
                {
                    if (failure != null)
                    {
                        owner.report(this, failure); // outside the lock: the handler may look at the group
                    }
                    return;
                }
                startFed(next, canceledMeanwhile);
                synchronized (this)
                {
                    if (!mayFeed())
                    {
                        feeding = false;
                        stopped = true;
                        return;
                    }
                }
            }
        }
        finally
        {
            if (!stopped)
            {
                synchronized (this)
                {
                    feeding = false; // a throw from the caller's code past the catches above: never stuck feeding
                }
            }
        }
    }

    /**
     * Under the lock: whether the feed may pull another element. Ends the feed of a group cancelled, or of an
     * any-of that has its winner.
     */
    private boolean mayFeed()
    {
        if (feeder == null)
        {
            return false;
        }
        if (isCanceled() || (anyOf && winner != null))
        {
            endFeed();
            // Cut short, as in onCancel; an any-of's winner still decides its result.
            feedFailed |= isCanceled();
            return false;
        }
        return unsettled < limit;
    }

    /**
     * Adopts a fed child and starts it, or cancels it if the group was cancelled while the mapping made it.
     */
    private void startFed(final Completion next, final boolean canceledMeanwhile)
    {
        final boolean settledAlready;
        try
        {
            settledAlready = adoptListed(next);
        }
        catch (final IllegalStateException adoptedMeanwhile)
        {
            synchronized (this)
            {
                if (feeder != null)
                {
                    endFeed();
                }
                feedFailed = true;
            }
            owner.report(this, adoptedMeanwhile);
            return;
        }
        if (settledAlready)
        {
            owner.settleChild(this, next); // through the trampoline, whose depth keeps a feed of settled nodes flat
        }
        else if (canceledMeanwhile)
        {
            next.cancel();
        }
        else
        {
            next.start();
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
            final long fedPlace = takeFed(child);
            if (fedPlace >= 0)
            {
                // Counted here and let go: what aggregate() needs of it is its place among the failures, or its sum.
                if (res < 0 && fedPlace < firstFedFailurePlace)
                {
                    firstFedFailurePlace = fedPlace;
                    firstFedFailureRes = res;
                }
                else if (res >= 0)
                {
                    fedSum += res;
                }
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
        final List<Completion> others = new ArrayList<>(children.size() + fedInFlight.size());
        for (final Completion c : children)
        {
            if (c != child)
            {
                others.add(c);
            }
        }
        for (final Completion c : fedInFlight)
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
            // Not while a thread feeds: a cancel seals the group while the mapping may be making a child that is
            // then counted; the feeding thread's caller looks again once it has stopped.
            if (!sealed || unsettled > 0 || feeding || isCompleted() || !isStarted())
            {
                return;
            }
            // Decided and marked completed in one hold of the lock: the start and a child's settling can race
            // here, and so can a cancel, which must either come first (and count in the result) or find the
            // group completed, never slip in between and say "cancelled" over a result that was not.
            markCompleted(aggregate(), children.size() + fedCount, false);
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
        // Fed children come after the added ones in the order added (feeding starts with the group).
        return firstFedFailurePlace != Long.MAX_VALUE ? firstFedFailureRes : sum + fedSum;
    }

    @Override
    void onCancel()
    {
        final List<Completion> toCancel;
        synchronized (this)
        {
            toCancel = new ArrayList<>(children);
            toCancel.addAll(fedInFlight);
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

    /**
     * Passes a cancel down again: a chain under this group runs its hard steps after the first cancel, and one
     * of them may block (a read nobody writes to); only a new cancel of the chain reaches it. Nothing new is
     * added to a cancelled group (its feed ended with the first cancel), so the children listed are all there is.
     */
    @Override
    boolean onCancelAgain()
    {
        boolean asked = false;
        for (final Completion child : children())
        {
            asked |= child.cancel();
        }
        return asked;
    }

    @Override
    public String toString()
    {
        return (anyOf ? "AnyOf" : "AllOf") + "@" + Integer.toHexString(System.identityHashCode(this));
    }
}
