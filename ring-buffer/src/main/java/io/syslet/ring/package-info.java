/**
 * A lock-free, variable-length, byte-addressed ring of entries in off-heap memory, with free-running
 * 32-bit positions, a FIFO overflow list and a wait that cannot lose a wakeup.
 *
 * <p>This package knows nothing of AIO: it moves opaque typed records. The binary layout is normative
 * and is written down in {@code docs/ABI.md}; {@link io.syslet.ring.RingDescriptor} and
 * {@link io.syslet.ring.EntryDescriptor} are its single definition in code.
 *
 * <ul>
 *   <li>{@link io.syslet.ring.RingRegion} allocates or maps the memory and formats/validates the header;</li>
 *   <li>{@link io.syslet.ring.Ring} is the producer/consumer protocol over a region;</li>
 *   <li>{@link io.syslet.ring.Positions} is the arithmetic of u32 positions.</li>
 * </ul>
 */
package io.syslet.ring;
