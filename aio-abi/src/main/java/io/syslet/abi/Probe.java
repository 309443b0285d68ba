package io.syslet.abi;

import io.syslet.attributes.AttributeId;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a context supports here: the ops it implements, the attributes its events can carry, and
 * whether it can interrupt a running op.
 * Immutable.
 */
public final class Probe
{
    private final boolean[] supported;
    private final boolean canInterrupt;
    private final String interruptDetail;
    private final boolean cacheAttributeEnabled;

    /**
     * @param supported       indexed by opcode; true where the op is implemented.
     * @param canInterrupt    whether a running op that sleeps interruptibly can be cancelled.
     * @param interruptDetail how (or why not), for people.
     * @param cacheAttributeEnabled false if the context was set up with NO_CACHE_ATTRIBUTE.
     */
    public Probe(final boolean[] supported, final boolean canInterrupt, final String interruptDetail,
        final boolean cacheAttributeEnabled)
    {
        this.supported = supported.clone();
        this.canInterrupt = canInterrupt;
        this.interruptDetail = interruptDetail;
        this.cacheAttributeEnabled = cacheAttributeEnabled;
    }

    /**
     * @param id an attribute id.
     * @return true if events can carry it with status OK. Ids this version does not know come back
     * UNSUPPORTED; the cache attribute of a context set up with NO_CACHE_ATTRIBUTE comes back NOT_APPLICABLE
     * (docs/ABI.md section 23).
     */
    public boolean isAttributeSupported(final int id)
    {
        return AttributeId.isKnown(id) && (id != AttributeId.CACHE || cacheAttributeEnabled);
    }

    /**
     * @return names of the attributes events can carry, in id order.
     */
    public List<String> supportedAttributes()
    {
        final List<String> names = new ArrayList<>();
        for (int id = 1; id < AttributeId.COUNT; id++)
        {
            if (isAttributeSupported(id))
            {
                names.add(AttributeId.name(id));
            }
        }
        return Collections.unmodifiableList(names);
    }

    /**
     * @param opcode any value.
     * @return true if ops with this code run; others complete with -ENOSYS. {@link Opcode#CALLABLE} is true: it
     * runs when submitted through {@link AioContext#submitCallable}; as an iocb it has no code to run, and
     * completes with -EINVAL (ABI.md section 14).
     */
    public boolean isSupported(final int opcode)
    {
        return opcode >= 0 && opcode < supported.length && supported[opcode];
    }

    /**
     * @return names of the supported ops, in opcode order.
     */
    public List<String> supportedOps()
    {
        final List<String> names = new ArrayList<>();
        for (int i = 0; i < supported.length; i++)
        {
            if (supported[i])
            {
                names.add(Opcode.name(i));
            }
        }
        return Collections.unmodifiableList(names);
    }

    /**
     * @return true if cancel can interrupt a running op that sleeps interruptibly.
     */
    public boolean canInterruptRunningOps()
    {
        return canInterrupt;
    }

    /**
     * @return how running ops are interrupted, or why they cannot be.
     */
    public String interruptDetail()
    {
        return interruptDetail;
    }

    @Override
    public String toString()
    {
        return "Probe{ops=" + supportedOps() + ", attributes=" + supportedAttributes() + ", interrupt=" +
            interruptDetail + "}";
    }
}
