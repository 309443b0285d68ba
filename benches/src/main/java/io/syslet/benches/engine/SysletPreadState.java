package io.syslet.benches.engine;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Event;
import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbWriter;
import io.syslet.pool.SysletContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import static io.syslet.benches.engine.CachedFile.BLOCK;

/**
 * The engine keeping {@link #depth} preads of the cached file in flight. Each op has its own 4 KiB
 * block of one registered buffer and its index as cookie; its event says which block to read into next.
 *
 * <p>{@link #completeOne()} hands out one completion per call. Reaping is batched: when the events
 * from the last getEvents are used up, the replacement preads queued meanwhile in the writer go out in
 * one submit, so {@link #depth} ops are in flight whenever the thread waits, and the next getEvents
 * takes every event that is ready.
 */
@State(Scope.Thread)
public class SysletPreadState
{
    /** Ops kept in flight. */
    @Param({"1", "32"})
    public int depth;

    private CachedFile file;
    private SysletContext context;
    private int bufferIndex;
    private IocbWriter writer;
    private UnsafeBuffer events;
    private final EventCursor cursor = new EventCursor();
    private int reads;

    /**
     * Sets up a context and puts {@link #depth} reads in the writer, to go out with the first reap.
     */
    @Setup(Level.Trial)
    public void setUp(final CachedFile file)
    {
        this.file = file;
        context = SysletContext.setup(Engine.params());
        bufferIndex = context.registerBuffer(Engine.direct(depth * BLOCK));
        writer = Engine.writer(depth);
        events = Engine.direct(depth * Engine.EVENT_SPAN);
        cursor.wrap(events, 0, 0);
        for (int block = 0; block < depth; block++)
        {
            queueRead(block);
        }
    }

    /**
     * Takes one completed read, checks it read a whole block, and queues the next read into its block.
     *
     * @return the block the read went to.
     */
    public int completeOne()
    {
        final Event event;
        if (cursor.next())
        {
            event = cursor.event();
        }
        else
        {
            Engine.submitAll(context, writer);
            Engine.reap(context, events, depth, 1, cursor);
            event = Engine.nextEvent(cursor);
        }
        Engine.expectRes(event, BLOCK);
        final int block = (int)event.cookie();
        queueRead(block);
        return block;
    }

    private void queueRead(final int block)
    {
        writer.pread(block, file.fd, BufferRef.of(bufferIndex, (long)block * BLOCK), BLOCK, file.offset(reads++));
    }

    /**
     * Destroys the context; reads still in flight finish first (destroy waits for them).
     */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        context.close();
    }
}
