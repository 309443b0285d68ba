package io.syslet.cli;

import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.Positions;
import io.syslet.ring.Ring;
import io.syslet.ring.RingDescriptor;
import io.syslet.ring.RingRegion;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.Callable;
import java.util.zip.CRC32C;

/**
 * Runs producers and consumers over a file-mapped ring and checks that every record arrived once,
 * intact and in each producer's order.
 */
@Command(name = "ring-demo", mixinStandardHelpOptions = true,
    description = "Producers and consumers over a file-mapped ring; checks exactly-once, integrity and order.")
final class RingDemoCommand implements Callable<Integer>
{
    private static final int SEQUENCE_OFFSET = 0;
    private static final int CRC_OFFSET = 8;
    private static final int BODY_OFFSET = 12;
    /** A bit per record and producer to check exactly-once: 12.5 MB each at this many. */
    static final int MAX_RECORDS = 100_000_000;

    @Option(names = "--producers", description = "producer threads (default ${DEFAULT-VALUE})")
    int producers = 2;

    @Option(names = "--consumers", description = "consumer threads (default ${DEFAULT-VALUE})")
    int consumers = 2;

    @Option(names = "--records", description = "records per producer (default ${DEFAULT-VALUE})")
    int recordsPerProducer = 1_000_000;

    @Option(names = "--capacity", description = "ring data bytes, a power of two (default ${DEFAULT-VALUE})")
    int capacity = 4096;

    @Option(names = "--start", description = "initial u32 position, multiple of 8 (default ${DEFAULT-VALUE}: " +
        "just below 2^32 so the run crosses the wrap)")
    long start = 0xFFFF_F000L;

    @Option(names = "--ring-file", description = "ring file to create (default: a temporary file)")
    Path ringFile;

    @Override
    public Integer call() throws Exception
    {
        if (producers < 1 || consumers < 1 || recordsPerProducer < 1 || producers > 64 || consumers > 64 ||
            recordsPerProducer > MAX_RECORDS)
        {
            throw new IllegalArgumentException("--producers and --consumers must be 1..64, --records 1.." + MAX_RECORDS);
        }
        if (start < 0 || start > 0xFFFF_FFFFL)
        {
            // Positions are u32: the ring would start at the low 32 bits, and the report say otherwise.
            throw new IllegalArgumentException("--start " + start + " is outside 0..4294967295");
        }
        if (ringFile != null)
        {
            TraceCommand.checkRingFile(ringFile);
        }
        final Path file = ringFile != null ? ringFile : Files.createTempFile("syslet-ring", ".ring");
        try (RingRegion region = RingRegion.createFile(file, capacity, (int)start))
        {
            final Ring ring = new Ring(region);
            final long total = (long)producers * recordsPerProducer;
            final AtomicLong delivered = new AtomicLong();
            final AtomicLong viaOverflow = new AtomicLong();
            final AtomicLong bytes = new AtomicLong();
            final AtomicLongArray[] seen = new AtomicLongArray[producers];
            for (int p = 0; p < producers; p++)
            {
                seen[p] = new AtomicLongArray((recordsPerProducer + 63) / 64);
            }
            final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            final List<Thread> threads = new ArrayList<>();
            final long startNanos = System.nanoTime();

            for (int p = 0; p < producers; p++)
            {
                final int type = p + 1;
                threads.add(new Thread(() -> produce(ring, type, viaOverflow), "producer-" + type));
            }
            for (int c = 0; c < consumers; c++)
            {
                threads.add(new Thread(() -> consume(ring, total, delivered, bytes, seen, errors),
                    "consumer-" + c));
            }
            threads.forEach(Thread::start);
            for (final Thread thread : threads)
            {
                thread.join();
            }
            final double seconds = (System.nanoTime() - startNanos) / 1e9;

            final AtomicBuffer header = region.buffer();
            System.out.printf("ring file      %s (%d-byte header + %d-byte data area)%n",
                file, RingDescriptor.HEADER_LENGTH, capacity);
            System.out.printf("threads        %d producers x %d consumers%n", producers, consumers);
            System.out.printf("records        %,d delivered of %,d offered, %,d through the overflow list%n",
                delivered.get(), total, viaOverflow.get());
            System.out.printf("throughput     %,.0f records/s, %,.1f MB/s of payload%n",
                delivered.get() / seconds, bytes.get() / seconds / 1e6);
            final long head = Positions.unsigned(header.getIntVolatile(RingDescriptor.HEAD_POSITION_OFFSET));
            System.out.printf("positions      started at %d, head now %d%s%n", start, head,
                head < start ? " (crossed 2^32 and wrapped)" : "");
            System.out.printf("overflow flag  %s%n", ring.isOverflowPending() ? "set" : "clear");
            for (final String error : errors.subList(0, Math.min(errors.size(), 10)))
            {
                System.out.println("ERROR          " + error);
            }
            final boolean ok = errors.isEmpty() && delivered.get() == total;
            System.out.println(ok ? "result         OK: every record once, intact, in producer order" :
                "result         FAILED: " + errors.size() + " errors");
            return ok ? 0 : 1;
        }
        finally
        {
            if (ringFile == null)
            {
                Files.deleteIfExists(file);
            }
        }
    }

    private void produce(final Ring ring, final int type, final AtomicLong viaOverflow)
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[ring.maxPayloadLength()]);
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        final CRC32C crc = new CRC32C();
        long overflowed = 0;
        for (long sequence = 0; sequence < recordsPerProducer; sequence++)
        {
            final int length = BODY_OFFSET + random.nextInt(ring.maxPayloadLength() - BODY_OFFSET + 1);
            for (int i = BODY_OFFSET; i < length; i++)
            {
                payload.putByte(i, (byte)random.nextInt());
            }
            payload.putLong(SEQUENCE_OFFSET, sequence);
            crc.reset();
            crc.update(payload.byteArray(), BODY_OFFSET, length - BODY_OFFSET);
            payload.putInt(CRC_OFFSET, (int)crc.getValue());
            if (!ring.offer(type, payload, 0, length))
            {
                overflowed++;
            }
        }
        viaOverflow.addAndGet(overflowed);
    }

    private void consume(
        final Ring ring,
        final long total,
        final AtomicLong delivered,
        final AtomicLong bytes,
        final AtomicLongArray[] seen,
        final List<String> errors)
    {
        final UnsafeBuffer batch = new UnsafeBuffer(new byte[ring.maxRecordLength() * 8]);
        // This consumer claims batches in ring order, so each producer's records reach it in increasing order.
        final long[] lastSequence = new long[seen.length];
        java.util.Arrays.fill(lastSequence, -1);
        final CRC32C crc = new CRC32C();
        while (delivered.get() < total)
        {
            final int read = ring.read(batch, 0, batch.capacity());
            if (read == 0)
            {
                Thread.onSpinWait();
                continue;
            }
            for (int offset = 0; offset < read; )
            {
                final int length = batch.getInt(offset + EntryDescriptor.LENGTH_OFFSET);
                final int producer = batch.getInt(offset + EntryDescriptor.TYPE_OFFSET) - 1;
                final int body = offset + EntryDescriptor.RECORD_HEADER_LENGTH;
                final long sequence = batch.getLong(body + SEQUENCE_OFFSET);
                crc.reset();
                crc.update(batch.byteArray(), body + BODY_OFFSET, length - EntryDescriptor.RECORD_HEADER_LENGTH - BODY_OFFSET);
                if ((int)crc.getValue() != batch.getInt(body + CRC_OFFSET))
                {
                    errors.add("producer " + producer + " record " + sequence + ": checksum mismatch");
                }
                if (sequence <= lastSequence[producer])
                {
                    errors.add("producer " + producer + " record " + sequence + " arrived after record " +
                        lastSequence[producer]);
                }
                lastSequence[producer] = sequence;
                final long bit = 1L << (sequence & 63);
                if ((seen[producer].getAndAccumulate((int)(sequence >>> 6), bit, (a, b) -> a | b) & bit) != 0)
                {
                    errors.add("producer " + producer + " record " + sequence + " delivered twice");
                }
                bytes.addAndGet(length - EntryDescriptor.RECORD_HEADER_LENGTH);
                delivered.incrementAndGet();
                offset += EntryDescriptor.align(length);
            }
        }
    }
}
