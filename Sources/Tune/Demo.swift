import Foundation
import TuneData
import TuneNN
import TuneTensor
import TuneTraining

/// `tune demo`: two spirals written as a CSV file, then `tune train` on it with a Swish network.
public enum Demo {
    /// Points per class of the demo's spirals.
    public static let pointsPerClass = 600

    /// Writes the demo's data set (two spirals, `label` 0 or 1) to `path`, atomically.
    public static func writeData(to path: String, seed: UInt64) throws {
        var rng = PhiloxRandom(seed: seed)
        let (x, y) = Synthetic.twoSpirals(pointsPerClass: pointsPerClass, noise: 0.02, using: &rng)
        try writeAtomically(Data(Synthetic.csv(x: x, targets: y.map(String.init)).utf8), to: URL(fileURLWithPath: path))
    }

    /// The demo's training settings: a 64-64 Swish network, Adam at 0.01, batch size chosen from sqrt(N).
    public static func settings(data: String, out: String, seed: UInt64, epochs: Int, learningRate: Double) -> TrainSettings {
        var s = TrainSettings()
        s.data = data
        s.target = "label"
        s.hidden = [64, 64]
        s.activation = .swish
        s.lr = learningRate
        s.epochs = epochs
        s.seed = seed
        s.out = out
        return s
    }

    /// The `tune train` command line equivalent to `settings`.
    public static func command(_ s: TrainSettings) -> String {
        "tune train --data \(s.data ?? "") --target \(s.target ?? "") --hidden \(s.hidden.map(String.init).joined(separator: ",")) --activation \(s.activation.rawValue) --lr \(s.lr) --epochs \(s.epochs) --seed \(s.seed) --out \(s.out ?? "")"
    }
}
