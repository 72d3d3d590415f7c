#!/usr/bin/env python3
"""Compare swift-tune benchmark results against the PyTorch peer.

Both inputs use the shared benchmark schema:

    {"tool": "...", "version": "...", "threads": N,
     "results": [{"name": "sgemm 1024", "unit": "GFLOP/s", "value": 123.4}, ...]}

Usage:
    python3 bench/compare.py SWIFT.json TORCH.json [--c-sgemm C.json] [--markdown]

  SWIFT.json   output of the Swift TuneBench executable (tool "swift-tune")
  TORCH.json   output of bench/peers/torch_bench.py
  --c-sgemm    a JSON line from the C program built from bench/peers/cblas_sgemm.c (e.g. N=1024); adds a
               line relating swift-tune's "sgemm 1024" to OpenBLAS's figure
  --markdown   print a GitHub-markdown table instead of aligned text

The ratio column is oriented so that > 1 means swift-tune is better:
swift/torch for throughput units (GFLOP/s), torch/swift for time units (us).
Benchmarks present on only one side show "-". Standard library only.
"""

import argparse
import json
import sys

HIGHER_IS_BETTER = {"GFLOP/s"}
LOWER_IS_BETTER = {"ns", "us", "ms", "s"}
HEADER = ("name", "unit", "swift-tune", "PyTorch", "ratio")


def load(path):
    """Read one benchmark JSON file (the whole file, or its first JSON line)."""
    with open(path) as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # Tolerate extra lines after the object (e.g. appended logs).
        return json.loads(text.strip().splitlines()[0])


def by_name(report):
    """name -> (unit, value), in file order."""
    return {r["name"]: (r["unit"], float(r["value"])) for r in report.get("results", [])}


def fmt_value(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.1f}"
    if abs(v) >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def ratio(unit, swift, torch):
    """Ratio (> 1 = swift-tune better) or None when not comparable."""
    if swift is None or torch is None or swift <= 0 or torch <= 0:
        return None
    if unit in HIGHER_IS_BETTER or unit.endswith("/s"):
        return swift / torch
    if unit in LOWER_IS_BETTER:
        return torch / swift
    return None


def fmt_ratio(r):
    """Two significant digits, e.g. 0.95x, 3.2x, 12x."""
    if r is None:
        return "-"
    if r >= 10:
        return f"{r:.0f}x"
    if r >= 1:
        return f"{r:.1f}x"
    return f"{r:.2f}x"


def build_rows(swift, torch):
    """Table rows: Swift's order first, then names only PyTorch has."""
    names = list(swift) + [n for n in torch if n not in swift]
    rows = []
    for name in names:
        s_unit, s_val = swift.get(name, (None, None))
        t_unit, t_val = torch.get(name, (None, None))
        unit = s_unit or t_unit
        if s_unit and t_unit and s_unit != t_unit:
            unit = f"{s_unit} vs {t_unit}"  # mismatched units: show, don't compare
            r = None
        else:
            r = ratio(unit, s_val, t_val)
        rows.append((name, unit, fmt_value(s_val), fmt_value(t_val), fmt_ratio(r)))
    return rows


def render_text(rows):
    widths = [max(len(row[i]) for row in [HEADER] + rows) for i in range(len(HEADER))]
    # Name and unit left-aligned, numbers right-aligned.
    align = ["<", "<", ">", ">", ">"]

    def line(row):
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip()

    out = [line(HEADER), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in rows]
    return "\n".join(out)


def render_markdown(rows):
    out = ["| " + " | ".join(HEADER) + " |", "|:--|:--|--:|--:|--:|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def describe(report, default_tool):
    tool = report.get("tool", default_tool)
    version = report.get("version")
    threads = report.get("threads")
    text = tool + (f" {version}" if version else "")
    if threads is not None:
        text += f" ({threads} thread{'s' if threads != 1 else ''})"
    return text


def c_sgemm_line(swift, c_report, swift_best=None):
    """'sgemm N vs C cblas_sgemm (kernel X): 97%' for the C program's N.

    The C program reports its best repetition, so the swift-tune side uses its best batch ("best" in its JSON)
    when present, to compare like with like."""
    n = c_report.get("n", 1024)
    kernel = c_report.get("kernel", "?")
    c_gflops = float(c_report["gflops"])
    name = f"sgemm {n}"
    prefix = f"{name} vs C cblas_sgemm (kernel {kernel}"
    if c_report.get("threads") is not None:
        prefix += f", {c_report['threads']} threads"
    prefix += ")"
    if name not in swift:
        return f"{prefix}: - (no swift-tune '{name}' result; C: {c_gflops:.1f} GFLOP/s)"
    s_gflops = (swift_best or {}).get(name, swift[name][1])
    return (f"{prefix}: {100.0 * s_gflops / c_gflops:.0f}% "
            f"({s_gflops:.1f} vs {c_gflops:.1f} GFLOP/s)")


def main():
    ap = argparse.ArgumentParser(description="Compare swift-tune and PyTorch benchmark JSON files.")
    ap.add_argument("swift", help="swift-tune results JSON")
    ap.add_argument("torch", help="PyTorch results JSON (bench/peers/torch_bench.py)")
    ap.add_argument("--c-sgemm", metavar="C.json", help="JSON line from the C program built from bench/peers/cblas_sgemm.c")
    ap.add_argument("--markdown", action="store_true", help="print a GitHub-markdown table")
    opts = ap.parse_args()

    swift_report = load(opts.swift)
    torch_report = load(opts.torch)
    swift, torch = by_name(swift_report), by_name(torch_report)

    if swift_report.get("threads") != torch_report.get("threads"):
        print(f"warning: thread counts differ (swift-tune {swift_report.get('threads')}, "
              f"PyTorch {torch_report.get('threads')})", file=sys.stderr)

    rows = build_rows(swift, torch)
    title = f"{describe(swift_report, 'swift-tune')} vs {describe(torch_report, 'pytorch')}"
    note = "ratio > 1 means swift-tune is better"
    if opts.markdown:
        print(f"{title}; {note}.\n")
        print(render_markdown(rows))
    else:
        print(f"{title}  ({note})\n")
        print(render_text(rows))

    if opts.c_sgemm:
        line = c_sgemm_line(swift, load(opts.c_sgemm), swift_report.get("best"))
        print(f"\n{line}")


if __name__ == "__main__":
    main()
