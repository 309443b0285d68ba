package io.syslet.pool;

import io.syslet.abi.CallableFailureHandler;

import java.util.concurrent.Callable;

/**
 * A callable op submitted with a failure handler of its own. The two ride together in the slot's callable field,
 * which every op already clears when its slot is freed: the slot has no field of its own for the handler, which
 * each op, a callable or not, would then have to clear too.
 */
final class CallableWithHandler implements Callable<Long>
{
    private final Callable<Long> code;
    final CallableFailureHandler onFailure;

    CallableWithHandler(final Callable<Long> code, final CallableFailureHandler onFailure)
    {
        this.code = code;
        this.onFailure = onFailure;
    }

    @Override
    public Long call() throws Exception
    {
        return code.call();
    }
}
