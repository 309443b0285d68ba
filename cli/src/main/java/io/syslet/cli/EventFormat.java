package io.syslet.cli;

import io.syslet.abi.Errno;
import io.syslet.abi.Event;
import io.syslet.abi.EventDescriptor;
import io.syslet.abi.Opcode;
import io.syslet.attributes.AttributeCursor;
import io.syslet.attributes.AttributeId;
import io.syslet.attributes.AttributeStatus;
import io.syslet.attributes.CacheOutcome;
import io.syslet.attributes.MalformedAttributeException;
import io.syslet.ring.EntryDescriptor;
import org.agrona.DirectBuffer;

/**
 * Decodes ring records for {@code syslet dump}: an event record (type 1) field by field, with its
 * attributes by name; any other record as its type and size. The bytes come from another process,
 * so nothing is trusted: lengths are checked before use and malformed attributes are reported, not
 * thrown.
 */
final class EventFormat
{
    private final Event event = new Event();
    private final AttributeCursor attributes = new AttributeCursor();

    /**
     * @param record   a whole record: 16-byte header, then payload.
     * @param offset   where it starts.
     * @param position the ring position it was read at.
     * @return one line for people.
     */
    String text(final DirectBuffer record, final int offset, final int position)
    {
        final StringBuilder line = new StringBuilder(160).append('@').append(Integer.toUnsignedString(position));
        final String fault = check(record, offset);
        if (fault != null)
        {
            return line.append(' ').append(fault).toString();
        }
        event.wrap(record, offset + EntryDescriptor.RECORD_HEADER_LENGTH);
        final long res = event.res();
        line.append(" cookie=").append(Long.toUnsignedString(event.cookie()))
            .append(" op=").append(Opcode.name(event.opcode()))
            .append(" res=").append(Errno.result(res));
        if (event.res2() != 0)
        {
            line.append(" res2=").append(event.res2());
        }
        line.append(" flags=").append(flagNames(event.flags(), "|"));
        attributes.wrap(event.buffer(), event.offset() + EventDescriptor.ATTRIBUTES_OFFSET, event.attributesLength());
        try
        {
            while (attributes.next())
            {
                line.append(' ').append(AttributeId.name(attributes.id())).append('=');
                if (!attributes.isOk())
                {
                    line.append(AttributeStatus.name(attributes.status()));
                    continue;
                }
                switch (attributes.id())
                {
                    case AttributeId.LATENCY:
                        line.append("{queue=").append(micros(attributes.latencyStartNanos() - attributes.latencySubmitNanos()))
                            .append(" service=").append(micros(attributes.latencyEndNanos() - attributes.latencyStartNanos()))
                            .append(" total=").append(micros(attributes.latencyPublishNanos() - attributes.latencySubmitNanos()))
                            .append('}');
                        break;
                    case AttributeId.CACHE:
                        line.append(CacheOutcome.name(attributes.cacheOutcome())).append('(')
                            .append(attributes.cacheBytes()).append(" B cached)");
                        break;
                    case AttributeId.CPU:
                        line.append("{on=").append(micros(attributes.cpuOnNanos()))
                            .append(" off=").append(micros(attributes.cpuOffNanos())).append('}');
                        break;
                    case AttributeId.BLOCKED:
                        line.append(attributes.blocked() ? "yes" : "no").append("{voluntary=")
                            .append(attributes.voluntarySwitches()).append(" involuntary=")
                            .append(attributes.involuntarySwitches()).append('}');
                        break;
                    case AttributeId.BYTES:
                        line.append(attributes.bytes());
                        break;
                    case AttributeId.WORKER_TID:
                        line.append(Integer.toUnsignedString(attributes.workerTid()));
                        break;
                    default:
                        line.append(attributes.valueLength()).append(" bytes");
                        break;
                }
            }
        }
        catch (final MalformedAttributeException e)
        {
            line.append(" MALFORMED ATTRIBUTES: ").append(e.getMessage());
        }
        return line.toString();
    }

    /**
     * @return one JSON object, with the same content as {@link #text}.
     */
    String json(final DirectBuffer record, final int offset, final int position)
    {
        final Json json = new Json().beginObject()
            .field("position", Integer.toUnsignedLong(position))
            .field("type", record.getInt(offset + EntryDescriptor.TYPE_OFFSET))
            .field("length", record.getInt(offset + EntryDescriptor.LENGTH_OFFSET));
        final String fault = check(record, offset);
        if (fault != null)
        {
            return json.field("fault", fault).endObject().toString();
        }
        event.wrap(record, offset + EntryDescriptor.RECORD_HEADER_LENGTH);
        final long res = event.res();
        json.name("cookie").unsignedValue(event.cookie())
            .name("submission_id").unsignedValue(event.submissionId())
            .field("op", Opcode.name(event.opcode()))
            .field("opcode", event.opcode())
            .field("res", res);
        if (res < 0)
        {
            json.field("error", Errno.name(res));
        }
        json.field("res2", event.res2());
        json.name("flags").beginArray();
        if ((event.flags() & EventDescriptor.FLAG_IMMEDIATE) != 0)
        {
            json.value("IMMEDIATE");
        }
        if ((event.flags() & EventDescriptor.FLAG_CANCELED) != 0)
        {
            json.value("CANCELED");
        }
        final int unknown = event.flags() & ~(EventDescriptor.FLAG_IMMEDIATE | EventDescriptor.FLAG_CANCELED);
        if (unknown != 0)
        {
            json.value("0x" + Integer.toHexString(unknown));
        }
        json.endArray();
        json.name("attributes").beginObject();
        attributes.wrap(event.buffer(), event.offset() + EventDescriptor.ATTRIBUTES_OFFSET, event.attributesLength());
        try
        {
            while (attributes.next())
            {
                attributeJson(json.name(AttributeId.name(attributes.id())));
            }
            json.endObject();
        }
        catch (final MalformedAttributeException e)
        {
            json.endObject().field("fault", "malformed attributes: " + e.getMessage());
        }
        return json.endObject().toString();
    }

    private void attributeJson(final Json json)
    {
        if (!attributes.isOk())
        {
            json.value(AttributeStatus.name(attributes.status()));
            return;
        }
        switch (attributes.id())
        {
            case AttributeId.LATENCY:
                json.beginObject()
                    .field("submit", attributes.latencySubmitNanos())
                    .field("start", attributes.latencyStartNanos())
                    .field("end", attributes.latencyEndNanos())
                    .field("publish", attributes.latencyPublishNanos())
                    .endObject();
                break;
            case AttributeId.CACHE:
                json.beginObject()
                    .field("outcome", CacheOutcome.name(attributes.cacheOutcome()))
                    .field("bytes", attributes.cacheBytes())
                    .endObject();
                break;
            case AttributeId.CPU:
                json.beginObject()
                    .field("on_ns", attributes.cpuOnNanos())
                    .field("off_ns", attributes.cpuOffNanos())
                    .endObject();
                break;
            case AttributeId.BLOCKED:
                json.beginObject()
                    .field("blocked", attributes.blocked())
                    .field("voluntary", attributes.voluntarySwitches())
                    .field("involuntary", attributes.involuntarySwitches())
                    .endObject();
                break;
            case AttributeId.BYTES:
                json.value(attributes.bytes());
                break;
            case AttributeId.WORKER_TID:
                json.value(Integer.toUnsignedLong(attributes.workerTid()));
                break;
            default:
                json.beginObject().field("value_length", attributes.valueLength()).endObject();
                break;
        }
    }

    /**
     * @return null if the record is an event whose fixed part and attributes fit in it, else what it is.
     */
    private static String check(final DirectBuffer record, final int offset)
    {
        final int type = record.getInt(offset + EntryDescriptor.TYPE_OFFSET);
        final int length = record.getInt(offset + EntryDescriptor.LENGTH_OFFSET);
        if (type != EventDescriptor.RECORD_TYPE)
        {
            return "record of type " + type + ", " + length + " bytes (not an event)";
        }
        final int payload = length - EntryDescriptor.RECORD_HEADER_LENGTH;
        if (payload < EventDescriptor.MIN_LENGTH)
        {
            return "event of " + payload + " bytes, shorter than the " + EventDescriptor.MIN_LENGTH + "-byte fixed part";
        }
        final long attributesLength =
            record.getInt(offset + EntryDescriptor.RECORD_HEADER_LENGTH + EventDescriptor.ATTRIBUTES_LENGTH_OFFSET) & 0xFFFF_FFFFL;
        if (attributesLength > payload - EventDescriptor.MIN_LENGTH)
        {
            return "event says " + attributesLength + " bytes of attributes, but only " +
                (payload - EventDescriptor.MIN_LENGTH) + " follow";
        }
        return null;
    }

    static String flagNames(final int flags, final String separator)
    {
        final StringBuilder names = new StringBuilder();
        if ((flags & EventDescriptor.FLAG_IMMEDIATE) != 0)
        {
            names.append("IMMEDIATE");
        }
        if ((flags & EventDescriptor.FLAG_CANCELED) != 0)
        {
            names.append(names.length() > 0 ? separator : "").append("CANCELED");
        }
        final int unknown = flags & ~(EventDescriptor.FLAG_IMMEDIATE | EventDescriptor.FLAG_CANCELED);
        if (unknown != 0)
        {
            names.append(names.length() > 0 ? separator : "").append("0x").append(Integer.toHexString(unknown));
        }
        return names.length() == 0 ? "-" : names.toString();
    }

    private static String micros(final long nanos)
    {
        return String.format("%.1fus", nanos / 1e3);
    }
}
