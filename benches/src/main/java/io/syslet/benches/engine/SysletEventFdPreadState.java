package io.syslet.benches.engine;

import io.syslet.abi.SetupParams;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link SysletPreadState} with the eventfd on, as the default setup has it, and no attributes: set
 * against that state's rows, what notification costs. The benchmark thread reaps with getEvents and never
 * reads the eventfd, so every signal is a write(2) that the engine could not know to skip: it signals
 * when an event lands where reapers stand, which at depth 1 is every event.
 */
@State(Scope.Thread)
public class SysletEventFdPreadState extends EnginePreadsState
{
    @Setup(Level.Trial)
    public void setUp(final CachedFile file)
    {
        final SetupParams setup = Engine.params(EnginePreads.immediate(immediate));
        preads = new EnginePreads(file, depth, setup.flags(setup.flags() & ~SetupParams.FLAG_NO_EVENTFD),
            Engine.NO_ATTRIBUTES);
    }
}
