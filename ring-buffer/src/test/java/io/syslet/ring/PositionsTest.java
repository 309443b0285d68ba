package io.syslet.ring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Position arithmetic, especially across 2^32 where a plain {@code <} gives the wrong answer.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class PositionsTest
{
    @Test
    void distanceAcrossTheWrap()
    {
        assertEquals(16, Positions.distance(-8, 8));
        assertEquals(-16, Positions.distance(8, -8));
        assertEquals(0, Positions.distance(-8, -8));
        assertEquals(1 << 30, Positions.distance(-(1 << 29), 1 << 29));
        assertEquals(Integer.MAX_VALUE, Positions.distance(0, Integer.MAX_VALUE));
    }

    @Test
    void isBeforeAcrossTheWrap()
    {
        assertTrue(Positions.isBefore(0xFFFF_FFF8, 8), "just below 2^32 is before just above it");
        assertFalse(Positions.isBefore(8, 0xFFFF_FFF8));
        assertFalse(Positions.isBefore(8, 8), "strict");
        assertTrue(Positions.isBefore(Integer.MAX_VALUE, Integer.MIN_VALUE), "2^31 - 1 is before 2^31");
        assertTrue(Positions.isBefore(-(1 << 30), 1 << 29), "distance 1.5 * 2^30 < 2^31");
    }

    @Test
    void offsetReducesModuloTheCapacity()
    {
        final int mask = 1024 - 1;
        assertEquals(1016, Positions.offset(-8, mask));
        assertEquals(0, Positions.offset(0, mask));
        assertEquals(8, Positions.offset(8, mask));
        assertEquals(1023, Positions.offset(-1, mask));
        assertEquals(0, Positions.offset(Integer.MIN_VALUE, mask));
        assertEquals(Positions.offset(-8 + 1024 * 5, mask), Positions.offset(-8, mask));
    }

    @Test
    void unsignedShowsTheU32Value()
    {
        assertEquals(4_294_967_288L, Positions.unsigned(-8));
        assertEquals(0xFFFF_FFFFL, Positions.unsigned(-1));
        assertEquals(2_147_483_648L, Positions.unsigned(Integer.MIN_VALUE));
        assertEquals(8L, Positions.unsigned(8));
        assertEquals(Integer.toUnsignedLong(0x8765_4320), Positions.unsigned(0x8765_4320));
    }

    @Test
    void positionsAdvancePastTwoToThe32ByPlainIntAddition()
    {
        final int before = 0xFFFF_FFF0;
        final int after = before + 0x20;
        assertEquals(0x10L, Positions.unsigned(after));
        assertEquals(0x20, Positions.distance(before, after));
        assertTrue(Positions.isBefore(before, after));
    }
}
