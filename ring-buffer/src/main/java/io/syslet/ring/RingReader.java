package io.syslet.ring;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;

import java.util.concurrent.TimeUnit;

/**
 * The consumer's side of a {@link Ring}: taking records, waiting for them, draining the overflow list, and
 * looking at the ring's state. An owner that lets others reap its ring (the AIO engine's completion ring) hands
 * out this, not the ring: a reaper cannot reserve or offer into a stream it does not produce. Each method is
 * the {@link Ring} method of the same name, documented there.
 */
public interface RingReader
{
    /** {@link Ring#poll}. */
    int poll(MutableDirectBuffer dst, int dstOffset);

    /** {@link Ring#read}. */
    int read(MutableDirectBuffer dst, int dstOffset, int maxBytes);

    /** {@link Ring#flush}. */
    int flush();

    /** {@link Ring#stateToken}. */
    int stateToken();

    /** {@link Ring#await}. */
    boolean await(int token, long timeout, TimeUnit unit) throws InterruptedException;

    /** {@link Ring#capacity}. */
    int capacity();

    /** {@link Ring#maxRecordLength}. */
    int maxRecordLength();

    /** {@link Ring#maxPayloadLength}. */
    int maxPayloadLength();

    /** {@link Ring#headPosition}. */
    int headPosition();

    /** {@link Ring#tailPosition}. */
    int tailPosition();

    /** {@link Ring#occupancy}. */
    int occupancy();

    /** {@link Ring#isOverflowPending}. */
    boolean isOverflowPending();

    /** {@link Ring#overflowSize}. */
    int overflowSize();

    /**
     * {@link Ring#buffer}: the region's memory, for reading its header (the owner flags, say). Writing records
     * through it bypasses the ring's protocol, as any write into another's memory would.
     */
    AtomicBuffer buffer();
}
