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
 * {@code tryReserve} + payload + {@code commit} racing {@code read}: the batch reader, which never waits for
 * an in-flight producer, finds nothing or the whole record, never the reservation before its commit.
 * r1 = the reader's batch, r2 = a read after both actors finished; codes from {@link RingFixture}.
 */
@Description("reserve, write, commit racing read: nothing or the whole record, exactly once")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the reader took the whole committed record")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the reader saw nothing committed yet; the record waits, whole")
@Outcome(expect = FORBIDDEN, desc = "torn, stale, uncommitted, duplicated or lost record")
@JCStressTest
@State
public class CommitReadTest
{
    private final RingFixture fixture = new RingFixture();

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
    public void consumer(final II_Result r)
    {
        r.r1 = fixture.read(fixture.destination2);
    }

    /**
     * Takes what is left: r2.
     */
    @Arbiter
    public void after(final II_Result r)
    {
        r.r2 = fixture.read(fixture.destination1);
    }
}
