package io.syslet.pool;

import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static io.syslet.pool.natives.Natives.LIBC;

/**
 * One worker class: a bounded lock-free queue of slots and up to {@code maxWorkers} threads that run
 * them. A worker that finds the queue empty looks again {@code spinTries} times, yielding its core
 * before each look, then parks; an idle worker retires after the idle timeout. A submit wakes a parked
 * worker or, if none is parked and none is spinning, starts one, up to the limit; past it the op waits
 * in the queue, which has room for every op in flight, so the pool never deadlocks and never grows
 * memory without bound.
 *
 * <p>Lost-wakeup argument: a worker that goes idle first publishes itself in {@code idle}
 * (incrementing the volatile {@code idleCount}), then looks at the queue once more. A submitter first
 * offers to the queue (a CAS), then reads {@code idleCount}. Both pairs are sequentially consistent
 * volatile accesses, so either the worker sees the op or the submitter sees the worker.
 */
final class WorkerPool
{
    private static final int PR_SET_TIMERSLACK = 29;

    interface Runner
    {
        void run(Slot slot, Scratch scratch);
    }

    private final String name;
    private final int maxWorkers;
    private final int spinTries;
    private final long idleTimeoutNanos;
    private final Runner runner;
    private final ManyToManyConcurrentArrayQueue<Slot> queue;
    private final ReentrantLock idleLock = new ReentrantLock();
    private final ArrayDeque<Worker> idle;
    private final List<Worker> all = new ArrayList<>();
    private final AtomicInteger workers = new AtomicInteger();
    private final AtomicInteger spinning = new AtomicInteger();
    private final AtomicInteger started = new AtomicInteger();
    private volatile int idleCount;
    private volatile boolean stopping;

    WorkerPool(final String name, final int maxWorkers, final int queueCapacity, final int spinTries,
        final long idleTimeoutNanos, final Runner runner)
    {
        this.name = name;
        this.maxWorkers = maxWorkers;
        this.spinTries = spinTries;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.runner = runner;
        this.queue = new ManyToManyConcurrentArrayQueue<>(Math.max(2, queueCapacity));
        this.idle = new ArrayDeque<>(maxWorkers);
    }

    /**
     * Queues a slot and makes sure a worker will take it.
     */
    void execute(final Slot slot)
    {
        // The queue has room for every op in flight, but can answer full for a moment while a worker is half-way
        // through taking the entry this offer would reuse.
        while (!queue.offer(slot))
        {
            Thread.yield();
        }
        // Enough spinners will find it on their own; otherwise wake or start someone.
        if (queue.size() <= spinning.get())
        {
            return;
        }
        wakeOrStartOne();
    }

    private void wakeOrStartOne()
    {
        if (idleCount > 0 && wakeOne())
        {
            return;
        }
        startWorkerIfBelowLimit();
    }

    int workerCount()
    {
        return workers.get();
    }

    int queued()
    {
        return queue.size();
    }

    /**
     * Asks every worker to stop once the queue is empty, wakes them and waits for them up to the
     * deadline.
     *
     * @return true if every worker thread ended.
     */
    boolean stop(final long deadlineNanos) throws InterruptedException
    {
        stopping = true;
        final List<Worker> snapshot;
        synchronized (all)
        {
            snapshot = new ArrayList<>(all);
        }
        for (final Worker worker : snapshot)
        {
            LockSupport.unpark(worker.thread);
        }
        boolean allEnded = true;
        for (final Worker worker : snapshot)
        {
            final long left = deadlineNanos - System.nanoTime();
            if (left > 0)
            {
                worker.thread.join(Math.max(1, left / 1_000_000));
            }
            allEnded &= !worker.thread.isAlive();
        }
        return allEnded;
    }

    /**
     * Drains queued slots; for use once the pool has stopped.
     */
    Slot pollQueued()
    {
        return queue.poll();
    }

    private boolean wakeOne()
    {
        final Worker worker;
        idleLock.lock();
        try
        {
            worker = idle.pollFirst();
            if (worker == null)
            {
                return false;
            }
            idleCount--;
            worker.woken = true;
        }
        finally
        {
            idleLock.unlock();
        }
        LockSupport.unpark(worker.thread);
        return true;
    }

    private void startWorkerIfBelowLimit()
    {
        int count;
        do
        {
            count = workers.get();
            if (count >= maxWorkers || stopping)
            {
                return;
            }
        }
        while (!workers.compareAndSet(count, count + 1));
        final Worker worker = new Worker();
        worker.thread = new Thread(worker, "syslet-" + name + "-" + started.incrementAndGet());
        worker.thread.setDaemon(true);
        synchronized (all)
        {
            all.add(worker);
        }
        worker.thread.start();
    }

    private final class Worker implements Runnable
    {
        Thread thread;
        /** Set under idleLock by the waker that took this worker off the idle list. */
        volatile boolean woken;

        @Override
        public void run()
        {
            final Scratch scratch = new Scratch(LIBC.gettid());
            // Timer slack (50 us by default) would stretch every timed sleep a worker runs; ops ask for
            // exact times.
            LIBC.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
            try
            {
                while (true)
                {
                    Slot slot = queue.poll();
                    if (slot == null)
                    {
                        slot = spin();
                    }
                    if (slot == null)
                    {
                        if (stopping)
                        {
                            break;
                        }
                        if (!awaitWork())
                        {
                            break;
                        }
                        continue;
                    }
                    runner.run(slot, scratch);
                }
            }
            finally
            {
                synchronized (all)
                {
                    all.remove(this);
                }
            }
        }

        private Slot spin()
        {
            spinning.incrementAndGet();
            boolean counted = true;
            try
            {
                for (int i = 0; i < spinTries && !stopping; i++)
                {
                    // A yield, not a pause: on a machine with more runnable threads than cores (the submitter,
                    // the reaper and the other workers) it hands this core at once to the thread that will
                    // queue the next op or reap the last event, where a pausing spinner would keep it until
                    // preempted. With nothing else to run it returns at once: a syscall, about 0.3 us here.
                    Thread.yield();
                    final Slot slot = queue.poll();
                    if (slot != null)
                    {
                        // A submitter that offered after this poll may have counted this worker as a spinner
                        // that will take its op, and left it at that; but this worker is about to run an op
                        // that may block. The submitter offers, then reads the count; this worker lowers
                        // the count, then looks at the queue (both sequentially consistent): so either the
                        // submitter sees the lower count and wakes someone, or this worker sees the op.
                        counted = false;
                        if (spinning.decrementAndGet() == 0 && !queue.isEmpty())
                        {
                            wakeOrStartOne();
                        }
                        return slot;
                    }
                }
                return null;
            }
            finally
            {
                if (counted)
                {
                    spinning.decrementAndGet();
                }
            }
        }

        /**
         * Parks until woken or the idle timeout.
         *
         * @return false if this worker retired.
         */
        private boolean awaitWork()
        {
            idleLock.lock();
            try
            {
                woken = false;
                idle.addFirst(this);
                idleCount++;
            }
            finally
            {
                idleLock.unlock();
            }
            if (!queue.isEmpty() || stopping)
            {
                leaveIdle(false);
                return true;
            }
            final long deadline = System.nanoTime() + idleTimeoutNanos;
            while (!woken && !stopping)
            {
                final long left = deadline - System.nanoTime();
                if (left <= 0)
                {
                    return !leaveIdle(true);
                }
                LockSupport.parkNanos(this, left);
            }
            leaveIdle(false);
            return true;
        }

        /**
         * Takes this worker off the idle list if a waker has not already.
         *
         * @return true if it retired.
         */
        private boolean leaveIdle(final boolean retire)
        {
            idleLock.lock();
            try
            {
                if (idle.remove(this))
                {
                    idleCount--;
                    if (retire)
                    {
                        workers.decrementAndGet();
                        return true;
                    }
                }
                return false;
            }
            finally
            {
                idleLock.unlock();
            }
        }
    }
}
