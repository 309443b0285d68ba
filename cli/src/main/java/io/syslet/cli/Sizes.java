package io.syslet.cli;

import picocli.CommandLine;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as people write them: {@code 131072}, {@code 128k}, {@code 128KiB}, {@code 1M} (powers of
 * 1024), for options; and back, for output.
 */
final class Sizes implements CommandLine.ITypeConverter<Integer>
{
    /** Any number of digits: a long one is "too large", which says more than "not a size". */
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(?:([kmg])(?:i?b)?|b)?");

    @Override
    public Integer convert(final String value)
    {
        return (int)parse(value, Integer.MAX_VALUE);
    }

    /**
     * @param value a size.
     * @param max   the largest value allowed.
     * @return its bytes.
     * @throws CommandLine.TypeConversionException naming the value (picocli turns it into a usage error).
     */
    static long parse(final String value, final long max)
    {
        final Matcher matcher = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!matcher.matches())
        {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a size (examples: 4096, 128k, 1MiB)");
        }
        final String digits = matcher.group(1).replaceFirst("^0+(?=.)", "");
        // More than 18 digits cannot be parsed into a long, and is more than any max anyway.
        final long number = digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
        final int shift = matcher.group(2) == null ? 0 : 10 * ("kmg".indexOf(matcher.group(2)) + 1);
        // Compared before the shift: ten digits of gibibytes would not fit in a long.
        final long bytes = number > max >> shift ? Long.MAX_VALUE : number << shift;
        if (bytes > max)
        {
            throw new CommandLine.TypeConversionException("'" + value + "' is more than " + max + " bytes");
        }
        return bytes;
    }

    /**
     * @return {@code "312.4 MiB"}, {@code "128 KiB"}, {@code "512 B"}.
     */
    static String format(final long bytes)
    {
        if (bytes < 1024)
        {
            return bytes + " B";
        }
        final String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes / 1024.0;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1)
        {
            value /= 1024;
            unit++;
        }
        return (value == Math.rint(value) ? String.format("%.0f", value) : String.format("%.1f", value)) + " " +
            units[unit];
    }
}
