/// The wall clock an engine stamps claims, heartbeats and lock expiries with: the system clock in use; a manual clock
/// in tests, so that a lease or a lock's TTL runs out by `advance` instead of by sleeping.
package struct StoreClock: Sendable {
    /// The hand of a manual clock; nil for the system clock.
    package let hand: ManualClock?

    package static let system = StoreClock(hand: nil)

    /// A clock that moves only when its hand is moved.
    package static func manual(startingAt start: Int64 = Clock.nowNanoseconds()) -> StoreClock {
        StoreClock(hand: ManualClock(start))
    }

    /// Nanoseconds since the epoch.
    package func now() -> Int64 { hand?.now ?? Clock.nowNanoseconds() }
}

/// The hand of a manual `StoreClock`: reads and moves its time (thread-safe).
package final class ManualClock: Sendable {
    private let time: Monitor<Int64>
    private let observers: Monitor<[@Sendable () -> Void]>

    init(_ start: Int64) {
        time = Monitor(start)
        observers = Monitor([])
    }

    package var now: Int64 { time.withLock { $0 } }

    /// Moves the time forward by `nanoseconds` (never backward), then wakes whatever waits on a deadline of it.
    package func advance(nanoseconds: Int64) {
        time.withLock { $0 += max(0, nanoseconds) }
        for observer in observers.withLock({ $0 }) { observer() }
    }

    package func advance(seconds: Double) { advance(nanoseconds: Int64(seconds * 1e9)) }

    /// Runs `observer` after every move (an engine wakes its waiters: a lock's TTL may have run out).
    func onAdvance(_ observer: @escaping @Sendable () -> Void) {
        observers.withLock { $0.append(observer) }
    }
}
