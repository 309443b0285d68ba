package io.syslet.abi;

import io.syslet.attributes.AttributeId;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;

import static io.syslet.abi.IocbDescriptor.*;

/**
 * Flyweight over one iocb (see {@link IocbDescriptor}): wrap it at an offset, then read or write its
 * fields in place. Allocates nothing.
 */
public final class Iocb
{
    private DirectBuffer buffer;
    private int offset;

    /**
     * Points this flyweight at an iocb.
     *
     * @param buffer buffer holding the iocb.
     * @param offset where it starts.
     * @return this.
     */
    public Iocb wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * Checks the iocb at {@code offset} without trusting any of its fields.
     *
     * @param buffer submission buffer.
     * @param offset where the iocb starts.
     * @param limit  end of the submission bytes.
     * @return null if it is well formed, else what is wrong with it.
     * @throws IndexOutOfBoundsException if {@code offset .. limit} does not lie within {@code buffer}.
     */
    public static String malformation(final DirectBuffer buffer, final int offset, final int limit)
    {
        if (offset < 0 || limit < offset || limit > buffer.capacity())
        {
            throw new IndexOutOfBoundsException("iocb at byte " + offset + " with submission end " + limit +
                " is not within a buffer of " + buffer.capacity() + " bytes");
        }
        final int available = limit - offset;
        if ((offset & (ALIGNMENT - 1)) != 0)
        {
            return "iocb at byte " + offset + " is not 8-byte aligned";
        }
        if (available < MIN_LENGTH)
        {
            return "iocb at byte " + offset + " has " + available + " bytes, fewer than the " + MIN_LENGTH +
                " of an iocb header";
        }
        // The header lies within the buffer (checked above): read it without a bounds check per field.
        final byte[] array = buffer.byteArray();
        final long at = buffer.addressOffset() + offset;
        final int length = UnsafeApi.getInt(array, at + LENGTH_OFFSET);
        final int attributeCount = UnsafeApi.getShort(array, at + ATTRIBUTE_COUNT_OFFSET) & 0xFFFF;
        if (length < MIN_LENGTH || (length & (ALIGNMENT - 1)) != 0)
        {
            return "iocb at byte " + offset + " has length " + Integer.toUnsignedString(length) +
                ", not a multiple of 8 that is >= " + MIN_LENGTH;
        }
        if (length > available)
        {
            return "iocb at byte " + offset + " has length " + Integer.toUnsignedString(length) + " but only " +
                available + " bytes remain in the submission";
        }
        if (attributeCount > MAX_ATTRIBUTES)
        {
            return "iocb at byte " + offset + " lists " + attributeCount + " attributes, more than the " +
                MAX_ATTRIBUTES + " allowed";
        }
        if (length < IocbDescriptor.length(attributeCount))
        {
            return "iocb at byte " + offset + " has length " + length + ", too short for its " + attributeCount +
                " attribute ids (needs " + IocbDescriptor.length(attributeCount) + ")";
        }
        final int flags = UnsafeApi.getShort(array, at + FLAGS_OFFSET) & 0xFFFF;
        if ((flags & ~KNOWN_FLAGS) != 0)
        {
            return "iocb at byte " + offset + " sets undefined flag bits 0x" + Integer.toHexString(flags & ~KNOWN_FLAGS);
        }
        if (UnsafeApi.getShort(array, at + RESERVED_OFFSET) != 0)
        {
            return "iocb at byte " + offset + " has a non-zero reserved field at +" + RESERVED_OFFSET;
        }
        final int opcode = UnsafeApi.getShort(array, at + OPCODE_OFFSET) & 0xFFFF;
        final int aux = UnsafeApi.getInt(array, at + AUX_OFFSET);
        if (opcode != Opcode.RAW && aux != 0)
        {
            return "iocb at byte " + offset + " sets aux, which only RAW uses, for " + Opcode.name(opcode);
        }
        if (opcode == Opcode.RAW && rawMaxArgs(aux) > ARG_COUNT)
        {
            return "iocb at byte " + offset + " declares " + rawMaxArgs(aux) + " arguments for RAW syscall " +
                rawNumber(aux) + " (aux bits 24..31); a syscall reads at most " + ARG_COUNT;
        }
        return null;
    }

    /**
     * @param buffer a buffer holding a well-formed iocb ({@link #malformation} found nothing wrong with it).
     * @param offset where it starts.
     * @return bytes of the largest event its op can publish: the fixed part plus, for each attribute
     * it lists, that attribute's largest TLV (docs/ABI.md section 20).
     * @throws IndexOutOfBoundsException if no iocb header fits at {@code offset}.
     * @throws IllegalStateException if its attribute ids would run past the buffer.
     */
    public static int eventLength(final DirectBuffer buffer, final int offset)
    {
        if (offset < 0 || offset > buffer.capacity() - MIN_LENGTH)
        {
            throw new IndexOutOfBoundsException("iocb at byte " + offset + " does not fit in a buffer of " +
                buffer.capacity() + " bytes");
        }
        final byte[] array = buffer.byteArray();
        final long at = buffer.addressOffset() + offset;
        final int count = UnsafeApi.getShort(array, at + ATTRIBUTE_COUNT_OFFSET) & 0xFFFF;
        if (count > MAX_ATTRIBUTES || IocbDescriptor.length(count) > buffer.capacity() - offset)
        {
            // Checked once by malformation, but the caller may have rewritten it since: never read past the buffer.
            throw new IllegalStateException("iocb at byte " + offset + " lists " + count +
                " attributes, more than its buffer holds");
        }
        int length = EventDescriptor.MIN_LENGTH;
        for (int i = 0; i < count; i++)
        {
            length += AttributeId.maxTlvLength(UnsafeApi.getShort(array, at + ATTRIBUTES_OFFSET + i * 2) & 0xFFFF);
        }
        return length;
    }

    /**
     * @return where the wrapped iocb starts.
     */
    public int offset()
    {
        return offset;
    }

    /**
     * @return bytes of the iocb.
     */
    public int length()
    {
        return buffer.getInt(offset + LENGTH_OFFSET);
    }

    /**
     * @return the opcode.
     */
    public int opcode()
    {
        return buffer.getShort(offset + OPCODE_OFFSET) & 0xFFFF;
    }

    /**
     * @return the flags.
     */
    public int flags()
    {
        return buffer.getShort(offset + FLAGS_OFFSET) & 0xFFFF;
    }

    /**
     * @return the user cookie.
     */
    public long cookie()
    {
        return buffer.getLong(offset + COOKIE_OFFSET);
    }

    /**
     * @return attributes listed.
     */
    public int attributeCount()
    {
        return buffer.getShort(offset + ATTRIBUTE_COUNT_OFFSET) & 0xFFFF;
    }

    /**
     * @param i 0 .. attributeCount - 1.
     * @return the i-th attribute id.
     */
    public int attributeId(final int i)
    {
        return buffer.getShort(offset + ATTRIBUTES_OFFSET + i * 2) & 0xFFFF;
    }

    /**
     * @return aux: for RAW, the syscall number and the most arguments it reads
     * ({@link IocbDescriptor#rawNumber}, {@link IocbDescriptor#rawMaxArgs}).
     */
    public int aux()
    {
        return buffer.getInt(offset + AUX_OFFSET);
    }

    /**
     * @param i 0..5.
     * @return the i-th argument.
     */
    public long arg(final int i)
    {
        return buffer.getLong(offset + argOffset(i));
    }

    /**
     * Writes a whole iocb with no attributes at the wrapped offset.
     *
     * @return its length.
     * @throws IllegalArgumentException if the opcode or flags do not fit their u16 fields; nothing is written then.
     * @throws IndexOutOfBoundsException if it would pass the end of the buffer; nothing is written then.
     */
    public int write(final int opcode, final int flags, final long cookie, final int aux,
        final long a0, final long a1, final long a2, final long a3, final long a4, final long a5)
    {
        checkU16(opcode, "opcode");
        checkU16(flags, "flags");
        final long at = checkedAddress(MIN_LENGTH);
        final byte[] array = buffer.byteArray();
        UnsafeApi.putInt(array, at + LENGTH_OFFSET, MIN_LENGTH);
        UnsafeApi.putShort(array, at + OPCODE_OFFSET, (short)opcode);
        UnsafeApi.putShort(array, at + FLAGS_OFFSET, (short)flags);
        UnsafeApi.putLong(array, at + COOKIE_OFFSET, cookie);
        UnsafeApi.putShort(array, at + ATTRIBUTE_COUNT_OFFSET, (short)0);
        UnsafeApi.putShort(array, at + RESERVED_OFFSET, (short)0);
        UnsafeApi.putInt(array, at + AUX_OFFSET, aux);
        UnsafeApi.putLong(array, at + argOffset(0), a0);
        UnsafeApi.putLong(array, at + argOffset(1), a1);
        UnsafeApi.putLong(array, at + argOffset(2), a2);
        UnsafeApi.putLong(array, at + argOffset(3), a3);
        UnsafeApi.putLong(array, at + argOffset(4), a4);
        UnsafeApi.putLong(array, at + argOffset(5), a5);
        return MIN_LENGTH;
    }

    /**
     * Appends attribute ids to the wrapped iocb and grows its length to fit.
     *
     * @param ids attribute ids.
     * @return the iocb's new length.
     * @throws IllegalArgumentException past {@link IocbDescriptor#MAX_ATTRIBUTES}, or for an id that does not fit
     * the u16 id field; nothing is written then.
     * @throws IllegalStateException if the wrapped iocb's length cannot hold the ids it already lists.
     * @throws IndexOutOfBoundsException if the grown iocb would pass the end of its buffer.
     */
    public int addAttributes(final int... ids)
    {
        final int count = attributeCount();
        if (count + ids.length > MAX_ATTRIBUTES)
        {
            throw new IllegalArgumentException((count + ids.length) + " attributes exceed the maximum of " + MAX_ATTRIBUTES);
        }
        for (final int id : ids)
        {
            checkU16(id, "attribute id");
        }
        final int oldLength = length();
        if (oldLength < IocbDescriptor.length(count) || (oldLength & (ALIGNMENT - 1)) != 0)
        {
            throw new IllegalStateException("iocb at byte " + offset + " has length " +
                Integer.toUnsignedString(oldLength) + ", not a multiple of 8 that holds its " + count +
                " attribute ids");
        }
        final int newLength = Math.max(oldLength, IocbDescriptor.length(count + ids.length));
        final long at = checkedAddress(newLength);
        final byte[] array = buffer.byteArray();
        // Lengths are multiples of 8: zero the new words a long at a time (setMemory is a native call).
        for (int word = oldLength; word < newLength; word += ALIGNMENT)
        {
            UnsafeApi.putLong(array, at + word, 0L);
        }
        for (int i = 0; i < ids.length; i++)
        {
            UnsafeApi.putShort(array, at + ATTRIBUTES_OFFSET + (count + i) * 2L, (short)ids[i]);
        }
        UnsafeApi.putShort(array, at + ATTRIBUTE_COUNT_OFFSET, (short)(count + ids.length));
        UnsafeApi.putInt(array, at + LENGTH_OFFSET, newLength);
        return newLength;
    }

    /**
     * @return {@code value}, if it fits the u16 field it is for.
     * @throws IllegalArgumentException otherwise: a cast would write another value (id 65537 would ask for
     * LATENCY), which the decoder cannot tell from a real one.
     */
    static int checkU16(final int value, final String field)
    {
        if ((value & ~0xFFFF) != 0)
        {
            throw new IllegalArgumentException(field + " " + value + " does not fit its 16-bit field (0 .. 65535)");
        }
        return value;
    }

    /**
     * One bounds check for a whole write: the wrapped iocb's first {@code length} bytes lie within its buffer.
     *
     * @return the address of the iocb, for {@link UnsafeApi} with the buffer's {@code byteArray()}.
     */
    private long checkedAddress(final int length)
    {
        final MutableDirectBuffer buffer = (MutableDirectBuffer)this.buffer; // writes need a writable buffer
        if (offset < 0 || offset > buffer.capacity() - length)
        {
            throw new IndexOutOfBoundsException("iocb of " + length + " bytes at offset " + offset +
                " does not fit in a buffer of " + buffer.capacity() + " bytes");
        }
        return buffer.addressOffset() + offset;
    }
}
