#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by one mutex, with a condition variable broadcast on every change: the in-memory engine's only
/// synchronisation, and the flag the combined change signal's threads raise. `withLock` runs a critical section;
/// `update` runs one and wakes every waiter; `wait` blocks (releasing the mutex) until a predicate over the value
/// holds or the deadline passes.
final class Monitor<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Only touched with `mutex` held.
    private var value: Value
    /// How many `update`s ran (only touched with `mutex` held): a wait for any change at all compares it.
    private var updates: UInt64 = 0

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the mutex.
    func withLock<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Runs `body` holding the mutex, then wakes every waiter (whether or not `body` changed anything).
    func update<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer {
            updates &+= 1
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return try body(&value)
    }

    /// Runs `body` with the value and the number of `update`s so far, holding the mutex.
    func withLockCounting<T>(_ body: (inout Value, UInt64) -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value, updates)
    }

    /// Wakes every waiter without a change (a clock moved, say).
    func broadcast() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Blocks until `ready` returns a result or `timeoutMilliseconds` pass (nil: no timeout); the mutex is held while
    /// `ready` runs. Nil on timeout. `ready` is checked first, so a condition already true returns at once.
    func wait<T>(timeoutMilliseconds: Int?, until ready: (inout Value) -> T?) -> T? {
        waitCounting(timeoutMilliseconds: timeoutMilliseconds) { (value: inout Value, _: UInt64) in ready(&value) }
    }

    /// `wait`, with `ready` also given the number of `update`s so far.
    func waitCounting<T>(timeoutMilliseconds: Int?, until ready: (inout Value, UInt64) -> T?) -> T? {
        let deadline = timeoutMilliseconds.map { Clock.monotonicNanoseconds() + Int64(max(0, min($0, Int(Int32.max)))) * 1_000_000 }
            ?? Int64.max
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let result = ready(&value, updates) { return result }
            let remaining = deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 { return nil }
            waitLocked(nanoseconds: min(remaining, Monitor.sliceNanoseconds))
        }
    }

    /// The longest single wait: the condition's deadline is on the wall clock (POSIX's default), the loop's on the
    /// monotonic one, so a wall-clock step can stretch one slice at most.
    static var sliceNanoseconds: Int64 { 100_000_000 }

    /// One timed wait on the condition, with the mutex held (spurious wake-ups are the caller's loop's business).
    private func waitLocked(nanoseconds: Int64) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let total = Int64(ts.tv_nsec) + nanoseconds % 1_000_000_000
        ts.tv_sec += Int(nanoseconds / 1_000_000_000 + total / 1_000_000_000)
        ts.tv_nsec = Int(total % 1_000_000_000)
        _ = pthread_cond_timedwait(condition, mutex, &ts)
    }
}
