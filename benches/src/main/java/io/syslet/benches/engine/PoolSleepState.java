package io.syslet.benches.engine;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

import static io.syslet.benches.engine.NanosleepBatch.OPS;
import static io.syslet.benches.engine.NanosleepBatch.SLEEPERS;
import static io.syslet.benches.engine.NanosleepBatch.SLEEP_NANOS;
import static io.syslet.pool.natives.Natives.LIBC;

/**
 * The peer of {@link SysletSleepState}: a fixed pool of {@link NanosleepBatch#SLEEPERS} threads, each
 * task the same JNR nanosleep the engine's workers make, a latch counting them down.
 */
@State(Scope.Thread)
public class PoolSleepState
{
    private static final int PR_SET_TIMERSLACK = 29;

    private ExecutorService pool;
    /** struct timespec {0 s, 1 ms}: read-only, so every thread may pass the same one. */
    private UnsafeBuffer timespec;
    private final AtomicInteger failures = new AtomicInteger();
    private volatile CountDownLatch done;
    private final Runnable sleep = () ->
    {
        if (LIBC.nanosleep(timespec.addressOffset(), 0) != 0)
        {
            failures.incrementAndGet();
        }
        done.countDown();
    };

    @Setup(Level.Trial)
    public void setUp()
    {
        // The engine's workers run with 1 ns timer slack (WorkerPool), so that a 1 ms sleep lasts 1 ms, not
        // 1.05 ms; the peer's threads get the same, or the comparison measures the slack, not the pools.
        pool = Engine.fixedPool("sleeper", SLEEPERS, () -> LIBC.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0));
        timespec = Engine.direct(16);
        timespec.putLong(0, SLEEP_NANOS / 1_000_000_000L);
        timespec.putLong(8, SLEEP_NANOS % 1_000_000_000L);
    }

    /**
     * Runs {@link NanosleepBatch#OPS} sleeps on the pool and waits for all of them.
     *
     * @return sleeps done, checked to have all returned 0.
     */
    public int batch() throws InterruptedException
    {
        final CountDownLatch latch = new CountDownLatch(OPS);
        done = latch; // the pool's queue hand-off publishes it to the tasks
        for (int i = 0; i < OPS; i++)
        {
            pool.execute(sleep);
        }
        latch.await();
        if (failures.get() != 0)
        {
            throw new IllegalStateException(failures.get() + " nanosleep calls failed");
        }
        return OPS;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException
    {
        Engine.shutdown(pool);
    }
}
