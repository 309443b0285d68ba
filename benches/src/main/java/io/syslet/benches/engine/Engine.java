package io.syslet.benches.engine;

import io.syslet.abi.AioContext;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.attributes.AttributeId;
import io.syslet.ring.EntryDescriptor;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the engine benchmarks share: the context they set up, the peers' thread pools, and the reaping
 * and checking that every engine benchmark does the same way. Nothing here allocates per op.
 */
final class Engine
{
    /**
     * Worker threads per class in the engine, and threads in the peers' fixed pools, so both sides have
     * the same number of threads to hop to. 4 is the engine's default bounded class on 2 cores
     * ({@code max(4, 2 * nproc)}).
     */
    static final int WORKERS = 4;
    /** Looks at an empty queue that spin before {@link #idle} starts to yield. */
    static final int SPINS_BEFORE_YIELD = 64;
    /** An iocb that asks for no attributes. */
    static final int[] NO_ATTRIBUTES = new int[0];
    /** Bytes one event takes in a getEvents destination: record header + an event without attributes. */
    static final int EVENT_SPAN = eventSpan(NO_ATTRIBUTES);
    /** Longest a benchmark waits for an event before it fails: a lost completion must not hang the run. */
    static final long REAP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private Engine()
    {
    }

    /**
     * The setup every engine benchmark starts from. No eventfd: the benchmarks reap with getEvents and
     * never read it, and with one every published event also costs the worker a write(2).
     */
    static SetupParams params()
    {
        return params(true);
    }

    /**
     * @param immediate false for {@link SetupParams#FLAG_NO_IMMEDIATE}: every op goes to a worker, a cached
     *                  pread included (the engine's own pool path).
     */
    static SetupParams params(final boolean immediate)
    {
        return new SetupParams()
            .flags(SetupParams.FLAG_NO_EVENTFD | (immediate ? 0 : SetupParams.FLAG_NO_IMMEDIATE))
            .boundedWorkers(WORKERS)
            .unboundedWorkers(WORKERS);
    }

    /**
     * @param name a benchmark parameter: {@code none}, or {@code latency_cache} for the LATENCY and CACHE
     *             attributes (what issue 4 asks the immediate path to carry at almost no cost).
     * @return the attribute ids an iocb lists.
     */
    static int[] attributes(final String name)
    {
        switch (name)
        {
            case "none":
                return NO_ATTRIBUTES;
            case "latency_cache":
                return new int[]{AttributeId.LATENCY, AttributeId.CACHE};
            case "latency": // the two halves, for a run that asks (-p attrs=latency,cache): which one costs what
                return new int[]{AttributeId.LATENCY};
            case "cache":
                return new int[]{AttributeId.CACHE};
            default:
                throw new IllegalArgumentException("attrs=" + name + ": expected none, latency_cache, latency or cache");
        }
    }

    /**
     * @return bytes of the attribute TLVs of an event whose iocb listed {@code ids}, every one answered OK.
     */
    static int attributesLength(final int[] ids)
    {
        int length = 0;
        for (final int id : ids)
        {
            length += AttributeId.maxTlvLength(id);
        }
        return length;
    }

    /**
     * @return bytes one event with those attributes takes in a getEvents destination.
     */
    static int eventSpan(final int[] ids)
    {
        return EntryDescriptor.align(EntryDescriptor.RECORD_HEADER_LENGTH + EventDescriptor.MIN_LENGTH +
            attributesLength(ids));
    }

    /**
     * @param bytes capacity.
     * @return zeroed off-heap memory, page aligned (iocbs may point into it once registered).
     */
    static UnsafeBuffer direct(final int bytes)
    {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(bytes, 4096));
    }

    /**
     * @param iocbs how many iocbs without attributes one submission holds.
     * @return a writer whose buffer takes that many.
     */
    static IocbWriter writer(final int iocbs)
    {
        return writer(iocbs, 0);
    }

    /**
     * @param iocbs      how many iocbs one submission holds.
     * @param attributes how many attribute ids each lists.
     * @return a writer whose buffer takes that many.
     */
    static IocbWriter writer(final int iocbs, final int attributes)
    {
        return new IocbWriter(direct(iocbs * IocbDescriptor.length(attributes)));
    }

    /**
     * Submits everything the writer holds.
     *
     * @throws IllegalStateException if the context did not take all of it: the benchmarks stay far below
     * the in-flight limit, so a partial submit is a bug, not back-pressure.
     */
    static void submitAll(final AioContext context, final IocbWriter writer)
    {
        final int count = writer.count();
        final int accepted = writer.submitTo(context);
        if (accepted != count)
        {
            throw new IllegalStateException("context accepted " + accepted + " of " + count + " iocbs");
        }
    }

    /**
     * Waits for at least {@code minEvents} events, takes at most {@code maxEvents}, and points the
     * cursor at them.
     *
     * @return bytes reaped, never 0.
     * @throws IllegalStateException if no event came within {@link #REAP_TIMEOUT_NANOS}.
     */
    static int reap(final AioContext context, final UnsafeBuffer events, final int maxEvents, final int minEvents,
        final EventCursor cursor)
    {
        return reapBytes(context, events, maxEvents * EVENT_SPAN, minEvents, cursor);
    }

    /**
     * {@link #reap(AioContext, UnsafeBuffer, int, int, EventCursor)} into at most {@code maxBytes}, for
     * events that carry attributes.
     */
    static int reapBytes(final AioContext context, final UnsafeBuffer events, final int maxBytes, final int minEvents,
        final EventCursor cursor)
    {
        final int bytes = context.getEvents(events, 0, maxBytes, minEvents, REAP_TIMEOUT_NANOS);
        if (bytes == 0)
        {
            throw new IllegalStateException("no event within " + TimeUnit.NANOSECONDS.toSeconds(REAP_TIMEOUT_NANOS) +
                " s; " + context.inFlight() + " ops in flight");
        }
        cursor.wrap(events, 0, bytes);
        return bytes;
    }

    /**
     * Moves the cursor to the next event of the last reap.
     *
     * @return the event.
     * @throws IllegalStateException if there is none: every reap in these benchmarks returns at least one.
     */
    static Event nextEvent(final EventCursor cursor)
    {
        if (!cursor.next())
        {
            throw new IllegalStateException("getEvents returned bytes but no event");
        }
        return cursor.event();
    }

    /**
     * @throws IllegalStateException if the event's res is not {@code expected}: a benchmark that measures
     * failing ops measures nothing.
     */
    static void expectRes(final Event event, final long expected)
    {
        if (event.res() != expected)
        {
            throw new IllegalStateException("expected res " + expected + ", got " + event);
        }
    }

    /**
     * @throws IllegalStateException if the event's res is not {@code expected} or it does not carry
     * {@code attributesLength} bytes of attributes (every one asked for, answered OK).
     */
    static void expect(final Event event, final long expected, final int attributesLength)
    {
        expectRes(event, expected);
        if (event.attributesLength() != attributesLength)
        {
            throw new IllegalStateException("expected " + attributesLength + " bytes of attributes, got " + event);
        }
    }

    /**
     * Submits everything the writer holds, then reaps until as many events came back, each checked to
     * have {@code expectedRes}: the raw path at its simplest, one batch in flight.
     *
     * @return events reaped.
     */
    static int submitAndReap(final AioContext context, final IocbWriter writer, final UnsafeBuffer events,
        final EventCursor cursor, final long expectedRes)
    {
        final int count = writer.count();
        submitAll(context, writer);
        int reaped = 0;
        while (reaped < count)
        {
            reap(context, events, count - reaped, count - reaped, cursor);
            while (cursor.next())
            {
                expectRes(cursor.event(), expectedRes);
                reaped++;
            }
        }
        return reaped;
    }

    /**
     * One look at an empty queue, for the benchmarks' own hand-offs (the bare pool, the channel's completions):
     * spin {@link #SPINS_BEFORE_YIELD} times, then yield before each look, as the engine's getevents does
     * before it sleeps.
     *
     * @param idle looks so far.
     * @return looks now.
     */
    static int idle(final int idle)
    {
        if (idle < SPINS_BEFORE_YIELD)
        {
            Thread.onSpinWait();
        }
        else
        {
            Thread.yield();
        }
        return idle + 1;
    }

    /**
     * @return a pool of {@code threads} daemon threads, all started, with an unbounded queue
     * ({@code Executors.newFixedThreadPool} with names and daemon threads).
     */
    static ThreadPoolExecutor fixedPool(final String name, final int threads)
    {
        return fixedPool(name, threads, () -> {});
    }

    /**
     * {@link #fixedPool(String, int)} whose threads each run {@code onStart} first, as the engine's
     * workers set themselves up before their first op.
     */
    static ThreadPoolExecutor fixedPool(final String name, final int threads, final Runnable onStart)
    {
        final AtomicInteger started = new AtomicInteger();
        final ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(), runnable ->
            {
                final Thread thread = new Thread(() ->
                {
                    onStart.run();
                    runnable.run();
                }, name + "-" + started.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        pool.prestartAllCoreThreads();
        return pool;
    }

    /**
     * Stops a peer's pool and waits a little for its threads.
     */
    static void shutdown(final ExecutorService pool) throws InterruptedException
    {
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
    }
}
