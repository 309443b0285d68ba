package io.syslet.tests.ring;

import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.Positions;
import io.syslet.ring.Ring;
import io.syslet.ring.RingDescriptor;
import io.syslet.ring.RingRegion;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Four producers and two consumers push tens of millions of records of random sizes through a 4 KiB ring
 * whose positions start just below 2^32, so the overflow list is in use nearly all the time, the data
 * area wraps millions of times and the u32 positions wrap past 2^32 more than once.
 *
 * <p>Producers only use {@link Ring#offer} (the path that never loses a record). Each payload carries its
 * producer, a per-producer sequence number and a checksum over those, its length and random bytes. The
 * consumers alternate at random between {@link Ring#poll} and {@link Ring#read} with random batch limits,
 * check each record's header and checksum as they take it, and log the record's stamp (the position it
 * was written at), producer, sequence and aligned length.
 *
 * <p>After the run the two logs are merged by walking the ring's positions from the initial one, as a
 * reader of the data area would: at each position exactly one consumer must have taken a record stamped
 * with it, or a skip entry must have been due there (the next record did not fit before the end of the
 * data area). The walk checks that the records tile the ring with no gap or overlap, that skips appear
 * exactly where the protocol puts them, and that each producer's sequence numbers come out as 0, 1, 2, ...
 * in position order: FIFO per producer across both consumers, nothing lost, nothing twice. A bit set per
 * producer and consumer checks exactly-once on its own.
 *
 * <p>The walk keeps a 64-bit absolute position, so the u32 stamps are compared modulo 2^32 only against
 * the position it expects next. Both consumers' next records carrying the same stamp could only mean one
 * of them took nothing while 2^32 bytes went by; the walk then fails and says so rather than guess.
 *
 * <p>The number of records is the system property {@value #ENTRIES_PROPERTY}; the seed of the payloads is
 * {@value #SEED_PROPERTY} (printed, so a failing payload sequence can be replayed; the interleaving cannot).
 */
final class RingStressTest
{
    static final String ENTRIES_PROPERTY = "syslet.stress.entries";
    static final String SEED_PROPERTY = "syslet.stress.seed";
    /**
     * Measured here on two cores shared with other builds: 0.6 to 1.5 million records a second (load 8 to 4),
     * so 32 to 80 s; the logs take 9 bytes a record, about 430 MB.
     */
    private static final long DEFAULT_ENTRIES = 48_000_000L;

    private static final int CAPACITY = 4096;
    private static final int INITIAL_POSITION = -CAPACITY;
    private static final int PRODUCERS = 4;
    private static final int CONSUMERS = 2;
    /**
     * Offered but not yet consumed records a producer lets pile up before it yields. The ring holds about
     * fifteen average records, so the overflow list is in use almost all the time; the bound only keeps
     * its heap copies from growing without limit when producers outrun consumers.
     */
    private static final long MAX_BACKLOG = 2048;
    /** Not a timing assertion: only stops a hung run from hanging the build. */
    private static final long HANG_GUARD_MINUTES = 20;

    private static final int PRODUCER_OFFSET = 0;
    private static final int SEQUENCE_OFFSET = 4;
    private static final int CHECKSUM_OFFSET = 8;
    private static final int TAG_LENGTH = 16;
    private static final int LOG_CHUNK_SHIFT = 20;
    private static final int LOG_CHUNK_LENGTH = 1 << LOG_CHUNK_SHIFT;

    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong offered = new AtomicLong();
    private final AtomicLong consumed = new AtomicLong();
    private volatile boolean stop;

    @Test
    void everyRecordArrivesOnceWholeAndInProducerOrder() throws InterruptedException
    {
        final long total = Long.getLong(ENTRIES_PROPERTY, DEFAULT_ENTRIES);
        final long seed = Long.getLong(SEED_PROPERTY, System.nanoTime());
        assertTrue(total >= PRODUCERS && total <= Integer.MAX_VALUE,
            ENTRIES_PROPERTY + "=" + total + " must be in [" + PRODUCERS + ", " + Integer.MAX_VALUE + "]");

        final RingRegion region = RingRegion.allocate(CAPACITY, INITIAL_POSITION);
        boolean allJoined = false;
        try
        {
            final Ring ring = new Ring(region);
            final int[] perProducer = new int[PRODUCERS];
            for (int p = 0; p < PRODUCERS; p++)
            {
                perProducer[p] = (int)(total / PRODUCERS + (p < total % PRODUCERS ? 1 : 0));
            }

            final Producer[] producers = new Producer[PRODUCERS];
            final Consumer[] consumers = new Consumer[CONSUMERS];
            final Thread[] threads = new Thread[PRODUCERS + CONSUMERS];
            for (int p = 0; p < PRODUCERS; p++)
            {
                producers[p] = new Producer(ring, p, perProducer[p], seed + p);
                threads[p] = thread("stress-producer-" + p, producers[p]);
            }
            for (int c = 0; c < CONSUMERS; c++)
            {
                consumers[c] = new Consumer(ring, c, perProducer, total, seed ^ (0x5DEECE66DL * (c + 1)));
                threads[PRODUCERS + c] = thread("stress-consumer-" + c, consumers[c]);
            }

            final long start = System.nanoTime();
            for (final Thread thread : threads)
            {
                thread.start();
            }
            final long deadline = start + TimeUnit.MINUTES.toNanos(HANG_GUARD_MINUTES);
            for (final Thread thread : threads)
            {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                if (thread.isAlive())
                {
                    stop = true;
                    fail(thread.getName() + " still running after " + HANG_GUARD_MINUTES + " minutes: " +
                        consumed.get() + " of " + total + " records consumed, " + offered.get() + " offered; head " +
                        Positions.unsigned(ring.headPosition()) + ", tail " + Positions.unsigned(ring.tailPosition()) +
                        ", overflow list " + ring.overflowSize() + ", OVERFLOW flag " + ring.isOverflowPending());
                }
            }
            allJoined = true;
            final long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            final Throwable thrown = failure.get();
            if (thrown != null)
            {
                throw new AssertionError("seed " + seed + ": " + thrown.getMessage(), thrown);
            }

            assertEquals(total, consumed.get(), "records consumed");
            assertEquals(ring.tailPosition(), ring.headPosition(), "ring drained: head == tail");
            assertEquals(0, ring.overflowSize(), "overflow list drained");
            assertFalse(ring.isOverflowPending(), "OVERFLOW flag cleared");

            long viaOverflow = 0;
            for (final Producer producer : producers)
            {
                viaOverflow += producer.viaOverflow;
            }
            assertTrue(viaOverflow > 0, "no offer() went through the overflow list: the test did not test it");
            for (final Consumer consumer : consumers)
            {
                assertTrue(consumer.polled > 0 && consumer.readRecords > 0,
                    "consumer " + consumer.id + " took " + consumer.polled + " records by poll() and " +
                    consumer.readRecords + " by read(): both paths must race");
            }

            checkExactlyOnce(consumers, perProducer);
            final long[] walk = walkPositions(consumers, perProducer, ring.tailPosition());

            System.out.printf("RingStressTest: %,d records (seed %d) in %,d ms; %,d offers via the overflow list; " +
                "consumer 0 poll %,d / read %,d, consumer 1 poll %,d / read %,d; %,d skip entries; %,d bytes: u32 " +
                "positions wrapped %d times%n",
                total, seed, elapsedMillis, viaOverflow, consumers[0].polled, consumers[0].readRecords,
                consumers[1].polled, consumers[1].readRecords, walk[0], walk[1] - Positions.unsigned(INITIAL_POSITION),
                walk[1] >>> 32);
        }
        finally
        {
            // A thread still running after the hang guard may touch the region: freeing it could crash the JVM.
            if (allJoined)
            {
                region.close();
            }
        }
    }

    private Thread thread(final String name, final Runnable body)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                body.run();
            }
            catch (final Throwable ex)
            {
                failure.compareAndSet(null, new AssertionError(name + ": " + ex.getMessage(), ex));
                stop = true;
            }
        }, name);
        thread.setDaemon(true);
        return thread;
    }

    private static void checkExactlyOnce(final Consumer[] consumers, final int[] perProducer)
    {
        for (int p = 0; p < PRODUCERS; p++)
        {
            final BitSet both = (BitSet)consumers[0].seen[p].clone();
            both.and(consumers[1].seen[p]);
            assertTrue(both.isEmpty(), "producer " + p + ": sequence " + both.nextSetBit(0) + " delivered to both consumers");
            final BitSet union = (BitSet)consumers[0].seen[p].clone();
            union.or(consumers[1].seen[p]);
            assertEquals(perProducer[p], union.cardinality(), "producer " + p + ": distinct records delivered");
            assertEquals(perProducer[p], union.nextClearBit(0), "producer " + p + ": first missing sequence");
        }
    }

    /**
     * Merges the consumers' logs by walking positions from the initial one.
     *
     * @return skip entries found, and the absolute position where the walk ended.
     */
    private static long[] walkPositions(final Consumer[] consumers, final int[] perProducer, final int finalTail)
    {
        final Consumer a = consumers[0];
        final Consumer b = consumers[1];
        final int[] nextSequence = new int[PRODUCERS];
        long position = Positions.unsigned(INITIAL_POSITION);
        int i = 0;
        int j = 0;
        int pendingSkip = 0;
        long skips = 0;
        while (i < a.count || j < b.count)
        {
            final boolean inA = i < a.count && a.stamp(i) == (int)position;
            final boolean inB = j < b.count && b.stamp(j) == (int)position;
            if (inA && inB)
            {
                fail("both consumers' next records carry stamp " + Positions.unsigned((int)position) + " (absolute " +
                    position + "): one of them took nothing over 2^32 bytes, so the walk cannot place them");
            }
            final int offset = (int)(position & (CAPACITY - 1));
            if (!inA && !inB)
            {
                if (offset == 0 || pendingSkip != 0)
                {
                    fail("no record at position " + position + " (u32 " + Positions.unsigned((int)position) +
                        ") and no skip entry can be there: a record is lost or misplaced; next in consumer 0 " +
                        describe(a, i) + ", in consumer 1 " + describe(b, j));
                }
                pendingSkip = CAPACITY - offset;
                position += pendingSkip;
                skips++;
                continue;
            }
            final Consumer owner = inA ? a : b;
            final int index = inA ? i++ : j++;
            final int producer = owner.producer(index);
            final int sequence = owner.sequence(index);
            final int span = owner.span(index);
            if (span > CAPACITY - offset)
            {
                fail("record of producer " + producer + " sequence " + sequence + " at position " + position +
                    " spans " + span + " bytes, past the end of the data area " + (CAPACITY - offset) + " bytes on");
            }
            if (pendingSkip != 0 && span <= pendingSkip)
            {
                fail("skip entry of " + pendingSkip + " bytes before position " + position + ", but the record there (" +
                    span + " bytes) would have fitted before the end of the data area");
            }
            if (sequence != nextSequence[producer])
            {
                fail("producer " + producer + ": position order gives sequence " + sequence + " where " +
                    nextSequence[producer] + " was due (position " + position + ", consumer " + owner.id + ")");
            }
            nextSequence[producer]++;
            pendingSkip = 0;
            position += span;
        }
        assertEquals(Positions.unsigned(finalTail), Positions.unsigned((int)position), "walk ends at the tail");
        assertTrue(position > (1L << 32), "positions wrapped past 2^32");
        assertEquals(Arrays.toString(perProducer), Arrays.toString(nextSequence), "records walked per producer");
        return new long[]{skips, position};
    }

    private static String describe(final Consumer consumer, final int index)
    {
        return index < consumer.count ? "stamp " + Positions.unsigned(consumer.stamp(index)) + " producer " +
            consumer.producer(index) + " sequence " + consumer.sequence(index) : "none";
    }

    /**
     * Checksum of a payload: its producer, sequence and length, and its random bytes.
     */
    static long checksum(final DirectBuffer buffer, final int payloadOffset, final int payloadLength)
    {
        long hash = mix(((long)buffer.getInt(payloadOffset + PRODUCER_OFFSET) << 32) ^
            buffer.getInt(payloadOffset + SEQUENCE_OFFSET) ^ ((long)payloadLength << 48));
        int i = TAG_LENGTH;
        for (; i + Long.BYTES <= payloadLength; i += Long.BYTES)
        {
            hash = mix(hash ^ buffer.getLong(payloadOffset + i));
        }
        for (; i < payloadLength; i++)
        {
            hash = mix(hash ^ (buffer.getByte(payloadOffset + i) & 0xFF));
        }
        return hash;
    }

    private static long mix(final long value)
    {
        long h = (value + 0x9E37_79B9_7F4A_7C15L) * 0xBF58_476D_1CE4_E5B9L;
        h = (h ^ (h >>> 31)) * 0x94D0_49BB_1331_11EBL;
        return h ^ (h >>> 29);
    }

    private final class Producer implements Runnable
    {
        private final Ring ring;
        private final int id;
        private final int count;
        private final SplittableRandom random;
        private final UnsafeBuffer source;
        long viaOverflow;

        Producer(final Ring ring, final int id, final int count, final long seed)
        {
            this.ring = ring;
            this.id = id;
            this.count = count;
            this.random = new SplittableRandom(seed);
            this.source = new UnsafeBuffer(new byte[ring.maxPayloadLength()]);
        }

        @Override
        public void run()
        {
            final int maxPayload = ring.maxPayloadLength();
            for (int sequence = 0; sequence < count && !stop; sequence++)
            {
                final int length = TAG_LENGTH + random.nextInt(maxPayload - TAG_LENGTH + 1);
                int i = TAG_LENGTH;
                for (; i + Long.BYTES <= length; i += Long.BYTES)
                {
                    source.putLong(i, random.nextLong());
                }
                for (; i < length; i++)
                {
                    source.putByte(i, (byte)random.nextInt());
                }
                source.putInt(PRODUCER_OFFSET, id);
                source.putInt(SEQUENCE_OFFSET, sequence);
                source.putLong(CHECKSUM_OFFSET, checksum(source, 0, length));

                while (offered.get() - consumed.get() >= MAX_BACKLOG && !stop)
                {
                    Thread.yield();
                }
                if (!ring.offer(id + 1, source, 0, length))
                {
                    viaOverflow++;
                }
                offered.incrementAndGet();
            }
        }
    }

    private final class Consumer implements Runnable
    {
        private final Ring ring;
        final int id;
        private final int[] perProducer;
        private final long total;
        private final SplittableRandom random;
        private final UnsafeBuffer destination = new UnsafeBuffer(new byte[CAPACITY]);
        final BitSet[] seen = new BitSet[PRODUCERS];
        /** Stamp in the high half, sequence in the low half; in chunks, so growing never copies. */
        private long[][] stampsAndSequences = new long[16][];
        /** Producer in the top two bits, aligned length / 8 - 1 in the low six. */
        private byte[][] producersAndSpans = new byte[16][];
        int count;
        long polled;
        long readRecords;

        Consumer(final Ring ring, final int id, final int[] perProducer, final long total, final long seed)
        {
            this.ring = ring;
            this.id = id;
            this.perProducer = perProducer;
            this.total = total;
            this.random = new SplittableRandom(seed);
            for (int p = 0; p < PRODUCERS; p++)
            {
                seen[p] = new BitSet(perProducer[p]);
            }
        }

        @Override
        public void run()
        {
            final int maxRecord = EntryDescriptor.align(ring.maxRecordLength());
            while (consumed.get() < total && !stop)
            {
                int records = 0;
                if (random.nextBoolean())
                {
                    if (ring.poll(destination, 0) > 0)
                    {
                        take(0);
                        records = 1;
                        polled++;
                    }
                }
                else
                {
                    // From one largest record up to the whole destination: some batches hold a single record.
                    final int bytes = ring.read(destination, 0, maxRecord + random.nextInt(CAPACITY - maxRecord + 1));
                    int offset = 0;
                    while (offset < bytes)
                    {
                        offset += take(offset);
                        records++;
                    }
                    assertEquals(bytes, offset, "read() bytes are the sum of its records' aligned lengths");
                    readRecords += records;
                }
                if (records == 0)
                {
                    Thread.yield();
                }
                else
                {
                    consumed.addAndGet(records);
                }
            }
        }

        /**
         * Checks one record copied into the destination and logs it.
         *
         * @return its aligned length.
         */
        private int take(final int offset)
        {
            final int stamp = destination.getInt(offset + EntryDescriptor.STAMP_OFFSET);
            final int length = destination.getInt(offset + EntryDescriptor.LENGTH_OFFSET);
            final int type = destination.getInt(offset + EntryDescriptor.TYPE_OFFSET);
            final int check = destination.getInt(offset + EntryDescriptor.CHECK_OFFSET);
            final int payload = offset + EntryDescriptor.RECORD_HEADER_LENGTH;
            final int payloadLength = length - EntryDescriptor.RECORD_HEADER_LENGTH;
            if (payloadLength < TAG_LENGTH || length > ring.maxRecordLength() ||
                check != EntryDescriptor.check(stamp, length, type, ring.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET)))
            {
                fail("bad header at position " + Positions.unsigned(stamp) + ": length " + length + ", type " + type +
                    ", check " + check);
            }
            final int producer = destination.getInt(payload + PRODUCER_OFFSET);
            final int sequence = destination.getInt(payload + SEQUENCE_OFFSET);
            if (producer < 0 || producer >= PRODUCERS || type != producer + 1 || sequence < 0 ||
                sequence >= perProducer[producer])
            {
                fail("record at position " + Positions.unsigned(stamp) + " has type " + type + ", producer " + producer +
                    ", sequence " + sequence);
            }
            if (destination.getLong(payload + CHECKSUM_OFFSET) != checksum(destination, payload, payloadLength))
            {
                fail("checksum mismatch: producer " + producer + " sequence " + sequence + " at position " +
                    Positions.unsigned(stamp) + ", " + length + " bytes");
            }
            if (seen[producer].get(sequence))
            {
                fail("producer " + producer + " sequence " + sequence + " delivered twice to consumer " + id);
            }
            seen[producer].set(sequence);

            final int span = EntryDescriptor.align(length);
            final int chunk = count >>> LOG_CHUNK_SHIFT;
            final int slot = count & (LOG_CHUNK_LENGTH - 1);
            if (slot == 0)
            {
                if (chunk == stampsAndSequences.length)
                {
                    stampsAndSequences = Arrays.copyOf(stampsAndSequences, chunk * 2);
                    producersAndSpans = Arrays.copyOf(producersAndSpans, chunk * 2);
                }
                stampsAndSequences[chunk] = new long[LOG_CHUNK_LENGTH];
                producersAndSpans[chunk] = new byte[LOG_CHUNK_LENGTH];
            }
            stampsAndSequences[chunk][slot] = ((long)stamp << 32) | (sequence & 0xFFFF_FFFFL);
            producersAndSpans[chunk][slot] = (byte)((producer << 6) | (span / EntryDescriptor.ALIGNMENT - 1));
            count++;
            return span;
        }

        int stamp(final int index)
        {
            return (int)(stampsAndSequences[index >>> LOG_CHUNK_SHIFT][index & (LOG_CHUNK_LENGTH - 1)] >>> 32);
        }

        int sequence(final int index)
        {
            return (int)stampsAndSequences[index >>> LOG_CHUNK_SHIFT][index & (LOG_CHUNK_LENGTH - 1)];
        }

        int producer(final int index)
        {
            return (producersAndSpans[index >>> LOG_CHUNK_SHIFT][index & (LOG_CHUNK_LENGTH - 1)] >>> 6) & 0x3;
        }

        int span(final int index)
        {
            return ((producersAndSpans[index >>> LOG_CHUNK_SHIFT][index & (LOG_CHUNK_LENGTH - 1)] & 0x3F) + 1) *
                EntryDescriptor.ALIGNMENT;
        }
    }
}
