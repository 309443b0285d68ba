package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.SetupParams;

/**
 * Run in a JVM of its own with a small heap ({@link SetupTest}): sets up a context whose request slots the
 * heap cannot hold, then one it can, and prints what each did.
 */
final class SetupInASmallHeap
{
    private SetupInASmallHeap()
    {
    }

    public static void main(final String[] args)
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(SetupParams.MAX_IN_FLIGHT)))
        {
            System.out.println("set up " + ctx.params().maxInFlight());
        }
        catch (final AioException e)
        {
            System.out.println("refused " + e.errno() + ": " + e.getMessage());
        }
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(1024)))
        {
            System.out.println("then set up " + ctx.params().maxInFlight());
        }
    }
}
