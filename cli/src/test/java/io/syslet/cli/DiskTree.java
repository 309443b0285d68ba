package io.syslet.cli;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A generated tree of regular files on a disk filesystem (the page cache and RWF_NOWAIT behave as on
 * real data there, unlike tmpfs), written and fsynced so that POSIX_FADV_DONTNEED can drop their pages,
 * plus a FIFO and a symbolic link that trace must skip.
 */
final class DiskTree
{
    /** Sizes around the page and chunk boundaries the tests use (4 KiB pages, 64 KiB chunks). */
    private static final int[] SIZES = {0, 1, 4095, 4096, 65535, 65536, 65537, 200_000, 1_000_000};

    final Path root;
    /** Every regular file, with its size. */
    final Map<Path, Long> files = new LinkedHashMap<>();
    /** Whether root was made outside the JUnit temp dir (which was on tmpfs) and must be deleted. */
    private final boolean ownRoot;

    private DiskTree(final Path root, final boolean ownRoot)
    {
        this.root = root;
        this.ownRoot = ownRoot;
    }

    /**
     * @param tempDir JUnit's temp dir; used if it is on a disk filesystem, else a dir in /var/tmp.
     */
    static DiskTree create(final Path tempDir) throws IOException, InterruptedException
    {
        final boolean onDisk = !"tmpfs".equals(Files.getFileStore(tempDir).type());
        Path root = tempDir.resolve("tree");
        if (!onDisk)
        {
            final Path varTmp = Path.of("/var/tmp");
            Assumptions.assumeTrue(Files.isDirectory(varTmp) && !"tmpfs".equals(Files.getFileStore(varTmp).type()),
                "needs a disk filesystem for page-cache behaviour: " + tempDir + " and /var/tmp are tmpfs or missing");
            root = Files.createTempDirectory(varTmp, "syslet-cli-test");
        }
        Files.createDirectories(root);
        final DiskTree tree = new DiskTree(root, !onDisk);
        final SplittableRandom random = new SplittableRandom(7);
        final List<Path> dirs = new ArrayList<>(List.of(root, root.resolve("a"), root.resolve("a/b"), root.resolve("c")));
        for (final Path dir : dirs)
        {
            Files.createDirectories(dir);
        }
        for (int i = 0; i < SIZES.length + 6; i++)
        {
            final int size = i < SIZES.length ? SIZES[i] : random.nextInt(300_000);
            tree.write(dirs.get(i % dirs.size()).resolve("f" + i + ".bin"), size, random);
        }
        Files.createSymbolicLink(root.resolve("a/link"), root.resolve("f0.bin"));
        final Process mkfifo = new ProcessBuilder("mkfifo", root.resolve("c/fifo").toString()).inheritIO().start();
        Assumptions.assumeTrue(mkfifo.waitFor() == 0, "needs mkfifo (coreutils) to make a FIFO that trace must skip");
        return tree;
    }

    Path write(final Path file, final int size, final SplittableRandom random) throws IOException
    {
        final byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++)
        {
            bytes[i] = (byte)random.nextInt();
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            channel.write(ByteBuffer.wrap(bytes));
            channel.force(true); // clean pages: DONTNEED can drop only those
        }
        files.put(file, (long)size);
        return file;
    }

    long totalBytes()
    {
        return files.values().stream().mapToLong(Long::longValue).sum();
    }

    void delete() throws IOException
    {
        if (ownRoot)
        {
            try (Stream<Path> walk = Files.walk(root))
            {
                for (final Path path : (Iterable<Path>)walk.sorted(Comparator.reverseOrder())::iterator)
                {
                    Files.deleteIfExists(path);
                }
            }
        }
    }
}
