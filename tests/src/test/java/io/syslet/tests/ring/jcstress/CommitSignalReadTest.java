package io.syslet.tests.ring.jcstress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The consumer signal's Dekker pair. A committed 32-byte record A sits at head; the producer reserves,
 * writes and commits the 64-byte test record B behind it, then decides whether to signal; the consumer
 * drains as an eventfd reaper must: reads, and reads again until a read finds nothing. A consumer that took
 * only A would then wait for a signal, so "A alone and no signal" is a lost wakeup: the producer read head
 * before the consumer's CAS moved it to B, and the consumer read B's commit word before the commit. The
 * producer's full fence between its commit and its read of head is what forbids that.
 *
 * <p>In the states that start near the end of the data area, A ends exactly at the end and B starts the
 * data area, where the rule also signals for head anywhere in B's length before it (a skip entry could lie
 * there): those always signal. r1 = bytes the consumer took, r2 = signals, r3 = bytes left after both.
 */
@Description("commit behind a record racing a draining reader: the reader takes both or the producer signals")
@Outcome(id = "96, 0, 0", expect = ACCEPTABLE, desc = "the reader took A and B; no signal needed")
@Outcome(id = "96, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "the reader took A and B; the producer saw " +
    "head at B (or B starts the data area) and signalled anyway, harmlessly")
@Outcome(id = "32, 1, 64", expect = ACCEPTABLE, desc = "the reader took A, found B uncommitted; the producer " +
    "saw head at B and signalled")
@Outcome(id = "32, 0, 64", expect = FORBIDDEN, desc = "lost wakeup: the reader stopped before B and nothing signalled")
@Outcome(expect = FORBIDDEN, desc = "records lost or duplicated, or more than one signal")
@JCStressTest
@State
public class CommitSignalReadTest
{
    private final RingFixture fixture = RingFixture.signalled();

    public CommitSignalReadTest()
    {
        fixture.offerFiller();
        fixture.signals = 0;
    }

    /**
     * Reserves B, writes its payload, commits.
     */
    @Actor
    public void producer()
    {
        fixture.ring.commit(fixture.reserveAndWrite());
    }

    /**
     * Drains: reads until a read takes nothing; r1 = bytes taken.
     */
    @Actor
    public void consumer(final III_Result r)
    {
        int taken = 0;
        int bytes;
        while ((bytes = fixture.readBytes(fixture.destination2)) > 0)
        {
            taken += bytes;
        }
        r.r1 = taken;
    }

    /**
     * Signals (r2) and what is left (r3).
     */
    @Arbiter
    public void after(final III_Result r)
    {
        r.r2 = fixture.signals;
        r.r3 = fixture.readBytes(fixture.destination1);
    }
}
