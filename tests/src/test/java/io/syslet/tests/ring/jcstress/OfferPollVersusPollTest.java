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
 * One actor offers a record and then polls; another polls. {@code poll} is a linearizable FIFO take (it
 * waits for a producer that reserved the record at head), so exactly one of them gets the record, whole:
 * the second actor's poll either comes before the offer (then the first actor's own poll finds it) or
 * after it. r1 = what the producer's poll got, r2 = what the other consumer got.
 */
@Description("offer then poll racing poll: the record is taken exactly once, whole")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the producer's own poll took it")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the other consumer took it")
@Outcome(expect = FORBIDDEN, desc = "both got it, it was lost, or a copy was torn")
@JCStressTest
@State
public class OfferPollVersusPollTest
{
    private final RingFixture fixture = new RingFixture();

    /**
     * Adds the record, then takes one: r1.
     */
    @Actor
    public void producer(final II_Result r)
    {
        fixture.offer();
        r.r1 = fixture.poll(fixture.destination1);
    }

    /**
     * Takes whatever is there: r2.
     */
    @Actor
    public void consumer(final II_Result r)
    {
        r.r2 = fixture.poll(fixture.destination2);
    }
}
