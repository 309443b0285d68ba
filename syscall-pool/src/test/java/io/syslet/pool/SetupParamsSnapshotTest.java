package io.syslet.pool;

import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * SysletContext.params(): "the parameters the context was set up with". SetupParams is mutable and chainable,
 * so a caller naturally reuses one to set up a second context with a field changed: the first context's params()
 * then reported the second's values, because it kept the caller's object, not what it was set up with.
 */
class SetupParamsSnapshotTest
{
    @Test
    void paramsStayWhatTheContextWasSetUpWithWhenTheCallerReusesItsSetupParams()
    {
        final SetupParams params = new SetupParams().maxInFlight(16).boundedWorkers(2);
        try (SysletContext first = SysletContext.setup(params))
        {
            params.maxInFlight(64).boundedWorkers(3);
            try (SysletContext second = SysletContext.setup(params))
            {
                assertEquals(16, first.params().maxInFlight());
                assertEquals(2, first.params().boundedWorkers());
                assertEquals(64, second.params().maxInFlight());
                assertEquals(3, second.params().boundedWorkers());
            }
        }
    }

    @Test
    void changingWhatParamsReturnsChangesNothingTheContextReports()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(16)))
        {
            ctx.params().maxInFlight(-5);
            assertEquals(16, ctx.params().maxInFlight());
        }
    }
}
