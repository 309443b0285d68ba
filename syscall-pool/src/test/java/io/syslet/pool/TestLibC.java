package io.syslet.pool;

import jnr.ffi.LibraryLoader;

/**
 * libc functions that only the tests need (the engine's own binding stays as small as the engine).
 * Pointer arguments are raw addresses of direct buffers the caller sized for the call. Public because
 * JNR-FFI generates its implementation in a class loader of its own.
 */
public interface TestLibC
{
    TestLibC LIBC = LibraryLoader.create(TestLibC.class).load("c");

    int EPOLL_CLOEXEC = 02000000;
    int EPOLL_CTL_ADD = 1;
    int EPOLLIN = 1;
    /** Bytes of {@code struct epoll_event}: packed (u32 events, u64 data) on x86_64, 16 elsewhere; 16 holds both. */
    int EPOLL_EVENT_ROOM = 16;
    int F_DUPFD_CLOEXEC = 1030;

    int mkfifo(String path, int mode);

    int epoll_create1(int flags);

    int epoll_ctl(int epfd, int op, int fd, long event);

    int epoll_wait(int epfd, long events, int maxevents, int timeoutMillis);

    int fcntl(int fd, int cmd, int arg);

    int dup2(int oldfd, int newfd);
}
