package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * AioContext.getEvents: "fewer than minEvents events only at the timeout, when dst is full, or if the calling
 * thread is interrupted". A destination that the events already copied have filled cannot take another one, so
 * the call has nothing left to wait for.
 */
class GetEventsFullDestinationTest
{
    /** The record of an event without attributes: 16-byte record header and 40-byte event. */
    private static final int BARE_EVENT_RECORD = 56;

    @Test
    void aDestinationFilledByTheEventsCopiedEndsTheWait() throws Exception
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final IocbWriter iocbs = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 8)));
            iocbs.nop(1).nop(2).nanosleep(3, TimeUnit.HOURS.toNanos(1)).submitTo(ctx);
            while (ctx.inFlight() > 1)
            {
                Thread.onSpinWait(); // until both nops are in the ring; the sleep stays in flight
            }
            final UnsafeBuffer dst = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2 * BARE_EVENT_RECORD, 8));
            final AtomicInteger bytes = new AtomicInteger(-1);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread reaper = new Thread(() ->
            {
                try
                {
                    bytes.set(ctx.getEvents(dst, 0, dst.capacity(), 3, TimeUnit.HOURS.toNanos(1)));
                }
                catch (final Throwable t)
                {
                    failure.set(t);
                }
            });
            reaper.start();
            reaper.join(TimeUnit.SECONDS.toMillis(30)); // a hang detector, not a speed requirement
            final boolean stillWaiting = reaper.isAlive();
            assertEquals(AioContext.CANCELED, ctx.cancel(3)); // ends the wait of a reaper that is still in there
            reaper.join();
            assertFalse(stillWaiting, "getEvents kept waiting with its destination full of the two events it copied");
            assertNull(failure.get());
            assertEquals(dst.capacity(), bytes.get());
            final List<Long> cookies = new ArrayList<>();
            for (final EventCursor c = new EventCursor().wrap(dst, 0, bytes.get()); c.next(); )
            {
                cookies.add(c.event().cookie());
            }
            assertEquals(List.of(1L, 2L), cookies);
        }
    }
}
