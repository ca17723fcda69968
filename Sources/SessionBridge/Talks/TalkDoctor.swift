#if canImport(Glibc)
import Glibc
#endif

/// The talks half of `doctor`: torn or unparsable talks, missing, repeated or reordered turns, hand edits (checksum
/// mismatches), header drift, non-canonical files, leftover temp files and stale locks.
///
/// A damaged talk is rebuilt from every source that holds its acknowledged turns: the damaged file itself, its
/// `.bak`, and the audit log (which carries each acknowledged turn); the damaged file is kept beside it as
/// `<id>.md.damaged-<time>`. Turns are never renumbered and never given new nonces: a missing, repeated or
/// reordered turn is reported as exactly that. Only this program's own temp files and stale locks are removed.
struct TalkDoctor {
    let talks: Talks
    let fix: Bool
    var findings: [Doctor.Finding] = []
    /// Acknowledged turns from audit.log, by talk, with who was to speak next.
    var journal: [String: [(turn: Turn, next: String?)]] = [:]

    init(talks: Talks, fix: Bool) {
        self.talks = talks
        self.fix = fix
    }

    var location: TalkLocation { talks.location }

    mutating func add(_ subject: String, _ problem: String, _ repair: String?, done: Bool = true) {
        findings.append(Doctor.Finding(area: "talks", subject: subject, problem: problem, repair: fix && done ? repair : nil,
                                       repaired: fix && done && repair != nil))
    }

    mutating func run() -> [Doctor.Finding] {
        if talks.store.keepsMirror { return checkEngine() }
        loadJournal()
        checkLocks()
        for id in talks.ids() { checkTalk(id) }
        removeLeftovers()
        return findings
    }

    /// An engine that keeps talks on a server: each talk is read as the engine reads it (a damaged one, or a turn
    /// whose checksum does not match, is reported); the markdown files are mirrors, which `--fix` brings up to date
    /// from the server (never the other way round).
    mutating func checkEngine() -> [Doctor.Finding] {
        let listing: TalkListing
        do { listing = try talks.store.list(status: nil) } catch {
            add("talks", error.bridgeError.message, nil)
            return findings
        }
        for id in listing.damaged { add("talk \(id)", "its header in the store cannot be read", nil) }
        for h in listing.headers {
            do throws(TalkError) {
                let talk = try talks.store.read(h.id, since: nil)
                if let bad = talk.turns.first(where: { !$0.isIntact }) {
                    add("talk \(h.id)", "turn \(bad.number) does not match its checksum", nil)
                }
                if fix { talks.refreshMirror(talk.header, known: talk.turns) }
            } catch {
                add("talk \(h.id)", error.bridgeError.message, nil)
            }
        }
        return findings
    }

    // MARK: The audit log

    mutating func loadJournal() {
        let path = location.auditLog
        guard let kind = TalkStorage.kind(path) else { return }
        guard kind == "file" else {
            add("file audit.log", "is a \(kind), not a regular file: it is never followed or written, so nothing is audited", nil)
            return
        }
        var byNonce: [String: [String: (turn: Turn, next: String?)]] = [:]
        var order: [String: [String]] = [:]
        do {
            try TalkStorage.forEachLine(path, maxLine: talks.readLimit) { line in
                guard FileTalkStore.contains(line, #""op":"say""#), FileTalkStore.contains(line, #""result":"ok""#),
                      let entry = JSONCoding.decode(AuditEntry.self, from: line), let turn = entry.acknowledgedTurn else { return }
                if byNonce[entry.talk]?[turn.nonce] == nil { order[entry.talk, default: []].append(turn.nonce) }
                byNonce[entry.talk, default: [:]][turn.nonce] = (turn, entry.next)
            }
        } catch {
            add("file audit.log", "unreadable (\(error.message))", nil)
        }
        for (talk, nonces) in order {
            journal[talk] = nonces.compactMap { byNonce[talk]?[$0] }
        }
    }

    // MARK: One talk

    mutating func checkTalk(_ id: String) {
        let path = location.file(id)
        let subject = "talk \(id)"
        if let kind = TalkStorage.kind(path), kind != "file" {
            add(subject, "\(id).md is a \(kind), not a regular file: never followed or read, left alone", nil)
            return
        }
        var lock: TalkLock?
        if fix {
            do {
                lock = try TalkLock.acquire(location.lock(id), strategy: location.config.lockStrategy, owner: "doctor",
                                            staleSeconds: location.config.staleLockSeconds)
            } catch {
                add(subject, "cannot take its lock (\(error.message))", nil)
                return
            }
        }
        defer { lock?.release() }
        let raw: [UInt8]
        do { raw = try FileSystem.read(path, limit: talks.readLimit) } catch {
            add(subject, "unreadable (\(error.message))", nil)
            return
        }
        let backup = readBackup(id, subject: subject)
        let acknowledged = journal[id] ?? []

        var header: TalkHeader
        var turns: [Turn]
        var notes = Conversation.ParseNotes()
        var damaged = false
        do {
            let parsed = try Conversation.parse(bytes: raw, notes: true)
            (header, turns, notes) = (parsed.0.header, parsed.0.turns, parsed.1)
        } catch {
            damaged = true
            let salvage = TalkFile.salvage(raw)
            guard let h = salvage.header ?? backup?.header else {
                add(subject, "torn or unparsable (\(error.message)), and no usable header in the file or its .bak", nil)
                return
            }
            header = h
            turns = salvage.turns
            var what = "torn or unparsable (\(error.message))"
            if salvage.tornHeaders > 0 { what += "; \(salvage.tornHeaders) turn header(s) without a trailer (cut or torn)" }
            add(subject, what, "rebuilt it from every source of its turns; the damaged file is kept as \(id).md.damaged-…")
        }
        var turnsChanged = false
        let sources = RecoverySources(backup: backup?.turns ?? [], journal: acknowledged)

        // A turn whose content no longer matches: in a damaged file, the acknowledged text wins where a source has it.
        if damaged {
            for i in turns.indices where !turns[i].isIntact {
                if let good = sources.intact(nonce: turns[i].nonce) {
                    turns[i] = good.turn
                    turnsChanged = true
                    add(subject, "turn \(good.turn.number) was damaged", "recovered its acknowledged text from \(good.source)")
                }
            }
        }

        // A turn that is an acknowledged turn (same number, speaker and content) under another nonce: the nonce
        // was edited; the acknowledged one is put back.
        for i in turns.indices {
            let t = turns[i]
            guard let entry = acknowledged.first(where: { $0.turn.number == t.number && $0.turn.nonce != t.nonce }),
                  entry.turn.speaker == t.speaker, entry.turn.checksum == t.checksum, entry.turn.content == t.content,
                  !turns.contains(where: { $0.nonce == entry.turn.nonce }) else { continue }
            add(subject, "turn \(t.number) carries nonce '\(t.nonce)', but it was acknowledged with nonce \(entry.turn.nonce)",
                "restored its acknowledged nonce")
            turns[i].nonce = entry.turn.nonce
            turnsChanged = true
        }

        // Repeated turns: the same nonce more than once.
        var seen: [String: Int] = [:]
        var kept: [Turn] = []
        for turn in turns {
            guard !turn.nonce.isEmpty, let first = seen[turn.nonce] else {
                if !turn.nonce.isEmpty { seen[turn.nonce] = kept.count }
                kept.append(turn)
                continue
            }
            let original = kept[first]
            if original == turn || (original.number == turn.number && original.content == turn.content && original.checksum == turn.checksum) {
                add(subject, "turn \(turn.number) appears twice (nonce \(turn.nonce))", "removed the repeated copy")
                turnsChanged = true
            } else {
                add(subject, "turn \(turn.number) repeats the nonce of turn \(original.number) (\(turn.nonce)) with other content", nil)
                kept.append(turn)
            }
        }
        turns = kept

        // Reordered turns.
        for i in turns.indices.dropFirst() where turns[i].number < turns[i - 1].number {
            add(subject, "turn \(turns[i].number) comes after turn \(turns[i - 1].number) (out of order)", "put the turns back in order")
            turnsChanged = true
        }
        if turnsChanged || damaged {
            turns = turns.enumerated().sorted { ($0.element.number, $0.offset) < ($1.element.number, $1.offset) }.map(\.element)
        }

        // Missing turns: a gap in the numbers, or an acknowledged turn the file no longer holds.
        var numbers = Set(turns.map(\.number))
        let nonces = Set(turns.map(\.nonce))
        for entry in acknowledged where !nonces.contains(entry.turn.nonce) {
            let t = entry.turn
            if numbers.contains(t.number) {
                add(subject, "acknowledged turn \(t.number) by \(t.speaker) (nonce \(t.nonce)) is missing, and another turn now has its number", nil)
                continue
            }
            turns.append(t)
            numbers.insert(t.number)
            turnsChanged = true
            add(subject, "acknowledged turn \(t.number) by \(t.speaker) (nonce \(t.nonce)) is missing", "restored it from audit.log")
        }
        // Gaps: .bak may hold the turn; what no source holds is reported as a range (numbers come from the file and
        // may be huge, so nothing here walks every number).
        for t in sources.backup where t.number > 0 && !numbers.contains(t.number) && t.number < (numbers.max() ?? 0) {
            guard let found = sources.backupTurn(number: t.number, excluding: nonces) else { continue }
            turns.append(found)
            numbers.insert(found.number)
            turnsChanged = true
            add(subject, "turn \(found.number) is missing", "restored it from \(id).md.bak")
        }
        var expected = 1
        for n in numbers.sorted() where n >= 1 {
            if n > expected {
                let range = n - 1 == expected ? "turn \(expected) is" : "turns \(expected)–\(n - 1) are"
                add(subject, "\(range) missing (not in the talk, its .bak or audit.log)", nil)
            }
            expected = n + 1
        }
        // The last turn acknowledged under the talk's lock, when no source holds it any more.
        var lostRecord = false
        let record = lock?.acknowledged ?? (try? FileSystem.read(location.lock(id), limit: 128)).flatMap { TalkLock.parseAcknowledged($0) }
        if let record, !turns.contains(where: { $0.nonce == record.nonce }), !acknowledged.contains(where: { $0.turn.nonce == record.nonce }) {
            add(subject, "acknowledged turn \(record.number) (nonce \(record.nonce)) is lost: not in the talk, its .bak or audit.log", nil)
            lostRecord = true
        }
        if turnsChanged {
            turns = turns.enumerated().sorted { ($0.element.number, $0.offset) < ($1.element.number, $1.offset) }.map(\.element)
        }
        var byNumber: [Int: Int] = [:]
        for t in turns { byNumber[t.number, default: 0] += 1 }
        for (n, count) in byNumber.sorted(by: { $0.key < $1.key }) where count > 1 && n > 0 {
            add(subject, "\(count) different turns are numbered \(n)", nil)
        }

        // Per turn: nonce, checksum, speaker.
        for t in turns {
            if t.nonce.isEmpty { add(subject, "turn \(t.number) has no nonce", nil) }
            if !t.isIntact {
                let where_ = sources.intact(nonce: t.nonce).map { "; the acknowledged text is in \($0.source)" } ?? ""
                add(subject, "turn \(t.number) does not match its checksum: its content was changed after it was written (hand edit?)\(where_)", nil)
            }
            if !header.participants.contains(t.speaker) {
                add(subject, "turn \(t.number) is by \(t.speaker), who is not a participant", nil)
            }
        }

        // Header drift.
        var headerChanged = false
        let headerStale = header.turnCount != turns.count || turnsChanged
        if header.turnCount != turns.count {
            add(subject, "header says turnCount \(header.turnCount) but the body has \(turns.count) turns", "set turnCount to \(turns.count)")
            header.turnCount = turns.count
            headerChanged = true
        }
        if !header.participants.contains(header.nextSpeaker) {
            let next = turns.last.map { TalkRules.following($0.speaker, in: header.participants) } ?? header.participants[0]
            add(subject, "nextSpeaker '\(header.nextSpeaker)' is not a participant", "set nextSpeaker to \(next)")
            header.nextSpeaker = next
            headerChanged = true
        }
        // A header older than the turns (restored turns, a header from .bak): who is next follows the last turn, as
        // its acknowledgement recorded it.
        if headerStale, let last = turns.last {
            let recorded = acknowledged.last { $0.turn.nonce == last.nonce }?.next
            let next = recorded.flatMap { header.participants.contains($0) ? $0 : nil } ?? TalkRules.following(last.speaker, in: header.participants)
            if header.nextSpeaker != next && header.status == .active {
                add(subject, "nextSpeaker '\(header.nextSpeaker)' predates turn \(last.number)", "set nextSpeaker to \(next)")
                header.nextSpeaker = next
                headerChanged = true
            }
            if last.at > header.updatedAt {
                header.updatedAt = last.at
                headerChanged = true
            }
        }
        if header.status == .active && header.turnCount >= header.maxTurns {
            add(subject, "ACTIVE with \(header.turnCount) of \(header.maxTurns) turns", "marked BLOCKED (max turns reached)")
            header.status = .blocked
            header.blockedReason = "max turns reached"
            headerChanged = true
        }
        if !damaged && (notes.strayLines > 0 || notes.nonCanonical) {
            add(subject, "not in canonical form" + (notes.strayLines > 0 ? " (\(notes.strayLines) stray line(s) outside turns)" : ""), "rewrote it canonically")
            headerChanged = true
        }

        // Reported once; the talk may go on without the turn nobody can bring back.
        if fix && lostRecord { lock?.clearAcknowledged() }
        guard fix, damaged || turnsChanged || headerChanged else { return }
        let rebuilt = Conversation(header: header, turns: turns)
        let bytes = Array(rebuilt.render().utf8)
        var ok = (try? Conversation.parse(bytes: bytes, notes: false))?.0 == rebuilt
        var keptAs: String?
        if ok {
            if damaged || turnsChanged {
                keptAs = keepDamaged(id)
                ok = keptAs != nil
            } else {
                location.keepBackup(id)
            }
        }
        if ok { ok = (try? TalkStorage.publish(bytes, to: path)) != nil }
        if ok {
            talks.audit(AuditEntry(who: "doctor", op: "fix", talk: id, result: "ok", detail: keptAs.map { "damaged file kept as \($0)" }))
            if let keptAs {
                for i in findings.indices where findings[i].subject == subject && findings[i].repair?.contains(".damaged-…") == true {
                    findings[i].repair = "rebuilt it from every source of its turns; the damaged file is kept as \(keptAs)"
                }
            }
        } else {
            for i in findings.indices where findings[i].subject == subject { findings[i].repaired = false; findings[i].repair = nil }
        }
    }

    /// The `.bak` of a talk, parsed (or salvaged); nil when there is none or it is not a regular file.
    mutating func readBackup(_ id: String, subject: String) -> (header: TalkHeader?, turns: [Turn])? {
        let path = location.backup(id)
        guard let kind = TalkStorage.kind(path) else { return nil }
        guard kind == "file" else {
            add(subject, "\(id).md.bak is a \(kind), not a regular file: never followed or read", nil)
            return nil
        }
        guard let bytes = try? FileSystem.read(path, limit: talks.readLimit) else { return nil }
        if let (talk, _) = try? Conversation.parse(bytes: bytes, notes: false) { return (talk.header, talk.turns) }
        let salvage = TalkFile.salvage(bytes)
        return (salvage.header, salvage.turns)
    }

    /// Keeps the current (damaged) file as `<id>.md.damaged-<time>`: a hard link, so the rewrite that follows
    /// leaves it intact. Returns its name, or nil when it could not be kept.
    func keepDamaged(_ id: String) -> String? {
        let stamp = Clock.nowISO8601().filter { $0 != "-" && $0 != ":" }.replacing(".", with: "-")
        var name = "\(id).md.damaged-\(stamp)"
        var attempt = 1
        while TalkStorage.kind(location.conversations + "/" + name) != nil {
            attempt += 1
            name = "\(id).md.damaged-\(stamp)-\(attempt)"
        }
        guard link(location.file(id), location.conversations + "/" + name) == 0 else { return nil }
        FileSystem.syncDirectory(location.conversations)
        return name
    }

    // MARK: Leftovers and locks

    /// Removes this program's own temp files once they are old enough not to belong to a writer at work; nothing
    /// else in the folder (an editor's swap file, a user's notes) is touched.
    mutating func removeLeftovers() {
        let now = Clock.nowNanoseconds()
        let folder = location.conversations
        for name in FileSystem.list(folder, includeHidden: true) where TalkStorage.isOwnTemp(name) {
            let path = folder + "/" + name
            guard TalkStorage.kind(path) == "file", let t = FileSystem.modificationTime(path), now - t > Doctor.tempGraceNanoseconds else { continue }
            if fix { FileSystem.remove(path) }
            add("file \(name)", "leftover temp file of an interrupted write", "removed")
        }
    }

    /// Lock files: stale ones this program made (lockfile strategy) are removed; anything else where a lock
    /// belongs (a symlink, a FIFO) is reported and left alone.
    mutating func checkLocks() {
        for name in FileSystem.list(location.locks) where name.hasSuffix(".lock") && Identifiers.isValidID(String(name.dropLast(5))) {
            let path = location.locks + "/" + name
            guard let kind = TalkStorage.kind(path) else { continue }
            guard kind == "file" else {
                add("lock \(name)", "is a \(kind), not a regular file: the talk cannot be locked until it is removed", nil)
                continue
            }
            guard location.config.lockStrategy == .lockfile, TalkLock.isOwnRecord(path),
                  TalkLock.isStale(path, staleSeconds: location.config.staleLockSeconds) else { continue }
            if fix { FileSystem.remove(path) }
            add("lock \(name)", "stale lock (its owner is gone)", "removed")
        }
    }
}

/// Where a lost or damaged turn can be found again.
struct RecoverySources {
    var backup: [Turn]
    var journal: [(turn: Turn, next: String?)]

    /// An intact copy of the turn with this nonce: from audit.log first (it holds every acknowledged turn), else `.bak`.
    func intact(nonce: String) -> (turn: Turn, source: String)? {
        guard !nonce.isEmpty else { return nil }
        if let t = journal.last(where: { $0.turn.nonce == nonce })?.turn { return (t, "audit.log") }
        if let t = backup.last(where: { $0.nonce == nonce && $0.isIntact }) { return (t, ".bak") }
        return nil
    }

    /// An intact turn of `.bak` with this number whose nonce the talk does not hold already.
    func backupTurn(number: Int, excluding nonces: Set<String>) -> Turn? {
        backup.first { $0.number == number && $0.isIntact && !$0.nonce.isEmpty && !nonces.contains($0.nonce) }
    }
}

extension Doctor {
    static func checkTalks(_ talks: Talks, fix: Bool) -> [Finding] {
        var doctor = TalkDoctor(talks: talks, fix: fix)
        return doctor.run()
    }
}
