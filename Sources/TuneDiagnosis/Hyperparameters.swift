import Foundation

/// The settings of a run that sharpen the doctor's findings, as far as the logs say them: Lightning's `hparams.yaml`,
/// TensorBoard's HParams records, MLflow run parameters, swift-tune's `model.json`. Every field is nil when unknown.
public struct Hyperparameters: Sendable, Equatable, Codable {
    /// The optimizer family, normalised: "sgd", "adam", "adamw", "rmsprop", "adagrad", ... (lower case).
    public var optimizer: String?
    /// The (initial or peak) learning rate.
    public var learningRate: Double?
    public var momentum: Double?
    public var batchSize: Int?
    /// The number of training rows.
    public var trainingRows: Int?
    /// The learning-rate schedule ("constant", "cosine", ...), lower case.
    public var schedule: String?
    public var weightDecay: Double?
    /// The number of epochs the run was set to train.
    public var epochs: Int?
    /// The constant predictor's loss, when the settings say it (`baseline_loss`, `constant_loss`,
    /// `constant_predictor_loss`).
    public var baselineLoss: Double?
    /// Where they were read from.
    public var source: String?

    public init() {}

    /// Whether nothing is known.
    public var isEmpty: Bool {
        optimizer == nil && learningRate == nil && momentum == nil && batchSize == nil && trainingRows == nil
            && schedule == nil && weightDecay == nil && epochs == nil
    }

    /// Plain SGD: the SGD optimizer without momentum (a momentum of 0, or none named).
    public var isPlainSGD: Bool { optimizer == "sgd" && (momentum ?? 0) == 0 }

    /// Reads the usual names from flat settings (nested keys joined by dots; values as text), whatever their case and
    /// separators: `lr`, `learning_rate`, `learningRate`, `learning_rate_init` (scikit-learn), `optim.lr`;
    /// `batch_size`, `batchSize`, `bs`, `train_batch_size`, `per_device_train_batch_size`; `optimizer`, `optim`,
    /// `solver` (scikit-learn), `optimizer.name`, `optimizer._target_` (Hydra: torch.optim.AdamW); `momentum`;
    /// `weight_decay`, `wd`, `alpha` (scikit-learn, with `solver`); `scheduler`, `lr_scheduler`, `schedule`,
    /// `learning_rate` when it is a word (scikit-learn); `max_epochs`, `epochs`, `num_epochs`, `max_iter`
    /// (scikit-learn, with `solver`); `n_train`, `train_size`, `num_train`, `train_samples`, `training_rows`
    /// (whole numbers of at least 2; a fraction such as 0.8 is not a row count).
    public init(settings: [String: String], source: String? = nil) {
        self.init()
        self.source = source
        let names = SettingNames(settings)
        let sklearn = names.byName["solver"] != nil
        learningRate = names.number([
            "lr", "learningrate", "learningrateinit", "baselr", "initlr", "initiallr", "maxlr", "peaklr"
        ])
        if let b = names.number(["batchsize", "trainbatchsize", "perdevicetrainbatchsize", "bs"]), b >= 1,
            b == b.rounded()
        {
            batchSize = Int(b)
        }
        let opt =
            names.word(["optimizer", "optim", "opt", "solver", "optimizername", "optimizertype"])
            ?? names.optimizerByPath()
        optimizer = opt.flatMap(Self.optimizerFamily)
        momentum = names.number(["momentum", "sgdmomentum"]).flatMap { (0...1).contains($0) ? $0 : nil }
        weightDecay = names.number(["weightdecay", "wd", "l2"] + (sklearn ? ["alpha"] : []))
        schedule = names.word(
            ["scheduler", "lrscheduler", "schedule", "lrschedule", "sched", "lrpolicy"]
                + (sklearn ? ["learningrate"] : []))?.lowercased()
        if let e = names.number(
            ["maxepochs", "epochs", "numepochs", "nepochs", "numtrainepochs"] + (sklearn ? ["maxiter"] : [])), e >= 1,
            e == e.rounded()
        {
            epochs = Int(e)
        }
        if let n = names.number([
            "ntrain", "trainsize", "numtrain", "trainsamples", "ntrainsamples", "numtrainsamples", "trainingrows",
            "trainrows", "numtrainingsamples", "trainingsamples"
        ]),
            n >= 2, n == n.rounded()
        {
            trainingRows = Int(n)
        }
        let baseline = names.number(["baselineloss", "constantloss", "constantpredictorloss", "nullmodelloss"])
        baselineLoss = baseline.flatMap { $0 > 0 ? $0 : nil }
        if isEmpty && baselineLoss == nil { self.source = nil }
    }

    /// Flat settings by name: the last part of each key, normalised ("optim.Learning-Rate" -> "learningrate"), and
    /// the full key normalised, for names that only mean something with their parent ("optimizer.name").
    struct SettingNames {
        /// By the normalised last part of the key; the first key in sorted order wins.
        var byName: [String: String] = [:]
        /// By the normalised full key, parts joined by dots.
        var byPath: [String: String] = [:]

        init(_ settings: [String: String]) {
            func norm(_ s: Substring) -> String { s.lowercased().filter { $0.isLetter || $0.isNumber } }
            for key in settings.keys.sorted() {
                let value = settings[key]!.trimmingCharacters(in: .whitespaces)
                let parts = key.split(separator: ".")
                guard let last = parts.last else { continue }
                let name = norm(last)
                if byName[name] == nil { byName[name] = value }
                byPath[parts.map(norm).joined(separator: ".")] = value
            }
        }

        /// The value of the first of `names` that is set to a finite number.
        func number(_ names: [String]) -> Double? {
            for n in names { if let v = byName[n].flatMap(Hyperparameters.parseNumber), v.isFinite { return v } }
            return nil
        }

        /// The value of the first of `names` that is set to a word (not empty, not a number).
        func word(_ names: [String]) -> String? {
            for n in names { if let v = byName[n], !v.isEmpty, Hyperparameters.parseNumber(v) == nil { return v } }
            return nil
        }

        /// The optimizer named by a nested key, the first in sorted order: `optimizer.name`, `optim._target_`,
        /// `optimizer.type`, `optimizer.class`.
        func optimizerByPath() -> String? {
            for (path, value) in byPath.sorted(by: { $0.key < $1.key })
            where (path.hasPrefix("optimizer.") || path.hasPrefix("optim."))
                && (path.hasSuffix(".name") || path.hasSuffix(".target") || path.hasSuffix(".type")
                    || path.hasSuffix(".class"))
            {
                return value
            }
            return nil
        }
    }

    /// The optimizer family of a name or class path: "torch.optim.AdamW" -> "adamw", "SGD" -> "sgd".
    public static func optimizerFamily(_ name: String) -> String? {
        let n =
            name.lowercased().split(whereSeparator: { $0 == "." || $0 == "/" || $0 == ":" }).last.map(String.init) ?? ""
        for family in [
            "adamw", "adamax", "nadam", "radam", "adam", "rmsprop", "adagrad", "adadelta", "sgd", "lbfgs", "lion",
            "lamb"
        ] where n.contains(family) {
            return family
        }
        return n.isEmpty ? nil : n
    }

    /// A number written as text: "0.001", "1e-3", "32"; nil for words, lists and booleans.
    static func parseNumber(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
        guard !t.isEmpty, t.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { return nil }
        return Double(t)
    }

    /// Fills what this does not know from `other`.
    public mutating func fill(from other: Hyperparameters) {
        optimizer = optimizer ?? other.optimizer
        learningRate = learningRate ?? other.learningRate
        momentum = momentum ?? other.momentum
        batchSize = batchSize ?? other.batchSize
        trainingRows = trainingRows ?? other.trainingRows
        schedule = schedule ?? other.schedule
        weightDecay = weightDecay ?? other.weightDecay
        epochs = epochs ?? other.epochs
        baselineLoss = baselineLoss ?? other.baselineLoss
        source = source ?? other.source
    }

    /// A short description: "SGD lr 0.001, batch 2, 1000 training rows".
    public var summary: String {
        var parts: [String] = []
        if let optimizer {
            parts.append(
                optimizer == "sgd"
                    ? (momentum.map { $0 > 0 ? "SGD with momentum \(fmt($0))" : "plain SGD" } ?? "SGD") : optimizer)
        }
        if let learningRate { parts.append("lr \(fmt(learningRate))") }
        if let schedule { parts.append("\(schedule) schedule") }
        if let weightDecay, weightDecay > 0 { parts.append("weight decay \(fmt(weightDecay))") }
        if let batchSize { parts.append("batch \(batchSize)") }
        if let trainingRows { parts.append("\(trainingRows) training rows") }
        if let epochs { parts.append("\(epochs) epochs") }
        return parts.joined(separator: ", ")
    }
}
