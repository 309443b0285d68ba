package io.syslet.pool;

import io.syslet.abi.Errno;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.syslet.pool.natives.Natives.LIBC;
import static io.syslet.pool.natives.Natives.O_CLOEXEC;
import static io.syslet.pool.natives.Natives.O_RDONLY;

/**
 * Registered memory that is a file's mapping (a {@code MappedByteBuffer}, Aeron's log buffers, a memfd), and
 * the copies into and out of it that the engine's own Java code makes.
 *
 * <p>A file truncated under its mapping leaves pages past its new end that raise SIGBUS on any touch. The
 * kernel's touches fail cleanly: a pread into such a page returns EFAULT. A touch by Java code does not:
 * HotSpot turns the SIGBUS of an Unsafe access into an {@code InternalError} that it raises on that thread
 * at some later point, not at the access. Out of its op, such an error ended the worker, and it could land in
 * the middle of another op's bookkeeping and lose that op's event. So the engine's Java code touches a file's
 * mapping only through the kernel: {@code pread(2)} on {@code /proc/self/mem} copies from one address of this
 * process to another, reading the source as a debugger would and writing the destination as any syscall
 * writes user memory; a page that faults makes it return short or fail, which the op reports as EFAULT.
 * That costs a syscall per copy (about 0.5 us for a path here), so anonymous memory (direct ByteBuffers,
 * malloc), which cannot shrink under its mapping, is still touched directly.
 *
 * <p>Where {@code /proc} is not mounted, or {@code /proc/self/mem} cannot be opened, nothing is treated as a
 * file's mapping, and a truncated one behaves as described above.
 */
final class FileMappings
{
    private FileMappings()
    {
    }

    /**
     * Opened on first use, by the first registration of a file's mapping (so that a process that registers
     * none holds no such fd), and kept for the life of the
     * process: one fd, shared by every context, so that no destroy can close it under a worker that a
     * timed-out destroy left running (and a reused fd number would make that worker copy from some other
     * file).
     */
    private static final class ProcSelfMem
    {
        static final int FD = open();

        private static int open()
        {
            return LIBC.open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
        }
    }

    /**
     * Reads {@code /proc/self/maps}: one look per registration, 50 to 140 us in a JVM of 230 mappings here
     * (a test program registering 2,000 buffers three times).
     *
     * @return true if any byte of the range lies in a mapping of a file (a mapping with an inode), and copies
     * through {@code /proc/self/mem} are available; true too if they are but the map cannot be read.
     */
    static boolean isFileBacked(final long address, final long length)
    {
        if (length <= 0)
        {
            return false;
        }
        final long end = address + length;
        try (BufferedReader maps = Files.newBufferedReader(Path.of("/proc/self/maps"), StandardCharsets.ISO_8859_1))
        {
            String line;
            while ((line = maps.readLine()) != null)
            {
                // start-end perms offset dev inode [path]
                final int dash = line.indexOf('-');
                final int space = line.indexOf(' ', dash);
                final long start = Long.parseUnsignedLong(line, 0, dash, 16);
                final long stop = Long.parseUnsignedLong(line, dash + 1, space, 16);
                if (Long.compareUnsigned(start, end) < 0 && Long.compareUnsigned(address, stop) < 0 &&
                    inode(line, space) != 0)
                {
                    return ProcSelfMem.FD >= 0;
                }
            }
            return false;
        }
        catch (final IOException | RuntimeException e)
        {
            return ProcSelfMem.FD >= 0; // cannot tell: the copies are safe for any memory, only slower
        }
    }

    /**
     * @return the fifth field of a maps line: 0 for anonymous memory, the heap and the stack.
     */
    private static long inode(final String line, final int afterRange)
    {
        int at = afterRange;
        for (int field = 0; field < 3; field++) // perms, offset, dev
        {
            at = line.indexOf(' ', at + 1);
        }
        final int from = at + 1;
        int to = from;
        while (to < line.length() && line.charAt(to) != ' ')
        {
            to++;
        }
        return Long.parseLong(line, from, to, 10);
    }

    /**
     * Copies through the kernel; the caller has checked both ranges against their buffers.
     *
     * @return bytes copied, fewer than {@code length} if the source faulted part-way, or -EFAULT if nothing
     * could be copied or the destination faulted.
     */
    static long copy(final long dst, final long src, final long length)
    {
        if (length == 0)
        {
            return 0;
        }
        final long copied = LIBC.pread(ProcSelfMem.FD, dst, length, src);
        return copied <= 0 ? -Errno.EFAULT : copied;
    }

    /**
     * {@link #copy} for a range that must arrive whole.
     *
     * @return 0, or -EFAULT if any of it could not be copied.
     */
    static long copyWhole(final long dst, final long src, final long length)
    {
        final long copied = copy(dst, src, length);
        return copied == length ? 0 : -Errno.EFAULT;
    }
}
