// swift-tune's benchmark executable: sgemm speed, per-op overhead and a two-layer MLP training step, printed as JSON
// in the schema bench/peers/torch_bench.py uses, so that bench/compare.py can put the two side by side.
//
//     swift run -c release tune-bench [--threads N] [--quick] [--only NAME-PREFIX] > swift.json
//
// Timing: each measurement is warmed up, then run in at least five batches of repetitions sized to fill the time
// budget; the figure is the median time per call over the batches. For sgemm 1024 the best batch is recorded too
// (as "best"), to compare like with like against the C program, which reports its best repetition.
import Foundation
import TuneData
import TuneNN
import TuneTensor
import TuneTraining
import TuneRandom

struct Options {
    var threads = 2
    var quick = false
    /// Runs only the benchmarks whose name starts with this prefix.
    var only: String?
    init(_ arguments: [String]) {
        var i = 1
        while i < arguments.count {
            switch arguments[i] {
            case "--quick": quick = true
            case "--only" where i + 1 < arguments.count:
                only = arguments[i + 1]
                i += 1
            case "--threads" where i + 1 < arguments.count:
                guard let n = Int(arguments[i + 1]), n >= 1 else {
                    FileHandle.standardError.write(
                        Data("tune-bench: --threads needs a positive integer, got \(arguments[i + 1])\n".utf8))
                    exit(2)
                }
                threads = n
                i += 1
            default:
                FileHandle.standardError.write(
                    Data("usage: tune-bench [--threads N] [--quick] [--only NAME-PREFIX]\n".utf8))
                exit(2)
            }
            i += 1
        }
    }
}

let options = Options(CommandLine.arguments)
let budget = options.quick ? 0.05 : 0.3
let minimumBatches = 5
BLAS.setThreadCount(options.threads)

@inline(never) func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// Median and best seconds per call of `body` (which performs `inner` calls per invocation).
func measure(_ body: (Int) -> Void) -> (median: Double, best: Double) {
    body(3)
    let target = budget / Double(minimumBatches)
    var reps = 1
    var t = 0.0
    while true {
        let start = now()
        body(reps)
        t = now() - start
        if t >= target / 4 || reps >= 1 << 24 { break }
        reps *= 2
    }
    reps = max(1, Int((Double(reps) * target / max(t, 1e-9)).rounded()))
    var perCall: [Double] = []
    let start = now()
    while perCall.count < minimumBatches || now() - start < budget {
        let s = now()
        body(reps)
        perCall.append((now() - s) / Double(reps))
    }
    perCall.sort()
    return (perCall[perCall.count / 2], perCall[0])
}

struct Result: Encodable { let name: String; let unit: String; let value: Double }
var results: [Result] = []
var best: [String: Double] = [:]
@MainActor func record(_ name: String, _ unit: String, _ value: Double) {
    results.append(Result(name: name, unit: unit, value: value))
    let padded: String = name.padding(toLength: 28, withPad: " ", startingAt: 0)
    let line: String = padded + String(format: "%10.2f ", value) + unit + "\n"
    FileHandle.standardError.write(Data(line.utf8))
}

var rng = PhiloxRandom(seed: 0)

func selected(_ name: String) -> Bool { options.only.map { name.hasPrefix($0) } ?? true }

// sgemm into a preallocated output, as torch.mm(a, b, out=c).
@MainActor func sgemm(_ m: Int, _ k: Int, _ n: Int, name: String) {
    guard selected(name) else { return }
    let a = Tensor.uniform([m, k], low: -1, high: 1, using: &rng),
        b = Tensor.uniform([k, n], low: -1, high: 1, using: &rng)
    var c = Tensor.zeros([m, n])
    let timing = a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                measure { reps in
                    for _ in 0..<reps {
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!,
                            lda: k,
                            b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                    }
                }
            }
        }
    }
    let flops = 2 * Double(m) * Double(n) * Double(k)
    record(name, "GFLOP/s", flops / timing.median / 1e9)
    best[name] = flops / timing.best / 1e9
}

for n in [64, 128, 256, 512, 1024, 2048] { sgemm(n, n, n, name: "sgemm \(n)") }
for (m, k, n) in [(32, 784, 256), (128, 784, 512), (256, 512, 512), (1024, 256, 256), (8, 64, 64)] {
    sgemm(m, k, n, name: "sgemm \(m)x\(k)x\(n)")
}

// Per-op overhead: each call allocates its result, as in PyTorch eager mode. The " grad" variants run with the
// operands watched by a tape, so every call also records a node (a fresh tape per batch, as PyTorch frees its graph).
@MainActor func opBenchmark(_ name: String, size: Int, _ op: @escaping (Tensor, Tensor) -> Tensor) {
    guard selected("op \(name) \(size)x\(size)") else { return }
    let a = Tensor.uniform([size, size], low: -1, high: 1, using: &rng),
        b = Tensor.uniform([size, size], low: -1, high: 1, using: &rng)
    var sink: Float = 0
    let plain = measure { reps in
        for _ in 0..<reps { sink += op(a, b).withUnsafeBufferPointer { $0[0] } }
    }
    record("op \(name) \(size)x\(size)", "us", plain.median * 1e6)
    let tracked = measure { reps in
        // A fresh tape every 16 ops: the nodes (and the outputs they keep for the backward pass) are freed about as
        // soon as PyTorch frees its graph when a result is dropped.
        var done = 0
        while done < reps {
            let chunk = min(16, reps - done)
            let tape = GradientTape()
            tape.record {
                let ta = tape.watch(a), tb = tape.watch(b)
                for _ in 0..<chunk { sink += op(ta, tb).withUnsafeBufferPointer { $0[0] } }
            }
            done += chunk
        }
    }
    record("op \(name) \(size)x\(size) grad", "us", tracked.median * 1e6)
    if sink == .infinity { print(sink) }
}

let ops: [(String, (Tensor, Tensor) -> Tensor)] = [
    ("add", { $0 + $1 }), ("mul", { $0 * $1 }), ("relu", { x, _ in relu(x) }), ("sigmoid", { x, _ in sigmoid(x) }),
    ("exp", { x, _ in exp(x) }), ("matmul", { $0.matmul($1) }), ("sum", { x, _ in x.sum() })
]
for (name, op) in ops { opBenchmark(name, size: 64, op) }
opBenchmark("add", size: 8) { $0 + $1 }
opBenchmark("matmul", size: 8) { $0.matmul($1) }

// A two-layer MLP training step: forward, mean softmax cross-entropy, backward.
for (batch, inputs, hidden, outputs) in [(32, 784, 256, 10), (128, 784, 512, 10), (256, 64, 64, 2)]
where selected("mlp step \(batch)x\(inputs)x\(hidden)x\(outputs)") {
    let x = Tensor.uniform([batch, inputs], low: -1, high: 1, using: &rng)
    let labels = (0..<batch).map { _ in Int(rng.next32() % UInt32(outputs)) }
    var oneHot = [Float](repeating: 0, count: batch * outputs)
    for (i, c) in labels.enumerated() { oneHot[i * outputs + c] = 1 }
    let target = Tensor(shape: [batch, outputs], scalars: oneHot)
    let b1 = 1 / Float(inputs).squareRoot(), b2 = 1 / Float(hidden).squareRoot()
    let parameters = [
        Tensor.uniform([inputs, hidden], low: -b1, high: b1, using: &rng),
        Tensor.uniform([hidden], low: -b1, high: b1, using: &rng),
        Tensor.uniform([hidden, outputs], low: -b2, high: b2, using: &rng),
        Tensor.uniform([outputs], low: -b2, high: b2, using: &rng)
    ]
    var sink: Float = 0
    let timing = measure { reps in
        for _ in 0..<reps {
            let (loss, grads) = valueAndGradient(at: parameters) { p in
                let h = relu(x.matmul(p[0]) + p[1])
                let logits = h.matmul(p[2]) + p[3]
                return -(logSoftmax(logits) * target).sum() / Float(batch)
            }
            sink += loss.scalar + grads[0].withUnsafeBufferPointer { $0[0] }
        }
    }
    record("mlp step \(batch)x\(inputs)x\(hidden)x\(outputs)", "us", timing.median * 1e6)
    if sink == .infinity { print(sink) }
}

// One optimizer step (forward, loss, backward, Adam update) of the networks of the building-blocks issue, data in
// memory: A 30-64-64-1 ReLU with BCE; B the same with BatchNorm, Swish and Dropout(0.2); C 784-512-256-10 ReLU with
// cross-entropy; D 1024-2048-2048-10 ReLU with cross-entropy.
let trainConfigurations: [(name: String, spec: MLPSpecification, batch: Int)] = [
    ("A", MLPSpecification(inputSize: 30, hiddenSizes: [64, 64], outputSize: 1), 32),
    ("A", MLPSpecification(inputSize: 30, hiddenSizes: [64, 64], outputSize: 1), 128),
    (
        "B",
        MLPSpecification(
            inputSize: 30, hiddenSizes: [64, 64], outputSize: 1, activation: .swish, dropout: 0.2,
            batchNorm: .beforeActivation), 32
    ),
    (
        "B",
        MLPSpecification(
            inputSize: 30, hiddenSizes: [64, 64], outputSize: 1, activation: .swish, dropout: 0.2,
            batchNorm: .beforeActivation), 128
    ),
    ("C", MLPSpecification(inputSize: 784, hiddenSizes: [512, 256], outputSize: 10), 64),
    ("C", MLPSpecification(inputSize: 784, hiddenSizes: [512, 256], outputSize: 10), 256),
    ("D", MLPSpecification(inputSize: 1024, hiddenSizes: [2048, 2048], outputSize: 10), 512)
]
for (name, spec, batch) in trainConfigurations where selected("train \(name) b\(batch)") {
    let model = MLP(spec, seed: 1)
    let optimizer = Optimizer(for: model, rule: Adam(), learningRate: 1e-3)
    let x = Tensor.normal([batch, spec.inputSize], using: &rng)
    let labels = (0..<batch).map { _ in Int(rng.next32() % UInt32(max(spec.outputSize, 2))) }
    let binaryTargets = Tensor(shape: [batch, 1], scalars: labels.map { Float($0) })
    var sink: Float = 0
    let timing = measure { reps in
        for _ in 0..<reps {
            let (loss, grads) = optimizer.valueAndGradients {
                let out = model(x)
                return spec.outputSize == 1
                    ? binaryCrossEntropyWithLogits(out, binaryTargets) : crossEntropy(out, labels: labels)
            }
            optimizer.step(grads)
            sink += loss.scalar
        }
    }
    record("train \(name) b\(batch)", "steps/s", 1 / timing.median)
    if sink == .infinity { print(sink) }
}

// Whole epochs through the Trainer (seeded reshuffling, mini-batches gathered from the data, Adam, and the
// validation metrics of 256 rows after each epoch), in training samples per second: the median of epochs 2-4.
for (name, spec, batch) in trainConfigurations where selected("epoch \(name) b\(batch)") {
    let rows = spec.inputSize >= 1024 ? 4096 : (spec.inputSize >= 784 ? 8192 : 16384)
    func labeled(_ n: Int) -> LabeledData {
        LabeledData(
            x: Tensor.normal([n, spec.inputSize], using: &rng),
            classes: (0..<n).map { _ in Int(rng.next32() % UInt32(max(spec.outputSize, 2))) })
    }
    let train = labeled(rows), validation = labeled(256)
    let target =
        spec.outputSize == 1
        ? Preprocessor.Target(name: "y", task: .binary, classes: ["0", "1"])
        : Preprocessor.Target(name: "y", task: .multiclass, classes: (0..<spec.outputSize).map(String.init))
    var configuration = TrainingConfiguration()
    configuration.epochs = 4
    configuration.batchSize = .fixed(batch)
    let history = Trainer(configuration: configuration).fit(
        MLP(spec, seed: 1), train: train, validation: validation, target: target
    ).history
    let rates = history.epochs.dropFirst().map(\.samplesPerSecond).sorted()
    record("epoch \(name) b\(batch)", "samples/s", rates[rates.count / 2])
}

// Reading a numeric CSV file (made by bench/run.sh), in megabytes per second: parsing into columns of numbers.
if selected("csv read"), let path = ProcessInfo.processInfo.environment["TUNE_BENCH_CSV"] {
    let bytes = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
    var times: [Double] = []
    for _ in 0..<(options.quick ? 2 : 4) {
        let start = now()
        let table = try! CSVReader.read(path: path)
        times.append(now() - start)
        if table.rowCount == 0 { print("empty") }
    }
    times.sort()
    record("csv read", "MB/s", bytes / 1e6 / times[times.count / 2])
}

struct Report: Encodable {
    let tool = "swift-tune"
    let version: String
    let threads: Int
    let blas: String
    let results: [Result]
    let best: [String: Double]
}
let info = BLAS.info
let report = Report(
    version: "0.1.0", threads: BLAS.threadCount,
    blas: "\(info.library) \(info.kernel ?? "") (\(info.reason))", results: results, best: best)
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
print(String(decoding: try! encoder.encode(report), as: UTF8.self))
