package io.syslet.pool;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Event;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.syslet.pool.SysletTestSupport.directBuffer;
import static io.syslet.pool.SysletTestSupport.putPath;
import static io.syslet.pool.SysletTestSupport.reap;
import static io.syslet.pool.SysletTestSupport.submitAll;
import static io.syslet.pool.SysletTestSupport.writer;
import static io.syslet.pool.natives.Natives.AT_FDCWD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * STATX against the JDK's view of the same files ({@code unix:*} attributes, which come from stat(2)),
 * over a generated tree of files, directories, a hard link and symlinks.
 */
class StatxTest
{
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int STATX_BASIC_STATS = 0x7ff;
    /** The fields compared below: TYPE, MODE, NLINK, UID, MTIME, INO, SIZE. */
    private static final int STATX_COMPARED = 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x100 | 0x200;

    // struct statx
    private static final int STX_MASK = 0;
    private static final int STX_NLINK = 16;
    private static final int STX_UID = 20;
    private static final int STX_MODE = 28;
    private static final int STX_INO = 32;
    private static final int STX_SIZE = 40;
    private static final int STX_MTIME_SEC = 112;
    private static final int STX_MTIME_NSEC = 120;
    private static final int STATX_LENGTH = 256;

    private static final int FILES = 50;
    /** Per entry in the registered buffer: the path, then the struct statx. */
    private static final int ENTRY_ROOM = 1024;
    private static final int PATH_ROOM = ENTRY_ROOM - STATX_LENGTH;
    private static final String[] PERMISSIONS = {"rw-------", "rw-r--r--", "rwxr-xr-x", "rw-r-----", "r--r--r--"};

    @TempDir
    Path root;

    @Test
    void statxAgreesWithTheJdkForEveryEntryOfATree() throws IOException
    {
        final List<Path> entries = buildTree();
        final Path symlink = root.resolve("link");
        try (SysletContext ctx = SysletContext.setup(new SetupParams()))
        {
            final UnsafeBuffer mem = directBuffer((entries.size() + 1) * ENTRY_ROOM);
            // Never written by a kernel that fills what the mask promises; seen if it does not.
            mem.setMemory(0, mem.capacity(), (byte)0xA5);
            final int buf = ctx.registerBuffer(mem);
            final IocbWriter w = writer();
            for (int i = 0; i < entries.size(); i++)
            {
                final Path entry = entries.get(i);
                final int flags = Files.isSymbolicLink(entry) ? AT_SYMLINK_NOFOLLOW : 0;
                statx(w, mem, buf, i, entry, flags);
            }
            // The same symlink once more, followed this time: it must describe its target.
            final int followed = entries.size();
            statx(w, mem, buf, followed, symlink, 0);
            submitAll(w, ctx);
            final Map<Long, Event> events = reap(ctx, entries.size() + 1);

            for (int i = 0; i < entries.size(); i++)
            {
                assertEquals(0, events.get((long)i).res(), entries.get(i) + ": " + events.get((long)i));
                assertSameAsJdk(entries.get(i), mem, i * ENTRY_ROOM + PATH_ROOM, LinkOption.NOFOLLOW_LINKS);
            }
            assertEquals(0, events.get((long)followed).res());
            assertSameAsJdk(symlink, mem, followed * ENTRY_ROOM + PATH_ROOM);
            assertEquals(Files.getAttribute(symlink.toRealPath(), "unix:ino"),
                mem.getLong(followed * ENTRY_ROOM + PATH_ROOM + STX_INO), "a followed symlink stats its target");
        }
    }

    private static void statx(final IocbWriter w, final UnsafeBuffer mem, final int buf, final int index,
        final Path path, final int flags)
    {
        final int at = index * ENTRY_ROOM;
        assertTrue(path.toString().length() < PATH_ROOM, "path too long for the test's layout: " + path);
        w.statx(index, AT_FDCWD, putPath(mem, buf, at, path), flags, STATX_BASIC_STATS, BufferRef.of(buf, at + PATH_ROOM));
    }

    private static void assertSameAsJdk(final Path path, final UnsafeBuffer mem, final int stx, final LinkOption... options)
        throws IOException
    {
        final Map<String, Object> jdk = Files.readAttributes(path, "unix:*", options);
        final int mask = mem.getInt(stx + STX_MASK);
        assertEquals(STATX_COMPARED, mask & STATX_COMPARED, path + ": statx mask 0x" + Integer.toHexString(mask));
        assertEquals(((Number)jdk.get("size")).longValue(), mem.getLong(stx + STX_SIZE), path + " size");
        assertEquals(((Number)jdk.get("mode")).intValue(), mem.getShort(stx + STX_MODE) & 0xFFFF, path + " mode");
        assertEquals(((Number)jdk.get("ino")).longValue(), mem.getLong(stx + STX_INO), path + " ino");
        assertEquals(((Number)jdk.get("nlink")).intValue(), mem.getInt(stx + STX_NLINK), path + " nlink");
        assertEquals(((Number)jdk.get("uid")).intValue(), mem.getInt(stx + STX_UID), path + " uid");
        assertEquals(((FileTime)jdk.get("lastModifiedTime")).to(TimeUnit.SECONDS), mem.getLong(stx + STX_MTIME_SEC),
            path + " mtime seconds");
        final int nanos = mem.getInt(stx + STX_MTIME_NSEC);
        assertTrue(nanos >= 0 && nanos < 1_000_000_000, path + " mtime nanoseconds " + nanos);
    }

    /**
     * 50 files of distinct sizes, modes and mtimes in the root and four directories, a hard link (nlink 2),
     * a symlink to a file and a dangling symlink.
     *
     * @return every entry, the root included.
     */
    private List<Path> buildTree() throws IOException
    {
        final Path[] dirs = {
            root, Files.createDirectory(root.resolve("d0")), Files.createDirectory(root.resolve("d1")),
            Files.createDirectories(root.resolve("d1/nested")), Files.createDirectory(root.resolve("d2"))};
        for (int i = 0; i < FILES; i++)
        {
            final Path file = dirs[i % dirs.length].resolve(String.format("f%02d", i));
            Files.write(file, new byte[i * 97]);
            Files.setLastModifiedTime(file, FileTime.from(1_600_000_000L + i * 3601L, TimeUnit.SECONDS));
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(PERMISSIONS[i % PERMISSIONS.length]));
        }
        Files.createLink(root.resolve("hard"), dirs[1].resolve("f01"));
        Files.createSymbolicLink(root.resolve("link"), root.relativize(dirs[2].resolve("f02")));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("nowhere"));
        try (Stream<Path> walk = Files.walk(root))
        {
            final List<Path> entries = walk.collect(Collectors.toList());
            assertEquals(1 + 4 + FILES + 3, entries.size(), entries.toString());
            return entries;
        }
    }
}
