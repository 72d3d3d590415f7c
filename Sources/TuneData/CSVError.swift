/// A problem with a data file or its use, naming the file and, where it applies, the line and column.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    /// The 1-based line in the file, when the problem sits on one.
    public let line: Int?
    /// The column's name (or 1-based number), when the problem sits in one.
    public let column: String?
    public let message: String

    public init(path: String, line: Int? = nil, column: String? = nil, _ message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var place = path
        if let line { place += ":\(line)" }
        if let column { place += " (column \(column))" }
        return "\(place): \(message)"
    }
}
