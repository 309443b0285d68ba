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
 * The consumer signal's Dekker pair: reserve, write and commit, racing a batch read on a drained ring. A
 * consumer that finds nothing would then wait for the signal (on an eventfd, say), so "nothing read and no
 * signal" is a lost wakeup. Half the states put the record behind a skip entry at the end of the data area,
 * where the consumer may stop at the skip before its producer writes it. r1 = the reader's batch, r2 =
 * signals, r3 = a read after both actors finished; codes from {@link RingFixture}.
 */
@Description("commit racing read on a drained ring: the reader takes the record or the producer signals")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "the reader took the record; the producer saw head past it")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "the reader took the record; the producer saw " +
    "head still at it and signalled anyway (harmless: the woken consumer finds the ring empty)")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "the reader found nothing; the producer signalled, the record waits")
@Outcome(id = "0, 0, 1", expect = FORBIDDEN, desc = "lost wakeup: nothing read and no signal")
@Outcome(expect = FORBIDDEN, desc = "torn, stale, duplicated or lost record, or more than one signal")
@JCStressTest
@State
public class CommitSignalReadTest
{
    private final RingFixture fixture = RingFixture.signalled();

    /**
     * Reserves, writes the payload, commits.
     */
    @Actor
    public void producer()
    {
        fixture.ring.commit(fixture.reserveAndWrite());
    }

    /**
     * Takes a batch: r1.
     */
    @Actor
    public void consumer(final III_Result r)
    {
        r.r1 = fixture.read(fixture.destination2);
    }

    /**
     * Signals (r2) and what is left (r3).
     */
    @Arbiter
    public void after(final III_Result r)
    {
        r.r2 = fixture.signals;
        r.r3 = fixture.read(fixture.destination1);
    }
}
