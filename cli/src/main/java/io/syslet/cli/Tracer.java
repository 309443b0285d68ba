package io.syslet.cli;

import io.syslet.abi.BufferRef;
import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.abi.SetupParams;
import io.syslet.attributes.AttributeCursor;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.CacheOutcome;
import io.syslet.pool.SysletContext;
import io.syslet.pool.compound.Chain;
import io.syslet.pool.compound.Completion;
import io.syslet.pool.compound.Completions;
import io.syslet.pool.compound.Group;
import io.syslet.pool.compound.Op;
import io.syslet.pool.compound.OpCompletion;
import io.syslet.pool.natives.Natives;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.syslet.pool.natives.Natives.LIBC;

/**
 * Reads files through the engine and measures every syscall: the work behind {@code syslet trace}.
 *
 * <p>Each file is a linked {@link Chain}: {@code statx} (its size), then {@code openat}, then a
 * {@link Group} of chunk {@code pread}s fed {@code depth} at a time, then {@code close}, hard-linked so
 * that it runs even when a read failed. A root group feeds the files, {@code filesInFlight} at a time.
 * Every op asks for the latency, cache, cpu, blocked and bytes attributes.
 *
 * <p>Threads: callbacks run on the thread that calls {@link #run}. It submits (cache hits complete
 * right there, on the immediate path) and it polls for the rest; workers only publish events. So the
 * counters and buffer pools here need no locks.
 *
 * <p>Memory: a registered direct buffer per file in flight, holding the path, the statx result and
 * {@code depth} chunk buffers. A buffer is handed back when the op using it has settled, before the
 * feeder starts the next op, so {@code depth} chunk buffers per file and {@code filesInFlight} file
 * buffers are always enough.
 */
final class Tracer
{
    /** What every op asks for. */
    static final int[] ATTRIBUTES =
        {AttributeId.LATENCY, AttributeId.CACHE, AttributeId.CPU, AttributeId.BLOCKED, AttributeId.BYTES};
    /** The syscalls a trace makes, in the order tables list them. */
    static final int[] TRACED_OPS = {Opcode.STATX, Opcode.OPENAT, Opcode.PREAD, Opcode.CLOSE};

    static final int PATH_BYTES = 4096;
    private static final int STATX_OFFSET = PATH_BYTES;
    private static final int CHUNKS_OFFSET = 8192;
    private static final int STATX_TYPE = 0x1;
    private static final int STATX_SIZE = 0x200;
    private static final int STATX_MASK_FIELD = 0;
    private static final int STATX_SIZE_FIELD = 40;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int O_NOFOLLOW = 0400000;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** What {@code trace}'s options set. */
    static final class Settings
    {
        int chunk = 128 * 1024;
        int depth = 4;
        int filesInFlight = 32;
        /** Bounded workers; 0 for the engine's default. */
        int workers;
        boolean evict;
        boolean jfr;
        Path ringFile;

        /**
         * @return bytes of the direct memory a trace registers.
         */
        long memoryBytes()
        {
            return (long)filesInFlight * (CHUNKS_OFFSET + (long)depth * chunk);
        }
    }

    /** One file's outcome, as {@code --per-file} prints it. */
    static final class FileResult
    {
        final Path path;
        long bytes;
        long reads;
        long cacheHits;
        long cacheMisses;
        long cachePartial;
        int errors;
        /** The first failure, {@code "openat: EACCES"}, or null. */
        String error;

        FileResult(final Path path)
        {
            this.path = path;
        }

        String toJson()
        {
            final Json json = new Json().beginObject()
                .field("path", path.toString())
                .field("bytes", bytes)
                .field("reads", reads)
                .field("cache_hits", cacheHits)
                .field("cache_misses", cacheMisses)
                .field("cache_partial", cachePartial)
                .field("errors", errors);
            if (error != null)
            {
                json.field("error", error);
            }
            return json.endObject().toString();
        }
    }

    /** A file buffer: path, statx result, chunk buffers. */
    private static final class Slot
    {
        final ByteBuffer memory;
        final UnsafeBuffer buffer;
        final long pathRef;
        final long statxRef;
        final long[] chunkRefs;
        final ArrayDeque<Integer> freeChunks = new ArrayDeque<>();

        Slot(final SysletContext ctx, final int depth, final int chunk)
        {
            memory = BufferUtil.allocateDirectAligned(CHUNKS_OFFSET + depth * chunk, 4096);
            buffer = new UnsafeBuffer(memory);
            final int index = ctx.registerBuffer(buffer);
            pathRef = BufferRef.of(index, 0);
            statxRef = BufferRef.of(index, STATX_OFFSET);
            chunkRefs = new long[depth];
            for (int i = 0; i < depth; i++)
            {
                chunkRefs[i] = BufferRef.of(index, CHUNKS_OFFSET + (long)i * chunk);
                freeChunks.add(i);
            }
        }
    }

    /** A file being traced. */
    private static final class FileState
    {
        final FileResult result;
        final Slot slot;
        int fd = -1;
        long size;

        FileState(final Path path, final Slot slot)
        {
            this.result = new FileResult(path);
            this.slot = slot;
        }
    }

    private final Settings settings;
    private final Consumer<FileResult> perFile;
    private final Event eventView = new Event();
    private final AttributeCursor attributes = new AttributeCursor();
    private final ArrayDeque<Slot> freeSlots = new ArrayDeque<>();
    private TraceResult result;
    private Completions completions;
    private Throwable callbackFailure;

    /**
     * @param settings what to do.
     * @param perFile  told of each file once it is done (on the tracing thread); null for nobody.
     */
    Tracer(final Settings settings, final Consumer<FileResult> perFile)
    {
        this.settings = settings;
        this.perFile = perFile;
    }

    /**
     * Reads every file, {@code filesInFlight} at a time. Failures of single files are counted, never
     * thrown.
     *
     * @param files    regular files to read.
     * @param progress told how far it got, from this thread.
     * @return what was measured.
     */
    TraceResult run(final List<Path> files, final Progress progress)
    {
        final SetupParams params = new SetupParams()
            .maxInFlight(settings.filesInFlight * settings.depth + 16)
            .maxBuffers(settings.filesInFlight)
            .ringFile(settings.ringFile);
        if (settings.workers > 0)
        {
            params.boundedWorkers(settings.workers);
        }
        result = new TraceResult(params.boundedWorkers());
        final SysletContext ctx = SysletContext.setup(params);
        try
        {
            allocateSlots(ctx);
            completions = new Completions(ctx, null, (completion, error) ->
            {
                if (callbackFailure == null)
                {
                    callbackFailure = error;
                }
            });
            final long start = System.nanoTime();
            // One feed of every file: a fed group lets each file's node go once it has settled.
            final Group root = completions.allOf().feed(files.iterator(), settings.filesInFlight, this::fileNode);
            root.start();
            while (!root.isSettled())
            {
                checkCallbacks();
                completions.poll(1, POLL_NANOS);
                progress.update(result.filesDone, result.bytes);
            }
            checkCallbacks();
            result.elapsedNanos = System.nanoTime() - start;
            progress.finish();
        }
        finally
        {
            // The context holds the registered buffers; they go with it (to the GC), never under a stuck worker.
            ctx.close();
        }
        return result;
    }

    private void checkCallbacks()
    {
        if (callbackFailure instanceof UncheckedIOException)
        {
            throw (UncheckedIOException)callbackFailure; // the per-file output failed: say so, as it is
        }
        if (callbackFailure != null)
        {
            throw new IllegalStateException("a trace callback failed: " + callbackFailure, callbackFailure);
        }
    }

    /**
     * One slot of buffers per file in flight, in direct memory. The options' own limit can still exceed what
     * this JVM may allocate (its direct-memory limit defaults to the heap's, a quarter of the machine's or
     * container's memory): say so as a bad option value, not with an OutOfMemoryError.
     */
    private void allocateSlots(final SysletContext ctx)
    {
        try
        {
            for (int i = 0; i < settings.filesInFlight; i++)
            {
                freeSlots.add(new Slot(ctx, settings.depth, settings.chunk));
            }
        }
        catch (final OutOfMemoryError e)
        {
            freeSlots.clear();
            throw new IllegalArgumentException("--files-in-flight x --depth x --chunk needs " +
                Sizes.format(settings.memoryBytes()) + " of direct memory, more than this JVM may allocate (" +
                e.getMessage() + "): lower them, or raise the JVM's -XX:MaxDirectMemorySize", e);
        }
    }

    /**
     * @return the chain that traces one file (the feeder's mapping).
     */
    private Completion fileNode(final Path path)
    {
        final byte[] name = NativePaths.bytes(path);
        if (name.length >= PATH_BYTES)
        {
            // The engine would refuse it (no NUL within 4096 bytes); say why here instead.
            final FileResult tooLong = new FileResult(path);
            fail(tooLong, "openat", -Errno.ENAMETOOLONG);
            finishFile(tooLong);
            return completions.allOf(); // empty: completes at once, no syscall
        }
        final Slot slot = freeSlots.pop();
        slot.buffer.putBytes(0, name);
        slot.buffer.putByte(name.length, (byte)0);
        final FileState file = new FileState(path, slot);
        final Chain chain = completions
            .chain(Op.statx(Natives.AT_FDCWD, slot.pathRef, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_SIZE, slot.statxRef)
                .withAttributes(ATTRIBUTES))
            // O_NONBLOCK and O_NOFOLLOW: the walk saw a regular file, but a FIFO or link put in its place since
            // must fail, not block or lead elsewhere.
            .then(statx -> Op.openat(Natives.AT_FDCWD, slot.pathRef,
                Natives.O_RDONLY | Natives.O_CLOEXEC | Natives.O_NONBLOCK | O_NOFOLLOW, 0).withAttributes(ATTRIBUTES))
            .thenNode(open -> reads(file, (int)open.res()))
            // Hard: the fd is closed whatever the reads did. If openat failed there is no fd, and a hard step
            // cannot be left out, so it is a nop (no syscall, no attributes, not counted).
            .thenHard(reads -> file.fd >= 0 ? Op.close(file.fd).withAttributes(ATTRIBUTES) : Op.nop());
        chain.notify(done -> finishChain(file, (Chain)done));
        return chain;
    }

    /**
     * @return the group of chunk reads of an open file; it evicts the file first if asked.
     */
    private Completion reads(final FileState file, final int fd)
    {
        file.fd = fd;
        final UnsafeBuffer buffer = file.slot.buffer;
        file.size = (buffer.getInt(STATX_OFFSET + STATX_MASK_FIELD) & STATX_SIZE) != 0 ?
            buffer.getLong(STATX_OFFSET + STATX_SIZE_FIELD) : 0;
        if (settings.evict)
        {
            // posix_fadvise returns the error number itself, not -1 and errno.
            final int error = LIBC.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            if (error != 0)
            {
                fail(file.result, "posix_fadvise", -error);
            }
        }
        return completions.allOf().feed(new ChunkOffsets(file.size, settings.chunk), settings.depth,
            offset -> readChunk(file, offset));
    }

    private Completion readChunk(final FileState file, final long offset)
    {
        final Slot slot = file.slot;
        final int chunk = slot.freeChunks.pop();
        // The last chunk asks for exactly what statx said is left: a read that asks for more comes back
        // short from RWF_NOWAIT, which the immediate path cannot tell from a partial hit, and hands it to a
        // worker (a thread hop per file for nothing).
        final long count = Math.min(settings.chunk, file.size - offset);
        final OpCompletion read = completions.op(
            Op.pread(file.fd, slot.chunkRefs[chunk], count, offset).withAttributes(ATTRIBUTES));
        read.notify(done ->
        {
            slot.freeChunks.push(chunk);
            record(file.result, (OpCompletion)done);
        });
        return read;
    }

    /**
     * The file's chain has settled: its statx, openat and close are recorded here (the reads were, as
     * each settled), its buffers go back to the pool, and it is reported.
     */
    private void finishChain(final FileState file, final Chain chain)
    {
        for (final Completion step : chain.steps())
        {
            if (step instanceof OpCompletion)
            {
                record(file.result, (OpCompletion)step);
            }
        }
        freeSlots.push(file.slot);
        finishFile(file.result);
    }

    private void finishFile(final FileResult file)
    {
        result.filesDone++;
        if (file.errors == 0)
        {
            result.filesRead++;
        }
        if (perFile != null)
        {
            perFile.accept(file);
        }
    }

    /**
     * Counts one completed op: its latency, cache answer, CPU and blocking, and its result.
     */
    private void record(final FileResult file, final OpCompletion op)
    {
        final int opcode = op.op().opcode();
        if (opcode == Opcode.NOP)
        {
            return; // a chain's stand-in for a step that did not run, or the close of a file never opened
        }
        final OpStats stats = result.stats(opcode);
        final UnsafeBuffer event = op.event();
        final long res = op.res();
        if (event == null)
        {
            // Never ran: cancelled before it started (not here), or refused at submit.
            if (res != -Errno.ECANCELED)
            {
                stats.count++;
                stats.errors++;
                fail(file, Opcode.name(opcode), res);
            }
            return;
        }
        stats.count++;
        if (res < 0)
        {
            stats.errors++;
            fail(file, Opcode.name(opcode), res);
        }
        eventView.wrap(event, 0);
        final boolean immediate = (eventView.flags() & EventDescriptor.FLAG_IMMEDIATE) != 0;
        long queue = -1;
        long service = -1;
        long total = -1;
        int cache = -1;
        attributes.wrap(event, EventDescriptor.ATTRIBUTES_OFFSET, eventView.attributesLength());
        while (attributes.next())
        {
            if (!attributes.isOk())
            {
                continue; // NOT_APPLICABLE (cache of a statx) or FAILED: nothing to count
            }
            switch (attributes.id())
            {
                case AttributeId.LATENCY:
                    queue = attributes.latencyStartNanos() - attributes.latencySubmitNanos();
                    service = attributes.latencyEndNanos() - attributes.latencyStartNanos();
                    total = attributes.latencyPublishNanos() - attributes.latencySubmitNanos();
                    stats.recordLatency(queue, service);
                    break;
                case AttributeId.CACHE:
                    cache = attributes.cacheOutcome();
                    break;
                case AttributeId.CPU:
                    result.cpuNanos += attributes.cpuOnNanos();
                    result.offCpuNanos += attributes.cpuOffNanos();
                    break;
                case AttributeId.BLOCKED:
                    stats.recordBlocked(attributes.blocked());
                    break;
                default:
                    break; // bytes: the same as res for a read
            }
        }
        if (opcode == Opcode.PREAD)
        {
            file.reads++;
            if (res > 0)
            {
                file.bytes += res;
                result.bytes += res;
            }
            if (immediate)
            {
                result.immediate++;
            }
            countCache(file, cache);
        }
        if (settings.jfr)
        {
            OpEvent.publish(Opcode.name(opcode), file.path, queue, service, total,
                cache >= 0 ? CacheOutcome.name(cache) : null, opcode == Opcode.PREAD ? Math.max(0, res) : 0, res,
                immediate);
        }
    }

    private void countCache(final FileResult file, final int outcome)
    {
        switch (outcome)
        {
            case CacheOutcome.HIT:
                result.cacheHits++;
                file.cacheHits++;
                break;
            case CacheOutcome.MISS:
                result.cacheMisses++;
                file.cacheMisses++;
                break;
            case CacheOutcome.PARTIAL:
                result.cachePartial++;
                file.cachePartial++;
                break;
            case CacheOutcome.UNSUPPORTED_BY_FILESYSTEM:
                result.cacheUnsupported++; // no evidence either way: never a miss
                break;
            default:
                result.cacheUnmeasured++; // the read failed before the cache could be asked
                break;
        }
    }

    /**
     * Counts a failed op against its file; the file's first failure decides the list it goes on.
     */
    private void fail(final FileResult file, final String op, final long res)
    {
        file.errors++;
        if (file.error != null)
        {
            return;
        }
        final String error = Errno.name(res);
        file.error = op + ": " + error;
        final FileTree.Problem problem = new FileTree.Problem(file.path, op, error);
        final boolean reachingTheFile = op.equals("statx") || op.equals("openat");
        if (reachingTheFile && res == -Errno.ENOENT)
        {
            result.vanished.add(problem);
        }
        else if (reachingTheFile && (res == -Errno.EACCES || res == -Errno.EPERM))
        {
            result.unreadable.add(problem);
        }
        else
        {
            result.errors.add(problem);
        }
    }

    /** Offsets 0, chunk, 2 chunk, ... below size. */
    private static final class ChunkOffsets implements Iterator<Long>
    {
        private final long size;
        private final int chunk;
        private long next;

        ChunkOffsets(final long size, final int chunk)
        {
            this.size = size;
            this.chunk = chunk;
        }

        @Override
        public boolean hasNext()
        {
            return next < size;
        }

        @Override
        public Long next()
        {
            if (next >= size)
            {
                throw new NoSuchElementException();
            }
            final long offset = next;
            next += chunk;
            return offset;
        }
    }
}
