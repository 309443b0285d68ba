package io.syslet.benches.engine;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.ExecutorService;

import static io.syslet.pool.natives.Natives.LIBC;

/**
 * The peer of {@link SysletRoundTripState}: a fixed pool of {@link Engine#WORKERS} threads for
 * {@code CompletableFuture.supplyAsync(..., pool).join()}.
 */
@State(Scope.Thread)
public class FixedPoolState
{
    ExecutorService pool;
    int parentPid;

    @Setup(Level.Trial)
    public void setUp()
    {
        pool = Engine.fixedPool("supplyAsync", Engine.WORKERS);
        parentPid = LIBC.getppid();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException
    {
        Engine.shutdown(pool);
    }
}
