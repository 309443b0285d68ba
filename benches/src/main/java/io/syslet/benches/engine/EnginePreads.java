package io.syslet.benches.engine;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.SysletContext;
import org.agrona.concurrent.UnsafeBuffer;

import static io.syslet.benches.engine.CachedFile.BLOCK;

/**
 * The engine keeping {@code depth} preads of the cached file in flight, for the states that measure it.
 * Each op has its own 4 KiB block of one registered buffer and its index as cookie; its event says which
 * block to read into next.
 *
 * <p>{@link #completeOne()} hands out one completion per call. Reaping is batched: when the events from
 * the last getEvents are used up, the replacement preads queued meanwhile in the writer go out in one
 * submit, so {@code depth} ops are in flight whenever the thread waits, and the next getEvents takes every
 * event that is ready.
 *
 * <p>With the immediate path on, a read whose block is in the page cache completes inside that submit, on
 * this thread, and its event is in the ring when getEvents looks; off ({@code FLAG_NO_IMMEDIATE}), every
 * read goes to a worker. {@link #close()} checks that each mode did what it says: no IMMEDIATE event when
 * off, at least {@link #MIN_IMMEDIATE_SHARE} of them when on (the file is cached; a read the kernel
 * evicted meanwhile goes to a worker, and that is not the engine's fault, but a run where most did
 * measured the wrong path).
 */
final class EnginePreads
{
    /** Share of reads that must complete on the immediate path when it is on. */
    static final double MIN_IMMEDIATE_SHARE = 0.9;

    private final CachedFile file;
    private final boolean immediate;
    private final int depth;
    private final SysletContext context;
    private final int bufferIndex;
    private final int[] attributeIds;
    private final int attributesLength;
    private final int eventSpan;
    private final IocbWriter writer;
    private final UnsafeBuffer events;
    private final EventCursor cursor = new EventCursor();
    private int reads;
    private long completed;
    private long completedImmediately;

    /**
     * Sets up a context and puts {@code depth} reads in the writer, to go out with the first reap.
     *
     * @param setup        the context's setup; {@link SetupParams#FLAG_NO_IMMEDIATE} decides the path.
     * @param attributeIds what each read asks for.
     */
    EnginePreads(final CachedFile file, final int depth, final SetupParams setup, final int[] attributeIds)
    {
        this.file = file;
        this.depth = depth;
        this.immediate = !setup.hasFlag(SetupParams.FLAG_NO_IMMEDIATE);
        this.attributeIds = attributeIds;
        attributesLength = Engine.attributesLength(attributeIds);
        eventSpan = Engine.eventSpan(attributeIds);
        writer = Engine.writer(depth, attributeIds.length);
        events = Engine.direct(depth * eventSpan);
        context = SysletContext.setup(setup);
        try
        {
            bufferIndex = context.registerBuffer(Engine.direct(depth * BLOCK));
        }
        catch (final RuntimeException e)
        {
            context.close();
            throw e;
        }
        cursor.wrap(events, 0, 0);
        for (int block = 0; block < depth; block++)
        {
            queueRead(block);
        }
    }

    /**
     * Takes one completed read, checks it read a whole block and carries the attributes asked for, and
     * queues the next read into its block.
     *
     * @return the block the read went to.
     */
    int completeOne()
    {
        final Event event;
        if (cursor.next())
        {
            event = cursor.event();
        }
        else
        {
            Engine.submitAll(context, writer);
            Engine.reapBytes(context, events, depth * eventSpan, 1, cursor);
            event = Engine.nextEvent(cursor);
        }
        Engine.expect(event, BLOCK, attributesLength);
        completed++;
        if ((event.flags() & EventDescriptor.FLAG_IMMEDIATE) != 0)
        {
            completedImmediately++;
        }
        final int block = (int)event.cookie();
        queueRead(block);
        return block;
    }

    private void queueRead(final int block)
    {
        writer.pread(block, file.fd, BufferRef.of(bufferIndex, (long)block * BLOCK), BLOCK, file.offset(reads++));
        if (attributeIds.length > 0)
        {
            writer.attributes(attributeIds);
        }
    }

    /**
     * Destroys the context (reads still in flight finish first: destroy waits for them), then checks
     * which path the reads took.
     *
     * @throws IllegalStateException if the reads did not take the path the setup asks for.
     */
    void close()
    {
        context.close();
        final String counts = completedImmediately + " of " + completed + " reads completed on the immediate path";
        if (immediate ? completedImmediately < MIN_IMMEDIATE_SHARE * completed : completedImmediately != 0)
        {
            throw new IllegalStateException("immediate path " + (immediate ? "on" : "off") + ", but " + counts);
        }
    }

    /**
     * @param name a benchmark parameter: {@code on} (the default setup) or {@code off}
     *             ({@code FLAG_NO_IMMEDIATE}).
     * @return true for on.
     */
    static boolean immediate(final String name)
    {
        switch (name)
        {
            case "on":
                return true;
            case "off":
                return false;
            default:
                throw new IllegalArgumentException("immediate=" + name + ": expected on or off");
        }
    }
}
