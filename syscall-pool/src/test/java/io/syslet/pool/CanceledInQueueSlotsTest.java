package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

import static io.syslet.pool.SysletTestSupport.reapOne;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An op cancelled while queued leaves the in-flight count at once, but its request slot stays in its queue until
 * a worker of its class takes it off, and the slots are shared by both classes. With every unbounded worker
 * blocked, a program that cancels its queued sleeps (a timeout, say) filled the spare slots, and then the
 * context refused every op, a regular-file op too, with EAGAIN while inFlight() was 1 of 4 (found by the user
 * review; 19 cancels did it). A submit that finds every slot taken now frees the cancelled ops' slots itself.
 */
class CanceledInQueueSlotsTest
{
    @Test
    void opsCancelledInTheQueueOfABlockedClassNeverHoldUpASubmit()
    {
        final int[] pipe = new int[2];
        assertEquals(0, Natives.LIBC.pipe2(pipe, Natives.O_CLOEXEC));
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(4).unboundedWorkers(1)))
        {
            final int buf = ctx.registerBuffer(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 8)));
            final IocbWriter iocbs = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 8)));
            final UnsafeBuffer events = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 8));
            iocbs.read(1, pipe[0], BufferRef.of(buf, 0), 16).submitTo(ctx); // takes the one unbounded worker
            for (int i = 0; i < 1000; i++)
            {
                assertEquals(1, iocbs.nanosleep(100 + i, TimeUnit.HOURS.toNanos(1)).submitTo(ctx),
                    "sleep " + i + " queued behind the read");
                assertEquals(AioContext.CANCELED, ctx.cancel(100 + i));
                assertEquals(-Errno.ECANCELED, reapOne(ctx, 100 + i).res());
                assertEquals(1, ctx.inFlight(), "only the read is in flight");
            }
            // A bounded op goes through, its pool idle as ever.
            assertEquals(1, iocbs.nop(2).submitTo(ctx));
            assertEquals(0, reapOne(ctx, 2).res());
            // And the live op that went back to its queue's tail still runs: the read gets its bytes.
            final UnsafeBuffer bytes = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8, 8));
            assertEquals(3, Natives.LIBC.write(pipe[1], bytes.addressOffset(), 3));
            final Event read = reapOne(ctx, 1);
            assertEquals(3, read.res(), read.toString());
        }
        finally
        {
            Natives.LIBC.close(pipe[0]);
            Natives.LIBC.close(pipe[1]);
        }
    }

    /**
     * Two submits that find every slot taken at once: one goes through the queues, and the other answered EAGAIN
     * at once ("every request slot is taken") with inFlight() 1 of 4, though the first was freeing the very slots
     * it needed. The interleaving is pinned by holding the context's compacting lock on another thread, as the
     * first submit does while it goes through the queues, and letting it go once the second submit waits for it.
     */
    @Test
    void aSubmitThatFindsAnotherGoingThroughTheQueuesWaitsForItInsteadOfAnsweringEagain() throws Exception
    {
        final int[] pipe = new int[2];
        assertEquals(0, Natives.LIBC.pipe2(pipe, Natives.O_CLOEXEC));
        try (SysletContext ctx = SysletContext.setup(new SetupParams().maxInFlight(4).unboundedWorkers(1)))
        {
            final int buf = ctx.registerBuffer(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 8)));
            final IocbWriter iocbs = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 8)));
            iocbs.read(1, pipe[0], BufferRef.of(buf, 0), 16).submitTo(ctx); // takes the one unbounded worker
            // 4 + 16 slots: the read holds one, 19 cancelled sleeps the rest, and no submit has yet found them taken.
            for (int i = 0; i < 19; i++)
            {
                assertEquals(1, iocbs.nanosleep(100 + i, TimeUnit.HOURS.toNanos(1)).submitTo(ctx));
                assertEquals(AioContext.CANCELED, ctx.cancel(100 + i));
                assertEquals(-Errno.ECANCELED, reapOne(ctx, 100 + i).res());
            }
            assertEquals(1, ctx.inFlight());
            final Field field = SysletContext.class.getDeclaredField("compacting");
            field.setAccessible(true);
            final ReentrantLock compacting = (ReentrantLock)field.get(ctx);
            final CountDownLatch held = new CountDownLatch(1);
            final AtomicBoolean submitReturned = new AtomicBoolean();
            final Thread otherSubmit = new Thread(() ->
            {
                compacting.lock();
                try
                {
                    held.countDown();
                    while (!compacting.hasQueuedThreads() && !submitReturned.get())
                    {
                        Thread.onSpinWait();
                    }
                }
                finally
                {
                    compacting.unlock();
                }
            });
            otherSubmit.start();
            held.await();
            int submitted;
            try
            {
                submitted = iocbs.nop(2).submitTo(ctx);
            }
            catch (final io.syslet.abi.AioException e)
            {
                submitted = -e.errno();
            }
            finally
            {
                submitReturned.set(true);
                otherSubmit.join();
            }
            assertEquals(1, submitted, "a nop with 1 op of 4 in flight, while another submit frees the slots");
            assertEquals(0, reapOne(ctx, 2).res());
            final UnsafeBuffer bytes = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8, 8));
            assertEquals(3, Natives.LIBC.write(pipe[1], bytes.addressOffset(), 3));
            assertEquals(3, reapOne(ctx, 1).res());
        }
        finally
        {
            Natives.LIBC.close(pipe[0]);
            Natives.LIBC.close(pipe[1]);
        }
    }
}
