import TuneReport

/// swift-tune's identity.
public enum SwiftTune {
    /// The version of this build.
    public static let version = "0.1.0"
}
