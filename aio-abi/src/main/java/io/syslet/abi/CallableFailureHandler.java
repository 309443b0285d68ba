package io.syslet.abi;

/**
 * Told of each callable op that threw: the Throwable its event cannot carry, since the event says only
 * {@code -EIO}. The callable-op counterpart of {@link Thread.UncaughtExceptionHandler}, set per context with
 * {@link SetupParams#callableFailureHandler} or per op with
 * {@link AioContext#submitCallable(long, java.util.concurrent.Callable, CallableFailureHandler)}.
 *
 * <p><b>When.</b> Once for each callable op whose event has {@code res = -EIO} because its code threw (an
 * {@link Error} too, and an {@link InterruptedException} no cancel caused), and for no other op: not for a
 * callable that returned a value (a negative one included), nor for one that was cancelled, whose event says
 * {@code -ECANCELED} and whose throw, the interrupt's echo, is discarded as {@link java.util.concurrent.FutureTask}
 * discards the outcome of a cancelled task.
 *
 * <p><b>Where.</b> On the worker thread that ran the op, after the op's outcome is settled and before its event
 * is published. So a reaper that takes the {@code -EIO} event finds whatever the handler recorded: everything the
 * handler did happens-before the event can be reaped. The thread is not interrupted, and no cancel can interrupt
 * it while the handler runs ({@link AioContext#cancel} answers {@link AioContext#RUNNING_MAY_NOT_TERMINATE}). The
 * op still counts in flight and holds its place in {@link SetupParams#maxInFlight}, and its worker runs nothing
 * else, until the handler returns: record and return, do not wait for the event, which comes only afterwards.
 *
 * <p><b>If it throws.</b> What it throws is printed on {@code System.err}, with the callable's Throwable added as
 * suppressed, and is otherwise dropped: the worker goes on, the {@code -EIO} event is published and the op's slot
 * freed as if the handler had returned.
 */
@FunctionalInterface
public interface CallableFailureHandler
{
    /**
     * The default: hands the Throwable to the worker thread's {@link Thread#getUncaughtExceptionHandler()
     * uncaught exception handler} (the one a {@link SetupParams#workerThreadFactory} gave it, else its thread
     * group's, which passes it to {@link Thread#getDefaultUncaughtExceptionHandler()} or prints it on
     * {@code System.err}), as a {@link java.util.concurrent.ThreadPoolExecutor} task that throws does; the worker
     * thread goes on all the same. It does not say the cookie: set a handler of your own to keep that.
     */
    CallableFailureHandler UNCAUGHT_EXCEPTION_HANDLER = (cookie, submissionId, failure) ->
    {
        final Thread thread = Thread.currentThread();
        thread.getUncaughtExceptionHandler().uncaughtException(thread, failure);
    };

    /**
     * @param cookie       the op's cookie, as {@code submitCallable} took it and its event carries it.
     * @param submissionId the op's submission id, as its event carries it (docs/ABI.md section 15): unlike the
     *                     cookie, unique among the ops in flight.
     * @param failure      the very Throwable the callable threw.
     */
    void onFailure(long cookie, long submissionId, Throwable failure);
}
