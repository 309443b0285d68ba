package io.syslet.pool;

import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
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
 * memory without bound. A thread that cannot be started leaves the pool with the workers it has; a pool
 * left with none rejects what is queued (each op completes with EAGAIN) rather than keep it forever.
 *
 * <p>Lost-wakeup argument: a worker that goes idle first publishes itself in {@code idle}
 * (incrementing the volatile {@code idleCount}), then looks at the queue once more. A submitter first
 * offers to the queue (a CAS), then reads {@code idleCount}. Both pairs are sequentially consistent
 * volatile accesses, so either the worker sees the op or the submitter sees the worker.
 */
final class WorkerPool
{
    private static final int PR_SET_TIMERSLACK = 29;

    /** What the pool does with a queued op. */
    interface Runner
    {
        void run(Slot slot, Scratch scratch);
    }

    private final String name;
    private final int maxWorkers;
    private final int spinTries;
    private final long idleTimeoutNanos;
    private final Runner runner;
    /** Completes a queued op that no worker will run: the pool has none and cannot start one. */
    private final Runner rejecter;
    /** Null for the engine's own threads. */
    private final ThreadFactory threadFactory;
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
        final long idleTimeoutNanos, final ThreadFactory threadFactory, final Runner runner, final Runner rejecter)
    {
        this.rejecter = rejecter;
        this.threadFactory = threadFactory;
        this.name = name;
        this.maxWorkers = maxWorkers;
        this.spinTries = spinTries;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.runner = runner;
        this.queue = new ManyToManyConcurrentArrayQueue<>(Math.max(2, queueCapacity));
        this.idle = new ArrayDeque<>(maxWorkers);
    }

    /**
     * Queues a slot and makes sure a worker will take it, or, if the pool has no worker and cannot start one,
     * rejects every op in its queue, this one included.
     *
     * @param caller the submitting thread's scratch, for the events of rejected ops.
     */
    void execute(final Slot slot, final Scratch caller)
    {
        // The queue has room for every op in flight, but can answer full for a moment while a worker is half-way
        // through taking the entry this offer would reuse.
        while (!queue.offer(slot))
        {
            Thread.yield();
        }
        // Enough spinners will find it on their own; otherwise wake or start someone.
        if (queue.size() <= spinning.get() || wakeOrStartOne() || workers.get() > 0)
        {
            return;
        }
        // No worker, and none could be started: nobody would ever take these ops. (A worker another
        // submitter starts meanwhile finds fewer ops to run; each op is polled once, by it or by this loop.)
        Slot queued;
        while ((queued = queue.poll()) != null)
        {
            rejecter.run(queued, caller);
        }
    }

    /**
     * @return false if no worker was woken or started: none idle, and the pool is at its limit, stopping,
     * or could not start a thread.
     */
    private boolean wakeOrStartOne()
    {
        return (idleCount > 0 && wakeOne()) || startWorkerIfBelowLimit();
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
     * @return true if every worker thread ended. An interrupt of the caller does not cut the wait short (nothing
     * else would free what the caller is waiting to free): it is kept for the caller to see afterwards.
     */
    boolean stop(final long deadlineNanos)
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
        boolean interrupted = false;
        for (final Worker worker : snapshot)
        {
            long left;
            while (worker.thread.isAlive() && (left = deadlineNanos - System.nanoTime()) > 0)
            {
                try
                {
                    worker.thread.join(Math.max(1, left / 1_000_000));
                }
                catch (final InterruptedException e)
                {
                    interrupted = true;
                }
            }
            allEnded &= !worker.thread.isAlive();
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
        return allEnded;
    }

    /**
     * @return true if {@code thread} is one of this pool's workers.
     */
    boolean isWorker(final Thread thread)
    {
        synchronized (all)
        {
            for (final Worker worker : all)
            {
                if (worker.thread == thread)
                {
                    return true;
                }
            }
            return false;
        }
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

    /**
     * @return true if a worker was started.
     */
    private boolean startWorkerIfBelowLimit()
    {
        int count;
        do
        {
            count = workers.get();
            if (count >= maxWorkers || stopping)
            {
                return false;
            }
        }
        while (!workers.compareAndSet(count, count + 1));
        final Worker worker = new Worker();
        try
        {
            worker.thread = newThread(worker);
            // Here, not in the thread: direct memory can run out too, and then this is a thread the pool could
            // not start, with the ops handled as below, not a worker that dies with its op left in the queue.
            worker.scratch = new Scratch(worker.thread);
            synchronized (all)
            {
                all.add(worker);
            }
            worker.launched = true;
            worker.thread.start();
            return true;
        }
        catch (final Throwable e)
        {
            // OutOfMemoryError is what Thread.start throws when the OS refuses a thread (a process or cgroup
            // limit), and it leaves the JVM sound. Thrown on, it would leave the count raised with no thread
            // behind it, and lose the submit's count of the ops it had already accepted (on a worker, in spin,
            // the op it had just taken). Anything else is the caller's factory failing, which may throw any
            // Throwable (an AssertionError, a LinkageError): the same refused thread.
            synchronized (all)
            {
                all.remove(worker);
            }
            workers.decrementAndGet();
            return false;
        }
    }

    private Thread newThread(final Worker worker)
    {
        if (threadFactory == null)
        {
            final Thread thread = new Thread(worker, "syslet-" + name + "-" + started.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
        final Thread thread = threadFactory.newThread(worker);
        if (thread == null)
        {
            throw new IllegalStateException("the worker thread factory returned null");
        }
        if (thread.getState() != Thread.State.NEW)
        {
            // A thread it started itself, or one of its own it handed out again: start() would refuse it, and a
            // thread that runs the worker's code without this pool having launched it must not touch the count.
            throw new IllegalStateException("the worker thread factory returned a thread that is " +
                thread.getState() + ", not new: " + thread);
        }
        return thread;
    }

    private final class Worker implements Runnable
    {
        Thread thread;
        /** Made before the thread starts, which publishes it to the thread. */
        Scratch scratch;
        /** Set under idleLock by the waker that took this worker off the idle list. */
        volatile boolean woken;
        /**
         * Set before this pool starts the thread, which publishes it. A factory that breaks its contract and
         * starts the thread itself runs this worker's code unlaunched: it must leave at once, since the pool
         * counts that start as refused.
         */
        boolean launched;

        @Override
        public void run()
        {
            if (!launched)
            {
                return;
            }
            boolean retired = false;
            scratch.tid = LIBC.gettid();
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
                            retired = true; // awaitWork took it out of the count
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
                if (!retired)
                {
                    // Stopped, or ended by a throw outside an op: a count left raised would stand for a worker
                    // that is gone, and the pool would not start the one its queue needs.
                    workers.decrementAndGet();
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
                    if (retire)
                    {
                        // Out of the worker count before out of idleCount (both sequentially consistent): a
                        // submitter that finds idleCount without this worker then finds the count without it
                        // too, and starts another. The other order left a window in which it saw neither an
                        // idle worker to wake nor room to start one, or saw this worker still counted after a
                        // refused start, and left its op to a worker that never looks at the queue again.
                        workers.decrementAndGet();
                    }
                    idleCount--;
                    return retire;
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
