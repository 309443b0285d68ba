package io.syslet.cli;

/**
 * A small JSON writer for the command's machine-readable output: one object per line, no dependency.
 * Commas and nesting are tracked here, so callers only say what comes next. Strings are escaped per
 * RFC 8259: quote, backslash, every control character, and everything past ASCII as &#92;uXXXX (a
 * character outside the BMP as its two surrogates). The output is then ASCII whatever the locale's
 * encoding: under {@code LANG=C} the console would otherwise turn a file name's non-ASCII letters into
 * {@code ?}. (A name that is not valid in the locale's charset shows its undecodable bytes as U+FFFD: a
 * Java String cannot hold them; trace still reads the file by its exact bytes.)
 *
 * <pre>{@code
 * new Json().beginObject().field("path", p).field("bytes", n).endObject().toString()
 * }</pre>
 */
final class Json
{
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final StringBuilder out = new StringBuilder(256);
    /** True when the next value or name is the first in its object or array: no comma before it. */
    private boolean first = true;
    /** True right after a name: the value follows its colon, not a comma. */
    private boolean afterName;

    Json beginObject()
    {
        separate();
        out.append('{');
        first = true;
        return this;
    }

    Json endObject()
    {
        out.append('}');
        first = false;
        return this;
    }

    Json beginArray()
    {
        separate();
        out.append('[');
        first = true;
        return this;
    }

    Json endArray()
    {
        out.append(']');
        first = false;
        return this;
    }

    Json name(final String name)
    {
        separate();
        string(name);
        out.append(':');
        afterName = true;
        return this;
    }

    Json value(final String value)
    {
        separate();
        if (value == null)
        {
            out.append("null");
        }
        else
        {
            string(value);
        }
        first = false;
        return this;
    }

    Json value(final long value)
    {
        separate();
        out.append(value);
        first = false;
        return this;
    }

    /**
     * A u64 held in a long, written as the unsigned number it stands for (a cookie).
     */
    Json unsignedValue(final long value)
    {
        separate();
        out.append(Long.toUnsignedString(value));
        first = false;
        return this;
    }

    /**
     * A finite double as a JSON number; NaN and infinities (a ratio of nothing) as null.
     */
    Json value(final double value)
    {
        separate();
        if (Double.isFinite(value))
        {
            out.append(value);
        }
        else
        {
            out.append("null");
        }
        first = false;
        return this;
    }

    Json value(final boolean value)
    {
        separate();
        out.append(value);
        first = false;
        return this;
    }

    Json field(final String name, final String value)
    {
        return name(name).value(value);
    }

    Json field(final String name, final long value)
    {
        return name(name).value(value);
    }

    Json field(final String name, final double value)
    {
        return name(name).value(value);
    }

    Json field(final String name, final boolean value)
    {
        return name(name).value(value);
    }

    private void separate()
    {
        if (afterName)
        {
            afterName = false;
            return;
        }
        if (!first)
        {
            out.append(',');
        }
        first = false;
    }

    private void string(final String value)
    {
        out.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            switch (c)
            {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                case '\b': out.append("\\b"); break;
                case '\f': out.append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E)
                    {
                        out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xF]).append(HEX[(c >> 4) & 0xF])
                            .append(HEX[c & 0xF]);
                    }
                    else
                    {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    @Override
    public String toString()
    {
        return out.toString();
    }
}
