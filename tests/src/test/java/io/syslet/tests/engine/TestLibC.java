package io.syslet.tests.engine;

import jnr.ffi.LibraryLoader;

/**
 * libc calls the engine tests need and the engine's own binding does not have: opening a file or a
 * directory by name, to get an fd the test owns. JNR-FFI copies the path into a NUL-terminated native
 * string itself, so no pointer is handed over.
 */
public interface TestLibC
{
    /** The loaded binding. */
    TestLibC LIBC = LibraryLoader.create(TestLibC.class).load("c");

    int O_RDONLY = 0;
    int O_RDWR = 2;
    int O_CREAT = 0100;
    int O_TRUNC = 01000;
    int O_DIRECTORY = 0200000;
    int O_NOFOLLOW = 0400000;
    int O_CLOEXEC = 02000000;
    int O_PATH = 010000000;

    /**
     * open(2).
     *
     * @return the fd, or -1 (errno is not read: the callers only need to know it failed).
     */
    int open(String path, int flags, int mode);
}
