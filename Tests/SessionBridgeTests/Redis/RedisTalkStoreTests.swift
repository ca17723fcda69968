import Foundation
import Testing
@testable import SessionBridge

/// The Redis talk engine beyond the contract: its Lua scripts decide as `TalkRules` does on every class of state
/// and request, measure a talk as the file engine renders it, recognise a retried turn, keep to the URL's prefix
/// (an ACL user limited to it can talk), and report damaged store content and an unreachable server.
@Suite(.enabled(if: RedisTestServer.enabled, RedisTestServer.skipReason), .serialized)
struct RedisTalkStoreTests {
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Writes a talk's state straight into Redis, as the engine keeps it (any state, also one the rules would
    /// never reach), replacing what was there.
    static func plant(_ server: RedisTestServer, _ store: RedisTalkStore, _ talk: Conversation) throws {
        let id = talk.header.id
        let c = RedisConnection(server.configuration(), connectTimeoutMilliseconds: 1000, commandTimeoutMilliseconds: 5000)
        var commands: [[[UInt8]]] = [[b("DEL"), store.headerKey(id), store.turnsKey(id), store.noncesKey(id)],
                                     [b("HSET"), store.headerKey(id)] + RedisTalkStore.fields(talk.header),
                                     [b("ZADD"), store.indexKey, b("0"), b(id)]]
        var body = 0
        for t in talk.turns {
            body += Conversation.renderTurnBytes(t).count
            commands.append([b("RPUSH"), store.turnsKey(id), JSONCoding.encode(RedisTalkStore.StoredTurn(t))])
            commands.append([b("HSET"), store.noncesKey(id), b(t.nonce), b(String(t.number))])
        }
        commands.append([b("HSET"), store.headerKey(id), b("body"), b(String(body))])
        for r in try c.pipeline(commands) { if case .error(let e) = r { throw RedisError.server(e) } }
    }

    static func turns(_ count: Int, of people: [String], tag: String) -> [Turn] {
        (0..<count).map { i in
            Turn(number: i + 1, speaker: people[i % people.count], content: "turn \(i + 1)", nonce: "\(tag)n\(i)",
                 checksum: SHA256.hex("turn \(i + 1)"), at: "2026-01-01T00:00:0\(i % 10).000Z")
        }
    }

    /// Random talks in every status, with every kind of speaker, `--next` and expected number, and every closing:
    /// the script's outcome is exactly `TalkRules`' (the same refusal, or the same turn and header), and the stored
    /// talk is what the outcome says.
    @Test func luaDecidesAsTalkRulesOnEveryClassOfStateAndRequest() throws {
        let server = try RedisTestServer()
        let store = RedisTalkStore(configuration: server.configuration(prefix: "rules:"))
        var rng = SplitMix(state: 14)
        var seen: Set<String> = []
        for i in 0..<600 {
            let people = [["a", "b"], ["a", "b", "c"]].randomElement(using: &rng)!
            let maxTurns = [1, 2, 3, 7].randomElement(using: &rng)!
            let held = Int.random(in: 0...maxTurns, using: &rng)
            let header = TalkHeader(id: "r-\(i)", topic: "topic \(i)", initiator: people[0], participants: people,
                                    status: TalkStatus.allCases.randomElement(using: &rng)!, turnCount: held, maxTurns: maxTurns,
                                    nextSpeaker: people.randomElement(using: &rng)!, createdAt: "2026-01-01T00:00:00.000Z",
                                    updatedAt: "2026-01-01T00:00:00.000Z", resolution: ([nil, "done"] as [String?]).randomElement(using: &rng)!,
                                    blockedReason: ([nil, "why"] as [String?]).randomElement(using: &rng)!)
            let planted = Conversation(header: header, turns: Self.turns(held, of: people, tag: "p\(i)"))
            try Self.plant(server, store, planted)
            if i % 3 != 2 {
                let request = TurnRequest(speaker: (people + ["eve"]).randomElement(using: &rng)!, content: "say \(i)", nonce: "q\(i)",
                                          at: "2026-02-01T00:00:00.000Z", next: (([nil, "zed"] as [String?]) + people.map { Optional($0) }).randomElement(using: &rng)!,
                                          expectedNumber: ([nil, held + 1, held, held + 2] as [Int?]).randomElement(using: &rng)!)
                let outcome = try store.append(request, to: header.id)
                switch TalkRules.append(request, after: header, turnsHeld: held) {
                case .refuse(let refusal):
                    seen.insert("append refused \(refusal)".prefix { $0 != "(" }.description)
                    #expect(outcome == .refused(refusal), "case \(i)")
                    #expect(try store.read(header.id, since: nil) == planted, "case \(i): a refusal changed the talk")
                case .accept(let (turn, after)):
                    seen.insert("append accepted" + (after.status == .blocked ? " (max turns)" : ""))
                    #expect(outcome == .appended(turn, after), "case \(i)")
                    #expect(try store.read(header.id, since: nil) == Conversation(header: after, turns: planted.turns + [turn]), "case \(i)")
                }
            } else {
                let kind = ([.resolve(summary: nil), .resolve(summary: "agreed"), .block(reason: "wait")] as [TalkClosing.Kind]).randomElement(using: &rng)!
                let closing = TalkClosing(kind, by: (people + ["eve"]).randomElement(using: &rng)!, at: "2026-03-01T00:00:00.000Z")
                let outcome = try store.close(header.id, closing)
                switch TalkRules.close(closing, header) {
                case .refuse(let refusal):
                    seen.insert("close refused \(refusal)".prefix { $0 != "(" }.description)
                    #expect(outcome == .refused(refusal), "case \(i)")
                    #expect(try store.header(header.id) == header, "case \(i)")
                case .accept(let after):
                    seen.insert("close accepted")
                    #expect(outcome == .closed(after), "case \(i)")
                    #expect(try store.read(header.id, since: nil) == Conversation(header: after, turns: planted.turns), "case \(i)")
                }
            }
        }
        // Every outcome of the rules was met (the cases are a class, not a lucky few).
        for expected in ["append accepted", "append accepted (max turns)", "append refused closed", "append refused notParticipant",
                         "append refused notYourTurn", "append refused nextNotParticipant", "append refused turnTaken", "close accepted",
                         "close refused notParticipant", "close refused alreadyResolved", "close refused notActive"] {
            #expect(seen.contains(expected), "never met: \(expected)")
        }
    }

    /// The scripts' length of a rendered header value equals `Conversation.quote`'s for every ASCII character
    /// (each control character escaped its own way) and for unicode.
    @Test func luaMeasuresValuesAsTheHeaderRendersThem() throws {
        let server = try RedisTestServer()
        let c = RedisConnection(server.configuration())
        let script = Self.b(RedisTalkScripts.prelude + "\nreturn qlen(ARGV[1])")
        var samples = (0..<128).map { String(UnicodeScalar(UInt8($0))) }
        samples += ["", "é", "e\u{301}", "✓ último 🙂", "\"q\" \\ b", "tab\tnl\ncr\r", "\u{7f}\u{1}x\u{1f}", String(repeating: "\u{2}\"", count: 40)]
        for s in samples {
            let r = try c.call(bytes: [Self.b("EVAL"), script, Self.b("0"), Array(s.utf8)])
            #expect(r.integer == Int64(RedisTalkStore.renderedLength(s)), "\(s.unicodeScalars.map(\.value))")
        }
    }

    /// A `say` that makes the talk exactly the limit is accepted and one byte less is refused with the size the
    /// file engine's file would have: with multi-digit turn numbers, a BLOCKED talk at max turns, and header values
    /// that need escapes.
    @Test func theSizeLimitIsTheFileEnginesToTheByte() throws {
        let server = try RedisTestServer()
        let odd = "quote \" back \\ tab\t nl\n ctl\u{1}\u{7f} é"
        var n = 0
        for held in [0, 9, 99] {
            for (maxTurns, next, extra) in [(500, nil, nil), (held + 1, "b", odd), (500, "a", "x")] as [(Int, String?, String?)] {
                n += 1
                let id = "size-\(n)"
                let people = ["a", "b"]
                let header = TalkHeader(id: id, topic: "topic " + odd, initiator: "a", participants: people, status: .active,
                                        turnCount: held, maxTurns: maxTurns, nextSpeaker: people[held % 2], createdAt: "2026-01-01T00:00:00.000Z",
                                        updatedAt: "2026-01-01T00:00:00.000Z", resolution: extra, blockedReason: extra)
                let planted = Conversation(header: header, turns: Self.turns(held, of: people, tag: "s\(n)"))
                let request = TurnRequest(speaker: people[held % 2], content: "content " + odd + "\r\n## Turn 3 — a\n", nonce: "z\(n)",
                                          at: "2026-04-01T00:00:00.000Z", next: next)
                guard case .accept(let (turn, after)) = TalkRules.append(request, after: header, turnsHeld: held) else {
                    Issue.record("the rules refused case \(n)"); continue
                }
                let size = Array(Conversation(header: after, turns: planted.turns + [turn]).render().utf8).count
                let exact = RedisTalkStore(configuration: server.configuration(prefix: "exact:"), maxTalkBytes: size)
                let tight = RedisTalkStore(configuration: server.configuration(prefix: "tight:"), maxTalkBytes: size - 1)
                try Self.plant(server, exact, planted)
                try Self.plant(server, tight, planted)
                #expect(throws: TalkError.tooLarge(id, size: size, limit: size - 1)) { try tight.append(request, to: id) }
                #expect(try tight.read(id, since: nil) == planted)
                #expect(try exact.append(request, to: id) == .appended(turn, after), "case \(n)")
            }
        }
    }

    /// A request sent again with its nonce (a reply lost with the connection) is the turn already stored, even
    /// after others spoke: one turn, never two.
    @Test func aRetriedSayIsTheTurnAlreadyStored() throws {
        let server = try RedisTestServer()
        let store = RedisTalkStore(configuration: server.configuration(prefix: "retry:"))
        let h = TalkHeader(id: "retry-1", topic: "t", initiator: "a", participants: ["a", "b"], status: .active, turnCount: 0,
                           maxTurns: 10, nextSpeaker: "a", createdAt: "c", updatedAt: "c", resolution: nil, blockedReason: nil)
        guard case .created = try store.create(h) else { Issue.record("create refused"); return }
        let first = TurnRequest(speaker: "a", content: "once", nonce: "abc123", at: "2026-01-01T00:00:00.000Z")
        guard case .appended(let turn, _) = try store.append(first, to: "retry-1") else { Issue.record("turn refused"); return }
        _ = try store.append(TurnRequest(speaker: "b", content: "reply", nonce: "def456", at: "2026-01-01T00:00:01.000Z"), to: "retry-1")
        guard case .appended(let again, let header) = try store.append(first, to: "retry-1") else { Issue.record("the retry was refused"); return }
        #expect(again == turn && header.turnCount == 2)
        #expect(try store.read("retry-1", since: nil).turns.map(\.nonce) == ["abc123", "def456"])
    }

    /// Every key the engine writes is under the URL's prefix, and an ACL user allowed only that prefix holds a
    /// whole talk: create, say, read, list, wait, resolve.
    @Test func keysStayUnderThePrefixForAnACLUser() throws {
        let server = try RedisTestServer(password: "adm1n")
        #expect(try server.admin(["ACL", "SETUSER", "carol", "on", ">c4rol", "~carol:*", "+@all"]) == .status("OK"))
        let dir = makeTempDir("sb-redis-talk-acl")
        let environment = Environment(["SESSION_BRIDGE_STORE": "redis://carol:c4rol@127.0.0.1:\(server.port)?prefix=carol",
                                       "SESSION_BRIDGE_HOME": dir + "/store"])
        let location = try TalkLocation.find(dir: dir + "/.talks", environment: environment)
        let store = try StoreFactory.openTalks(location: location, environment: environment)
        #expect(store is RedisTalkStore && store.keepsMirror)
        let t = Talks(location: location, environment: environment, sessionName: nil, store: store)
        let id = try t.create(topic: "ACL", with: ["dan"], maxTurns: 4, first: nil, as: "carol").header.id
        _ = try t.say(id, content: "one", as: "carol", next: nil)
        guard case .yourTurn = try t.wait(id, as: "dan", timeoutSeconds: 2) else { Issue.record("dan's turn not seen"); return }
        _ = try t.say(id, content: "two", as: "dan", next: nil)
        #expect(try t.read(id).turns.map(\.content) == ["one", "two"])
        #expect(t.list(status: .active).talks.map(\.header.id) == [id])
        #expect(try t.resolve(id, summary: "ok", as: "dan").status == .resolved)
        let keys = (try server.admin(["KEYS", "*"]).array ?? []).compactMap(\.string)
        #expect(!keys.isEmpty && keys.allSatisfy { $0.hasPrefix("carol:") }, "\(keys)")
        // The mirror holds the talk as the file engine would.
        let mirrored = try FileTalkStore(location: location, environment: environment).read(id, since: nil)
        #expect(mirrored == (try store.read(id, since: nil)))
    }

    /// Store content that is not a talk: a header of the wrong form, a turn that is not JSON, a turn list shorter
    /// than the header counts. Each is reported as damaged (never a trap, never taken for an empty talk), and
    /// listing names it without failing the others.
    @Test func damagedStoreContentIsReportedAsDamaged() throws {
        let server = try RedisTestServer()
        let store = RedisTalkStore(configuration: server.configuration(prefix: "bad:"))
        let good = TalkHeader(id: "good-1", topic: "t", initiator: "a", participants: ["a", "b"], status: .active, turnCount: 0,
                              maxTurns: 5, nextSpeaker: "a", createdAt: "c", updatedAt: "c", resolution: nil, blockedReason: nil)
        for id in ["good-1", "status-1", "people-1", "turn-1", "short-1"] {
            var h = good
            h.id = id
            guard case .created = try store.create(h) else { Issue.record("create \(id)"); return }
        }
        _ = try store.append(TurnRequest(speaker: "a", content: "x", nonce: "n1", at: "t"), to: "short-1")
        _ = try store.append(TurnRequest(speaker: "a", content: "x", nonce: "n2", at: "t"), to: "turn-1")
        try server.admin(["HSET", "bad:t:status-1", "status", "MAYBE"])
        try server.admin(["HSET", "bad:t:people-1", "participants", "{\"not\": \"a list\"}"])
        try server.admin(["LSET", "bad:t:turn-1:turns", "0", "not json"])
        try server.admin(["LPOP", "bad:t:short-1:turns"])
        #expect(throws: TalkError.self) { try store.header("status-1") }
        for id in ["status-1", "people-1"] {
            let error = #expect(throws: TalkError.self) { try store.append(TurnRequest(speaker: "a", content: "y", nonce: "m-\(id)", at: "t"), to: id) }
            guard case .damaged(id, _)? = error else { Issue.record("\(id): \(String(describing: error))"); continue }
        }
        #expect(throws: TalkError.damaged("turn-1", .badTrailer(1))) { try store.read("turn-1", since: nil) }
        #expect(throws: TalkError.damaged("short-1", .missingTurns(1, 0))) { try store.read("short-1", since: nil) }
        let listing = try store.list(status: nil)
        #expect(listing.damaged == ["people-1", "status-1"])
        #expect(Set(listing.headers.map(\.id)) == ["good-1", "turn-1", "short-1"])
    }

    /// A server that is down is "store unreachable" (exit code 15), for reading and for a turn.
    @Test func anUnreachableServerIsExitCode15() throws {
        let server = try RedisTestServer()
        var config = server.configuration(prefix: "down:")
        config.commandTimeoutMilliseconds = 300
        let store = RedisTalkStore(configuration: config)
        server.stop()
        for call in [{ _ = try store.ids() }, { _ = try store.header("x-1") },
                     { _ = try store.append(TurnRequest(speaker: "a", content: "x", nonce: "n", at: "t"), to: "x-1") }] as [() throws -> Void] {
            do {
                try call()
                Issue.record("a stopped server answered")
            } catch let error as TalkError {
                guard case .unreachable = error else { Issue.record("\(error)"); continue }
                #expect(error.bridgeError.exitCode == 15)
            }
        }
    }
}
