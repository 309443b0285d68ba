package io.syslet.pool;

import io.syslet.abi.Opcode;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.AttributeStatus;
import io.syslet.attributes.AttributeWriter;
import org.agrona.concurrent.UnsafeBuffer;

import static io.syslet.pool.natives.Natives.LIBC;

/**
 * Collects the attributes an op asked for around its call, on the thread that makes the call, and
 * writes them into its event. Only what was asked for is measured: latency costs readings of the monotonic
 * clock (two for an op completed inside the call that submitted it, three on a worker), CPU time two
 * {@code clock_gettime(CLOCK_THREAD_CPUTIME_ID)} calls and blocking two {@code getrusage(RUSAGE_THREAD)}
 * calls (docs/ABI.md section 21).
 */
final class Measurements
{
    /** {@link Slot#cacheOutcome} before anyone looked. */
    static final int CACHE_UNMEASURED = -1;
    /** {@link Slot#cacheOutcome} when the probing call failed for a reason that says nothing of the cache. */
    static final int CACHE_FAILED = -2;

    private static final int CLOCK_THREAD_CPUTIME_ID = 3;
    private static final int RUSAGE_THREAD = 1;
    /** {@code struct rusage}: two timevals, then 14 longs; ru_nvcsw is the 13th, ru_nivcsw the 14th. */
    private static final int RU_NVCSW_OFFSET = 32 + 12 * 8;
    private static final int RU_NIVCSW_OFFSET = RU_NVCSW_OFFSET + 8;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private Measurements()
    {
    }

    /**
     * Takes the readings before the call.
     */
    static void before(final Slot slot, final Scratch scratch)
    {
        slot.runnerTid = scratch.tid;
        slot.ran = true;
        if (slot.attributeMask == 0)
        {
            return; // nothing to measure: not even the clock
        }
        // Outermost first, so that each reading brackets only the call and the readings inside it: the
        // getrusage syscalls lie outside the CPU-time window, which lies around the latency window.
        if (slot.wants(AttributeId.BLOCKED))
        {
            if (rusage(scratch))
            {
                scratch.voluntaryBefore = scratch.buffer.getLong(Scratch.RUSAGE_OFFSET + RU_NVCSW_OFFSET);
                scratch.involuntaryBefore = scratch.buffer.getLong(Scratch.RUSAGE_OFFSET + RU_NIVCSW_OFFSET);
            }
            else
            {
                scratch.voluntaryBefore = -1;
            }
        }
        if (slot.wants(AttributeId.CPU))
        {
            scratch.cpuBefore = threadCpuNanos(scratch);
        }
        if (isTimed(slot))
        {
            slot.startNanos = System.nanoTime();
        }
    }

    /**
     * @return true if the op's attributes need the clock around its call: latency, or CPU (whose off-CPU
     * half is the service time minus the CPU time).
     */
    static boolean isTimed(final Slot slot)
    {
        return slot.wants(AttributeId.LATENCY) || slot.wants(AttributeId.CPU);
    }

    /**
     * @return the clock now, for a submission or publication timestamp, if the op asked for latency; else 0
     * without reading it.
     */
    static long latencyClock(final Slot slot)
    {
        return slot.wants(AttributeId.LATENCY) ? System.nanoTime() : 0;
    }

    /**
     * Takes the readings after the call and keeps the deltas in the slot.
     */
    static void after(final Slot slot, final Scratch scratch)
    {
        if (slot.attributeMask == 0)
        {
            return;
        }
        if (isTimed(slot))
        {
            slot.endNanos = System.nanoTime();
        }
        if (slot.wants(AttributeId.CPU))
        {
            final long after = threadCpuNanos(scratch);
            slot.cpuMeasured = after >= 0 && scratch.cpuBefore >= 0;
            slot.cpuNanos = after - scratch.cpuBefore;
        }
        if (slot.wants(AttributeId.BLOCKED))
        {
            slot.switchesMeasured = scratch.voluntaryBefore >= 0 && rusage(scratch);
            if (slot.switchesMeasured)
            {
                slot.voluntarySwitches =
                    scratch.buffer.getLong(Scratch.RUSAGE_OFFSET + RU_NVCSW_OFFSET) - scratch.voluntaryBefore;
                slot.involuntarySwitches =
                    scratch.buffer.getLong(Scratch.RUSAGE_OFFSET + RU_NIVCSW_OFFSET) - scratch.involuntaryBefore;
            }
        }
    }

    /**
     * @return true for ops the CACHE attribute describes: positioned reads of files.
     */
    static boolean isCacheable(final int opcode)
    {
        return opcode == Opcode.PREAD || opcode == Opcode.PREADV;
    }

    /**
     * Writes the slot's attributes, in the order the iocb listed them.
     *
     * @param cacheVisible false when setup switched the page-cache side channel off.
     */
    static void write(final Slot slot, final long res, final long publishNanos, final boolean cacheVisible,
        final AttributeWriter writer)
    {
        for (int i = 0; i < slot.attributeCount; i++)
        {
            final int id = slot.attributeIds[i] & 0xFFFF;
            switch (id)
            {
                case AttributeId.LATENCY:
                    if (slot.ran)
                    {
                        writer.latency(slot.submitNanos, slot.startNanos, slot.endNanos, publishNanos);
                    }
                    else
                    {
                        writer.status(id, AttributeStatus.NOT_APPLICABLE);
                    }
                    break;
                case AttributeId.CACHE:
                    if (!cacheVisible || !isCacheable(slot.opcode) || slot.cacheOutcome == CACHE_UNMEASURED)
                    {
                        writer.status(id, AttributeStatus.NOT_APPLICABLE);
                    }
                    else if (slot.cacheOutcome == CACHE_FAILED)
                    {
                        writer.status(id, AttributeStatus.FAILED);
                    }
                    else
                    {
                        writer.cache(slot.cacheOutcome, slot.cacheBytes);
                    }
                    break;
                case AttributeId.CPU:
                    if (!slot.ran)
                    {
                        writer.status(id, AttributeStatus.NOT_APPLICABLE);
                    }
                    else if (!slot.cpuMeasured)
                    {
                        writer.status(id, AttributeStatus.FAILED);
                    }
                    else
                    {
                        writer.cpu(slot.cpuNanos, Math.max(0, slot.endNanos - slot.startNanos - slot.cpuNanos));
                    }
                    break;
                case AttributeId.BLOCKED:
                    if (!slot.ran)
                    {
                        writer.status(id, AttributeStatus.NOT_APPLICABLE);
                    }
                    else if (!slot.switchesMeasured)
                    {
                        writer.status(id, AttributeStatus.FAILED);
                    }
                    else
                    {
                        writer.blocked(slot.voluntarySwitches > 0, slot.voluntarySwitches, slot.involuntarySwitches);
                    }
                    break;
                case AttributeId.BYTES:
                    if (transfersBytes(slot.opcode))
                    {
                        writer.bytes(Math.max(0, res));
                    }
                    else
                    {
                        writer.status(id, AttributeStatus.NOT_APPLICABLE);
                    }
                    break;
                case AttributeId.WORKER_TID:
                    if (slot.ran)
                    {
                        writer.workerTid(slot.runnerTid);
                    }
                    else
                    {
                        writer.status(id, AttributeStatus.NOT_APPLICABLE);
                    }
                    break;
                default:
                    writer.status(id, AttributeStatus.UNSUPPORTED);
            }
        }
    }

    private static boolean transfersBytes(final int opcode)
    {
        switch (opcode)
        {
            case Opcode.PREAD:
            case Opcode.PWRITE:
            case Opcode.PREADV:
            case Opcode.PWRITEV:
            case Opcode.READ:
            case Opcode.WRITE:
            case Opcode.RECV:
            case Opcode.SEND:
                return true;
            default:
                return false;
        }
    }

    /**
     * @return this thread's CPU time in ns, or -1 if the clock could not be read.
     */
    private static long threadCpuNanos(final Scratch scratch)
    {
        if (LIBC.clock_gettime(CLOCK_THREAD_CPUTIME_ID, scratch.address + Scratch.CPU_TIMESPEC_OFFSET) != 0)
        {
            return -1;
        }
        final UnsafeBuffer buffer = scratch.buffer;
        return buffer.getLong(Scratch.CPU_TIMESPEC_OFFSET) * NANOS_PER_SECOND +
            buffer.getLong(Scratch.CPU_TIMESPEC_OFFSET + 8);
    }

    private static boolean rusage(final Scratch scratch)
    {
        return LIBC.getrusage(RUSAGE_THREAD, scratch.address + Scratch.RUSAGE_OFFSET) == 0;
    }
}
