/// The file talk engine: each talk is the markdown file `<id>.md` in the conversations folder (schema v1 exactly
/// as README documents it). Every change takes the talk's lock, reads the file, decides with `TalkRules`, keeps
/// the current version as `.bak`, writes atomically, reads back and verifies, and appends to the audit log;
/// retried with backoff. The check and the write happen under one lock, which makes them one atomic step.
package struct FileTalkStore: TalkStore {
    package let location: TalkLocation
    /// The largest talk a `say` may produce.
    let maxTalkBytes: Int
    /// The largest talk file read.
    let readLimit: Int
    /// `SESSION_BRIDGE_POLL`: wait by polling instead of inotify.
    let polling: Bool

    package init(location: TalkLocation, environment: Environment) {
        self.location = location
        self.maxTalkBytes = TalkStorage.maxTalkBytes(environment)
        self.readLimit = TalkStorage.readLimit(maxTalkBytes: maxTalkBytes)
        self.polling = environment["SESSION_BRIDGE_POLL"].map { $0 != "0" } ?? false
    }

    package var keepsTalksInFolder: Bool { true }

    // MARK: Reading

    package func ids() throws(TalkError) -> [String] {
        FileSystem.list(location.conversations).compactMap { name -> String? in
            guard name.hasSuffix(".md") else { return nil }
            let id = String(name.dropLast(3))
            return Identifiers.isValidID(id) ? id : nil
        }.sorted()
    }

    package func exists(_ id: String) throws(TalkError) -> Bool {
        FileSystem.exists(location.file(id))
    }

    package func read(_ id: String, since: Int?) throws(TalkError) -> Conversation {
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(location.file(id), limit: readLimit) } catch { throw failure(id, error) }
        var talk: Conversation
        do { talk = try Conversation.parse(bytes: bytes, notes: false).0 } catch { throw .damaged(id, error) }
        if let since { talk.turns.removeAll { $0.number <= since } }
        return talk
    }

    /// Only the frontmatter: the file's first 16 KiB, or all of it when the frontmatter is longer.
    package func header(_ id: String) throws(TalkError) -> TalkHeader {
        let path = location.file(id)
        let limit = 16384
        let head: [UInt8]
        do { head = try TalkStorage.readHead(path, limit: limit) } catch { throw failure(id, error) }
        do {
            return try Conversation.parseHeaderOnly(head)
        } catch {
            guard head.count == limit, error == .noFrontmatter else { throw .damaged(id, error) }
        }
        let whole: [UInt8]
        do { whole = try FileSystem.read(path, limit: readLimit) } catch { throw .storage(error) }
        do { return try Conversation.parseHeaderOnly(whole) } catch { throw .damaged(id, error) }
    }

    /// A failed read of talk `id`: unknown when no file is there, else the storage failure.
    func failure(_ id: String, _ error: BridgeError) -> TalkError {
        FileSystem.exists(location.file(id)) ? .storage(error) : .unknownTalk(id)
    }

    package func list(status: TalkStatus?) throws(TalkError) -> TalkListing {
        var headers: [TalkHeader] = []
        var damaged: [String] = []
        for id in try ids() {
            guard let header = try? header(id) else {
                damaged.append(id)
                continue
            }
            if let status, header.status != status { continue }
            headers.append(header)
        }
        return TalkListing(headers: headers.sorted { $0.updatedAt > $1.updatedAt }, damaged: damaged)
    }

    package func changeSignal(_ id: String) throws(TalkError) -> any TalkChangeSignal {
        DirectoryWatcher(paths: [location.conversations], forcePolling: polling)
    }

    // MARK: Changes

    package func create(_ header: TalkHeader) throws(TalkError) -> TalkCreation {
        do throws(BridgeError) {
            try location.initialize()
            let talk = Conversation(header: header)
            guard try TalkStorage.publish(Array(talk.render().utf8), to: location.file(header.id), noClobber: true) else { return .idTaken }
            location.audit(AuditEntry(who: header.initiator, op: "new", talk: header.id, result: "ok",
                                      detail: "with \(header.participants.dropFirst().joined(separator: ","))"))
            return .created(talk)
        } catch {
            throw .storage(error)
        }
    }

    package func append(_ request: TurnRequest, to id: String) throws(TalkError) -> TurnOutcome {
        let nonce = request.nonce
        var made: (turn: Turn, header: TalkHeader)?
        let refusal = try mutate(id, who: request.speaker, op: "say", nonce: nonce) { (talk: Parts) throws(TalkError) -> TalkDecision<([UInt8], Int)> in
            switch TalkRules.append(request, after: talk.header, turnsHeld: talk.turnCount) {
            case .refuse(let refusal):
                return .refuse(refusal)
            case .accept(let (turn, header)):
                made = (turn, header)
                let headerBytes = Array(Conversation.renderHeader(header).utf8)
                let block = Conversation.renderTurnBytes(turn)
                try FileTalkStore.verifyRoundTrip(header: header, headerBytes: headerBytes, turn: turn, block: block)
                // Append-only: the old turns are copied byte for byte; only the header and the new block are written.
                return .accept((headerBytes + talk.body + block, turn.number))
            }
        } alreadyApplied: { bytes in
            FileTalkStore.contains(bytes, "nonce=\(nonce) ")
        } acknowledged: { found in
            guard let turn = made?.turn ?? found.flatMap({ FileTalkStore.turn(withNonce: nonce, in: $0) }) else { return nil }
            return AuditEntry(acknowledged: turn, talk: id, next: made?.header.nextSpeaker ?? "", detail: made == nil ? "found on retry" : nil)
        }
        if let refusal { return .refused(refusal) }
        if let made { return .appended(made.turn, made.header) }
        // Found on a retry: the turn landed in an attempt whose verification failed.
        let talk = try read(id, since: nil)
        guard let found = talk.turns.first(where: { $0.nonce == nonce }) else { throw .storage(.io(.talkChangeNotRecorded(.turn))) }
        return .appended(found, talk.header)
    }

    package func close(_ id: String, _ closing: TalkClosing) throws(TalkError) -> ClosingOutcome {
        let op: String
        switch closing.kind {
        case .resolve: op = "resolve"
        case .block: op = "block"
        }
        var result: TalkHeader?
        let refusal = try mutate(id, who: closing.by, op: op, nonce: nil) { (talk: Parts) throws(TalkError) -> TalkDecision<([UInt8], Int)> in
            switch TalkRules.close(closing, talk.header) {
            case .refuse(let refusal):
                return .refuse(refusal)
            case .accept(let h):
                result = h
                return .accept((try FileTalkStore.verifiedHeader(h) + talk.body, h.turnCount))
            }
        } alreadyApplied: { _ in false } acknowledged: { _ in nil }
        if let refusal { return .refused(refusal) }
        guard let result else { throw .storage(.io(.talkChangeNotRecorded(op == "resolve" ? .resolution : .block))) }
        return .closed(result)
    }

    /// Rewrites a talk in canonical form (formatting another tool added), without changing any turn's content:
    /// every turn's checksum is verified before and after.
    package func normalize(_ id: String, by who: String) throws(TalkError) -> TalkNormalization {
        do throws(BridgeError) {
            let lock = try TalkLock.acquire(location.lock(id), strategy: location.config.lockStrategy, owner: who,
                                            staleSeconds: location.config.staleLockSeconds)
            defer { lock.release() }
            let text = try FileSystem.readString(location.file(id), limit: readLimit)
            let parsed: (Conversation, Conversation.ParseNotes)
            do { parsed = try Conversation.parse(text) } catch {
                throw .conflict(.talkUnparsable(talk: id, error))
            }
            let (talk, notes) = parsed
            if let bad = talk.turns.first(where: { !$0.isIntact }) {
                throw .conflict(.turnChecksum(talk: id, turn: bad.number))
            }
            let canonical = talk.render()
            guard canonical != text else { return TalkNormalization(id: id, changed: false, strayLinesRemoved: 0) }
            // Verify the canonical form reads back to the same turns before replacing anything.
            guard let again = try? Conversation.parse(canonical).0, again == talk else {
                throw .io(.normalizeWouldChangeContent(talk: id))
            }
            location.keepBackup(id)
            try TalkStorage.publish(Array(canonical.utf8), to: location.file(id))
            location.audit(AuditEntry(who: who, op: "normalize", talk: id, result: "ok",
                                      detail: notes.strayLines > 0 ? "\(notes.strayLines) stray line(s) removed" : nil))
            return TalkNormalization(id: id, changed: true, strayLinesRemoved: notes.strayLines)
        } catch {
            throw .storage(error)
        }
    }

    // MARK: The verified write

    /// A talk file split for an append: its header, how many turns its body holds (checked structurally:
    /// every turn has its trailer), and the body bytes, copied unchanged.
    struct Parts {
        var header: TalkHeader
        var turnCount: Int
        var body: ArraySlice<UInt8>
    }

    /// Judges the bytes the reader sees (every CRLF as LF, wherever it is), so an append accepts exactly the files
    /// the reader accepts. The body is what the append copies: in a CRLF file its LF form (written back with CRLF);
    /// in any other file its raw bytes, since a second CRLF-to-LF pass would change a line ending in CR CR LF.
    static func split(_ raw: [UInt8]) throws(Conversation.ParseError) -> Parts {
        let bytes = TalkFile.withoutCRLF(raw)
        let (yaml, bodyStart) = try TalkFile.frontmatter(bytes)
        let header = try TalkFile.header(yaml).0
        let turnCount = try TalkFile.countTurns(bytes, from: bodyStart)
        if bytes.count == raw.count || TalkFile.usesCRLF(raw) {
            return Parts(header: header, turnCount: turnCount, body: bytes[bodyStart...])
        }
        return Parts(header: header, turnCount: turnCount, body: raw[TalkFile.rawOffset(raw, ofConverted: bodyStart)...])
    }

    /// Lock, read, decide, keep `.bak`, write atomically, read back and verify, audit. Returns the refusal when
    /// the rules refused the change (audited, nothing written). Retries up to 5 times with exponential backoff
    /// and jitter when verification fails (e.g. a network file system served a stale read or another writer
    /// slipped past a lock that does not hold there). A retry first checks whether the change it is retrying
    /// already landed (`alreadyApplied`), so a turn is never written twice. A file kept with CRLF line endings is
    /// changed in LF form and written back with CRLF. A change that would take a `say` past `maxTalkBytes` is
    /// refused before anything is written. `acknowledged` makes the audit entry of a success (given the file's
    /// bytes when the change was found on a retry).
    func mutate(_ id: String, who: String, op: String, nonce: String?,
                _ change: (Parts) throws(TalkError) -> TalkDecision<([UInt8], Int)>,
                alreadyApplied: ([UInt8]) -> Bool,
                acknowledged: ([UInt8]?) -> AuditEntry?) throws(TalkError) -> TalkRefusal? {
        let path = location.file(id)
        let sizeLimit = op == "say" ? maxTalkBytes : readLimit
        do throws(BridgeError) { try FileSystem.makeDirectories(location.locks) } catch { throw .storage(error) }
        var lastProblem = ""
        for attempt in 0..<5 {
            if attempt > 0 {
                let base = 10 << (attempt - 1)
                Clock.sleep(milliseconds: base + Int(Identifiers.randomBytes(1)[0]) % max(1, base))
            }
            let lock: TalkLock
            let before: [UInt8]
            do throws(BridgeError) {
                lock = try TalkLock.acquire(location.lock(id), strategy: location.config.lockStrategy, owner: who,
                                            staleSeconds: location.config.staleLockSeconds)
                do { before = try FileSystem.read(path, limit: readLimit) } catch { lock.release(); throw error }
            } catch {
                throw failure(id, error)
            }
            defer { lock.release() }
            if attempt > 0 && alreadyApplied(before) {
                let entry = acknowledged(before)
                if let nonce, let number = entry?.turn { lock.recordAcknowledged(number: number, nonce: nonce) }
                location.audit(entry ?? AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "ok", detail: "found on retry"))
                return nil
            }
            let crlf = TalkFile.usesCRLF(before)
            let parts: Parts
            do throws(Conversation.ParseError) {
                parts = try FileTalkStore.split(before)
                // Fewer turns than the header counts, or than were acknowledged: turns were lost (a cut file, a stale
                // copy saved over it).
                if parts.turnCount < parts.header.turnCount { throw Conversation.ParseError.missingTurns(parts.header.turnCount, parts.turnCount) }
                if let last = lock.acknowledged, !FileTalkStore.contains(before, "nonce=\(last.nonce) ") {
                    throw Conversation.ParseError.lostTurn(last.number, last.nonce)
                }
            } catch {
                location.audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "refused", detail: "damaged: \(error.message)"))
                throw .damaged(id, error)
            }
            var written: [UInt8]
            let turnNumber: Int
            do throws(TalkError) {
                switch try change(parts) {
                case .refuse(let refusal):
                    location.audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "refused",
                                              detail: refusal.bridgeError(talk: id, listingParticipants: op == "say").message))
                    return refusal
                case .accept(let change):
                    (written, turnNumber) = change
                }
                if crlf { written = TalkFile.withCRLF(written) }
                if written.count > sizeLimit { throw .tooLarge(id, size: written.count, limit: sizeLimit) }
            } catch {
                location.audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "refused", detail: error.bridgeError.message))
                throw error
            }
            location.keepBackup(id)
            do throws(BridgeError) {
                try TalkStorage.publish(written, to: path)
            } catch {
                location.audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "failed", detail: error.message))
                throw .storage(error)
            }
            let readBack = (try? FileSystem.read(path, limit: readLimit)) ?? []
            let nonceOK = nonce.map { FileTalkStore.contains(readBack, "nonce=\($0) ") } ?? true
            if readBack == written && (nonceOK || !location.config.requireNonceVerification) {
                if let nonce { lock.recordAcknowledged(number: turnNumber, nonce: nonce) }
                location.audit(acknowledged(nil) ?? AuditEntry(who: who, op: op, talk: id, turn: turnNumber, nonce: nonce, result: "ok"))
                return nil
            }
            lastProblem = readBack == written ? "nonce missing after write" : "read-back differs from what was written"
            location.audit(AuditEntry(who: who, op: op, talk: id, nonce: nonce, result: "verify-failed", detail: "attempt \(attempt + 1): \(lastProblem)"))
        }
        throw .unverified(id, problem: lastProblem)
    }

    /// Checks, before anything is written, that the new header and turn read back exactly: the same header, one
    /// turn with the same number, speaker, nonce and content byte for byte. A turn that would make the file
    /// unparsable, or read back different, is refused.
    static func verifyRoundTrip(header: TalkHeader, headerBytes: [UInt8], turn: Turn, block: [UInt8]) throws(TalkError) {
        let headerOK = (try? TalkFile.header(TalkFile.frontmatter(headerBytes).yaml).0) == header
        var turnOK = false
        if let body = try? TalkFile.body(block, from: 0), body.blocks.count == 1, body.strayLines == 0 {
            let b = body.blocks[0]
            turnOK = b.number == turn.number && b.speaker == turn.speaker && b.trailer["nonce"] == turn.nonce
                && b.trailer["sha256"] == turn.checksum && TalkFile.contentBytes(block, body.lines, b) == Array(turn.content.utf8)
        }
        guard headerOK && turnOK else { throw .unrepresentable(headerOK ? .turnContent : .turnHeader) }
    }

    /// A rendered header that reads back as the same header, or a refusal before anything is written.
    static func verifiedHeader(_ header: TalkHeader) throws(TalkError) -> [UInt8] {
        let bytes = Array(Conversation.renderHeader(header).utf8)
        guard (try? TalkFile.header(TalkFile.frontmatter(bytes).yaml).0) == header else { throw .unrepresentable(.talkHeader) }
        return bytes
    }

    /// The turn with this nonce in a talk file's bytes, if it parses.
    static func turn(withNonce nonce: String, in bytes: [UInt8]) -> Turn? {
        (try? Conversation.parse(bytes: bytes, notes: false))?.0.turns.last { $0.nonce == nonce }
    }

    /// Whether `bytes` contain `needle`, searched from the end (the turn just written is the last one).
    static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard let first = n.first, bytes.count >= n.count else { return false }
        var i = bytes.count - n.count
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
}

extension DirectoryWatcher: TalkChangeSignal {}

extension TalkLocation {
    /// Appends an entry to audit.log when config.yaml keeps one (best effort: never blocks a change).
    func audit(_ entry: AuditEntry) {
        guard config.auditLog else { return }
        try? FileSystem.appendLine(entry.line, to: auditLog)
    }
}
