package io.syslet.benches.engine;

import io.syslet.abi.BufferRef;
import io.syslet.abi.EventCursor;
import io.syslet.abi.IocbWriter;
import io.syslet.pool.SysletContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import static io.syslet.benches.engine.CachedFile.BLOCK;
import static io.syslet.benches.engine.CompoundEvents.BATCH;

/**
 * The raw path the compound-event layer is compared with: iocbs from a reused writer, all of a batch in
 * one submit, events reaped by getEvents and checked one by one. The default setup (immediate path on),
 * like {@link CompletionsState}'s, so both sides run the same ops the same way.
 */
@State(Scope.Thread)
public class RawBatchState
{
    private CachedFile file;
    private SysletContext context;
    private int bufferIndex;
    private IocbWriter writer;
    private UnsafeBuffer events;
    private final EventCursor cursor = new EventCursor();
    private int reads;

    @Setup(Level.Trial)
    public void setUp(final CachedFile file)
    {
        this.file = file;
        context = SysletContext.setup(Engine.params());
        bufferIndex = context.registerBuffer(Engine.direct(BATCH * BLOCK));
        writer = Engine.writer(BATCH);
        events = Engine.direct(BATCH * Engine.EVENT_SPAN);
    }

    /**
     * Submits {@code count} NOPs at once and reaps them.
     *
     * @return ops completed, each checked to have res 0.
     */
    public int nops(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            writer.nop(i);
        }
        return Engine.submitAndReap(context, writer, events, cursor, 0);
    }

    /**
     * Submits {@code count} cached 4 KiB preads at once, each into its own block, and reaps them.
     *
     * @return ops completed, each checked to have read a whole block.
     */
    public int preads(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            writer.pread(i, file.fd, BufferRef.of(bufferIndex, (long)i * BLOCK), BLOCK, file.offset(reads++));
        }
        return Engine.submitAndReap(context, writer, events, cursor, BLOCK);
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        context.close();
    }
}
