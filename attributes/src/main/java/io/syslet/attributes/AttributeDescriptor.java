package io.syslet.attributes;

/**
 * Layout of one attribute in an event: a TLV, 8-byte aligned, little-endian. An event's attributes
 * follow its fixed part back to back, one per id the iocb listed, in the iocb's order.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------------------------------+---------------+---------------+
 *  |   attribute id (u16)          |  status (u8)  | reserved, 0   |   0
 *  +-------------------------------+---------------+---------------+
 *  |   value length in bytes (u32): 0 unless status is OK          |   4
 *  +---------------------------------------------------------------+
 *  |   value, zero-padded to a multiple of 8                       |   8
 *  |   ...                                                         |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * A reader skips an attribute it does not know by its length: {@code 8 + align8(value length)}.
 */
public final class AttributeDescriptor
{
    public static final int ID_OFFSET = 0;
    public static final int STATUS_OFFSET = 2;
    public static final int RESERVED_OFFSET = 3;
    public static final int VALUE_LENGTH_OFFSET = 4;
    public static final int VALUE_OFFSET = 8;
    public static final int HEADER_LENGTH = VALUE_OFFSET;
    public static final int ALIGNMENT = 8;

    private AttributeDescriptor()
    {
    }

    /**
     * @param valueLength bytes of a value.
     * @return bytes of its whole TLV.
     */
    public static int tlvLength(final int valueLength)
    {
        return HEADER_LENGTH + ((valueLength + ALIGNMENT - 1) & -ALIGNMENT);
    }
}
