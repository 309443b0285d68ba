package io.syslet.tests.ring;

import io.syslet.ring.EntryDescriptor;
import io.syslet.ring.Ring;
import io.syslet.ring.RingRegion;
import org.agrona.concurrent.UnsafeBuffer;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.LincheckAssertionError;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt.forClasses;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linearizability of {@link Ring#offer} and {@link Ring#poll} (and {@link Ring#flush}) with several producers
 * and consumers, against a sequential FIFO queue.
 *
 * <p>Each scenario runs on a 256-byte ring (largest record 32 bytes, so eight fill it) whose positions start
 * just below 2^32, so scenarios cross the wrap of the u32 positions and the end of the data area (skip
 * entries). Offers carry a value, a type derived from it and one of three payload lengths up to the maximum;
 * poll returns all three so a record delivered with the wrong length, type or bytes does not match the
 * specification. One configuration starts with seven aborted 32-byte reservations in the ring, so the first offer
 * of a scenario fills it, the next ones spill to the overflow list, and the first poll steps over the aborted
 * records and then brings the list back into the ring (as do flush and later offers); a fixed scenario makes
 * sure the model checker explores exactly that case with threads racing on the overflow path.
 *
 * <p>{@link Ring#poll} waits (spins) while a producer has reserved the record at head and not committed it.
 * That is a blocking queue, not an obstruction-free one, so model checking keeps
 * {@code checkObstructionFreedom} off (its default): with it on, Lincheck would rightly report the spin on a
 * preempted producer, which is the documented behaviour, not a bug. Lincheck still explores the interleavings
 * in which the producer resumes, and the spin loop is where it switches threads.
 *
 * <p>{@link Ring#read} is left out on purpose: it is documented as relaxed (it returns what is committed and
 * does not wait for a producer in flight at head), so it is not a linearizable poll.
 */
final class RingLincheckTest
{
    private static final int CAPACITY = 256;
    private static final int MAX_PAYLOAD = CAPACITY / 8 - EntryDescriptor.RECORD_HEADER_LENGTH;
    /** Offers that went through the overflow list; counted in stress mode, where scenarios run on plain threads. */
    private static final AtomicLong OVERFLOWED_OFFERS = new AtomicLong();

    @Test
    void modelCheckingNearWrap()
    {
        modelChecking().check(NearWrap.class);
    }

    @Test
    void modelCheckingThroughOverflowList() throws NoSuchMethodException
    {
        modelChecking().addCustomScenario(overflowRace()).check(AbortedFill.class);
    }

    @Test
    void stressNearWrap()
    {
        stress().check(NearWrap.class);
    }

    @Test
    void stressThroughOverflowList() throws NoSuchMethodException
    {
        final long before = OVERFLOWED_OFFERS.get();
        stress().addCustomScenario(overflowRace()).check(AbortedFill.class);
        // The configuration is meant to reach the overflow list; if it stopped doing so this test would check less.
        assertTrue(OVERFLOWED_OFFERS.get() > before, "no offer went through the overflow list");
    }

    /**
     * The model checker treats each Agrona buffer call as one atomic step (Lincheck cannot instrument Agrona's
     * Unsafe internals); this shows it still switches threads between such calls, so the checks above explore
     * interleavings inside the ring's operations rather than only between whole operations.
     */
    @Test
    void modelCheckingSwitchesThreadsBetweenBufferCalls()
    {
        final LincheckAssertionError error = assertThrows(LincheckAssertionError.class,
            () -> modelChecking().sequentialSpecification(CounterSpec.class).iterations(5).check(LostUpdateCounter.class));
        assertTrue(error.getMessage().contains("Invalid execution results"), error.getMessage());
    }

    private static ModelCheckingOptions modelChecking()
    {
        // Lincheck 3.7 cannot instrument Agrona 2.x inside (retransforming org.agrona.UnsafeApi fails verification,
        // and it cannot resolve the SHOULD_BOUNDS_CHECK interface constant), so each Agrona call is one atomic step
        // with a thread switch point before it: every volatile load, CAS and release store of the ring is still a
        // point where another thread may run. Copies (putBytes/getBytes) become atomic here; stress mode runs them
        // for real.
        return new ModelCheckingOptions()
            .addGuarantee(forClasses(name -> name.startsWith("org.agrona.")).allMethods().treatAsAtomic())
            .sequentialSpecification(QueueSpec.class)
            .iterations(15)
            .invocationsPerIteration(1_000)
            .threads(3)
            .actorsPerThread(3)
            .actorsBefore(2)
            .actorsAfter(2);
    }

    private static StressOptions stress()
    {
        return new StressOptions()
            .sequentialSpecification(QueueSpec.class)
            .iterations(30)
            .invocationsPerIteration(2_000)
            .threads(3)
            .actorsPerThread(4)
            .actorsBefore(2)
            .actorsAfter(2);
    }

    /**
     * On {@link AbortedFill}: the first offer fills the ring and the second goes to the overflow list before the
     * threads start; then two threads offer (through the list, as OVERFLOW is set) while all three poll and one
     * flushes, racing the drain of the list into the ring against new entries joining it.
     */
    private static ExecutionScenario overflowRace() throws NoSuchMethodException
    {
        final Method offer = RingQueue.class.getMethod("offer", int.class, int.class);
        final Method poll = RingQueue.class.getMethod("poll");
        final Method flush = RingQueue.class.getMethod("flush");
        return new ExecutionScenario(
            List.of(actor(offer, 1, 2), actor(offer, 2, 0)),
            List.of(
                List.of(actor(offer, 3, 1), actor(poll)),
                List.of(actor(poll), actor(flush)),
                List.of(actor(offer, 4, 2), actor(poll))),
            List.of(actor(poll), actor(poll), actor(poll)),
            null);
    }

    private static Actor actor(final Method method, final Object... arguments)
    {
        return new Actor(method, List.of(arguments), false, false, false, false, false);
    }

    /**
     * Payload length for a size choice: 4 bytes (the value only), half the maximum, the maximum.
     *
     * @param size 0, 1 or 2.
     * @return payload bytes.
     */
    static int payloadLength(final int size)
    {
        return size == 0 ? 4 : size == 1 ? 4 + (MAX_PAYLOAD - 4) / 2 : MAX_PAYLOAD;
    }

    /**
     * @param value the record's value.
     * @return the record type offers give it, so a type mix-up shows.
     */
    static int typeOf(final int value)
    {
        return 1 + (value & 3);
    }

    /**
     * @param value  the record's value.
     * @param length payload length.
     * @return what poll returns for such a record.
     */
    static String describe(final int value, final int length)
    {
        return value + "/" + length + "/" + typeOf(value);
    }

    /**
     * The ring under test. Lincheck creates one per scenario run through a subclass's no-argument constructor.
     */
    public abstract static class RingQueue
    {
        private final Ring ring;

        RingQueue(final int initialPosition, final int abortedFill)
        {
            ring = new Ring(RingRegion.allocate(CAPACITY, initialPosition));
            for (int i = 0; i < abortedFill; i++)
            {
                ring.abort(ring.tryReserve(1, MAX_PAYLOAD));
            }
        }

        /**
         * Adds a record; it is never lost, whether it goes straight into the ring or through the overflow list.
         *
         * @param value the value, written as the first 4 payload bytes and repeated as a byte pattern after.
         * @param size  payload length choice, see {@link #payloadLength(int)}.
         */
        @Operation
        public void offer(
            @Param(gen = IntGen.class, conf = "1:9") final int value,
            @Param(gen = IntGen.class, conf = "0:2") final int size)
        {
            final int length = payloadLength(size);
            final UnsafeBuffer src = new UnsafeBuffer(new byte[length]);
            src.putInt(0, value);
            for (int i = 4; i < length; i++)
            {
                src.putByte(i, (byte)(value + i));
            }
            // The boolean (ring or overflow path) depends on byte occupancy, which the FIFO spec does not model.
            if (!ring.offer(typeOf(value), src, 0, length))
            {
                OVERFLOWED_OFFERS.incrementAndGet();
            }
        }

        /**
         * Takes the record at head.
         *
         * @return "value/length/type", or null when the ring and the overflow list are empty.
         */
        @Operation
        public String poll()
        {
            final UnsafeBuffer dst = new UnsafeBuffer(new byte[ring.maxRecordLength()]);
            final int length = ring.poll(dst, 0);
            if (length == 0)
            {
                return null;
            }
            final int payloadLength = length - EntryDescriptor.RECORD_HEADER_LENGTH;
            final int value = dst.getInt(EntryDescriptor.RECORD_HEADER_LENGTH);
            for (int i = 4; i < payloadLength; i++)
            {
                if (dst.getByte(EntryDescriptor.RECORD_HEADER_LENGTH + i) != (byte)(value + i))
                {
                    return "corrupt payload byte " + i + " of " + describe(value, payloadLength);
                }
            }
            final int type = dst.getInt(EntryDescriptor.TYPE_OFFSET);
            return type == typeOf(value) ? describe(value, payloadLength) : "type " + type + " for " + value;
        }

        /**
         * Moves the overflow list into the ring as room allows; changes nothing a consumer can tell.
         */
        @Operation
        public void flush()
        {
            ring.flush();
        }
    }

    /**
     * Empty ring, positions start 16 bytes below 2^32: the first records cross the wrap and the end of the data
     * area at once (a 24- or 32-byte record does not fit in the last 16 bytes: a skip entry goes first).
     */
    public static final class NearWrap extends RingQueue
    {
        /**
         * For Lincheck.
         */
        public NearWrap()
        {
            super(-16, 0);
        }
    }

    /**
     * Seven aborted 32-byte records (224 of 256 bytes) already in the ring, positions start 64 bytes below 2^32:
     * the first offer of a scenario fills the ring, later ones go to the overflow list until a poll steps over
     * the aborted records and frees the space.
     */
    public static final class AbortedFill extends RingQueue
    {
        /**
         * For Lincheck.
         */
        public AbortedFill()
        {
            super(-64, 7);
        }
    }

    /**
     * A counter kept in a ring region's memory with a read then a write: a lost update is possible only if the
     * model checker switches threads between two buffer calls.
     */
    public static final class LostUpdateCounter
    {
        private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);

        /**
         * @return the value after the increment.
         */
        @Operation
        public int increment()
        {
            final int value = buffer.getIntVolatile(0) + 1;
            buffer.putIntVolatile(0, value);
            return value;
        }
    }

    /**
     * Specification of {@link LostUpdateCounter}.
     */
    public static final class CounterSpec
    {
        private int value;

        /**
         * @return the value after the increment.
         */
        public int increment()
        {
            return ++value;
        }
    }

    /**
     * The sequential specification: a FIFO queue of records.
     */
    public static final class QueueSpec
    {
        private final ArrayDeque<String> queue = new ArrayDeque<>();

        /**
         * @param value the value.
         * @param size  payload length choice.
         */
        public void offer(final int value, final int size)
        {
            queue.addLast(describe(value, payloadLength(size)));
        }

        /**
         * @return the head record or null.
         */
        public String poll()
        {
            return queue.pollFirst();
        }

        /**
         * No visible effect.
         */
        public void flush()
        {
        }
    }
}
