package io.syslet.tests.ring.jcstress;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A reservation whose payload is written but which is not committed is invisible: {@code read} (which does
 * not wait, unlike {@code poll}) returns nothing, however the producer's stores interleave with it. Once
 * the arbiter commits, the record is there, whole. r1 = the reader's batch, r2 = a read after the commit.
 */
@Description("an uncommitted reservation is never seen; committed afterwards, it is seen whole")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "nothing before the commit, the whole record after it")
@Outcome(expect = FORBIDDEN, desc = "the reader saw the record before its commit, or the commit lost it")
@JCStressTest
@State
public class UncommittedReadTest
{
    private final RingFixture fixture = new RingFixture();
    private int index;

    /**
     * Reserves and writes the payload; leaves the commit to the arbiter.
     */
    @Actor
    public void producer()
    {
        index = fixture.reserveAndWrite();
    }

    /**
     * Takes a batch: r1.
     */
    @Actor
    public void consumer(final II_Result r)
    {
        r.r1 = fixture.read(fixture.destination2);
    }

    /**
     * Commits, then takes what is there: r2.
     */
    @Arbiter
    public void after(final II_Result r)
    {
        fixture.ring.commit(index);
        r.r2 = fixture.read(fixture.destination1);
    }
}
