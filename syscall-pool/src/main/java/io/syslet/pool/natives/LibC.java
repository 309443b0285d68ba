package io.syslet.pool.natives;

import jnr.ffi.annotations.Out;

/**
 * The libc functions the engine calls, bound by JNR-FFI. Pointer arguments are raw addresses
 * ({@code long}); callers resolve them from registered buffers and check bounds first, because the
 * native side writes wherever it is told. None is bound with {@code @IgnoreError}: the engine reads
 * errno after a -1 (see {@link Natives#result}), and {@code @IgnoreError} leaves it stale.
 */
public interface LibC
{
    long pread(int fd, long buf, long count, long offset);

    long pwrite(int fd, long buf, long count, long offset);

    long preadv(int fd, long iov, int iovcnt, long offset);

    long pwritev(int fd, long iov, int iovcnt, long offset);

    long preadv2(int fd, long iov, int iovcnt, long offset, int flags);

    long read(int fd, long buf, long count);

    long write(int fd, long buf, long count);

    int fsync(int fd);

    int fdatasync(int fd);

    int openat(int dirfd, long path, int flags, int mode);

    /** For the engine's own files, opened once: the String costs an allocation. */
    int open(String path, int flags);

    int close(int fd);

    int statx(int dirfd, long path, int flags, int mask, long statxbuf);

    int fallocate(int fd, int mode, long offset, long len);

    int sync_file_range(int fd, long offset, long nbytes, int flags);

    int accept4(int fd, long addr, long addrlen, int flags);

    int connect(int fd, long addr, int addrlen);

    long recv(int fd, long buf, long len, int flags);

    long send(int fd, long buf, long len, int flags);

    int poll(long fds, long nfds, int timeout);

    int nanosleep(long req, long rem);

    int waitid(int idtype, int id, long infop, int options);

    int flock(int fd, int operation);

    int getaddrinfo(long node, long service, long hints, long res);

    void freeaddrinfo(long res);

    /**
     * glibc's variadic {@code syscall(number, ...)} with all six arguments. Seven native parameters: JNR-FFI's
     * allocation-free calls stop at six, so each call builds a heap invocation buffer (72 bytes).
     */
    long syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5);

    /**
     * The same {@code syscall()} with four arguments, for a syscall that reads at most four: five native
     * parameters, which JNR-FFI calls through its generated stub, without allocating. syscall() still hands
     * the kernel a fifth and a sixth argument, taken from where a sixth and seventh parameter would be
     * (registers and stack the stub leaves as they are), values such a syscall ignores.
     *
     * <p>Not five arguments (six native parameters): JNR-FFI 2.3.7's x86-64 stub compiler loads the sixth
     * integer parameter from {@code [rsp + 0]}, the return address, instead of {@code [rsp + 16]}
     * ({@code X86_64StubCompiler}: {@code disp = 8 + (4 - i) * 8}), so a five-argument syscall would get a
     * code address as its fifth argument; statx writes its result there.
     */
    long syscall(long number, long a0, long a1, long a2, long a3);

    int eventfd(int initval, int flags);

    int pipe2(@Out int[] fds, int flags);

    int getpid();

    int getppid();

    int gettid();

    int tgkill(int tgid, int tid, int sig);

    int sigaction(int signum, long act, long oldact);

    int __libc_current_sigrtmax();

    int posix_fadvise(int fd, long offset, long len, int advice);

    int clock_gettime(int clockId, long timespec);

    int getrusage(int who, long usage);

    int prctl(int option, long arg2, long arg3, long arg4, long arg5);
}
