package io.syslet.tests.compound;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import io.syslet.pool.compound.Chain;
import io.syslet.pool.compound.Completion;
import io.syslet.pool.compound.Completions;
import io.syslet.pool.compound.Group;
import io.syslet.pool.compound.Op;
import io.syslet.pool.compound.OpCompletion;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes random trees of groups (all-of, any-of, fed), linked chains and real ops (nop, short sleeps,
 * preads of a real file, full and short, reads of a pipe that never gets data, ops that fail with EBADF or
 * ENOSYS), with random cancels. Whatever the shape: every op's chain runs exactly once, every parent
 * settles after all its children, every group's result is what its rule says, and every chain ran the steps its
 * rule says (a hard step always, a soft one only after a full success) and ended with its first failure or
 * its last step's result.
 *
 * <p>A tree that has not settled after a while is cancelled from the root, again each time it comes to rest
 * unsettled, and nothing may hang: a chain's hard steps run after a cancel (they are its cleanup), and a hard
 * read of the pipe blocks until a later cancel reaches it. At rest (every op in flight is a pipe read nobody
 * cancelled, every chain waits on one), each cancel from the root stops every read in flight, and each chain
 * then runs on to its next hard pipe read, or to its end. So the root settles after exactly 1 + the most hard
 * pipe reads that any one chain has left after the step it waits on, and never after more than 1 + its number
 * of hard steps.
 *
 * <p>Regression inputs: {@code src/test/resources/io/syslet/tests/compound/CompoundGraphFuzzTestInputs/};
 * the {@code fuzz-compound} execution fuzzes for 30 s in {@code mvn verify}.
 */
final class CompoundGraphFuzzTest
{
    private static final int FILE_LENGTH = 1000;

    private static SysletContext context;
    private static Completions completions;
    private static UnsafeBuffer memory;
    private static int buffer;
    private static int fileFd;
    private static int[] pipe;
    private static Path file;
    private static final Queue<Throwable> callbackFailures = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void setUp() throws IOException
    {
        context = SysletContext.setup(new SetupParams().maxInFlight(4096).unboundedWorkers(512));
        // Collected, not failed in place: the layer reports what a handler throws and goes on.
        completions = new Completions(context, null, (c, t) -> callbackFailures.add(t));
        memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 20, 4096));
        buffer = context.registerBuffer(memory);
        file = Files.createTempFile("syslet-compound", ".bin");
        Files.write(file, new byte[FILE_LENGTH]);
        final byte[] path = (file + "\0").getBytes(StandardCharsets.UTF_8);
        memory.putBytes(0, path);
        fileFd = LIBC.openat(Natives.AT_FDCWD, memory.addressOffset(), Natives.O_RDONLY | Natives.O_CLOEXEC, 0);
        pipe = new int[2];
        assertEquals(0, LIBC.pipe2(pipe, Natives.O_CLOEXEC));
    }

    @AfterAll
    static void tearDown() throws IOException
    {
        context.close();
        LIBC.close(fileFd);
        LIBC.close(pipe[0]);
        LIBC.close(pipe[1]);
        Files.deleteIfExists(file);
    }

    @FuzzTest(maxDuration = "30s")
    void everyOpCompletesOnceAndParentsAfterChildren(final FuzzedDataProvider data)
    {
        new GraphRun(new Choices()
        {
            @Override
            public int pick(final int bound)
            {
                return data.consumeInt(0, bound - 1);
            }
        }).run();
    }

    @Test
    void seededGraphs()
    {
        for (int seed = 0; seed < 80; seed++)
        {
            final SplittableRandom random = new SplittableRandom(seed);
            try
            {
                new GraphRun(random::nextInt).run();
            }
            catch (final AssertionError e)
            {
                throw new AssertionError("graph with seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    interface Choices
    {
        int pick(int bound);
    }

    private static final class GraphRun
    {
        private final Choices choices;
        // Synchronized: the canceller thread runs notifiers (of nodes it cancels before they start) and feeders.
        private final Map<Completion, Integer> settleOrder = Collections.synchronizedMap(new IdentityHashMap<>());
        private final Map<Completion, AtomicInteger> runs = Collections.synchronizedMap(new IdentityHashMap<>());
        private final List<Completion> nodes = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger settled = new AtomicInteger();
        /** Each chain's ops in step order, and which steps are hard: what the chain's rule is checked against. */
        private final Map<Chain, List<Op>> chainOps = new IdentityHashMap<>();
        private final Map<Chain, List<Boolean>> chainHard = new IdentityHashMap<>();
        /**
         * Each fed group's children in feed order: the group lets a fed child go once it has settled, so its
         * children() no longer lists them, and the model keeps them to check its result against.
         */
        private final Map<Group, List<Completion>> fedChildren = Collections.synchronizedMap(new IdentityHashMap<>());
        /** Reads of the pipe nobody writes to: they end only when cancelled. */
        private final Map<Op, Boolean> blocking = new IdentityHashMap<>();
        private int hardSteps;
        private int budget = 40;

        GraphRun(final Choices choices)
        {
            this.choices = choices;
        }

        void run()
        {
            callbackFailures.clear();
            final Completion root = node(0);
            // Sometimes a node is cancelled from another thread while this one starts the tree and reaps: the
            // cancel can meet an op between submit and queue, a chain between two steps, a feed mid-way.
            final Thread canceller = choices.pick(3) == 0 && !nodes.isEmpty() ?
                new Thread(nodes.get(choices.pick(nodes.size()))::cancel, "canceller") : null;
            if (canceller != null)
            {
                canceller.start();
            }
            root.start();
            if (choices.pick(4) == 0 && !nodes.isEmpty())
            {
                nodes.get(choices.pick(nodes.size())).cancel();
            }
            try
            {
                completions.runUntilSettled(root, 100, TimeUnit.MILLISECONDS);
            }
            catch (final IllegalStateException stillRunning)
            {
                // Joined first: a random cancel landing among the counted ones would take a read off the count.
                if (canceller != null)
                {
                    join(canceller);
                }
                cancelUntilSettled(root); // a pipe read nobody cancelled keeps it open: cancel from the top
            }
            if (canceller != null)
            {
                join(canceller);
            }
            assertTrue(callbackFailures.isEmpty(), () -> "a callback threw: " + callbackFailures);
            for (final Completion node : nodes)
            {
                assertTrue(node.isSettled(), node + " never settled");
                assertEquals(1, runs.get(node).get(), node + " ran its chain " + runs.get(node).get() + " times");
            }
            checkOrderAndResults(root);
            assertEquals(0, completions.pendingOps(), "ops left without events");
        }

        private Completion node(final int depth)
        {
            budget--;
            final int kind = depth >= 3 || budget <= 0 ? 0 : choices.pick(6);
            final Completion node;
            switch (kind)
            {
                case 1:
                case 2:
                {
                    final Group group = kind == 1 ? completions.allOf() : completions.anyOf();
                    final int children = 1 + choices.pick(4);
                    for (int i = 0; i < children; i++)
                    {
                        group.add(node(depth + 1));
                    }
                    node = group;
                    break;
                }
                case 3:
                {
                    final List<Op> ops = new ArrayList<>();
                    final int count = choices.pick(12);
                    for (int i = 0; i < count; i++)
                    {
                        ops.add(quickOp());
                    }
                    final Group fed = completions.allOf();
                    final List<Completion> fedSoFar = Collections.synchronizedList(new ArrayList<>());
                    fedChildren.put(fed, fedSoFar);
                    fed.feed(ops.iterator(), 1 + choices.pick(4), op ->
                    {
                        final Completion child = track(completions.op(op));
                        fedSoFar.add(child);
                        return child;
                    });
                    node = fed;
                    break;
                }
                case 4:
                {
                    final Op first = leafOp();
                    final Chain chain = completions.chain(first);
                    final List<Op> ops = new ArrayList<>(List.of(first));
                    final List<Boolean> hard = new ArrayList<>(List.of(false));
                    final int steps = choices.pick(4);
                    for (int i = 0; i < steps; i++)
                    {
                        final Op next = leafOp();
                        ops.add(next);
                        if (choices.pick(3) == 0)
                        {
                            chain.thenHard(previous -> next);
                            hard.add(true);
                            hardSteps++;
                        }
                        else
                        {
                            chain.then(previous -> next);
                            hard.add(false);
                        }
                    }
                    chainOps.put(chain, ops);
                    chainHard.put(chain, hard);
                    node = chain;
                    break;
                }
                default:
                    node = completions.op(leafOp());
            }
            return track(node);
        }

        /**
         * Cancels the root each time the tree comes to rest unsettled, and checks it takes as many cancels as the
         * chains' hard pipe reads say: one for the reads in flight, then one for each hard pipe read left in the
         * chain that has the most.
         */
        private void cancelUntilSettled(final Completion root)
        {
            int cancels = 0;
            int needed = -1;
            while (true)
            {
                final int left = cancelsToSettleAtRest(root);
                if (left == 0)
                {
                    break;
                }
                if (needed < 0)
                {
                    needed = left;
                }
                else
                {
                    assertEquals(needed - cancels, left, "cancels left after " + cancels + " of " + needed);
                }
                assertTrue(root.cancel(), "a cancel at rest reaches the reads in flight");
                cancels++;
            }
            assertTrue(needed < 0 || cancels == needed, "settled after " + cancels + " cancels, not " + needed);
            assertTrue(cancels <= hardSteps + 1, cancels + " cancels for " + hardSteps + " hard steps");
        }

        /**
         * Polls until the tree settles or comes to rest: nothing in it can move without a cancel.
         *
         * @return 0 once the root has settled; at rest, how many cancels from the root it takes to settle it.
         */
        private int cancelsToSettleAtRest(final Completion root)
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!root.isSettled())
            {
                final int[] reads = new int[1];
                final int[] hardReadsLeft = new int[1];
                if (atRest(root, reads, hardReadsLeft) && completions.pendingOps() == reads[0])
                {
                    return 1 + hardReadsLeft[0];
                }
                assertTrue(System.nanoTime() - deadline < 0, root + " neither settled nor came to rest");
                completions.poll(0, TimeUnit.MILLISECONDS.toNanos(1));
            }
            return 0;
        }

        /**
         * @param reads         counts the pipe reads in flight (all submitted once the pending count matches).
         * @param hardReadsLeft the most hard pipe reads any chain has after the step it waits on.
         * @return true if every unsettled op under {@code node} is a pipe read nobody cancelled, every unsettled
         * chain waits on its step in flight, and every unsettled group on a child.
         */
        private boolean atRest(final Completion node, final int[] reads, final int[] hardReadsLeft)
        {
            if (node.isSettled())
            {
                return true;
            }
            if (node instanceof OpCompletion)
            {
                reads[0]++;
                return blocking.containsKey(((OpCompletion)node).op()) && !node.isCompleted() && !node.isCanceled();
            }
            if (node instanceof Chain)
            {
                final Chain chain = (Chain)node;
                final List<Completion> steps = chain.steps();
                if (steps.isEmpty() || steps.get(steps.size() - 1).isSettled())
                {
                    return false; // between two steps
                }
                final List<Op> ops = chainOps.get(chain);
                final List<Boolean> hard = chainHard.get(chain);
                int left = 0;
                for (int i = steps.size(); i < ops.size(); i++)
                {
                    left += hard.get(i) && blocking.containsKey(ops.get(i)) ? 1 : 0;
                }
                hardReadsLeft[0] = Math.max(hardReadsLeft[0], left);
                return atRest(steps.get(steps.size() - 1), reads, hardReadsLeft);
            }
            boolean waiting = false;
            for (final Completion child : ((Group)node).children())
            {
                if (!atRest(child, reads, hardReadsLeft))
                {
                    return false;
                }
                waiting |= !child.isSettled();
            }
            return waiting;
        }

        private static void join(final Thread thread)
        {
            try
            {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            }
            catch (final InterruptedException e)
            {
                throw new AssertionError(e);
            }
            assertTrue(!thread.isAlive(), "the canceller is stuck");
        }

        private Completion track(final Completion node)
        {
            nodes.add(node);
            runs.put(node, new AtomicInteger());
            node.notify(done ->
            {
                runs.get(done).incrementAndGet();
                settleOrder.put(done, settled.incrementAndGet());
            });
            return node;
        }

        private Op quickOp()
        {
            switch (choices.pick(4))
            {
                case 0: return Op.nop();
                case 1: return Op.nanosleep(choices.pick(200_000));
                case 2: return Op.pread(fileFd, BufferRef.of(buffer, 4096), 1 + choices.pick(FILE_LENGTH), 0);
                default: return Op.pread(-5 - choices.pick(3), BufferRef.of(buffer, 4096), 10, 0);
            }
        }

        private Op leafOp()
        {
            switch (choices.pick(7))
            {
                case 0: return Op.pread(fileFd, BufferRef.of(buffer, 4096), 100, FILE_LENGTH - choices.pick(200));
                case 1:
                {
                    final Op read = Op.read(pipe[0], BufferRef.of(buffer, 8192), 1);
                    blocking.put(read, true);
                    return read;
                }
                case 2: return Op.of(3000 + choices.pick(100), 0, 0, 0, 0, 0, 0);
                default: return quickOp();
            }
        }

        private void checkOrderAndResults(final Completion node)
        {
            final List<Completion> children = fedChildren.containsKey(node) ? List.copyOf(fedChildren.get(node)) :
                node instanceof Group ? ((Group)node).children() : node instanceof Chain ? ((Chain)node).steps() :
                List.of();
            if (fedChildren.containsKey(node) && node.isSettled())
            {
                assertEquals(List.of(), ((Group)node).children(), "a settled fed group lets its fed children go");
                assertEquals(children.size(), node.res2(), "a fed group counts every child it had");
            }
            for (final Completion child : children)
            {
                if (settleOrder.containsKey(child))
                {
                    assertTrue(settleOrder.get(child) < settleOrder.get(node), child + " settled after its parent " + node);
                }
                checkOrderAndResults(child);
            }
            if (node instanceof Chain)
            {
                checkChain((Chain)node, children);
            }
            if (node instanceof Group)
            {
                final Group group = (Group)node;
                int failures = 0;
                long firstFailure = 0;
                long sum = 0;
                for (final Completion child : children)
                {
                    if (child.res() < 0)
                    {
                        failures++;
                        firstFailure = firstFailure == 0 ? child.res() : firstFailure;
                    }
                    else
                    {
                        sum += child.res();
                    }
                }
                assertEquals(failures, group.failures(), "failures of " + group);
                if (group.isAnyOf())
                {
                    if (group.winner() != null)
                    {
                        assertTrue(group.winner().res() >= 0);
                        assertEquals(group.winner().res(), group.res());
                    }
                    else if (!group.isCanceled())
                    {
                        assertEquals(children.isEmpty() ? 0 : firstFailure, group.res(), "any-of with no winner");
                    }
                }
                else if (!group.isCanceled())
                {
                    assertEquals(failures == 0 ? sum : firstFailure, group.res(), "all-of result of " + group);
                }
                else if (failures > 0)
                {
                    assertEquals(-Errno.ECANCELED, group.res());
                }
            }
        }

        /**
         * Which steps ran: a step ran if its node carries the op planned for it (a skipped one is a stand-in nop).
         * A hard step always runs, and is submitted before any cancel reaches it; a soft one runs after a full
         * success unless the chain was cancelled, and never after a failed or short step. The chain ends with the
         * first failed step's result, or else the last step's, cancelled or not.
         */
        private void checkChain(final Chain chain, final List<Completion> steps)
        {
            final List<Op> ops = chainOps.get(chain);
            final List<Boolean> hard = chainHard.get(chain);
            assertEquals(ops.size(), steps.size(), "steps listed by " + chain);
            long firstFailure = 0;
            for (int i = 0; i < steps.size(); i++)
            {
                final OpCompletion step = (OpCompletion)steps.get(i);
                final boolean ran = step.op() == ops.get(i);
                final String which = "step " + i + " of " + chain + (hard.get(i) ? " (hard)" : " (soft)");
                if (hard.get(i))
                {
                    assertTrue(ran, which + " did not run");
                    assertTrue(step.res() != -Errno.ECANCELED || step.event() != null,
                        which + " was cancelled before it was submitted");
                }
                else
                {
                    final OpCompletion previous = i == 0 ? null : (OpCompletion)steps.get(i - 1);
                    if (previous != null && previous.op().failedOrShort(previous.res()))
                    {
                        assertTrue(!ran && step.res() == -Errno.ECANCELED, which + " ran after a failed or short step");
                    }
                    else if (!chain.isCanceled())
                    {
                        assertTrue(ran, which + " was skipped, in a chain nobody cancelled");
                    }
                }
                if (!ran)
                {
                    assertEquals(-Errno.ECANCELED, step.res(), which + " was skipped");
                }
                if (firstFailure == 0 && step.res() < 0)
                {
                    firstFailure = step.res();
                }
            }
            assertEquals(firstFailure != 0 ? firstFailure : steps.get(steps.size() - 1).res(), chain.res(),
                "result of " + chain + (chain.isCanceled() ? " (cancelled)" : ""));
        }
    }
}
