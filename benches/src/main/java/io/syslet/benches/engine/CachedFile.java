package io.syslet.benches.engine;

import io.syslet.pool.natives.Natives;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

import static io.syslet.pool.natives.Natives.LIBC;

/**
 * A 64 MiB file of random bytes in the temp directory, read through once so that every block is in the
 * page cache, and a table of random block-aligned offsets into it. Made once per trial; the engine and
 * the JNR pread read it through {@link #fd}, AsynchronousFileChannel opens {@link #path}.
 */
@State(Scope.Benchmark)
public class CachedFile
{
    /** Bytes one read asks for, and the alignment of every offset. */
    static final int BLOCK = 4096;
    static final int FILE_BYTES = 64 << 20;
    /** Entries in the offset table (256 MiB of reads before the sequence repeats); a counter wraps around it. */
    private static final int OFFSETS = 1 << 16;
    private static final int OFFSET_MASK = OFFSETS - 1;
    private static final long SEED = 0x5EED_F11EL;
    private static final int CHUNK = 1 << 20;

    Path path;
    int fd = -1;
    private final long[] offsets = new long[OFFSETS];

    /**
     * Writes the file, reads it back whole, opens it and fills the offset table.
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        path = Files.createTempFile("syslet-bench-", ".dat");
        final SplittableRandom random = new SplittableRandom(SEED);
        final ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE))
        {
            for (long written = 0; written < FILE_BYTES; written += CHUNK)
            {
                chunk.clear();
                while (chunk.hasRemaining())
                {
                    chunk.putLong(random.nextLong());
                }
                chunk.flip();
                while (chunk.hasRemaining())
                {
                    channel.write(chunk);
                }
            }
        }
        // Read it all once: what was just written is likely cached already, but this makes sure of it.
        long read = 0;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ))
        {
            while (true)
            {
                chunk.clear();
                final int n = channel.read(chunk);
                if (n < 0)
                {
                    break;
                }
                read += n;
            }
        }
        if (read != FILE_BYTES)
        {
            throw new IllegalStateException("read back " + read + " of " + FILE_BYTES + " bytes from " + path);
        }
        fd = open(path);
        final int blocks = FILE_BYTES / BLOCK;
        for (int i = 0; i < OFFSETS; i++)
        {
            offsets[i] = (long)random.nextInt(blocks) * BLOCK;
        }
    }

    /**
     * @param i any counter; wraps around the table.
     * @return a random 4 KiB-aligned offset of a whole block in the file.
     */
    long offset(final int i)
    {
        return offsets[i & OFFSET_MASK];
    }

    /**
     * Closes the descriptor and deletes the file.
     */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException
    {
        if (fd >= 0)
        {
            LIBC.close(fd);
            fd = -1;
        }
        Files.deleteIfExists(path);
    }

    private static int open(final Path path)
    {
        final byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        final UnsafeBuffer cName = Engine.direct(name.length + 1);
        cName.putBytes(0, name);
        cName.putByte(name.length, (byte)0);
        final int fd = LIBC.openat(Natives.AT_FDCWD, cName.addressOffset(), Natives.O_RDONLY | Natives.O_CLOEXEC, 0);
        Reference.reachabilityFence(cName); // its memory must outlive the native call that reads it
        if (fd < 0)
        {
            throw new IllegalStateException("openat(" + path + ") failed: errno " + -Natives.lastError());
        }
        return fd;
    }
}
