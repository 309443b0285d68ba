package io.syslet.pool;

import io.syslet.abi.AioException;
import io.syslet.abi.Errno;
import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * AioContext: "After close() every method throws an AioException with EBADF." submitCallable checked its
 * argument first, so a destroyed context answered a null callable with EINVAL, and a caller that tells a closed
 * context by its EBADF (as the compound layer does) took it for a bad argument.
 */
class DestroyedContextEbadfTest
{
    @Test
    void submitCallableOnADestroyedContextIsEbadfWhateverItsArguments()
    {
        final SysletContext ctx = SysletContext.setup(new SetupParams());
        ctx.close();
        assertEquals(Errno.EBADF, assertThrows(AioException.class, () -> ctx.submitCallable(1, () -> 1L)).errno());
        assertEquals(Errno.EBADF, assertThrows(AioException.class, () -> ctx.submitCallable(1, null)).errno());
    }

    @Test
    void aNullCallableOnALiveContextIsEinval()
    {
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            assertEquals(Errno.EINVAL, assertThrows(AioException.class, () -> ctx.submitCallable(1, null)).errno());
            assertEquals(0, ctx.inFlight());
        }
    }
}
