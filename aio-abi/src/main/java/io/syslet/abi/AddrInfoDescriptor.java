package io.syslet.abi;

/**
 * Layout of one result record that GETADDRINFO writes into its out buffer, back to back.
 *
 * <pre>
 *  +-------------------------------+-------------------------------+
 *  |   family (i32)                |   socktype (i32)              |   0
 *  +-------------------------------+-------------------------------+
 *  |   protocol (i32)              |   address length (i32)        |   8
 *  +-------------------------------+-------------------------------+
 *  |   address: a sockaddr_in or sockaddr_in6, zero-padded         |  16
 *  |   (32 bytes)                                                  |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * On failure res is -ENOENT (no such name), -EAGAIN (try again), -EINVAL (bad flags, family, socktype or
 * service), -ENOMEM, -errno (EAI_SYSTEM) or -EIO, and res2 is glibc's raw EAI_* code (docs/ABI.md section 14).
 */
public final class AddrInfoDescriptor
{
    public static final int FAMILY_OFFSET = 0;
    public static final int SOCKTYPE_OFFSET = 4;
    public static final int PROTOCOL_OFFSET = 8;
    public static final int ADDRESS_LENGTH_OFFSET = 12;
    public static final int ADDRESS_OFFSET = 16;
    public static final int ADDRESS_CAPACITY = 32;
    public static final int LENGTH = ADDRESS_OFFSET + ADDRESS_CAPACITY;

    private AddrInfoDescriptor()
    {
    }
}
