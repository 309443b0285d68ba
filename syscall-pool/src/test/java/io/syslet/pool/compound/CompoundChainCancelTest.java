package io.syslet.pool.compound;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Opcode;
import io.syslet.pool.natives.Natives;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Cancelling a chain whose hard steps are its cleanup. README's open, read, hard close promised the close
 * "even if the read was cancelled", but a cancel of the chain cancelled its hard steps too, so the fd leaked.
 * A cancel now stops the step in flight and the soft steps after it; the hard steps still run, and a cancel
 * that comes while one of them runs cancels that one only. Each fd here is real: closed by the chain, a
 * second close of it fails with EBADF.
 */
class CompoundChainCancelTest extends CompoundFixture
{
    /** README's chain, over a pipe reopened through /proc so that its read blocks until cancelled. */
    @Test
    void cancellingTheReadmeChainDuringItsReadStillClosesTheFdItOpened()
    {
        final int[] pipe = pipe();
        final Chain chain = completions.chain(Op.openat(Natives.AT_FDCWD, path("/proc/self/fd/" + pipe[0]), Natives.O_RDONLY, 0))
            .then(open -> Op.read((int)open.res(), BufferRef.of(buffer, 0), 64))
            .thenHard(read ->
            {
                final long fd = ((Chain)read.parent()).steps().get(0).res();
                return fd >= 0 ? Op.close((int)fd) : Op.nop();
            });
        chain.start();
        pollUntil(() -> chain.steps().size() == 2 && completions.pendingOps() == 1, "the read is in flight");
        final int opened = (int)chain.steps().get(0).res();
        assertTrue(opened >= 0, "opened " + opened);
        assertTrue(Files.exists(Path.of("/proc/self/fd/" + opened)));

        assertTrue(chain.cancel());
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        assertClosedByTheChain(opened);
        assertEquals(List.of((long)opened, (long)-Errno.ECANCELED, 0L), results(chain), "the close ran after the cancel");
        assertEquals(Opcode.CLOSE, ((OpCompletion)chain.steps().get(2)).op().opcode(), "a real close, not a stand-in");
        assertTrue(chain.isCanceled());
        assertEquals(-Errno.ECANCELED, chain.res());
        assertEquals(0, completions.pendingOps());
        assertEquals(List.of(), messages());
    }

    @Test
    void aCancelSkipsTheSoftStepsButRunsEveryHardStepInOrderWithTheStepBefore()
    {
        final int[] pipe = pipe();
        final int first = pipe()[1];
        final int second = pipe()[1];
        final List<Completion> handedToBuilders = Collections.synchronizedList(new ArrayList<>());
        final AtomicBoolean softBuilt = new AtomicBoolean();
        final Chain chain = completions.chain(Op.read(pipe[0], BufferRef.of(buffer, 0), 1))
            .then(read ->
            {
                softBuilt.set(true);
                return Op.nop();
            })
            .thenHard(skipped ->
            {
                handedToBuilders.add(skipped);
                return Op.close(first);
            })
            .then(closed ->
            {
                softBuilt.set(true);
                return Op.nop();
            })
            .thenHard(skipped ->
            {
                handedToBuilders.add(skipped);
                return Op.close(second);
            });
        chain.start();
        pollUntil(() -> completions.pendingOps() == 1, "the read is in flight");
        assertTrue(chain.cancel());
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        assertClosedByTheChain(first);
        assertClosedByTheChain(second);
        final List<Completion> steps = chain.steps();
        assertEquals(List.of((long)-Errno.ECANCELED, (long)-Errno.ECANCELED, 0L, (long)-Errno.ECANCELED, 0L), results(chain));
        assertFalse(softBuilt.get(), "no soft step after the cancel was even built");
        assertEquals(List.of(steps.get(1), steps.get(3)), handedToBuilders, "each hard step's builder got the step before it");
        assertFalse(steps.get(2).isCanceled(), "the earlier cancel does not reach a hard step");
        assertTrue(chain.isCanceled());
        assertEquals(-Errno.ECANCELED, chain.res());
        assertEquals(List.of(), messages());
    }

    /**
     * A hard step can block too (a read of a pipe nobody writes to): the cancel that came before it does not
     * reach it, so it holds the chain open until the chain is cancelled again, and that cancel stops it alone.
     */
    @Test
    void aSecondCancelCancelsAHardStepThatBlocksAndTheHardStepsAfterItStillRun()
    {
        final int[] pipe = pipe();
        final int fd = pipe()[1];
        final Chain chain = completions.chain(Op.read(pipe[0], BufferRef.of(buffer, 0), 1))
            .thenHard(read -> Op.read(pipe[0], BufferRef.of(buffer, 8), 1))
            .then(read -> Op.nop())
            .thenHard(read -> Op.close(fd));
        chain.start();
        pollUntil(() -> completions.pendingOps() == 1, "the first read is in flight");
        assertTrue(chain.cancel());
        assertFalse(chain.cancel(), "the read in flight was cancelled already: nothing new to ask");
        pollUntil(() -> chain.steps().size() == 2 && completions.pendingOps() == 1, "the hard read is in flight");
        final Completion hardRead = chain.steps().get(1);
        assertFalse(hardRead.isCanceled());
        completions.poll(0, TimeUnit.MILLISECONDS.toNanos(50));
        assertFalse(chain.isSettled(), "the hard read blocks, and nothing cancelled it");

        assertTrue(chain.cancel(), "a cancel that comes while a hard step runs cancels it");
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        assertClosedByTheChain(fd);
        assertEquals(List.of((long)-Errno.ECANCELED, (long)-Errno.ECANCELED, (long)-Errno.ECANCELED, 0L), results(chain));
        assertNotNull(((OpCompletion)hardRead).event(), "the hard read ran, and was cancelled running");
        assertEquals(-Errno.ECANCELED, chain.res());
        assertFalse(chain.cancel(), "settled");
        assertEquals(List.of(), messages());
    }

    @Test
    void aCancelThatComesOnlyWhileAHardStepRunsCancelsThatStepAndNotTheHardStepsAfterIt()
    {
        final int[] pipe = pipe();
        final int fd = pipe()[1];
        final Chain chain = completions.chain(Op.nop())
            .thenHard(nop -> Op.read(pipe[0], BufferRef.of(buffer, 0), 1))
            .thenHard(read -> Op.close(fd));
        chain.start();
        pollUntil(() -> chain.steps().size() == 2 && completions.pendingOps() == 1, "the hard read is in flight");
        assertTrue(chain.cancel());
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        assertClosedByTheChain(fd);
        assertEquals(List.of(0L, (long)-Errno.ECANCELED, 0L), results(chain));
        assertEquals(-Errno.ECANCELED, chain.res());
    }

    /** A chain cancelled before it starts never runs its soft steps, but its hard ones clean up as ever. */
    @Test
    void aChainCancelledBeforeItStartsStillRunsItsHardSteps()
    {
        final int[] pipe = pipe();
        final int fd = pipe()[1];
        final Chain chain = completions.chain(Op.read(pipe[0], BufferRef.of(buffer, 0), 1))
            .then(read -> Op.nop())
            .thenHard(read -> Op.close(fd));
        assertTrue(chain.cancel());
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        assertClosedByTheChain(fd);
        assertEquals(List.of((long)-Errno.ECANCELED, (long)-Errno.ECANCELED, 0L), results(chain));
        assertNull(((OpCompletion)chain.steps().get(0)).event(), "the read never ran");
        assertEquals(-Errno.ECANCELED, chain.res());
    }

    /**
     * A cancel while a hard step's builder runs comes between two steps: the step before has settled, and the
     * hard step the builder makes is not cancelled by it (a soft one is: CompoundFailureTest's builder case).
     */
    @Test
    void aCancelWhileAHardStepIsBuiltLetsItRunAndSkipsTheSoftStepsAfterIt() throws Exception
    {
        final int fd = pipe()[1];
        final CountDownLatch inBuilder = new CountDownLatch(1);
        final CountDownLatch cancelled = new CountDownLatch(1);
        final Chain chain = completions.chain(Op.nop())
            .thenHard(previous ->
            {
                inBuilder.countDown();
                await(cancelled);
                return Op.close(fd);
            })
            .then(closed -> Op.nop());
        assertTrue(startAndCancelWhileABuilderRuns(chain, inBuilder, cancelled));
        assertClosedByTheChain(fd);
        assertEquals(List.of(0L, 0L, (long)-Errno.ECANCELED), results(chain));
        assertTrue(chain.isCanceled());
        assertEquals(-Errno.ECANCELED, chain.res(), "the cancel skipped a step");
    }

    /**
     * A group cancels its children top-down once; a chain in it then runs its hard steps, and if one of those
     * blocks, a second cancel of the group passes down to it.
     */
    @Test
    void aCancelledGroupWaitsForTheHardStepsOfItsChainsAndCancelsThemWhenCancelledAgain()
    {
        final int[] pipe = pipe();
        final int closedFirst = pipe()[1];
        final int closedLast = pipe()[1];
        final Chain cleansUp = completions.chain(Op.read(pipe[0], BufferRef.of(buffer, 0), 1))
            .thenHard(read -> Op.close(closedFirst));
        final Chain blocksInCleanup = completions.chain(Op.read(pipe[0], BufferRef.of(buffer, 8), 1))
            .thenHard(read -> Op.read(pipe[0], BufferRef.of(buffer, 16), 1))
            .thenHard(read -> Op.close(closedLast));
        final Group inner = completions.anyOf();
        inner.add(blocksInCleanup);
        final Group group = completions.allOf();
        group.add(cleansUp);
        group.add(inner);
        group.add(Op.read(pipe[0], BufferRef.of(buffer, 24), 1));
        group.start();
        pollUntil(() -> completions.pendingOps() == 3, "the three reads are in flight");

        assertTrue(group.cancel());
        pollUntil(() -> cleansUp.isSettled() && blocksInCleanup.steps().size() == 2 && completions.pendingOps() == 1,
            "the first chain closed its fd, the second one's hard read is in flight");
        assertClosedByTheChain(closedFirst);
        completions.poll(0, TimeUnit.MILLISECONDS.toNanos(50));
        assertFalse(group.isSettled(), "the group waits for the hard read");

        assertTrue(group.cancel(), "cancelled again, the group passes the cancel down to the hard read");
        completions.runUntilSettled(group, 10, TimeUnit.SECONDS);
        assertClosedByTheChain(closedLast);
        assertEquals(List.of((long)-Errno.ECANCELED, (long)-Errno.ECANCELED, 0L), results(blocksInCleanup));
        assertEquals(-Errno.ECANCELED, group.res());
        assertFalse(group.cancel(), "settled");
        assertEquals(List.of(), messages());
    }

    /** A compound step (thenNode) is soft, but the hard steps inside it and after it run on a cancel. */
    @Test
    void aCancelReachesTheStepsOfANestedChainAndEveryHardStepOnEitherLevelRuns()
    {
        final int[] pipe = pipe();
        final int innerFd = pipe()[1];
        final int outerFd = pipe()[1];
        final AtomicBoolean softNodeBuilt = new AtomicBoolean();
        final Chain outer = completions.chain(Op.nop())
            .thenNode(nop -> completions.chain(Op.read(pipe[0], BufferRef.of(buffer, 0), 1))
                .thenHard(read -> Op.close(innerFd)))
            .thenNode(inner ->
            {
                softNodeBuilt.set(true);
                return completions.chain(Op.nop());
            })
            .thenHard(skipped -> Op.close(outerFd));
        outer.start();
        pollUntil(() -> outer.steps().size() == 2 && completions.pendingOps() == 1, "the inner read is in flight");
        final Chain inner = (Chain)outer.steps().get(1);

        assertTrue(outer.cancel());
        completions.runUntilSettled(outer, 10, TimeUnit.SECONDS);
        assertClosedByTheChain(innerFd);
        assertClosedByTheChain(outerFd);
        assertEquals(List.of((long)-Errno.ECANCELED, 0L), results(inner));
        assertEquals(List.of(0L, (long)-Errno.ECANCELED, (long)-Errno.ECANCELED, 0L), results(outer));
        assertTrue(inner.isCanceled());
        assertFalse(softNodeBuilt.get());
        assertEquals(-Errno.ECANCELED, outer.res());
    }

    private void pollUntil(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting until " + what);
            completions.poll(0, TimeUnit.MILLISECONDS.toNanos(1));
            Thread.onSpinWait();
        }
    }

    /**
     * The fd is closed: a second close fails with EBADF. If the chain left it open, this closes it (the test
     * fails either way, and leaks nothing).
     */
    private void assertClosedByTheChain(final int fd)
    {
        fds.remove(Integer.valueOf(fd));
        final boolean open = Files.exists(Path.of("/proc/self/fd/" + fd));
        final int closed = LIBC.close(fd);
        final int errno = closed == 0 ? 0 : Natives.lastError();
        assertFalse(open, "fd " + fd + " is still open: the chain's hard close did not run");
        assertEquals(-1, closed);
        assertEquals(-Errno.EBADF, errno);
    }

    /** Writes a NUL-terminated path into the registered buffer. */
    private long path(final String path)
    {
        final byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        final int at = 512 * 1024;
        memory.putBytes(at, bytes);
        memory.putByte(at + bytes.length, (byte)0);
        return BufferRef.of(buffer, at);
    }
}
