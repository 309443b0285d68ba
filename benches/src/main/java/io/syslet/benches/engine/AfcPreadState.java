package io.syslet.benches.engine;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ExecutorService;

import static io.syslet.benches.engine.CachedFile.BLOCK;

/**
 * The JDK's {@link AsynchronousFileChannel} keeping {@link #depth} reads of the cached file in flight,
 * on a fixed pool of {@link Engine#WORKERS} threads (the engine's bounded class has as many). On Linux
 * the channel runs each read as a task on that pool, a positional read into our direct buffer.
 *
 * <p>The same shape as {@link SysletPreadState}: one thread submits and reaps. Each read carries a
 * {@link CompletionHandler}, which the pool thread that ran it calls, and which hands the read to this
 * thread through a queue, as the engine's workers hand events to its ring. {@link #completeOne()} takes
 * whichever read completed first, as getEvents does, checks it and issues the next into its buffer, so
 * {@link #depth} reads are in flight whenever the thread waits. It waits as {@link BarePoolState}'s
 * submitter does, spinning and then yielding, not parking: the engine's getEvents spins and yields too
 * before it sleeps, while {@code Future.get()} would park this thread at once and pay a futex wake per
 * read that the engine does not.
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
    private ManyToOneConcurrentArrayQueue<Read> completions;
    private int reads;

    /** One read in flight: its buffer and what it returned. Reused; published by the queue. */
    static final class Read
    {
        final int slot;
        final ByteBuffer buffer = ByteBuffer.allocateDirect(BLOCK);
        int result;
        Throwable failure;

        Read(final int slot)
        {
            this.slot = slot;
        }
    }

    /** Called on the pool thread that ran the read: hands it to the benchmark thread. */
    private final CompletionHandler<Integer, Read> handler = new CompletionHandler<>()
    {
        @Override
        public void completed(final Integer n, final Read read)
        {
            read.result = n;
            read.failure = null;
            hand(read);
        }

        @Override
        public void failed(final Throwable exc, final Read read)
        {
            read.failure = exc;
            hand(read);
        }

        private void hand(final Read read)
        {
            // Room for every read in flight: an offer fails only for the moment the consumer is mid-poll.
            while (!completions.offer(read))
            {
                Thread.onSpinWait();
            }
        }
    };

    /**
     * Opens the channel on its pool and issues {@link #depth} reads.
     */
    @Setup(Level.Trial)
    public void setUp(final CachedFile file) throws IOException
    {
        this.file = file;
        pool = Engine.fixedPool("afc", Engine.WORKERS);
        channel = AsynchronousFileChannel.open(file.path, Set.of(StandardOpenOption.READ), pool);
        completions = new ManyToOneConcurrentArrayQueue<>(depth);
        for (int i = 0; i < depth; i++)
        {
            issue(new Read(i));
        }
    }

    /**
     * Waits for a completed read, checks it read a whole block, and issues the next into its buffer.
     *
     * @return the buffer's index.
     */
    public int completeOne()
    {
        final Read read = take();
        if (read.failure != null)
        {
            throw new IllegalStateException("read failed", read.failure);
        }
        if (read.result != BLOCK)
        {
            throw new IllegalStateException("expected a " + BLOCK + "-byte read, got " + read.result);
        }
        issue(read);
        return read.slot;
    }

    private Read take()
    {
        Read read;
        int idle = 0;
        while ((read = completions.poll()) == null)
        {
            idle = Engine.idle(idle);
        }
        return read;
    }

    private void issue(final Read read)
    {
        read.buffer.clear();
        channel.read(read.buffer, file.offset(reads++), read, handler);
    }

    /**
     * Waits for the reads in flight, then closes the channel and its pool.
     */
    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        for (int i = 0; i < depth; i++)
        {
            take();
        }
        channel.close();
        Engine.shutdown(pool);
    }
}
