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
 * settles after all its children, and every group's result is what its rule says. A tree that has not
 * settled after a while is cancelled from the root, and must then settle: nothing hangs.
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
                root.cancel(); // a pipe read nobody cancelled keeps it open: cancel from the top
                completions.runUntilSettled(root, 10, TimeUnit.SECONDS);
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
                    fed.feed(ops.iterator(), 1 + choices.pick(4), op -> track(completions.op(op)));
                    node = fed;
                    break;
                }
                case 4:
                {
                    final Chain chain = completions.chain(leafOp());
                    final int steps = choices.pick(4);
                    for (int i = 0; i < steps; i++)
                    {
                        final Op next = leafOp();
                        if (choices.pick(3) == 0)
                        {
                            chain.thenHard(previous -> next);
                        }
                        else
                        {
                            chain.then(previous -> next);
                        }
                    }
                    node = chain;
                    break;
                }
                default:
                    node = completions.op(leafOp());
            }
            return track(node);
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
                case 1: return Op.read(pipe[0], BufferRef.of(buffer, 8192), 1);
                case 2: return Op.of(3000 + choices.pick(100), 0, 0, 0, 0, 0, 0);
                default: return quickOp();
            }
        }

        private void checkOrderAndResults(final Completion node)
        {
            final List<Completion> children = node instanceof Group ? ((Group)node).children() :
                node instanceof Chain ? ((Chain)node).steps() : List.of();
            for (final Completion child : children)
            {
                if (settleOrder.containsKey(child))
                {
                    assertTrue(settleOrder.get(child) < settleOrder.get(node), child + " settled after its parent " + node);
                }
                checkOrderAndResults(child);
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
    }
}
