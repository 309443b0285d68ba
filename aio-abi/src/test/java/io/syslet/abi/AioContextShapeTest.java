package io.syslet.abi;

import io.syslet.ring.Ring;
import io.syslet.ring.RingReader;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What a reaper gets from {@link AioContext#ring()}: the ring's consumer side. Only the context produces into its
 * completion ring; a reaper that could reserve or offer there would put records into a stream every other reaper
 * takes for events.
 */
class AioContextShapeTest
{
    @Test
    void ringHandsOutTheConsumersSideOnly() throws NoSuchMethodException
    {
        assertEquals(RingReader.class, AioContext.class.getMethod("ring").getReturnType());
        final List<String> readerMethods = Arrays.stream(RingReader.class.getMethods()).map(Method::getName)
            .sorted().collect(Collectors.toList());
        assertEquals(List.of("await", "buffer", "capacity", "flush", "headPosition", "isOverflowPending",
            "maxPayloadLength", "maxRecordLength", "occupancy", "overflowSize", "poll", "read", "stateToken",
            "tailPosition"), readerMethods);
        for (final String producing : List.of("offer", "tryReserve", "commit", "abort"))
        {
            assertEquals(1, Arrays.stream(Ring.class.getMethods()).filter(m -> m.getName().equals(producing)).count(),
                producing + " is the ring's, and not the reader's");
        }
    }
}
