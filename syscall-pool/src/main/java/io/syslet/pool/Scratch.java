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
    private static final VarHandle CALLS;
    /** One public call in {@link #calls}: bits 0..15 count the calls the owner is inside. */
    private static final long ONE_CALL = 1L;
    private static final long CALL_DEPTH_MASK = 0xFFFFL;
    /**
     * One call that may touch registered memory on the owner's thread (submit, whose immediate path reads into
     * it, and run): bits 16..31 count those the owner is inside.
     */
    private static final long ONE_MEMORY_CALL = 1L << 16;
    private static final long MEMORY_DEPTH_MASK = 0xFFFFL << 16;
    /**
     * Bits 32..63 count the times the owner left its last such call: a count that wraps, compared only for a
     * change. An unregister that saw the owner inside one waits until it changes.
     */
    private static final long ONE_MEMORY_EXIT = 1L << 32;

    static
    {
        try
        {
            CALLS = MethodHandles.lookup().findVarHandle(Scratch.class, "calls", long.class);
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
     * The public calls of the context this scratch belongs to that {@link #owner} is inside, in one word with
     * the memory calls among them and how often it left the last of those (see {@link #ONE_CALL},
     * {@link #ONE_MEMORY_CALL}, {@link #ONE_MEMORY_EXIT}): a call writes it once on entry and once on exit, as
     * when it held the depth alone, so an unregister that must know whether the thread may hold a registered
     * address costs the call nothing. More than 1 deep would mean a call made from inside another, which nothing
     * allows (no op runs the caller's code on the caller's thread, and run() and submit rely on that to share
     * {@link #staged}), but the counts would stay right. Only the owner writes it; destroy and unregister read it.
     */
    private volatile long calls;
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
     * Volatile write: a full fence, so the caller's next volatile reads (closed; the registered-buffer table, in a
     * call that resolves BufferRefs) are ordered after it.
     *
     * @param touchesMemory true for a call that may resolve a BufferRef and touch its memory on this thread.
     */
    void enterCall(final boolean touchesMemory)
    {
        calls = calls + (touchesMemory ? ONE_CALL + ONE_MEMORY_CALL : ONE_CALL);
    }

    /**
     * Release: everything the call did (the kernel's writes into registered memory included: they are done when
     * the syscall returns) happens before destroy or unregister sees it out. No fence needed here.
     */
    void exitCall(final boolean touchesMemory)
    {
        long next = calls - ONE_CALL;
        if (touchesMemory)
        {
            next -= ONE_MEMORY_CALL;
            if ((next & MEMORY_DEPTH_MASK) == 0)
            {
                next += ONE_MEMORY_EXIT;
            }
        }
        CALLS.setRelease(this, next);
    }

    boolean isInCall()
    {
        return (calls & CALL_DEPTH_MASK) != 0;
    }

    /**
     * @return the call word now (volatile read), for {@link #isInMemoryCall} and {@link #leftMemoryCallSince}.
     */
    long calls()
    {
        return calls;
    }

    /**
     * @return true if, when {@code calls} was read, the owner was inside a call that may touch registered memory.
     */
    static boolean isInMemoryCall(final long calls)
    {
        return (calls & MEMORY_DEPTH_MASK) != 0;
    }

    /**
     * @param seen a value of {@link #calls()} read earlier, inside a memory call.
     * @return true if the owner has left, since {@code seen}, every memory call it was inside then (volatile read:
     * what those calls did happens before the caller's next steps).
     */
    boolean leftMemoryCallSince(final long seen)
    {
        return (calls >>> 32) != (seen >>> 32);
    }
}
