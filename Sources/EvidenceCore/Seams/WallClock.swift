import Foundation

/// The wall-clock seam. Logic never reads `Date()`: deadlines, retention and grant expiry all
/// take a `WallClock`, so tests drive time explicitly.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The operating system's clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that only moves when told to. Safe to share across tasks.
public final class ManualWallClock: WallClock, @unchecked Sendable {
    // @unchecked: the single stored value is only touched under `lock`.
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date(timeIntervalSince1970: 1_780_000_000)) { current = start }
    public func now() -> Date { lock.lock(); defer { lock.unlock() }; return current }
    public func advance(by seconds: TimeInterval) { lock.lock(); current += seconds; lock.unlock() }
    public func set(_ date: Date) { lock.lock(); current = date; lock.unlock() }
}
