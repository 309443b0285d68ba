package io.syslet.abi;

import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * What {@code io_setup2} takes. Mutable, chainable; the engine checks every field when it sets up a
 * context and refuses the whole setup, with an {@link AioException} (EINVAL) naming the field, before it
 * creates anything.
 */
public final class SetupParams
{
    /** The ABI version this library speaks. */
    public static final int ABI_VERSION = 1;

    /** Setup flag: create the context without an eventfd. */
    public static final int FLAG_NO_EVENTFD = 1;
    /** Setup flag: never take the immediate (cache-hit) path. */
    public static final int FLAG_NO_IMMEDIATE = 2;
    /**
     * Setup flag: do not measure page-cache hits, and turn the immediate path off, which would show them too
     * (closes the side channel; see docs/ABI.md section 23).
     */
    public static final int FLAG_NO_CACHE_ATTRIBUTE = 4;
    /** Setup flags this version defines. */
    public static final int KNOWN_FLAGS = FLAG_NO_EVENTFD | FLAG_NO_IMMEDIATE | FLAG_NO_CACHE_ATTRIBUTE;

    public static final int MIN_RING_BYTES = 4096;
    public static final int MAX_RING_BYTES = 1 << 30;
    public static final int MAX_IN_FLIGHT = 1 << 20;
    public static final int MAX_WORKERS = 4096;

    int abiVersion = ABI_VERSION;
    int flags;
    int ringBytes = 1 << 20;
    Path ringFile;
    int boundedWorkers = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    int unboundedWorkers = 256;
    int maxInFlight = 4096;
    int maxBuffers = 1024;
    long idleTimeoutNanos = TimeUnit.SECONDS.toNanos(10);
    int spinTries = 200;
    ThreadFactory workerThreadFactory;
    CallableFailureHandler callableFailureHandler = CallableFailureHandler.UNCAUGHT_EXCEPTION_HANDLER;

    public SetupParams abiVersion(final int abiVersion)
    {
        this.abiVersion = abiVersion;
        return this;
    }

    public SetupParams flags(final int flags)
    {
        this.flags = flags;
        return this;
    }

    /** Bytes of the ring's data area: a power of two from 4 KiB to 1 GiB. */
    public SetupParams ringBytes(final int ringBytes)
    {
        this.ringBytes = ringBytes;
        return this;
    }

    /**
     * Map the ring in this file (created, or a regular file replaced) so another process can read it; null for
     * memory. A name held by a directory, a FIFO, a socket or a device fails setup with EINVAL.
     */
    public SetupParams ringFile(final Path ringFile)
    {
        this.ringFile = ringFile;
        return this;
    }

    /** Most workers for ops that finish on their own (regular-file IO). */
    public SetupParams boundedWorkers(final int boundedWorkers)
    {
        this.boundedWorkers = boundedWorkers;
        return this;
    }

    /** Most workers for ops that may block indefinitely (pipes, sockets, sleeps, waits, locks, DNS, Java). */
    public SetupParams unboundedWorkers(final int unboundedWorkers)
    {
        this.unboundedWorkers = unboundedWorkers;
        return this;
    }

    /**
     * Most ops submitted whose events have not yet reached the ring. Setup makes a request slot for each, and a
     * quarter more (at least 16) for ops cancelled while queued, about 400 bytes of Java heap each: 65,536 in
     * flight take about 35 MB, 2^20 about 520 MB. A heap that cannot hold them fails setup with ENOMEM.
     */
    public SetupParams maxInFlight(final int maxInFlight)
    {
        this.maxInFlight = maxInFlight;
        return this;
    }

    /** Most buffers that can be registered. */
    public SetupParams maxBuffers(final int maxBuffers)
    {
        this.maxBuffers = maxBuffers;
        return this;
    }

    /** How long an idle worker lives before it retires. */
    public SetupParams idleTimeout(final long duration, final TimeUnit unit)
    {
        this.idleTimeoutNanos = unit.toNanos(duration);
        return this;
    }

    /**
     * How many times an idle worker looks at its queue before it parks, yielding its core before each
     * look (a {@code sched_yield}, about 0.3 us when nothing else wants the core).
     */
    public SetupParams spinTries(final int spinTries)
    {
        this.spinTries = spinTries;
        return this;
    }

    /**
     * Makes the worker threads; null (the default) for daemon threads named {@code syslet-bounded-N} and
     * {@code syslet-unbounded-N}. The factory gets the worker's {@link Runnable} and must return a new,
     * unstarted thread that runs it; it is called on submitting threads and on workers, possibly at once
     * from several, so it must be thread-safe. A pool that cannot start a thread (the factory throws, returns
     * null or a thread already started, or the JVM cannot create one: {@code OutOfMemoryError: unable to create native thread} under a
     * process or cgroup limit) runs with the workers it has; with none, the ops queued to it complete
     * with {@code -EAGAIN}, as pthread_create(3) fails, instead of waiting for a worker that never comes.
     */
    public SetupParams workerThreadFactory(final ThreadFactory workerThreadFactory)
    {
        this.workerThreadFactory = workerThreadFactory;
        return this;
    }

    /**
     * Told of the Throwable of each callable op that completes with -EIO because it threw, on the worker, before
     * the event is published (see {@link CallableFailureHandler}, which says when it is called, where, and what
     * happens if it throws). An op submitted with a handler of its own goes to that one instead.
     *
     * <p>The default, {@link CallableFailureHandler#UNCAUGHT_EXCEPTION_HANDLER}, hands it to the worker thread's
     * uncaught exception handler, as an executor's thread that a task kills would: without one set anywhere, the
     * stack trace is printed on {@code System.err}, and with a default handler the application set (one that logs,
     * say) it goes there. A default handler that ends the JVM on any uncaught Throwable ends it on a callable's
     * throw too: set a handler of your own here to keep such throws apart. Null restores the default; to drop
     * failures, say so with a handler that does nothing.
     */
    public SetupParams callableFailureHandler(final CallableFailureHandler callableFailureHandler)
    {
        this.callableFailureHandler = callableFailureHandler == null ?
            CallableFailureHandler.UNCAUGHT_EXCEPTION_HANDLER : callableFailureHandler;
        return this;
    }

    public int abiVersion()
    {
        return abiVersion;
    }

    public int flags()
    {
        return flags;
    }

    public boolean hasFlag(final int flag)
    {
        return (flags & flag) != 0;
    }

    public int ringBytes()
    {
        return ringBytes;
    }

    public Path ringFile()
    {
        return ringFile;
    }

    public int boundedWorkers()
    {
        return boundedWorkers;
    }

    public int unboundedWorkers()
    {
        return unboundedWorkers;
    }

    public int maxInFlight()
    {
        return maxInFlight;
    }

    public int maxBuffers()
    {
        return maxBuffers;
    }

    public long idleTimeoutNanos()
    {
        return idleTimeoutNanos;
    }

    public int spinTries()
    {
        return spinTries;
    }

    /** @return the factory set, or null for the engine's own threads. */
    public ThreadFactory workerThreadFactory()
    {
        return workerThreadFactory;
    }

    /** @return the handler set, or {@link CallableFailureHandler#UNCAUGHT_EXCEPTION_HANDLER}; never null. */
    public CallableFailureHandler callableFailureHandler()
    {
        return callableFailureHandler;
    }

    /**
     * @return a new SetupParams with every field of this one: setup keeps such a copy, so a caller may reuse and
     * change its own after setup without changing what the context reports.
     */
    public SetupParams copy()
    {
        final SetupParams copy = new SetupParams();
        copy.abiVersion = abiVersion;
        copy.flags = flags;
        copy.ringBytes = ringBytes;
        copy.ringFile = ringFile;
        copy.boundedWorkers = boundedWorkers;
        copy.unboundedWorkers = unboundedWorkers;
        copy.maxInFlight = maxInFlight;
        copy.maxBuffers = maxBuffers;
        copy.idleTimeoutNanos = idleTimeoutNanos;
        copy.spinTries = spinTries;
        copy.workerThreadFactory = workerThreadFactory;
        copy.callableFailureHandler = callableFailureHandler;
        return copy;
    }

    /**
     * Checks every field.
     *
     * @throws AioException EINVAL naming the first bad field.
     */
    public void validate()
    {
        if (abiVersion != ABI_VERSION)
        {
            throw new AioException(Errno.EINVAL, "ABI version " + abiVersion + " is not supported; this library speaks " +
                ABI_VERSION);
        }
        if ((flags & ~KNOWN_FLAGS) != 0)
        {
            throw new AioException(Errno.EINVAL, "setup flags 0x" + Integer.toHexString(flags & ~KNOWN_FLAGS) +
                " are not defined in ABI version " + ABI_VERSION);
        }
        if (ringBytes < MIN_RING_BYTES || ringBytes > MAX_RING_BYTES || Integer.bitCount(ringBytes) != 1)
        {
            throw new AioException(Errno.EINVAL, "ring size " + ringBytes + " bytes is not a power of two from " +
                MIN_RING_BYTES + " to " + MAX_RING_BYTES);
        }
        checkRange("bounded workers", boundedWorkers, 1, MAX_WORKERS);
        checkRange("unbounded workers", unboundedWorkers, 1, MAX_WORKERS);
        checkRange("max in flight", maxInFlight, 1, MAX_IN_FLIGHT);
        checkRange("max buffers", maxBuffers, 0, BufferRef.MAX_INDEX + 1);
        checkRange("spin tries", spinTries, 0, Integer.MAX_VALUE);
        if (idleTimeoutNanos <= 0)
        {
            throw new AioException(Errno.EINVAL, "idle timeout " + idleTimeoutNanos + " ns is not positive");
        }
    }

    private static void checkRange(final String what, final int value, final int min, final int max)
    {
        if (value < min || value > max)
        {
            throw new AioException(Errno.EINVAL, what + " " + value + " is outside " + min + ".." + max);
        }
    }

    @Override
    public String toString()
    {
        return "SetupParams{abiVersion=" + abiVersion + ", flags=0x" + Integer.toHexString(flags) + ", ringBytes=" +
            ringBytes + ", ringFile=" + ringFile + ", boundedWorkers=" + boundedWorkers + ", unboundedWorkers=" +
            unboundedWorkers + ", maxInFlight=" + maxInFlight + ", maxBuffers=" + maxBuffers + ", idleTimeoutNanos=" +
            idleTimeoutNanos + ", spinTries=" + spinTries + ", workerThreadFactory=" + workerThreadFactory +
            ", callableFailureHandler=" + callableFailureHandler + "}";
    }
}
