package io.syslet.tests.engine;

import io.syslet.abi.BufferRef;
import io.syslet.abi.IocbDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.IovDescriptor;
import io.syslet.abi.Opcode;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static io.syslet.abi.IocbDescriptor.ARG_COUNT;
import static io.syslet.tests.engine.SubmitFuzzTest.FILE_NAME;
import static io.syslet.tests.engine.SubmitFuzzTest.MAX_IN_FLIGHT;
import static io.syslet.tests.engine.SubmitFuzzTest.MAX_SUBMISSION_BYTES;
import static io.syslet.tests.engine.SubmitFuzzTest.REGISTERED_BYTES;

/**
 * The input format of {@link SubmitFuzzTest} (see its class comment): a reader, a writer, and a generator of
 * pseudo-random inputs for the normal build. Of the stored inputs, {@code seed-random-N} is {@code random(N)};
 * {@code seed-<sha1>} are inputs a fuzzing run found new coverage with.
 */
final class SubmitFuzzInput
{
    /** Offsets in the registered buffer of what {@link #registeredPrefix} writes there. */
    static final int PATH_AT = 0;
    static final int IOV_AT = 64;
    static final int POLLFD_AT = 128;

    private SubmitFuzzInput()
    {
    }

    /** Reads the input front to back; past its end every value is 0 and every byte array empty. */
    static final class Reader
    {
        private final byte[] input;
        private int position;

        Reader(final byte[] input)
        {
            this.input = input;
        }

        int remaining()
        {
            return input.length - position;
        }

        int u8()
        {
            return position < input.length ? input[position++] & 0xFF : 0;
        }

        int u16()
        {
            return u8() | (u8() << 8);
        }

        int i32()
        {
            return u16() | (u16() << 16);
        }

        byte[] bytes(final int count)
        {
            final int n = Math.min(count, remaining());
            final byte[] out = new byte[n];
            System.arraycopy(input, position, out, 0, n);
            position += n;
            return out;
        }
    }

    /** Writes inputs in the format {@link Reader} reads. */
    static final class Writer
    {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer u8(final int value)
        {
            out.write(value);
            return this;
        }

        Writer u16(final int value)
        {
            return u8(value).u8(value >>> 8);
        }

        Writer i32(final int value)
        {
            return u16(value).u16(value >>> 16);
        }

        Writer bytes(final byte[] bytes)
        {
            out.write(bytes, 0, bytes.length);
            return this;
        }

        byte[] toByteArray()
        {
            return out.toByteArray();
        }
    }

    /**
     * A pseudo-random input: a registered-buffer prefix holding a path, iov arrays and pollfds, then a few
     * submissions of iocbs of every opcode with plausible or wild arguments, some damaged.
     */
    static byte[] random(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final Writer input = new Writer();
        input.u8(random.nextInt(MAX_IN_FLIGHT));
        final byte[] prefix = registeredPrefix(random);
        input.u16(prefix.length).bytes(prefix);
        final int submissions = 1 + random.nextInt(4);
        for (int s = 0; s < submissions; s++)
        {
            final byte[] iocbs = random.nextInt(16) == 0 ? new byte[0] : randomIocbs(random);
            final boolean wild = random.nextInt(8) == 0;
            final int control = (wild ? 1 : 0) | (random.nextInt(3) == 0 ? 2 : 0) | (random.nextInt(3) == 0 ? 4 : 0) |
                (random.nextInt(8) == 0 ? 8 : 0);
            input.u8(control);
            if (wild)
            {
                input.i32(random.nextInt(3) == 0 ? random.nextInt() : random.nextInt(-8, 24));
                input.i32(random.nextInt(3) == 0 ? random.nextInt() : iocbs.length + random.nextInt(-80, 16));
            }
            else
            {
                // Mostly the whole submission; now and then a misaligned start or a cut-off end.
                input.u8(random.nextInt(6) == 0 ? random.nextInt(17) : 0);
                input.u8(random.nextInt(6) == 0 ? random.nextInt(9) : 0);
            }
            input.u16(iocbs.length).bytes(iocbs);
            if ((control & 2) != 0)
            {
                input.u16(random.nextInt(1 << 16));
            }
        }
        return input.toByteArray();
    }

    private static byte[] registeredPrefix(final SplittableRandom random)
    {
        final ByteBuffer prefix = ByteBuffer.allocate(POLLFD_AT + 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < prefix.capacity(); i++)
        {
            prefix.put(i, (byte)random.nextInt());
        }
        prefix.put(PATH_AT, (FILE_NAME + "\0").getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 3; i++)
        {
            // Two iovs inside the buffer, the third either inside or past its end.
            final int at = IOV_AT + i * IovDescriptor.LENGTH;
            prefix.putLong(at + IovDescriptor.BUFFER_OFFSET, BufferRef.of(0, 1024 + i * 2048));
            prefix.putLong(at + IovDescriptor.LENGTH_OFFSET, i < 2 ? 100 + i : (random.nextBoolean() ? 64 : 1 << 20));
        }
        for (int i = 0; i < 2; i++)
        {
            // struct pollfd {int fd; short events; short revents}: stdin and an fd that cannot be open.
            prefix.putInt(POLLFD_AT + i * 8, i == 0 ? 0 : Integer.MAX_VALUE);
            prefix.putShort(POLLFD_AT + i * 8 + 4, (short)1);
            prefix.putShort(POLLFD_AT + i * 8 + 6, (short)0);
        }
        return prefix.array();
    }

    private static byte[] randomIocbs(final SplittableRandom random)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[MAX_SUBMISSION_BYTES]);
        final IocbWriter writer = new IocbWriter(buffer);
        final int count = 1 + random.nextInt(12);
        for (int i = 0; i < count; i++)
        {
            if (writer.length() + IocbDescriptor.length(4) > buffer.capacity())
            {
                break;
            }
            final int opcode = random.nextInt(Opcode.COUNT + 2);
            final long[] args = new long[ARG_COUNT];
            for (int a = 0; a < ARG_COUNT; a++)
            {
                args[a] = randomArg(random, opcode, a);
            }
            final int countArg = countArg(opcode);
            if (countArg >= 0 && random.nextInt(3) == 0)
            {
                // A range that ends within a few bytes (or elements) of the buffer's end, on either side.
                final int refArg = opcode == Opcode.POLL ? 0 : 1;
                final int unit = opcode == Opcode.POLL ? 8 : opcode == Opcode.PREADV || opcode == Opcode.PWRITEV ?
                    IovDescriptor.LENGTH : 1;
                final int offset = random.nextInt(REGISTERED_BYTES + 1);
                args[refArg] = BufferRef.of(0, offset);
                args[countArg] = (REGISTERED_BYTES - offset) / unit + random.nextInt(-2, 3);
            }
            writer.append(opcode, random.nextLong(), opcode == Opcode.RAW ? random.nextInt(512) : 0,
                args[0], args[1], args[2], args[3], args[4], args[5]);
            if (random.nextInt(8) == 0)
            {
                writer.attributes(random.nextInt(1 << 16), random.nextInt(1 << 16));
            }
            if (random.nextInt(16) == 0)
            {
                writer.flags(IocbDescriptor.FLAG_NO_IMMEDIATE);
            }
        }
        final byte[] bytes = new byte[writer.length()];
        buffer.getBytes(0, bytes);
        if (random.nextInt(4) == 0)
        {
            // Damage one byte: a length, flag, reserved field, opcode or argument goes wrong.
            final int at = random.nextInt(bytes.length);
            bytes[at] = (byte)random.nextInt();
        }
        return bytes;
    }

    /** An argument that is mostly meaningful for its op (an fd index, a reference, a count), sometimes wild. */
    private static long randomArg(final SplittableRandom random, final int opcode, final int i)
    {
        if (random.nextInt(10) == 0)
        {
            return random.nextLong();
        }
        final boolean isRef = isBufferArg(opcode, i);
        if (isRef)
        {
            switch (random.nextInt(8))
            {
                case 0:
                    return BufferRef.NO_BUFFER;
                case 1:
                    return BufferRef.of(1, 0); // not registered
                case 2:
                    return BufferRef.of(0, REGISTERED_BYTES - random.nextInt(1, 64)); // near the end
                default:
                    return BufferRef.of(0, fixedRef(opcode, random));
            }
        }
        if (i == 0)
        {
            // The rewriter maps it to an fd of the run (3: the directory, for a path relative to it).
            return (opcode == Opcode.OPENAT || opcode == Opcode.STATX) && random.nextBoolean() ? 3 :
                random.nextInt(-2, 8);
        }
        switch (random.nextInt(4))
        {
            case 0:
                return 0;
            case 1:
                return random.nextInt(1, 4);
            case 2:
                return random.nextInt(4096);
            default:
                return random.nextInt(REGISTERED_BYTES + 64);
        }
    }

    private static long fixedRef(final int opcode, final SplittableRandom random)
    {
        switch (opcode)
        {
            case Opcode.OPENAT:
            case Opcode.STATX:
                return random.nextBoolean() ? PATH_AT : random.nextInt(REGISTERED_BYTES);
            case Opcode.PREADV:
            case Opcode.PWRITEV:
                return IOV_AT;
            case Opcode.POLL:
                return POLLFD_AT;
            default:
                return random.nextInt(4096, REGISTERED_BYTES);
        }
    }

    /** The argument that counts what the op's first buffer argument holds, or -1. */
    private static int countArg(final int opcode)
    {
        switch (opcode)
        {
            case Opcode.PREAD:
            case Opcode.PWRITE:
            case Opcode.PREADV:
            case Opcode.PWRITEV:
            case Opcode.READ:
            case Opcode.WRITE:
            case Opcode.CONNECT:
            case Opcode.RECV:
            case Opcode.SEND:
                return 2;
            case Opcode.POLL:
                return 1;
            default:
                return -1;
        }
    }

    private static boolean isBufferArg(final int opcode, final int i)
    {
        switch (opcode)
        {
            case Opcode.PREAD:
            case Opcode.PWRITE:
            case Opcode.PREADV:
            case Opcode.PWRITEV:
            case Opcode.READ:
            case Opcode.WRITE:
            case Opcode.OPENAT:
            case Opcode.ACCEPT:
            case Opcode.CONNECT:
            case Opcode.RECV:
            case Opcode.SEND:
                return i == 1;
            case Opcode.STATX:
                return i == 1 || i == 4;
            case Opcode.POLL:
                return i == 0;
            case Opcode.WAITID:
                return i == 2;
            case Opcode.GETADDRINFO:
                return i <= 2;
            default:
                return false;
        }
    }
}
