"""Write the benchmark report (Markdown tables, pass/fail checks) and its PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def checks(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(criterion, target, measured, passed) for each 'must show' of the issue that was measured."""
    out: list[tuple[str, str, str, bool | None]] = []
    s = r.get("serving")
    if s and s["levels"]:
        floor = s["floor_ms"]
        by_c = {row["concurrency"]: row for row in s["levels"]}
        if 1 in by_c:
            limit = 1.5 * floor + 3.0
            p50 = by_c[1]["p50_ms"]
            out.append(("/v1/search p50 at concurrency 1", f"≤ 1.5 × floor + 3 ms = {limit:.2f} ms",
                        f"{p50:.2f} ms (floor {floor:.2f} ms)", p50 <= limit))
        top = max(by_c)
        cores = r["machine"]["cores"]
        need = 0.8 * cores / (floor / 1000.0)
        configs = [{**by_c[top], "workers": 1}] + [w for w in s.get("workers", []) if w["concurrency"] == top]
        best = max(configs, key=lambda row: row["rps"])
        measured = ", ".join(f"{row['rps']:.0f} req/s with {row['workers']} worker process"
                             + ("es" if row["workers"] > 1 else "") for row in configs)
        out.append((f"throughput at concurrency {top}", f"≥ 80% × {cores} cores ÷ floor = {need:.0f} req/s",
                    measured, best["rps"] >= need))
        if "cpu_ms_per_req" in best:
            cpu = best["cpu_ms_per_req"]
            used = best["rps"] * cpu / 1000.0
            ceiling = cores / (cpu / 1000.0)
            out.append((f"the same, from the server's CPU time per request at concurrency {top} ({best['workers']} "
                        f"worker{'s' if best['workers'] > 1 else ''}: what {cores} free cores would serve)",
                        f"≥ {need:.0f} req/s", f"{ceiling:.0f} req/s ({cores} ÷ {cpu:.2f} ms; the measured run got "
                        f"{used:.2f} of {cores} cores)", ceiling >= need))
        errors = sum(row["errors"] for row in s["levels"]) + sum(w["errors"] for w in s.get("workers", []))
        out.append(("errors under load", "0", str(errors), errors == 0))
    i = r.get("indexing")
    if i:
        if "ratio_vs_torch_chunks" in i:
            out.append(("build throughput vs raw `model.encode` (torch) on the same chunks", "≥ 90%",
                        f"{100 * i['ratio_vs_torch_chunks']:.0f}% ({i['build_chunks_per_s']} vs "
                        f"{i['torch_encode_chunks_per_s']} chunks/s)", i["ratio_vs_torch_chunks"] >= 0.9))
        embedded = i.get("embedded", "chunks + sentences")
        out.append(("build throughput vs the same embedder encoding everything the build embeds "
                    f"({embedded})", "≥ 90%", f"{100 * i['ratio_vs_all']:.0f}%", i["ratio_vs_all"] >= 0.9))
        for key, what in (("cpu_ratio_vs_torch_chunks", "raw `model.encode` (torch) on the same chunks"),
                          ("cpu_ratio_vs_all", f"the same embedder encoding what the build embeds ({embedded})")):
            if key in i:
                out.append((f"build vs {what}, by CPU time (moves less with the machine's load)", "≥ 90%",
                            f"{100 * i[key]:.0f}%", i[key] >= 0.9))
        if "ratio_overhead" in i:
            out.append(("the same, from the build's non-embedding work (load-independent)", "≥ 90%",
                        f"{100 * i['ratio_overhead']:.1f}% ({i['overhead_s']:.2f} s besides {i['raw_all_s']:.1f} s "
                        "of encoding)", i["ratio_overhead"] >= 0.9))
        note = "; the build also embeds every sentence" if embedded.startswith("chunks") else ""
        out.append(("build throughput vs the same embedder encoding the chunks", "≥ 90%",
                    f"{100 * i['ratio_vs_chunks']:.0f}% ({i['build_chunks_per_s']} vs {i['raw_chunks_per_s']} "
                    f"chunks/s{note})", i["ratio_vs_chunks"] >= 0.9))
    sc = r.get("scale")
    if sc:
        big = max(sc["rows"], key=lambda row: row["n"])
        ok = big["p99_ms"] <= 20.0 and big["recall_at_10"] >= 0.95
        out.append((f"{big['n']:,} chunks: search p99 (no embedding) at recall@10 ≥ 0.95", "≤ 20 ms",
                    f"{big['p99_ms']:.2f} ms at recall@10 {big['recall_at_10']:.3f}", ok))
    return out


def kept_blocks(previous: str) -> str:
    """Sections other scripts maintain in the report (``<!-- name:start -->`` ... ``<!-- name:end -->``), verbatim."""
    import re

    found = re.finditer(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", previous, flags=re.S)
    return "\n\n".join(m.group(0) for m in found)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def plots(r: dict[str, Any], out: Path) -> list[str]:
    """PNG plots next to the report; returns their file names (none without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    names = []
    s = r.get("serving")
    if s and s["levels"]:
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
        cs = [row["concurrency"] for row in s["levels"]]
        for key, style in (("p50_ms", "o-"), ("p95_ms", "s--"), ("p99_ms", "^:")):
            a.plot(cs, [row[key] for row in s["levels"]], style, label=key.replace("_ms", ""))
        a.axhline(s["floor_ms"], color="grey", lw=1, label="floor (query embedding)")
        a.set(xscale="log", xticks=cs, xticklabels=[str(c) for c in cs], xlabel="concurrent clients",
              ylabel="latency (ms)", title="/v1/search latency")
        a.legend(fontsize=8)
        b.plot(cs, [row["rps"] for row in s["levels"]], "o-", label="1 worker")
        for w in s.get("workers", []):
            b.plot([w["concurrency"]], [w["rps"]], "D", label=f"{w['workers']} workers")
        b.axhline(r["machine"]["cores"] / (s["floor_ms"] / 1000.0), color="grey", lw=1,
                  label="cores ÷ floor")
        b.set(xscale="log", xticks=cs, xticklabels=[str(c) for c in cs], xlabel="concurrent clients",
              ylabel="requests / s", title="throughput")
        b.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "benchmarks-serving.png", dpi=110)
        plt.close(fig)
        names.append("benchmarks-serving.png")
    sc = r.get("scale")
    if sc:
        rows = sorted(sc["rows"], key=lambda row: row["n"])
        ns = [row["n"] for row in rows]
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
        a.plot(ns, [row["p50_ms"] for row in rows], "o-", label="p50 (index type by size)")
        a.plot(ns, [row["p99_ms"] for row in rows], "^:", label="p99")
        a.plot(ns, [row["exact_p50_ms"] for row in rows], "s--", label="exact flat scan, p50")
        a.set(xscale="log", yscale="log", xlabel="chunks", ylabel="ms (one query, one thread)",
              title="dense search latency")
        a.legend(fontsize=8)
        b.plot(ns, [row["rss_loaded_mb"] for row in rows], "o-", label="RSS after load")
        b.plot(ns, [row["rss_after_queries_mb"] for row in rows], "s--", label="RSS after queries")
        b.plot(ns, [row["disk_mb"] for row in rows], "^:", label="on disk")
        b.set(xscale="log", yscale="log", xlabel="chunks", ylabel="MiB", title="memory and disk")
        b.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "benchmarks-scale.png", dpi=110)
        plt.close(fig)
        names.append("benchmarks-scale.png")
    return names


def markdown(r: dict[str, Any], images: list[str]) -> str:
    m = r["machine"]
    parts = ["# Benchmarks: latency under load, build throughput, a million chunks", "",
             f"Generated by `{r['command']}` on {r['started']} in {r['minutes']:.1f} minutes. "
             "Numbers are medians over repeated runs; ratios are to floors measured in the same run.", "",
             "## Machine", "",
             f"- CPU: {m['cpu']}, **{m['cores']} cores**, {m['memory']} memory, Linux {m['kernel']}",
             f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
             f"- load generator: {r.get('serving', {}).get('tool', '-')} ({m.get('wrk') or 'wrk not installed'})",
             f"- load average (1/5/15 min) at the start {r['load_before']}, at the end {r['load_after']}: "
             "the machine is shared, so absolute numbers are noisy; the ratios are the point.",
             *([f"- this run's processes ran at nice {r['nice']} (raised priority) to approximate a dedicated "
                "machine among the other jobs"] if r.get("nice") else []),
             *[f"- the {m_['part']} numbers come from an earlier run ({m_['started']}, load {m_['load_before']} → "
               f"{m_['load_after']})" for m_ in r.get("merged", [])],
             f"- embedder: `{r['embedder']}` → {r.get('backend', '?')}" + (
                 f" (choice made when the ONNX export was first made: {r['embedder_reason']})"
                 if r.get("embedder_reason") else ""), ""]
    e = r.get("embedding")
    if e:
        parts[-1:-1] = [f"- query embedding, same run, median over {min(100, e['questions'])} questions: ONNX Runtime "
                        f"{e['onnx_query_ms']:.2f} ms (again at the end: {e['onnx_again_query_ms']:.2f} ms), torch "
                        f"{e['torch_query_ms']:.2f} ms; cosine ONNX vs torch on {e['questions']} questions: min "
                        f"{e['parity_min_cos']:.6f}, mean {e['parity_mean_cos']:.6f}"]
    found = checks(r)
    if found:
        parts += ["## Targets", "", _table(["what", "target", "measured", "met"],
                                           [[a, b, c, {True: "yes", False: "**no**", None: "-"}[d]]
                                            for a, b, c, d in found]), ""]
    s = r.get("serving")
    if s:
        parts += ["## Serving", "",
                  f"`/v1/search` (k=5, hybrid) on the indexing corpus below, {s['questions']} varied questions cycled, "
                  f"{s['repeats']} runs × {s['seconds']:.0f} s per level, closed loop ({s['tool']}). "
                  f"Floor = bare query embedding in the benchmark process: **{s['floor_ms']:.2f} ms** "
                  f"({s.get('floor_after_ms', s['floor_ms']):.2f} ms re-measured after the load); the same search "
                  f"without HTTP (embedding + retrieval) takes {s['in_process_ms']:.2f} ms. Server RSS "
                  f"{s.get('server_rss_mb', '?')} MiB after load.", "",
                  _table(["clients", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors", "p50 ÷ floor", "CPU ms/req",
                          "queries per embedding batch"],
                         [[row["concurrency"], f"{row['p50_ms']:.2f}", f"{row['p95_ms']:.2f}", f"{row['p99_ms']:.2f}",
                           f"{row['rps']:.0f}", row["errors"], f"{row['p50_ms'] / s['floor_ms']:.2f}",
                           f"{row['cpu_ms_per_req']:.2f}" if "cpu_ms_per_req" in row else "-",
                           row.get("queries_per_batch", "-")]
                          for row in s["levels"]]), ""]
        parts += _breakdown(s, m["cores"])
        if r.get("serving_notes"):
            parts += [r["serving_notes"], ""]
        if "benchmarks-serving.png" in images:
            parts += ["![latency and throughput against concurrency](benchmarks-serving.png)", ""]
        if s.get("workers"):
            one = max(s["levels"], key=lambda row: row["concurrency"])
            parts += ["### Several workers sharing one index", "",
                      "```bash\nrag build --corpus corpus --index index\n"
                      "RAG_INDEX_DIR=index uvicorn --factory rag.workers:app --workers 2 --host 127.0.0.1 --port 8000\n"
                      "```", "",
                      "Each worker loads the generation itself; the FAISS files and vectors are memory-mapped, so "
                      "the page cache holds one copy for all of them, while BM25 arrays and the ONNX model are "
                      "per worker. After a rebuild, restart the workers to serve the new generation.", "",
                      _table(["workers", "clients", "req/s", "gain", "p50 ms", "p99 ms", "errors", "CPU ms/req",
                              "RSS MiB (sum)"],
                             [[1, one["concurrency"], f"{one['rps']:.0f}", "1.00", f"{one['p50_ms']:.2f}",
                               f"{one['p99_ms']:.2f}", one["errors"], f"{one.get('cpu_ms_per_req', float('nan')):.2f}",
                               s.get("server_rss_after_mb", "?")]]
                             + [[w["workers"], w["concurrency"], f"{w['rps']:.0f}", f"{w['rps'] / one['rps']:.2f}",
                                 f"{w['p50_ms']:.2f}", f"{w['p99_ms']:.2f}", w["errors"],
                                 f"{w.get('cpu_ms_per_req', float('nan')):.2f}",
                                 w["server_rss_mb"]]
                                for w in s["workers"]]), ""]
    i = r.get("indexing")
    if i:
        c = i.get("cpu_s", {})

        def cpu(key: str, ratio: str | None = None) -> list[str]:
            if key not in c:
                return ["-", "-"]
            return [f"{c[key]:.1f}", f"{100 * i[ratio]:.0f}%" if ratio and ratio in i else "-"]

        rows = [["`rag build` (in process, warm model)", f"{i['build_s']:.1f}", f"{i['build_chunks_per_s']:.1f}", "-",
                 *cpu("build")],
                ["raw encode of the chunks (same embedder)", f"{i['raw_chunks_s']:.1f}", f"{i['raw_chunks_per_s']:.1f}",
                 f"{100 * i['ratio_vs_chunks']:.0f}%", *cpu("raw_chunks", "cpu_ratio_vs_chunks")],
                [f"raw encode of {i.get('embedded', 'chunks + sentences')} (what the build embeds)",
                 f"{i['raw_all_s']:.1f}", f"{i['raw_all_chunks_per_s']:.1f}", f"{100 * i['ratio_vs_all']:.0f}%",
                 *cpu("raw_all", "cpu_ratio_vs_all")]]
        if "torch_encode_chunks_per_s" in i:
            rows.append(["torch `SentenceTransformer.encode` of the chunks",
                         f"{i['chunks'] / i['torch_encode_chunks_per_s']:.1f}",
                         f"{i['torch_encode_chunks_per_s']:.1f}", f"{100 * i['ratio_vs_torch_chunks']:.0f}%",
                         *cpu("torch_chunks", "cpu_ratio_vs_torch_chunks")])
        parts += ["## Indexing", "",
                  f"{r.get('corpus_label', 'corpus')}: {i['documents']} documents, {i['chunks']} chunks, "
                  f"{i['sentences']} sentences; embedder backend {i['backend']}; median of {i['repeats']} builds "
                  f"({', '.join(str(b) for b in i['all_builds_s'])} s)."
                  + (f" A cold `rag build` command (process start, imports, model load) took {i['cli_build_s']:.1f} s."
                     if "cli_build_s" in i else ""), "",
                  _table(["what", "seconds", "chunks/s", "build ÷ this", "CPU s", "build ÷ this, by CPU"], rows), "",
                  (f"Everything a build does besides embedding (chunking, BM25, FAISS, writing and fsyncing files) "
                   f"took {i['overhead_s']:.2f} s, measured with the fake embedder. Builds and raw encodes were "
                   "interleaved, but the model's time moves with the machine's load, so the build-vs-raw ratios "
                   "above scatter by ±20% here; the build's own overhead does not." if "overhead_s" in i else ""), ""]
    sc = r.get("scale")
    if sc:
        parts += ["## Scale", "",
                  "Synthetic vectors (not real embeddings: embedding a million chunks would take hours here), "
                  "shaped like the model's: see `scripts/bench_scale.py`. Neighbour profile (mean cosine of random "
                  f"pairs / 1st / 10th / 100th neighbour): synthetic {sc['synthetic_profile']}"
                  + (f", real SQuAD vectors {sc['real_profile']}" if sc.get("real_profile") else "") + ".", ""]
        if sc.get("difficulty"):
            d = sc["difficulty"]
            parts += [f"Difficulty check, IVF recall@10 at nprobe {d['nprobes']} with nlist {d['nlist']} on "
                      f"{d['n']:,} vectors: real SQuAD {d['real']}, synthetic {d['synthetic']} "
                      "(the synthetic data is meant to be no easier than the real).", ""]
        parts += [_table(["chunks", "index", "build s", "disk MiB", "load s", "RSS loaded MiB",
                          "RSS after queries MiB (anon + file)", "p50 ms", "p95 ms", "p99 ms", "recall@10",
                          "exact scan p50 ms"],
                         [[f"{row['n']:,}", _kind(row["params"]), f"{row['build_s']:.1f}", row["disk_mb"],
                           f"{row['load_s']:.3f}", row["rss_loaded_mb"],
                           f"{row['rss_after_queries_mb']} ({row.get('anon_after_queries_mb', '?')} + "
                           f"{row.get('file_after_queries_mb', '?')})",
                           f"{row['p50_ms']:.2f}", f"{row['p95_ms']:.2f}", f"{row['p99_ms']:.2f}",
                           f"{row['recall_at_10']:.3f}", f"{row['exact_p50_ms']:.2f}"]
                          for row in sorted(sc["rows"], key=lambda row: row["n"])]), "",
                  "Latency is one query on one thread through `rag.ann.SearchIndex` (what retrieval calls), "
                  "query embedding excluded; recall@10 is against exact search on 200 queries not used for tuning; "
                  "RSS is of a fresh process that loaded the index (vectors memory-mapped; the page cache was "
                  "warm); *file* is memory-mapped index pages (page cache, shared by workers, reclaimable), *anon* "
                  "the process' own memory. Each size was measured in "
                  f"{sc['rows'][0].get('measurements', 1)} fresh processes; the table shows medians. "
                  "Exact rescoring of 100 candidates from the memory-mapped vectors adds "
                  f"{max(row['rescore_p50_ms'] for row in sc['rows']):.2f} ms at most.", ""]
        if sc.get("hnsw"):
            h = sc["hnsw"]
            ivf = next((row for row in sc["rows"] if row["n"] == h["n"]), None)
            rows = [[f"HNSW M={h['m']}, efConstruction {h['ef_construction']}, efSearch {h['ef_search']}",
                     f"{h['build_s']:.1f}", f"{h['p50_ms']:.2f}", f"{h['p99_ms']:.2f}", f"{h['recall_at_10']:.3f}",
                     h["disk_mb"]]]
            if ivf:
                rows.append([_kind(ivf["params"]), f"{ivf['build_s']:.1f}", f"{ivf['p50_ms']:.2f}",
                             f"{ivf['p99_ms']:.2f}", f"{ivf['recall_at_10']:.3f}", ivf["disk_mb"]])
            parts += [f"IVF against HNSW on the same {h['n']:,} vectors:", "",
                      _table(["index", "build s", "p50 ms", "p99 ms", "recall@10", "disk MiB"], rows), ""]
        if "benchmarks-scale.png" in images:
            parts += ["![latency, memory and disk against corpus size](benchmarks-scale.png)", ""]
    parts += ["## How the index type is chosen", "", r.get("index_notes", ""), ""]
    return "\n".join(parts)


def _breakdown(s: dict[str, Any], cores: int) -> list[str]:
    """Where the time of one request goes, and the throughput ceiling that implies."""
    by_c = {row["concurrency"]: row for row in s["levels"]}
    if 1 not in by_c:
        return []
    floor, search, p50 = s["floor_ms"], s["in_process_ms"], by_c[1]["p50_ms"]
    out = [f"Where the p50 at concurrency 1 goes: query embedding {floor:.2f} ms, retrieval (BM25, dense and "
           f"sentence scoring, highlights) {max(search - floor, 0):.2f} ms, HTTP + validation + JSON + thread "
           f"hand-off {max(p50 - search, 0):.2f} ms.", ""]
    top = by_c[max(by_c)]
    if "cpu_ms_per_req" in top:
        cpu = top["cpu_ms_per_req"]
        levels = ", ".join(f"{row['cpu_ms_per_req']:.1f} ms at {c}" for c, row in sorted(by_c.items())
                           if "cpu_ms_per_req" in row)
        text = (f"Server CPU time per request (user + system, all threads, read from /proc around each run): "
                f"{levels} clients. At {top['concurrency']} clients that is a ceiling of ~{cores / (cpu / 1000):.0f} "
                f"req/s on {cores} cores (cores ÷ CPU per request), against {cores / (floor / 1000):.0f} req/s for "
                "cores ÷ floor.")
        batched, b = s.get("batched_floor_ms"), s.get("query_batches") or {}
        if batched is not None:
            text += (f" Concurrent queries are micro-batched (`rag.batching`): embedded 16 at a time a query costs "
                     f"{batched:.2f} ms instead of {floor:.2f} ms")
            text += (f"; over this run the server embedded {b['mean']:.1f} queries per batch on average (largest "
                     f"{b.get('batch_largest', 0):.0f})." if b.get("mean") else ".")
        out += [text, ""]
    return out


def _kind(params: dict[str, Any]) -> str:
    if params["type"] == "flat":
        return "flat (exact)"
    return f"IVF nlist {params['nlist']}, nprobe {params['nprobe']}"
