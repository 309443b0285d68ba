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

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
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
        "Without --follow: the records between head and tail now. With --follow: the records from head " +
            "(those not yet consumed by the owner), then each one as it is committed, until Ctrl-C, --count " +
            "or --timeout; if the writer laps dump, it says how many bytes it missed and goes on from head; " +
            "if a new writer replaces the file, dump says so and follows the new ring.",
        "Needs only read permission on the file."})
final class DumpCommand implements Callable<Integer>
{
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** How long --follow sits idle before it looks whether the file has been replaced (one stat per look). */
    private static final long REPLACED_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

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

    /** The ring being read: --follow moves on to the one that replaces the file. */
    private OpenRing current;

    @Override
    public Integer call()
    {
        if (count < 1)
        {
            throw new IllegalArgumentException("--count " + count + " is below 1");
        }
        current = OpenRing.open(ringFile);
        try
        {
            final PrintStream out = System.out;
            if (!json)
            {
                final int head = current.peeker.head();
                final int tail = current.peeker.tail();
                out.printf("# ring %s: capacity %d bytes, head %d, tail %d (%d bytes not consumed by the owner)%n",
                    ringFile, current.peeker.capacity(), Positions.unsigned(head), Positions.unsigned(tail),
                    Integer.toUnsignedLong(tail - head));
            }
            final long records;
            try
            {
                records = follow ? follow(out) : snapshot(current.peeker, out);
            }
            catch (final InternalError fault)
            {
                // SIGBUS on the mapping: something cut the file short under this reader (a writer that truncates it
                // in place; syslet's own contexts replace the file instead).
                throw new IllegalStateException("ring file " + ringFile + " was truncated while dump read it (" +
                    fault.getMessage() + ")", fault);
            }
            final long missed = current.missedBytes(); // --follow may have moved on to a ring that replaced the file
            if (!json)
            {
                out.printf("# %d records%s%n", records, missed > 0 ? ", missed " + missed + " bytes" : "");
            }
            if ((current.peeker.producerFlags() & RingDescriptor.FLAG_OVERFLOW) != 0)
            {
                System.err.println("syslet: the ring's OVERFLOW flag is set: more events wait in the owner's " +
                    "overflow list, which only the owning process can flush");
            }
            out.flush();
            return 0;
        }
        finally
        {
            current.close();
        }
    }

    /**
     * The ring file dump has mapped (read-only: dump needs only read permission), and which file that was, so
     * that --follow can tell when a new writer has replaced it.
     */
    private static final class OpenRing
    {
        final Path file;
        final RingRegion region;
        final RingPeeker peeker;
        final Object fileKey;
        /** Bytes missed in rings followed before this one. */
        long missedBefore;

        private OpenRing(final Path file, final RingRegion region, final Object fileKey)
        {
            this.file = file;
            this.region = region;
            this.fileKey = fileKey;
            try
            {
                this.peeker = new RingPeeker(region.buffer());
            }
            catch (final RuntimeException e)
            {
                region.close();
                throw e;
            }
        }

        static OpenRing open(final Path file)
        {
            final Object key = fileKey(file);
            if (key == null)
            {
                throw new IllegalArgumentException(file + ": " + notARingFile(file));
            }
            try
            {
                return new OpenRing(file, RingRegion.openFileReadOnly(file), key);
            }
            catch (final RingFormatException | UncheckedIOException e)
            {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }

        /**
         * @return the file's identity (device and inode) now, or null if there is no regular file there.
         */
        static Object fileKey(final Path file)
        {
            try
            {
                final BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                return attributes.isRegularFile() ? attributes.fileKey() : null;
            }
            catch (final IOException e)
            {
                return null;
            }
        }

        /**
         * @return why a path without a regular file is no ring file: not only a missing one.
         */
        private static String notARingFile(final Path file)
        {
            try
            {
                return Files.readAttributes(file, BasicFileAttributes.class).isDirectory() ?
                    "a directory, not a ring file" : "not a regular file (a FIFO, a socket or a device), not a ring file";
            }
            catch (final java.nio.file.NoSuchFileException e)
            {
                return "no such ring file";
            }
            catch (final IOException e)
            {
                return FileTree.ioError(e);
            }
        }

        /**
         * @return true if another file now has this one's name: a new context made its ring there.
         */
        boolean replaced()
        {
            final Object now = fileKey(file);
            return now != null && !now.equals(fileKey);
        }

        long missedBytes()
        {
            return missedBefore + peeker.missedBytes();
        }

        void close()
        {
            region.close();
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
     * Every record committed from head on, as it is committed. When a new context replaces the file (a second
     * {@code syslet trace --ring-file} with the same name), dump says so and follows the new ring from its head.
     */
    private long follow(final PrintStream out)
    {
        OpenRing ring = current;
        UnsafeBuffer record = recordBuffer(ring.peeker);
        final EventFormat format = new EventFormat();
        final long deadline = deadline();
        long records = 0;
        long idleSince = System.nanoTime();
        while (records < count && System.nanoTime() - deadline < 0)
        {
            final RingPeeker peeker = ring.peeker;
            final int length = peeker.peek(record, 0);
            if (length == RingPeeker.NOTHING)
            {
                if (System.nanoTime() - idleSince > REPLACED_CHECK_NANOS)
                {
                    idleSince = System.nanoTime(); // one look per 100 ms idle, not one per idle turn
                    final OpenRing next = ring.replaced() ? reopen(ring) : null;
                    if (next != null)
                    {
                        ring.close();
                        ring = next;
                        current = next;
                        record = recordBuffer(ring.peeker);
                        replacedNote(ring, out);
                    }
                }
                LockSupport.parkNanos(IDLE_PARK_NANOS);
                continue;
            }
            idleSince = System.nanoTime();
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

    /**
     * @return the ring that now has the file's name, carrying the bytes missed so far; null if it cannot be read
     * yet (a writer still making it): the next idle look tries again.
     */
    private static OpenRing reopen(final OpenRing old)
    {
        try
        {
            final OpenRing next = OpenRing.open(old.file);
            next.missedBefore = old.missedBytes();
            return next;
        }
        catch (final IllegalArgumentException notYet)
        {
            return null;
        }
    }

    private void replacedNote(final OpenRing ring, final PrintStream out)
    {
        if (json)
        {
            out.println(new Json().beginObject().field("ring_replaced", ring.file.toString())
                .field("position", Positions.unsigned(ring.peeker.position())).endObject());
        }
        else
        {
            out.printf("# ring file replaced by a new writer: following the new ring from head %d%n",
                Positions.unsigned(ring.peeker.position()));
        }
    }

    private static UnsafeBuffer recordBuffer(final RingPeeker peeker)
    {
        return new UnsafeBuffer(new byte[RingDescriptor.maxRecordLength(peeker.capacity())]);
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
        SysletCommand.checkOutput(out);
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
