package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static io.syslet.pool.SysletTestSupport.directBuffer;
import static io.syslet.pool.SysletTestSupport.reapOne;
import static io.syslet.pool.SysletTestSupport.submitAll;
import static io.syslet.pool.SysletTestSupport.writer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * getEvents with the ring state the caller last saw (docs/ABI.md, "a wait that takes the ring state"): if the
 * ring moved since that token was read, it returns at once instead of waiting, so a completion that landed
 * between the caller's look and its call is not slept through; with a token that is still current it waits
 * like the call without one.
 */
class GetEventsStateTest
{
    /** The op that would end a wait that should not have started; long, so that waiting for it is plain. */
    private static final long WAKER_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Far longer than any run of the test: a wait that should not happen ends at the waker, not here. */
    private static final long WAIT_NANOS = TimeUnit.MINUTES.toNanos(5);

    private final IocbWriter w = writer();

    @Test
    void aStaleTokenMakesGetEventsReturnAtOnceAndACurrentOneWaits()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final UnsafeBuffer dst = directBuffer(1 << 16);
            final int seen = ctx.stateToken();
            // The ring moves after the look (an event is published, then reaped: the ring is empty again).
            w.nop(1);
            submitAll(w, ctx);
            assertEquals(0, reapOne(ctx, 1).res());
            assertNotEquals(seen, ctx.stateToken(), "a published event moves the ring state");

            // An op that will complete much later: a wait that ignored the stale token would end with it.
            w.nanosleep(2, WAKER_NANOS);
            submitAll(w, ctx);
            assertEquals(0, ctx.getEvents(dst, 0, dst.capacity(), 1, WAIT_NANOS, seen),
                "getEvents with a token the ring has moved past must return at once, not wait for a later event");
            // Still in flight, so getEvents did not wait for it. Cancelled, or (on a kernel without the interrupt
            // signal) left to finish its sleep.
            assertNotEquals(AioContext.NOT_FOUND, ctx.cancel(2), "the sleep ended: getEvents waited for it");
            final long sleepRes = reapOne(ctx, 2).res();
            assertTrue(sleepRes == -Errno.ECANCELED || sleepRes == 0, "sleep res " + sleepRes);

            // With a current token the same call waits: it returns the next event, not 0 bytes at once.
            final int current = ctx.stateToken();
            w.nanosleep(3, TimeUnit.MILLISECONDS.toNanos(200));
            submitAll(w, ctx);
            final int bytes = ctx.getEvents(dst, 0, dst.capacity(), 1, WAIT_NANOS, current);
            assertNotEquals(0, bytes, "getEvents with a current token returned without waiting for the sleep");
            final EventCursor cursor = new EventCursor().wrap(dst, 0, bytes);
            assertTrue(cursor.next());
            final Event event = new Event().wrap(dst, cursor.event().offset());
            assertEquals(3, event.cookie());
            assertEquals(0, event.res());
            assertFalse(cursor.next(), "one op, one event");
        }
    }
}
