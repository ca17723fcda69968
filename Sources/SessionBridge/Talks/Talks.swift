#if canImport(Glibc)
import Glibc
#endif

/// The operations on talks (multi-turn conversations). Every change goes through `mutate`: lock, read, check,
/// keep the current version as `.bak`, write atomically, read back and verify, audit; retried with backoff.
public struct Talks: Sendable {
    public let location: TalkLocation
    let environment: Environment
    /// The bound bridge session, whose name is the default speaker.
    let sessionName: String?

    public init(location: TalkLocation, environment: Environment, sessionName: String?) {
        self.location = location
        self.environment = environment
        self.sessionName = sessionName
    }

    /// Opens the talks folder named by `--dir`, the environment, or the nearest `.talks/`.
    public static func open(dir: String?, environment: Environment = .current(), sessionOverride: String? = nil) throws(BridgeError) -> Talks {
        let location = try TalkLocation.find(dir: dir, environment: environment)
        var name: String?
        if Identity.resolve(override: sessionOverride, environment: environment) != nil,
           let bridge = try? Bridge.open(environment: environment, sessionOverride: sessionOverride) {
            name = bridge.currentSession()?.name
        }
        return Talks(location: location, environment: environment, sessionName: name)
    }

    // MARK: Identity and lookup

    /// Who is speaking: `--as NAME`, else the bound session's name.
    public func speaker(_ explicit: String?) throws(BridgeError) -> String {
        if let explicit {
            guard Identifiers.isValidName(explicit) else { throw .invalidName(Identifiers.printable(explicit)) }
            return explicit
        }
        guard let sessionName else {
            throw .invalidInput("who is speaking? pass --as NAME, or join the bridge first with `\(HelperName.current.command("start --name NAME"))` (in an agent session or this terminal)")
        }
        return sessionName
    }

    /// A talk id, or a unique prefix of one.
    public func resolveID(_ text: String) throws(BridgeError) -> String {
        guard Identifiers.isValidID(text) else { throw .invalidID(Identifiers.printable(text)) }
        if FileSystem.exists(location.file(text)) { return text }
        let matches = ids().filter { $0.hasPrefix(text) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 { throw .conflict("talk id '\(text)' is ambiguous: \(matches.prefix(5).joined(separator: ", "))") }
        throw .unknownMessage("talk '\(text)'")
    }

    /// Ids of all talks (files `<id>.md` in the conversations folder).
    public func ids() -> [String] {
        FileSystem.list(location.conversations).compactMap { name -> String? in
            guard name.hasSuffix(".md") else { return nil }
            let id = String(name.dropLast(3))
            return Identifiers.isValidID(id) ? id : nil
        }.sorted()
    }

    public func read(_ id: String) throws(BridgeError) -> Conversation {
        let bytes = try FileSystem.read(location.file(id), limit: readLimit)
        do {
            return try Conversation.parse(bytes: bytes, notes: false).0
        } catch {
            throw .conflict("talk \(id) is damaged (\(error.message)): run `\(HelperName.current.command("doctor --fix"))`")
        }
    }

    func audit(_ entry: AuditEntry) {
        guard location.config.auditLog else { return }
        try? FileSystem.appendLine(entry.line, to: location.auditLog)
    }

    // MARK: Create

    /// Starts a talk between the speaker and `with`. Returns the new talk.
    public func create(topic: String, with others: [String], maxTurns: Int?, first: String?, as explicit: String?) throws(BridgeError) -> Conversation {
        let me = try speaker(explicit)
        let topicText = Substring(topic).trimmingSpaces()
        guard !topicText.isEmpty, !topicText.contains("\n") else { throw .invalidInput("the topic must be one non-empty line") }
        var participants = [me]
        for name in others.map({ Substring($0).trimmingSpaces() }) where !name.isEmpty {
            guard Identifiers.isValidName(name) else { throw .invalidName(Identifiers.printable(name)) }
            if !participants.contains(name) { participants.append(name) }
        }
        guard participants.count >= 2 else { throw .invalidInput("a talk needs at least one other participant: --with NAME[,NAME…]") }
        let limit = maxTurns ?? location.config.maxTurns
        guard limit >= 1 else { throw .invalidInput("--max-turns must be at least 1") }
        let firstSpeaker = first ?? me
        guard participants.contains(firstSpeaker) else {
            throw .invalidInput("--first \(firstSpeaker) is not a participant (\(participants.joined(separator: ", ")))")
        }
        try location.initialize()
        let now = Clock.nowISO8601()
        var id = Talks.slug(topicText) + "-" + String(Identifiers.sessionID().prefix(6))
        while FileSystem.exists(location.file(id)) { id = Talks.slug(topicText) + "-" + String(Identifiers.sessionID().prefix(6)) }
        let header = TalkHeader(id: id, topic: topicText, initiator: me, participants: participants, status: .active, turnCount: 0,
                                maxTurns: limit, nextSpeaker: firstSpeaker, createdAt: now, updatedAt: now, resolution: nil, blockedReason: nil)
        let talk = Conversation(header: header)
        guard try TalkStorage.publish(Array(talk.render().utf8), to: location.file(id), noClobber: true) else {
            throw .conflict("talk \(id) already exists")
        }
        audit(AuditEntry(who: me, op: "new", talk: id, result: "ok", detail: "with \(participants.dropFirst().joined(separator: ","))"))
        return talk
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
    public func say(_ idText: String, content raw: String, as explicit: String?, next: String?) throws(BridgeError) -> Turn {
        try sayReturningHeader(idText, content: raw, as: explicit, next: next).turn
    }

    /// `say`, also returning the header as written (who is next, the status), so callers need not parse the talk
    /// again: a full parse costs in proportion to the talk's length.
    public func sayReturningHeader(_ idText: String, content raw: String, as explicit: String?, next: String?) throws(BridgeError) -> (turn: Turn, header: TalkHeader) {
        let id = try resolveID(idText)
        let me = try speaker(explicit)
        // Content is kept byte for byte (CR, CRLF, tabs, surrounding blank lines, a final newline); NUL bytes and
        // text that is only whitespace are refused, as for messages.
        let content = raw
        if content.allSatisfy({ $0.isWhitespace }) { throw .emptyMessage }
        if content.utf8.contains(0) { throw .binaryContent("it contains NUL bytes") }
        let nonce = Identifiers.randomBytes(6).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
        var made: (turn: Turn, header: TalkHeader)?
        try mutate(id, who: me, op: "say", nonce: nonce) { (talk: Talks.Parts) throws(BridgeError) -> ([UInt8], Int) in
            let h = talk.header
            guard h.status == .active else {
                throw .conflict("talk \(id) is \(h.status.rawValue)\(h.blockedReason.map { " (\($0))" } ?? ""): it accepts no turn")
            }
            guard h.participants.contains(me) else {
                throw .conflict("\(me) is not a participant of talk \(id) (participants: \(h.participants.joined(separator: ", ")))")
            }
            guard h.nextSpeaker == me else { throw .conflict("it is \(h.nextSpeaker)'s turn in talk \(id), not \(me)'s") }
            if let next, !h.participants.contains(next) {
                throw .invalidInput("--next \(next) is not a participant (\(h.participants.joined(separator: ", ")))")
            }
            let turn = Turn(number: talk.turnCount + 1, speaker: me, content: content, nonce: nonce,
                            checksum: SHA256.hex(content), at: Clock.nowISO8601())
            var header = h
            header.turnCount = turn.number
            header.updatedAt = turn.at
            header.nextSpeaker = next ?? Talks.following(me, in: h.participants)
            if header.turnCount >= header.maxTurns {
                header.status = .blocked
                header.blockedReason = "max turns reached"
            }
            made = (turn, header)
            let headerBytes = Array(Conversation.renderHeader(header).utf8)
            let block = Conversation.renderTurnBytes(turn)
            try Talks.verifyRoundTrip(header: header, headerBytes: headerBytes, turn: turn, block: block)
            // Append-only: the old turns are copied byte for byte; only the header and the new block are written.
            return (headerBytes + talk.body + block, turn.number)
        } alreadyApplied: { bytes in
            Talks.contains(bytes, "nonce=\(nonce) ")
        } acknowledged: { found in
            guard let turn = made?.turn ?? found.flatMap({ Talks.turn(withNonce: nonce, in: $0) }) else { return nil }
            return AuditEntry(acknowledged: turn, talk: id, next: made?.header.nextSpeaker ?? "", detail: made == nil ? "found on retry" : nil)
        }
        guard let made else {
            // Found on a retry: the turn landed in an attempt whose verification failed.
            let talk = try read(id)
            guard let found = talk.turns.first(where: { $0.nonce == nonce }) else { throw .io("turn was not recorded") }
            return (found, talk.header)
        }
        return made
    }

    static func following(_ name: String, in participants: [String]) -> String {
        guard let i = participants.firstIndex(of: name) else { return participants[0] }
        return participants[(i + 1) % participants.count]
    }

    /// Checks, before anything is written, that the new header and turn read back exactly: the same header, one
    /// turn with the same number, speaker, nonce and content byte for byte. A turn that would make the file
    /// unparsable, or read back different, is refused.
    static func verifyRoundTrip(header: TalkHeader, headerBytes: [UInt8], turn: Turn, block: [UInt8]) throws(BridgeError) {
        let headerOK = (try? TalkFile.header(TalkFile.frontmatter(headerBytes).yaml).0) == header
        var turnOK = false
        if let body = try? TalkFile.body(block, from: 0), body.blocks.count == 1, body.strayLines == 0 {
            let b = body.blocks[0]
            turnOK = b.number == turn.number && b.speaker == turn.speaker && b.trailer["nonce"] == turn.nonce
                && b.trailer["sha256"] == turn.checksum && TalkFile.contentBytes(block, body.lines, b) == Array(turn.content.utf8)
        }
        guard headerOK && turnOK else {
            throw .invalidInput("this turn cannot be stored so that it reads back unchanged (\(headerOK ? "content" : "header")); nothing was written")
        }
    }

    /// A rendered header that reads back as the same header, or a refusal before anything is written.
    static func verifiedHeader(_ header: TalkHeader) throws(BridgeError) -> [UInt8] {
        let bytes = Array(Conversation.renderHeader(header).utf8)
        guard (try? TalkFile.header(TalkFile.frontmatter(bytes).yaml).0) == header else {
            throw .invalidInput("this change cannot be stored so that the talk's header reads back unchanged; nothing was written")
        }
        return bytes
    }

    /// The turn with this nonce in a talk file's bytes, if it parses.
    static func turn(withNonce nonce: String, in bytes: [UInt8]) -> Turn? {
        (try? Conversation.parse(bytes: bytes, notes: false))?.0.turns.last { $0.nonce == nonce }
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
    public func resolve(_ idText: String, summary: String?, as explicit: String?) throws(BridgeError) -> TalkHeader {
        let id = try resolveID(idText)
        let me = try speaker(explicit)
        var result: TalkHeader?
        try mutate(id, who: me, op: "resolve", nonce: nil) { (talk: Talks.Parts) throws(BridgeError) -> ([UInt8], Int) in
            var h = talk.header
            guard h.participants.contains(me) else { throw .conflict("\(me) is not a participant of talk \(id)") }
            guard h.status != .resolved else { throw .conflict("talk \(id) is already RESOLVED") }
            h.status = .resolved
            h.resolution = summary.map { Talks.normalizeContent($0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "resolved by \(me)"
            h.updatedAt = Clock.nowISO8601()
            result = h
            return (try Talks.verifiedHeader(h) + talk.body, h.turnCount)
        } alreadyApplied: { _ in false } acknowledged: { _ in nil }
        guard let result else { throw .io("resolution was not recorded") }
        return result
    }

    /// Marks an ACTIVE talk BLOCKED with a reason.
    public func block(_ idText: String, reason: String, as explicit: String?) throws(BridgeError) -> TalkHeader {
        let id = try resolveID(idText)
        let me = try speaker(explicit)
        let why = Talks.normalizeContent(reason)
        guard !why.isEmpty else { throw .invalidInput("--reason must not be empty") }
        var result: TalkHeader?
        try mutate(id, who: me, op: "block", nonce: nil) { (talk: Talks.Parts) throws(BridgeError) -> ([UInt8], Int) in
            var h = talk.header
            guard h.participants.contains(me) else { throw .conflict("\(me) is not a participant of talk \(id)") }
            guard h.status == .active else { throw .conflict("talk \(id) is \(h.status.rawValue), not ACTIVE") }
            h.status = .blocked
            h.blockedReason = why
            h.updatedAt = Clock.nowISO8601()
            result = h
            return (try Talks.verifiedHeader(h) + talk.body, h.turnCount)
        } alreadyApplied: { _ in false } acknowledged: { _ in nil }
        guard let result else { throw .io("block was not recorded") }
        return result
    }

    // MARK: The verified write

    /// A talk file split for an append: its header, how many turns its body holds (checked structurally:
    /// every turn has its trailer), and the body bytes, copied unchanged.
    struct Parts {
        var header: TalkHeader
        var turnCount: Int
        var body: ArraySlice<UInt8>
    }

    static func split(_ bytes: [UInt8]) throws(Conversation.ParseError) -> Parts {
        let (yaml, bodyStart) = try TalkFile.frontmatter(bytes)
        // The header is read from the same bytes the reader sees (CRLF as LF), so both accept the same files.
        let header = yaml.contains(13) ? try TalkFile.header(TalkFile.withoutCRLF(Array(yaml))[...]).0 : try TalkFile.header(yaml).0
        return Parts(header: header, turnCount: try TalkFile.countTurns(bytes, from: bodyStart), body: bytes[bodyStart...])
    }

    static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard let first = n.first, bytes.count >= n.count else { return false }
        var i = bytes.count - n.count
        // Search from the end: the turn just written is the last one.
        while i >= 0 {
            if bytes[i] == first {
                var k = 1
                while k < n.count && bytes[i + k] == n[k] { k += 1 }
                if k == n.count { return true }
            }
            i -= 1
        }
        return false
    }

    /// Lock, read, change, keep `.bak`, write atomically, read back and verify, audit. Retries up to 5 times with
    /// exponential backoff and jitter when verification fails (e.g. a network file system served a stale read or
    /// another writer slipped past a lock that does not hold there). A retry first checks whether the change it
    /// is retrying already landed (`alreadyApplied`), so a turn is never written twice. A file kept with CRLF line
    /// endings is changed in LF form and written back with CRLF. A change that would take a `say` past
    /// `maxTalkBytes` is refused before anything is written. `acknowledged` makes the audit entry of a success
    /// (given the file's bytes when the change was found on a retry).
    func mutate(_ id: String, who: String, op: String, nonce: String?,
                _ change: (Parts) throws(BridgeError) -> ([UInt8], Int),
                alreadyApplied: ([UInt8]) -> Bool,
                acknowledged: ([UInt8]?) -> AuditEntry?) throws(BridgeError) {
        let path = location.file(id)
        let sizeLimit = op == "say" ? maxTalkBytes : readLimit
        try FileSystem.makeDirectories(location.locks)
        var lastProblem = ""
        for attempt in 0..<5 {
            if attempt > 0 {
                let base = 10 << (attempt - 1)
                Clock.sleep(milliseconds: base + Int(Identifiers.randomBytes(1)[0]) % max(1, base))
            }
            let lock = try TalkLock.acquire(location.lock(id), strategy: location.config.lockStrategy, owner: who,
                                            staleSeconds: location.config.staleLockSeconds)
            defer { lock.release() }
            let before = try FileSystem.read(path, limit: readLimit)
            if attempt > 0 && alreadyApplied(before) {
                let entry = acknowledged(before)
                if let nonce, let number = entry?.turn { lock.recordAcknowledged(number: number, nonce: nonce) }
                audit(entry ?? AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "ok", detail: "found on retry"))
                return
            }
            let crlf = TalkFile.usesCRLF(before)
            let source = crlf ? TalkFile.withoutCRLF(before) : before
            let parts: Parts
            do throws(Conversation.ParseError) {
                parts = try Talks.split(source)
                // Fewer turns than the header counts, or than were acknowledged: turns were lost (a cut file, a stale
                // copy saved over it).
                if parts.turnCount < parts.header.turnCount { throw Conversation.ParseError.missingTurns(parts.header.turnCount, parts.turnCount) }
                if let last = lock.acknowledged, !Talks.contains(source, "nonce=\(last.nonce) ") {
                    throw Conversation.ParseError.lostTurn(last.number, last.nonce)
                }
            } catch {
                audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "refused", detail: "damaged: \(error.message)"))
                throw .conflict("talk \(id) is damaged (\(error.message)): run `\(HelperName.current.command("doctor --fix"))`")
            }
            var written: [UInt8]
            let turnNumber: Int
            do throws(BridgeError) {
                (written, turnNumber) = try change(parts)
                if crlf { written = TalkFile.withCRLF(written) }
                if written.count > sizeLimit {
                    throw .invalidInput("talk \(id) would be \(written.count) bytes with this change, over the \(sizeLimit)-byte limit "
                        + "(SESSION_BRIDGE_MAX_TALK_BYTES); nothing was written: resolve it and continue in a new talk")
                }
            } catch {
                audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "refused", detail: error.message))
                throw error
            }
            location.keepBackup(id)
            do throws(BridgeError) {
                try TalkStorage.publish(written, to: path)
            } catch {
                audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "failed", detail: error.message))
                throw error
            }
            let readBack = (try? FileSystem.read(path, limit: readLimit)) ?? []
            let nonceOK = nonce.map { Talks.contains(readBack, "nonce=\($0) ") } ?? true
            if readBack == written && (nonceOK || !location.config.requireNonceVerification) {
                if let nonce { lock.recordAcknowledged(number: turnNumber, nonce: nonce) }
                audit(acknowledged(nil) ?? AuditEntry(who: who, op: op, talk: id, turn: turnNumber, nonce: nonce, result: "ok"))
                return
            }
            lastProblem = readBack == written ? "nonce missing after write" : "read-back differs from what was written"
            audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "verify-failed", detail: "attempt \(attempt + 1): \(lastProblem)"))
        }
        throw .storage("could not verify the write to talk \(id) after 5 attempts (\(lastProblem))")
    }

    // MARK: Reading

    public struct Summary: Codable, Sendable {
        public var header: TalkHeader
        public var path: String
    }

    /// Headers of all talks (only the frontmatter is read), optionally by status. Damaged files are reported.
    public func list(status: TalkStatus?) -> (talks: [Summary], damaged: [String]) {
        var talks: [Summary] = []
        var damaged: [String] = []
        for id in ids() {
            let path = location.file(id)
            guard let header = try? readHeader(id) else {
                damaged.append(id)
                continue
            }
            if let status, header.status != status { continue }
            talks.append(Summary(header: header, path: path))
        }
        return (talks.sorted { $0.header.updatedAt > $1.header.updatedAt }, damaged)
    }

    /// Only the frontmatter of a talk: the file's first 16 KiB, or all of it when the frontmatter is longer.
    public func readHeader(_ id: String) throws(BridgeError) -> TalkHeader {
        let path = location.file(id)
        let limit = 16384
        let head = try TalkStorage.readHead(path, limit: limit)
        do {
            return try Conversation.parseHeaderOnly(head)
        } catch {
            guard head.count == limit, error == .noFrontmatter else { throw .conflict("talk \(id) is damaged (\(error.message))") }
        }
        let whole = try FileSystem.read(path, limit: readLimit)
        do {
            return try Conversation.parseHeaderOnly(whole)
        } catch {
            throw .conflict("talk \(id) is damaged (\(error.message))")
        }
    }

    public enum WaitOutcome: Sendable {
        case yourTurn(TalkHeader)
        case closed(TalkHeader)
    }

    /// Blocks (event-driven) until it is `as`'s turn or the talk is no longer ACTIVE.
    public func wait(_ idText: String, as explicit: String?, timeoutSeconds: Double) throws(BridgeError) -> WaitOutcome {
        let id = try resolveID(idText)
        let me = try speaker(explicit)
        let polling = environment["SESSION_BRIDGE_POLL"].map { $0 != "0" } ?? false
        let watcher = DirectoryWatcher(paths: [location.conversations], forcePolling: polling)
        let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutSeconds) * 1e9)
        while true {
            if let h = try? readHeader(id) {
                guard h.participants.contains(me) else { throw .conflict("\(me) is not a participant of talk \(id)") }
                if h.status != .active { return .closed(h) }
                if h.nextSpeaker == me { return .yourTurn(h) }
            }
            let remaining = deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 {
                throw .timedOut("not \(me)'s turn yet in talk \(id) (waited \(Int(timeoutSeconds)) s): wait again")
            }
            _ = watcher.wait(timeoutMilliseconds: Int(remaining / 1_000_000) + 1)
        }
    }

    // MARK: Normalize

    public struct NormalizeReport: Codable, Sendable {
        public var id: String
        public var changed: Bool
        public var strayLinesRemoved: Int
    }

    /// Rewrites a talk in canonical form (formatting another tool added), without changing any turn's content:
    /// every turn's checksum is verified before and after.
    public func normalize(_ idText: String, as explicit: String?) throws(BridgeError) -> NormalizeReport {
        let id = try resolveID(idText)
        let who = (try? speaker(explicit)) ?? "normalize"
        let lock = try TalkLock.acquire(location.lock(id), strategy: location.config.lockStrategy, owner: who,
                                        staleSeconds: location.config.staleLockSeconds)
        defer { lock.release() }
        let text = try FileSystem.readString(location.file(id), limit: readLimit)
        let parsed: (Conversation, Conversation.ParseNotes)
        do { parsed = try Conversation.parse(text) } catch {
            throw .conflict("talk \(id) cannot be parsed (\(error.message)): run `\(HelperName.current.command("doctor --fix"))`")
        }
        let (talk, notes) = parsed
        if let bad = talk.turns.first(where: { !$0.isIntact }) {
            throw .conflict("turn \(bad.number) of talk \(id) does not match its checksum (edited by hand?): normalize changes no content; see `\(HelperName.current.command("doctor"))`")
        }
        let canonical = talk.render()
        guard canonical != text else { return NormalizeReport(id: id, changed: false, strayLinesRemoved: 0) }
        // Verify the canonical form reads back to the same turns before replacing anything.
        guard let again = try? Conversation.parse(canonical).0, again == talk else {
            throw .io("normalize of talk \(id) would change its content; nothing written")
        }
        location.keepBackup(id)
        try TalkStorage.publish(Array(canonical.utf8), to: location.file(id))
        audit(AuditEntry(who: who, op: "normalize", talk: id, result: "ok", detail: notes.strayLines > 0 ? "\(notes.strayLines) stray line(s) removed" : nil))
        return NormalizeReport(id: id, changed: true, strayLinesRemoved: notes.strayLines)
    }
}

/// `show --json`: the header fields and the turns.
public struct TalkJSON: Encodable {
    public var talk: Conversation

    public init(_ talk: Conversation) { self.talk = talk }

    enum Keys: String, CodingKey {
        case schema, id, topic, initiator, participants, status, turnCount, maxTurns, nextSpeaker, createdAt, updatedAt, resolution, blockedReason, turns
    }

    public func encode(to encoder: any Encoder) throws {
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
