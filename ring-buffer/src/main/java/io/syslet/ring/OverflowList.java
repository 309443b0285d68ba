package io.syslet.ring;

import org.agrona.DirectBuffer;

import java.util.ArrayDeque;

/**
 * The FIFO of entries that found no room in the ring. Guarded by the ring's overflow lock; it copies
 * each entry to the heap, which is the price of never refusing one. A plain {@link ArrayDeque} is
 * enough: every access holds the lock, and the lock is what orders the list against the OVERFLOW flag.
 */
final class OverflowList
{
    record Entry(int type, byte[] payload)
    {
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();

    void add(final int type, final DirectBuffer src, final int srcOffset, final int length)
    {
        final byte[] payload = new byte[length];
        src.getBytes(srcOffset, payload);
        entries.addLast(new Entry(type, payload));
    }

    Entry peek()
    {
        return entries.peekFirst();
    }

    void remove()
    {
        entries.removeFirst();
    }

    int size()
    {
        return entries.size();
    }
}
