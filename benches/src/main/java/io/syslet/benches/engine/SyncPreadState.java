package io.syslet.benches.engine;

import io.syslet.pool.natives.Natives;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import static io.syslet.benches.engine.CachedFile.BLOCK;
import static io.syslet.pool.natives.Natives.LIBC;

/**
 * A plain pread on the calling thread through the same JNR binding the engine's workers use: no queue,
 * no thread hop, no event. What one thread can do at best; the engine's workers pay this plus the hop.
 * Also the immediate path's own call, {@code preadv2(RWF_NOWAIT)} with a one-element iovec, bare.
 */
@State(Scope.Thread)
public class SyncPreadState
{
    private CachedFile file;
    private UnsafeBuffer buffer;
    private int reads;

    private UnsafeBuffer iovec;

    @Setup(Level.Trial)
    public void setUp(final CachedFile file)
    {
        this.file = file;
        buffer = Engine.direct(BLOCK);
        iovec = Engine.direct(16);
        iovec.putLong(0, buffer.addressOffset());
        iovec.putLong(8, BLOCK);
    }

    /**
     * Reads one random block with {@code preadv2(..., RWF_NOWAIT)}.
     *
     * @return bytes read, checked to be a whole block (the file is cached).
     */
    public long readNowait()
    {
        final long n = LIBC.preadv2(file.fd, iovec.addressOffset(), 1, file.offset(reads++), Natives.RWF_NOWAIT);
        if (n != BLOCK)
        {
            throw new IllegalStateException("expected a " + BLOCK + "-byte preadv2(RWF_NOWAIT), got " + n);
        }
        return n;
    }

    /**
     * {@link #readNowait} between clock readings, the least the LATENCY attribute adds to a read: the
     * immediate path reads the clock twice (start, which is also its submit time, and end, also its
     * publication time), the pool path three times (submit, start, and end, also its publication time).
     *
     * @param readings clock readings to take: all but one before the call, one after.
     * @return bytes read plus the clock's last reading, so that no reading can be left out.
     */
    public long readNowaitTimed(final int readings)
    {
        long clock = 0;
        for (int i = 1; i < readings; i++)
        {
            clock += System.nanoTime();
        }
        final long n = readNowait();
        return n + clock + System.nanoTime();
    }

    /**
     * Reads one random block.
     *
     * @return bytes read, checked to be a whole block.
     */
    public long read()
    {
        final long n = LIBC.pread(file.fd, buffer.addressOffset(), BLOCK, file.offset(reads++));
        if (n != BLOCK)
        {
            throw new IllegalStateException("expected a " + BLOCK + "-byte pread, got " + n);
        }
        return n;
    }
}
