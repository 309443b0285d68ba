/**
 * Attribute ids, value encodings, the TLV codec and the collectors (latency, page-cache hit, CPU and
 * off-CPU time, blocking, bytes, worker thread id) that events carry. Each attribute comes back with
 * its own status: OK, UNSUPPORTED, NOT_APPLICABLE or FAILED. Depends only on {@code io.syslet.ring}.
 * Arrives with the attributes issue.
 */
package io.syslet.attributes;
