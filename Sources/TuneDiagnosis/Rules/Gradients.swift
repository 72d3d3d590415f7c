/// `exploding_gradients` and `vanishing_gradients`, when gradient norms are logged; the clip threshold suggested is
/// the 90th percentile of the logged norms.
public struct Gradients: DiagnosisRule {
    public let id = FindingID.gradients
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let norms = points(c.gradientNormMean).filter { $0.value.isFinite && $0.value >= 0 }
        guard norms.count >= 3, let first = norms.first?.value, first > 0 else { return nil }
        let last = norms[norms.count - 1].value
        let maxima = c.gradientNormMax.compactMap { $0 }.filter(\.isFinite)
        let clip = CurveMath.quantile(maxima.isEmpty ? norms.map(\.value) : maxima, 0.9)
        if last > first * t.gradientExplosion {
            return Finding(
                id: .explodingGradients, severity: .warning,
                confidence: Finding.confidence(margin: Finding.ratioAbove(last / first, t.gradientExplosion)),
                epochs: [norms[0].epoch, norms[norms.count - 1].epoch],
                evidence: ["first_gradient_norm": first, "last_gradient_norm": last, "suggested_clip": clip],
                explanation:
                    "The mean gradient norm grew \(fmt(last / first))x, from \(fmt(first)) to \(fmt(last)): updates are getting larger, not smaller, as training goes on.",
                nextStep:
                    "Clip gradients at their 90th percentile norm, about \(fmt(clip)) (tune train --clip \(fmt(clip))), and lower the learning rate 3x; batch normalisation also steadies them."
            )
        }
        if last < first * t.gradientVanishing {
            return Finding(
                id: .vanishingGradients, severity: .warning,
                confidence: Finding.confidence(
                    margin: Finding.ratioAbove(first / max(last, 1e-300), 1 / t.gradientVanishing)),
                epochs: [norms[0].epoch, norms[norms.count - 1].epoch],
                evidence: ["first_gradient_norm": first, "last_gradient_norm": last],
                explanation:
                    "The mean gradient norm shrank to \(fmt(last / first)) of its first value (\(fmt(first)) to \(fmt(last))): the early layers stop receiving a learning signal.",
                nextStep:
                    "Use ReLU or Swish instead of sigmoid/tanh in hidden layers, He initialisation, batch normalisation, or a shallower network."
            )
        }
        return nil
    }
}
