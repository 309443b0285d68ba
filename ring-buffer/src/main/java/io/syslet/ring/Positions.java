package io.syslet.ring;

/**
 * Arithmetic of ring positions.
 *
 * <p>A position is an unsigned 32-bit byte counter held in a Java {@code int}. It runs over the whole
 * 32-bit range and wraps naturally; it is reduced modulo the capacity only to find an offset. Two
 * positions are compared by the sign of their difference, never with {@code <}: that stays right across
 * the wrap as long as they are less than 2^31 apart, which the capacity limit (at most 2^30) guarantees.
 */
public final class Positions
{
    private Positions()
    {
    }

    /**
     * Signed distance from {@code from} to {@code to}.
     *
     * @param from earlier position.
     * @param to   later position.
     * @return {@code to - from} as a signed int; negative when {@code to} is behind {@code from}.
     */
    public static int distance(final int from, final int to)
    {
        return to - from;
    }

    /**
     * Whether {@code a} is strictly before {@code b}, across the wrap.
     *
     * @param a a position.
     * @param b a position.
     * @return true if {@code (int)(b - a) > 0}.
     */
    public static boolean isBefore(final int a, final int b)
    {
        return b - a > 0;
    }

    /**
     * Offset of a position inside a data area whose capacity is a power of two.
     *
     * @param position u32 position.
     * @param mask     capacity - 1.
     * @return offset in {@code [0, capacity)}.
     */
    public static int offset(final int position, final int mask)
    {
        return position & mask;
    }

    /**
     * A position as an unsigned value, for printing and for the ABI doc's examples.
     *
     * @param position u32 position held in an int.
     * @return the same bits as a non-negative long.
     */
    public static long unsigned(final int position)
    {
        return position & 0xFFFF_FFFFL;
    }
}
