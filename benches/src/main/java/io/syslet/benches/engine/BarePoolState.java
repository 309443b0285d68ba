package io.syslet.benches.engine;

import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import static io.syslet.benches.engine.CachedFile.BLOCK;
import static io.syslet.pool.natives.Natives.LIBC;

/**
 * The least a thread-hop pool can do: {@link #depth} reads in flight, handed to {@link #workers} workers
 * ({@link Engine#WORKERS} by default) through one Agrona queue and back through another, with nothing else. No slots, no events, no
 * attributes, no cancel, no in-flight limit; workers never park (they yield when the queue is empty, as
 * the engine's do before they park), and the submitter spins for its completions instead of sleeping.
 * A real pool pays all that on top, so this is the ceiling of any pool path on this machine that hops
 * threads: between the engine's pool path and the bare preads of {@link SharedBlocksState}, it says how
 * much of the gap the hop itself costs.
 */
@State(Scope.Thread)
public class BarePoolState
{
    /** Reads kept in flight. */
    @Param({"1", "32"})
    public int depth;

    /** Worker threads; as many as the engine's bounded class and the JDK channel's pool have here. */
    @Param({"4"})
    public int workers;

    private CachedFile file;
    private UnsafeBuffer blocks;
    private ManyToManyConcurrentArrayQueue<Read> submissions;
    private ManyToOneConcurrentArrayQueue<Read> completions;
    private Thread[] threads;
    private volatile boolean stopping;
    private int reads;

    /** One read in flight: its block, what to read and what it returned. Reused; published by the queues. */
    static final class Read
    {
        final int block;
        long offset;
        long result;

        Read(final int block)
        {
            this.block = block;
        }
    }

    /**
     * Starts the workers and hands them {@link #depth} reads.
     */
    @Setup(Level.Trial)
    public void setUp(final CachedFile file)
    {
        this.file = file;
        blocks = Engine.direct(depth * BLOCK);
        submissions = new ManyToManyConcurrentArrayQueue<>(Math.max(2, depth));
        completions = new ManyToOneConcurrentArrayQueue<>(depth);
        threads = new Thread[workers];
        for (int i = 0; i < threads.length; i++)
        {
            threads[i] = new Thread(this::work, "bare-pool-" + (i + 1));
            threads[i].setDaemon(true);
            threads[i].start();
        }
        for (int block = 0; block < depth; block++)
        {
            submit(new Read(block));
        }
    }

    /**
     * Waits for a completed read, checks it read a whole block and hands the next read into that block
     * to the workers.
     *
     * @return the block the completed read went to.
     */
    public int completeOne()
    {
        Read read;
        int idle = 0;
        while ((read = completions.poll()) == null)
        {
            idle = Engine.idle(idle);
        }
        if (read.result != BLOCK)
        {
            throw new IllegalStateException("expected a " + BLOCK + "-byte pread, got " + read.result);
        }
        submit(read);
        return read.block;
    }

    /**
     * Stops the workers; each finishes the read it is running.
     */
    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException
    {
        stopping = true;
        for (final Thread worker : threads)
        {
            worker.join();
        }
    }

    private void submit(final Read read)
    {
        read.offset = file.offset(reads++);
        // Room for every read in flight: an offer fails only for the moment a worker is half-way through a poll.
        while (!submissions.offer(read))
        {
            Thread.onSpinWait();
        }
    }

    private void work()
    {
        int idle = 0;
        while (!stopping)
        {
            final Read read = submissions.poll();
            if (read == null)
            {
                idle = Engine.idle(idle);
                continue;
            }
            idle = 0;
            read.result = LIBC.pread(file.fd, blocks.addressOffset() + (long)read.block * BLOCK, BLOCK, read.offset);
            while (!completions.offer(read))
            {
                Thread.onSpinWait();
            }
        }
    }
}
