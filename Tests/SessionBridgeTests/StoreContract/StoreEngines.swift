import Foundation
import Testing
@testable import SessionBridge

/// Every engine the store contract runs against. Adding an engine is one line here: a maker that opens a fresh,
/// empty store (or says why it cannot, e.g. no redis-server on this machine: its cases are then skipped).
enum StoreEngines {
    static let all: [EngineMaker] = [
        EngineMaker("file") { .available(try .file()) },
        EngineMaker("memory") { .available(.memory()) },
        EngineMaker("redis") { RedisTestServer.enabled ? .available(try .redis()) : .unavailable("redis-server is not installed") },
    ]
}

/// Opens one engine for one test case.
struct EngineMaker: Sendable, CustomTestStringConvertible {
    enum Availability {
        case available(EngineUnderTest)
        /// This machine cannot run the engine (why); the case is skipped, never passed.
        case unavailable(String)
    }

    let name: String
    let make: @Sendable () throws -> Availability

    init(_ name: String, make: @escaping @Sendable () throws -> Availability) {
        self.name = name
        self.make = make
    }

    var testDescription: String { name }

    private static let noted = Collected<String>()

    /// Prints `line` to stderr the first time it is given (a skipped case is otherwise silent in the test log).
    static func noteOnce(_ line: String) {
        guard noted.addIfAbsent(line) else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A fresh store of this engine, or the test case skipped when the engine is unavailable here.
    func open() throws -> EngineUnderTest {
        switch try make() {
        case .available(let engine): return engine
        case .unavailable(let reason):
            EngineMaker.noteOnce("store contract: the \(name) engine is unavailable here, its cases are skipped: \(reason)")
            try Test.cancel("\(name) engine unavailable: \(reason)")
        }
    }
}

/// A fresh store under test, with what the contract needs to know about its engine.
final class EngineUnderTest: @unchecked Sendable {
    let name: String
    let store: any BridgeStore
    /// Moves the engine's clock forward: a manual clock's hand, or real sleeping for engines on the system clock.
    let advanceClock: @Sendable (_ nanoseconds: Int64) -> Void
    /// The engine's clock (what it stamps claims with).
    let now: @Sendable () -> Int64
    /// Locks end by their TTL when the holder never releases them (false for flock(2) locks, which end with the
    /// holder's process instead).
    let locksExpireByTTL: Bool
    /// Puts bytes that are not an intact message among a session's pending messages; nil when the engine cannot
    /// hold such a thing.
    let plantPending: (@Sendable (_ session: String, _ id: String, _ bytes: [UInt8]) -> Void)?
    private let cleanup: @Sendable () -> Void

    init(name: String, store: any BridgeStore, advanceClock: @escaping @Sendable (Int64) -> Void, now: @escaping @Sendable () -> Int64,
         locksExpireByTTL: Bool, plantPending: (@Sendable (String, String, [UInt8]) -> Void)?, cleanup: @escaping @Sendable () -> Void) {
        self.name = name
        self.store = store
        self.advanceClock = advanceClock
        self.now = now
        self.locksExpireByTTL = locksExpireByTTL
        self.plantPending = plantPending
        self.cleanup = cleanup
    }

    /// Removes what the engine left (its temp folder, its server); call when the test is done with it.
    func close() { cleanup() }

    func advance(milliseconds: Int) { advanceClock(Int64(milliseconds) * 1_000_000) }

    /// The file engine in a fresh temp folder, opened through the factory as every command opens it.
    static func file() throws -> EngineUnderTest {
        let root = makeTempDir("contract")
        let stores = try StoreFactory.open(environment: Environment(["SESSION_BRIDGE_HOME": root, "HOME": root]))
        return EngineUnderTest(
            name: "file", store: stores.messages,
            advanceClock: { ns in Thread.sleep(forTimeInterval: Double(ns) / 1e9) },
            now: { Clock.nowNanoseconds() },
            locksExpireByTTL: false,
            plantPending: { session, id, bytes in
                let layout = StoreLayout(root: root)
                FileManager.default.createFile(atPath: layout.message(session, .new, id), contents: Data(bytes))
            },
            cleanup: { try? FileManager.default.removeItem(atPath: root) })
    }

    /// The in-memory engine on a manual clock.
    static func memory() -> EngineUnderTest {
        let clock = StoreClock.manual()
        let store = InMemoryStore(clock: clock)
        return EngineUnderTest(
            name: "memory", store: store,
            advanceClock: { ns in clock.hand?.advance(nanoseconds: ns) },
            now: { clock.now() },
            locksExpireByTTL: true,
            plantPending: { session, id, bytes in store.plantPending(session, id: id, bytes: bytes) },
            cleanup: {})
    }

    /// The Redis engine on a private redis-server (AOF, fsync always) of its own, on the system clock.
    static func redis() throws -> EngineUnderTest {
        let server = try RedisTestServer()
        let root = makeTempDir("contract-redis")
        let stores = try StoreFactory.open(environment: Environment(["SESSION_BRIDGE_STORE": server.url + "?prefix=contract",
                                                                     "SESSION_BRIDGE_HOME": root, "HOME": root]))
        return EngineUnderTest(
            name: "redis", store: stores.messages,
            advanceClock: { ns in Thread.sleep(forTimeInterval: Double(ns) / 1e9) },
            now: { Clock.nowNanoseconds() },
            locksExpireByTTL: true,
            plantPending: { session, id, bytes in
                // Straight into the inbox's keys, as a damaged or hostile writer sharing the server could leave them.
                guard let redis = stores.messages as? RedisStore else { return }
                let b = { (s: String) in Array(s.utf8) }
                _ = try? redis.pipeline([
                    [b("HSET"), redis.sessionKey(session, "msg"), b(id), bytes],
                    [b("HSET"), redis.sessionKey(session, "state"), b(id), b("p")],
                    [b("ZADD"), redis.sessionKey(session, "pending"), b("0"), b(id)],
                ])
            },
            cleanup: {
                server.stop()
                try? FileManager.default.removeItem(atPath: root)
            })
    }
}
