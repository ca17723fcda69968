/// The Redis talk engine: talks on the shared Redis server, so participants on any hosts `say`, `show` and `wait`
/// on the same talk. Every change is one script (`RedisTalkScripts`) that checks the rules of `TalkRules` and writes
/// in one atomic step on the server; a `say` retried after a lost connection carries the same nonce and is
/// recognised as the turn already stored. `talk wait` blocks on the talk's event stream (`XREAD`), and every
/// change is also announced on the store's all-inboxes stream, so a watcher or dashboard on another host wakes.
/// Keys live under the URL's prefix. The markdown in `.talks/` is each host's mirror (`TalkMirror`, kept by
/// `Talks`), never read here.
package struct RedisTalkStore: TalkStore {
    package let configuration: RedisConfiguration
    let pool: RedisPool
    /// The largest talk (as the file engine would render it) a `say` may produce.
    let maxTalkBytes: Int

    package init(configuration: RedisConfiguration, maxTalkBytes: Int = TalkStorage.defaultMaxTalkBytes) {
        self.init(configuration: configuration, pool: RedisPool(configuration), maxTalkBytes: maxTalkBytes)
    }

    init(configuration: RedisConfiguration, pool: RedisPool, maxTalkBytes: Int) {
        self.configuration = configuration
        self.pool = pool
        self.maxTalkBytes = maxTalkBytes
    }

    package var keepsMirror: Bool { true }

    // MARK: Keys

    func key(_ parts: String...) -> [UInt8] { Array((configuration.prefix + parts.joined(separator: ":")).utf8) }
    var indexKey: [UInt8] { key("talks") }
    /// The stream `changeSignal(.allInboxes)` of the Redis message engine blocks on.
    var allEventsKey: [UInt8] { key("events") }
    func headerKey(_ id: String) -> [UInt8] { key("t", id) }
    func turnsKey(_ id: String) -> [UInt8] { key("t", id, "turns") }
    func noncesKey(_ id: String) -> [UInt8] { key("t", id, "nonces") }
    func eventsKey(_ id: String) -> [UInt8] { key("t", id, "events") }

    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: Calls

    /// Runs a script. `retrying`: the script is safe to repeat (a nonce or token makes a second run the first
    /// one's result), so a lost connection is retried, reconnecting with backoff, within the command timeout.
    func eval(_ script: String, keys: [[UInt8]], args: [[UInt8]], retrying: Bool = false) throws(TalkError) -> RedisReply {
        let command = [Self.b("EVAL"), Self.b(script), Self.b(String(keys.count))] + keys + args
        let deadline = RedisClock.now() + UInt64(configuration.commandTimeoutMilliseconds) * 1_000_000
        do {
            return try pool.with { (c) throws(RedisError) -> RedisReply in
                if retrying { return try c.callRetrying(bytes: command, until: deadline) }
                return try c.call(bytes: command)
            }
        } catch {
            throw Self.talkError(error)
        }
    }

    func call(_ args: [[UInt8]]) throws(TalkError) -> RedisReply {
        do { return try pool.with { (c) throws(RedisError) -> RedisReply in try c.call(bytes: args) } } catch { throw Self.talkError(error) }
    }

    func pipeline(_ commands: [[[UInt8]]]) throws(TalkError) -> [RedisReply] {
        do { return try pool.with { (c) throws(RedisError) -> [RedisReply] in try c.pipeline(commands) } } catch { throw Self.talkError(error) }
    }

    static func talkError(_ error: StoreError) -> TalkError {
        error.code == .unreachable ? .unreachable(error.detail) : .storage(BridgeError(error))
    }

    // MARK: Reading

    package func ids() throws(TalkError) -> [String] {
        (try call([Self.b("ZRANGE"), indexKey, Self.b("0"), Self.b("-1")]).array ?? []).compactMap(\.string).filter(Identifiers.isValidID).sorted()
    }

    package func exists(_ id: String) throws(TalkError) -> Bool {
        guard Identifiers.isValidID(id) else { return false }
        return try call([Self.b("EXISTS"), headerKey(id)]).integer == 1
    }

    package func header(_ id: String) throws(TalkError) -> TalkHeader {
        guard Identifiers.isValidID(id) else { throw .unknownTalk(id) }
        let fields = try call([Self.b("HGETALL"), headerKey(id)])
        if fields.array?.isEmpty ?? true { throw .unknownTalk(id) }
        return try Self.decodeHeader(id, fields)
    }

    package func read(_ id: String, since: Int?) throws(TalkError) -> Conversation {
        guard Identifiers.isValidID(id) else { throw .unknownTalk(id) }
        let from = max(0, since ?? 0)
        let r = try eval(RedisTalkScripts.read, keys: [headerKey(id), turnsKey(id)], args: [Self.b(String(from))])
        guard let parts = r.array else { throw .unknownTalk(id) }
        guard parts.count == 3, let held = parts[1].integer, let stored = parts[2].array else {
            throw .damaged(id, .badFrontmatter("unexpected reply from Redis"))
        }
        let header = try Self.decodeHeader(id, parts[0])
        if Int(held) < header.turnCount { throw .damaged(id, .missingTurns(header.turnCount, Int(held))) }
        var turns: [Turn] = []
        turns.reserveCapacity(stored.count)
        for (i, entry) in stored.enumerated() {
            let number = from + i + 1
            guard let bytes = entry.bytes, let turn = Self.decodeTurn(bytes, number: number) else { throw .damaged(id, .badTrailer(number)) }
            turns.append(turn)
        }
        return Conversation(header: header, turns: turns)
    }

    package func list(status: TalkStatus?) throws(TalkError) -> TalkListing {
        let all = try ids()
        if all.isEmpty { return TalkListing(headers: [], damaged: []) }
        let replies = try pipeline(all.map { [Self.b("HGETALL"), headerKey($0)] })
        var headers: [TalkHeader] = []
        var damaged: [String] = []
        for (id, reply) in zip(all, replies) {
            if reply.array?.isEmpty ?? false { continue }        // removed since the index was read
            guard let h = try? Self.decodeHeader(id, reply) else {
                damaged.append(id)
                continue
            }
            if let status, h.status != status { continue }
            headers.append(h)
        }
        return TalkListing(headers: headers.sorted { $0.updatedAt > $1.updatedAt }, damaged: damaged)
    }

    package func changeSignal(_ id: String) throws(TalkError) -> any TalkChangeSignal {
        do {
            return try RedisChangeSignal(configuration: configuration, streams: [eventsKey(id)])
        } catch {
            throw Self.talkError(RedisStore.storeError(error))
        }
    }

    /// A talk on Redis is kept as fields, never as text: it is always canonical.
    package func normalize(_ id: String, by who: String) throws(TalkError) -> TalkNormalization {
        guard try exists(id) else { throw .unknownTalk(id) }
        return TalkNormalization(id: id, changed: false, strayLinesRemoved: 0)
    }

    // MARK: Changes

    package func create(_ header: TalkHeader) throws(TalkError) -> TalkCreation {
        guard Identifiers.isValidID(header.id) else { throw .storage(.invalidID(Identifiers.printable(header.id))) }
        _ = try FileTalkStore.verifiedHeader(header)
        let token = Self.b(Identifiers.sessionID())
        let r = try eval(RedisTalkScripts.create, keys: [headerKey(header.id), indexKey, eventsKey(header.id), allEventsKey],
                         args: [token, Self.b(header.id)] + Self.fields(header), retrying: true)
        switch r.string {
        case "created", "again": return .created(Conversation(header: header))
        case "taken": return .idTaken
        default: throw .storage(.io(.unexpectedRedisReply(to: .creation)))
        }
    }

    package func append(_ request: TurnRequest, to id: String) throws(TalkError) -> TurnOutcome {
        guard Identifiers.isValidID(id) else { throw .unknownTalk(id) }
        let probe = Turn(number: 0, speaker: request.speaker, content: request.content, nonce: request.nonce,
                         checksum: SHA256.hex(request.content), at: request.at)
        // What the mirror must write back unchanged: the turn (whatever its number) and a header holding its time.
        let block = Conversation.renderTurnBytes(probe)
        let sample = TalkHeader(id: id, topic: "t", initiator: request.speaker, participants: [request.speaker], status: .active,
                                turnCount: 1, maxTurns: 1, nextSpeaker: request.next ?? request.speaker, createdAt: request.at,
                                updatedAt: request.at, resolution: nil, blockedReason: nil)
        try FileTalkStore.verifyRoundTrip(header: sample, headerBytes: Array(Conversation.renderHeader(sample).utf8),
                                          turn: probe, block: block)
        let stored = JSONCoding.encode(StoredTurn(probe))
        let args: [[UInt8]] = [Self.b(request.speaker), Self.b(request.next == nil ? "0" : "1"), Self.b(request.next ?? ""),
                               Self.b(request.expectedNumber == nil ? "0" : "1"), Self.b(String(request.expectedNumber ?? 0)),
                               Self.b(request.nonce), Self.b(request.at), stored, Self.b(String(block.count - 2)),
                               Self.b(String(maxTalkBytes)), Self.b(id)]
        let r = try eval(RedisTalkScripts.append, keys: [headerKey(id), turnsKey(id), noncesKey(id), eventsKey(id), allEventsKey],
                         args: args, retrying: true)
        let parts = r.array ?? []
        switch parts.first?.string {
        case "ok":
            guard parts.count == 3, let number = parts[1].integer else { break }
            var turn = probe
            turn.number = Int(number)
            return .appended(turn, try Self.decodeHeader(id, parts[2]))
        case "dup":
            guard parts.count == 4, let number = parts[1].integer, let bytes = parts[2].bytes,
                  let turn = Self.decodeTurn(bytes, number: Int(number)) else {
                throw .damaged(id, .badTrailer(Int(parts.dropFirst().first?.integer ?? 0)))
            }
            return .appended(turn, try Self.decodeHeader(id, parts[3]))
        case "tooLarge":
            throw .tooLarge(id, size: Int(parts.dropFirst().first?.integer ?? 0), limit: maxTalkBytes)
        default:
            return .refused(try Self.refusal(id, parts))
        }
        throw .storage(.io(.unexpectedRedisReply(to: .turn)))
    }

    package func close(_ id: String, _ closing: TalkClosing) throws(TalkError) -> ClosingOutcome {
        guard Identifiers.isValidID(id) else { throw .unknownTalk(id) }
        let (kind, text): (String, String?) = switch closing.kind {
        case .resolve(let summary): ("resolve", summary)
        case .block(let reason): ("block", reason)
        }
        let limit = TalkStorage.readLimit(maxTalkBytes: maxTalkBytes)
        let r = try eval(RedisTalkScripts.close, keys: [headerKey(id), eventsKey(id), allEventsKey],
                         args: [Self.b(kind), Self.b(closing.by), Self.b(text == nil ? "0" : "1"), Self.b(text ?? ""), Self.b(closing.at),
                                Self.b(String(limit)), Self.b(id)])
        let parts = r.array ?? []
        switch parts.first?.string {
        case "ok":
            guard parts.count == 2 else { break }
            let header = try Self.decodeHeader(id, parts[1])
            // The closed header must read back from the mirror; a value that cannot is refused on the file engine.
            _ = try FileTalkStore.verifiedHeader(header)
            return .closed(header)
        case "tooLarge":
            throw .tooLarge(id, size: Int(parts.dropFirst().first?.integer ?? 0), limit: limit)
        default:
            return .refused(try Self.refusal(id, parts))
        }
        throw .storage(.io(.unexpectedRedisReply(to: .closing)))
    }

    // MARK: Representation

    /// A turn as kept in the list: everything but its number, which is its place.
    struct StoredTurn: Codable {
        var speaker: String
        var content: String
        var nonce: String
        var checksum: String
        var at: String

        init(_ t: Turn) {
            speaker = t.speaker
            content = t.content
            nonce = t.nonce
            checksum = t.checksum
            at = t.at
        }
    }

    static func decodeTurn(_ bytes: [UInt8], number: Int) -> Turn? {
        guard let t = JSONCoding.decode(StoredTurn.self, from: bytes) else { return nil }
        return Turn(number: number, speaker: t.speaker, content: t.content, nonce: t.nonce, checksum: t.checksum, at: t.at)
    }

    /// The length of a header value as `Conversation.renderHeader` writes it (what the scripts' `qlen` computes).
    static func renderedLength(_ value: String?) -> Int {
        value.map { Conversation.quote($0).utf8.count } ?? 4
    }

    /// The header as hash fields, with the byte counts the scripts compute the talk's size from.
    static func fields(_ h: TalkHeader) -> [[UInt8]] {
        let variable = h.status.rawValue.utf8.count + String(h.turnCount).utf8.count + renderedLength(h.nextSpeaker)
            + renderedLength(h.updatedAt) + renderedLength(h.resolution) + renderedLength(h.blockedReason)
        var pairs: [(String, [UInt8])] = [
            ("schema", b(String(h.schema))), ("id", b(h.id)), ("topic", b(h.topic)), ("initiator", b(h.initiator)),
            ("participants", JSONCoding.encode(h.participants)), ("status", b(h.status.rawValue)),
            ("turnCount", b(String(h.turnCount))), ("maxTurns", b(String(h.maxTurns))), ("nextSpeaker", b(h.nextSpeaker)),
            ("createdAt", b(h.createdAt)), ("updatedAt", b(h.updatedAt)),
            ("fixed", b(String(Conversation.renderHeader(h).utf8.count - variable))), ("body", b("0")),
        ]
        if let r = h.resolution { pairs.append(("resolution", b(r))) }
        if let r = h.blockedReason { pairs.append(("blockedReason", b(r))) }
        return pairs.flatMap { [b($0.0), $0.1] }
    }

    /// The header from its hash fields; a field missing or of the wrong form makes the talk damaged.
    static func decodeHeader(_ id: String, _ reply: RedisReply) throws(TalkError) -> TalkHeader {
        guard let map = reply.fieldMap else { throw .damaged(id, .badFrontmatter("not a talk header")) }
        func text(_ name: String) throws(TalkError) -> String {
            guard let s = map[name]?.string else { throw .damaged(id, .badFrontmatter("missing \(name)")) }
            return s
        }
        func number(_ name: String) throws(TalkError) -> Int {
            guard let n = Int(try text(name)) else { throw .damaged(id, .badFrontmatter("\(name) is not a number")) }
            return n
        }
        guard let people = map["participants"]?.bytes.flatMap({ JSONCoding.decode([String].self, from: $0) }), !people.isEmpty else {
            throw .damaged(id, .badFrontmatter("participants is not a list of names"))
        }
        guard let status = TalkStatus(rawValue: try text("status")) else { throw .damaged(id, .badFrontmatter("unknown status")) }
        let stored = try text("id")
        guard stored == id else { throw .damaged(id, .badFrontmatter("the header names talk \(Identifiers.printable(stored))")) }
        return TalkHeader(schema: try number("schema"), id: stored, topic: try text("topic"), initiator: try text("initiator"),
                          participants: people, status: status, turnCount: try number("turnCount"), maxTurns: try number("maxTurns"),
                          nextSpeaker: try text("nextSpeaker"), createdAt: try text("createdAt"), updatedAt: try text("updatedAt"),
                          resolution: map["resolution"]?.string, blockedReason: map["blockedReason"]?.string)
    }

    /// The refusal a script returned, or why its reply is not one.
    static func refusal(_ id: String, _ parts: [RedisReply]) throws(TalkError) -> TalkRefusal {
        func text(_ i: Int) -> String? { i < parts.count ? parts[i].string : nil }
        func people(_ i: Int) -> [String] { (i < parts.count ? parts[i].bytes : nil).flatMap { JSONCoding.decode([String].self, from: $0) } ?? [] }
        switch text(0) {
        case "unknown":
            throw .unknownTalk(id)
        case "damaged":
            throw .damaged(id, .badFrontmatter("the talk's \(text(1) ?? "header") in Redis cannot be read"))
        case "closed":
            guard let status = text(1).flatMap(TalkStatus.init(rawValue:)) else { break }
            return .closed(status, reason: text(2))
        case "notParticipant":
            return .notParticipant(text(1) ?? "", participants: people(2))
        case "notYourTurn":
            return .notYourTurn(speaker: text(1) ?? "", next: text(2) ?? "")
        case "nextNotParticipant":
            return .nextNotParticipant(text(1) ?? "", participants: people(2))
        case "turnTaken":
            guard parts.count == 3, let expected = parts[1].integer, let actual = parts[2].integer else { break }
            return .turnTaken(expected: Int(expected), actual: Int(actual))
        case "alreadyResolved":
            return .alreadyResolved
        case "notActive":
            guard let status = text(1).flatMap(TalkStatus.init(rawValue:)) else { break }
            return .notActive(status)
        default:
            break
        }
        throw .storage(.io(.unexpectedRedisReply(to: .change)))
    }
}

extension RedisChangeSignal: TalkChangeSignal {}
