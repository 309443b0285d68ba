package io.syslet.pool.compound;

import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.Opcode;

import java.util.concurrent.Callable;

/**
 * What one leaf of a compound event runs: an opcode and its arguments, as an iocb would carry them
 * (see {@link Opcode} for each op's arguments), plus the result that counts as "not short" for linked
 * ops. Immutable.
 */
public final class Op
{
    /** {@link #expected()} when any non-negative result is a full success. */
    public static final long ANY_RESULT = -1;

    final int opcode;
    final int aux;
    final long a0, a1, a2, a3, a4, a5;
    final int[] attributes;
    final long expected;
    final Callable<Long> callable;

    private Op(final int opcode, final int aux, final long a0, final long a1, final long a2, final long a3,
        final long a4, final long a5, final long expected, final int[] attributes, final Callable<Long> callable)
    {
        this.opcode = opcode;
        this.aux = aux;
        this.a0 = a0;
        this.a1 = a1;
        this.a2 = a2;
        this.a3 = a3;
        this.a4 = a4;
        this.a5 = a5;
        this.expected = expected;
        this.attributes = attributes;
        this.callable = callable;
    }

    /** Any op; a non-negative result is a full success. */
    public static Op of(final int opcode, final long a0, final long a1, final long a2, final long a3, final long a4,
        final long a5)
    {
        return new Op(opcode, 0, a0, a1, a2, a3, a4, a5, ANY_RESULT, new int[0], null);
    }

    public static Op nop()
    {
        return of(Opcode.NOP, 0, 0, 0, 0, 0, 0);
    }

    /** {@code syscall(number, a0..a5)}, unchecked, all six arguments passed. */
    public static Op raw(final int number, final long a0, final long a1, final long a2, final long a3, final long a4,
        final long a5)
    {
        return raw(number, IocbDescriptor.RAW_ARGS_NOT_GIVEN, a0, a1, a2, a3, a4, a5);
    }

    /**
     * {@code syscall(number, a0..a5)}, unchecked, for a syscall that reads at most {@code maxArgs}
     * arguments (see {@link IocbDescriptor#rawAux}).
     */
    public static Op raw(final int number, final int maxArgs, final long a0, final long a1, final long a2,
        final long a3, final long a4, final long a5)
    {
        return new Op(Opcode.RAW, IocbDescriptor.rawAux(number, maxArgs), a0, a1, a2, a3, a4, a5, ANY_RESULT,
            new int[0], null);
    }

    /** A pread; fewer than {@code count} bytes is a short result. */
    public static Op pread(final int fd, final long buf, final long count, final long offset)
    {
        return of(Opcode.PREAD, fd, buf, count, offset, 0, 0).expecting(count);
    }

    public static Op pwrite(final int fd, final long buf, final long count, final long offset)
    {
        return of(Opcode.PWRITE, fd, buf, count, offset, 0, 0).expecting(count);
    }

    /** A read; fewer than {@code count} bytes is a short result. */
    public static Op read(final int fd, final long buf, final long count)
    {
        return of(Opcode.READ, fd, buf, count, 0, 0, 0).expecting(count);
    }

    public static Op write(final int fd, final long buf, final long count)
    {
        return of(Opcode.WRITE, fd, buf, count, 0, 0, 0).expecting(count);
    }

    public static Op openat(final int dirfd, final long path, final int flags, final int mode)
    {
        return of(Opcode.OPENAT, dirfd, path, flags, mode, 0, 0);
    }

    public static Op close(final int fd)
    {
        return of(Opcode.CLOSE, fd, 0, 0, 0, 0, 0);
    }

    public static Op statx(final int dirfd, final long path, final int flags, final int mask, final long out)
    {
        return of(Opcode.STATX, dirfd, path, flags, mask, out, 0);
    }

    public static Op nanosleep(final long nanos)
    {
        return of(Opcode.NANOSLEEP, nanos, 0, 0, 0, 0, 0);
    }

    /**
     * Blocking Java code on an unbounded worker. Its result is the value returned (null counts as 0), -ECANCELED
     * if it was cancelled, -EIO if it threw: what it threw is then on its node ({@link OpCompletion#failure()}),
     * in its future's exceptional completion, or with the error handler ({@link Completions}, failures).
     */
    public static Op call(final Callable<Long> callable)
    {
        return new Op(Opcode.CALLABLE, 0, 0, 0, 0, 0, 0, 0, ANY_RESULT, new int[0], callable);
    }

    /**
     * @param result the result below which a non-negative result is short.
     * @return a copy with that expectation.
     */
    public Op expecting(final long result)
    {
        return new Op(opcode, aux, a0, a1, a2, a3, a4, a5, result, attributes, callable);
    }

    /**
     * @param ids attribute ids the event should carry.
     * @return a copy that asks for them.
     */
    public Op withAttributes(final int... ids)
    {
        return new Op(opcode, aux, a0, a1, a2, a3, a4, a5, expected, ids.clone(), callable);
    }

    public int opcode()
    {
        return opcode;
    }

    public long expected()
    {
        return expected;
    }

    /**
     * @param res a result of this op.
     * @return true if it failed or, for an op that expects a result, fell short of it.
     */
    public boolean failedOrShort(final long res)
    {
        return res < 0 || (expected != ANY_RESULT && res < expected);
    }

    @Override
    public String toString()
    {
        return Opcode.name(opcode) + "(" + a0 + ", " + a1 + ", " + a2 + ", " + a3 + ")";
    }
}
