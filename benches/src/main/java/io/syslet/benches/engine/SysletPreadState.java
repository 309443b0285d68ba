package io.syslet.benches.engine;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The engine as the benchmarks compare it with its peers: {@link #depth} preads in flight
 * ({@link EnginePreads}), immediate path on or off, attributes or none, no eventfd (the peers have no
 * notification either; {@link SysletEventFdPreadState} measures what one costs).
 */
@State(Scope.Thread)
public class SysletPreadState extends EnginePreadsState
{
    /**
     * Attributes each read asks for: {@code none}, or {@code latency_cache} (LATENCY and CACHE); a run may also
     * ask for one of the two alone ({@code -p attrs=latency} or {@code cache}) to see which costs what.
     */
    @Param({"none", "latency_cache"})
    public String attrs;

    @Setup(Level.Trial)
    public void setUp(final CachedFile file)
    {
        preads = new EnginePreads(file, depth, Engine.params(EnginePreads.immediate(immediate)),
            Engine.attributes(attrs));
    }
}
