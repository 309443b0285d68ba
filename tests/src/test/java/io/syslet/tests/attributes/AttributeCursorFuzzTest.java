package io.syslet.tests.attributes;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.syslet.attributes.AttributeCursor;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.AttributeStatus;
import io.syslet.attributes.AttributeWriter;
import io.syslet.attributes.MalformedAttributeException;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the attribute TLV decoder two ways. Untrusted bytes: walking them either succeeds, with every
 * typed getter of every OK attribute readable, or stops with a {@link MalformedAttributeException}; no other
 * exception and no read outside the given range (the bytes sit inside a larger buffer filled with a marker,
 * so a read past the range would decode the marker, which no check accepts). Round trip: attributes
 * chosen by the fuzzer, written with {@link AttributeWriter}, decode to exactly what was written.
 *
 * <p>Regression inputs live under {@code src/test/resources/io/syslet/tests/attributes/AttributeCursorFuzzTestInputs/};
 * the {@code fuzz-attributes} execution in this module's pom fuzzes for 30 s in {@code mvn verify}.
 */
final class AttributeCursorFuzzTest
{
    private static final int SLACK = 64;

    @FuzzTest(maxDuration = "30s")
    void decoderNeverReadsOutsideItsRange(final FuzzedDataProvider data)
    {
        final boolean roundTrip = data.consumeBoolean();
        if (roundTrip)
        {
            roundTrip(data.consumeInt(), data.consumeRemainingAsBytes());
        }
        else
        {
            walkUntrusted(data.consumeRemainingAsBytes());
        }
    }

    @Test
    void seededRandomInputs()
    {
        final SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 20_000; i++)
        {
            final byte[] bytes = new byte[random.nextInt(200)];
            random.nextBytes(bytes);
            if (random.nextBoolean())
            {
                // Mostly well-formed headers, so the walk gets past the first TLV.
                for (int at = 0; at + 8 <= bytes.length; at += 8 + random.nextInt(4) * 8)
                {
                    bytes[at + 2] = (byte)random.nextInt(4);
                    bytes[at + 3] = 0;
                    bytes[at + 4] = (byte)(random.nextInt(5) * 8);
                    bytes[at + 5] = bytes[at + 6] = bytes[at + 7] = 0;
                }
                walkUntrusted(bytes);
            }
            else
            {
                roundTrip(random.nextInt(), bytes);
            }
        }
    }

    private static void walkUntrusted(final byte[] bytes)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[bytes.length + 2 * SLACK]);
        buffer.setMemory(0, buffer.capacity(), (byte)0xA5);
        buffer.putBytes(SLACK, bytes);
        final AttributeCursor cursor = new AttributeCursor().wrap(buffer, SLACK, bytes.length);
        try
        {
            while (cursor.next())
            {
                assertTrue(cursor.valueOffset() + cursor.valueLength() <= SLACK + bytes.length);
                if (cursor.isOk() && AttributeId.isKnown(cursor.id()))
                {
                    readEveryGetter(cursor);
                }
            }
        }
        catch (final MalformedAttributeException expected)
        {
            assertTrue(expected.getMessage().startsWith("attribute at byte "), expected.getMessage());
        }
    }

    private static void roundTrip(final int seed, final byte[] values)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final int count = random.nextInt(12);
        final int[] ids = new int[count];
        final int[] statuses = new int[count];
        final long[] numbers = new long[count];
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[count * AttributeId.maxTlvLength(AttributeId.LATENCY)]);
        final AttributeWriter writer = new AttributeWriter().wrap(buffer, 0);
        for (int i = 0; i < count; i++)
        {
            ids[i] = random.nextInt(9);
            statuses[i] = AttributeId.isKnown(ids[i]) ? random.nextInt(4) : AttributeStatus.UNSUPPORTED;
            numbers[i] = i < values.length ? values[i] * 0x0101_0101_0101L : random.nextLong();
            if (statuses[i] != AttributeStatus.OK)
            {
                writer.status(ids[i], statuses[i]);
                continue;
            }
            switch (ids[i])
            {
                case AttributeId.LATENCY: writer.latency(numbers[i], numbers[i] + 1, numbers[i] + 2, numbers[i] + 3); break;
                case AttributeId.CACHE: writer.cache((int)(numbers[i] & 3), numbers[i]); break;
                case AttributeId.CPU: writer.cpu(numbers[i], ~numbers[i]); break;
                case AttributeId.BLOCKED: writer.blocked((numbers[i] & 1) != 0, numbers[i], -numbers[i]); break;
                case AttributeId.BYTES: writer.bytes(numbers[i]); break;
                default: writer.workerTid((int)numbers[i]); break;
            }
        }
        final AttributeCursor cursor = new AttributeCursor().wrap(buffer, 0, writer.length());
        for (int i = 0; i < count; i++)
        {
            assertTrue(cursor.next(), "attribute " + i + " of " + count + " is missing");
            assertEquals(ids[i], cursor.id());
            assertEquals(statuses[i], cursor.status());
            if (statuses[i] != AttributeStatus.OK)
            {
                assertEquals(0, cursor.valueLength());
                continue;
            }
            final long n = numbers[i];
            switch (ids[i])
            {
                case AttributeId.LATENCY:
                    assertEquals(n, cursor.latencySubmitNanos());
                    assertEquals(n + 1, cursor.latencyStartNanos());
                    assertEquals(n + 2, cursor.latencyEndNanos());
                    assertEquals(n + 3, cursor.latencyPublishNanos());
                    break;
                case AttributeId.CACHE:
                    assertEquals((int)(n & 3), cursor.cacheOutcome());
                    assertEquals(n, cursor.cacheBytes());
                    break;
                case AttributeId.CPU:
                    assertEquals(n, cursor.cpuOnNanos());
                    assertEquals(~n, cursor.cpuOffNanos());
                    break;
                case AttributeId.BLOCKED:
                    assertEquals((n & 1) != 0, cursor.blocked());
                    assertEquals(n, cursor.voluntarySwitches());
                    assertEquals(-n, cursor.involuntarySwitches());
                    break;
                case AttributeId.BYTES:
                    assertEquals(n, cursor.bytes());
                    break;
                default:
                    assertEquals((int)n, cursor.workerTid());
            }
        }
        assertFalse(cursor.next());
    }

    private static void readEveryGetter(final AttributeCursor cursor)
    {
        switch (cursor.id())
        {
            case AttributeId.LATENCY:
                cursor.latencySubmitNanos();
                cursor.latencyStartNanos();
                cursor.latencyEndNanos();
                cursor.latencyPublishNanos();
                break;
            case AttributeId.CACHE:
                cursor.cacheOutcome();
                cursor.cacheBytes();
                break;
            case AttributeId.CPU:
                cursor.cpuOnNanos();
                cursor.cpuOffNanos();
                break;
            case AttributeId.BLOCKED:
                cursor.blocked();
                cursor.voluntarySwitches();
                cursor.involuntarySwitches();
                break;
            case AttributeId.BYTES:
                cursor.bytes();
                break;
            default:
                cursor.workerTid();
        }
    }
}
