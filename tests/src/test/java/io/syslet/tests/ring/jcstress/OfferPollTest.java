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
 * {@code offer} racing {@code poll}: the consumer finds nothing or the whole record, and a record it did
 * not take is still there, whole, afterwards. r1 = the consumer's poll, r2 = a poll after both actors
 * finished; codes from {@link RingFixture} (0 nothing, 1 whole, 2 bad header, 3 torn, 4 stale, 5 batch).
 */
@Description("offer racing poll: a committed record is seen whole, exactly once, never stale")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the consumer took the whole record")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the consumer came first; the record waits, whole")
@Outcome(expect = FORBIDDEN, desc = "torn, stale, duplicated or lost record")
@JCStressTest
@State
public class OfferPollTest
{
    private final RingFixture fixture = new RingFixture();

    /**
     * Adds the record.
     */
    @Actor
    public void producer()
    {
        fixture.offer();
    }

    /**
     * Takes whatever is there: r1.
     */
    @Actor
    public void consumer(final II_Result r)
    {
        r.r1 = fixture.poll(fixture.destination2);
    }

    /**
     * Takes what is left: r2.
     */
    @Arbiter
    public void after(final II_Result r)
    {
        r.r2 = fixture.poll(fixture.destination1);
    }
}
