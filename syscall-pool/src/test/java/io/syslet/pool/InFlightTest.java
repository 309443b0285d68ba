package io.syslet.pool;

import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Test;

import static io.syslet.pool.SysletTestSupport.reapOne;
import static io.syslet.pool.SysletTestSupport.writer;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The in-flight count and limit cover "ops whose events have not reached the ring": an op whose event
 * the caller has already reaped must not count, or a caller at the limit who reaps and resubmits gets
 * EAGAIN ("reap events first") for an event it just reaped.
 */
class InFlightTest
{
    @Test
    void anOpWhoseEventWasReapedNoLongerCountsInFlight()
    {
        final IocbWriter w = writer();
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(1)))
        {
            // The worker and this thread race between publication and the next submit; many rounds give the
            // race room to show (it did within a few thousand before the engine released slots first).
            for (int i = 0; i < 20_000; i++)
            {
                w.nop(i);
                assertEquals(1, w.submitTo(ctx), "op " + i);
                reapOne(ctx, i);
                SysletTestSupport.awaitInFlight(ctx, 0, "op " + i + " after its event was reaped");
            }
        }
    }
}
