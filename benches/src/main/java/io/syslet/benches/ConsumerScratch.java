package io.syslet.benches;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * A consumer thread's destination buffer. Our consumers copy records out by contract; Agrona's handler
 * copies each message out too, so both sides pay for the copy.
 */
@State(Scope.Thread)
public class ConsumerScratch
{
    final UnsafeBuffer destination = Workload.directBuffer(Workload.BATCH_BYTES);
    final CopyingHandler handler = new CopyingHandler(destination);

    /**
     * Copies each payload to the next offset of the destination, as one of our batch reads lays records out.
     */
    static final class CopyingHandler implements MessageHandler
    {
        private final UnsafeBuffer destination;
        private int offset;

        CopyingHandler(final UnsafeBuffer destination)
        {
            this.destination = destination;
        }

        void reset()
        {
            offset = 0;
        }

        @Override
        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            destination.putBytes(offset, buffer, index, length);
            offset += length;
        }
    }
}
