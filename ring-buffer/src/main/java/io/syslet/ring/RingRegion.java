package io.syslet.ring;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.security.SecureRandom;

import static io.syslet.ring.RingDescriptor.*;

/**
 * The memory a ring lives in: a header and a data area, in a direct buffer or in a file mapped with
 * {@link MappedByteBuffer} so that another process can read it.
 *
 * <p>Creating a region formats its header; opening or wrapping an existing one validates it and refuses
 * a mismatch with a {@link RingFormatException}. {@link #close()} releases the region; its memory is
 * freed or unmapped once no ring over it is reachable.
 */
public final class RingRegion implements AutoCloseable
{
    /** The JVM flag every process that uses syslet needs (Agrona 2.x). */
    public static final String JVM_FLAG = "--add-opens java.base/jdk.internal.misc=ALL-UNNAMED";

    /** Check salts must be unpredictable to whoever writes payloads, so not a seeded PRNG. */
    private static final SecureRandom SALTS = new SecureRandom();

    private final AtomicBuffer buffer;
    /** Null once closed: the rings over the region keep it alive while they are reachable. */
    private ByteBuffer memory;
    private final boolean mapped;
    private final boolean readOnly;
    private boolean closed;
    /** The overflow list and sleepers of the rings made from this region (see {@link LocalState}). */
    private final LocalState localState = new LocalState();

    private RingRegion(final ByteBuffer memory, final boolean mapped, final boolean readOnly)
    {
        this.memory = memory;
        this.mapped = mapped;
        this.readOnly = readOnly;
        // Every factory has run checkAgronaAccess() before it gets here.
        this.buffer = new UnsafeBuffer(memory);
    }

    /**
     * Allocates a direct region and formats it with positions starting at 0.
     *
     * @param capacity data area bytes, a power of two.
     * @return a formatted region.
     */
    public static RingRegion allocate(final int capacity)
    {
        return allocate(capacity, 0);
    }

    /**
     * Allocates a direct region and formats it.
     *
     * @param capacity        data area bytes, a power of two.
     * @param initialPosition u32 position of head and tail; tests start just below 2^32 to cross the wrap.
     * @return a formatted region.
     */
    public static RingRegion allocate(final int capacity, final int initialPosition)
    {
        checkCapacity(capacity);
        checkAgronaAccess();
        // allocateDirect memory is malloc-aligned (16 bytes): enough for the 8-byte atomics, and freeable.
        final RingRegion region = new RingRegion(ByteBuffer.allocateDirect(regionLength(capacity)), false, false);
        format(region.buffer, capacity, initialPosition);
        return region;
    }

    /**
     * Creates a ring file, maps it and formats it, so another process can map and read it.
     *
     * <p>The ring is made in a new file beside the name, then renamed to it, whether or not the name exists, so
     * that two creators of one name at once each get a ring of their own (the later rename keeps the name). An
     * existing file of that name is replaced, not truncated: the new file gets the old file's permissions (and
     * owner, where the caller may set it). A
     * process that still has the old file mapped (a {@code syslet dump --follow}, or a context still using
     * it) keeps the old ring whole instead of faulting on pages cut from under it or seeing its records
     * overwritten. Where the directory does not allow that (no write permission on it, a sticky directory
     * and a file of another user), the file is formatted in place, as it is, without first cutting it to
     * zero: a reader then sees the ring formatted again (a new salt), and only one mapping past a shorter
     * new end can fault. A symbolic link is followed, dangling or not: the file it names is made. Only a
     * regular file is replaced: a name held by a directory, a FIFO, a socket or a device is refused.
     *
     * @param file            the ring file.
     * @param capacity        data area bytes, a power of two.
     * @param initialPosition u32 position of head and tail.
     * @return a formatted, mapped region.
     * @throws IllegalArgumentException if something other than a regular file has the name.
     * @throws UncheckedIOException if the file cannot be made or mapped.
     */
    public static RingRegion createFile(final Path file, final int capacity, final int initialPosition)
    {
        checkCapacity(capacity);
        final int length = regionLength(capacity);
        checkAgronaAccess();
        final Path target = linkTarget(file);
        checkReplaceable(file, target);
        try
        {
            // A new name too goes through a new file and a rename: created in place, two creators of the same new
            // name would both open one file, and the later format would zero a ring the other already uses.
            final RingRegion replaced = replace(target, length, capacity, initialPosition);
            if (replaced != null)
            {
                return replaced;
            }
            try (FileChannel channel = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE))
            {
                if (channel.size() > length)
                {
                    channel.truncate(length);
                }
                return formatted(channel, length, capacity, initialPosition); // map() extends a shorter file
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create ring file " + file + ": " + describe(ex), ex);
        }
    }

    /**
     * The ring is renamed over whatever has its name: over a directory, a FIFO, a socket or a device that
     * would put a regular file in its place (as root, in place of /dev/null).
     */
    private static void checkReplaceable(final Path file, final Path target)
    {
        final BasicFileAttributes attributes;
        try
        {
            attributes = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        }
        catch (final IOException noneOrUnreadable)
        {
            return; // a new name; or one the create that follows fails on, and says why
        }
        if (!attributes.isRegularFile())
        {
            throw new IllegalArgumentException("ring file " + file + (target.equals(file) ? "" : " (" + target + ")") +
                " is " + (attributes.isDirectory() ? "a directory" : "a FIFO, a socket or a device") +
                ", not a regular file: a ring file replaces what has its name");
        }
    }

    /**
     * Makes the ring in a new file beside {@code target}, with its permissions if it exists, and renames it over it.
     *
     * @return the region, or null if the directory does not allow it (the caller formats in place).
     */
    private static RingRegion replace(final Path target, final int length, final int capacity, final int initialPosition)
        throws IOException
    {
        // Short and fixed: a name that is itself near NAME_MAX must not make the temporary one too long.
        final Path fresh = target.resolveSibling(".syslet-ring-" + Long.toHexString(SALTS.nextLong() >>> 1) + ".new");
        final FileChannel channel;
        try
        {
            channel = FileChannel.open(fresh, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        }
        catch (final IOException directoryRefuses)
        {
            return null;
        }
        try (channel)
        {
            copyOwnershipAndPermissions(target, fresh);
            final RingRegion region = formatted(channel, length, capacity, initialPosition);
            try
            {
                Files.move(fresh, target, StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces the old file whole
            }
            catch (final IOException renameRefused)
            {
                region.close();
                deleteQuietly(fresh);
                return null; // a sticky directory and another user's file, say
            }
            return region;
        }
        catch (final IOException | RuntimeException ex)
        {
            deleteQuietly(fresh);
            throw ex;
        }
    }

    private static void copyOwnershipAndPermissions(final Path from, final Path to) throws IOException
    {
        final PosixFileAttributes old;
        try
        {
            old = Files.readAttributes(from, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        }
        catch (final NoSuchFileException nothingToReplace)
        {
            return; // a new name (or one removed meanwhile): the ring gets a new file's permissions, as with open(2)
        }
        final PosixFileAttributeView view = Files.getFileAttributeView(to, PosixFileAttributeView.class);
        try
        {
            view.setGroup(old.group());
            view.setOwner(old.owner());
        }
        catch (final IOException notPermitted)
        {
            // Only root may give a file away: the new ring belongs to its creator, as any new file does.
        }
        // After the owner: chown clears set-id bits, and permissions are what keeps a ring private.
        view.setPermissions(old.permissions());
    }

    private static RingRegion formatted(final FileChannel channel, final int length, final int capacity,
        final int initialPosition) throws IOException
    {
        final RingRegion region = new RingRegion(channel.map(FileChannel.MapMode.READ_WRITE, 0, length), true, false);
        format(region.buffer, capacity, initialPosition);
        return region;
    }

    /**
     * Maps an existing ring file read-write and validates its header.
     *
     * @param file the ring file.
     * @return the mapped region.
     * @throws RingFormatException if the file is not a ring this version can use.
     */
    public static RingRegion openFile(final Path file)
    {
        return open(file, true);
    }

    /**
     * Maps an existing ring file read-only and validates its header: for an observer that never writes
     * (syslet dump), which then needs only read permission on the file. A {@link Ring} refuses such a region:
     * producers and consumers write head and tail.
     *
     * @param file the ring file.
     * @return the mapped region, {@link #isReadOnly()}.
     * @throws RingFormatException if the file is not a ring this version can use.
     */
    public static RingRegion openFileReadOnly(final Path file)
    {
        return open(file, false);
    }

    private static RingRegion open(final Path file, final boolean writable)
    {
        checkAgronaAccess();
        try (FileChannel channel = writable ?
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE) :
            FileChannel.open(file, StandardOpenOption.READ))
        {
            final long size = channel.size();
            if (size < HEADER_LENGTH || size > regionLength(MAX_CAPACITY))
            {
                throw new RingFormatException("ring file " + file + ": size " + size + " bytes is not a ring " +
                    "(header " + HEADER_LENGTH + " bytes plus a data area of " + MIN_CAPACITY + ".." + MAX_CAPACITY + ")");
            }
            final RingRegion region = new RingRegion(channel.map(
                writable ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY, 0, size), true, !writable);
            try
            {
                validate(region.buffer, "ring file " + file);
            }
            catch (final RuntimeException ex)
            {
                region.close();
                throw ex;
            }
            return region;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open ring file " + file + (writable ? " for reading and writing" :
                " for reading") + ": " + describe(ex), ex);
        }
    }

    /**
     * @return the file a chain of symbolic links ends at, existing or not (a dangling link names a file to
     * create); the path itself if it is not a link.
     */
    private static Path linkTarget(final Path file) throws UncheckedIOException
    {
        Path path = file;
        for (int hops = 0; Files.isSymbolicLink(path); hops++)
        {
            if (hops == 40) // the kernel's own limit (ELOOP)
            {
                throw new UncheckedIOException(new IOException("too many levels of symbolic links: " + file));
            }
            try
            {
                final Path parent = path.toAbsolutePath().getParent();
                path = parent.resolve(Files.readSymbolicLink(path));
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot follow the link " + path + ": " + describe(ex), ex);
            }
        }
        return path;
    }

    /**
     * @return what went wrong, in words: NIO's messages are often just the path ("r.ring"), or its reason.
     */
    private static String describe(final IOException ex)
    {
        if (ex instanceof NoSuchFileException)
        {
            return "no such file or directory: " + ex.getMessage();
        }
        if (ex instanceof AccessDeniedException)
        {
            return "permission denied: " + ex.getMessage();
        }
        if (ex instanceof FileSystemException && ((FileSystemException)ex).getReason() != null)
        {
            final FileSystemException fs = (FileSystemException)ex;
            return fs.getReason() + (fs.getFile() != null ? ": " + fs.getFile() : "");
        }
        return String.valueOf(ex.getMessage());
    }

    private static void deleteQuietly(final Path file)
    {
        try
        {
            Files.deleteIfExists(file);
        }
        catch (final IOException ignored)
        {
            // the error being reported matters more than a stray temporary file
        }
    }

    /**
     * Formats a header in memory the caller owns.
     *
     * @param buffer          at least {@link RingDescriptor#regionLength(int)} bytes, 8-byte aligned.
     * @param capacity        data area bytes.
     * @param initialPosition u32 position of head and tail.
     */
    public static void format(final AtomicBuffer buffer, final int capacity, final int initialPosition)
    {
        checkCapacity(capacity);
        if ((initialPosition & (EntryDescriptor.ALIGNMENT - 1)) != 0)
        {
            throw new IllegalArgumentException("initial position " + Positions.unsigned(initialPosition) +
                " must be a multiple of " + EntryDescriptor.ALIGNMENT);
        }
        if (buffer.capacity() < regionLength(capacity))
        {
            throw new IllegalArgumentException("region of " + buffer.capacity() + " bytes is too small for a ring of " +
                capacity + " bytes: it needs " + regionLength(capacity));
        }
        buffer.verifyAlignment();
        buffer.setMemory(0, regionLength(capacity), (byte)0);
        buffer.putInt(VERSION_OFFSET, ABI_VERSION);
        buffer.putInt(HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        buffer.putInt(CAPACITY_OFFSET, capacity);
        buffer.putInt(MAX_RECORD_LENGTH_OFFSET, maxRecordLength(capacity));
        buffer.putInt(COMPAT_FEATURES_OFFSET, COMPAT_FEATURES);
        buffer.putInt(INCOMPAT_FEATURES_OFFSET, INCOMPAT_FEATURES);
        buffer.putInt(INITIAL_POSITION_OFFSET, initialPosition);
        buffer.putInt(CHECK_SALT_OFFSET, SALTS.nextInt());
        buffer.putInt(TAIL_POSITION_OFFSET, initialPosition);
        buffer.putInt(HEAD_CACHE_OFFSET, initialPosition);
        buffer.putInt(HEAD_POSITION_OFFSET, initialPosition);
        // Release: a process that maps the file and sees the magic also sees every field written above.
        buffer.putIntRelease(MAGIC_OFFSET, MAGIC);
    }

    /**
     * Checks that a buffer holds a ring this version can use.
     *
     * @param buffer the region.
     * @param what   names the region in error messages.
     * @return the data area capacity.
     * @throws RingFormatException naming the first field that does not match.
     */
    public static int validate(final AtomicBuffer buffer, final String what)
    {
        if (buffer.capacity() < HEADER_LENGTH)
        {
            throw new RingFormatException(what + ": " + buffer.capacity() + " bytes cannot hold the " +
                HEADER_LENGTH + "-byte header");
        }
        final int magic = buffer.getIntAcquire(MAGIC_OFFSET);
        if (magic != MAGIC)
        {
            throw new RingFormatException(what + ": magic 0x" + Integer.toHexString(magic) + " is not 0x" +
                Integer.toHexString(MAGIC) + " (\"SYRG\")");
        }
        expect(buffer, what, "ABI version", VERSION_OFFSET, ABI_VERSION);
        expect(buffer, what, "header length", HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        final int capacity = buffer.getInt(CAPACITY_OFFSET);
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Integer.bitCount(capacity) != 1)
        {
            throw new RingFormatException(what + ": capacity " + capacity + " is not a power of two in [" +
                MIN_CAPACITY + ", " + MAX_CAPACITY + "]");
        }
        if (buffer.capacity() != regionLength(capacity))
        {
            throw new RingFormatException(what + ": region is " + buffer.capacity() + " bytes but the header's " +
                "capacity " + capacity + " needs " + regionLength(capacity));
        }
        expect(buffer, what, "max record length", MAX_RECORD_LENGTH_OFFSET, maxRecordLength(capacity));
        for (final int offset : new int[] {TAIL_POSITION_OFFSET, HEAD_CACHE_OFFSET, HEAD_POSITION_OFFSET})
        {
            final int position = buffer.getInt(offset);
            if ((position & (EntryDescriptor.ALIGNMENT - 1)) != 0)
            {
                throw new RingFormatException(what + ": position " + Positions.unsigned(position) + " at byte " +
                    offset + " of the header is not a multiple of " + EntryDescriptor.ALIGNMENT);
            }
        }
        final int incompat = buffer.getInt(INCOMPAT_FEATURES_OFFSET);
        if ((incompat & ~SUPPORTED_INCOMPAT_FEATURES) != 0)
        {
            throw new RingFormatException(what + ": incompat features 0x" + Integer.toHexString(incompat) +
                " include bits this version does not know (it knows 0x" +
                Integer.toHexString(SUPPORTED_INCOMPAT_FEATURES) + ")");
        }
        return capacity;
    }

    private static void expect(
        final AtomicBuffer buffer, final String what, final String field, final int offset, final int expected)
    {
        final int found = buffer.getInt(offset);
        if (found != expected)
        {
            throw new RingFormatException(what + ": " + field + " is " + found + ", expected " + expected);
        }
    }

    /**
     * A view of the whole region, header then data area, of its own: close() never changes it, so a thread
     * that still uses it while another closes the region reads and writes memory that stays alive (the view
     * holds it), never a mix of the old memory's address and no owner (freed under it) or another array's.
     * Once closed, the region hands out no more views.
     *
     * @return a new view of the region.
     * @throws IllegalStateException if the region is closed.
     */
    public synchronized AtomicBuffer buffer()
    {
        if (closed)
        {
            throw new IllegalStateException("the ring region is closed: it hands out no more views of its memory");
        }
        return new UnsafeBuffer(memory);
    }

    /**
     * @return the process-local state that every {@link Ring} made from this region shares.
     */
    LocalState localState()
    {
        return localState;
    }

    /**
     * @return true if the region is a mapped file.
     */
    public boolean isMapped()
    {
        return mapped;
    }

    /**
     * @return true if the region is mapped read-only ({@link #openFileReadOnly}).
     */
    public boolean isReadOnly()
    {
        return readOnly;
    }

    /**
     * Flushes a mapped region to its file (msync); a no-op for direct memory.
     */
    public void force()
    {
        final ByteBuffer memory = this.memory;
        if (mapped && !readOnly && memory != null)
        {
            ((MappedByteBuffer)memory).force();
        }
    }

    /**
     * Releases the region: it hands out no more views, and no longer holds the memory. Idempotent. The memory
     * itself is freed (or unmapped) by its buffer's cleaner once nothing reaches it: each view from
     * {@link #buffer()}, and each {@link Ring} over the region, holds it, so that one used after this, or
     * while this runs, never touches freed memory (a ring reads and writes it without bounds checks). Drop
     * them too.
     */
    @Override
    public synchronized void close()
    {
        if (!closed)
        {
            closed = true;
            memory = null;
        }
    }

    /**
     * Agrona 2.x reaches {@code jdk.internal.misc.Unsafe}; without the flag the first touch fails with a bare
     * IllegalAccessError deep inside Agrona. Fail here instead, naming the flag.
     *
     * @throws IllegalStateException naming the JVM flag to add.
     * @throws UnsupportedOperationException on a big-endian platform: the ABI is little-endian.
     */
    public static void checkAgronaAccess()
    {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
        {
            throw new UnsupportedOperationException("the ring ABI is little-endian; this platform is " +
                ByteOrder.nativeOrder());
        }
        try
        {
            Class.forName("org.agrona.UnsafeApi", true, RingRegion.class.getClassLoader());
        }
        catch (final ClassNotFoundException ex)
        {
            throw new IllegalStateException("Agrona is not on the class path", ex);
        }
        catch (final LinkageError ex)
        {
            throw new IllegalStateException("syslet needs the JVM flag " + JVM_FLAG + " (Agrona 2.x reaches " +
                "jdk.internal.misc.Unsafe); add it to the java command line or to JDK_JAVA_OPTIONS", ex);
        }
    }
}
