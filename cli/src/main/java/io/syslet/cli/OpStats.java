package io.syslet.cli;

import org.HdrHistogram.Histogram;

/**
 * What {@code trace} learnt about one syscall: how many ran, how many failed, their service and queue
 * times (HdrHistogram, nanoseconds, 3 significant digits) and how many slept in the kernel.
 */
final class OpStats
{
    /** The percentiles every latency table shows, in this order. */
    static final double[] PERCENTILES = {50, 90, 99, 99.9};
    static final String[] PERCENTILE_NAMES = {"p50", "p90", "p99", "p99.9"};
    static final String[] PERCENTILE_KEYS = {"p50", "p90", "p99", "p999"};

    final String name;
    /** Service time: end - start of the call, from the latency attribute. */
    final Histogram service = new Histogram(3);
    /** Queue time: start - submit, the wait for a worker (0 for the immediate path). */
    final Histogram queue = new Histogram(3);
    long count;
    long errors;
    long blocked;
    long blockedMeasured;

    OpStats(final String name)
    {
        this.name = name;
    }

    void recordLatency(final long queueNanos, final long serviceNanos)
    {
        // The ABI promises both are >= 0; a negative one would be an engine bug, and HdrHistogram refuses it.
        queue.recordValue(Math.max(0, queueNanos));
        service.recordValue(Math.max(0, serviceNanos));
    }

    void recordBlocked(final boolean slept)
    {
        blockedMeasured++;
        if (slept)
        {
            blocked++;
        }
    }

    /**
     * Writes {"count":..,"errors":..,"blocked":..,"service_ns":{..},"queue_ns":{..}} as the value of a
     * field the caller has named.
     */
    void toJson(final Json json)
    {
        json.beginObject()
            .field("count", count)
            .field("errors", errors)
            .field("blocked", blocked)
            .field("blocked_measured", blockedMeasured);
        histogramJson(json.name("service_ns"), service);
        histogramJson(json.name("queue_ns"), queue);
        json.endObject();
    }

    private static void histogramJson(final Json json, final Histogram histogram)
    {
        json.beginObject().field("samples", histogram.getTotalCount());
        for (int i = 0; i < PERCENTILES.length; i++)
        {
            json.field(PERCENTILE_KEYS[i], histogram.getTotalCount() == 0 ? 0 :
                histogram.getValueAtPercentile(PERCENTILES[i]));
        }
        json.field("max", histogram.getMaxValue()).endObject();
    }
}
