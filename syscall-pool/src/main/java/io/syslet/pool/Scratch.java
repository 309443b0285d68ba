package io.syslet.pool;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Native memory that one thread uses to build what a call needs besides the caller's buffers: the
 * event before it goes into the ring, a native iovec array, a timespec.
 * One per worker (and one per thread that completes ops inline), made once.
 */
final class Scratch
{
    private static final VarHandle CALL_DEPTH;

    static
    {
        try
        {
            CALL_DEPTH = MethodHandles.lookup().findVarHandle(Scratch.class, "callDepth", int.class);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int EVENT_OFFSET = 0;
    static final int EVENT_CAPACITY = 4096;
    static final int IOV_OFFSET = EVENT_OFFSET + EVENT_CAPACITY;
    static final int IOV_CAPACITY = 1024 * 16;
    /**
     * getaddrinfo's copies of its node and service strings ({@link RegisteredBuffers#copyString}), each up to
     * PATH_MAX bytes with its NUL: in the iov area, which getaddrinfo does not use.
     */
    static final int NODE_COPY_OFFSET = IOV_OFFSET;
    static final int SERVICE_COPY_OFFSET = NODE_COPY_OFFSET + RegisteredBuffers.PATH_MAX;
    /**
     * The copy of an openat or statx path that lies in a file's mapping, which the kernel reads instead
     * ({@link RegisteredBuffers#resolveString}): in the iov area too.
     */
    static final int PATH_COPY_OFFSET = IOV_OFFSET;
    static final int TIMESPEC_OFFSET = IOV_OFFSET + IOV_CAPACITY;
    static final int SOCKLEN_OFFSET = TIMESPEC_OFFSET + 16;
    static final int ADDRINFO_RESULT_OFFSET = SOCKLEN_OFFSET + 8;
    static final int HINTS_OFFSET = ADDRINFO_RESULT_OFFSET + 8;
    static final int HINTS_LENGTH = 48;
    static final int CPU_TIMESPEC_OFFSET = HINTS_OFFSET + HINTS_LENGTH;
    static final int RUSAGE_OFFSET = CPU_TIMESPEC_OFFSET + 16;
    static final int RUSAGE_LENGTH = 144;
    static final int LENGTH = RUSAGE_OFFSET + RUSAGE_LENGTH;

    final UnsafeBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(LENGTH, 64));
    /** The event area alone: attribute TLVs written through it can never spill into the areas after it. */
    final UnsafeBuffer event = new UnsafeBuffer(buffer, EVENT_OFFSET, EVENT_CAPACITY);
    /** A flyweight for reading native structs that libc allocated (getaddrinfo's list). */
    final UnsafeBuffer foreign = new UnsafeBuffer(0, 0);
    /** Flyweights for getaddrinfo: the record it writes (in the caller's checked range, or staged here), one sockaddr of its list. */
    final UnsafeBuffer records = new UnsafeBuffer(0, 0);
    final UnsafeBuffer sockaddr = new UnsafeBuffer(0, 0);
    final long address = buffer.addressOffset();
    /** The thread that alone uses this scratch. */
    final Thread owner;
    /**
     * The native thread id of {@link #owner}, which sets it before its first use of this scratch: a worker's
     * scratch is made before its thread starts (so that a failed allocation is a thread the pool could not
     * start, not a worker that dies with its op queued), and only the running thread can ask its id.
     */
    int tid;
    /**
     * Holds each iocb submit accepts, read once: the immediate path tries a pread in it on this thread, and
     * a request slot takes the op from it. run() holds its op here too.
     */
    final Slot staged = new Slot(-1);
    /** Builds event attributes in {@link #buffer}. */
    final io.syslet.attributes.AttributeWriter attributes = new io.syslet.attributes.AttributeWriter();
    /**
     * Public calls of the context this scratch belongs to that {@link #owner} is inside. More than 1 would
     * mean a call made from inside another, which nothing allows (no op runs the caller's code on the caller's
     * thread, and run() and submit rely on that to share {@link #staged}), but the count would stay right.
     * Only the owner writes it; destroy reads it.
     */
    private volatile int callDepth;
    /**
     * Where this submitter's next search for a free request slot starts. Per thread: a cursor on the
     * context would be written by every submit on a line that workers read on every op.
     */
    int slotCursor;
    // Readings taken before a measured call (see Measurements).
    long cpuBefore;
    long voluntaryBefore;
    long involuntaryBefore;

    Scratch(final Thread owner)
    {
        this.owner = owner;
    }

    /**
     * Volatile write: a full fence, so the caller's next volatile read (closed) is ordered after it.
     */
    void enterCall()
    {
        callDepth = callDepth + 1;
    }

    /**
     * Release: everything the call did happens before destroy sees it out. No fence needed here.
     */
    void exitCall()
    {
        CALL_DEPTH.setRelease(this, callDepth - 1);
    }

    boolean isInCall()
    {
        return callDepth != 0;
    }
}
