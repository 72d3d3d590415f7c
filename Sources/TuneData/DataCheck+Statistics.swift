import Foundation

/// The statistics behind the leak check: one-column models, rank correlation, the neighbour estimate and a ridge
/// model of the other columns, all cross-fitted on the training rows.
extension DataCheck {
    /// A column's values on some rows, as keys for a one-column model: numbers (NaN when missing) or texts.
    enum Values {
        case numbers([Double])
        case texts([String])
    }

    static func values(_ t: CSVTable, column c: Int, rows: [Int]) -> Values {
        if inferKind(t, column: c) == .numeric {
            return .numbers(rows.map { t.missing[c][$0] ? .nan : Double(t.numbers[c][$0]) })
        }
        let boolean = inferKind(t, column: c) == .boolean
        return .texts(
            rows.map { cellText(t, column: c, row: $0).map { boolean ? $0.lowercased() : $0 } ?? "\u{0}missing" })
    }

    /// The share of what a constant predictor gets wrong that a one-column model still gets wrong, cross-fitted over
    /// two halves: binned (up to 32 equal-count bins of the fitting half, missing its own bin) or by category, each
    /// bin predicting its majority class or mean target.
    static func unexplained(_ x: Values, _ y: [Double], classification: Bool) -> Double {
        let n = y.count
        guard n >= 4 else { return 1 }
        var loss = 0.0, base = 0.0
        for fold in 0..<2 {
            let fit = (0..<n).filter { $0 % 2 == fold }, check = (0..<n).filter { $0 % 2 != fold }
            let keyOf: (Int) -> Int
            switch x {
            case .numbers(let v):
                let present = fit.filter { !v[$0].isNaN }.map { v[$0] }.sorted()
                let bins = max(2, min(32, present.count / 10))
                var edges: [Double] = []
                if !present.isEmpty {
                    for b in 1..<bins { edges.append(present[b * present.count / bins]) }
                }
                edges = Array(Set(edges)).sorted()
                keyOf = { i in
                    if v[i].isNaN { return -1 }
                    var lo = 0, hi = edges.count
                    while lo < hi { let mid = (lo + hi) / 2; if edges[mid] <= v[i] { lo = mid + 1 } else { hi = mid } }
                    return lo
                }
            case .texts(let s):
                var ids: [String: Int] = [:]
                for i in 0..<n where ids[s[i]] == nil { ids[s[i]] = ids.count }
                keyOf = { ids[s[$0]]! }
            }
            let (l, b) = crossScore(fit: fit, check: check, key: keyOf, y: y, classification: classification)
            loss += l
            base += b
        }
        return base > 0 ? loss / base : 1
    }

    /// The loss of predicting `y` on `check` from each key's fitted majority or mean (the overall one for a key the
    /// fitting rows lack), and the loss of the overall one alone: errors, or squared errors.
    static func crossScore(fit: [Int], check: [Int], key: (Int) -> Int, y: [Double], classification: Bool) -> (
        Double, Double
    ) {
        if classification {
            var counts: [Int: [Int: Int]] = [:], overall: [Int: Int] = [:]
            for i in fit {
                counts[key(i), default: [:]][Int(y[i]), default: 0] += 1; overall[Int(y[i]), default: 0] += 1
            }
            func majority(_ c: [Int: Int]) -> Int {
                c.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 0
            }
            let top = majority(overall)
            var errors = 0.0, baseErrors = 0.0
            for i in check {
                let predicted = counts[key(i)].map(majority) ?? top
                if predicted != Int(y[i]) { errors += 1 }
                if top != Int(y[i]) { baseErrors += 1 }
            }
            return (errors, baseErrors)
        }
        var sums: [Int: (Double, Int)] = [:]
        var total = 0.0
        for i in fit { let k = key(i); sums[k] = ((sums[k]?.0 ?? 0) + y[i], (sums[k]?.1 ?? 0) + 1); total += y[i] }
        let mean = total / Double(max(fit.count, 1))
        var sse = 0.0, sst = 0.0
        for i in check {
            let p = sums[key(i)].map { $0.0 / Double($0.1) } ?? mean
            sse += (y[i] - p) * (y[i] - p)
            sst += (y[i] - mean) * (y[i] - mean)
        }
        return (sse, sst)
    }

    /// The share of `y`'s variance left once `x` is known, estimated from neighbours (Rice's difference estimator):
    /// with the rows sorted by `x` (ties in their given order, which the split has shuffled), half the mean squared
    /// difference of neighbouring `y`s over `y`'s variance. Near 0 when `y` is a smooth function of `x`, near 1 when
    /// it is independent of it; no fitting, so no overfitting.
    static func neighbourUnexplained(_ x: [Double], _ y: [Double]) -> Double {
        let rows = x.indices.filter { !x[$0].isNaN && !y[$0].isNaN }
        guard rows.count >= 20 else { return 1 }
        let order = rows.sorted { x[$0] != x[$1] ? x[$0] < x[$1] : $0 < $1 }
        let mean = rows.reduce(0) { $0 + y[$1] } / Double(rows.count)
        let variance = rows.reduce(0) { $0 + (y[$1] - mean) * (y[$1] - mean) } / Double(rows.count)
        guard variance > 0 else { return 1 }
        var differences = 0.0
        for i in 1..<order.count { let d = y[order[i]] - y[order[i - 1]]; differences += d * d }
        return differences / Double(2 * (order.count - 1)) / variance
    }

    /// Spearman's rank correlation (average ranks for ties); nil when either side is constant.
    public static func rankCorrelation(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count == b.count, a.count >= 3 else { return nil }
        let ra = ranks(a), rb = ranks(b)
        let ma = ra.reduce(0, +) / Double(ra.count), mb = rb.reduce(0, +) / Double(rb.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in ra.indices {
            sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) * (ra[i] - ma); sbb += (rb[i] - mb) * (rb[i] - mb)
        }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }

    static func ranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var r = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = rank }
            i = j + 1
        }
        return r
    }

    /// The share of the target that every column in `columns` together leaves unexplained, cross-fitted: a ridge
    /// linear model on the standardised numbers, booleans and the 10 commonest categories of each text column
    /// (one-vs-rest for classes), or the best single column when that does better (the linear model misses curves).
    /// At most 4,000 training rows (evenly spaced) and 100 inputs, so that it stays quick on any table.
    static func restUnexplained(_ input: Input, columns: [Int], trainRows: [Int], y: [Double], singles: [Double])
        -> Double
    {
        let best = singles.min() ?? 1
        guard !columns.isEmpty, trainRows.count >= 8 else { return best }
        let stride = max(1, (trainRows.count + 3_999) / 4_000)
        let kept = Swift.stride(from: 0, to: trainRows.count, by: stride).map { $0 }
        let design = designMatrix(input.table, columns: columns, rows: kept.map { trainRows[$0] }, limit: 100)
        guard !design.isEmpty else { return best }
        let classes = input.task.isClassification ? input.classes?.count ?? 2 : nil
        let rest = ridgeUnexplained(design, kept.map { y[$0] }, classes: classes) ?? best
        return min(best, rest)
    }

    /// The model inputs of `columns` on `rows`, one array per input: standardised numbers (missing at the mean),
    /// and a 0/1 input for each of the 10 commonest values of a text column; at most `limit` inputs.
    static func designMatrix(_ t: CSVTable, columns: [Int], rows: [Int], limit: Int) -> [[Double]] {
        var design: [[Double]] = []
        for c in columns where design.count < limit {
            switch values(t, column: c, rows: rows) {
            case .numbers(let v):
                let present = v.filter { !$0.isNaN }
                guard !present.isEmpty else { continue }
                let m = present.reduce(0, +) / Double(present.count)
                let sd = (present.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(present.count)).squareRoot()
                guard sd > 0 else { continue }
                design.append(v.map { $0.isNaN ? 0 : ($0 - m) / sd })
            case .texts(let s):
                var counts: [String: Int] = [:]
                for x in s { counts[x, default: 0] += 1 }
                let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                for level in ranked.prefix(10).map(\.key) where design.count < limit {
                    design.append(s.map { $0 == level ? 1 : 0 })
                }
            }
        }
        return design
    }

    /// What a ridge linear model of `design` leaves unexplained of `y`, cross-fitted over two halves: squared error
    /// over the mean's (regression), or errors over the commonest class's (`classes`, one-vs-rest outputs); nil when
    /// the normal equations cannot be solved.
    static func ridgeUnexplained(_ design: [[Double]], _ y: [Double], classes: Int?) -> Double? {
        let n = y.count, p = design.count + 1
        let outputs: [[Double]] = classes.map { k in (0..<k).map { c in y.map { Int($0) == c ? 1 : 0 } } } ?? [y]
        var loss = 0.0, base = 0.0
        for fold in 0..<2 {
            let fit = (0..<n).filter { $0 % 2 == fold }, check = (0..<n).filter { $0 % 2 != fold }
            func row(_ i: Int) -> [Double] { [1] + design.map { $0[i] } }
            var a = [Double](repeating: 0, count: p * p)
            for i in fit {
                let x = row(i)
                for r in 0..<p where x[r] != 0 { for s in 0..<p { a[r * p + s] += x[r] * x[s] } }
            }
            for r in 1..<p { a[r * p + r] += 1e-3 * Double(fit.count) }
            a[0] += 1e-9
            guard let l = cholesky(a, p) else { return nil }
            let predictions = outputs.map { out -> [Double] in
                var b = [Double](repeating: 0, count: p)
                for i in fit { let x = row(i); for r in 0..<p { b[r] += x[r] * out[i] } }
                let w = solve(l, p, b)
                return check.map { i in zip(row(i), w).reduce(0) { $0 + $1.0 * $1.1 } }
            }
            let scored = foldLoss(predictions, y, fit: fit, check: check, classification: classes != nil)
            loss += scored.loss
            base += scored.base
        }
        return base > 0 ? loss / base : 1
    }

    /// One fold's loss of `predictions` on `check`, and the constant predictor's (fitted on `fit`).
    static func foldLoss(_ predictions: [[Double]], _ y: [Double], fit: [Int], check: [Int], classification: Bool)
        -> (loss: Double, base: Double)
    {
        var loss = 0.0, base = 0.0
        if classification {
            var overall: [Int: Int] = [:]
            for i in fit { overall[Int(y[i]), default: 0] += 1 }
            let top = overall.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 0
            for (j, i) in check.enumerated() {
                let predicted = predictions.indices.max { predictions[$0][j] < predictions[$1][j] } ?? 0
                if predicted != Int(y[i]) { loss += 1 }
                if top != Int(y[i]) { base += 1 }
            }
        } else {
            let mean = fit.reduce(0) { $0 + y[$1] } / Double(fit.count)
            for (j, i) in check.enumerated() {
                loss += (y[i] - predictions[0][j]) * (y[i] - predictions[0][j])
                base += (y[i] - mean) * (y[i] - mean)
            }
        }
        return (loss, base)
    }

    static func cholesky(_ a: [Double], _ p: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: p * p)
        for i in 0..<p {
            for j in 0...i {
                var s = a[i * p + j]
                for k in 0..<j { s -= l[i * p + k] * l[j * p + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * p + i] = s.squareRoot()
                } else {
                    l[i * p + j] = s / l[j * p + j]
                }
            }
        }
        return l
    }

    static func solve(_ l: [Double], _ p: Int, _ b: [Double]) -> [Double] {
        var z = b
        for i in 0..<p { for k in 0..<i { z[i] -= l[i * p + k] * z[k] }; z[i] /= l[i * p + i] }
        for i in stride(from: p - 1, through: 0, by: -1) {
            for k in (i + 1)..<p { z[i] -= l[k * p + i] * z[k] }; z[i] /= l[i * p + i]
        }
        return z
    }
}
