package io.syslet.benches.engine;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import static io.syslet.benches.engine.CachedFile.BLOCK;

/**
 * The JDK's {@link AsynchronousFileChannel} keeping {@link #depth} reads of the cached file in flight,
 * on a fixed pool of {@link Engine#WORKERS} threads (the engine's bounded class has as many). On Linux
 * the channel runs each read as a task on that pool, a positional read into our direct buffer.
 *
 * <p>The same shape as {@link SysletPreadState}: one thread submits and reaps. The futures form a
 * ring; {@link #completeOne()} waits for the oldest, checks it, and issues the next read into the same
 * buffer, so {@link #depth} reads are in flight whenever the thread waits.
 */
@State(Scope.Thread)
public class AfcPreadState
{
    /** Reads kept in flight. */
    @Param({"1", "32"})
    public int depth;

    private CachedFile file;
    private ExecutorService pool;
    private AsynchronousFileChannel channel;
    private ByteBuffer[] buffers;
    private Future<Integer>[] pending;
    private int oldest;
    private int reads;

    /**
     * Opens the channel on its pool and issues {@link #depth} reads.
     */
    @Setup(Level.Trial)
    @SuppressWarnings("unchecked")
    public void setUp(final CachedFile file) throws IOException
    {
        this.file = file;
        pool = Engine.fixedPool("afc", Engine.WORKERS);
        channel = AsynchronousFileChannel.open(file.path, Set.of(StandardOpenOption.READ), pool);
        buffers = new ByteBuffer[depth];
        pending = new Future[depth];
        for (int i = 0; i < depth; i++)
        {
            buffers[i] = ByteBuffer.allocateDirect(BLOCK);
            pending[i] = issue(i);
        }
    }

    /**
     * Waits for the oldest read, checks it read a whole block, and issues the next into its buffer.
     *
     * @return the buffer's index.
     */
    public int completeOne() throws InterruptedException, ExecutionException
    {
        final int slot = oldest;
        final int n = pending[slot].get();
        if (n != BLOCK)
        {
            throw new IllegalStateException("expected a " + BLOCK + "-byte read, got " + n);
        }
        pending[slot] = issue(slot);
        oldest = slot + 1 == depth ? 0 : slot + 1;
        return slot;
    }

    private Future<Integer> issue(final int slot)
    {
        final ByteBuffer buffer = buffers[slot];
        buffer.clear();
        return channel.read(buffer, file.offset(reads++));
    }

    /**
     * Waits for the reads in flight, then closes the channel and its pool.
     */
    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        for (final Future<Integer> future : pending)
        {
            future.get();
        }
        channel.close();
        Engine.shutdown(pool);
    }
}
