#!/usr/bin/env python3
"""Turns a JMH JSON result file of the ring benchmarks into benches/RESULTS.md.

Standard library only. The figure compared is the `sent` auxiliary counter: messages per second that
producers put into the ring. The group's primary JMH score adds up every invocation of every method
in the group, failed and empty attempts included, so it is not used.
"""

import argparse
import json
import math
import os
import sys
from collections import OrderedDict

PACKAGE = "io.syslet.benches."
TOPOLOGIES = OrderedDict([
    ("OneProducerOneConsumer", "1 producer / 1 consumer"),
    ("TwoProducersOneConsumer", "2 producers / 1 consumer"),
    ("TwoProducersTwoConsumers", "2 producers / 2 consumers"),
])
GROUPS = OrderedDict([
    ("syslet_claim_read", "ours: tryReserve + commit, consumer read (batch)"),
    ("syslet_claim_poll", "ours: tryReserve + commit, consumer poll (one record)"),
    ("syslet_offer_read", "ours: offer, consumer read (batch)"),
    ("o2o_claim_read", "Agrona OneToOne: tryClaim + commit, consumer read(handler)"),
    ("o2o_write_read", "Agrona OneToOne: write, consumer read(handler)"),
    ("m2o_claim_read", "Agrona ManyToOne: tryClaim + commit, consumer read(handler)"),
    ("m2o_write_read", "Agrona ManyToOne: write, consumer read(handler)"),
])
# (topology, ours, peer, what the row means)
PAIRS = [
    ("OneProducerOneConsumer", "syslet_claim_read", "o2o_claim_read", "claim+commit, batch read vs OneToOne"),
    ("OneProducerOneConsumer", "syslet_claim_read", "m2o_claim_read", "claim+commit, batch read vs ManyToOne"),
    ("OneProducerOneConsumer", "syslet_offer_read", "o2o_write_read", "offer vs OneToOne write, batch read"),
    ("OneProducerOneConsumer", "syslet_claim_poll", "o2o_claim_read",
     "claim+commit, our poll vs OneToOne batch read"),
    ("TwoProducersOneConsumer", "syslet_claim_read", "m2o_claim_read", "claim+commit, batch read vs ManyToOne"),
    ("TwoProducersOneConsumer", "syslet_offer_read", "m2o_write_read", "offer vs ManyToOne write, batch read"),
    ("TwoProducersOneConsumer", "syslet_claim_poll", "m2o_claim_read",
     "claim+commit, our poll vs ManyToOne batch read"),
]
OUR_HEADER = 16
AGRONA_HEADER = 8


def align8(n):
    return (n + 7) & ~7


def metric(result, name):
    """(score, error) of a secondary metric, error NaN when JMH had too few iterations for one."""
    m = result.get("secondaryMetrics", {}).get(name)
    if m is None:
        return (float("nan"), float("nan"))
    err = m.get("scoreError")
    err = float(err) if isinstance(err, (int, float)) or err not in (None, "NaN") else float("nan")
    return (float(m["score"]), err)


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for r in data:
        name = r["benchmark"]
        if not name.startswith(PACKAGE):
            continue
        topology, group = name[len(PACKAGE):].split(".", 1)
        params = r.get("params", {})
        payload = int(params.get("payload", "0"))
        idle = params.get("idle", "")
        sent, sent_err = metric(r, "sent")
        primary = float(r["primaryMetric"]["score"])
        norm, _ = metric(r, "gc.alloc.rate.norm")
        # gc.alloc.rate.norm is bytes per invocation of any method in the group; rescale to per message.
        bytes_per_msg = norm * primary / sent if sent > 0 and not math.isnan(norm) else float("nan")
        rows[(topology, group, payload, idle)] = {
            "sent": sent,
            "sent_err": sent_err,
            "received": metric(r, "received")[0],
            "full": metric(r, "full")[0],
            "empty": metric(r, "empty")[0],
            "overflowed": metric(r, "overflowed")[0],
            "alloc_rate": metric(r, "gc.alloc.rate")[0],
            "bytes_per_msg": bytes_per_msg,
            "gc_count": metric(r, "gc.count")[0],
        }
    return data, rows


def fmt_rate(v, err=float("nan")):
    if math.isnan(v):
        return "n/a"
    s = "%.2f" % (v / 1e6)
    if not math.isnan(err):
        s += " ± %.2f" % (err / 1e6)
    return s


def fmt_ratio(a, ea, b, eb):
    if math.isnan(a) or math.isnan(b) or b <= 0:
        return "n/a"
    r = a / b
    if math.isnan(ea) or math.isnan(eb) or a <= 0:
        return "%.2f" % r
    # Relative errors of independent measurements add in quadrature.
    return "%.2f ± %.2f" % (r, r * math.sqrt((ea / a) ** 2 + (eb / b) ** 2))


def fmt_num(v, digits=2):
    return "n/a" if math.isnan(v) else ("%.*f" % (digits, v))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def render(data, rows, args):
    payloads = sorted({k[2] for k in rows})
    idles = sorted({k[3] for k in rows})
    first = data[0] if data else {}
    out = []
    w = out.append
    w("# Ring benchmarks: ours vs Agrona")
    w("")
    if args.smoke:
        w("> **SMOKE RUN, CONTAMINATED, NOT A RESULT.** One 1 s warm-up and one 1 s measurement per")
        w("> benchmark, taken while other builds and tests shared the machine's cores. It only proves the")
        w("> suite runs end to end (including `-prof gc`). Do not quote these numbers; regenerate this file")
        w("> with `benches/run` on a quiet machine.")
        w("")
    w("| | |")
    w("| --- | --- |")
    w("| date | %s |" % args.date)
    w("| cores (`nproc`) | %s |" % args.nproc)
    w("| CPU | %s |" % cpu_model())
    w("| JDK | %s, %s %s |" % (first.get("jdkVersion", "?"), first.get("vmName", "?"), first.get("vmVersion", "?")))
    w("| JMH | %s, forks %s, warm-up %s × %s, measurement %s × %s, `-prof gc` |" % (
        first.get("jmhVersion", "?"), first.get("forks", "?"), first.get("warmupIterations", "?"),
        first.get("warmupTime", "?"), first.get("measurementIterations", "?"), first.get("measurementTime", "?")))
    w("| JVM flags | `%s` |" % " ".join(first.get("jvmArgs", [])))
    if args.loadavg:
        w("| load average (1/5/15 min) before / after | %s |" % args.loadavg)
    w("| command | `%s` |" % args.command.replace("|", "\\|"))
    w("| raw results | `%s` |" % args.json_display)
    w("")
    w("## What is measured")
    w("")
    w("Messages per second that producers put into the ring successfully (the `sent` counter), with the")
    w("consumers draining at the same time. Every ring has a 64 KiB data area. A producer makes one")
    w("attempt per JMH invocation and counts a full ring as a failure (`full`) instead of looping; a")
    w("consumer counts an empty ring as `empty`; after a failed attempt the thread calls `Thread.yield()`")
    w("(parameter `idle=yield`; `-p idle=spin` turns that off). `received` tracks `sent`.")
    w("")
    w("**Record headers differ: ours is 16 bytes (stamp, length, type, check), Agrona's is 8 (length,")
    w("type).** The payload sizes below are payload bytes; a record spans header + payload rounded up to")
    w("8, so our records take more ring space for the same payload:")
    w("")
    w("| payload (B) | our record (B) | Agrona record (B) |")
    w("| --- | --- | --- |")
    for p in payloads:
        w("| %d | %d | %d |" % (p, align8(OUR_HEADER + p), align8(AGRONA_HEADER + p)))
    w("")
    w("- Producers, claim path: ours `tryReserve` + `putBytes` + `commit`; Agrona `tryClaim` + `putBytes` +")
    w("  `commit`. Offer path: our `offer(type, src, 0, len)` from a preallocated `UnsafeBuffer` vs Agrona")
    w("  `write(type, src, 0, len)`. `offer` never fails (a full ring sends the entry to the heap overflow")
    w("  list), so the benchmark only calls it when the ring has room for 2 records plus wrap padding per")
    w("  producer; that gate costs us two volatile reads per call. `overflowed` counts offers that still")
    w("  went through the overflow list and must be 0.")
    w("- Consumers: ours `read(dst, 0, 4096)` (batch) or `poll(dst, 0)` (one record, waits for a producer")
    w("  mid-commit); Agrona `read(handler, n)` with n = the number of our records that fit in 4096 bytes,")
    w("  the handler copying each payload out to a buffer, since ours copies too.")
    w("- Agrona has no many-consumer ring: the 2 × 2 case is ours alone.")
    w("- 3 or 4 busy threads on %s cores: the OS preempts them, which is part of what those rows measure." % args.nproc)
    w("- Ratio errors combine the two JMH 99.9% confidence half-widths in quadrature; n/a when one")
    w("  measurement iteration gives no error estimate.")
    w("")
    for idle in idles:
        suffix = " (idle=%s)" % idle if len(idles) > 1 else ""
        w("## Ratios, ours / Agrona, messages/s%s" % suffix)
        w("")
        w("Above 1 means ours moved more messages per second.")
        w("")
        w("| threads | comparison | " + " | ".join("%d B" % p for p in payloads) + " |")
        w("| --- | --- | " + " | ".join("---" for _ in payloads) + " |")
        for topology, ours, peer, label in PAIRS:
            cells = []
            present = False
            for p in payloads:
                a = rows.get((topology, ours, p, idle))
                b = rows.get((topology, peer, p, idle))
                if a and b:
                    present = True
                    cells.append(fmt_ratio(a["sent"], a["sent_err"], b["sent"], b["sent_err"]))
                else:
                    cells.append("n/a")
            if present:
                w("| %s | %s | %s |" % (TOPOLOGIES[topology], label, " | ".join(cells)))
        w("")
        w("## Absolute, millions of messages/s sent%s" % suffix)
        w("")
        w("`recv/sent` should be about 1.00; `full` and `empty` are failed attempts per second (millions);")
        w("`B/msg` is heap allocation per message sent, from `gc.alloc.rate.norm` (JMH's own bookkeeping")
        w("included: it allocates a few KB/s whatever the ring does, so any allocation on the message path")
        w("would show as 16 B/msg or more; 0.00x means none).")
        w("")
        w("| threads | benchmark | payload | sent (M/s) | recv/sent | full (M/s) | empty (M/s) | overflowed | B/msg |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for topology in TOPOLOGIES:
            for group in GROUPS:
                for p in payloads:
                    r = rows.get((topology, group, p, idle))
                    if not r:
                        continue
                    ratio = r["received"] / r["sent"] if r["sent"] > 0 else float("nan")
                    w("| %s | %s | %d | %s | %s | %s | %s | %s | %s |" % (
                        TOPOLOGIES[topology], GROUPS[group], p, fmt_rate(r["sent"], r["sent_err"]),
                        fmt_num(ratio), fmt_rate(r["full"]), fmt_rate(r["empty"]),
                        fmt_num(r["overflowed"], 0), fmt_num(r["bytes_per_msg"], 3)))
        w("")
    problems = [(k, r) for k, r in sorted(rows.items()) if r["overflowed"] > 0]
    if problems:
        w("## Warnings")
        w("")
        for k, r in problems:
            w("- %s.%s payload %d: %.0f offers/s went through the overflow list; the offer rows are not pure "
              "ring-path numbers." % (k[0], k[1], k[2], r["overflowed"]))
        w("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", required=True, help="JMH result file (-rf json)")
    ap.add_argument("--out", required=True, help="Markdown file to write")
    ap.add_argument("--command", required=True, help="the exact command that produced the JSON")
    ap.add_argument("--date", required=True)
    ap.add_argument("--nproc", required=True)
    ap.add_argument("--loadavg", default="")
    ap.add_argument("--smoke", action="store_true", help="mark the file as a smoke run, not a result")
    args = ap.parse_args()
    data, rows = load(args.json)
    if not rows:
        sys.exit("report.py: no io.syslet.benches results in " + args.json)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    args.json_display = os.path.relpath(os.path.abspath(args.json), os.path.dirname(out_dir))
    with open(args.out, "w") as f:
        f.write(render(data, rows, args) + "\n")


if __name__ == "__main__":
    main()
