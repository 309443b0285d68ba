package io.syslet.abi;

import io.syslet.attributes.AttributeId;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

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
     */
    public static String malformation(final DirectBuffer buffer, final int offset, final int limit)
    {
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
        final int length = buffer.getInt(offset + LENGTH_OFFSET);
        final int attributeCount = buffer.getShort(offset + ATTRIBUTE_COUNT_OFFSET) & 0xFFFF;
        if (length < MIN_LENGTH || (length & (ALIGNMENT - 1)) != 0)
        {
            return "iocb at byte " + offset + " has length " + length + ", not a multiple of 8 that is >= " +
                MIN_LENGTH;
        }
        if (length > available)
        {
            return "iocb at byte " + offset + " has length " + length + " but only " + available +
                " bytes remain in the submission";
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
        final int flags = buffer.getShort(offset + FLAGS_OFFSET) & 0xFFFF;
        if ((flags & ~KNOWN_FLAGS) != 0)
        {
            return "iocb at byte " + offset + " sets undefined flag bits 0x" + Integer.toHexString(flags & ~KNOWN_FLAGS);
        }
        if (buffer.getShort(offset + RESERVED_OFFSET) != 0)
        {
            return "iocb at byte " + offset + " has a non-zero reserved field at +" + RESERVED_OFFSET;
        }
        final int opcode = buffer.getShort(offset + OPCODE_OFFSET) & 0xFFFF;
        final int aux = buffer.getInt(offset + AUX_OFFSET);
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
     * @param buffer a buffer holding a well-formed iocb.
     * @param offset where it starts.
     * @return bytes of the largest event its op can publish: the fixed part plus, for each attribute
     * it lists, that attribute's largest TLV (docs/ABI.md section 20).
     */
    public static int eventLength(final DirectBuffer buffer, final int offset)
    {
        final int count = buffer.getShort(offset + ATTRIBUTE_COUNT_OFFSET) & 0xFFFF;
        int length = EventDescriptor.MIN_LENGTH;
        for (int i = 0; i < count; i++)
        {
            length += AttributeId.maxTlvLength(buffer.getShort(offset + ATTRIBUTES_OFFSET + i * 2) & 0xFFFF);
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
     */
    public int write(final int opcode, final int flags, final long cookie, final int aux,
        final long a0, final long a1, final long a2, final long a3, final long a4, final long a5)
    {
        final MutableDirectBuffer buffer = (MutableDirectBuffer)this.buffer;
        final int offset = this.offset;
        buffer.putInt(offset + LENGTH_OFFSET, MIN_LENGTH);
        buffer.putShort(offset + OPCODE_OFFSET, (short)opcode);
        buffer.putShort(offset + FLAGS_OFFSET, (short)flags);
        buffer.putLong(offset + COOKIE_OFFSET, cookie);
        buffer.putShort(offset + ATTRIBUTE_COUNT_OFFSET, (short)0);
        buffer.putShort(offset + RESERVED_OFFSET, (short)0);
        buffer.putInt(offset + AUX_OFFSET, aux);
        buffer.putLong(offset + argOffset(0), a0);
        buffer.putLong(offset + argOffset(1), a1);
        buffer.putLong(offset + argOffset(2), a2);
        buffer.putLong(offset + argOffset(3), a3);
        buffer.putLong(offset + argOffset(4), a4);
        buffer.putLong(offset + argOffset(5), a5);
        return MIN_LENGTH;
    }

    /**
     * Appends attribute ids to the wrapped iocb and grows its length to fit.
     *
     * @param ids attribute ids.
     * @return the iocb's new length.
     * @throws IllegalArgumentException past {@link IocbDescriptor#MAX_ATTRIBUTES}.
     */
    public int addAttributes(final int... ids)
    {
        final MutableDirectBuffer buffer = (MutableDirectBuffer)this.buffer;
        final int count = attributeCount();
        if (count + ids.length > MAX_ATTRIBUTES)
        {
            throw new IllegalArgumentException((count + ids.length) + " attributes exceed the maximum of " + MAX_ATTRIBUTES);
        }
        final int newLength = IocbDescriptor.length(count + ids.length);
        final int oldLength = length();
        buffer.setMemory(offset + oldLength, newLength - oldLength, (byte)0);
        for (int i = 0; i < ids.length; i++)
        {
            buffer.putShort(offset + ATTRIBUTES_OFFSET + (count + i) * 2, (short)ids[i]);
        }
        buffer.putShort(offset + ATTRIBUTE_COUNT_OFFSET, (short)(count + ids.length));
        buffer.putInt(offset + LENGTH_OFFSET, newLength);
        return newLength;
    }
}
