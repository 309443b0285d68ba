package io.syslet.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The regular files under some paths, found before the trace starts so that the progress bar knows
 * the total. Symbolic links are not followed (a link to a regular file is not traced; the paths given
 * are resolved first, so {@code trace /usr/lib/jvm/default-java} works). FIFOs, sockets and devices
 * are counted as skipped: opening a FIFO could block for ever. A directory that cannot be listed is a
 * {@link Problem}, never fatal.
 */
final class FileTree
{
    /** A path the walk could not use, with why. */
    static final class Problem
    {
        final Path path;
        final String op;
        final String error;

        Problem(final Path path, final String op, final String error)
        {
            this.path = path;
            this.op = op;
            this.error = error;
        }

        @Override
        public String toString()
        {
            return path + " (" + op + ": " + error + ")";
        }
    }

    final List<Path> files = new ArrayList<>();
    /**
     * Everything the walk has taken: roots that overlap ({@code t} and {@code t/sub}) give each path once. (A
     * directory under both is walked twice, since the first walk may have stopped short of the second's depth.)
     */
    private final Set<Path> seen = new HashSet<>();
    private final Set<Path> unreadableDirectories = new HashSet<>();
    /** Sizes the walk saw; the trace reads what statx says at the time. */
    long bytes;
    long directories;
    /** Entries that are not regular files or directories: links, FIFOs, sockets, devices. */
    long skipped;
    /** Directories that could not be listed, paths that vanished during the walk. */
    final List<Problem> unreadable = new ArrayList<>();
    final List<Problem> vanished = new ArrayList<>();

    private FileTree()
    {
    }

    /**
     * @param roots    real paths (directories or files), each walked in turn.
     * @param maxDepth levels below each root to descend; 0 takes only the root itself.
     * @return what the walk found.
     */
    static FileTree walk(final List<Path> roots, final int maxDepth)
    {
        final FileTree tree = new FileTree();
        for (final Path root : roots)
        {
            try
            {
                Files.walkFileTree(root, EnumSet.noneOf(FileVisitOption.class), maxDepth, tree.visitor());
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e); // the visitor never throws; walkFileTree does only if it does
            }
        }
        return tree;
    }

    private FileVisitor<Path> visitor()
    {
        return new FileVisitor<>()
        {
            @Override
            public FileVisitResult preVisitDirectory(final Path dir, final BasicFileAttributes attrs)
            {
                // Entered again when under an earlier root too (trace t t/sub): that walk may have stopped short of
                // this one's depth. What it finds is taken once.
                if (seen.add(dir))
                {
                    directories++;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(final Path file, final BasicFileAttributes attrs)
            {
                if (!seen.add(file))
                {
                    return FileVisitResult.CONTINUE;
                }
                if (attrs.isRegularFile())
                {
                    files.add(file);
                    bytes += attrs.size();
                }
                else if (attrs.isDirectory())
                {
                    directories++; // a directory at exactly maxDepth: seen, not entered
                }
                else
                {
                    skipped++;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(final Path file, final IOException e)
            {
                if (seen.add(file))
                {
                    final String error = ioError(e);
                    (error.equals("ENOENT") ? vanished : unreadable).add(new Problem(file, "walk", error));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(final Path dir, final IOException e)
            {
                if (e != null && unreadableDirectories.add(dir))
                {
                    unreadable.add(new Problem(dir, "readdir", ioError(e)));
                }
                return FileVisitResult.CONTINUE;
            }
        };
    }

    /**
     * @return the path with every symbolic link resolved: a link given by name is followed, to the file or
     * directory (and filesystem) it names.
     * @throws IllegalArgumentException for a path that does not exist or cannot be resolved: a usage error.
     */
    static Path realPath(final Path path)
    {
        if (path.toString().isEmpty())
        {
            // Path.of("") is the working directory to the JDK; to a shell user it is an unset variable.
            throw new IllegalArgumentException("'': no such file or directory (an empty PATH)");
        }
        try
        {
            return path.toRealPath();
        }
        catch (final java.nio.file.NoSuchFileException e)
        {
            throw new IllegalArgumentException(path + ": no such file or directory", e);
        }
        catch (final IOException e)
        {
            throw new IllegalArgumentException(path + ": " + ioError(e), e);
        }
    }

    /**
     * @return the errno name an NIO exception stands for, as well as it can tell.
     */
    static String ioError(final IOException e)
    {
        if (e instanceof java.nio.file.NoSuchFileException)
        {
            return "ENOENT";
        }
        if (e instanceof java.nio.file.AccessDeniedException)
        {
            return "EACCES";
        }
        if (e instanceof java.nio.file.NotDirectoryException)
        {
            return "ENOTDIR";
        }
        if (e instanceof java.nio.file.FileSystemLoopException)
        {
            return "ELOOP";
        }
        if (e instanceof java.nio.file.FileSystemException && ((java.nio.file.FileSystemException)e).getReason() != null)
        {
            // The reason alone ("Too many levels of symbolic links"): the message repeats the path the caller names.
            return ((java.nio.file.FileSystemException)e).getReason();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
