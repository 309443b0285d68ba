/**
 * JMH throughput benchmarks of {@link io.syslet.ring.Ring} side by side with Agrona's
 * {@link org.agrona.concurrent.ringbuffer.OneToOneRingBuffer} and
 * {@link org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer}.
 *
 * <p>One class per thread topology; in each, one JMH {@code @Group} per (ring, producer path, consumer
 * path), producers and consumers as separate methods of the group. The reported figure is the
 * {@code sent} auxiliary counter: messages per second that producers put into the ring successfully.
 * See {@code benches/README.md}.
 */
package io.syslet.benches;
