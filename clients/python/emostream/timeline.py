"""The CLI's live line per result and its end-of-stream summary (the same figures as the Node CLI's)."""
from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


def _argmax(probs: Sequence[float]) -> int:
    return max(range(len(probs)), key=probs.__getitem__)


def format_result(r: dict, labels: Sequence[str], e2e_ms: float | None) -> str:
    """Window end, fused label, top-3 fused probabilities, per-modality labels, latency."""
    t = f"{r['windowEndUs'] / 1e6:7.2f}s"
    fused = r.get("fused")
    # No fused posterior: the window held no voice (protocol 1.1 voice activity) and no face, or no model answered.
    silent = (r.get("voice") or {}).get("active") is False
    label = f"{fused['label']:<9}" if fused else ("no voice " if silent else "no model ")
    if fused:
        p = fused["probs"]
        top = "  ".join(f"{labels[k]} {p[k]:.2f}" for k in sorted(range(len(p)), key=lambda k: -p[k])[:3])
    else:
        top = "-"

    def modality(name: str, post: dict | None) -> str:
        return f"{name}:{labels[_argmax(post['probs'])]}" if post else f"{name}:-"

    faces = f" faces:{r['faces']['count']}" if r.get("faces") else ""
    lat = (f"e2e {e2e_ms:.1f} ms" if e2e_ms is not None else "e2e -") + f" srv {r['latency']['totalMs']:.1f} ms"
    final = ""
    if r.get("final"):
        final = f"  (final, repeats hop {r['repeatOfHop']})" if "repeatOfHop" in r else "  (final)"
    drop = f"  dropped {r['droppedWindows']}" if r.get("droppedWindows") else ""
    return f"{t}  {label}  {top:<44}  {modality('voice', r.get('speech'))} {modality('face', r.get('face'))}{faces}  {lat}{final}{drop}"


def summarize(results: Sequence[dict], labels: Sequence[str], e2e_ms: Sequence[float]) -> dict:
    # A final result that repeats the last window (repeatOfHop) would count that window twice.
    fused = [r["fused"] for r in results if r.get("fused") and "repeatOfHop" not in r]
    mean = {lab: round(sum(f["probs"][k] for f in fused) / len(fused), 4) for k, lab in enumerate(labels)} if fused else None
    share: dict[str, float] = {}
    for f in fused:
        share[f["label"]] = share.get(f["label"], 0) + 1 / len(fused)
    e = sorted(e2e_ms)
    s = sorted(r["latency"]["totalMs"] for r in results)
    return {
        "results": len(results),
        "droppedWindows": results[-1]["droppedWindows"] if results else 0,
        "meanFused": mean,
        "labelShare": {k: round(v, 3) for k, v in share.items()},
        "e2eMs": {"p50": percentile(e, 50), "p95": percentile(e, 95), "max": e[-1] if e else None},
        "serverMs": {"p50": percentile(s, 50), "p95": percentile(s, 95)},
    }


def format_summary(s: dict) -> str:
    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.1f}"

    if s["meanFused"]:
        mean = ", ".join(f"{k} {v:.2f}" for k, v in sorted(s["meanFused"].items(), key=lambda kv: -kv[1])[:4])
    else:
        mean = "no posteriors (no model available)"
    share = ", ".join(f"{k} {v * 100:.0f}%" for k, v in s["labelShare"].items()) or "-"
    e, srv = s["e2eMs"], s["serverMs"]
    return "\n".join([
        f"results: {s['results']}, dropped windows: {s['droppedWindows']}",
        f"mean fused posterior: {mean}",
        f"label share: {share}",
        f"latency end-to-end p50 {f(e['p50'])} ms, p95 {f(e['p95'])} ms, max {f(e['max'])} ms; server p50 {f(srv['p50'])} ms, p95 {f(srv['p95'])} ms",
    ])
