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
 * {@code poll} and {@code read} race for one record: r1 is what the poller got, r2 what the reader got
 * (codes from {@link RingFixture}). The record is committed before both actors start, so exactly one of them gets it, whole.
 */
@Description("a poll() and a read() consumer, one committed record: exactly one gets it")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the first consumer took the whole record")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the second consumer took the whole record")
@Outcome(expect = FORBIDDEN, desc = "both got it, neither got it, or a copy was torn")
@JCStressTest
@State
public class PollReadTest
{
    private final RingFixture fixture = new RingFixture();

    /**
     * Fresh ring per state.
     */
    public PollReadTest()
    {
        fixture.offer();
    }

    /**
     * Takes the record if it wins: r1.
     */
    @Actor
    public void poller(final II_Result r)
    {
        r.r1 = fixture.poll(fixture.destination1);
    }

    /**
     * Takes the record if it wins: r2.
     */
    @Actor
    public void reader(final II_Result r)
    {
        r.r2 = fixture.read(fixture.destination2);
    }
}
