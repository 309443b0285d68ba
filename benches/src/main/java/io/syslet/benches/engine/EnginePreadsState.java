package io.syslet.benches.engine;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the states that run {@link EnginePreads} share: the depth and path parameters, the call the
 * benchmark makes, and the tear-down that checks the path. Each subclass sets up its context. (JMH wants the
 * {@code @State} here too, for the parameters.)
 */
@State(Scope.Thread)
public abstract class EnginePreadsState
{
    /** Ops kept in flight. */
    @Param({"1", "32"})
    public int depth;

    /** on: a cached pread completes inside submit (the default); off: FLAG_NO_IMMEDIATE, the pool path. */
    @Param({"on", "off"})
    public String immediate;

    EnginePreads preads;

    /**
     * @return the block the completed read went to.
     */
    public int completeOne()
    {
        return preads.completeOne();
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        preads.close();
    }
}
