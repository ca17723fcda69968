import Foundation
import Testing
@testable import SessionBridge

/// The engines the talk contract runs against. A new engine adds a case here and passes the same suite unchanged.
enum TalkEngine: String, CaseIterable, CustomStringConvertible, Sendable {
    case file
    case memory
    case redis

    var description: String { rawValue }

    /// A fresh, empty engine. `maxTalkBytes`: the size limit a `say` may not cross. The file and Redis engines are
    /// opened through the factory, as every command opens them; each Redis engine gets a prefix of its own on one
    /// private redis-server (skipped, never passed, where redis-server is not installed).
    func make(maxTalkBytes: Int? = nil) throws -> any TalkStore {
        switch self {
        case .file, .redis:
            let dir = makeTempDir("sb-talk-contract")
            var env = ["SESSION_BRIDGE_HOME": dir + "/store"]
            if let maxTalkBytes { env["SESSION_BRIDGE_MAX_TALK_BYTES"] = String(maxTalkBytes) }
            if self == .redis {
                guard RedisTestServer.enabled else { try Test.cancel("redis-server is not installed") }
                env["SESSION_BRIDGE_STORE"] = try TalkEngine.redisServer.get().url + "?prefix=talks-" + String(Identifiers.sessionID().prefix(12))
            }
            let environment = Environment(env)
            return try StoreFactory.openTalks(location: try TalkLocation.find(dir: dir + "/.talks", environment: environment), environment: environment)
        case .memory:
            return MemoryTalkStore(maxTalkBytes: maxTalkBytes ?? TalkStorage.defaultMaxTalkBytes)
        }
    }

    /// The redis-server the Redis cases share (stopped when the test process ends).
    static let redisServer = Result { try RedisTestServer() }
}

/// The behaviour every talk engine must show: atomic turn-taking under concurrency (exactly one winner per turn,
/// no turn lost or duplicated), max turns, resolve and block, reading since a turn, a change signal that wakes a
/// waiter, listing, and the size limit.
@Suite struct TalkStoreContractTests {
    static let participants = ["a", "b", "c", "d"]

    func header(_ id: String, participants: [String] = participants, maxTurns: Int = 100, at: String = "2026-01-01T00:00:00.000Z") -> TalkHeader {
        TalkHeader(id: id, topic: "topic of \(id)", initiator: participants[0], participants: participants, status: .active, turnCount: 0,
                   maxTurns: maxTurns, nextSpeaker: participants[0], createdAt: at, updatedAt: at, resolution: nil, blockedReason: nil)
    }

    func request(_ speaker: String, _ content: String, next: String? = nil, expected: Int? = nil, at: String? = nil) -> TurnRequest {
        TurnRequest(speaker: speaker, content: content, nonce: Identifiers.sessionID().prefix(12).lowercased(), at: at ?? Clock.nowISO8601(),
                    next: next, expectedNumber: expected)
    }

    @discardableResult
    func say(_ store: any TalkStore, _ id: String, _ speaker: String, _ content: String, next: String? = nil) throws -> Turn {
        guard case .appended(let turn, _) = try store.append(request(speaker, content, next: next), to: id) else {
            Issue.record("\(speaker) should have been able to speak in \(id)")
            throw TalkError.unknownTalk(id)
        }
        return turn
    }

    func created(_ store: any TalkStore, _ h: TalkHeader) throws {
        guard case .created(let talk) = try store.create(h) else { Issue.record("create \(h.id) refused"); return }
        #expect(talk.header == h && talk.turns.isEmpty)
    }

    @Test(arguments: TalkEngine.allCases) func createReadAndTakenIDs(_ engine: TalkEngine) throws {
        let store = try engine.make()
        #expect(try store.ids().isEmpty)
        let h = header("plan-1")
        try created(store, h)
        #expect(try store.create(header("plan-1", participants: ["x", "y"])) == .idTaken)
        #expect(try store.header("plan-1") == h)          // the taken id left the talk unchanged
        #expect(try store.read("plan-1", since: nil) == Conversation(header: h))
        #expect(try store.exists("plan-1") && !store.exists("plan-2") && store.ids() == ["plan-1"])
        for call in [{ _ = try store.header("nope-1") }, { _ = try store.read("nope-1", since: nil) },
                     { _ = try store.append(request("a", "x"), to: "nope-1") },
                     { _ = try store.close("nope-1", TalkClosing(.resolve(summary: nil), by: "a", at: "t")) }] as [() throws -> Void] {
            #expect(throws: TalkError.unknownTalk("nope-1")) { try call() }
        }
    }

    @Test(arguments: TalkEngine.allCases) func turnTakingRules(_ engine: TalkEngine) throws {
        let store = try engine.make()
        try created(store, header("rules-1", participants: ["a", "b", "c"]))
        let wrong = try store.append(request("b", "too early"), to: "rules-1")
        #expect(wrong == .refused(.notYourTurn(speaker: "b", next: "a")))
        #expect(try store.append(request("eve", "hi"), to: "rules-1") == .refused(.notParticipant("eve", participants: ["a", "b", "c"])))
        #expect(try store.append(request("a", "hi", next: "zed"), to: "rules-1") == .refused(.nextNotParticipant("zed", participants: ["a", "b", "c"])))
        #expect(try store.append(request("a", "hi", expected: 2), to: "rules-1") == .refused(.turnTaken(expected: 2, actual: 1)))
        #expect(try store.read("rules-1", since: nil).turns.isEmpty)    // every refusal left the talk unchanged

        let content = "line one\r\n## Turn 9 — x\n<!-- turn -->\n\t trailing  \n"
        guard case .appended(let t1, let h1) = try store.append(request("a", content, expected: 1), to: "rules-1") else {
            Issue.record("a's first turn refused"); return
        }
        #expect(t1.number == 1 && t1.speaker == "a" && t1.content == content && t1.isIntact)
        #expect(h1.turnCount == 1 && h1.nextSpeaker == "b" && h1.updatedAt == t1.at)        // round-robin
        try say(store, "rules-1", "b", "two", next: "a")                                     // --next
        #expect(try store.header("rules-1").nextSpeaker == "a")
        try say(store, "rules-1", "a", "three")
        let talk = try store.read("rules-1", since: nil)
        #expect(talk.turns.map(\.speaker) == ["a", "b", "a"] && talk.turns.map(\.number) == [1, 2, 3])
        #expect(talk.turns[0].content == content && talk.header.turnCount == 3 && talk.header.nextSpeaker == "b")
    }

    @Test(arguments: TalkEngine.allCases) func maxTurnsBlocksTheTalk(_ engine: TalkEngine) throws {
        let store = try engine.make()
        try created(store, header("short-1", participants: ["a", "b"], maxTurns: 2))
        try say(store, "short-1", "a", "one")
        guard case .appended(_, let h) = try store.append(request("b", "two"), to: "short-1") else { Issue.record("turn 2 refused"); return }
        #expect(h.status == .blocked && h.blockedReason == "max turns reached" && h.turnCount == 2)
        #expect(try store.header("short-1") == h)
        #expect(try store.append(request("a", "three"), to: "short-1") == .refused(.closed(.blocked, reason: "max turns reached")))
        #expect(try store.read("short-1", since: nil).turns.count == 2)
    }

    @Test(arguments: TalkEngine.allCases) func resolveAndBlock(_ engine: TalkEngine) throws {
        let store = try engine.make()
        try created(store, header("close-1", participants: ["a", "b"]))
        try say(store, "close-1", "a", "one")
        #expect(try store.close("close-1", TalkClosing(.block(reason: "x"), by: "eve", at: "t")) == .refused(.notParticipant("eve", participants: ["a", "b"])))
        guard case .closed(let blocked) = try store.close("close-1", TalkClosing(.block(reason: "waiting on ops"), by: "b", at: "2026-02-01T00:00:00.000Z")) else {
            Issue.record("block refused"); return
        }
        #expect(blocked.status == .blocked && blocked.blockedReason == "waiting on ops" && blocked.updatedAt == "2026-02-01T00:00:00.000Z")
        #expect(try store.close("close-1", TalkClosing(.block(reason: "again"), by: "a", at: "t")) == .refused(.notActive(.blocked)))
        #expect(try store.append(request("b", "two"), to: "close-1") == .refused(.closed(.blocked, reason: "waiting on ops")))
        guard case .closed(let resolved) = try store.close("close-1", TalkClosing(.resolve(summary: nil), by: "a", at: "2026-02-02T00:00:00.000Z")) else {
            Issue.record("resolve of a blocked talk refused"); return
        }
        #expect(resolved.status == .resolved && resolved.resolution == "resolved by a" && resolved.turnCount == 1)
        #expect(try store.close("close-1", TalkClosing(.resolve(summary: "twice"), by: "b", at: "t")) == .refused(.alreadyResolved))
        #expect(try store.append(request("b", "two"), to: "close-1") == .refused(.closed(.resolved, reason: "waiting on ops")))
        #expect(try store.header("close-1") == resolved)
        #expect(try store.read("close-1", since: nil).turns.map(\.content) == ["one"])

        try created(store, header("close-2", participants: ["a", "b"]))
        guard case .closed(let direct) = try store.close("close-2", TalkClosing(.resolve(summary: "agreed"), by: "b", at: "t2")) else {
            Issue.record("resolve refused"); return
        }
        #expect(direct.status == .resolved && direct.resolution == "agreed" && direct.blockedReason == nil)
    }

    @Test(arguments: TalkEngine.allCases) func readSinceATurn(_ engine: TalkEngine) throws {
        let store = try engine.make()
        try created(store, header("since-1", participants: ["a", "b"]))
        var said: [Turn] = []
        for i in 1...6 { said.append(try say(store, "since-1", i % 2 == 1 ? "a" : "b", "turn \(i)")) }
        let all = try store.read("since-1", since: nil)
        #expect(all.turns == said)
        for n in [0, 3, 5, 6, 99] {
            let part = try store.read("since-1", since: n)
            #expect(part.header == all.header && part.turns == Array(said.dropFirst(min(n, 6))), "since \(n)")
        }
    }

    @Test(arguments: TalkEngine.allCases) func listsWithStatusNewestFirst(_ engine: TalkEngine) throws {
        let store = try engine.make()
        try created(store, header("old-1", at: "2026-01-01T00:00:00.000Z"))
        try created(store, header("mid-1", at: "2026-01-02T00:00:00.000Z"))
        try created(store, header("new-1", at: "2026-01-03T00:00:00.000Z"))
        _ = try store.append(request("a", "now", at: "2026-01-04T00:00:00.000Z"), to: "old-1")
        _ = try store.close("mid-1", TalkClosing(.resolve(summary: nil), by: "a", at: "2026-01-01T12:00:00.000Z"))
        #expect(try store.list(status: nil).headers.map(\.id) == ["old-1", "new-1", "mid-1"])
        #expect(try store.list(status: .active).headers.map(\.id) == ["old-1", "new-1"])
        #expect(try store.list(status: .resolved).headers.map(\.id) == ["mid-1"])
        #expect(try store.list(status: .blocked).headers.isEmpty)
        #expect(try store.list(status: nil).damaged.isEmpty)
        #expect(try store.list(status: nil).headers.first == store.header("old-1"))
    }

    @Test(arguments: TalkEngine.allCases) func sizeLimitRefusesTheTurnNotTheTalk(_ engine: TalkEngine) throws {
        let store = try engine.make(maxTalkBytes: 4096)
        try created(store, header("big-1", participants: ["a", "b"]))
        try say(store, "big-1", "a", String(repeating: "x", count: 1000))
        let error = #expect(throws: TalkError.self) {
            _ = try store.append(request("b", String(repeating: "y", count: 5000)), to: "big-1")
        }
        guard case .tooLarge("big-1", let size, 4096)? = error else { Issue.record("not tooLarge: \(String(describing: error))"); return }
        #expect(size > 4096)
        let talk = try store.read("big-1", since: nil)
        #expect(talk.turns.count == 1 && talk.header.nextSpeaker == "b")
        try say(store, "big-1", "b", "short")                 // the talk goes on
        guard case .closed = try store.close("big-1", TalkClosing(.resolve(summary: nil), by: "a", at: "t")) else { Issue.record("resolve refused"); return }
    }

    /// Threads racing for the same turn with its expected number: exactly one wins each turn; every win is in
    /// the talk once, in order, and nothing else is.
    @Test(arguments: TalkEngine.allCases) func exactlyOneWinsEachRacedTurn(_ engine: TalkEngine) throws {
        let store = try engine.make()
        let turns = engine == .file ? 40 : 400
        try created(store, header("race-1", participants: ["a", "b"], maxTurns: turns))
        let wins = TalkContractShared<[(number: Int, nonce: String)]>([])
        let failures = TalkContractShared<[String]>([])
        onThreads(6) { thread in
            var rounds = 0
            while rounds < turns * 20 {
                rounds += 1
                guard let h = try? store.header("race-1") else { failures.mutate { $0.append("header unreadable") }; return }
                if h.status != .active { return }
                let r = request(h.nextSpeaker, "thread \(thread) round \(rounds)", expected: h.turnCount + 1)
                do {
                    switch try store.append(r, to: "race-1") {
                    case .appended(let turn, _):
                        if turn.nonce != r.nonce || turn.number != h.turnCount + 1 { failures.mutate { $0.append("wrong turn \(turn.number)") } }
                        wins.mutate { $0.append((turn.number, turn.nonce)) }
                    case .refused(.turnTaken), .refused(.notYourTurn), .refused(.closed):
                        continue
                    case .refused(let other):
                        failures.mutate { $0.append("unexpected refusal \(other)") }
                    }
                } catch {
                    failures.mutate { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.value.isEmpty, "\(failures.value.prefix(3))")
        let talk = try store.read("race-1", since: nil)
        let won = wins.value.sorted { $0.number < $1.number }
        #expect(talk.turns.count == turns && talk.header.turnCount == turns && talk.header.status == .blocked)
        #expect(won.map(\.number) == Array(1...turns))                             // one winner per turn
        #expect(talk.turns.map(\.number) == Array(1...turns))
        #expect(talk.turns.map(\.nonce) == won.map(\.nonce))                       // every win stored, nothing else
        #expect(Set(talk.turns.map(\.nonce)).count == turns)
        #expect(talk.turns.enumerated().allSatisfy { $0.element.speaker == ($0.offset % 2 == 0 ? "a" : "b") })
    }

    /// Each participant on its own thread, waiting on the change signal for its turn: the talk runs round-robin
    /// to its max turns with no turn lost, duplicated or out of order.
    @Test(arguments: TalkEngine.allCases) func waitersTakeTurnsInOrder(_ engine: TalkEngine) throws {
        let store = try engine.make()
        let turns = engine == .file ? 24 : 200
        let people = TalkStoreContractTests.participants
        try created(store, header("round-1", participants: people, maxTurns: turns))
        let spoken = TalkContractShared<[String: Int]>([:])
        let failures = TalkContractShared<[String]>([])
        onThreads(people.count) { i in
            let me = people[i]
            while true {
                let outcome: TalkWaitOutcome
                do { outcome = try store.waitForTurn("round-1", as: me, timeoutMilliseconds: 20_000) } catch {
                    failures.mutate { $0.append("\(me): \(error)") }
                    return
                }
                switch outcome {
                case .turnArrived:
                    do {
                        switch try store.append(request(me, "\(me) speaks"), to: "round-1") {
                        case .appended: spoken.mutate { $0[me, default: 0] += 1 }
                        case .refused(let r): failures.mutate { $0.append("\(me) refused on its turn: \(r)") }
                        }
                    } catch {
                        failures.mutate { $0.append("\(me): \(error)") }
                    }
                case .closed:
                    return
                case .timedOut, .refused:
                    failures.mutate { $0.append("\(me): \(outcome)") }
                    return
                }
            }
        }
        #expect(failures.value.isEmpty, "\(failures.value.prefix(3))")
        let talk = try store.read("round-1", since: nil)
        #expect(talk.turns.count == turns && talk.header.status == .blocked)
        #expect(talk.turns.map(\.number) == Array(1...turns))
        #expect(talk.turns.enumerated().allSatisfy { $0.element.speaker == people[$0.offset % people.count] })
        #expect(spoken.value.values.reduce(0, +) == turns)
    }

    @Test(arguments: TalkEngine.allCases) func waitWakesOnATurnAndEnds(_ engine: TalkEngine) throws {
        let store = try engine.make()
        try created(store, header("wake-1", participants: ["a", "b"]))
        #expect(try store.waitForTurn("wake-1", as: "a", timeoutMilliseconds: 0) == .turnArrived(store.header("wake-1")))
        #expect(try store.waitForTurn("wake-1", as: "eve", timeoutMilliseconds: 0) == .refused(.notParticipant("eve", participants: ["a", "b"])))
        let started = Clock.monotonicNanoseconds()
        #expect(try store.waitForTurn("wake-1", as: "b", timeoutMilliseconds: 150) == .timedOut)
        #expect(Clock.monotonicNanoseconds() - started >= 140_000_000)

        // A waiter blocked on the signal wakes when a's turn lands, long before its timeout.
        let outcome = TalkContractShared<TalkWaitOutcome?>(nil)
        let woke = TalkContractShared<Int64>(0)
        let waiter = Thread {
            let o = try? store.waitForTurn("wake-1", as: "b", timeoutMilliseconds: 30_000)
            woke.mutate { $0 = Clock.monotonicNanoseconds() }
            outcome.mutate { $0 = o }
        }
        waiter.start()
        Thread.sleep(forTimeInterval: 0.2)
        let spokeAt = Clock.monotonicNanoseconds()
        try say(store, "wake-1", "a", "your turn, b")
        let deadline = Date().addingTimeInterval(20)
        while outcome.value == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        guard case .turnArrived(let h)? = outcome.value else { Issue.record("waiter did not see its turn: \(String(describing: outcome.value))"); return }
        #expect(h.turnCount == 1 && h.nextSpeaker == "b")
        #expect(woke.value - spokeAt < 10_000_000_000)

        // A closed talk ends every wait at once.
        let closedOutcome = TalkContractShared<TalkWaitOutcome?>(nil)
        Thread { closedOutcome.mutate { $0 = try? store.waitForTurn("wake-1", as: "a", timeoutMilliseconds: 30_000) } }.start()
        Thread.sleep(forTimeInterval: 0.2)
        _ = try store.close("wake-1", TalkClosing(.block(reason: "stop"), by: "b", at: "t"))
        let end = Date().addingTimeInterval(20)
        while closedOutcome.value == nil && Date() < end { Thread.sleep(forTimeInterval: 0.005) }
        guard case .closed(let closed)? = closedOutcome.value else { Issue.record("waiter did not see the close"); return }
        #expect(closed.status == .blocked && closed.blockedReason == "stop")
    }

    /// A networked engine's mirror: the memory engine plus `TalkMirror` leaves, byte for byte, the file the file
    /// engine writes for the same changes, and the file engine reads it back as the same talk.
    @Test func mirrorMatchesTheFileEngineByteForByte() throws {
        let dir = makeTempDir("sb-talk-mirror")
        let environment = Environment(["SESSION_BRIDGE_HOME": dir + "/store"])
        let fileLocation = try TalkLocation.find(dir: dir + "/file/.talks", environment: environment)
        let mirrorLocation = try TalkLocation.find(dir: dir + "/mirror/.talks", environment: environment)
        let file = FileTalkStore(location: fileLocation, environment: environment)
        let memory = MemoryTalkStore()
        let mirror = TalkMirror(location: mirrorLocation)
        func sync() throws {
            let h = try memory.header("m-1")
            try mirror.update(h) { (n: Int) throws(TalkError) in try memory.read("m-1", since: n).turns }
        }
        let h = header("m-1", participants: ["a", "b"], maxTurns: 5)
        try created(file, h)
        try created(memory, h)
        try sync()
        let contents = ["plain", "## Turn 7 — b\n<!-- turn nonce=x -->", "cr\rand\r\nCRLF", "\n\nblank edges\n\n", "último ✓"]
        for (i, text) in contents.enumerated() {
            let r = request(i % 2 == 0 ? "a" : "b", text, at: "2026-03-0\(i + 1)T00:00:00.000Z")
            #expect(try file.append(r, to: "m-1") == memory.append(r, to: "m-1"))
            if i != 2 { try sync() }                       // a mirror that fell behind catches up in order
        }
        _ = try file.close("m-1", TalkClosing(.resolve(summary: "done"), by: "a", at: "2026-03-09T00:00:00.000Z"))
        _ = try memory.close("m-1", TalkClosing(.resolve(summary: "done"), by: "a", at: "2026-03-09T00:00:00.000Z"))
        try sync()
        let fileBytes = try FileSystem.read(fileLocation.file("m-1"), limit: 1 << 20)
        let mirrorBytes = try FileSystem.read(mirrorLocation.file("m-1"), limit: 1 << 20)
        #expect(fileBytes == mirrorBytes)
        let mirrored = FileTalkStore(location: mirrorLocation, environment: environment)
        #expect(try mirrored.read("m-1", since: nil) == memory.read("m-1", since: nil))
        // A mirror edited to hold more turns than the server is kept aside and rebuilt.
        try (String(decoding: mirrorBytes, as: UTF8.self) + "\n## Turn 6 — a\n\nforged\n\n<!-- turn number=6 speaker=a nonce=f at=t sha256=0 -->\n")
            .write(toFile: mirrorLocation.file("m-1"), atomically: false, encoding: .utf8)
        try sync()
        #expect(try FileSystem.read(mirrorLocation.file("m-1"), limit: 1 << 20) == fileBytes)
    }

    /// The service the CLI uses runs unchanged on every engine.
    @Test(arguments: TalkEngine.allCases) func talksServiceOnEveryEngine(_ engine: TalkEngine) throws {
        let dir = makeTempDir("sb-talk-service")
        let environment = Environment(["SESSION_BRIDGE_HOME": dir + "/store"])
        let location = try TalkLocation.find(dir: dir + "/.talks", environment: environment)
        let store = engine == .file ? try StoreFactory.openTalks(location: location, environment: environment) : try engine.make()
        let t = Talks(location: location, environment: environment, sessionName: nil, store: store)
        let id = try t.create(topic: "Schema v2", with: ["app"], maxTurns: 3, first: nil, as: "lib").header.id
        #expect(id.hasPrefix("schema-v2-"))
        #expect(try t.resolveID(String(id.prefix(12))) == id)
        #expect(throws: BridgeError.conflict(.talkRefused(talk: id, .notYourTurn(speaker: "app", next: "lib"), listingParticipants: true))) { try t.say(id, content: "hi", as: "app", next: nil) }
        #expect(throws: BridgeError.invalidInput(.notAParticipant(option: "--next", name: "x", participants: ["lib", "app"]))) { try t.say(id, content: "hi", as: "lib", next: "x") }
        #expect(try t.say(id, content: "one", as: "lib", next: nil).number == 1)
        guard case .yourTurn = try t.wait(id, as: "app", timeoutSeconds: 1) else { Issue.record("app's turn not seen"); return }
        #expect(throws: WaitEnded.turnNotYet) { try t.wait(id, as: "lib", timeoutSeconds: 0.05) }
        #expect(try t.read(id, since: 0).turns.count == 1)
        #expect(try t.block(id, reason: "later \n\n", as: "app").blockedReason == "later")
        #expect(throws: BridgeError.conflict(.talkRefused(talk: id, .closed(.blocked, reason: "later"), listingParticipants: true))) { try t.say(id, content: "x", as: "app", next: nil) }
        #expect(try t.resolve(id, summary: nil, as: "lib").resolution == "resolved by lib")
        #expect(throws: BridgeError.conflict(.talkRefused(talk: id, .alreadyResolved, listingParticipants: false))) { try t.resolve(id, summary: nil, as: "app") }
        #expect(t.list(status: .resolved).talks.map(\.header.id) == [id])
        #expect(try t.normalize(id, as: "lib").changed == false)
    }
}

/// Runs `body(0..<count)` on `count` threads at once (each its own thread, however many cores there are, so
/// threads that wait for each other all run) and returns when all have ended.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread {
            body(i)
            group.leave()
        }.start()
    }
    group.wait()
}

/// A value shared between test threads.
final class TalkContractShared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
