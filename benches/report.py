#!/usr/bin/env python3
"""Turns the JMH JSON result file of benches/run into benches/RESULTS.md.

Standard library only. Two families of results, each in its own sections:

- Ring benchmarks (io.syslet.benches.<Topology>.<group>): the figure compared is the `sent` auxiliary
  counter, messages per second that producers put into the ring. The group's primary JMH score adds up
  every invocation of every method in the group, failed and empty attempts included, so it is not used.
- Engine benchmarks (io.syslet.benches.engine.<Class>.<method>[params]): the primary score, completed
  ops per second (a batch method counts each of its ops), except NanosleepBatch, whose score is the
  time of one whole batch (ms). CachedPread's section prints issue 4's targets next to the measured
  ratios; CompoundEvents' records the cost of the compound-event layer over the raw path (issue 5).
"""

import argparse
import json
import math
import os
import sys
from collections import OrderedDict

PACKAGE = "io.syslet.benches."
ENGINE_PACKAGE = PACKAGE + "engine."
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


# Two-sided 99.9% Student t quantiles (JMH's error bars), by degrees of freedom; 3.29 is the normal limit.
T_999 = {1: 636.62, 2: 31.60, 3: 12.92, 4: 8.61, 5: 6.87, 6: 5.96, 7: 5.41, 8: 5.04, 9: 4.78, 10: 4.59,
         11: 4.44, 12: 4.32, 13: 4.22, 14: 4.14, 15: 4.07, 16: 4.01, 17: 3.97, 18: 3.92, 19: 3.88, 20: 3.85,
         25: 3.73, 30: 3.65, 40: 3.55, 60: 3.46, 120: 3.37}


def t_999(df):
    """The t quantile for df degrees of freedom: the table's entry at or below df (slightly wide)."""
    if df < 1:
        return float("nan")
    return T_999[max(k for k in T_999 if k <= df)] if df <= 120 else 3.29


def mean_and_error(values, weights):
    """Mean and 99.9% confidence half-width of weighted values (weights: counts of each value)."""
    n = sum(weights)
    if n == 0:
        return float("nan"), float("nan")
    mean = sum(v * c for v, c in zip(values, weights)) / n
    if n < 2:
        return mean, float("nan")
    var = sum(c * (v - mean) ** 2 for v, c in zip(values, weights)) / (n - 1)
    return mean, t_999(n - 1) * math.sqrt(var / n)


def merge_metric(metrics):
    """One JMH metric from the same metric of several rounds: every round's forks, score and error
    recomputed over all of their iterations (or samples), as JMH computes them over its forks."""
    merged = dict(metrics[0])
    histograms = [fork for m in metrics for fork in (m.get("rawDataHistogram") or [])]
    raw = [fork for m in metrics for fork in (m.get("rawData") or [])]
    if histograms:
        merged["rawDataHistogram"] = histograms
        pairs = [(float(v), int(c)) for fork in histograms for it in fork for v, c in it]
    else:
        merged["rawData"] = raw
        pairs = [(float(v), 1) for fork in raw for v in fork]
    score, error = mean_and_error([v for v, _ in pairs], [c for _, c in pairs])
    ordered = sorted(pairs)
    total = sum(c for _, c in ordered)
    percentiles = OrderedDict()
    for key in metrics[0].get("scorePercentiles", {}):
        rank, seen = float(key) / 100.0 * total, 0
        for v, c in ordered:
            seen += c
            if seen >= rank:
                percentiles[key] = v
                break
    merged["scorePercentiles"] = percentiles
    merged["score"] = score
    merged["scoreError"] = error if not math.isnan(error) else "NaN"
    return merged


def merge_rounds(rounds):
    """JMH results of several rounds (each one pass over the same benchmarks, in the same order) as one
    result list, as if each benchmark had run all of the rounds' forks. A round sees every benchmark of
    the suite within one pass, so a machine that runs slower for some minutes (other guests on the host)
    lands on both sides of a comparison instead of on one benchmark's forks."""
    if len(rounds) == 1:
        return rounds[0]
    def key(r):
        return r["benchmark"], json.dumps(r.get("params", {}), sort_keys=True)
    by_key = OrderedDict()
    for data in rounds:
        for r in data:
            by_key.setdefault(key(r), []).append(r)
    merged = []
    for results in by_key.values():
        out = dict(results[0])
        out["forks"] = sum(int(r.get("forks", 1)) for r in results)
        out["primaryMetric"] = merge_metric([r["primaryMetric"] for r in results])
        names = OrderedDict((n, None) for r in results for n in r.get("secondaryMetrics", {}))
        out["secondaryMetrics"] = OrderedDict(
            (n, merge_metric([r["secondaryMetrics"][n] for r in results if n in r.get("secondaryMetrics", {})]))
            for n in names)
        merged.append(out)
    return merged


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


def load(data):
    """(topology, group, payload, idle) -> the figures of one ring benchmark group."""
    rows = {}
    for r in data:
        name = r["benchmark"]
        if not name.startswith(PACKAGE) or name.startswith(ENGINE_PACKAGE):
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
    return rows


def pkey(**params):
    """The canonical form of a benchmark's JMH parameters, "" when it has none: "attrs=none,depth=1"."""
    return ",".join("%s=%s" % (k, params[k]) for k in sorted(params))


def load_engine(data):
    """(class, method, pkey(params)) -> the figures of one engine benchmark."""
    rows = {}
    for r in data:
        name = r["benchmark"]
        if not name.startswith(ENGINE_PACKAGE):
            continue
        cls, method = name[len(ENGINE_PACKAGE):].split(".", 1)
        primary = r["primaryMetric"]
        err = primary.get("scoreError")
        err = float(err) if isinstance(err, (int, float)) else float("nan")
        percentiles = {float(k): float(v) for k, v in primary.get("scorePercentiles", {}).items()}
        samples = 0
        for fork in primary.get("rawDataHistogram", []) or []:
            for iteration in fork:
                samples += sum(int(count) for _, count in iteration)
        rows[(cls, method, pkey(**r.get("params", {})))] = {
            "score": float(primary["score"]),
            "error": err,
            "unit": primary.get("scoreUnit", ""),
            "percentiles": percentiles,
            "samples": samples,
            "bytes_per_op": metric(r, "gc.alloc.rate.norm")[0],
            "alloc_rate": metric(r, "gc.alloc.rate")[0],
            "result": r,
        }
    return rows


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


def per_round(ratios):
    """(median, "a, b, c; median m") of a comparison's ratios, one per round, each taken between two
    benchmarks of the same pass over the suite: a round in which the machine ran one of them slow (other
    guests on the host) moves one of these, where it drags the pooled ratio, so the median is the
    steadier figure. None when there were not several rounds."""
    present = [r for r in ratios if not math.isnan(r)]
    if len(present) < 2:
        return None
    ordered = sorted(present)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    # A round that lacks either side shows as n/a: the median is then over fewer rounds, and says so.
    return median, "%s; median %.2f" % (", ".join("n/a" if math.isnan(r) else "%.2f" % r for r in ratios), median)


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


def settings(results):
    """JMH warm-up and measurement of a family of results, as one phrase (they share annotations)."""
    seen = []
    for r in results:
        s = "warm-up %s × %s, measurement %s × %s" % (r.get("warmupIterations", "?"), r.get("warmupTime", "?"),
                                                     r.get("measurementIterations", "?"),
                                                     r.get("measurementTime", "?"))
        if s not in seen:
            seen.append(s)
    return "; ".join(seen) if seen else "?"


def render(data, rows, engine, args):
    first = data[0] if data else {}
    out = []
    w = out.append
    w("# Benchmarks: ours vs the peers")
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
    w("| JMH | %s, forks %s%s, `-prof gc`; iterations per section below |" % (
        first.get("jmhVersion", "?"), first.get("forks", "?"),
        " (%d rounds of 1 fork, one pass over the suite each)" % args.rounds if args.rounds > 1 else ""))
    w("| JVM flags | `%s` |" % " ".join(first.get("jvmArgs", [])))
    if args.loadavg:
        w("| load average (1/5/15 min) before / after | %s |" % args.loadavg)
    w("| command | `%s` |" % args.command.replace("|", "\\|"))
    w("| raw results | `%s` |" % args.json_display)
    w("")
    if rows:
        render_ring(w, [r for r in data if not r["benchmark"].startswith(ENGINE_PACKAGE)], rows, args)
    if engine:
        render_engine(w, engine, args)
    return "\n".join(out)


def ring_ratio_table(w, payloads, cell):
    """One row per comparison in PAIRS, one column per payload; cell(topology, ours, peer, payload) gives
    the text of a cell, None where a side is missing (a row with no cell at all is left out)."""
    w("| threads | comparison | " + " | ".join("%d B" % p for p in payloads) + " |")
    w("| --- | --- | " + " | ".join("---" for _ in payloads) + " |")
    for topology, ours, peer, label in PAIRS:
        cells = [cell(topology, ours, peer, p) for p in payloads]
        if any(c is not None for c in cells):
            w("| %s | %s | %s |" % (TOPOLOGIES[topology], label, " | ".join(c or "n/a" for c in cells)))
    w("")


def render_ring(w, results, rows, args):
    payloads = sorted({k[2] for k in rows})
    idles = sorted({k[3] for k in rows})
    w("## Ring: ours vs Agrona")
    w("")
    w("JMH %s, throughput mode. Only these: `benches/run%s 'io.syslet.benches.(One|Two)'`." % (
        settings(results), " --smoke" if args.smoke else ""))
    w("")
    w("### What is measured")
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
        w("### Ratios, ours / Agrona, messages/s%s" % suffix)
        w("")
        w("Above 1 means ours moved more messages per second.")
        w("")
        def pooled(topology, ours, peer, p):
            a = rows.get((topology, ours, p, idle))
            b = rows.get((topology, peer, p, idle))
            return fmt_ratio(a["sent"], a["sent_err"], b["sent"], b["sent_err"]) if a and b else None

        def paired(topology, ours, peer, p):
            ratios = []
            for round_rows in args.round_rows:
                a = round_rows.get((topology, ours, p, idle))
                b = round_rows.get((topology, peer, p, idle))
                ratios.append(a["sent"] / b["sent"] if a and b and b["sent"] > 0 else float("nan"))
            found = per_round(ratios)
            return found[1] if found else None

        ring_ratio_table(w, payloads, pooled)
        if args.round_rows:
            w("Per round: the same ratios within each pass over the suite, and their median (a round in which")
            w("the machine ran one side slow moves one of them, where it drags the pooled ratio above):")
            w("")
            ring_ratio_table(w, payloads, paired)
        w("### Absolute, millions of messages/s sent%s" % suffix)
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
        w("### Warnings")
        w("")
        for k, r in problems:
            w("- %s.%s payload %d: %.0f offers/s went through the overflow list; the offer rows are not pure "
              "ring-path numbers." % (k[0], k[1], k[2], r["overflowed"]))
        w("")


ENGINE_PREAD = "CachedPread"
ENGINE_ROUND_TRIP = "GetppidRoundTrip"
ENGINE_SLEEP = "NanosleepBatch"
ENGINE_COMPOUND = "CompoundEvents"
DEPTHS = ("1", "32")
IMMEDIATE = OrderedDict([("on", "immediate path on"), ("off", "immediate path off (pool path)")])
ATTRS = OrderedDict([("none", "no attributes"), ("latency_cache", "LATENCY + CACHE")])


def pread(immediate, attrs, depth):
    return (ENGINE_PREAD, "syslet", pkey(attrs=attrs, depth=depth, immediate=immediate))


def afc(depth):
    return (ENGINE_PREAD, "afc", pkey(depth=depth))


def pread_eventfd(immediate, depth):
    return (ENGINE_PREAD, "syslet_eventfd", pkey(depth=depth, immediate=immediate))


JNR_PREAD = (ENGINE_PREAD, "jnr_sync", "")
JNR_PREAD_NOWAIT = (ENGINE_PREAD, "jnr_sync_nowait", "")
JNR_PREAD_ALL_CORES = (ENGINE_PREAD, "jnr_sync_all_cores", "")
JNR_PREAD_NOWAIT_2_CLOCKS = (ENGINE_PREAD, "jnr_sync_nowait_2_clocks", "")
JNR_PREAD_NOWAIT_3_CLOCKS = (ENGINE_PREAD, "jnr_sync_nowait_3_clocks", "")


def bare_pool(depth):
    return (ENGINE_PREAD, "bare_pool", pkey(depth=depth, workers="4"))


def plain(cls, method):
    return (cls, method, "")


def engine_labels():
    """Every engine benchmark, in the order the tables list them, with what it is."""
    labels = OrderedDict()
    for depth in DEPTHS:
        for immediate, immediate_label in IMMEDIATE.items():
            for attrs, attrs_label in ATTRS.items():
                labels[pread(immediate, attrs, depth)] = "engine, %s, %s, depth %s" % (
                    immediate_label, attrs_label, depth)
        for immediate, immediate_label in IMMEDIATE.items():
            labels[pread_eventfd(immediate, depth)] = "engine, %s, no attributes, eventfd on, depth %s" % (
                immediate_label, depth)
        labels[afc(depth)] = "AsynchronousFileChannel, depth %s" % depth
        labels[bare_pool(depth)] = ("bare pool: JNR preads handed to 4 spinning workers and back through two Agrona "
                                    "queues, nothing else, depth %s" % depth)
    labels[JNR_PREAD] = "JNR pread on the calling thread (the limit)"
    labels[JNR_PREAD_NOWAIT] = "JNR preadv2(RWF_NOWAIT) on the calling thread (the immediate path's call, bare)"
    labels[JNR_PREAD_NOWAIT_2_CLOCKS] = ("JNR preadv2(RWF_NOWAIT) between two clock readings (the least LATENCY + "
                                         "CACHE add to the immediate path's call)")
    labels[JNR_PREAD_NOWAIT_3_CLOCKS] = ("JNR preadv2(RWF_NOWAIT) between three clock readings (the least LATENCY + "
                                         "CACHE make of the pool path's pread)")
    labels[JNR_PREAD_ALL_CORES] = ("JNR pread on one thread per core into 32 shared blocks, all threads together "
                                   "(the limit of any pool at depth 32)")
    for method, label in [
        ("syslet_raw", "engine, RAW syscall(SYS_getppid), argument count not given"),
        ("syslet_raw_counted", "engine, RAW syscall(SYS_getppid), at most 1 argument declared"),
        ("syslet_nop", "engine, NOP"),
        ("completable_future", "CompletableFuture.supplyAsync(getppid, fixed pool).join()"),
        ("jnr_direct", "JNR getppid on the calling thread"),
    ]:
        labels[plain(ENGINE_ROUND_TRIP, method)] = label
    for method, label in [
        ("raw_16_nops", "raw: 16 NOPs, one submit, reap 16"),
        ("single_16_nops", "Completions: 16 single NOP nodes"),
        ("all_of_16_nops", "Completions: one all-of group of 16 NOPs"),
        ("raw_16_preads", "raw: 16 cached preads, one submit, reap 16"),
        ("single_16_preads", "Completions: 16 single pread nodes"),
        ("all_of_16_preads", "Completions: one all-of group of 16 preads"),
        ("raw_nop", "raw: one NOP round trip"),
        ("future_nop", "completions.future(NOP), poll, join"),
        ("raw_pread", "raw: one cached pread round trip"),
        ("future_pread", "completions.future(pread), join"),
    ]:
        labels[plain(ENGINE_COMPOUND, method)] = label
    labels[plain(ENGINE_SLEEP, "syslet")] = "engine, 64 unbounded workers"
    labels[plain(ENGINE_SLEEP, "thread_pool")] = "fixed pool of 64 threads, JNR nanosleep per task"
    return labels


ENGINE_LABELS = engine_labels()


def pread_targets():
    """Issue 4: (what, ours, peer, least ratio of ops/s that meets the target or None)."""
    rows = []
    for depth in DEPTHS:
        rows.append(("immediate path / JNR pread on the calling thread, depth %s" % depth,
                     pread("on", "none", depth), JNR_PREAD, 0.8))
    rows.append(("ceiling of the two above: JNR preadv2(RWF_NOWAIT) / JNR pread, both bare on the calling thread "
                 "(the immediate path must make the first call, so it cannot beat this ratio)",
                 JNR_PREAD_NOWAIT, JNR_PREAD, None))
    for depth in DEPTHS:
        rows.append(("immediate path / JNR preadv2(RWF_NOWAIT) on the calling thread, depth %s: what the path "
                     "adds around its call" % depth, pread("on", "none", depth), JNR_PREAD_NOWAIT, None))
    rows.append(("immediate path / AsynchronousFileChannel, depth 1", pread("on", "none", "1"), afc("1"), 20.0))
    rows.append(("immediate path / AsynchronousFileChannel, depth 32", pread("on", "none", "32"), afc("32"), 4.0))
    for depth in DEPTHS:
        rows.append(("ceiling of the two above: JNR pread / AsynchronousFileChannel, depth %s (the immediate path "
                     "reads on the submitting thread, so it cannot beat JNR pread there)" % depth,
                     JNR_PREAD, afc(depth), None))
    for immediate in IMMEDIATE:
        for depth in DEPTHS:
            rows.append(("attributes cost, %s, depth %s: LATENCY + CACHE / none" % (IMMEDIATE[immediate], depth),
                         pread(immediate, "latency_cache", depth), pread(immediate, "none", depth), 0.9))
    for depth in DEPTHS:
        rows.append(("immediate path, LATENCY + CACHE / JNR pread, depth %s" % depth,
                     pread("on", "latency_cache", depth), JNR_PREAD, None))
    for depth in DEPTHS:
        rows.append(("immediate path on / off (the pool path), depth %s" % depth,
                     pread("on", "none", depth), pread("off", "none", depth), None))
    for depth in DEPTHS:
        # Issue 3's target: the pool path at depth 32 at least twice the JDK's channel.
        rows.append(("pool path (immediate off) / AsynchronousFileChannel, depth %s" % depth,
                     pread("off", "none", depth), afc(depth), 2.0 if depth == "32" else None))
    rows.append(("ceiling of the row above: JNR pread on one thread per core into 32 shared blocks / "
                 "AsynchronousFileChannel, depth 32 (workers share the cores with the submitter, and each read "
                 "pays a hand-off and an event, so no pool reaches this ratio)",
                 JNR_PREAD_ALL_CORES, afc("32"), None))
    rows.append(("pool path (immediate off), depth 32 / its ceiling (JNR pread on one thread per core into 32 shared "
                 "blocks): the share of the machine's pread throughput the pool delivers",
                 pread("off", "none", "32"), JNR_PREAD_ALL_CORES, None))
    rows.append(("ceiling of a pool that hops threads: bare pool (two queues, spinning workers, nothing else) / "
                 "AsynchronousFileChannel, depth 32", bare_pool("32"), afc("32"), None))
    rows.append(("pool path (immediate off) / bare pool, depth 32: the share of a bare thread hop's throughput the "
                 "engine's pool path keeps", pread("off", "none", "32"), bare_pool("32"), None))
    for immediate in IMMEDIATE:
        for depth in DEPTHS:
            rows.append(("eventfd cost, %s, depth %s: eventfd on (the default setup) / off" % (
                IMMEDIATE[immediate], depth), pread_eventfd(immediate, depth), pread(immediate, "none", depth), None))
    return rows


# (section class, ours, peer, what the row means); ratios of ops/s, above 1 = the first is faster.
ENGINE_PAIRS = [
    (ENGINE_ROUND_TRIP, plain(ENGINE_ROUND_TRIP, "syslet_raw"), plain(ENGINE_ROUND_TRIP, "completable_future"),
     "engine RAW getppid / supplyAsync"),
    (ENGINE_ROUND_TRIP, plain(ENGINE_ROUND_TRIP, "syslet_raw_counted"), plain(ENGINE_ROUND_TRIP, "completable_future"),
     "engine RAW getppid, count declared / supplyAsync"),
    (ENGINE_ROUND_TRIP, plain(ENGINE_ROUND_TRIP, "syslet_nop"), plain(ENGINE_ROUND_TRIP, "completable_future"),
     "engine NOP / supplyAsync"),
    (ENGINE_ROUND_TRIP, plain(ENGINE_ROUND_TRIP, "syslet_raw_counted"), plain(ENGINE_ROUND_TRIP, "syslet_raw"),
     "engine RAW getppid, count declared / not given"),
    (ENGINE_ROUND_TRIP, plain(ENGINE_ROUND_TRIP, "syslet_raw"), plain(ENGINE_ROUND_TRIP, "jnr_direct"),
     "engine RAW getppid / JNR getppid on the calling thread"),
    (ENGINE_COMPOUND, plain(ENGINE_COMPOUND, "single_16_nops"), plain(ENGINE_COMPOUND, "raw_16_nops"),
     "16 NOPs: Completions single nodes / raw (the layer's cost)"),
    (ENGINE_COMPOUND, plain(ENGINE_COMPOUND, "all_of_16_nops"), plain(ENGINE_COMPOUND, "single_16_nops"),
     "16 NOPs: all-of group / Completions single nodes (the group's cost)"),
    (ENGINE_COMPOUND, plain(ENGINE_COMPOUND, "all_of_16_nops"), plain(ENGINE_COMPOUND, "raw_16_nops"),
     "16 NOPs: all-of group / raw"),
    (ENGINE_COMPOUND, plain(ENGINE_COMPOUND, "single_16_preads"), plain(ENGINE_COMPOUND, "raw_16_preads"),
     "16 cached preads: Completions single nodes / raw (the layer's cost)"),
    (ENGINE_COMPOUND, plain(ENGINE_COMPOUND, "all_of_16_preads"), plain(ENGINE_COMPOUND, "single_16_preads"),
     "16 cached preads: all-of group / Completions single nodes (the group's cost)"),
    (ENGINE_COMPOUND, plain(ENGINE_COMPOUND, "all_of_16_preads"), plain(ENGINE_COMPOUND, "raw_16_preads"),
     "16 cached preads: all-of group / raw"),
    (ENGINE_COMPOUND, plain(ENGINE_COMPOUND, "future_nop"), plain(ENGINE_COMPOUND, "raw_nop"),
     "one NOP: CompletableFuture adapter / raw round trip"),
    (ENGINE_COMPOUND, plain(ENGINE_COMPOUND, "future_pread"), plain(ENGINE_COMPOUND, "raw_pread"),
     "one cached pread: CompletableFuture adapter / raw round trip"),
]
MODES = {"thrpt": "throughput", "sample": "sample-time"}
SLEEP_OPS = 10000
SLEEP_IDEAL_MS = SLEEP_OPS * 1.0 / 64
# An allocation per op is one object at least, 16 bytes; below this, what -prof gc sees is JMH's background
# allocation and the worker pool's occasional lock-queue nodes (README, Allocation), not the op's.
ZERO_BYTES_PER_OP = 4.0


def attribute_cost_floors():
    """(path, immediate, depth, the bare call with the least LATENCY + CACHE add, the bare call it
    replaces): the immediate path keeps its preadv2 and adds two clock readings; the pool path's pread
    becomes the cache's preadv2 and three readings."""
    rows = []
    for immediate, floor, bare in [("on", JNR_PREAD_NOWAIT_2_CLOCKS, JNR_PREAD_NOWAIT),
                                   ("off", JNR_PREAD_NOWAIT_3_CLOCKS, JNR_PREAD)]:
        for depth in DEPTHS:
            rows.append(("%s, depth %s" % (IMMEDIATE[immediate], depth), immediate, depth, floor, bare))
    return rows


def least_added_nanos(engine, floor, bare):
    a, b = engine.get(floor), engine.get(bare)
    if not a or not b or a["score"] <= 0 or b["score"] <= 0:
        return float("nan")
    return 1e9 / a["score"] - 1e9 / b["score"]


def cost_ceiling(engine, immediate, depth, floor, bare):
    """The best attributes cost (reads/s with / without) the path could show if LATENCY + CACHE added
    only the least they must: its time per read without attributes, against that time plus the least."""
    added = least_added_nanos(engine, floor, bare)
    b = engine.get(pread(immediate, "none", depth))
    if math.isnan(added) or not b or b["score"] <= 0:
        return float("nan")
    t = 1e9 / b["score"]
    return t / (t + added)


def attribute_floor_table(w, engine, args):
    rounds = args.round_engines
    w("| path | least LATENCY + CACHE add per read (ns) | ceiling of the attributes cost (pooled) | per round "
      "| attributes cost measured (pooled) |")
    w("| --- | --- | --- | --- | --- |")
    for label, immediate, depth, floor, bare in attribute_cost_floors():
        ceiling = cost_ceiling(engine, immediate, depth, floor, bare)
        if math.isnan(ceiling):
            continue
        paired = per_round([cost_ceiling(e, immediate, depth, floor, bare) for e in rounds]) if rounds else None
        measured = ratio(engine, pread(immediate, "latency_cache", depth), pread(immediate, "none", depth))
        w("| %s | %.0f | %.2f | %s | %s |" % (label, least_added_nanos(engine, floor, bare), ceiling,
                                             paired[1] if paired else "n/a", measured[1] if measured else "n/a"))
    w("")


def engine_results(engine, cls):
    return [r["result"] for k, r in engine.items() if k[0] == cls]


def ratio(engine, ours, peer):
    """(ratio, formatted with its error) of two benchmarks' ops/s, or None if either is missing."""
    a, b = engine.get(ours), engine.get(peer)
    if not a or not b:
        return None
    r = a["score"] / b["score"] if b["score"] > 0 else float("nan")
    return r, fmt_ratio(a["score"], a["error"], b["score"], b["error"])


def engine_ratio_table(w, engine, cls):
    w("| comparison | ratio of ops/s |")
    w("| --- | --- |")
    for pair_cls, ours, peer, label in ENGINE_PAIRS:
        if pair_cls != cls:
            continue
        found = ratio(engine, ours, peer)
        if found:
            w("| %s | %s |" % (label, found[1]))
    w("")


def met(value, least):
    if least is None:
        return "", ""
    if math.isnan(value):
        return ">= %g" % least, "n/a"
    return ">= %g" % least, "yes" if value >= least else "**no**"


def round_ratio(engine, ours, peer):
    found = ratio(engine, ours, peer)
    return found[0] if found else float("nan")


def pread_target_table(w, engine, args):
    rounds = args.round_engines
    if rounds:
        w("| comparison | measured (all rounds pooled) | per round | target | met |")
        w("| --- | --- | --- | --- | --- |")
    else:
        w("| comparison | measured | target | met |")
        w("| --- | --- | --- | --- |")
    for label, ours, peer, least in pread_targets():
        found = ratio(engine, ours, peer)
        if not found:
            continue
        if not rounds:
            target, ok = met(found[0], least)
            w("| %s | %s | %s | %s |" % (label, found[1], target, ok))
            continue
        paired = per_round([round_ratio(e, ours, peer) for e in rounds])
        # Met only if both estimates reach it: one slow round must not carry a target. With fewer than two
        # rounds that have both sides there is no median, and the row cannot be met.
        target, ok = met(min(found[0], paired[0]) if paired else float("nan"), least)
        w("| %s | %s | %s | %s | %s |" % (label, found[1], paired[1] if paired else "n/a", target, ok))
    w("")


def bytes_target_table(w, engine, cls, method_prefix):
    """B/op of the engine's own paths of one class against the target 0 (below ZERO_BYTES_PER_OP)."""
    w("| benchmark | B/op | target | met |")
    w("| --- | --- | --- | --- |")
    for key, label in ENGINE_LABELS.items():
        r = engine.get(key)
        if key[0] != cls or not key[1].startswith(method_prefix) or not r:
            continue
        b = r["bytes_per_op"]
        ok = "n/a" if math.isnan(b) else ("yes" if b < ZERO_BYTES_PER_OP else "**no**")
        w("| %s | %s | 0 | %s |" % (label, fmt_num(b, 3), ok))
    w("")


def fmt_thousands(v, err=float("nan")):
    if math.isnan(v):
        return "n/a"
    s = "%.1f" % (v / 1e3)
    if not math.isnan(err):
        s += " ± %.1f" % (err / 1e3)
    return s


def engine_throughput_table(w, engine, cls, what, one):
    # Time per op on one of the benchmark's threads: a score is all its threads' ops together.
    w("| benchmark | thousand %s/s | µs per %s, per thread | B/op |" % (what, one))
    w("| --- | --- | --- | --- |")
    for key, label in ENGINE_LABELS.items():
        r = engine.get(key)
        if key[0] != cls or not r:
            continue
        threads = int(r["result"].get("threads", 1))
        w("| %s | %s | %s | %s |" % (label, fmt_thousands(r["score"], r["error"]),
                                    fmt_num(threads * 1e6 / r["score"] if r["score"] > 0 else float("nan")),
                                    fmt_num(r["bytes_per_op"], 3)))
    w("")


def engine_section_head(w, engine, cls, title, args):
    w("## %s" % title)
    w("")
    mode = engine_results(engine, cls)[0].get("mode", "?")
    w("JMH %s, %s mode. Only these: `benches/run%s 'engine.%s'`." % (
        settings(engine_results(engine, cls)), MODES.get(mode, mode), " --smoke" if args.smoke else "", cls))
    w("")


def render_pread(w, engine, args):
    engine_section_head(w, engine, ENGINE_PREAD, "Engine: cached 4 KiB random pread (issue 4: the immediate path)", args)
    w("A 64 MiB temp file, read through once so it is in the page cache; each read takes a random 4 KiB-")
    w("aligned offset from a precomputed table. One completed read per JMH invocation, so the score is")
    w("reads per second. Depth = reads kept in flight by the one benchmark thread, which submits and reaps.")
    w("")
    w("- Engine: pread iocbs from a reused `IocbWriter` into a registered buffer (4 KiB per read in")
    w("  flight), events reaped by `getEvents` into a reused buffer; the replacements for the events of")
    w("  one reap go out in one submit before the next reap. %d bounded workers, no eventfd." % 4)
    w("  - immediate path on (the default setup): a cached read completes inside that submit, on the")
    w("    benchmark thread (`preadv2(RWF_NOWAIT)`), its event flagged IMMEDIATE; off (`FLAG_NO_IMMEDIATE`):")
    w("    every read goes through the engine's worker pool. The tear-down fails the run if off saw an")
    w("    IMMEDIATE event or on saw fewer than 90% of them.")
    w("  - attributes: none, or LATENCY + CACHE listed on every iocb; each event is checked to carry both")
    w("    (64 bytes of TLVs, status OK).")
    w("  - eventfd on (`syslet_eventfd`, no attributes): the same with the eventfd of the default setup. The")
    w("    engine signals it when an event lands where reapers stand (a ring they had emptied), not once per")
    w("    event; the benchmark never reads it, so each signal is a write(2) that buys nothing here.")
    w("- Peer: the JDK's `AsynchronousFileChannel` on a fixed pool of as many threads (4),")
    w("  `read(directBuffer, position, attachment, handler)`: the `CompletionHandler` hands each read back")
    w("  through a queue that the benchmark thread polls (spinning, then yielding, as the engine's")
    w("  `getEvents` does before it sleeps), taking whichever read completed first and reissuing it. It has")
    w("  no attributes and no immediate path: one run per depth.")
    w("- Limit: `Natives.LIBC.pread` into a direct buffer on the calling thread: no queue, no thread hop.")
    w("- Limit of any pool at depth 32: the same pread on one thread per core (`@Threads(MAX)`), each read into")
    w("  whichever of 32 shared blocks a counter names next, as a pool's workers take whichever op comes next.")
    w("  A copy into a block another core wrote last costs more than into one this core owns; a pool pays that")
    w("  too. The score is all threads' reads/s together.")
    w("")
    w("### Ratios and the issues' targets (issue 4; issue 3's pool path at depth 32)")
    w("")
    w("Ratios of reads/s, above 1 = the first is faster; attributes cost = reads/s with LATENCY + CACHE /")
    w("without (0.9 = at most 10% slower). The ± is the 99.9% confidence half-widths of both measurements")
    w("combined. \"met\" compares the point estimate with the target; with several rounds, \"per round\" gives")
    w("the ratio within each pass over the suite and their median, and \"met\" needs both the pooled ratio")
    w("and that median to reach the target.")
    w("")
    pread_target_table(w, engine, args)
    w("The floor of the attributes cost. LATENCY needs the monotonic clock read around the call (on the")
    w("immediate path twice: start, which is also its submit time, and end, also its publication time; on")
    w("the pool path three times: submit, start, and end, also its publication time), and CACHE needs")
    w("the evidence of a `preadv2(RWF_NOWAIT)`, which the immediate path makes anyway and the pool path")
    w("makes in place of its pread. The same bare JNR calls with those readings around them, against the")
    w("bare call they replace,")
    w("give the least the two attributes add to a read; with the path's own time per read without")
    w("attributes, that is the best attributes cost any implementation of the path could show here:")
    w("")
    attribute_floor_table(w, engine, args)
    w("Bytes per read of the engine (target 0: below %g B/op, less than one object per %d reads):" % (
        ZERO_BYTES_PER_OP, int(16 / ZERO_BYTES_PER_OP)))
    w("")
    bytes_target_table(w, engine, ENGINE_PREAD, "syslet")
    w("### Absolute")
    w("")
    engine_throughput_table(w, engine, ENGINE_PREAD, "reads", "read")


def render_round_trip(w, engine, args):
    engine_section_head(w, engine, ENGINE_ROUND_TRIP, "Engine: getppid round trip", args)
    w("One trivial syscall run on another thread and its result brought back: submit one op, wait for")
    w("its event, check the result, per invocation. The engine runs it as a RAW iocb (`syscall(110)` on")
    w("x86_64), with the argument count not given or declared (at most 1), or, to show its cost without a")
    w("syscall, as a NOP; all on 4 workers, no eventfd. The peer is")
    w("`CompletableFuture.supplyAsync(() -> LIBC.getppid(), fixedPool).join()` with a fixed pool of 4.")
    w("The sides wait differently, and that is most of the ratio: the engine's `getEvents` spins up to 10 µs")
    w("before it sleeps and its workers yield before they park, while `join()` parks the caller at once and")
    w("the pool's threads park in `LinkedBlockingQueue.take`: two futex wakes per peer round trip.")
    w("")
    w("### Ratios")
    w("")
    w("Above 1 means the first is faster.")
    w("")
    engine_ratio_table(w, engine, ENGINE_ROUND_TRIP)
    w("### Absolute")
    w("")
    engine_throughput_table(w, engine, ENGINE_ROUND_TRIP, "round trips", "round trip")
    raw = engine.get(plain(ENGINE_ROUND_TRIP, "syslet_raw"))
    if raw and raw["bytes_per_op"] >= 8:
        w("RAW without an argument count allocates: the engine calls libc's `syscall(number, a0..a5)`, 7")
        w("native parameters, and JNR-FFI's allocation-free call paths stop at 6, so every such op builds a")
        w("jffi `HeapInvocationBuffer` (72 B). With a declared count of at most 4 (aux bits 24..31) the engine")
        w("calls `syscall(number, a0..a3)`, which JNR-FFI's generated stub runs without allocating.")
        w("")


def render_compound(w, engine, args):
    engine_section_head(w, engine, ENGINE_COMPOUND, "Engine: compound events (issue 5)", args)
    w("What the compound-event layer (`io.syslet.pool.compound.Completions`) costs over the raw submit /")
    w("reap path. Scores are ops/s throughout (a batch method counts its 16 ops). Both sides use the default")
    w("setup (immediate path on), 4 workers, no eventfd; the benchmark thread submits and reaps (the layer")
    w("with `poll`), so every callback runs on it.")
    w("")
    w("- NOPs hop to a worker; cached preads complete inside submit (the immediate path), so with them the")
    w("  layer's own work is all there is.")
    w("- raw: 16 iocbs in one submit, 16 events reaped and checked. Single nodes: 16")
    w("  `completions.submit(op)` (the layer submits each op on its own), polled until each has settled.")
    w("  All-of: one `allOf()` group with 16 op children, started, polled until settled, its result (the")
    w("  sum) checked. single / raw is the layer's cost, all-of / single the group's.")
    w("- One op: a raw round trip vs `completions.future(op)`, polled until done, then `join()`.")
    w("")
    w("### Ratios")
    w("")
    w("Above 1 means the first is faster.")
    w("")
    engine_ratio_table(w, engine, ENGINE_COMPOUND)
    w("### Absolute")
    w("")
    w("`B/op` is per op (per child for the batches). The layer allocates per op by design (nodes,")
    w("callbacks, a copy of each event); the raw path allocates nothing.")
    w("")
    engine_throughput_table(w, engine, ENGINE_COMPOUND, "ops", "op")


def render_sleep(w, engine, args):
    engine_section_head(w, engine, ENGINE_SLEEP, "Engine: 10,000 × nanosleep(1 ms) on 64 workers", args)
    w("Wall time of one batch: submit %d sleeps of 1 ms, wait until all are done. With 64 threads" % SLEEP_OPS)
    w("sleeping at once the ideal is %d × 1 ms / 64 = %.2f ms; efficiency = ideal / mean batch time." % (
        SLEEP_OPS, SLEEP_IDEAL_MS))
    w("Engine: NANOSLEEP iocbs submitted 256 per call, events reaped by `getEvents`, 64 unbounded")
    w("workers. Peer: a fixed pool of 64 threads, each task the same JNR `nanosleep`, a `CountDownLatch`.")
    w("Both sides' threads run with 1 ns timer slack (the engine's workers set it; the peer's pool sets it")
    w("as each thread starts): with the kernel's default 50 µs each 1 ms sleep lasts about 1.05 ms.")
    w("")
    w("| benchmark | mean (ms) | p50 | p90 | max | batches | efficiency | B/batch | B/sleep |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    efficiency = {}
    for key, label in ENGINE_LABELS.items():
        r = engine.get(key)
        if key[0] != ENGINE_SLEEP or not r:
            continue
        mean, err, pct = r["score"], r["error"], r["percentiles"]
        eff = SLEEP_IDEAL_MS / mean if mean > 0 else float("nan")
        eff_err = eff * err / mean if mean > 0 and not math.isnan(err) else float("nan")
        efficiency[key[1]] = (eff, eff_err)
        w("| %s | %s | %s | %s | %s | %d | %s | %s | %s |" % (
            label, fmt_num(mean) + ("" if math.isnan(err) else " ± " + fmt_num(err)),
            fmt_num(pct.get(50.0, float("nan"))), fmt_num(pct.get(90.0, float("nan"))),
            fmt_num(pct.get(100.0, float("nan"))), r["samples"],
            fmt_num(eff, 3) + ("" if math.isnan(eff_err) else " ± " + fmt_num(eff_err, 3)),
            fmt_num(r["bytes_per_op"], 0), fmt_num(r["bytes_per_op"] / SLEEP_OPS, 3)))
    w("")
    if "syslet" in efficiency and "thread_pool" in efficiency:
        (a, ea), (b, eb) = efficiency["syslet"], efficiency["thread_pool"]
        w("Efficiency ratio, engine / thread pool (= pool batch time / engine batch time; above 1 means")
        w("the engine finished the batch sooner): %s." % fmt_ratio(a, ea, b, eb))
        w("")


def raw_path(key):
    """True for the benchmarks of the engine's own allocation-free path (not its peers, not the layer)."""
    cls, method = key[0], key[1]
    if cls == ENGINE_COMPOUND:
        return method.startswith("raw_")
    return method.startswith("syslet")


def render_engine(w, engine, args):
    if any(k[0] == ENGINE_PREAD for k in engine):
        render_pread(w, engine, args)
    if any(k[0] == ENGINE_ROUND_TRIP for k in engine):
        render_round_trip(w, engine, args)
    if any(k[0] == ENGINE_COMPOUND for k in engine):
        render_compound(w, engine, args)
    if any(k[0] == ENGINE_SLEEP for k in engine):
        render_sleep(w, engine, args)
    w("## Allocation (engine sections)")
    w("")
    w("`B/op` is `gc.alloc.rate.norm` of `-prof gc`: bytes allocated by every thread of the JVM (the")
    w("workers and the peers' pool threads included) per JMH op. JMH's own threads allocate a few KB/s")
    w("whatever the benchmark does, which is about 0.01 to 0.5 B/op at these rates and 6 to 13 KB per")
    w("nanosleep batch; any allocation per op on a measured path would show as 16 B/op or more.")
    w("`benches/README.md` (Engine, Allocation) says where the engine's bytes come from, thread by thread.")
    per_op = lambda k, r: r["bytes_per_op"] / (SLEEP_OPS if k[0] == ENGINE_SLEEP else 1)
    heavy = [(k, r) for k, r in engine.items() if raw_path(k) and per_op(k, r) >= 8]
    if heavy:
        w("")
        w("Engine paths (the raw submit / reap path, not the compound layer) that allocate per op:")
        w("")
        for k, r in sorted(heavy):
            w("- %s.%s%s: %.1f B/op" % (k[0], k[1], " (" + k[2] + ")" if k[2] else "", per_op(k, r)))
    w("")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", required=True, action="append",
                    help="JMH result file (-rf json); once per round, merged (see merge_rounds)")
    ap.add_argument("--merged", help="where to write the merged results of several rounds, as JMH JSON")
    ap.add_argument("--out", required=True, help="Markdown file to write")
    ap.add_argument("--command", required=True, help="the exact command that produced the JSON")
    ap.add_argument("--date", required=True)
    ap.add_argument("--nproc", required=True)
    ap.add_argument("--loadavg", default="")
    ap.add_argument("--smoke", action="store_true", help="mark the file as a smoke run, not a result")
    args = ap.parse_args()
    rounds = []
    for path in args.json:
        with open(path) as f:
            rounds.append(json.load(f))
    data = merge_rounds(rounds)
    raw = args.json[0]
    if len(rounds) > 1 and args.merged:
        with open(args.merged, "w") as f:
            json.dump(data, f, indent=1)
        raw = args.merged
    rows = load(data)
    engine = load_engine(data)
    if not rows and not engine:
        sys.exit("report.py: no io.syslet.benches results in " + ", ".join(args.json))
    out_dir = os.path.dirname(os.path.abspath(args.out))
    args.json_display = os.path.relpath(os.path.abspath(raw), os.path.dirname(out_dir))
    args.rounds = len(rounds)
    # Each round's own figures, for ratios paired within a round (see per_round).
    args.round_rows = [load(r) for r in rounds] if len(rounds) > 1 else []
    args.round_engines = [load_engine(r) for r in rounds] if len(rounds) > 1 else []
    with open(args.out, "w") as f:
        f.write(render(data, rows, engine, args) + "\n")


if __name__ == "__main__":
    main()
