package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.SetupParams;

/**
 * Run in a JVM of its own with a small heap ({@link SetupTest}): sets up contexts of a max in flight near what the
 * heap holds, in small steps down, and prints each setup that failed with an OutOfMemoryError rather than an
 * AioException (ENOMEM), then "done".
 */
final class SetupAtTheHeapsEdge
{
    private SetupAtTheHeapsEdge()
    {
    }

    public static void main(final String[] args)
    {
        for (int maxInFlight = 140_000; maxInFlight >= 120_000; maxInFlight -= 500)
        {
            final SetupParams params =
                new SetupParams().maxInFlight(maxInFlight).flags(SetupParams.FLAG_NO_EVENTFD).ringBytes(4096);
            try (SysletContext ctx = SysletContext.setup(params))
            {
                break; // below the edge: the heap holds the rest too
            }
            catch (final AioException e)
            {
                // ENOMEM, as documented
            }
            catch (final OutOfMemoryError e)
            {
                System.out.println("OutOfMemoryError out of setup at max in flight " + maxInFlight);
            }
        }
        System.out.println("done");
    }
}
