package io.syslet.cli;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * A JFR event per op that {@code syslet trace --jfr} saw complete, so a recording shows the engine's
 * ops beside the JVM's own events (GC, safepoints, thread parks). Committed when the op's event is
 * reaped, not when the syscall ran: the times are fields, taken from the latency attribute.
 *
 * <p>Record with {@code JDK_JAVA_OPTIONS=-XX:StartFlightRecording=filename=trace.jfr ./syslet trace --jfr},
 * then {@code jfr print --events io.syslet.Op trace.jfr}. Without {@code --jfr} the class is never
 * even loaded: trace checks one boolean per op and creates nothing.
 */
@Name(OpEvent.NAME)
@Label("syslet op")
@Category({"syslet"})
@Description("One op run by the syslet engine, with its latency attribute split into queue and service time")
@StackTrace(false)
public final class OpEvent extends Event
{
    /** The event type's name in recordings. */
    public static final String NAME = "io.syslet.Op";

    @Label("Op")
    @Description("Opcode name: statx, openat, pread, close")
    String op;

    @Label("Path")
    String path;

    @Label("Queue Time")
    @Description("start - submit: the wait for a worker")
    @Timespan(Timespan.NANOSECONDS)
    long queueTime;

    @Label("Service Time")
    @Description("end - start: the syscall itself")
    @Timespan(Timespan.NANOSECONDS)
    long serviceTime;

    @Label("Total Time")
    @Description("publish - submit")
    @Timespan(Timespan.NANOSECONDS)
    long totalTime;

    @Label("Cache")
    @Description("pread only: HIT, MISS, PARTIAL, UNSUPPORTED_BY_FILESYSTEM; else empty")
    String cache;

    @Label("Bytes")
    @DataAmount
    long bytes;

    @Label("Result")
    @Description("The syscall's result, or a negated errno")
    long res;

    @Label("Immediate")
    @Description("Completed on the submitting thread (page-cache hit), with no thread hop")
    boolean immediate;

    /**
     * Commits one event if a recording wants it. Called only under {@code --jfr}.
     */
    static void publish(final String op, final java.nio.file.Path path, final long queueTime, final long serviceTime,
        final long totalTime, final String cache, final long bytes, final long res, final boolean immediate)
    {
        final OpEvent event = new OpEvent();
        if (!event.shouldCommit())
        {
            return; // --jfr, but no recording has this event enabled
        }
        event.op = op;
        event.path = path.toString();
        event.queueTime = queueTime;
        event.serviceTime = serviceTime;
        event.totalTime = totalTime;
        event.cache = cache;
        event.bytes = bytes;
        event.res = res;
        event.immediate = immediate;
        event.commit();
    }
}
