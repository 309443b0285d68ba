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
 * Two consumers race {@code poll} for one record: r1 and r2 are what each got (codes from
 * {@link RingFixture}). The record is committed before both actors start, so exactly one of them gets it, whole.
 */
@Description("two poll() consumers, one committed record: exactly one gets it")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the first consumer took the whole record")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the second consumer took the whole record")
@Outcome(expect = FORBIDDEN, desc = "both got it, neither got it, or a copy was torn")
@JCStressTest
@State
public class PollPollTest
{
    private final RingFixture fixture = new RingFixture();

    /**
     * Fresh ring per state.
     */
    public PollPollTest()
    {
        fixture.offer();
    }

    /**
     * Takes the record if it wins: r1.
     */
    @Actor
    public void consumer1(final II_Result r)
    {
        r.r1 = fixture.poll(fixture.destination1);
    }

    /**
     * Takes the record if it wins: r2.
     */
    @Actor
    public void consumer2(final II_Result r)
    {
        r.r2 = fixture.poll(fixture.destination2);
    }
}
