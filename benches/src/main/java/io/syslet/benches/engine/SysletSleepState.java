package io.syslet.benches.engine;

import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import static io.syslet.benches.engine.NanosleepBatch.OPS;
import static io.syslet.benches.engine.NanosleepBatch.SLEEPERS;
import static io.syslet.benches.engine.NanosleepBatch.SLEEP_NANOS;

/**
 * The engine with {@link NanosleepBatch#SLEEPERS} workers in its unbounded class (where NANOSLEEP runs)
 * and room for a whole batch in flight and in the ring.
 */
@State(Scope.Thread)
public class SysletSleepState
{
    /** Iocbs per submit call. */
    private static final int SUBMIT_CHUNK = 256;
    /** Events per getEvents call at most. */
    private static final int REAP_CHUNK = 1024;

    private SysletContext context;
    private IocbWriter writer;
    private UnsafeBuffer events;
    private final EventCursor cursor = new EventCursor();

    @Setup(Level.Trial)
    public void setUp()
    {
        context = SysletContext.setup(Engine.params()
            .unboundedWorkers(SLEEPERS)
            .maxInFlight(2 * OPS)
            .ringBytes(1 << 20)); // 18,724 events of 56 bytes: a whole batch fits without the overflow list
        writer = Engine.writer(SUBMIT_CHUNK);
        events = Engine.direct(REAP_CHUNK * Engine.EVENT_SPAN);
    }

    /**
     * Submits {@link NanosleepBatch#OPS} sleeps in chunks, then reaps them all, checking each.
     *
     * @return events reaped.
     */
    public int batch()
    {
        for (int submitted = 0; submitted < OPS; )
        {
            final int chunk = Math.min(SUBMIT_CHUNK, OPS - submitted);
            for (int i = 0; i < chunk; i++)
            {
                writer.nanosleep(submitted + i, SLEEP_NANOS);
            }
            Engine.submitAll(context, writer);
            submitted += chunk;
        }
        int reaped = 0;
        while (reaped < OPS)
        {
            Engine.reap(context, events, REAP_CHUNK, Math.min(REAP_CHUNK, OPS - reaped), cursor);
            while (cursor.next())
            {
                Engine.expectRes(cursor.event(), 0);
                reaped++;
            }
        }
        return reaped;
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        context.close();
    }
}
