package io.syslet.pool.compound;

import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static io.syslet.pool.natives.Natives.LIBC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A context, a compound layer over it whose error handler keeps what it is given, a registered MiB of
 * memory, and the fds a test opened, closed after it: what the compound tests that look at failures share.
 */
abstract class CompoundFixture
{
    SysletContext context;
    Completions completions;
    UnsafeBuffer memory;
    int buffer;
    final List<Throwable> reported = Collections.synchronizedList(new ArrayList<>());
    final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void setUpContext()
    {
        context = SysletContext.setup(new SetupParams().maxInFlight(1024));
        completions = new Completions(context, null, (node, error) -> reported.add(error));
        memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 20, 4096));
        buffer = context.registerBuffer(memory);
    }

    @AfterEach
    void closeContext()
    {
        context.close();
        fds.forEach(LIBC::close);
    }

    /** @return the messages the error handler was given, in order. */
    List<String> messages()
    {
        synchronized (reported)
        {
            return reported.stream().map(Throwable::getMessage).collect(Collectors.toList());
        }
    }

    /** @return a pipe, closed after the test: {read end, write end}. */
    int[] pipe()
    {
        final int[] pipe = new int[2];
        assertEquals(0, LIBC.pipe2(pipe, Natives.O_CLOEXEC));
        fds.add(pipe[0]);
        fds.add(pipe[1]);
        return pipe;
    }

    /**
     * Starts the chain and, from another thread, cancels it while a step's builder waits: the builder counts
     * down {@code inBuilder}, then waits for {@code cancelled}, which this counts down once cancel() has
     * answered. Then runs the chain until it settles.
     *
     * @return what cancel() answered.
     */
    boolean startAndCancelWhileABuilderRuns(final Chain chain, final CountDownLatch inBuilder,
        final CountDownLatch cancelled) throws InterruptedException
    {
        final AtomicBoolean answer = new AtomicBoolean();
        final Thread canceller = new Thread(() ->
        {
            await(inBuilder);
            answer.set(chain.cancel());
            cancelled.countDown();
        });
        canceller.start();
        chain.start();
        completions.runUntilSettled(chain, 10, TimeUnit.SECONDS);
        canceller.join();
        return answer.get();
    }

    static List<Long> results(final Chain chain)
    {
        return chain.steps().stream().map(Completion::res).collect(Collectors.toList());
    }

    static void await(final CountDownLatch latch)
    {
        try
        {
            assertTrue(latch.await(10, TimeUnit.SECONDS));
        }
        catch (final InterruptedException e)
        {
            throw new IllegalStateException(e);
        }
    }
}
