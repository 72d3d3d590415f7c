import Foundation
import TuneData
import TuneNN
import TuneRandom
import TuneReport
import TuneRun
import TuneTensor
import TuneTraining

/// `tune demo`: a generated three-class data set written as CSV, then the staged recipe (`tune search`) on it.
public enum Demo {
    /// Rows of the demo's data set.
    public static let rows = 3000

    /// Writes the demo's data set to `path`, atomically: three classes, 12 features (5 informative, 2 redundant, 5
    /// noise), 10% of the labels drawn at random, so that the best accuracy possible is about 0.93.
    public static func writeData(to path: String, seed: UInt64) throws {
        var rng = PhiloxRandom(seed: seed)
        let (x, y) = Synthetic.classification(
            count: rows, classes: 3, informative: 5, redundant: 2, noise: 5, labelNoise: 0.1, using: &rng)
        try writeAtomically(Data(Synthetic.csv(x: x, targets: y.map(String.init)).utf8), to: URL(fileURLWithPath: path))
    }

    /// The demo's settings: the recipe from a 64-64 ReLU network, at most `epochs` epochs per trial.
    public static func settings(data: String, out: String, seed: UInt64, epochs: Int) -> TrainSettings {
        var s = TrainSettings()
        s.data = data
        s.target = "label"
        s.epochs = epochs
        s.seed = seed
        s.out = out
        return s
    }

    /// The `tune search` command line equivalent to `settings`.
    public static func command(_ s: TrainSettings) -> String {
        [
            "tune", "search", "--data", s.data ?? "", "--target", s.target ?? "", "--epochs", String(s.epochs),
            "--seed", String(s.seed),
            "--out", s.out ?? ""
        ].map(shellQuoted).joined(separator: " ")
    }
}
