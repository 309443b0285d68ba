package io.syslet.pool;

import io.syslet.abi.AioContext;
import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.IocbWriter;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.pool.NetTestSupport.Memory;
import io.syslet.pool.NetTestSupport.Reaper;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static io.syslet.pool.NetTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Loopback TCP through the engine: accept, connect, send and recv run as ops on real sockets; the test
 * only makes the listening socket and reads back addresses.
 */
class SocketOpsTest
{
    private static final int ADDR_AT = 0;
    private static final int PEER_AT = 256;
    private static final int SCRATCH_AT = 512;
    private static final int SEND_AT = 4096;
    private static final int PAYLOAD = 64 * 1024;
    private static final int RECV_AT = SEND_AT + PAYLOAD;
    /** Recvs ask for at most this much, so the resubmit loop runs even when loopback moves everything at once. */
    private static final int RECV_CHUNK = 16 * 1024;

    private SysletContext ctx;
    private Memory mem;
    private Reaper reaper;
    private IocbWriter writer;
    private int listenFd = -1;
    private int port;

    @BeforeEach
    void setUp()
    {
        ctx = SysletContext.setup(new SetupParams());
        mem = new Memory(ctx, RECV_AT + PAYLOAD);
        reaper = new Reaper(ctx);
        writer = new IocbWriter(new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64)));
        final int[] listener = listenOnLoopback(mem, SCRATCH_AT);
        listenFd = listener[0];
        port = listener[1];
        assertTrue(port > 0);
        putLoopback(mem.buffer, ADDR_AT, port);
    }

    @AfterEach
    void tearDown()
    {
        close(listenFd);
        assertTrue(ctx.destroy(PATIENCE_NANOS), "destroy left an op running");
    }

    @Test
    void acceptConnectSendRecvRoundTripRandomBytes()
    {
        final int clientFd = tcpSocket();
        mem.buffer.setMemory(PEER_AT, 128, (byte)0xEE);
        writer.accept(1, listenFd, mem.ref(PEER_AT, 128), SOCK_CLOEXEC)
            .connect(2, clientFd, mem.ref(ADDR_AT, SOCKADDR_IN_LENGTH), SOCKADDR_IN_LENGTH);
        assertEquals(2, writer.submitTo(ctx));
        final Map<Long, Event> events = reaper.reap(2);
        assertEquals(0, events.get(2L).res(), "connect: " + events.get(2L));
        final Event accepted = events.get(1L);
        final int serverFd = (int)accepted.res();
        try
        {
            assertTrue(serverFd >= 0, "accept: " + accepted);
            assertEquals(SOCKADDR_IN_LENGTH, accepted.res2(), "res2 is the peer's address length");
            assertEquals(AF_INET, mem.buffer.getShort(PEER_AT), "peer address family");
            assertEquals(0x7F000001, Integer.reverseBytes(mem.buffer.getInt(PEER_AT + 4)), "peer is 127.0.0.1");
            assertEquals(localPort(clientFd, mem, SCRATCH_AT), port(mem.buffer, PEER_AT),
                "the accepted peer is our client");
            assertEquals((byte)0xEE, mem.buffer.getByte(PEER_AT + SOCKADDR_IN_LENGTH),
                "nothing written past the address length");

            final byte[] payload = new byte[PAYLOAD];
            new Random(42).nextBytes(payload);
            mem.buffer.putBytes(SEND_AT, payload);
            mem.buffer.setMemory(RECV_AT, PAYLOAD, (byte)0);
            streamThrough(clientFd, serverFd);
            final byte[] received = new byte[PAYLOAD];
            mem.buffer.getBytes(RECV_AT, received);
            assertArrayEquals(payload, received, "bytes came through the sockets changed");
        }
        finally
        {
            close(serverFd, clientFd);
        }
    }

    /**
     * Keeps one send and one recv in flight until every byte went through, resubmitting the rest after a
     * short send or recv: the way a real caller must, since neither is promised to move everything. Every
     * submission has its own cookie, so the reaper's exactly-once check covers the whole stream.
     */
    private void streamThrough(final int fromFd, final int toFd)
    {
        long nextCookie = 100;
        int sent = 0;
        int received = 0;
        int sends = 0;
        int recvs = 0;
        writer.send(nextCookie++, fromFd, mem.ref(SEND_AT, PAYLOAD), PAYLOAD, 0)
            .recv(nextCookie++, toFd, mem.ref(RECV_AT, RECV_CHUNK), RECV_CHUNK, 0);
        assertEquals(2, writer.submitTo(ctx));
        int pending = 2;
        while (pending > 0)
        {
            for (final Event e : reaper.reapSome().values())
            {
                pending--;
                assertTrue(e.res() > 0, "transfer ended with " + e);
                if (e.opcode() == Opcode.SEND)
                {
                    sends++;
                    sent += (int)e.res();
                    assertTrue(sent <= PAYLOAD);
                    if (sent < PAYLOAD)
                    {
                        writer.send(nextCookie++, fromFd, mem.ref(SEND_AT + sent, PAYLOAD - sent), PAYLOAD - sent, 0);
                        assertEquals(1, writer.submitTo(ctx));
                        pending++;
                    }
                }
                else
                {
                    assertEquals(Opcode.RECV, e.opcode(), "unexpected " + e);
                    recvs++;
                    received += (int)e.res();
                    assertTrue(received <= PAYLOAD);
                    if (received < PAYLOAD)
                    {
                        final int chunk = Math.min(RECV_CHUNK, PAYLOAD - received);
                        writer.recv(nextCookie++, toFd, mem.ref(RECV_AT + received, chunk), chunk, 0);
                        assertEquals(1, writer.submitTo(ctx));
                        pending++;
                    }
                }
            }
        }
        assertEquals(PAYLOAD, sent);
        assertEquals(PAYLOAD, received, "after " + sends + " sends and " + recvs + " recvs");
        assertTrue(recvs >= PAYLOAD / RECV_CHUNK, recvs + " recvs");
    }

    /**
     * An accept whose address buffer is read-only memory (an {@code asReadOnlyBuffer()} view, which the MMU does
     * not protect) fails with EFAULT before the call: left to the kernel, accept4 would take the connection and
     * write the peer's address into memory Java holds read-only. The connection stays in the backlog for the
     * next accept.
     */
    @Test
    void acceptIntoReadOnlyMemoryFailsBeforeItTakesTheConnection()
    {
        final UnsafeBuffer backing = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 4096));
        backing.setMemory(0, 4096, (byte)0x5A);
        final int ro = ctx.registerBuffer(new UnsafeBuffer(backing.byteBuffer().asReadOnlyBuffer()));
        final int clientFd = tcpSocket();
        int serverFd = -1;
        try
        {
            writer.connect(1, clientFd, mem.ref(ADDR_AT, SOCKADDR_IN_LENGTH), SOCKADDR_IN_LENGTH);
            assertEquals(1, writer.submitTo(ctx));
            assertEquals(0, reaper.reapOne(1).res(), "connect completes into the listener's backlog");

            writer.accept(2, listenFd, BufferRef.of(ro, 0), SOCK_CLOEXEC);
            assertEquals(1, writer.submitTo(ctx));
            final Event refused = reaper.reapOne(2);
            if (refused.res() >= 0)
            {
                close((int)refused.res());
            }
            assertEquals(-Errno.EFAULT, refused.res(), refused.toString());
            for (int i = 0; i < 4096; i++)
            {
                assertEquals((byte)0x5A, backing.getByte(i), "byte " + i + " of the read-only view was written");
            }

            writer.accept(3, listenFd, BufferRef.NO_BUFFER, SOCK_CLOEXEC);
            assertEquals(1, writer.submitTo(ctx));
            final Event accepted = reaper.reapOne(3);
            serverFd = (int)accepted.res();
            assertTrue(serverFd >= 0, "the connection waited for this accept: " + accepted);
        }
        finally
        {
            close(clientFd);
            if (serverFd >= 0)
            {
                close(serverFd);
            }
        }
    }

    @Test
    void acceptWithoutAddressBuffer()
    {
        final int clientFd = tcpSocket();
        writer.accept(1, listenFd, BufferRef.NO_BUFFER, SOCK_CLOEXEC)
            .connect(2, clientFd, mem.ref(ADDR_AT, SOCKADDR_IN_LENGTH), SOCKADDR_IN_LENGTH);
        assertEquals(2, writer.submitTo(ctx));
        final Map<Long, Event> events = reaper.reap(2);
        assertEquals(0, events.get(2L).res(), "connect: " + events.get(2L));
        final int serverFd = (int)events.get(1L).res();
        try
        {
            assertTrue(serverFd >= 0, "accept: " + events.get(1L));
            assertEquals(0, events.get(1L).res2(), "no address was asked for, so no length comes back");
            // The accepted fd is a real connection to our client: a byte sent one way arrives the other.
            mem.buffer.putByte(SEND_AT, (byte)'z');
            writer.send(3, clientFd, mem.ref(SEND_AT, 1), 1, 0).recv(4, serverFd, mem.ref(RECV_AT, 1), 1, 0);
            assertEquals(2, writer.submitTo(ctx));
            final Map<Long, Event> io = reaper.reap(2);
            assertEquals(1, io.get(3L).res(), io.toString());
            assertEquals(1, io.get(4L).res(), io.toString());
            assertEquals('z', mem.buffer.getByte(RECV_AT));
        }
        finally
        {
            close(serverFd, clientFd);
        }
    }

    @Test
    void cancelBlockedAcceptThenAcceptAgain()
    {
        writer.accept(1, listenFd, mem.ref(PEER_AT, 128), SOCK_CLOEXEC);
        assertEquals(1, writer.submitTo(ctx));
        awaitWorkerBlockedOn("accept4", listenFd);
        reaper.assertNoEvent("accept has no peer to accept");

        assertEquals(AioContext.CANCELED, ctx.cancel(1));
        final Event canceled = reaper.reapOne(1);
        assertEquals(-Errno.ECANCELED, canceled.res(), canceled.toString());
        assertNotEquals(0, canceled.flags() & EventDescriptor.FLAG_CANCELED, canceled.toString());
        assertEquals(AioContext.NOT_FOUND, ctx.cancel(1), "a finished op cannot be cancelled");

        // The interrupted accept took nothing from the listener: the next one gets the next connection.
        final int clientFd = tcpSocket();
        writer.accept(2, listenFd, mem.ref(PEER_AT, 128), SOCK_CLOEXEC)
            .connect(3, clientFd, mem.ref(ADDR_AT, SOCKADDR_IN_LENGTH), SOCKADDR_IN_LENGTH);
        assertEquals(2, writer.submitTo(ctx));
        final Map<Long, Event> events = reaper.reap(2);
        final int serverFd = (int)events.get(2L).res();
        try
        {
            assertEquals(0, events.get(3L).res(), events.toString());
            assertTrue(serverFd >= 0, events.toString());
            assertEquals(SOCKADDR_IN_LENGTH, events.get(2L).res2());
        }
        finally
        {
            close(serverFd, clientFd);
        }
    }
}
