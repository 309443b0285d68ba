package io.syslet.abi;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Names of errnos, as events print them: a value is named only if it is that errno, whatever its sign.
 */
class ErrnoTest
{
    @Test
    void namesAnErrnoEitherSignAndNothingThatOnlyEndsInItsBits()
    {
        assertEquals("EINVAL", Errno.name(-Errno.EINVAL));
        assertEquals("EINVAL", Errno.name(Errno.EINVAL));
        assertEquals("errno 999", Errno.name(-999));
        // A callable's result can be any long: its low 32 bits being 22 does not make it EINVAL.
        assertEquals("errno 4294967318", Errno.name(-((1L << 32) + Errno.EINVAL)));
        assertEquals("errno 9223372036854775808", Errno.name(Long.MIN_VALUE));

        final UnsafeBuffer bytes = new UnsafeBuffer(new byte[EventDescriptor.MIN_LENGTH]);
        bytes.putLong(EventDescriptor.RES_OFFSET, -((1L << 32) + Errno.EINVAL));
        bytes.putShort(EventDescriptor.OPCODE_OFFSET, (short)Opcode.CALLABLE);
        assertEquals("Event{cookie=0, op=callable, res=-4294967318 (errno 4294967318), res2=0, flags=0}",
            new Event().wrap(bytes, 0).toString());
    }

    @Test
    void errnoNamesMatchLinux()
    {
        assertEquals("ERFKILL", Errno.name(-132));
        assertEquals("EHWPOISON", Errno.name(-133));
        assertEquals("errno 134", Errno.name(-134));
        assertEquals("errno 9223372036854775808", Errno.name(Long.MIN_VALUE), "a crafted res, not a negative errno");
        assertEquals("ECANCELED", Errno.name(125));
        assertEquals("ENOENT", Errno.name(-2));
    }
}
