package io.syslet.benches.engine;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.atomic.AtomicInteger;

import static io.syslet.benches.engine.CachedFile.BLOCK;
import static io.syslet.pool.natives.Natives.LIBC;

/**
 * The most any pool of workers could do with the 32 reads of depth 32 on this machine: the benchmark's
 * threads make bare JNR preads, each into whichever of 32 blocks the next count names, as a pool's
 * workers take the next op whatever block it reads into. No queue, no hand-off, no event, no submitter
 * competing for the cores. A block is written by one thread, then the next, as in a pool: the copy into
 * a block another core wrote last costs more than into one this core owns, which is what a pool pays too.
 */
@State(Scope.Benchmark)
public class SharedBlocksState
{
    /** Blocks in the shared buffer: the depth the pool paths are compared at. */
    static final int BLOCKS = 32;

    private final AtomicInteger next = new AtomicInteger();
    private CachedFile file;
    private UnsafeBuffer blocks;

    @Setup(Level.Trial)
    public void setUp(final CachedFile file)
    {
        this.file = file;
        blocks = Engine.direct(BLOCKS * BLOCK);
    }

    /**
     * Reads the next random block of the file into the next block of the buffer.
     *
     * @return bytes read, checked to be a whole block.
     */
    public long read()
    {
        final int i = next.getAndIncrement();
        final long n = LIBC.pread(file.fd, blocks.addressOffset() + (long)(i & (BLOCKS - 1)) * BLOCK, BLOCK,
            file.offset(i));
        if (n != BLOCK)
        {
            throw new IllegalStateException("expected a " + BLOCK + "-byte pread, got " + n);
        }
        return n;
    }
}
