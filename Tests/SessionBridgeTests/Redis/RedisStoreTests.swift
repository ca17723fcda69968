import Foundation
import Testing
@testable import SessionBridge

/// The Redis engine through the factory, against a private server: exactly-once steps under concurrency, replies,
/// leases, locks, the change signal, a restart, and the real binary with `SESSION_BRIDGE_STORE=redis://…`.
@Suite(.enabled(if: RedisTestServer.enabled, RedisTestServer.skipReason), .serialized)
struct RedisStoreTests {
    static func manifest(_ id: String) -> SessionManifest {
        let now = Clock.nowISO8601()
        return SessionManifest(id: id, name: id, projectPath: "/p/\(id)", host: "h", pid: 1, pidStartTime: nil, agent: "cli",
                               claudeSessionId: nil, codexThreadId: nil, startedAt: now, lastSeen: now, state: "live", endedAt: nil)
    }

    static func message(from: String, to: String, _ type: MessageType = .query, content: String = "hello") -> Message {
        Message(from: from, fromName: from, to: to, toName: to, type: type, content: content)
    }

    func open(_ server: RedisTestServer, prefix: String = "t") throws -> any BridgeStore {
        let root = makeTempDir("sb-redis-local")
        return try StoreFactory.open(environment: Environment(["SESSION_BRIDGE_STORE": server.url + "?prefix=\(prefix)",
                                                               "SESSION_BRIDGE_HOME": root, "HOME": root])).messages
    }

    @Test func theFactoryOpensRedisAndAnUnreachableServerIsExitCode15() throws {
        let server = try RedisTestServer()
        let store = try open(server)
        #expect(store is RedisStore)
        #expect(store.location.hasPrefix("redis://127.0.0.1:"))
        server.stop()
        do {
            _ = try store.sessionIDs()
            Issue.record("a stopped server answered")
        } catch {
            #expect(error.code == .unreachable)
            #expect(BridgeError(error).exitCode == 15)
        }
    }

    @Test func deliverClaimAndStatesAreExactlyOnceUnderConcurrency() throws {
        let server = try RedisTestServer()
        let store = try open(server)
        try store.createSession(Self.manifest("a"))
        try store.createSession(Self.manifest("b"))
        let sent = (0..<300).map { i in Self.message(from: "a", to: "b", .ping, content: "m\(i)") }
        for m in sent { try store.deliver(m) }
        #expect(throws: StoreError.self) { try store.deliver(sent[0]) }
        #expect(try store.count("b", .pending) == 300)
        #expect(try store.sentMessage(sender: "a", id: sent[7].id) == sent[7])
        let taken = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            guard let s = try? open(server) else { return }
            while let pending = try? s.inboxSnapshot("b").pending, !pending.isEmpty {
                for id in pending.shuffled() {
                    if case .claimed(let m)? = try? s.claim("b", id, keepInFlight: false) { taken.mutate { $0.append(m.id) } }
                }
            }
        }
        let ids = taken.value
        let expectedIDs = Set(sent.map { $0.id })
        #expect(ids.count == 300 && Set(ids) == expectedIDs, "every message taken once: \(ids.count)")
        #expect(try store.count("b", .pending) == 0)
        #expect(try store.count("b", .done) == 300)
        #expect(try store.locate("b", sent[0].id) == .done)
        #expect(try store.deliveryState("b", "nope") == .absent)
    }

    @Test func replyAndCompleteOnceAndLeasesRedeliverByRecord() throws {
        let server = try RedisTestServer()
        let store = try open(server)
        try store.createSession(Self.manifest("a"))
        try store.createSession(Self.manifest("b"))
        let q = Self.message(from: "a", to: "b")
        try store.deliver(q)
        guard case .claimed = try store.claim("b", q.id, keepInFlight: true), let rec = try store.claimRecord("b", q.id) else {
            Issue.record("no claim"); return
        }
        #expect(rec.delivery == 1)
        #expect(try store.claims("b") == [rec])
        #expect(try store.claim("b", q.id, keepInFlight: true) == .gone)
        // Two listeners take over the same expired claim: one wins.
        let wins = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            if case .claimed? = try? store.redeliver("b", rec) { wins.mutate { $0 += 1 } }
        }
        #expect(wins.value == 1)
        guard let rec2 = try store.claimRecord("b", q.id) else { Issue.record("claim lost"); return }
        #expect(rec2.delivery == 2)
        #expect(try store.finishClaim("b", rec) == false, "the old record is gone")
        let reply = Message(id: Identifiers.replyID(for: q.id), from: "b", fromName: "b", to: "a", toName: "a", type: .response,
                            inReplyTo: q.id, content: "answer")
        let receipt = DeliveryEvent(event: .answered, by: "b", byName: "b", via: "reply", replyId: reply.id)
        let answered = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            if (try? store.replyAndComplete("b", rec2, query: q, reply: reply, receipt: receipt)) != nil { answered.mutate { $0 += 1 } }
        }
        #expect(answered.value == 1)
        #expect(try store.deliveryState("a", reply.id) == .delivered(.pending))
        #expect(try store.locate("b", q.id) == .done)
        #expect(try store.events(sender: "a", messageID: q.id) == [receipt])
        #expect(try store.claims("b").isEmpty)
    }

    @Test func locksAreExclusiveAndATTLFreesADeadHoldersLock() throws {
        let server = try RedisTestServer()
        let store = try open(server)
        guard let held = try store.acquire(.inbox("b"), ttlMilliseconds: 300, wait: false) else { Issue.record("not acquired"); return }
        #expect(try store.acquire(.inbox("b"), ttlMilliseconds: 300, wait: false) == nil)
        #expect(try held.renew())
        held.release()
        #expect(try store.acquire(.inbox("b"), ttlMilliseconds: 200, wait: false) != nil, "released")
        // The previous one was never released (its holder "died" when dropped? no: deinit releases), so plant one.
        _ = try server.admin(["SET", "t:lock:watcher:h1", "someone", "PX", "200"])
        #expect(try store.acquire(.watcher(host: "h1"), ttlMilliseconds: 1000, wait: false) == nil)
        let start = Date()
        #expect(try store.acquire(.watcher(host: "h1"), ttlMilliseconds: 1000, wait: true) != nil)
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test func theChangeSignalWakesWithinMillisecondsAndSurvivesARestart() throws {
        let server = try RedisTestServer()
        let store = try open(server)
        try store.createSession(Self.manifest("a"))
        try store.createSession(Self.manifest("b"))
        let signal = try store.changeSignal(.inbox("b"), alsoWatching: [])
        #expect(signal.pollingReason == nil)
        #expect(signal.wait(timeoutMilliseconds: 150) == false)
        let sender = Thread { usleep(100_000); try? store.deliver(Self.message(from: "a", to: "b", .ping)) }
        let start = Date()
        sender.start()
        #expect(signal.wait(timeoutMilliseconds: 5000))
        let waited = Date().timeIntervalSince(start)
        #expect(waited < 1.0, "woke after \(waited) s")
        try server.restart()
        _ = signal.wait(timeoutMilliseconds: 2000)   // the lost connection is a wake-up: look again
        #expect(try store.count("b", .pending) == 1, "AOF kept the delivered message across the restart")
        let sender2 = Thread { usleep(100_000); try? store.deliver(Self.message(from: "a", to: "b", .ping)) }
        sender2.start()
        #expect(signal.wait(timeoutMilliseconds: 5000))
    }

    /// How many times the server ran `EVAL` and `EVALSHA` (INFO commandstats).
    static func scriptCalls(_ c: RedisConnection) throws -> (eval: Int, evalsha: Int) {
        let info = try c.call(["INFO", "commandstats"]).string ?? ""
        func calls(_ name: String) -> Int {
            guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(name):") }),
                  let field = line.split(separator: ":", maxSplits: 1).last?.split(separator: ",").first(where: { $0.hasPrefix("calls=") })
            else { return 0 }
            return Int(field.dropFirst("calls=".count)) ?? 0
        }
        return (calls("eval"), calls("evalsha"))
    }

    /// Scripts run by their SHA-1: each digest is the one the server computes, and a script's text is sent only when
    /// the server lacks it (after a start or `SCRIPT FLUSH`: NOSCRIPT, then EVAL once), never with every call.
    @Test func scriptsRunByDigestAndTheirTextIsSentOnlyAfterAFlush() throws {
        let server = try RedisTestServer()
        let store = try open(server)
        let direct = RedisConnection(server.configuration())
        for script in RedisScripts.all {
            #expect(try direct.call(["SCRIPT", "LOAD", script]).string == SHA1.hex(script))
        }
        try store.createSession(Self.manifest("a"))
        try store.createSession(Self.manifest("b"))
        _ = try direct.call(["SCRIPT", "FLUSH"])
        let before = try Self.scriptCalls(direct)
        for _ in 0..<5 { try store.touchHeartbeat("a") }
        let after = try Self.scriptCalls(direct)
        #expect(after.eval - before.eval == 1, "the heartbeat's text went \(after.eval - before.eval) times")
        #expect(after.evalsha - before.evalsha >= 5)
        #expect(try store.lastSeen("a") != nil)
        // A flush before every step: each still runs exactly once (NOSCRIPT means it did not run).
        var sent: [Message] = []
        for i in 0..<6 {
            _ = try direct.call(["SCRIPT", "FLUSH"])
            let m = Self.message(from: "a", to: "b", .ping, content: "m\(i)")
            try store.deliver(m)
            sent.append(m)
        }
        #expect(try store.count("b", .pending) == 6)
        for m in sent {
            _ = try direct.call(["SCRIPT", "FLUSH"])
            #expect(try store.claim("b", m.id, keepInFlight: false) == .claimed(m))
            #expect(try store.claim("b", m.id, keepInFlight: false) == .gone)
        }
        #expect(try store.count("b", .done) == 6)
        #expect(try store.count("b", .pending) == 0)
    }

    /// A heartbeat is a key with the TTL; once it runs out the session reads as seen one TTL ago, so a remote reader
    /// takes it for stale (not for as recent as its manifest's start), and an unknown session still reads as nothing.
    @Test func aHeartbeatThatRanOutReadsAsSeenOneTTLAgoAndStale() throws {
        let server = try RedisTestServer()
        let store = try open(server, prefix: "hb")
        let direct = RedisConnection(server.configuration())
        try store.createSession(Self.manifest("gone"))
        try store.createSession(Self.manifest("here"))
        let ttl = try #require(try direct.call(["PTTL", "hb:s:gone:hb"]).integer)
        #expect(ttl > 0 && ttl <= Int64(RedisStore.heartbeatTTLMilliseconds))
        _ = try direct.call(["PEXPIRE", "hb:s:gone:hb", "1"])
        Thread.sleep(forTimeInterval: 0.05)
        try store.touchHeartbeat("here")
        let ttlNs = Int64(RedisStore.heartbeatTTLMilliseconds) * 1_000_000
        // A reader takes its clock first, then reads (as `peers` does): the session must still be one TTL old.
        let now = Clock.nowNanoseconds()
        Thread.sleep(forTimeInterval: 0.2)
        let gone = try #require(try store.lastSeen("gone"))
        #expect(gone <= now - ttlNs && gone >= now - ttlNs - 5_000_000_000)
        let rows = Dictionary(uniqueKeysWithValues: try store.sessionSnapshots().map { ($0.manifest.id, $0) })
        for (id, expected) in [("gone", PeerState.stale), ("here", .active)] {
            let row = try #require(rows[id])
            #expect(PeerState.of(row.manifest, lastSeenNanoseconds: row.lastSeen ?? 0, now: now,
                                 localHost: "another-host") == expected, "\(id)")
        }
        #expect(try store.lastSeen("nobody") == nil)
        try store.touchHeartbeat("nobody")
        #expect(try store.lastSeen("nobody") == nil)
    }

    /// The digest matches the server's at every padding boundary (text lengths 0 to 200).
    @Test func sha1MatchesTheServerForEveryLengthAroundABlock() throws {
        let server = try RedisTestServer()
        let direct = RedisConnection(server.configuration())
        for n in 0...200 {
            let script = "return '" + String(repeating: "x", count: n) + "'"
            #expect(try direct.call(["SCRIPT", "LOAD", script]).string == SHA1.hex(script), "length \(n)")
        }
    }

    /// The real binary on a Redis store: two sessions, ask and reply; and silence plus exit 15 when Redis is down.
    @Test func theCLIAsksAndRepliesThroughRedis() throws {
        let server = try RedisTestServer()
        let rootA = makeTempDir("sb-redis-cli-a"), rootB = makeTempDir("sb-redis-cli-b")
        let storeURL = ["SESSION_BRIDGE_STORE": server.url + "?prefix=cli"]
        let a = try CLI.run(["start", "--name", "alice"], root: rootA, key: "ka", extra: storeURL)
        let b = try CLI.run(["start", "--name", "bob"], root: rootB, key: "kb", extra: storeURL)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        let ask = try CLI.run(["ask", "bob", "ping?"], root: rootA, key: "ka", extra: storeURL)
        #expect(ask.status == 0, "\(ask.stderr)")
        let listen = try CLI.run(["listen", "--timeout", "5"], root: rootB, key: "kb", extra: storeURL)
        #expect(listen.status == 0 && listen.stdout.contains("ping?"), "\(listen.stdout) \(listen.stderr)")
        server.stop()
        let start = Date()
        let down = try CLI.run(["peers"], root: rootA, key: "ka", extra: storeURL)
        #expect(down.status == 15, "\(down.status) \(down.stderr)")
        #expect(down.stderr.contains("unreachable"))
        #expect(Date().timeIntervalSince(start) < 2)
    }
}

/// A value shared by test threads.
final class Locked<T>: @unchecked Sendable {
    private var v: T
    private let lock = NSLock()
    init(_ v: T) { self.v = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
    func mutate(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
}
