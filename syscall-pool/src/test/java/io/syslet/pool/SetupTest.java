package io.syslet.pool;

import io.syslet.abi.Errno;
import io.syslet.abi.SetupParams;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.syslet.pool.SysletTestSupport.assertAioException;
import static io.syslet.pool.SysletTestSupport.countEventFds;
import static io.syslet.pool.SysletTestSupport.openFds;
import static io.syslet.pool.SysletTestSupport.sysletThreadNames;
import static io.syslet.pool.SysletTestSupport.writer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * io_setup2 refuses bad parameters with EINVAL naming the field, before it creates anything: no fd, no
 * thread.
 */
class SetupTest
{
    static Stream<Arguments> badParams()
    {
        return Stream.of(
            bad("unknown ABI version", () -> new SetupParams().abiVersion(2), "ABI version 2 is not supported"),
            bad("ABI version 0", () -> new SetupParams().abiVersion(0), "ABI version 0 is not supported"),
            bad("unknown flag bit", () -> new SetupParams().flags(8), "setup flags 0x8 are not defined"),
            bad("top flag bit", () -> new SetupParams().flags(SetupParams.FLAG_NO_EVENTFD | (1 << 31)),
                "setup flags 0x80000000 are not defined"),
            bad("ring size not a power of two", () -> new SetupParams().ringBytes(6000), "ring size 6000 bytes"),
            bad("ring size too small", () -> new SetupParams().ringBytes(2048), "ring size 2048 bytes"),
            bad("ring size 0", () -> new SetupParams().ringBytes(0), "ring size 0 bytes"),
            bad("ring size too big", () -> new SetupParams().ringBytes(1 << 31), "ring size -2147483648 bytes"),
            bad("no bounded workers", () -> new SetupParams().boundedWorkers(0), "bounded workers 0 is outside"),
            bad("no unbounded workers", () -> new SetupParams().unboundedWorkers(0), "unbounded workers 0 is outside"),
            bad("negative bounded workers", () -> new SetupParams().boundedWorkers(-1), "bounded workers -1 is outside"),
            bad("no in-flight ops", () -> new SetupParams().maxInFlight(0), "max in flight 0 is outside"));
    }

    /**
     * A ring file replaces what has its name: a FIFO (or, as root, /dev/null) must stay what it is, and setup
     * say why it refused, as EINVAL, not the EIO of a file it could not make.
     */
    @Test
    void aRingFileNameHeldByAFifoIsRefusedWithEinvalAndLeftAsItIs(@TempDir final Path dir) throws Exception
    {
        final Path fifo = dir.resolve("events.ring");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor(), "mkfifo");
        final String message = assertAioException(Errno.EINVAL, "not a regular file",
            () -> SysletContext.setup(new SetupParams().ringFile(fifo))).getMessage();
        assertTrue(message.contains(fifo.toString()), message);
        assertTrue(Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther(),
            "still a FIFO");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badParams")
    void badParametersAreRefusedBeforeAnythingIsCreated(final Supplier<SetupParams> params, final String fault)
    {
        // Once through first so that whatever the JVM loads lazily for this path (classes, jars) is loaded
        // before the counting starts.
        assertAioException(Errno.EINVAL, fault, () -> SysletContext.setup(params.get()));

        final Map<Integer, String> fdsBefore = openFds();
        final List<String> threadsBefore = sysletThreadNames();
        final int allThreadsBefore = Thread.getAllStackTraces().size();

        // Starts with the fault: "bounded workers" must not pass for "unbounded workers".
        final String message = assertAioException(Errno.EINVAL, fault, () -> SysletContext.setup(params.get()))
            .getMessage();
        assertTrue(message.startsWith("EINVAL: " + fault), message);

        assertEquals(fdsBefore, openFds(), "fds changed");
        assertEquals(threadsBefore, sysletThreadNames(), "engine threads changed");
        assertEquals(allThreadsBefore, Thread.getAllStackTraces().size(), "threads changed");
    }

    /**
     * Setup makes every request slot up front, about 400 bytes of heap each: 2^20 in flight is about 520 MB. In
     * a heap that cannot hold them setup failed with an OutOfMemoryError from inside its loop; it now fails
     * with ENOMEM naming the parameter and the heap it needs, and a smaller setup right after works. In a JVM
     * of its own with a 64 MB heap, so that no other test runs short of memory meanwhile.
     */
    @Test
    void aMaxInFlightTheHeapCannotHoldIsRefusedWithEnomemNotAnOutOfMemoryError() throws Exception
    {
        final String output = SysletTestSupport.runInChildJvm(SetupInASmallHeap.class, "-Xmx64m", "--add-opens",
            "java.base/jdk.internal.misc=ALL-UNNAMED");
        assertEquals(List.of("refused " + Errno.ENOMEM + ": ENOMEM: max in flight 1048576 needs about 532 MiB of " +
            "Java heap for its request slots and queues, more than the heap has free (lower maxInFlight or raise -Xmx)",
            "then set up 1024"), output.lines().collect(Collectors.toList()));
    }

    /**
     * The request slots are not all setup makes in proportion to max in flight: each worker queue holds every
     * slot (two arrays of the next power of two). A max in flight whose slots the heap just held, but not the
     * queues as well, threw a bare OutOfMemoryError out of setup, not the ENOMEM SetupParams.maxInFlight
     * promises: here at every max in flight from 121,800 to 135,500 in a 64 MB heap (serial GC).
     */
    @Test
    void justAtTheHeapsEdgeSetupStillFailsWithEnomemNotAnOutOfMemoryError() throws Exception
    {
        final String output = SysletTestSupport.runInChildJvm(SetupAtTheHeapsEdge.class, "-Xmx64m",
            "-XX:+UseSerialGC", "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED");
        assertEquals(List.of("done"), output.lines().collect(Collectors.toList()));
    }

    @Test
    void theFdAndThreadCountsSeeWhatAGoodSetupCreates()
    {
        final long eventFdsBefore = countEventFds();
        final List<String> threadsBefore = sysletThreadNames();
        try (SysletContext ctx = SysletContext.setup(new SetupParams().boundedWorkers(1)))
        {
            assertEquals(eventFdsBefore + 1, countEventFds(), "setup makes the eventfd at once");
            writer().nop(1).submitTo(ctx);
            SysletTestSupport.reapOne(ctx, 1);
            assertEquals(threadsBefore.size() + 1, sysletThreadNames().size(), "the first op starts a worker");
        }
        assertEquals(eventFdsBefore, countEventFds(), "destroy closes the eventfd");
        assertEquals(threadsBefore, sysletThreadNames(), "destroy ends the workers");
    }

    private static Arguments bad(final String name, final Supplier<SetupParams> params, final String fault)
    {
        return Arguments.of(Named.of(name, params), fault);
    }
}
