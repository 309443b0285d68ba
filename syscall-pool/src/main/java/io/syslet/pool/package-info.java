/**
 * The engine: the JNR-FFI libc binding, the two-class worker pool, dispatch, the immediate path for
 * page-cache hits, overflow flushing, cancellation and the context's eventfd. Implements the
 * {@code io.syslet.abi} API. Arrives with the engine issue.
 */
package io.syslet.pool;
