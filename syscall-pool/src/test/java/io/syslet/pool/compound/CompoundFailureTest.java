package io.syslet.pool.compound;

import io.syslet.abi.AioException;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The compound layer when something goes wrong: callback paths that throw, races between cancel and start,
 * interceptors resumed early, graphs long enough to overflow a stack if each node were a frame. Every
 * case here once lost a completion, hung a node or threw out of poll.
 */
class CompoundFailureTest extends CompoundFixture
{
    @TempDir
    Path dir;

    @Test
    void aFeederThatThrowsLosesNoOtherCompletionOfTheBatch() throws Exception
    {
        final Iterator<Op> throwsOnSecond = new Iterator<>()
        {
            private int handedOut;

            @Override
            public boolean hasNext()
            {
                return true;
            }

            @Override
            public Op next()
            {
                if (handedOut++ == 1)
                {
                    throw new IllegalStateException("iterator failed");
                }
                return Op.nanosleep(20_000_000);
            }
        };
        final Group group = completions.allOf().feed(throwsOnSecond, 1, completions::op);
        group.start();
        final List<OpCompletion> others = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            others.add(completions.submit(Op.nanosleep(20_000_000)));
        }
        // The fed sleep and the three others end together: their events come in one batch, the fed one's settling
        // pulls the next element, which throws, in the middle of that batch.
        Thread.sleep(100);
        completions.runUntilSettled(group, 10, TimeUnit.SECONDS);
        for (final OpCompletion other : others)
        {
            completions.runUntilSettled(other, 10, TimeUnit.SECONDS);
            assertEquals(0, other.res(), other + " completed");
        }
        assertEquals(-Errno.ECANCELED, group.res(), "a failed feed ends as a cancel would");
        assertEquals(1, group.res2(), "one child fed before the iterator failed");
        assertEquals(List.of(), group.children(), "a settled fed child is let go");
        assertEquals(0, completions.pendingOps());
        assertEquals(List.of("iterator failed"), messages());
    }

    /**
     * A group settles on the thread that polls its last child's event. A cancel from another thread at that
     * moment used to find it not yet completed: it set the cancelled flag and returned true, while the group
     * completed with the result it had already worked out, so a failed all-of said it was cancelled but carried
     * its child's EBADF (found by CompoundGraphFuzzTest). Cancelled or not, the result must say which.
     */
    @Test
    void aCancelThatComesWhileAGroupSettlesEitherCancelsItOrFindsItCompleted() throws Exception
    {
        final CyclicBarrier go = new CyclicBarrier(2);
        final AtomicReference<Group> current = new AtomicReference<>();
        final AtomicBoolean canceledByCall = new AtomicBoolean();
        final java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        final int rounds = 20_000;
        final Thread canceller = new Thread(() ->
        {
            try
            {
                for (int round = 0; round < rounds; round++)
                {
                    go.await();
                    // The group settles just after its child completes: cancel then, a little later each round.
                    final Group group = current.get();
                    final Completion child = group.children().get(0);
                    while (!child.isCompleted())
                    {
                        Thread.onSpinWait();
                    }
                    for (int spin = random.nextInt(8); spin > 0; spin--)
                    {
                        Thread.onSpinWait();
                    }
                    canceledByCall.set(group.cancel());
                    go.await();
                }
            }
            catch (final Exception e)
            {
                throw new IllegalStateException(e);
            }
        });
        canceller.setDaemon(true);
        canceller.start();
        for (int round = 0; round < rounds; round++)
        {
            final Group group = completions.allOf();
            group.add(Op.close(999_999));
            current.set(group);
            group.start();
            go.await();
            completions.runUntilSettled(group, 10, TimeUnit.SECONDS);
            go.await(); // the cancel has returned
            final long expected = group.isCanceled() ? -Errno.ECANCELED : -Errno.EBADF;
            assertEquals(canceledByCall.get(), group.isCanceled(), "round " + round);
            assertEquals(expected, group.res(), "round " + round + ": cancelled " + group.isCanceled());
        }
        canceller.join();
        assertEquals(List.of(), messages());
    }

    @Test
    void aFeederMappingThatReturnsNullOrAnAdoptedNodeEndsTheFeed()
    {
        final Group owner = completions.allOf();
        final OpCompletion taken = owner.add(Op.nop());
        final Group adopter = completions.allOf().feed(List.of(0, 1, 2).iterator(), 4,
            i -> i == 0 ? completions.op(Op.nop()) : taken);
        adopter.start();
        completions.runUntilSettled(adopter, 10, TimeUnit.SECONDS);
        assertEquals(-Errno.ECANCELED, adopter.res());
        assertEquals(1, adopter.res2(), "the node that belongs to another group was not added");
        assertSame(owner, taken.parent());
        assertTrue(messages().get(0).contains("already belongs to"), messages().toString());

        reported.clear();
        final Group nulls = completions.allOf().feed(List.of(0).iterator(), 1, i -> null);
        nulls.start();
        completions.runUntilSettled(nulls, 10, TimeUnit.SECONDS);
        assertEquals(-Errno.ECANCELED, nulls.res());
        assertEquals(List.of("the feeder's mapping returned null"), messages());
    }

    @Test
    void anInterceptorRetryThatCompletesBeforeTheInterceptorReturnsResumesTheChain() throws Exception
    {
        final int fd = cachedFile();
        final List<String> order = Collections.synchronizedList(new ArrayList<>());
        final OpCompletion failing = completions.op(Op.close(999_999));
        failing.intercept(c ->
        {
            order.add("interceptor res=" + c.res());
            if (c.res() < 0)
            {
                // A cached pread completes inline, inside start(): its notifier resumes before this returns false.
                final OpCompletion retry = completions.op(Op.pread(fd, BufferRef.of(buffer, 0), 4096, 0));
                retry.notify(r ->
                {
                    c.result(r.res());
                    c.resume();
                });
                retry.start();
                return false;
            }
            return true;
        }).notify(c -> order.add("notifier res=" + c.res()));
        failing.start();
        completions.runUntilSettled(failing, 10, TimeUnit.SECONDS);
        assertEquals(4096, failing.res());
        assertEquals(List.of("interceptor res=" + -Errno.EBADF, "notifier res=4096"), order);
        assertEquals(List.of(), messages());
        assertThrows(IllegalStateException.class, failing::resume, "a settled chain is not stopped");
    }

    @Test
    void aLongChainAfterAFailedFirstStepSettlesWithoutGrowingTheStack()
    {
        final int steps = 20_000;
        final Chain chain = completions.chain(Op.close(999_999));
        for (int i = 0; i < steps; i++)
        {
            chain.then(previous -> Op.nop());
        }
        chain.start();
        completions.runUntilSettled(chain, 30, TimeUnit.SECONDS);
        assertEquals(-Errno.EBADF, chain.res());
        final List<Completion> all = chain.steps();
        assertEquals(steps + 1, all.size());
        assertTrue(all.subList(1, all.size()).stream().allMatch(s -> s.res() == -Errno.ECANCELED),
            "every step after the failed one is cancelled");
        assertEquals(List.of(), messages());
    }

    @Test
    void aFeedOfInlineCompletionsSettlesWithoutGrowingTheStack() throws Exception
    {
        final int fd = cachedFile();
        final int reads = 20_000;
        final Group group = completions.allOf().feed(IntStream.range(0, reads).iterator(), 4,
            i -> completions.submit(Op.pread(fd, BufferRef.of(buffer, 0), 4096, 0)));
        group.start();
        completions.runUntilSettled(group, 60, TimeUnit.SECONDS);
        assertEquals((long)reads * 4096, group.res());
        assertEquals(reads, group.res2());
        assertEquals(List.of(), messages());
    }

    @Test
    void aCancelRacingStartEitherCancelsTheOpOrSaysItCouldNot() throws Exception
    {
        int lost = 0;
        int canceled = 0;
        try (BackgroundReaper reaper = new BackgroundReaper(completions, 1, 5_000_000))
        {
            for (int i = 0; i < 400; i++)
            {
                // Long enough that a cancel the engine saw always lands while it sleeps.
                final OpCompletion sleep = completions.op(Op.nanosleep(TimeUnit.SECONDS.toNanos(2)));
                final CyclicBarrier together = new CyclicBarrier(2);
                final int spins = (i * 37) % 400;
                final AtomicBoolean answer = new AtomicBoolean();
                final Thread canceller = new Thread(() ->
                {
                    await(together);
                    for (int k = 0; k < spins; k++)
                    {
                        Thread.onSpinWait();
                    }
                    answer.set(sleep.cancel());
                });
                canceller.start();
                await(together);
                sleep.start();
                canceller.join();
                sleep.awaitSettled(10_000);
                assertTrue(answer.get(), "nothing else completes or cancels it");
                if (sleep.res() == -Errno.ECANCELED)
                {
                    canceled++;
                }
                else
                {
                    lost++;
                }
            }
        }
        assertEquals(0, lost, "cancel() said yes, but the op ran on (" + canceled + " cancelled)");
        assertEquals(List.of(), messages());
    }

    @Test
    void aChainCancelledWhileItsBuilderRunsCancelsTheStepTheBuilderMade() throws Exception
    {
        final int[] pipe = pipe();
        final CountDownLatch inBuilder = new CountDownLatch(1);
        final CountDownLatch cancelled = new CountDownLatch(1);
        final Chain chain = completions.chain(Op.nop()).then(previous ->
        {
            inBuilder.countDown();
            await(cancelled);
            return Op.read(pipe[0], BufferRef.of(buffer, 0), 1); // would block: nobody writes
        });
        assertTrue(startAndCancelWhileABuilderRuns(chain, inBuilder, cancelled));
        assertEquals(-Errno.ECANCELED, chain.res());
        assertEquals(-Errno.ECANCELED, chain.steps().get(1).res(), "the pipe read never ran");
    }

    @Test
    void aChainStepBuilderThatThrowsOrHandsBackAnAdoptedNodeCancelsTheRest()
    {
        final Group owner = completions.allOf();
        final OpCompletion taken = owner.add(Op.nop());
        final Chain adopted = completions.chain(Op.nop()).thenNode(previous -> taken).then(previous -> Op.nop());
        adopted.start();
        completions.runUntilSettled(adopted, 10, TimeUnit.SECONDS);
        assertEquals(List.of(0L, (long)-Errno.ECANCELED, (long)-Errno.ECANCELED), results(adopted));
        assertSame(owner, taken.parent());
        assertTrue(messages().get(0).contains("already belongs to"), messages().toString());

        reported.clear();
        final Chain throwing = completions.chain(Op.nop()).then(previous ->
        {
            throw new IllegalArgumentException("no op for you");
        }).thenHard(previous -> Op.nop());
        throwing.start();
        completions.runUntilSettled(throwing, 10, TimeUnit.SECONDS);
        assertEquals(List.of(0L, (long)-Errno.ECANCELED, 0L), results(throwing), "a hard link still runs");
        assertEquals(List.of("no op for you"), messages());
    }

    @Test
    void aRejectedAddLeavesTheGroupWhole()
    {
        final Group owner = completions.allOf();
        final OpCompletion taken = owner.add(Op.nop());
        final Group other = completions.allOf();
        other.add(Op.nop());
        assertThrows(IllegalStateException.class, () -> other.add(taken));
        assertEquals(1, other.children().size());
        other.start();
        owner.start();
        completions.runUntilSettled(other, 10, TimeUnit.SECONDS);
        completions.runUntilSettled(owner, 10, TimeUnit.SECONDS);
        assertEquals(0, other.res());
        assertEquals(0, owner.res());
    }

    @Test
    void anOpThatCannotBeEncodedCompletesWithEinvalAndSaysWhy()
    {
        final OpCompletion tooMany = completions.submit(Op.nop().withAttributes(new int[2000]));
        completions.runUntilSettled(tooMany, 10, TimeUnit.SECONDS);
        assertEquals(-Errno.EINVAL, tooMany.res());
        assertEquals(0, completions.pendingOps());
        assertTrue(messages().get(0).contains("exceed the maximum"), messages().toString());
    }

    @Test
    void waitingInsideACallbackIsRefusedWithAReason()
    {
        assertWaitingInsideACallbackIsRefused(completions);
        // On a delayed executor a callback runs outside any dispatch, but the completions it would wait for queue
        // behind it on that executor: refused all the same.
        final ExecutorService executor = Executors.newSingleThreadExecutor();
        try
        {
            assertWaitingInsideACallbackIsRefused(new Completions(context, executor, (node, error) -> reported.add(error)));
        }
        finally
        {
            executor.shutdownNow();
        }
    }

    private static void assertWaitingInsideACallbackIsRefused(final Completions completions)
    {
        final AtomicReference<Throwable> refusal = new AtomicReference<>();
        final AtomicReference<OpCompletion> submittedInside = new AtomicReference<>();
        final OpCompletion outer = completions.op(Op.nanosleep(1000));
        outer.notify(c ->
        {
            final OpCompletion inner = completions.submit(Op.nanosleep(1000));
            submittedInside.set(inner);
            try
            {
                completions.runUntilSettled(inner, 1, TimeUnit.SECONDS);
            }
            catch (final IllegalStateException e)
            {
                refusal.set(e);
            }
        });
        outer.start();
        completions.runUntilSettled(outer, 10, TimeUnit.SECONDS);
        assertNotNull(refusal.get());
        assertTrue(refusal.get().getMessage().contains("inside a callback"), refusal.get().getMessage());
        completions.runUntilSettled(submittedInside.get(), 10, TimeUnit.SECONDS);
        assertEquals(0, submittedInside.get().res(), "waiting outside the callback works");
    }

    @Test
    void aDelayedExecutorThatRejectsRunsTheChainOnTheReaperAndSaysSo()
    {
        final ExecutorService executor = Executors.newSingleThreadExecutor();
        executor.shutdown();
        final Completions onDeadExecutor = new Completions(context, executor, (node, error) -> reported.add(error));
        final AtomicReference<Thread> ranOn = new AtomicReference<>();
        final OpCompletion sleep = onDeadExecutor.op(Op.nanosleep(1000));
        sleep.notify(c -> ranOn.set(Thread.currentThread()));
        sleep.start();
        onDeadExecutor.runUntilSettled(sleep, 10, TimeUnit.SECONDS);
        assertSame(Thread.currentThread(), ranOn.get());
        assertEquals(1, reported.size());
        assertInstanceOf(RejectedExecutionException.class, reported.get(0));
    }

    @Test
    void anErrorHandlerThatThrowsDoesNotStopTheGraph()
    {
        final Completions throwingHandler = new Completions(context, null, (node, error) ->
        {
            throw new IllegalStateException("handler broke");
        });
        final OpCompletion node = throwingHandler.op(Op.nop());
        node.notify(c ->
        {
            throw new IllegalArgumentException("callback broke");
        });
        final AtomicBoolean laterNotifier = new AtomicBoolean();
        node.notify(c -> laterNotifier.set(true));
        node.start();
        throwingHandler.runUntilSettled(node, 10, TimeUnit.SECONDS);
        assertTrue(laterNotifier.get());
    }

    /**
     * A cancel ends a feed before its iterator does, so the group did not do all it was given: it must not end
     * with a success. It did, for an all-of: res 0 if cancelled before start (no child ran), or the sum of the
     * children in flight if they finished anyway (a callable that ignores its interrupt), against a failed feed,
     * which ends as a cancel (-ECANCELED). Found reading Group.aggregate.
     */
    @Test
    void aFeedCutShortByACancelEndsAsACancelNotAsASuccess()
    {
        final Group unstarted = completions.allOf().feed(List.of(Op.nop(), Op.nop()).iterator(), 1, completions::op);
        assertTrue(unstarted.cancel());
        completions.runUntilSettled(unstarted, 10, TimeUnit.SECONDS);
        assertEquals(0, unstarted.children().size(), "nothing was fed");
        assertEquals(-Errno.ECANCELED, unstarted.res(), "a feed cancelled before start did none of its work");

        final CountDownLatch running = new CountDownLatch(1);
        final Group started = completions.allOf().feed(IntStream.range(0, 100).iterator(), 1,
            i -> completions.op(Op.call(() ->
            {
                running.countDown();
                final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30);
                while (System.nanoTime() - end < 0)
                {
                    Thread.onSpinWait(); // deaf to the cancel's interrupt: finishes with its own result
                }
                return 1L;
            })));
        started.start();
        await(running);
        final Completion inFlight = started.children().get(0);
        assertTrue(started.cancel());
        completions.runUntilSettled(started, 10, TimeUnit.SECONDS);
        assertEquals(1, started.res2(), "one element fed");
        assertEquals(1, inFlight.res(), "the child in flight finished on its own");
        assertEquals(-Errno.ECANCELED, started.res(), "99 of the 100 elements were never fed");
        assertEquals(List.of(), messages());
    }

    /**
     * A fed group pulled from its feeder as soon as a child settled, started or not: a child cancelled (or
     * started on its own) before the group's start() started the feed, so ops ran for a group nobody started.
     * Found reading Group.feedMore, which did not look at isStarted().
     */
    @Test
    void aFedGroupPullsNothingFromItsFeederBeforeItStarts()
    {
        final AtomicInteger pulled = new AtomicInteger();
        final Group group = completions.allOf().feed(IntStream.range(0, 3).iterator(), 2, i ->
        {
            pulled.incrementAndGet();
            return completions.op(Op.nop());
        });
        final OpCompletion child = group.add(Op.nop());
        assertTrue(child.cancel());
        assertTrue(child.isSettled(), "a node cancelled before it started settles at once");
        assertEquals(0, pulled.get(), "the feeder ran for a group that was not started");
        assertFalse(group.isCompleted());
        group.start();
        completions.runUntilSettled(group, 10, TimeUnit.SECONDS);
        assertEquals(3, pulled.get());
        assertEquals(4, group.res2(), "one child added, three fed");
        assertEquals(List.of(child), group.children(), "the added child is kept, the settled fed ones let go");
        assertEquals(-Errno.ECANCELED, group.res(), "the cancelled child is the all-of's failure");
    }

    /**
     * Destroy loses the events still in the ring and makes getevents fail with EBADF, so the ops this layer
     * had in flight never heard back: their nodes never settled, a future(...) never completed (a get() without
     * a timeout hung), and each poll threw without a word about them. Found asking what a future does when
     * the context goes away under it.
     */
    @Test
    void destroyingTheContextCompletesThePendingOpsAndTheirFutures() throws Exception
    {
        final int[] pipe = pipe();
        final CompletableFuture<Long> future = completions.future(Op.read(pipe[0], BufferRef.of(buffer, 0), 1));
        final Chain chain = completions.chain(Op.read(pipe[0], BufferRef.of(buffer, 8), 1))
            .thenHard(previous -> Op.nop());
        chain.start();
        assertEquals(2, completions.pendingOps());
        context.close();
        final AioException destroyed = assertThrows(AioException.class, () -> completions.poll(0, 0));
        assertEquals(Errno.EBADF, destroyed.errno());
        final ExecutionException failed = assertThrows(ExecutionException.class, () -> future.get(1, TimeUnit.SECONDS));
        assertInstanceOf(AioException.class, failed.getCause());
        assertEquals(Errno.EBADF, ((AioException)failed.getCause()).errno());
        completions.runUntilSettled(chain, 1, TimeUnit.SECONDS); // settled: returns, does not throw
        assertEquals(List.of((long)-Errno.EBADF, (long)-Errno.EBADF), results(chain),
            "the read's event was lost with the ring; the hard step could not be submitted");
        assertEquals(0, completions.pendingOps());

        // A cancel after destroy threw the context's EBADF out of cancel(); it finds nothing left to cancel now, and
        // the op completes as above.
        try (SysletContext other = SysletContext.setup(new SetupParams()))
        {
            final Completions onOther = new Completions(other, null, (node, error) -> reported.add(error));
            final OpCompletion read = onOther.submit(Op.read(pipe[0], BufferRef.of(other.registerBuffer(memory), 0), 1));
            assertFalse(read.isCompleted(), "nobody writes to the pipe");
            other.close();
            assertTrue(read.cancel());
            assertTrue(read.isSettled());
            assertEquals(-Errno.EBADF, read.res());
            assertEquals(0, onOther.pendingOps());
        }
        assertEquals(List.of(), messages());
    }

    /**
     * future(op) gave back a future whose cancel() did nothing to the op: a pipe read nobody writes to stayed
     * in flight (a worker and a place in the in-flight limit) for good. Found cancelling a future.
     */
    @Test
    void cancellingAFutureCancelsItsOp()
    {
        final int[] pipe = pipe();
        final CompletableFuture<Long> future = completions.future(Op.read(pipe[0], BufferRef.of(buffer, 0), 1));
        assertTrue(future.cancel(true));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (completions.pendingOps() > 0 && System.nanoTime() - deadline < 0)
        {
            completions.poll(1, TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertEquals(0, completions.pendingOps(), "the read went on after its future was cancelled");
        assertEquals(0, context.inFlight());
        assertTrue(future.isCancelled());
        assertEquals(List.of(), messages());
    }

    /**
     * A fed group lets each child go once it has settled and counted, so a feed of any length holds memory for
     * its limit: children() never lists more than the limit of fed children, and what the result needs of the
     * ones let go (their sum, the first failure in feed order) is kept as numbers. Before, the group kept every
     * fed child with its event until it was dropped itself: the CLI's trace fed its files in batches to bound it.
     */
    @Test
    void aFedGroupKeepsOnlyItsChildrenInFlightAndStillReportsTheFirstFailureInFeedOrder()
    {
        final int limit = 4;
        final AtomicInteger mostListed = new AtomicInteger();
        final Group[] self = new Group[1];
        final Group nops = completions.allOf().feed(IntStream.range(0, 20_000).iterator(), limit, i ->
        {
            mostListed.accumulateAndGet(self[0].children().size(), Math::max);
            return completions.op(Op.call(() -> 1L));
        });
        self[0] = nops;
        nops.start();
        completions.runUntilSettled(nops, 60, TimeUnit.SECONDS);
        assertEquals(20_000, nops.res(), "the sum of every fed child's result");
        assertEquals(20_000, nops.res2(), "every fed child counted");
        assertTrue(mostListed.get() <= limit, "fed children listed at once: " + mostListed.get());
        assertEquals(List.of(), nops.children(), "none kept once settled");

        // Element 0 fails last, element 2 first: the all-of's result is element 0's, the first in feed order.
        final CountDownLatch release = new CountDownLatch(1);
        final Group failing = completions.allOf().feed(IntStream.range(0, 3).iterator(), 3, i ->
            completions.op(Op.call(() ->
            {
                if (i == 0)
                {
                    release.await(10, TimeUnit.SECONDS);
                    return (long)-Errno.EIO;
                }
                return i == 2 ? (long)-Errno.ENOENT : 0L;
            })));
        failing.start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (failing.failures() == 0 && System.nanoTime() - deadline < 0)
        {
            completions.poll(1, TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertEquals(1, failing.failures(), "element 2 failed while element 0 still ran");
        release.countDown();
        completions.runUntilSettled(failing, 10, TimeUnit.SECONDS);
        assertEquals(2, failing.failures());
        assertEquals(-Errno.EIO, failing.res(), "the first failure in feed order, not the first to settle");
        assertEquals(List.of(), messages());
    }

    /**
     * The feeder is the caller's code and may block: a hasNext() that waits for work used to hold the group's
     * lock while it waited, so a cancel() (or isSettled(), res()) from another thread waited with it.
     */
    @Test
    void aFeederWaitingForWorkDoesNotHoldUpACancelFromAnotherThread() throws Exception
    {
        final CountDownLatch waiting = new CountDownLatch(1);
        final CountDownLatch work = new CountDownLatch(1);
        final Iterator<Op> waitsForWork = new Iterator<>()
        {
            @Override
            public boolean hasNext()
            {
                waiting.countDown();
                try
                {
                    work.await(30, TimeUnit.SECONDS);
                }
                catch (final InterruptedException e)
                {
                    Thread.currentThread().interrupt();
                }
                return false;
            }

            @Override
            public Op next()
            {
                throw new java.util.NoSuchElementException();
            }
        };
        final Group group = completions.allOf().feed(waitsForWork, 2, completions::op);
        final Thread starter = new Thread(group::start, "starts-the-feed");
        starter.start();
        await(waiting);
        final Thread canceller = new Thread(() -> assertTrue(group.cancel()), "cancels-the-group");
        canceller.start();
        canceller.join(TimeUnit.SECONDS.toMillis(10));
        final boolean cancelWaited = canceller.isAlive();
        work.countDown();
        starter.join(TimeUnit.SECONDS.toMillis(10));
        canceller.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(cancelWaited, "cancel() waited for the feeder's hasNext()");
        completions.runUntilSettled(group, 10, TimeUnit.SECONDS);
        assertEquals(-Errno.ECANCELED, group.res());
        assertEquals(List.of(), messages());
    }

    /**
     * A cancel that comes while the mapping makes a child (the feed runs without the group's lock) seals the
     * group, but the group must not settle before the child it is about to count: it used to, with no child in
     * flight, and the child then joined a group already settled (found by CompoundGraphFuzzTest, whose input
     * does not replay the timing; this does).
     */
    @Test
    void aGroupCancelledWhileItsMappingMakesAChildSettlesOnlyAfterThatChild() throws Exception
    {
        final CountDownLatch mapping = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<Completion> settled = Collections.synchronizedList(new ArrayList<>());
        final Completion[] made = new Completion[1];
        final Group group = completions.allOf().feed(List.of(1).iterator(), 1, i ->
        {
            mapping.countDown();
            await(release);
            made[0] = completions.op(Op.nop()).notify(settled::add);
            return made[0];
        });
        group.notify(settled::add);
        final Thread starter = new Thread(group::start, "feeds");
        starter.start();
        await(mapping);
        assertTrue(group.cancel());
        assertFalse(group.isSettled(), "settled while its mapping was still making a child");
        release.countDown();
        starter.join(TimeUnit.SECONDS.toMillis(10));
        completions.runUntilSettled(group, 10, TimeUnit.SECONDS);
        assertEquals(List.of(made[0], group), settled, "the child settles first, then the group");
        assertEquals(-Errno.ECANCELED, group.res());
        assertEquals(1, group.res2(), "the child made is counted");
        assertEquals(List.of(), messages());
    }

    /**
     * The feeding thread runs the mapping without the group's lock, so an any-of's winner can be decided on
     * another thread while the mapping makes the next child. That child must be cancelled like the other
     * losers: started, a read nobody writes to kept the any-of from ever settling.
     */
    @Test
    void aChildMappedWhileAnAnyOfFoundItsWinnerIsCancelledNotStarted() throws Exception
    {
        final int[] pipe = pipe();
        final Group[] self = new Group[1];
        final AtomicReference<Completion> late = new AtomicReference<>();
        // The winner waits until the feed maps the second child: decided earlier (the feeding thread preempted
        // after starting the first), it ends the feed before there is a second child to cancel.
        final CountDownLatch mappingTheSecond = new CountDownLatch(1);
        final Group group = completions.anyOf().feed(IntStream.range(0, 2).iterator(), 2, i ->
        {
            if (i == 0)
            {
                return completions.op(Op.call(() -> mappingTheSecond.await(10, TimeUnit.SECONDS) ? 7L : -1L));
            }
            mappingTheSecond.countDown();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (self[0].winner() == null && System.nanoTime() - deadline < 0)
            {
                Thread.onSpinWait();
            }
            late.set(completions.op(Op.read(pipe[0], BufferRef.of(buffer, 0), 1)));
            return late.get();
        });
        self[0] = group;
        try (BackgroundReaper reaper = new BackgroundReaper(completions, 1, TimeUnit.MILLISECONDS.toNanos(10)))
        {
            group.start();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!group.isSettled() && System.nanoTime() - deadline < 0)
            {
                Thread.sleep(1);
            }
        }
        assertTrue(group.isSettled(), "the child mapped after the winner still runs: " + late.get());
        assertEquals(7, group.res());
        assertEquals(-Errno.ECANCELED, late.get().res());
        assertEquals(List.of(), messages());
    }

    /**
     * A node under itself waits for its own settling: such a graph used to hang without a word. add() now
     * refuses it, naming the node, and leaves both groups as they were.
     */
    @Test
    void aNodeCannotBeAddedUnderItself()
    {
        final Group outer = completions.allOf();
        final Group inner = completions.allOf();
        outer.add(inner);
        final String own = assertThrows(IllegalStateException.class, () -> outer.add(outer)).getMessage();
        assertTrue(own.contains("its own child"), own);
        final String cycle = assertThrows(IllegalStateException.class, () -> inner.add(outer)).getMessage();
        assertTrue(cycle.contains("cycle"), cycle);
        assertEquals(List.of(inner), outer.children());
        assertEquals(List.of(), inner.children());
        outer.start();
        completions.runUntilSettled(outer, 10, TimeUnit.SECONDS);
        assertEquals(0, outer.res());
    }

    private static void await(final CyclicBarrier barrier)
    {
        try
        {
            barrier.await(10, TimeUnit.SECONDS);
        }
        catch (final Exception e)
        {
            throw new IllegalStateException(e);
        }
    }

    /** Opens a 4 KiB file whose page is in the cache, so that a pread of it completes inline. */
    private int cachedFile() throws Exception
    {
        final Path file = Files.write(dir.resolve("hot"), new byte[4096]);
        final byte[] path = (file + "\0").getBytes(StandardCharsets.UTF_8);
        final int at = 512 * 1024;
        memory.putBytes(at, path);
        final int fd = LIBC.openat(Natives.AT_FDCWD, memory.addressOffset() + at, Natives.O_RDONLY, 0);
        assertTrue(fd >= 0);
        fds.add(fd);
        assertEquals(4096, LIBC.pread(fd, memory.addressOffset(), 4096, 0));
        return fd;
    }
}
