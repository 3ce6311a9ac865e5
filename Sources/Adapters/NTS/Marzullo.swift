/// Marzullo's interval intersection: the smallest interval consistent with the largest number
/// of sources, so that a minority of falsetickers is outvoted.
///
/// Guarantees: the returned interval lies inside every interval counted in `members`; touching
/// intervals (one ends where the next starts) count as agreeing. Refuses nothing: the caller
/// decides whether `members.count` is a majority.
public enum Marzullo {
    /// The interval the largest group of sources agrees on, and who is in that group.
    public struct Agreement: Hashable, Sendable {
        public var lower: Double
        public var upper: Double
        /// Indices (into the input) of the intervals that contain `lower...upper`.
        public var members: [Int]
        public var midpoint: Double { (lower + upper) / 2 }
        public var halfWidth: Double { (upper - lower) / 2 }
    }

    /// `intervals` are `(lower, upper)` with `lower <= upper`; returns nil for an empty input.
    public static func intersect(_ intervals: [(lower: Double, upper: Double)]) -> Agreement? {
        guard !intervals.isEmpty else { return nil }
        // Edges sorted by value; at equal values a start sorts before an end, so touching intervals overlap.
        var edges: [(value: Double, isStart: Bool)] = []
        for iv in intervals { edges.append((iv.lower, true)); edges.append((iv.upper, false)) }
        edges.sort { $0.value < $1.value || ($0.value == $1.value && $0.isStart && !$1.isStart) }
        var count = 0, best = 0
        var lower = 0.0, upper = 0.0
        for (i, e) in edges.enumerated() {
            if e.isStart {
                count += 1
                if count > best {
                    best = count; lower = e.value
                    upper = edges[(i + 1)...].first(where: { _ in true })?.value ?? e.value
                }
            } else {
                count -= 1
            }
        }
        let members = intervals.indices.filter { intervals[$0].lower <= lower && intervals[$0].upper >= upper }
        return Agreement(lower: lower, upper: upper, members: members)
    }
}
