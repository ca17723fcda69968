#if canImport(Glibc)
import Glibc
#endif

/// The operations on talks (multi-turn conversations), as the CLI and the watcher use them: names and content are
/// checked here, every change is decided and stored by the talk engine (`TalkStore`) in one atomic step, and the
/// engine's structured results become the user-facing errors here.
package struct Talks: Sendable {
    /// The talks folder: config.yaml, the audit log and the markdown files (the file engine's talks, or a networked
    /// engine's local mirror).
    package let location: TalkLocation
    /// The engine that keeps the talks.
    package let store: any TalkStore
    let environment: Environment
    /// The bound bridge session, whose name is the default speaker.
    let sessionName: String?

    /// `store`: the engine `StoreFactory` opened for this folder (`Stores.talks` or `StoreFactory.openTalks`).
    package init(location: TalkLocation, environment: Environment, sessionName: String?, store: any TalkStore) {
        self.location = location
        self.environment = environment
        self.sessionName = sessionName
        self.store = store
    }

    /// Opens the talks folder named by `--dir`, the environment, or the nearest `.talks/`.
    package static func open(dir: String?, environment: Environment = .current(), sessionOverride: String? = nil) throws(BridgeError) -> Talks {
        let location = try TalkLocation.find(dir: dir, environment: environment)
        var name: String?
        if Identity.resolve(override: sessionOverride, environment: environment) != nil,
           let bridge = try? Bridge.open(environment: environment, sessionOverride: sessionOverride) {
            name = bridge.sessions.currentSession()?.name
        }
        let store = try bridged { () throws(StoreError) in try StoreFactory.openTalks(location: location, environment: environment) }
        return Talks(location: location, environment: environment, sessionName: name, store: store)
    }

    // MARK: The local mirror

    /// Brings this host's markdown mirror of talk `header.id` up to `header` when the engine keeps talks elsewhere
    /// (see `TalkMirror`). `known`: turns already read (numbered in order), used before asking the engine for more.
    /// Best effort: the turn or closing is on the server whatever happens here, and the next command that reads
    /// the talk brings the mirror up to date.
    package func refreshMirror(_ header: TalkHeader, known: [Turn] = []) {
        guard store.keepsMirror else { return }
        let id = header.id
        _ = try? TalkMirror(location: location).update(header) { (held: Int) throws(TalkError) -> [Turn] in
            if let first = known.first, first.number <= held + 1 { return known.filter { $0.number > held } }
            return try store.read(id, since: held).turns
        }
    }

    /// Runs an engine call, turning its failure into the user-facing error.
    @inline(__always)
    func engine<T>(_ body: () throws(TalkError) -> T) throws(BridgeError) -> T {
        do { return try body() } catch { throw error.bridgeError }
    }

    // MARK: Identity and lookup

    /// Who is speaking: `--as NAME`, else the bound session's name.
    package func speaker(_ explicit: String?) throws(BridgeError) -> String {
        if let explicit {
            guard Identifiers.isValidName(explicit) else { throw .invalidName(Identifiers.printable(explicit)) }
            return explicit
        }
        guard let sessionName else {
            throw .invalidInput(.noSpeaker)
        }
        return sessionName
    }

    /// A talk id, or a unique prefix of one.
    package func resolveID(_ text: String) throws(BridgeError) -> String {
        guard Identifiers.isValidID(text) else { throw .invalidID(Identifiers.printable(text)) }
        if try engine({ () throws(TalkError) in try store.exists(text) }) { return text }
        let matches = try engine { () throws(TalkError) in try store.ids() }.filter { $0.hasPrefix(text) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 { throw .conflict(.ambiguousTalkID(text, matches: matches)) }
        throw .unknownMessage("talk '\(text)'")
    }

    /// Ids of all talks; none when the engine cannot list them.
    package func ids() -> [String] {
        (try? store.ids()) ?? []
    }

    package func read(_ id: String) throws(BridgeError) -> Conversation {
        try read(id, since: nil)
    }

    /// The header and the turns numbered above `since` (nil: every turn).
    package func read(_ id: String, since: Int?) throws(BridgeError) -> Conversation {
        let talk = try engine { () throws(TalkError) in try store.read(id, since: since) }
        refreshMirror(talk.header, known: talk.turns)
        return talk
    }

    func audit(_ entry: AuditEntry) {
        location.audit(entry)
    }

    // MARK: Create

    /// Starts a talk between the speaker and `with`. Returns the new talk.
    package func create(topic: String, with others: [String], maxTurns: Int?, first: String?, as explicit: String?) throws(BridgeError) -> Conversation {
        let me = try speaker(explicit)
        let topicText = Substring(topic).trimmingSpaces()
        guard !topicText.isEmpty, !topicText.contains("\n") else { throw .invalidInput(.topicNotOneLine) }
        var participants = [me]
        for name in others.map({ Substring($0).trimmingSpaces() }) where !name.isEmpty {
            guard Identifiers.isValidName(name) else { throw .invalidName(Identifiers.printable(name)) }
            if !participants.contains(name) { participants.append(name) }
        }
        guard participants.count >= 2 else { throw .invalidInput(.noOtherParticipant) }
        let limit = maxTurns ?? location.config.maxTurns
        guard limit >= 1 else { throw .invalidInput(.maxTurnsBelowOne) }
        let firstSpeaker = first ?? me
        guard participants.contains(firstSpeaker) else {
            throw .invalidInput(.notAParticipant(option: "--first", name: firstSpeaker, participants: participants))
        }
        let now = Clock.nowISO8601()
        // A random suffix makes a taken id rare; the engine refuses one atomically, and another is drawn.
        for _ in 0..<16 {
            let id = Talks.slug(topicText) + "-" + String(Identifiers.sessionID().prefix(6))
            let header = TalkHeader(id: id, topic: topicText, initiator: me, participants: participants, status: .active, turnCount: 0,
                                    maxTurns: limit, nextSpeaker: firstSpeaker, createdAt: now, updatedAt: now, resolution: nil, blockedReason: nil)
            switch try engine({ () throws(TalkError) in try store.create(header) }) {
            case .created(let talk):
                refreshMirror(talk.header)
                return talk
            case .idTaken: continue
            }
        }
        throw .conflict(.noFreeTalkID(topic: topicText))
    }

    static func slug(_ topic: String) -> String {
        var out = ""
        for u in topic.lowercased().unicodeScalars {
            let ok = (u.value >= 97 && u.value <= 122) || (u.value >= 48 && u.value <= 57)
            if ok { out.unicodeScalars.append(u) } else if !out.hasSuffix("-") && !out.isEmpty { out += "-" }
            if out.count >= 40 { break }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "talk" : out
    }

    // MARK: Turns

    /// Adds a turn. Only `nextSpeaker` may speak; the next speaker is `next` or the following participant.
    /// At maxTurns the talk becomes BLOCKED ("max turns reached").
    package func say(_ idText: String, content raw: String, as explicit: String?, next: String?) throws(BridgeError) -> Turn {
        try sayReturningHeader(idText, content: raw, as: explicit, next: next).turn
    }

    /// `say`, also returning the header as written (who is next, the status), so callers need not read the talk
    /// again. `expectedNumber`: the number the turn must get (see `TurnRequest`).
    package func sayReturningHeader(_ idText: String, content raw: String, as explicit: String?, next: String?,
                                   expectedNumber: Int? = nil) throws(BridgeError) -> (turn: Turn, header: TalkHeader) {
        let id = try resolveID(idText)
        let me = try speaker(explicit)
        // Content is kept byte for byte (CR, CRLF, tabs, surrounding blank lines, a final newline); NUL bytes and
        // text that is only whitespace are refused, as for messages.
        let content = raw
        if content.allSatisfy({ $0.isWhitespace }) { throw .emptyMessage }
        if content.utf8.contains(0) { throw .binaryContent(.nulBytes) }
        let nonce = Identifiers.randomBytes(6).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
        let request = TurnRequest(speaker: me, content: content, nonce: nonce, at: Clock.nowISO8601(), next: next,
                                  expectedNumber: expectedNumber)
        switch try engine({ () throws(TalkError) in try store.append(request, to: id) }) {
        case .appended(let turn, let header):
            refreshMirror(header, known: [turn])
            return (turn, header)
        case .refused(let refusal): throw refusal.bridgeError(talk: id, listingParticipants: true)
        }
    }

    /// Summary and reason text: line endings normalized, surrounding blank lines and trailing whitespace removed.
    static func normalizeContent(_ s: String) -> String {
        var lines = s.replacing("\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            var l = line
            while let last = l.last, last == " " || last == "\t" || last == "\r" { l.removeLast() }
            return l
        }
        while let f = lines.first, f.isEmpty { lines.removeFirst() }
        while let l = lines.last, l.isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// Marks the talk RESOLVED (from ACTIVE or BLOCKED).
    package func resolve(_ idText: String, summary: String?, as explicit: String?) throws(BridgeError) -> TalkHeader {
        let id = try resolveID(idText)
        let me = try speaker(explicit)
        let text = summary.map { Talks.normalizeContent($0) }.flatMap { $0.isEmpty ? nil : $0 }
        return try close(id, TalkClosing(.resolve(summary: text), by: me, at: Clock.nowISO8601()))
    }

    /// Marks an ACTIVE talk BLOCKED with a reason.
    package func block(_ idText: String, reason: String, as explicit: String?) throws(BridgeError) -> TalkHeader {
        let id = try resolveID(idText)
        let me = try speaker(explicit)
        let why = Talks.normalizeContent(reason)
        guard !why.isEmpty else { throw .invalidInput(.emptyReason) }
        return try close(id, TalkClosing(.block(reason: why), by: me, at: Clock.nowISO8601()))
    }

    func close(_ id: String, _ closing: TalkClosing) throws(BridgeError) -> TalkHeader {
        switch try engine({ () throws(TalkError) in try store.close(id, closing) }) {
        case .closed(let header):
            refreshMirror(header)
            return header
        case .refused(let refusal): throw refusal.bridgeError(talk: id)
        }
    }

    // MARK: Reading

    package struct Summary: Codable, Sendable {
        package var header: TalkHeader
        /// The talk's markdown file (a networked engine's local mirror).
        package var path: String
    }

    /// Headers of all talks (only the headers are read), optionally by status. Damaged talks are reported; when
    /// the engine cannot list at all, the list is empty.
    package func list(status: TalkStatus?) -> (talks: [Summary], damaged: [String]) {
        guard let listing = try? store.list(status: status) else { return ([], []) }
        return (listing.headers.map { Summary(header: $0, path: location.file($0.id)) }, listing.damaged)
    }

    /// Only the header of a talk.
    package func readHeader(_ id: String) throws(BridgeError) -> TalkHeader {
        try engine { () throws(TalkError) in try store.header(id) }
    }

    /// What `waitForTurn` found, with the talk's full id and the waiter's name for the messages made from it.
    package struct TurnWait: Sendable {
        package var id: String
        package var speaker: String
        package var outcome: TalkWaitOutcome
    }

    /// Blocks (on the engine's change signal) until it is `as`'s turn, the talk is no longer ACTIVE, or the timeout
    /// passes: each an outcome. A waiter who is not a participant is an error (never `.refused`).
    package func waitForTurn(_ idText: String, as explicit: String?, timeoutSeconds: Double) throws(BridgeError) -> TurnWait {
        let id = try resolveID(idText)
        let me = try speaker(explicit)
        let milliseconds = timeoutSeconds.isNaN ? 0 : Int(min(max(0, timeoutSeconds), 1e9) * 1000)
        let outcome = try engine { () throws(TalkError) in try store.waitForTurn(id, as: me, timeoutMilliseconds: milliseconds) }
        switch outcome {
        case .refused(let refusal): throw refusal.bridgeError(talk: id)
        case .turnArrived(let h), .closed(let h): refreshMirror(h)
        case .timedOut: break
        }
        return TurnWait(id: id, speaker: me, outcome: outcome)
    }

    /// How the file engine splits a talk file for an append (see `FileTalkStore.split`).
    static func split(_ bytes: [UInt8]) throws(Conversation.ParseError) -> FileTalkStore.Parts {
        try FileTalkStore.split(bytes)
    }

    // MARK: Normalize

    /// Rewrites a talk in canonical form (formatting another tool added), without changing any turn's content.
    package func normalize(_ idText: String, as explicit: String?) throws(BridgeError) -> TalkNormalization {
        let id = try resolveID(idText)
        let who = (try? speaker(explicit)) ?? "normalize"
        return try engine { () throws(TalkError) in try store.normalize(id, by: who) }
    }
}

/// `show --json`: the header fields and the turns.
package struct TalkJSON: Encodable {
    package var talk: Conversation

    package init(_ talk: Conversation) { self.talk = talk }

    enum Keys: String, CodingKey {
        case schema, id, topic, initiator, participants, status, turnCount, maxTurns, nextSpeaker, createdAt, updatedAt, resolution, blockedReason, turns
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        let h = talk.header
        try c.encode(h.schema, forKey: .schema)
        try c.encode(h.id, forKey: .id)
        try c.encode(h.topic, forKey: .topic)
        try c.encode(h.initiator, forKey: .initiator)
        try c.encode(h.participants, forKey: .participants)
        try c.encode(h.status, forKey: .status)
        try c.encode(h.turnCount, forKey: .turnCount)
        try c.encode(h.maxTurns, forKey: .maxTurns)
        try c.encode(h.nextSpeaker, forKey: .nextSpeaker)
        try c.encode(h.createdAt, forKey: .createdAt)
        try c.encode(h.updatedAt, forKey: .updatedAt)
        try c.encode(h.resolution, forKey: .resolution)
        try c.encode(h.blockedReason, forKey: .blockedReason)
        try c.encode(talk.turns, forKey: .turns)
    }
}
