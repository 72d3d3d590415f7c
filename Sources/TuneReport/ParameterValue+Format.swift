import Foundation
import TuneSearch

extension ParameterValue {
    /// The value as tables and charts print it: a real number with `%g`, anything else as it is.
    public var compactDescription: String {
        if case .double(let d) = self { return String(format: "%g", d) }
        return description
    }
}
