/**
 * JMH benchmarks of the engine ({@link io.syslet.pool.SysletContext}) side by side with the JDK's own
 * ways of running blocking calls off the caller's thread, each in the same JMH run as its peer:
 * <ul>
 *   <li>{@link io.syslet.benches.engine.CachedPread}: cached 4 KiB random pread at queue depth 1 and 32,
 *   with the immediate path on and off, with and without the LATENCY and CACHE attributes, against
 *   {@link java.nio.channels.AsynchronousFileChannel} and a synchronous JNR pread (the limit).</li>
 *   <li>{@link io.syslet.benches.engine.GetppidRoundTrip}: one trivial syscall submitted and reaped,
 *   against {@link java.util.concurrent.CompletableFuture#supplyAsync} on a fixed pool.</li>
 *   <li>{@link io.syslet.benches.engine.CompoundEvents}: the compound-event layer (single op nodes, an
 *   all-of group of 16, the CompletableFuture adapter) against the raw submit/reap path, for NOPs and
 *   cached preads.</li>
 *   <li>{@link io.syslet.benches.engine.NanosleepBatch}: 10,000 × nanosleep(1 ms) on 64 workers, against
 *   the ideal 156.25 ms and a fixed pool of 64 threads.</li>
 * </ul>
 * The engine's raw paths allocate nothing per op (RAW too, once its argument count is declared);
 * {@code -prof gc} checks it. See {@code benches/README.md}.
 */
package io.syslet.benches.engine;
