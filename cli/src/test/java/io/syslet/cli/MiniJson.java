package io.syslet.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON parser for the tests (RFC 8259: objects, arrays, strings with every escape, numbers,
 * literals), so that the command's hand-written JSON is checked by something that refuses what is not
 * JSON. Objects become LinkedHashMaps, integers Longs, other numbers Doubles.
 */
final class MiniJson
{
    private final String text;
    private int at;

    private MiniJson(final String text)
    {
        this.text = text;
    }

    static Object parse(final String text)
    {
        final MiniJson parser = new MiniJson(text);
        parser.space();
        final Object value = parser.value();
        parser.space();
        if (parser.at != text.length())
        {
            throw parser.error("text after the value");
        }
        return value;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(final String text)
    {
        final Object value = parse(text);
        if (!(value instanceof Map))
        {
            throw new IllegalArgumentException("not a JSON object: " + text);
        }
        return (Map<String, Object>)value;
    }

    /**
     * @return the value at a path of keys, e.g. {@code at(summary, "cache", "hits")}.
     */
    @SuppressWarnings("unchecked")
    static Object at(final Map<String, Object> object, final String... keys)
    {
        Object value = object;
        for (final String key : keys)
        {
            if (!(value instanceof Map) || !((Map<String, Object>)value).containsKey(key))
            {
                throw new IllegalArgumentException("no " + String.join(".", keys) + " in " + object);
            }
            value = ((Map<String, Object>)value).get(key);
        }
        return value;
    }

    static long longAt(final Map<String, Object> object, final String... keys)
    {
        return (Long)at(object, keys);
    }

    private Object value()
    {
        if (at >= text.length())
        {
            throw error("end of text");
        }
        final char c = text.charAt(at);
        switch (c)
        {
            case '{': return object();
            case '[': return array();
            case '"': return string();
            case 't': return literal("true", Boolean.TRUE);
            case 'f': return literal("false", Boolean.FALSE);
            case 'n': return literal("null", null);
            default: return number();
        }
    }

    private Map<String, Object> object()
    {
        final Map<String, Object> map = new LinkedHashMap<>();
        at++;
        space();
        if (peek('}'))
        {
            at++;
            return map;
        }
        while (true)
        {
            space();
            if (!peek('"'))
            {
                throw error("expected a name");
            }
            final String name = string();
            if (map.containsKey(name))
            {
                throw error("duplicate name " + name);
            }
            space();
            expect(':');
            space();
            map.put(name, value());
            space();
            if (peek(','))
            {
                at++;
                continue;
            }
            expect('}');
            return map;
        }
    }

    private List<Object> array()
    {
        final List<Object> list = new ArrayList<>();
        at++;
        space();
        if (peek(']'))
        {
            at++;
            return list;
        }
        while (true)
        {
            space();
            list.add(value());
            space();
            if (peek(','))
            {
                at++;
                continue;
            }
            expect(']');
            return list;
        }
    }

    private String string()
    {
        expect('"');
        final StringBuilder out = new StringBuilder();
        while (true)
        {
            if (at >= text.length())
            {
                throw error("unterminated string");
            }
            final char c = text.charAt(at++);
            if (c == '"')
            {
                return out.toString();
            }
            if (c < 0x20)
            {
                throw error("raw control character " + (int)c + " in a string");
            }
            if (c != '\\')
            {
                out.append(c);
                continue;
            }
            final char e = text.charAt(at++);
            switch (e)
            {
                case '"': out.append('"'); break;
                case '\\': out.append('\\'); break;
                case '/': out.append('/'); break;
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'n': out.append('\n'); break;
                case 'r': out.append('\r'); break;
                case 't': out.append('\t'); break;
                case 'u':
                    out.append((char)Integer.parseInt(text.substring(at, at + 4), 16));
                    at += 4;
                    break;
                default: throw error("bad escape \\" + e);
            }
        }
    }

    private Object number()
    {
        final int start = at;
        if (peek('-'))
        {
            at++;
        }
        while (at < text.length() && "0123456789.eE+-".indexOf(text.charAt(at)) >= 0)
        {
            at++;
        }
        final String number = text.substring(start, at);
        if (!number.matches("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?"))
        {
            throw error("bad number '" + number + "'");
        }
        return number.matches("-?\\d+") ? (Object)Long.parseLong(number) : (Object)Double.parseDouble(number);
    }

    private Object literal(final String word, final Object value)
    {
        if (!text.startsWith(word, at))
        {
            throw error("bad literal");
        }
        at += word.length();
        return value;
    }

    private void space()
    {
        while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0)
        {
            at++;
        }
    }

    private boolean peek(final char c)
    {
        return at < text.length() && text.charAt(at) == c;
    }

    private void expect(final char c)
    {
        if (!peek(c))
        {
            throw error("expected '" + c + "'");
        }
        at++;
    }

    private IllegalArgumentException error(final String what)
    {
        return new IllegalArgumentException(what + " at " + at + " in: " + text);
    }
}
