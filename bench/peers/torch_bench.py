#!/usr/bin/env python3
"""PyTorch peer benchmark for swift-tune.

Measures the same workloads as the Swift `TuneBench` executable and prints ONE
JSON object to stdout, in the schema shared by both sides:

    {"tool": "pytorch", "version": "...", "threads": N,
     "results": [{"name": "sgemm 1024", "unit": "GFLOP/s", "value": 123.4}, ...]}

Usage:
    python3 bench/peers/torch_bench.py [--threads N] [--quick] [--verbose] [--only PREFIX] > torch.json
    python3 bench/compare.py swift.json torch.json

Options:
    --threads N   intra-op threads (torch.set_num_threads), default 2
    --quick       shorter measurements (~0.05 s each instead of ~0.3 s)
    --verbose     print each result to stderr as it is measured

Timing: every measurement is warmed up, then run in >= 5 batches of
repetitions (the batch size is calibrated so that all batches together take
about the time budget); the reported figure is the median per-call time over
the batches (converted to GFLOP/s for the sgemm benchmarks).

This is a dev-time tool only; nothing in the Swift package depends on it.
"""

import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MIN_BATCHES = 5

SGEMM_SQUARE = [64, 128, 256, 512, 1024, 2048]
SGEMM_MLP = [(32, 784, 256), (128, 784, 512), (256, 512, 512), (1024, 256, 256), (8, 64, 64)]
MLP_STEPS = [(32, 784, 256, 10), (128, 784, 512, 10), (256, 64, 64, 2)]


def _run(fn, args, reps):
    """Wall time of `reps` back-to-back calls fn(*args)."""
    t0 = time.perf_counter()
    for _ in range(reps):
        fn(*args)
    return time.perf_counter() - t0


def measure(fn, args=(), budget=0.3):
    """Median seconds per call of fn(*args) over >= MIN_BATCHES batches.

    Warms up, calibrates a batch size so that MIN_BATCHES batches take about
    `budget` seconds, then keeps running batches until both MIN_BATCHES
    batches have run and `budget` seconds have elapsed.
    """
    # Warm-up: a few calls (also lets allocator caches / thread pools settle).
    _run(fn, args, 3)

    # Calibrate: double the repetition count until one batch is measurable.
    target = budget / MIN_BATCHES
    reps = 1
    while True:
        t = _run(fn, args, reps)
        if t >= target / 4 or reps >= 1 << 24:
            break
        reps *= 2
    reps = max(1, round(reps * target / max(t, 1e-9)))

    per_call = []
    start = time.perf_counter()
    while len(per_call) < MIN_BATCHES or time.perf_counter() - start < budget:
        per_call.append(_run(fn, args, reps) / reps)
    return statistics.median(per_call)


def sgemm_gflops(m, k, n, budget):
    """GFLOP/s of torch.mm(a, b, out=c) with a: MxK, b: KxN (float32)."""
    a = torch.rand(m, k) * 2 - 1
    b = torch.rand(k, n) * 2 - 1
    c = torch.empty(m, n)
    sec = measure(lambda: torch.mm(a, b, out=c), budget=budget)
    return 2.0 * m * k * n / sec / 1e9


def op_benchmarks(budget):
    """(name, microseconds per op) for small elementwise / matmul / reduction ops."""
    ops = [
        ("add", torch.add, 2),
        ("mul", torch.mul, 2),
        ("relu", torch.relu, 1),
        ("sigmoid", torch.sigmoid, 1),
        ("exp", torch.exp, 1),
        ("matmul", torch.matmul, 2),
        ("sum", torch.sum, 1),
    ]
    cases = [(name, fn, arity, 64) for name, fn, arity in ops]
    cases += [("add", torch.add, 2, 8), ("matmul", torch.matmul, 2, 8)]

    out = []
    for grad in (False, True):
        for name, fn, arity, size in cases:
            # requires_grad=True makes every call record an autograd node
            # (the result is discarded, so the graph is freed right away).
            args = tuple(
                (torch.rand(size, size) * 2 - 1).requires_grad_(grad) for _ in range(arity)
            )
            sec = measure(fn, args, budget=budget)
            label = f"op {name} {size}x{size}" + (" grad" if grad else "")
            out.append((label, sec * 1e6))
    return out


def mlp_step_us(b, i, h, o, budget):
    """Microseconds per forward+backward step of a two-layer MLP."""
    x = torch.randn(b, i)
    y = torch.randint(0, o, (b,))
    w1 = (torch.randn(i, h) * (2.0 / i) ** 0.5).requires_grad_()
    b1 = torch.zeros(h, requires_grad=True)
    w2 = (torch.randn(h, o) * (1.0 / h) ** 0.5).requires_grad_()
    b2 = torch.zeros(o, requires_grad=True)
    params = (w1, b1, w2, b2)

    def step():
        hidden = F.relu(x @ w1 + b1)
        logits = hidden @ w2 + b2
        loss = F.cross_entropy(logits, y)  # mean reduction
        loss.backward()
        for p in params:
            p.grad = None

    return measure(step, budget=budget) * 1e6


# The building-blocks issue's networks: (name, inputs, hidden sizes, outputs, swish+batchnorm+dropout, batch).
TRAIN_CONFIGS = [
    ("A", 30, [64, 64], 1, False, 32), ("A", 30, [64, 64], 1, False, 128),
    ("B", 30, [64, 64], 1, True, 32), ("B", 30, [64, 64], 1, True, 128),
    ("C", 784, [512, 256], 10, False, 64), ("C", 784, [512, 256], 10, False, 256),
    ("D", 1024, [2048, 2048], 10, False, 512),
]


def train_steps_per_second(inputs, hidden, outputs, fancy, batch, budget):
    """Optimizer steps per second: forward, loss, backward and Adam update, data in memory.

    A/C/D: Linear-ReLU blocks; B: Linear-BatchNorm1d-SiLU-Dropout(0.2) blocks. One output: BCE with logits;
    more: cross-entropy."""
    layers, width = [], inputs
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if fancy:
            layers += [nn.BatchNorm1d(h), nn.SiLU(), nn.Dropout(0.2)]
        else:
            layers.append(nn.ReLU())
        width = h
    layers.append(nn.Linear(width, outputs))
    model = nn.Sequential(*layers)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, inputs)
    if outputs == 1:
        y = torch.randint(0, 2, (batch, 1)).float()
        loss_fn = F.binary_cross_entropy_with_logits
    else:
        y = torch.randint(0, outputs, (batch,))
        loss_fn = F.cross_entropy

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return 1.0 / measure(step, budget=budget)


def epoch_samples_per_second(inputs, hidden, outputs, fancy, batch, budget):
    """Training samples per second over whole epochs: reshuffling (randperm), gathering each mini-batch, forward,
    loss, backward, Adam, and the validation loss and metric on 256 rows after each epoch, as swift-tune's Trainer
    does; the median of epochs 2-4."""
    rows = 4096 if inputs >= 1024 else (8192 if inputs >= 784 else 16384)
    layers, width = [], inputs
    for h in hidden:
        layers.append(nn.Linear(width, h))
        layers += [nn.BatchNorm1d(h), nn.SiLU(), nn.Dropout(0.2)] if fancy else [nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, outputs))
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, xv = torch.randn(rows, inputs), torch.randn(256, inputs)
    if outputs == 1:
        y, yv = torch.randint(0, 2, (rows, 1)).float(), torch.randint(0, 2, (256, 1)).float()
        loss_fn = F.binary_cross_entropy_with_logits
    else:
        y, yv = torch.randint(0, outputs, (rows,)), torch.randint(0, outputs, (256,))
        loss_fn = F.cross_entropy
    rates = []
    for epoch in range(4):
        start = time.perf_counter()
        model.train()
        perm = torch.randperm(rows)
        for i in range(0, rows, batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            out = model(xv)
            val_loss = float(loss_fn(out, yv))
            if outputs == 1:
                accuracy = float(((out > 0).float() == yv).float().mean())
            else:
                accuracy = float((out.argmax(1) == yv).float().mean())
        rates.append(rows / (time.perf_counter() - start))
        del val_loss, accuracy
    return statistics.median(rates[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--quick", action="store_true", help="~0.05 s per measurement instead of ~0.3 s")
    ap.add_argument("--verbose", action="store_true", help="print results to stderr as they come")
    ap.add_argument("--only", metavar="PREFIX", help="run only the benchmarks whose name starts with PREFIX")
    opts = ap.parse_args()

    torch.set_num_threads(opts.threads)
    torch.manual_seed(0)
    budget = 0.05 if opts.quick else 0.3
    results = []

    def selected(name):
        return opts.only is None or name.startswith(opts.only)

    def record(name, unit, value):
        results.append({"name": name, "unit": unit, "value": round(value, 4)})
        if opts.verbose:
            print(f"{name:<28} {value:12.3f} {unit}", file=sys.stderr, flush=True)

    for n in SGEMM_SQUARE:
        if selected(f"sgemm {n}"):
            record(f"sgemm {n}", "GFLOP/s", sgemm_gflops(n, n, n, budget))
    for m, k, n in SGEMM_MLP:
        if selected(f"sgemm {m}x{k}x{n}"):
            record(f"sgemm {m}x{k}x{n}", "GFLOP/s", sgemm_gflops(m, k, n, budget))
    if selected("op "):
        for name, us in op_benchmarks(budget):
            if selected(name):
                record(name, "us", us)
    for b, i, h, o in MLP_STEPS:
        if selected(f"mlp step {b}x{i}x{h}x{o}"):
            record(f"mlp step {b}x{i}x{h}x{o}", "us", mlp_step_us(b, i, h, o, budget))
    for name, inputs, hidden, outputs, fancy, batch in TRAIN_CONFIGS:
        label = f"train {name} b{batch}"
        if selected(label):
            record(label, "steps/s", train_steps_per_second(inputs, hidden, outputs, fancy, batch, budget))
    for name, inputs, hidden, outputs, fancy, batch in TRAIN_CONFIGS:
        label = f"epoch {name} b{batch}"
        if selected(label):
            record(label, "samples/s", epoch_samples_per_second(inputs, hidden, outputs, fancy, batch, budget))

    report = {
        "tool": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "results": results,
    }
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
