/// The wall-clock time covered by some time intervals: the length of their union, so that trials that ran at once
/// (`--jobs`) count once. Intervals are (start, end) in seconds; an end before its start counts as empty.
public func wallSeconds(_ intervals: [(start: Double, end: Double)]) -> Double {
    var total = 0.0
    var current: (start: Double, end: Double)?
    for i in intervals.filter({ $0.end > $0.start }).sorted(by: { $0.start < $1.start }) {
        if let c = current, i.start <= c.end {
            current = (c.start, max(c.end, i.end))
        } else {
            if let c = current { total += c.end - c.start }
            current = i
        }
    }
    if let c = current { total += c.end - c.start }
    return total
}
