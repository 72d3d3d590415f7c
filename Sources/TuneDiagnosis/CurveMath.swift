import Foundation

/// Small, robust statistics for curves.
public enum CurveMath {
    public static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }

    public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    public static func standardDeviation(_ v: [Double]) -> Double {
        guard v.count > 1 else { return 0 }
        let m = mean(v)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }

    /// The least-squares line y = a + b x, its R^2 and its sum of squared residuals.
    public static func linearFit(_ x: [Double], _ y: [Double]) -> (a: Double, b: Double, r2: Double, residual: Double) {
        let mx = mean(x), my = mean(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (xi, yi) in zip(x, y) {
            sxy += (xi - mx) * (yi - my)
            sxx += (xi - mx) * (xi - mx)
            syy += (yi - my) * (yi - my)
        }
        let b = sxx > 0 ? sxy / sxx : 0
        let a = my - b * mx
        let residual = zip(x, y).reduce(0) { $0 + ($1.1 - a - b * $1.0) * ($1.1 - a - b * $1.0) }
        return (a, b, syy > 0 ? 1 - residual / syy : 1, residual)
    }

    /// The best saturating curve y = floor + scale * exp(-x / tau): tau on a log grid, floor and scale by least
    /// squares for each tau. Returns the fit and its R^2.
    public static func saturatingFit(_ x: [Double], _ y: [Double]) -> (
        floor: Double, scale: Double, tau: Double, r2: Double
    ) {
        let span = max((x.max() ?? 1) - (x.min() ?? 0), 1)
        let my = mean(y)
        let syy = y.reduce(0) { $0 + ($1 - my) * ($1 - my) }
        var best = (floor: my, scale: 0.0, tau: span, r2: 0.0)
        var bestResidual = Double.infinity
        for k in 0...60 {
            let tau = span * Foundation.pow(10, -1.5 + 3.5 * Double(k) / 60)
            let e = x.map { Foundation.exp(-($0 - x[0]) / tau) }
            let fit = linearFit(e, y)
            let residual = fit.residual
            if residual < bestResidual {
                bestResidual = residual
                best = (fit.a, fit.b, tau, syy > 0 ? 1 - residual / syy : 1)
            }
        }
        return best
    }

    /// A centred moving median of window `w` (shrunk at the ends), at the indices `from...` only.
    public static func movingMedian(_ v: [Double], window w: Int, from start: Int = 0) -> [Double] {
        let h = max(w / 2, 1)
        return v.indices.dropFirst(start).map { i in median(Array(v[max(0, i - h)...min(v.count - 1, i + h)])) }
    }

    /// The relative change from the first to the last of `v` (negative when it fell).
    public static func relativeChange(_ v: [Double]) -> Double {
        guard let first = v.first, let last = v.last, first != 0 else { return 0 }
        return (last - first) / abs(first)
    }

    /// The value at quantile `q` (0...1), by linear interpolation.
    public static func quantile(_ v: [Double], _ q: Double) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        let position = q * Double(s.count - 1)
        let lo = Int(position.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (position - Double(lo))
    }
}

/// Formats a number for a sentence: 4 significant digits (3 in scientific notation for very large or small ones).
public func fmt(_ v: Double) -> String {
    guard v.isFinite else { return "\(v)" }
    return String(format: abs(v) >= 1e4 || (abs(v) < 1e-3 && v != 0) ? "%.3g" : "%.4g", v)
}
