package io.syslet.pool;

import io.syslet.abi.AddrInfoDescriptor;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.SetupParams;
import io.syslet.pool.NetTestSupport.Memory;
import io.syslet.pool.NetTestSupport.Reaper;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static io.syslet.pool.NetTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * GETADDRINFO through glibc's resolver. Only names that need no network: {@code localhost} (from
 * /etc/hosts, or glibc's built-in loopback answer) and a name under {@code .invalid} (RFC 6761: never
 * exists). With a resolver configured, .invalid gets NXDOMAIN (ENOENT); with none reachable, glibc answers
 * EAI_AGAIN (EAGAIN); both are the documented failures, never a hang or a crash.
 */
class GetAddrInfoTest
{
    private static final int NODE_AT = 0;
    private static final int SERVICE_AT = 256;
    private static final int OUT_AT = 512;
    private static final int MAX_RECORDS = 32;
    private static final int ANY_FAMILY = 0;
    private static final int ANY_SOCKTYPE = 0;
    private static final int EAI_NONAME = -2;
    private static final int EAI_AGAIN = -3;
    private static final int EAI_NODATA = -5;

    private SysletContext ctx;
    private Memory mem;
    private Reaper reaper;
    private IocbWriter writer;

    @BeforeEach
    void setUp()
    {
        ctx = SysletContext.setup(new SetupParams());
        mem = new Memory(ctx, OUT_AT + MAX_RECORDS * AddrInfoDescriptor.LENGTH);
        reaper = new Reaper(ctx);
        writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
    }

    @AfterEach
    void tearDown()
    {
        assertTrue(ctx.destroy(PATIENCE_NANOS), "destroy left an op running");
    }

    @Test
    void localhostResolvesToLoopbackOnly()
    {
        final Event event = lookup(1, "localhost", BufferRef.NO_BUFFER, MAX_RECORDS, SOCK_STREAM);
        assertTrue(event.res() >= 1, "localhost must resolve: " + event);
        assertEquals(event.res2(), event.res(), "everything found fits in " + MAX_RECORDS + " records");
        for (int i = 0; i < event.res(); i++)
        {
            final int at = OUT_AT + i * AddrInfoDescriptor.LENGTH;
            assertEquals(SOCK_STREAM, mem.buffer.getInt(at + AddrInfoDescriptor.SOCKTYPE_OFFSET), "record " + i);
            assertEquals(IPPROTO_TCP, mem.buffer.getInt(at + AddrInfoDescriptor.PROTOCOL_OFFSET), "record " + i);
            assertTrue(isLoopback(at), "record " + i + " is not a loopback address");
            assertEquals(0, port(mem.buffer, at + AddrInfoDescriptor.ADDRESS_OFFSET), "no service, no port");
        }
    }

    @Test
    void serviceSetsThePort()
    {
        final long service = mem.cString(SERVICE_AT, "80");
        final Event event = lookup(1, "localhost", service, MAX_RECORDS, SOCK_STREAM);
        assertTrue(event.res() >= 1, event.toString());
        for (int i = 0; i < event.res(); i++)
        {
            final int at = OUT_AT + i * AddrInfoDescriptor.LENGTH;
            assertTrue(isLoopback(at), "record " + i);
            assertEquals(80, port(mem.buffer, at + AddrInfoDescriptor.ADDRESS_OFFSET), "record " + i);
        }
    }

    @Test
    void reservedInvalidNameIsNotFound()
    {
        final Event event = lookup(1, "no-such-host.syslet-test.invalid", BufferRef.NO_BUFFER, MAX_RECORDS, 0);
        final long res = event.res();
        assertTrue(res == -Errno.ENOENT || res == -Errno.EAGAIN, "no such name, or no resolver at all: " + event);
        final Set<Long> eaiCodes = res == -Errno.ENOENT ? Set.of((long)EAI_NONAME, (long)EAI_NODATA) :
            Set.of((long)EAI_AGAIN);
        assertTrue(eaiCodes.contains(event.res2()), "res2 is glibc's EAI code: " + event);
    }

    @Test
    void outBufferTooSmallWritesWhatFitsAndCountsWhatWasFound()
    {
        // Any socktype: glibc gives one record per socktype (stream, datagram, raw) for each address.
        final Event all = lookup(1, "localhost", BufferRef.NO_BUFFER, MAX_RECORDS, ANY_SOCKTYPE);
        assertTrue(all.res() >= 2, "need at least two records to overflow one: " + all);
        assertEquals(all.res2(), all.res());
        final byte[] first = new byte[AddrInfoDescriptor.LENGTH];
        mem.buffer.getBytes(OUT_AT, first);

        mem.buffer.setMemory(OUT_AT, MAX_RECORDS * AddrInfoDescriptor.LENGTH, (byte)0x5A);
        final Event one = lookup(2, "localhost", BufferRef.NO_BUFFER, 1, ANY_SOCKTYPE);
        assertEquals(1, one.res(), "room for one record: " + one);
        assertEquals(all.res2(), one.res2(), "res2 still counts every record found");
        final byte[] written = new byte[AddrInfoDescriptor.LENGTH];
        mem.buffer.getBytes(OUT_AT, written);
        assertArrayEquals(first, written, "the record that fits is the first one");
        assertEquals((byte)0x5A, mem.buffer.getByte(OUT_AT + AddrInfoDescriptor.LENGTH), "nothing past the room");

        // A room shorter than one record holds none.
        final Event none = lookup(3, "localhost", BufferRef.NO_BUFFER, 0, ANY_SOCKTYPE);
        assertEquals(0, none.res(), none.toString());
        assertEquals(all.res2(), none.res2());
    }

    /**
     * glibc reads node and service in user space, where a read past the buffer is no EFAULT but a stray read or
     * a crash: a string with no NUL before its buffer ends is refused before the call, as is one longer than
     * PATH_MAX, and the engine hands glibc copies (so a caller that rewrites a string during the call cannot
     * take its NUL away; that race is argued in RegisteredBuffers.copyString, not reproduced).
     */
    @Test
    void aNodeOrServiceWithNoNulInItsBufferIsRefusedBeforeGlibcReadsIt()
    {
        final int outLength = MAX_RECORDS * AddrInfoDescriptor.LENGTH;
        final int tail = mem.buffer.capacity() - 8;
        mem.buffer.setMemory(tail, 8, (byte)'a'); // the buffer ends with no NUL
        writer.getaddrinfo(1, mem.ref(tail, 8), BufferRef.NO_BUFFER, mem.ref(OUT_AT, outLength), outLength,
            ANY_FAMILY, ANY_SOCKTYPE);
        writer.getaddrinfo(2, mem.cString(NODE_AT, "localhost"), mem.ref(tail, 8), mem.ref(OUT_AT, outLength),
            outLength, ANY_FAMILY, ANY_SOCKTYPE);
        assertEquals(2, writer.submitTo(ctx));
        final Map<Long, Event> refused = reaper.reap(2);
        assertEquals(-Errno.EFAULT, refused.get(1L).res(), "node runs off its buffer");
        assertEquals(-Errno.EFAULT, refused.get(2L).res(), "service runs off its buffer");

        final Memory wide = new Memory(ctx, RegisteredBuffers.PATH_MAX + 64);
        wide.buffer.setMemory(0, RegisteredBuffers.PATH_MAX + 64, (byte)'a');
        writer.getaddrinfo(3, wide.ref(0, 1), BufferRef.NO_BUFFER, mem.ref(OUT_AT, outLength), outLength,
            ANY_FAMILY, ANY_SOCKTYPE);
        assertEquals(1, writer.submitTo(ctx));
        assertEquals(-Errno.EINVAL, reaper.reapOne(3).res(), "no NUL within PATH_MAX");

        // The longest node taken, PATH_MAX - 1 bytes and its NUL, reaches glibc whole: no such name.
        final Memory longest = new Memory(ctx, RegisteredBuffers.PATH_MAX);
        longest.buffer.setMemory(0, RegisteredBuffers.PATH_MAX - 1, (byte)'a');
        longest.buffer.putByte(RegisteredBuffers.PATH_MAX - 1, (byte)0);
        writer.getaddrinfo(4, longest.ref(0, 1), BufferRef.NO_BUFFER, mem.ref(OUT_AT, outLength), outLength,
            ANY_FAMILY, ANY_SOCKTYPE);
        assertEquals(1, writer.submitTo(ctx));
        final Event event = reaper.reapOne(4);
        assertTrue(event.res() == -Errno.ENOENT || event.res() == -Errno.EAGAIN || event.res() == -Errno.EINVAL,
            "a 4095-byte name is no host: " + event);
        assertTrue(event.res2() != 0, "glibc answered it (res2 is its EAI code), not a refusal before the call: " + event);
    }

    private Event lookup(final long cookie, final String node, final long service, final int records, final int socktype)
    {
        final int outLength = records * AddrInfoDescriptor.LENGTH;
        writer.getaddrinfo(cookie, mem.cString(NODE_AT, node), service, mem.ref(OUT_AT, outLength), outLength,
            ANY_FAMILY, socktype);
        assertEquals(1, writer.submitTo(ctx));
        return reaper.reapOne(cookie);
    }

    private boolean isLoopback(final int record)
    {
        final int family = mem.buffer.getInt(record + AddrInfoDescriptor.FAMILY_OFFSET);
        final int length = mem.buffer.getInt(record + AddrInfoDescriptor.ADDRESS_LENGTH_OFFSET);
        final int address = record + AddrInfoDescriptor.ADDRESS_OFFSET;
        if (family == AF_INET)
        {
            assertEquals(SOCKADDR_IN_LENGTH, length);
            assertEquals(AF_INET, mem.buffer.getShort(address), "sockaddr family");
            return (mem.buffer.getByte(address + 4) & 0xFF) == 127; // 127.0.0.0/8
        }
        assertEquals(AF_INET6, family, "family of a localhost record");
        assertEquals(SOCKADDR_IN6_LENGTH, length);
        assertEquals(AF_INET6, mem.buffer.getShort(address), "sockaddr family");
        for (int i = 0; i < 15; i++)
        {
            if (mem.buffer.getByte(address + 8 + i) != 0)
            {
                return false;
            }
        }
        return mem.buffer.getByte(address + 8 + 15) == 1; // ::1
    }
}
