import Dispatch

/// Splits large element-wise work over the threads BLAS is allowed to use, so that a thread budget covers both.
public enum Parallel {
    /// Below this many elements work stays on the calling thread: handing it out costs more than it saves.
    public static let minimumChunk = 1 << 16

    /// Calls `body` on disjoint ranges covering `0..<count`, concurrently when `count` is large and more than one
    /// thread is allowed. The ranges depend only on `count` and the thread count, so results are reproducible.
    public static func forEachChunk(of count: Int, _ body: (Range<Int>) -> Void) {
        let threads = min(BLAS.threadCount, max(count / minimumChunk, 1))
        if threads <= 1 {
            body(0..<count)
            return
        }
        let chunk = (count + threads - 1) / threads
        withoutActuallyEscaping(body) { body in
            // The chunks are disjoint, so the callers' closures may run concurrently.
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: threads) { i in
                let start = i * chunk
                shared.value(start..<min(start + chunk, count))
            }
        }
    }
}

/// A value handed to concurrent work whose safety the caller guarantees (disjoint ranges of one buffer).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
