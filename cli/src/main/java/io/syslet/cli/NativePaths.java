package io.syslet.cli;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The bytes the kernel knows a file by, for syscalls the engine makes with a path.
 *
 * <p>A {@link Path} keeps those bytes, but shows them only as a String, decoded in the charset the JDK uses
 * for file names ({@code sun.jnu.encoding}, from the locale). A name that is not valid in it (bytes that
 * are not UTF-8 under a UTF-8 locale, anything past ASCII under {@code LANG=C}) decodes with U+FFFD in it,
 * and encoding that String again gives another name, which openat cannot find. For those the bytes come
 * from the path's URI, which percent-encodes the exact bytes; it costs a stat (the JDK looks whether the
 * path is a directory), so names that decoded cleanly take the String.
 */
final class NativePaths
{
    private static final Charset FILE_NAMES = fileNameCharset();

    private NativePaths()
    {
    }

    /**
     * @param path a path the JDK gave (a walk, or a command-line argument).
     * @return its exact bytes, without a terminating NUL; relative paths stay relative unless their name
     * could not be decoded (then absolute: the same file).
     */
    static byte[] bytes(final Path path)
    {
        final String decoded = path.toString();
        if (decoded.indexOf('\uFFFD') < 0)
        {
            return decoded.getBytes(FILE_NAMES);
        }
        final String raw = path.toAbsolutePath().toUri().getRawPath();
        // The URI of a directory ends with '/', which the path did not.
        final int end = raw.length() > 1 && raw.endsWith("/") && !decoded.endsWith("/") ? raw.length() - 1 :
            raw.length();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(end);
        for (int i = 0; i < end; i++)
        {
            final char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length())
            {
                bytes.write(Integer.parseInt(raw, i + 1, i + 3, 16));
                i += 2;
            }
            else
            {
                // Everything else in a raw URI path is ASCII.
                bytes.write(c);
            }
        }
        return bytes.toByteArray();
    }

    private static Charset fileNameCharset()
    {
        try
        {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        }
        catch (final RuntimeException e)
        {
            return StandardCharsets.UTF_8;
        }
    }
}
