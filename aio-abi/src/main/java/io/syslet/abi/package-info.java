/**
 * The ABI: binary layouts of the setup parameters, the iocb, the io_event and the ring header, as
 * {@code *Descriptor} classes and flyweight codecs; and the public API types (context, errors,
 * opcodes). No threads and no native calls live here. Arrives with the engine issue.
 */
package io.syslet.abi;
