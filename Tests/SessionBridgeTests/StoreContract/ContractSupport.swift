import Foundation
import Testing
@testable import SessionBridge

/// Small builders and concurrency tools shared by the contract suites.
enum Contract {
    static func manifest(_ id: String, name: String? = nil) -> SessionManifest {
        let now = Clock.nowISO8601()
        return SessionManifest(id: id, name: name ?? id, projectPath: "/p/\(id)", host: "contract-host", pid: 1, pidStartTime: nil,
                               agent: "cli", claudeSessionId: nil, codexThreadId: nil, startedAt: now, lastSeen: now,
                               state: "live", endedAt: nil)
    }

    /// Creates sessions with these ids (their names are the ids).
    @discardableResult
    static func sessions(_ store: any BridgeStore, _ ids: String...) throws -> [SessionManifest] {
        try ids.map { id in
            let m = manifest(id)
            try store.createSession(m)
            return m
        }
    }

    static func message(from: String, to: String, _ type: MessageType = .query, content: String = "hello",
                        id: String = Identifiers.messageID(), inReplyTo: String? = nil) -> Message {
        Message(id: id, from: from, fromName: from, to: to, toName: to, type: type, inReplyTo: inReplyTo, content: content)
    }

    /// The reply to `query`, with the id derived from the question's, as `reply` makes it.
    static func reply(to query: Message, content: String = "answer") -> Message {
        Message(id: Identifiers.replyID(for: query.id), from: query.to, fromName: query.toName, to: query.from, toName: query.fromName,
                type: .response, inReplyTo: query.id, content: content)
    }

    /// A question from "asker" delivered to "lib" and claimed by it: the start of every lease and reply case.
    static func claimedQuery(_ store: any BridgeStore, content: String = "hello") throws -> (Message, ClaimRecord) {
        let q = message(from: "asker", to: "lib", .query, content: content)
        try store.deliver(q)
        _ = try store.claim("lib", q.id, keepInFlight: true)
        return (q, try #require(try store.claimRecord("lib", q.id)))
    }

    static func answeredReceipt(_ query: Message) -> DeliveryEvent {
        DeliveryEvent(event: .answered, by: query.to, byName: query.toName, via: "reply", replyId: Identifiers.replyID(for: query.id))
    }

    /// The code of the store error `body` throws; nil when it throws none.
    /// Any other error is a breach of the contract (every requirement throws `StoreError`) and is recorded.
    static func errorCode<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> StoreError.Code? {
        do {
            _ = try body()
            return nil
        } catch let error as StoreError {
            return error.code
        } catch {
            Issue.record("not a StoreError: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// A lease policy with a short lease (below the 1 s a setting allows), so engines on the real clock wait little.
    static func policy(leaseMilliseconds: Int, maxDeliveries: Int) -> LeasePolicy {
        var p = LeasePolicy(leaseSeconds: 1, maxDeliveries: maxDeliveries)
        p.leaseNanoseconds = Int64(leaseMilliseconds) * 1_000_000
        return p
    }

    /// Runs `body(i)` on `count` threads of their own, started together; returns when all have finished.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let start = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        for i in 0..<count {
            finished.enter()
            let t = Thread {
                start.wait()
                body(i)
                finished.leave()
            }
            t.stackSize = 1 << 20
            t.start()
        }
        for _ in 0..<count { start.signal() }
        finished.wait()
    }
}

/// A thread-safe collection of results from many threads.
final class Collected<T: Sendable>: @unchecked Sendable {
    fileprivate let lock = NSLock()
    fileprivate var items: [T] = []

    func add(_ item: T) { lock.lock(); items.append(item); lock.unlock() }
    func add(contentsOf more: [T]) { lock.lock(); items += more; lock.unlock() }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return items }
}

extension Collected where T: Equatable {
    /// Adds `item` unless it is there; true when it was added.
    func addIfAbsent(_ item: T) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if items.contains(item) { return false }
        items.append(item)
        return true
    }
}

/// Hands a value that is not `Sendable` (a change signal, used by one thread at a time) to another thread.
final class Handed<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
