package io.syslet.cli;

import io.syslet.ring.Positions;
import io.syslet.ring.RingDescriptor;
import io.syslet.ring.RingFormatException;
import io.syslet.ring.RingRegion;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code syslet dump}: decodes the events in a ring file that another process maps and writes (a
 * context set up with a ring file, e.g. {@code syslet trace --ring-file F}). It only looks: the owner
 * consumes the ring, and dump never moves head, so it takes nothing from it (see {@link RingPeeker}).
 */
@Command(name = "dump", mixinStandardHelpOptions = true,
    description = {
        "Decodes the event records of a ring file another process is writing: cookie, op, res, flags, " +
            "attributes. Reads without consuming (the owner still gets every event).",
        "Without --follow: the records between head and tail now. With --follow: every record committed " +
            "from now on, until Ctrl-C, --count or --timeout; if the writer laps dump, it says how many " +
            "bytes it missed and goes on from head."})
final class DumpCommand implements Callable<Integer>
{
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    @Parameters(index = "0", paramLabel = "RINGFILE", description = "the ring file (SetupParams.ringFile)")
    Path ringFile;

    @Option(names = "--follow", description = "keep reading new records as they are committed")
    boolean follow;

    @Option(names = "--count", paramLabel = "N", description = "stop after N records")
    long count = Long.MAX_VALUE;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
        description = "stop after this long, e.g. 10s, 500ms, 2m (default: never)")
    long timeoutNanos = Long.MAX_VALUE;

    @Option(names = "--json", description = "one JSON object per record")
    boolean json;

    @Override
    public Integer call()
    {
        if (count < 1)
        {
            throw new IllegalArgumentException("--count " + count + " is below 1");
        }
        if (!Files.isRegularFile(ringFile))
        {
            throw new IllegalArgumentException(ringFile + ": no such ring file");
        }
        final RingRegion region;
        try
        {
            region = RingRegion.openFile(ringFile);
        }
        catch (final RingFormatException | UncheckedIOException e)
        {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        try (region)
        {
            final RingPeeker peeker = new RingPeeker(region.buffer());
            final PrintStream out = System.out;
            if (!json)
            {
                final int head = peeker.head();
                final int tail = peeker.tail();
                out.printf("# ring %s: capacity %d bytes, head %d, tail %d (%d bytes not consumed by the owner)%n",
                    ringFile, peeker.capacity(), Positions.unsigned(head), Positions.unsigned(tail),
                    Integer.toUnsignedLong(tail - head));
            }
            final long records = follow ? follow(peeker, out) : snapshot(peeker, out);
            if (!json)
            {
                out.printf("# %d records%s%n", records,
                    peeker.missedBytes() > 0 ? ", missed " + peeker.missedBytes() + " bytes" : "");
            }
            if ((peeker.producerFlags() & RingDescriptor.FLAG_OVERFLOW) != 0)
            {
                System.err.println("syslet: the ring's OVERFLOW flag is set: more events wait in the owner's " +
                    "overflow list, which only the owning process can flush");
            }
            out.flush();
            return 0;
        }
    }

    /**
     * The records between head and the tail as it is now; stops early at a reservation that is not
     * committed yet (its producer may be slow, or dead).
     */
    private long snapshot(final RingPeeker peeker, final PrintStream out)
    {
        final UnsafeBuffer record = new UnsafeBuffer(new byte[RingDescriptor.maxRecordLength(peeker.capacity())]);
        final EventFormat format = new EventFormat();
        final int end = peeker.tail();
        final long deadline = deadline();
        long records = 0;
        while (records < count && Positions.isBefore(peeker.position(), end) && System.nanoTime() - deadline < 0)
        {
            final int length = peeker.peek(record, 0);
            if (length == RingPeeker.NOTHING)
            {
                if (!json)
                {
                    out.printf("# stopped at position %d: a reservation there is not committed yet%n",
                        Positions.unsigned(peeker.position()));
                }
                break;
            }
            if (length == RingPeeker.LAPPED)
            {
                missed(peeker, out);
                continue;
            }
            if (!Positions.isBefore(peeker.lastPosition(), end))
            {
                break; // committed after the snapshot's tail was read
            }
            print(format, record, peeker.lastPosition(), out);
            records++;
        }
        return records;
    }

    /**
     * Every record committed from head on, as it is committed.
     */
    private long follow(final RingPeeker peeker, final PrintStream out)
    {
        final UnsafeBuffer record = new UnsafeBuffer(new byte[RingDescriptor.maxRecordLength(peeker.capacity())]);
        final EventFormat format = new EventFormat();
        final long deadline = deadline();
        long records = 0;
        while (records < count && System.nanoTime() - deadline < 0)
        {
            final int length = peeker.peek(record, 0);
            if (length == RingPeeker.NOTHING)
            {
                LockSupport.parkNanos(IDLE_PARK_NANOS);
                continue;
            }
            if (length == RingPeeker.LAPPED)
            {
                missed(peeker, out);
                continue;
            }
            print(format, record, peeker.lastPosition(), out);
            records++;
        }
        return records;
    }

    private long deadline()
    {
        // Saturates: "never" stays in the future for the ~292 years a long of nanoseconds lasts.
        final long now = System.nanoTime();
        return timeoutNanos > Long.MAX_VALUE / 2 ? now + Long.MAX_VALUE / 2 : now + timeoutNanos;
    }

    private void print(final EventFormat format, final UnsafeBuffer record, final int position, final PrintStream out)
    {
        out.println(json ? format.json(record, 0, position) : format.text(record, 0, position));
    }

    private void missed(final RingPeeker peeker, final PrintStream out)
    {
        if (json)
        {
            out.println(new Json().beginObject().field("missed_bytes", peeker.lastMissedBytes())
                .field("position", Positions.unsigned(peeker.position())).endObject());
        }
        else
        {
            out.printf("# missed %d bytes: the writer lapped this reader; going on from head %d%n",
                peeker.lastMissedBytes(), Positions.unsigned(peeker.position()));
        }
    }

    /** Durations as people write them: {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h}; a bare number is seconds. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Long>
    {
        private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

        @Override
        public Long convert(final String value)
        {
            final Matcher matcher = DURATION.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!matcher.matches())
            {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (examples: 10s, 500ms, 2m)");
            }
            final long amount = Long.parseLong(matcher.group(1));
            final String unit = matcher.group(2) == null ? "s" : matcher.group(2);
            switch (unit)
            {
                case "ms": return TimeUnit.MILLISECONDS.toNanos(amount);
                case "m": return TimeUnit.MINUTES.toNanos(amount);
                case "h": return TimeUnit.HOURS.toNanos(amount);
                default: return TimeUnit.SECONDS.toNanos(amount);
            }
        }
    }
}
