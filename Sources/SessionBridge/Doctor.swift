#if canImport(Glibc)
import Glibc
#endif

/// Finds (and with `fix`, repairs) what can go wrong in the message store and the talks: malformed or leftover
/// files, expired claims, dangling bindings; torn or unparsable talks, missing or duplicate nonces, hand edits
/// (checksum mismatches), header drift, leftover temp files and stale locks. Every change is reported.
public struct Doctor {
    public struct Finding: Codable, Sendable, Equatable {
        /// "messages" or "talks".
        public var area: String
        public var subject: String
        public var problem: String
        /// What --fix did, or nil when nothing was done.
        public var repair: String?
        public var repaired: Bool
    }

    public struct Report: Codable, Sendable {
        public var findings: [Finding]
        /// True when nothing is wrong, or everything found was repaired.
        public var healthy: Bool { findings.allSatisfy { $0.repaired } }
    }

    /// Temp files younger than this may belong to a writer at work: left alone.
    static let tempGraceNanoseconds: Int64 = 60 * 1_000_000_000

    public static func run(store: FileStore?, talks: Talks?, fix: Bool, config: BridgeConfig) -> Report {
        var findings: [Finding] = []
        if let store { findings += checkMessages(store, fix: fix, config: config) }
        if let talks { findings += checkTalks(talks, fix: fix) }
        return Report(findings: findings)
    }

    // MARK: Messages

    static func checkMessages(_ store: FileStore, fix: Bool, config: BridgeConfig) -> [Finding] {
        var out: [Finding] = []
        func add(_ subject: String, _ problem: String, _ repair: String?) {
            out.append(Finding(area: "messages", subject: subject, problem: problem, repair: fix ? repair : nil, repaired: fix && repair != nil))
        }
        let now = Clock.nowNanoseconds()
        let layout = store.layout
        for id in FileSystem.list(layout.sessionsFolder) {
            guard Identifiers.isValidID(id) else { continue }
            guard store.manifest(id) != nil else {
                add("session \(id)", "manifest.json is missing or unreadable", nil)
                continue
            }
            for name in FileSystem.list(layout.box(id, .new)) {
                let path = layout.box(id, .new) + "/" + name
                let msgID = name.hasSuffix(".json") ? String(name.dropLast(5)) : ""
                let ok = !msgID.isEmpty && (try? FileSystem.read(path)).flatMap { JSONCoding.decode(Message.self, from: $0) }
                    .map { $0.isIntact && $0.id == msgID } == true
                if !ok {
                    if fix { store.quarantine(id, fileName: name) }
                    add("session \(id): inbox/new/\(name)", "malformed message file", "moved to inbox/quarantine")
                }
            }
            for name in FileSystem.list(layout.box(id, .tmp), includeHidden: true) {
                let path = layout.box(id, .tmp) + "/" + name
                guard let t = FileSystem.modificationTime(path), now - t > tempGraceNanoseconds else { continue }
                if fix { FileSystem.remove(path) }
                add("session \(id): inbox/tmp/\(name)", "leftover temp file of an interrupted send", "removed")
            }
            let lease = Int64(config.leaseSeconds) * 1_000_000_000
            for msgID in store.expiredClaims(id, leaseNanoseconds: lease, now: now) {
                var repair: String? = "put back in inbox/new for redelivery"
                if fix {
                    if (try? store.move(id, msgID, from: .claimed, to: .new)) != true { repair = nil }
                    else if let m = store.peek(id, .new, msgID) {
                        store.appendEvent(sender: m.from, messageID: msgID, DeliveryEvent(event: .redelivered, by: id, via: "doctor"))
                    }
                }
                add("session \(id): message \(msgID)", "claimed but unanswered past its lease", repair)
            }
        }
        for name in FileSystem.list(layout.bindingsFolder) {
            let path = layout.bindingsFolder + "/" + name
            let target = (try? FileSystem.readString(path, limit: 256))?.trimmed(" \n") ?? ""
            if store.manifest(target) == nil {
                if fix { FileSystem.remove(path) }
                add("binding \(name)", "points to a missing session '\(target)'", "removed")
            }
        }
        return out
    }

    // MARK: Talks

    static func checkTalks(_ talks: Talks, fix: Bool) -> [Finding] {
        var out: [Finding] = []
        func add(_ subject: String, _ problem: String, _ repair: String?, done: Bool = true) {
            out.append(Finding(area: "talks", subject: subject, problem: problem, repair: fix && done ? repair : nil, repaired: fix && done && repair != nil))
        }
        let loc = talks.location
        let now = Clock.nowNanoseconds()
        for id in talks.ids() {
            let path = loc.file(id)
            let subject = "talk \(id)"
            guard let text = try? FileSystem.readString(path) else {
                add(subject, "unreadable", nil)
                continue
            }
            var parsed: (Conversation, Conversation.ParseNotes)
            do {
                parsed = try Conversation.parse(text)
            } catch {
                // Torn or unparsable: restore the last good version.
                if let bak = try? FileSystem.readString(loc.backup(id)), (try? Conversation.parse(bak)) != nil {
                    var ok = true
                    if fix { ok = (try? AtomicFile.write(Array(bak.utf8), to: path)) != nil }
                    add(subject, "torn or unparsable (\(error.message))", "restored from \(id).md.bak", done: ok)
                    if fix && ok, let restored = try? Conversation.parse(bak) { parsed = restored } else { continue }
                } else {
                    add(subject, "torn or unparsable (\(error.message)) and no usable .bak", nil)
                    continue
                }
            }
            var (talk, notes) = parsed
            var changed = false
            // Turn numbering, nonces, checksums.
            var seenNonces = Set<String>()
            for (i, turn) in talk.turns.enumerated() {
                if turn.number != i + 1 {
                    add(subject, "turn \(i + 1) is numbered \(turn.number)", "renumbered")
                    talk.turns[i].number = i + 1
                    changed = true
                }
                if turn.nonce.isEmpty || seenNonces.contains(turn.nonce) {
                    let fresh = Identifiers.randomBytes(6).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
                    add(subject, turn.nonce.isEmpty ? "turn \(i + 1) has no nonce" : "turn \(i + 1) repeats nonce \(turn.nonce)",
                        "gave turn \(i + 1) a new nonce")
                    talk.turns[i].nonce = fresh
                    changed = true
                }
                seenNonces.insert(talk.turns[i].nonce)
                if !turn.isIntact {
                    add(subject, "turn \(i + 1) does not match its checksum: its content was changed after it was written (hand edit?)", nil)
                }
                if !talk.header.participants.contains(turn.speaker) {
                    add(subject, "turn \(i + 1) is by \(turn.speaker), who is not a participant", nil)
                }
            }
            // Header drift.
            if talk.header.turnCount != talk.turns.count {
                add(subject, "header says turnCount \(talk.header.turnCount) but the body has \(talk.turns.count) turns", "set turnCount to \(talk.turns.count)")
                talk.header.turnCount = talk.turns.count
                changed = true
            }
            if !talk.header.participants.contains(talk.header.nextSpeaker) {
                let next = talk.turns.last.map { Talks.following($0.speaker, in: talk.header.participants) } ?? talk.header.participants[0]
                add(subject, "nextSpeaker '\(talk.header.nextSpeaker)' is not a participant", "set nextSpeaker to \(next)")
                talk.header.nextSpeaker = next
                changed = true
            }
            if talk.header.status == .active && talk.header.turnCount >= talk.header.maxTurns {
                add(subject, "ACTIVE with \(talk.header.turnCount) of \(talk.header.maxTurns) turns", "marked BLOCKED (max turns reached)")
                talk.header.status = .blocked
                talk.header.blockedReason = "max turns reached"
                changed = true
            }
            if notes.strayLines > 0 || notes.nonCanonical {
                add(subject, "not in canonical form" + (notes.strayLines > 0 ? " (\(notes.strayLines) stray line(s) outside turns)" : ""), "rewrote it canonically")
                changed = true
            }
            if fix && changed {
                loc.keepBackup(id)
                if (try? AtomicFile.write(Array(talk.render().utf8), to: path)) == nil {
                    for i in out.indices where out[i].subject == subject { out[i].repaired = false; out[i].repair = nil }
                } else {
                    talks.audit(AuditEntry(who: "doctor", op: "fix", talk: id, result: "ok"))
                }
            }
        }
        // Leftover temp files and stale locks.
        for name in FileSystem.list(loc.conversations, includeHidden: true) where name.hasPrefix(".") && name.contains(".md.") {
            let path = loc.conversations + "/" + name
            guard let t = FileSystem.modificationTime(path), now - t > tempGraceNanoseconds else { continue }
            if fix { FileSystem.remove(path) }
            add("file \(name)", "leftover temp file of an interrupted write", "removed")
        }
        for name in FileSystem.list(loc.conversations) where name.hasSuffix(".md.bak.new") {
            if fix { FileSystem.remove(loc.conversations + "/" + name) }
            add("file \(name)", "leftover backup link of an interrupted write", "removed")
        }
        if loc.config.lockStrategy == .lockfile {
            for name in FileSystem.list(loc.locks) where name.hasSuffix(".lock") {
                let path = loc.locks + "/" + name
                if TalkLock.isStale(path, staleSeconds: loc.config.staleLockSeconds) {
                    if fix { FileSystem.remove(path) }
                    add("lock \(name)", "stale lock (its owner is gone)", "removed")
                }
            }
        }
        return out
    }
}
