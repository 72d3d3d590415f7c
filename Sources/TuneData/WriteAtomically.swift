import Foundation

/// Writes `data` to `url` through a temporary file and a rename, so the file is whole or absent.
public func writeAtomically(_ data: Data, to url: URL) throws {
    do {
        try data.write(to: url, options: .atomic)
    } catch {
        throw DataError(path: url.path, "cannot write: \(error.localizedDescription)")
    }
}
