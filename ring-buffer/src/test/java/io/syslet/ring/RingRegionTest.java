package io.syslet.ring;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static io.syslet.ring.RingTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Creating, opening, validating and closing regions.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class RingRegionTest
{
    private static final int CAPACITY = 1024;

    @TempDir
    Path dir;

    @Test
    void capacityMustBeAPowerOfTwoInRange()
    {
        for (final int bad : new int[]{ 1000, 768, 255, 128, 0, -256, Integer.MIN_VALUE, Integer.MAX_VALUE,
            (1 << 30) + 1, (1 << 30) | (1 << 29) })
        {
            final IllegalArgumentException ex =
                assertThrows(IllegalArgumentException.class, () -> RingRegion.allocate(bad), "capacity " + bad);
            assertMessageNames(ex, "capacity " + bad, "power of two", "256", String.valueOf(1 << 30));
            assertThrows(IllegalArgumentException.class, () -> RingRegion.allocate(bad, 0));
            assertThrows(IllegalArgumentException.class, () -> RingDescriptor.checkCapacity(bad));
            assertThrows(IllegalArgumentException.class,
                () -> RingRegion.createFile(dir.resolve("bad-" + bad), bad, 0));
            assertFalse(Files.exists(dir.resolve("bad-" + bad)), "nothing created for capacity " + bad);
        }
        RingDescriptor.checkCapacity(256);
        RingDescriptor.checkCapacity(1 << 30);
        try (RingRegion smallest = RingRegion.allocate(256))
        {
            assertEquals(256, new Ring(smallest).capacity());
        }
    }

    @Test
    void initialPositionMustBeAMultipleOfEight()
    {
        for (final int bad : new int[]{ 4, 1, 7, -4, 0x7FFF_FFFF, 12 })
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> RingRegion.allocate(CAPACITY, bad), "initial position " + bad);
            assertMessageNames(ex, "initial position " + Integer.toUnsignedLong(bad), "multiple of 8");
        }
        final IllegalArgumentException file = assertThrows(IllegalArgumentException.class,
            () -> RingRegion.createFile(dir.resolve("misaligned"), CAPACITY, 4));
        assertMessageNames(file, "initial position 4");
        try (RingRegion region = RingRegion.allocate(CAPACITY, -8))
        {
            assertEquals(-8, new Ring(region).headPosition());
        }
    }

    @Test
    void formatRefusesATooSmallBuffer()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(512 + CAPACITY - 8));
        assertMessageNames(assertThrows(IllegalArgumentException.class, () -> RingRegion.format(buffer, CAPACITY, 0)),
            String.valueOf(512 + CAPACITY - 8), String.valueOf(512 + CAPACITY));
    }

    @Test
    void ringOverUnformattedMemoryIsRefused()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(512 + CAPACITY));
        assertMessageNames(assertThrows(RingFormatException.class, () -> new Ring(buffer)), "magic 0x0");
        final UnsafeBuffer tiny = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        assertMessageNames(assertThrows(RingFormatException.class, () -> new Ring(tiny)), "64", "512");
    }

    @Test
    void openFileRefusesAFileTooShortForTheHeader() throws IOException
    {
        final Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        assertMessageNames(assertThrows(RingFormatException.class, () -> RingRegion.openFile(empty)), "size 0");
        final Path shortFile = Files.write(dir.resolve("short"), new byte[100]);
        assertMessageNames(assertThrows(RingFormatException.class, () -> RingRegion.openFile(shortFile)),
            "size 100", "512");
    }

    @Test
    void openFileRefusesAWrongMagic() throws IOException
    {
        final Path file = createClosed("magic");
        patchInt(file, 0, 0x1234_5678);
        assertRefusedUnchanged(file, "magic 0x12345678", "0x47525953");

        final Path zeros = Files.write(dir.resolve("zeros"), new byte[512 + CAPACITY]);
        assertRefusedUnchanged(zeros, "magic 0x0");
    }

    @Test
    void openFileRefusesAWrongVersion() throws IOException
    {
        final Path file = createClosed("version");
        patchInt(file, 4, 2);
        assertRefusedUnchanged(file, "ABI version", "is 2", "expected 1");
    }

    @Test
    void openFileRefusesAHeaderLengthMismatch() throws IOException
    {
        final Path file = createClosed("header-length");
        patchInt(file, 8, 256);
        assertRefusedUnchanged(file, "header length", "is 256", "expected 512");
    }

    @Test
    void openFileRefusesACapacityThatDoesNotMatchTheFileSize() throws IOException
    {
        final Path bigger = createClosed("capacity-bigger");
        patchInt(bigger, 12, 2048);
        assertRefusedUnchanged(bigger, "capacity 2048", String.valueOf(512 + CAPACITY), String.valueOf(512 + 2048));

        final Path truncated = createClosed("truncated");
        try (FileChannel channel = FileChannel.open(truncated, StandardOpenOption.WRITE))
        {
            channel.truncate(1000);
        }
        assertRefusedUnchanged(truncated, "capacity " + CAPACITY, "1000", String.valueOf(512 + CAPACITY));

        final Path notPowerOfTwo = createClosed("capacity-odd");
        patchInt(notPowerOfTwo, 12, 1000);
        assertRefusedUnchanged(notPowerOfTwo, "capacity 1000", "power of two");
    }

    @Test
    void openFileRefusesAWrongMaxRecordLength() throws IOException
    {
        final Path file = createClosed("max-record");
        patchInt(file, 16, 256);
        assertRefusedUnchanged(file, "max record length", "is 256", "expected 128");
    }

    @Test
    void openFileRefusesAnUnknownIncompatFeature() throws IOException
    {
        final Path file = createClosed("incompat");
        patchInt(file, 24, 4);
        assertRefusedUnchanged(file, "incompat features 0x4");
    }

    @Test
    void openFileAcceptsUnknownCompatFeaturesAndOwnerFlags() throws IOException
    {
        final Path file = createClosed("compat");
        patchInt(file, 20, 0x10);
        patchInt(file, 28, 0xABCD);
        try (RingRegion region = RingRegion.openFile(file))
        {
            assertEquals(CAPACITY, new Ring(region).capacity());
            assertEquals(0xABCD, region.buffer().getInt(28));
        }
    }

    @Test
    void createFileWritesTheSameHeaderAsAllocate() throws IOException
    {
        final Path file = dir.resolve("header");
        try (RingRegion region = RingRegion.createFile(file, CAPACITY, -1024))
        {
            assertTrue(region.isMapped());
            final Ring ring = new Ring(region);
            assertTrue(ring.offer(4, payload(9, 4), 0, 9));
            region.force();
        }
        final ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(512 + CAPACITY, bytes.capacity());
        assertEquals(0x4752_5953, bytes.getInt(0));
        assertEquals(1, bytes.getInt(4));
        assertEquals(512, bytes.getInt(8));
        assertEquals(CAPACITY, bytes.getInt(12));
        assertEquals(CAPACITY / 8, bytes.getInt(16));
        assertEquals(-1024, bytes.getInt(32));
        assertEquals(-1024 + 32, bytes.getInt(128), "tail after one 25-byte record");
        assertEquals(-1024, bytes.getInt(384), "head");
        assertEquals(-1024, bytes.getInt(512), "record stamp at data offset 0");
        assertEquals(25, bytes.getInt(516));
        assertEquals(4, bytes.getInt(520));
        assertEquals(expectedCheck(bytes.getInt(36), -1024, 25, 4), bytes.getInt(524));
    }

    @Test
    void createThenOpenInTheSameJvmSharesTheRecords()
    {
        final Path file = dir.resolve("shared");
        try (RingRegion created = RingRegion.createFile(file, CAPACITY, -64);
            RingRegion opened = RingRegion.openFile(file))
        {
            assertTrue(opened.isMapped());
            final Ring producer = new Ring(created);
            final Ring consumer = new Ring(opened);
            assertEquals(-64, consumer.headPosition());

            final UnsafeBuffer dst = heap(64);
            int position = -64;
            for (int batch = 0; batch < 4; batch++)
            {
                for (int i = batch * 10; i < batch * 10 + 10; i++)
                {
                    assertTrue(producer.offer(1 + i, payload(i, i), 0, i), "record " + i);
                }
                assertEquals(producer.tailPosition(), consumer.tailPosition());
                for (int i = batch * 10; i < batch * 10 + 10; i++)
                {
                    final int recordLength = 16 + i;
                    final int toEnd = CAPACITY - (position & (CAPACITY - 1));
                    if (align8(recordLength) > toEnd)
                    {
                        position += toEnd;
                    }
                    assertEquals(recordLength, consumer.poll(dst, 0), "record " + i);
                    assertRecord(consumer, dst, 0, position, 1 + i, i, i);
                    position += align8(recordLength);
                    assertEquals(position, producer.headPosition(), "the producer's mapping sees the consumer's head");
                }
            }
            assertTrue(Positions.isBefore(-64, position) && Integer.toUnsignedLong(position) < 4096,
                "positions crossed 2^32");
            assertEquals(0, consumer.poll(dst, 0));
            assertEquals(0, producer.poll(dst, 0));
        }
    }

    /**
     * The ring is made beside its name and renamed over it: over a FIFO that put a regular file in its place (and
     * as root, given /dev/null, in place of /dev/null).
     */
    @Test
    void aNameHeldByAFifoOrADirectoryIsRefusedAndLeftAsItIs() throws Exception
    {
        final Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor(), "mkfifo");
        assertMessageNames(assertThrows(IllegalArgumentException.class,
            () -> RingRegion.createFile(fifo, CAPACITY, 0)), "FIFO", "not a regular file");
        assertTrue(Files.readAttributes(fifo, java.nio.file.attribute.BasicFileAttributes.class,
            java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther(), "still a FIFO");

        final Path link = dir.resolve("link-to-fifo");
        Files.createSymbolicLink(link, fifo);
        assertMessageNames(assertThrows(IllegalArgumentException.class,
            () -> RingRegion.createFile(link, CAPACITY, 0)), "link-to-fifo", "not a regular file");

        final Path directory = Files.createDirectory(dir.resolve("a-directory"));
        assertMessageNames(assertThrows(IllegalArgumentException.class,
            () -> RingRegion.createFile(directory, CAPACITY, 0)), "a directory");
        assertTrue(Files.isDirectory(directory));
    }

    @Test
    void closeTwiceIsFine()
    {
        final RingRegion direct = RingRegion.allocate(CAPACITY);
        direct.close();
        direct.close();
        assertMessageNames(assertThrows(IllegalStateException.class, direct::buffer), "closed");

        final RingRegion mapped = RingRegion.createFile(dir.resolve("close-twice"), CAPACITY, 0);
        mapped.close();
        mapped.close();
        assertMessageNames(assertThrows(IllegalStateException.class, mapped::buffer), "closed");
    }

    /**
     * A view taken before close() stays whole after it: close() used to re-wrap the one shared buffer over an
     * empty array, field by field, so a thread reading through it while another closed the region could see the
     * old memory's address with the empty array (a wild read) or with no owner left to keep the memory alive.
     */
    @Test
    void aViewTakenBeforeCloseStillReadsTheRegionAfterIt()
    {
        final RingRegion region = RingRegion.allocate(CAPACITY);
        final AtomicBuffer view = region.buffer();
        region.close();
        assertEquals(RingDescriptor.regionLength(CAPACITY), view.capacity());
        assertEquals(RingDescriptor.MAGIC, view.getIntVolatile(RingDescriptor.MAGIC_OFFSET));
    }

    /**
     * A ring over a closed region is refused as such, not as "0 bytes cannot hold the 512-byte header": the
     * ring used to copy the region's buffer, which close() had re-wrapped over an empty array. (The same copy,
     * made while another thread closed the region, could take the memory's address but not the buffer that owns
     * it, and the memory could then be freed under the ring; the ring now takes its view under close()'s lock.)
     */
    @Test
    void aRingOverAClosedRegionIsRefusedAsClosed()
    {
        final RingRegion direct = RingRegion.allocate(CAPACITY);
        direct.close();
        assertMessageNames(assertThrows(IllegalStateException.class, () -> new Ring(direct)), "closed");

        final RingRegion mapped = RingRegion.createFile(dir.resolve("closed.ring"), CAPACITY, 0);
        mapped.close();
        assertMessageNames(assertThrows(IllegalStateException.class, () -> new Ring(mapped, () -> { })), "closed");
    }

    @Test
    void forceIsANoOpForDirectMemory()
    {
        try (RingRegion region = RingRegion.allocate(CAPACITY))
        {
            region.force();
            assertEquals(0x4752_5953, region.buffer().getInt(0));
        }
    }

    @Test
    void createFileReplacesAnExistingRingInsteadOfTruncatingItUnderItsReaders() throws IOException
    {
        final Path file = dir.resolve("replaced.ring");
        try (RingRegion first = RingRegion.createFile(file, CAPACITY, 0);
            RingRegion reader = RingRegion.openFileReadOnly(file))
        {
            assertTrue(new Ring(first).offer(7, payload(8, 1), 0, 8));
            final Object firstFile = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            final int firstSalt = reader.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET);
            try (RingRegion second = RingRegion.createFile(file, CAPACITY * 2, 0))
            {
                assertNotEquals(firstFile,
                    Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                    "a new file under the old name");
                // A reader of the old file still reads the old ring, whole: nothing was cut from under it.
                assertEquals(firstSalt, reader.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET));
                assertEquals(RingDescriptor.regionLength(CAPACITY), reader.buffer().capacity());
                assertEquals(7, reader.buffer().getInt(RingDescriptor.HEADER_LENGTH + EntryDescriptor.TYPE_OFFSET));
                try (RingRegion reopened = RingRegion.openFile(file))
                {
                    assertEquals(CAPACITY * 2, reopened.buffer().getInt(RingDescriptor.CAPACITY_OFFSET));
                    assertEquals(second.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET),
                        reopened.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET));
                }
            }
        }
        try (var names = Files.list(dir))
        {
            assertEquals(java.util.List.of(file), names.collect(java.util.stream.Collectors.toList()),
                "no temporary file left beside it");
        }
    }

    /**
     * Two creators of a path that does not exist yet must each get a ring of their own, as they do when the
     * path exists (the later rename wins the name). Creating the file in place under its final name let both
     * open the same new file: the later format zeroed a ring the earlier creator already produced into.
     */
    @Test
    void twoCreatorsOfANewPathGetARingEachAndNeitherFormatsOverTheOther() throws Exception
    {
        final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try
        {
            for (int round = 0; round < 3000; round++)
            {
                final Path file = dir.resolve("raced-" + round + ".ring");
                final java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
                final java.util.List<java.util.concurrent.Future<RingRegion>> made = new java.util.ArrayList<>();
                for (int creator = 1; creator <= 2; creator++)
                {
                    final int type = creator;
                    made.add(pool.submit(() ->
                    {
                        start.await();
                        final RingRegion region = RingRegion.createFile(file, CAPACITY, 0);
                        assertTrue(new Ring(region).offer(type, payload(8, type), 0, 8));
                        return region;
                    }));
                }
                try (RingRegion first = made.get(0).get(); RingRegion second = made.get(1).get())
                {
                    final UnsafeBuffer dst = new UnsafeBuffer(new byte[64]);
                    final Ring one = new Ring(first);
                    final Ring two = new Ring(second);
                    assertEquals(24, one.poll(dst, 0), "round " + round + ": the first creator's record is in its ring");
                    assertEquals(1, dst.getInt(8), "round " + round + ": type of the first creator's record");
                    assertEquals(0, one.poll(dst, 0), "round " + round + ": and nothing else");
                    assertEquals(24, two.poll(dst, 0), "round " + round + ": the second creator's record is in its ring");
                    assertEquals(2, dst.getInt(8), "round " + round + ": type of the second creator's record");
                    assertEquals(0, two.poll(dst, 0), "round " + round + ": and nothing else");
                }
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        try (var names = Files.list(dir))
        {
            assertTrue(names.noneMatch(name -> name.getFileName().toString().startsWith(".syslet-ring-")),
                "no temporary file left beside the rings");
        }
    }

    @Test
    void createFileThroughASymbolicLinkReplacesTheFileItNames() throws IOException
    {
        final Path target = createClosed("target.ring");
        final Path link = Files.createSymbolicLink(dir.resolve("link.ring"), target);
        try (RingRegion region = RingRegion.createFile(link, CAPACITY, 0))
        {
            assertTrue(Files.isSymbolicLink(link), "the link stays a link");
            try (RingRegion reopened = RingRegion.openFile(target))
            {
                assertEquals(region.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET),
                    reopened.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET));
            }
        }
    }

    @Test
    void aReplacedRingFileKeepsTheOldFilesPermissions() throws IOException
    {
        final Path file = createClosed("private.ring");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        final Object before = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        try (RingRegion region = RingRegion.createFile(file, CAPACITY, 0))
        {
            assertNotEquals(before, Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey());
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(file)), "a private ring stays private");
        }
    }

    @Test
    void aNameNearTheLimitAndADanglingLinkWorkAsBefore() throws IOException
    {
        final Path longName = dir.resolve("r".repeat(250));
        createClosed(longName.getFileName().toString());
        try (RingRegion region = RingRegion.createFile(longName, CAPACITY, 0))
        {
            assertEquals(CAPACITY, region.buffer().getInt(RingDescriptor.CAPACITY_OFFSET));
        }
        final Path missing = dir.resolve("not-yet.ring");
        final Path link = Files.createSymbolicLink(dir.resolve("dangling.ring"), missing.getFileName());
        try (RingRegion region = RingRegion.createFile(link, CAPACITY, 0))
        {
            assertTrue(Files.isSymbolicLink(link), "the link stays a link");
            assertTrue(Files.isRegularFile(missing), "the file it named is made");
        }
    }

    @Test
    void whereTheDirectoryRefusesANewFileTheRingIsFormattedInPlaceWithoutCuttingIt() throws Exception
    {
        final Path locked = Files.createDirectory(dir.resolve("locked"));
        final Path file = locked.resolve("in-place.ring");
        try (RingRegion first = RingRegion.createFile(file, CAPACITY, 0))
        {
            assertTrue(new Ring(first).offer(7, payload(8, 1), 0, 8));
        }
        final Object before = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        // Immutable: not even root may add a file to it; the files already in it can still be written.
        final Process chattr = new ProcessBuilder("chattr", "+i", locked.toString()).redirectErrorStream(true).start();
        final String said = new String(chattr.getInputStream().readAllBytes());
        org.junit.jupiter.api.Assumptions.assumeTrue(chattr.waitFor() == 0,
            "needs chattr +i (e2fsprogs, an ext2/3/4 temp dir, CAP_LINUX_IMMUTABLE) to make a directory refuse new " +
                "files even to root: " + said);
        try (RingRegion reader = RingRegion.openFileReadOnly(file))
        {
            final int oldSalt = reader.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET);
            try (RingRegion second = RingRegion.createFile(file, CAPACITY, 0))
            {
                assertEquals(before, Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                    "the same file, formatted again");
                assertNotEquals(oldSalt, reader.buffer().getInt(RingDescriptor.CHECK_SALT_OFFSET),
                    "a reader of it sees a new ring (a new salt), and no fault");
                assertTrue(new Ring(second).offer(9, payload(8, 2), 0, 8));
            }
        }
        finally
        {
            new ProcessBuilder("chattr", "-i", locked.toString()).start().waitFor();
        }
    }

    @Test
    void aRingFileMappedReadOnlyCanBeReadButNotMadeARing() throws IOException
    {
        final Path file = createClosed("readonly.ring");
        try (RingRegion region = RingRegion.openFileReadOnly(file))
        {
            assertTrue(region.isReadOnly());
            assertEquals(CAPACITY, region.buffer().getInt(RingDescriptor.CAPACITY_OFFSET));
            final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> new Ring(region));
            assertMessageNames(refused, "read-only");
            region.force(); // a no-op for a read-only mapping, not an error
        }
        try (RingRegion writable = RingRegion.openFile(file))
        {
            assertFalse(writable.isReadOnly());
        }
    }

    private Path createClosed(final String name)
    {
        final Path file = dir.resolve(name);
        try (RingRegion region = RingRegion.createFile(file, CAPACITY, 0))
        {
            assertTrue(new Ring(region).offer(1, payload(8, 1), 0, 8));
        }
        return file;
    }

    private static void patchInt(final Path file, final int offset, final int value) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            final ByteBuffer bytes = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
            assertEquals(4, channel.write(bytes, offset));
        }
    }

    private static void assertRefusedUnchanged(final Path file, final String... parts) throws IOException
    {
        final byte[] before = Files.readAllBytes(file);
        final RingFormatException ex = assertThrows(RingFormatException.class, () -> RingRegion.openFile(file));
        assertMessageNames(ex, parts);
        assertMessageNames(ex, file.toString());
        assertArrayEquals(before, Files.readAllBytes(file), "a refused open changes nothing");
    }
}
