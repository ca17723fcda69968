#if canImport(Glibc)
import Glibc
#endif
import CSys

/// The file engine: one folder tree under the store root (see `StoreLayout`). Exactly-once claims come from
/// rename(2), which moves a given file for one caller only; publication is temp file + fsync + rename. Locks are
/// flock(2) on lock files (released when their process ends, so they need no TTL); the change signal is a
/// `DirectoryWatcher` (inotify, polling on network file systems).
package struct FileStore: BridgeStore {
    package let layout: StoreLayout
    /// Force the polling watcher (tests; file systems without inotify are detected automatically).
    package let forcePolling: Bool

    /// Opens (and creates, if needed) the store at `root` after checking that the root is safe. (`StoreFactory`
    /// opens it for every command; tests open it directly.)
    package init(root: String, forcePolling: Bool = false) throws(BridgeError) {
        try StoreLocation.prepare(root)
        self.layout = StoreLayout(root: root)
        self.forcePolling = forcePolling
        try FileSystem.makeDirectories(layout.sessionsFolder)
        try FileSystem.makeDirectories(layout.bindingsFolder)
    }

    package var location: String { layout.root }

    /// The bytes of a store file; nil when it is absent or is not a regular file within `limit` (hostile or damaged
    /// content counts as nothing there; `doctor` reports it). Other failures are errors.
    func readIfPresent(_ path: String, limit: Int) throws(StoreError) -> [UInt8]? {
        do {
            return try FileSystem.read(path, limit: limit)
        } catch {
            if case .io(.notRegularFile) = error { return nil }
            if case .invalidInput = error { return nil }
            let code = errno
            if code == ENOENT || code == ENOTDIR || code == ELOOP || code == ENXIO || code == EISDIR { return nil }
            throw StoreError(error)
        }
    }

    func readTextIfPresent(_ path: String, limit: Int) throws(StoreError) -> String? {
        try readIfPresent(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: Sessions

    /// Whether `id` names a session folder of this store: a real folder, never a link planted to one elsewhere.
    /// Until `doctor --fix` removes such a link, the session does not exist for any command: nothing reads,
    /// writes, moves, locks or watches through it.
    package func isOwnSession(_ id: String) -> Bool {
        Identifiers.isValidID(id) && FileSystem.isRealDirectory(layout.session(id))
    }

    /// The error for a session entry that is not a real folder (`doctor --fix` removes it).
    func notOwnSession(_ id: String) -> StoreError {
        let kind = FileSystem.kind(layout.session(id)).map { $0.rawValue } ?? "missing entry"
        return StoreError(.insecure, "\(layout.session(id)) is a \(kind), not a session folder; run doctor --fix")
    }

    package func createSession(_ manifest: SessionManifest) throws(StoreError) {
        let id = manifest.id
        guard Identifiers.isValidID(id) else { throw StoreError(.io, "invalid session id '\(Identifiers.printable(id))'") }
        if let kind = FileSystem.kind(layout.session(id)), kind != .directory { throw notOwnSession(id) }
        try stored { () throws(BridgeError) in
            for box in StoreLayout.Box.allCases { try FileSystem.makeDirectories(layout.box(id, box)) }
            try FileSystem.makeDirectories(layout.sentFolder(id))
            try FileSystem.makeDirectories(layout.receiptsFolder(id))
            try FileSystem.makeDirectories(layout.peersFolder(id))
            try FileSystem.makeDirectories(layout.awaitingFolder(id))
        }
        try saveManifest(manifest)
        try touchHeartbeat(id)
    }

    package func manifest(_ id: String) throws(StoreError) -> SessionManifest? {
        guard isOwnSession(id), let bytes = try readIfPresent(layout.manifest(id), limit: 1 << 20) else { return nil }
        guard let m = SessionManifest.decode(bytes) else {
            throw StoreError(.corrupt, "\(layout.manifest(id)) is not a session manifest")
        }
        return m
    }

    package func saveManifest(_ manifest: SessionManifest) throws(StoreError) {
        guard isOwnSession(manifest.id) else { throw notOwnSession(manifest.id) }
        try stored { () throws(BridgeError) in try AtomicFile.write(JSONCoding.encode(manifest, pretty: true), to: layout.manifest(manifest.id)) }
    }

    package func sessionIDs() throws(StoreError) -> [String] {
        FileSystem.list(layout.sessionsFolder).filter { isOwnSession($0) }.sorted()
    }

    package func removeSession(_ id: String) throws(StoreError) {
        guard isOwnSession(id) else { return }
        FileSystem.removeTree(layout.session(id))
    }

    /// Refreshes the heartbeat at most once a second: a stat is cheaper than a metadata write on every command.
    package func touchHeartbeat(_ id: String) throws(StoreError) {
        guard isOwnSession(id) else { return }
        let path = layout.heartbeat(id)
        if let t = FileSystem.modificationTime(path), Clock.nowNanoseconds() - t < 1_000_000_000 { return }
        FileSystem.touch(path)
    }

    package func lastSeen(_ id: String) throws(StoreError) -> Int64? {
        isOwnSession(id) ? FileSystem.modificationTime(layout.heartbeat(id)) : nil
    }

    package func sessionSnapshots() throws(StoreError) -> [SessionSnapshot] {
        var rows: [SessionSnapshot] = []
        for id in try sessionIDs() {
            guard let m = try? manifest(id) else { continue }
            rows.append(SessionSnapshot(manifest: m, lastSeen: try lastSeen(id), pending: try count(id, .pending),
                                        listenMode: try listenMode(id)))
        }
        return rows
    }

    // MARK: Bindings

    package func binding(forKey key: String) throws(StoreError) -> String? {
        guard let text = try readTextIfPresent(layout.binding(key), limit: 256) else { return nil }
        let id = text.trimmed(" \n\t")
        return Identifiers.isValidID(id) ? id : nil
    }

    package func bind(key: String, to id: String) throws(StoreError) {
        try stored { () throws(BridgeError) in try AtomicFile.write(id + "\n", to: layout.binding(key)) }
    }

    package func unbind(key: String) throws(StoreError) { FileSystem.remove(layout.binding(key)) }

    // MARK: Name index

    package func indexedSession(named name: String) throws(StoreError) -> String? {
        guard Identifiers.isValidName(name), let text = try readTextIfPresent(layout.name(name), limit: 256) else { return nil }
        let id = text.trimmed(" \n")
        return Identifiers.isValidID(id) ? id : nil
    }

    /// A hint: written without fsync, and a failure to write it only costs a slower lookup.
    package func indexName(_ name: String, id: String) throws(StoreError) {
        guard Identifiers.isValidName(name) else { return }
        try? FileSystem.makeDirectories(layout.namesFolder)
        _ = try? AtomicFile.write(Array((id + "\n").utf8), to: layout.name(name), durable: false)
    }

    // MARK: Listen mode

    package func listenMode(_ id: String) throws(StoreError) -> ListenMode? {
        guard isOwnSession(id), let text = try readTextIfPresent(layout.listenMode(id), limit: 64) else { return nil }
        return ListenMode(rawValue: text.trimmed(" \n"))
    }

    package func setListenMode(_ id: String, _ mode: ListenMode?) throws(StoreError) {
        guard isOwnSession(id) else { throw notOwnSession(id) }
        if let mode {
            try stored { () throws(BridgeError) in try AtomicFile.write(Array((mode.rawValue + "\n").utf8), to: layout.listenMode(id)) }
        } else {
            FileSystem.remove(layout.listenMode(id))
        }
    }

    // MARK: Connections

    package func addConnection(_ id: String, peer: String) throws(StoreError) {
        guard Identifiers.isValidID(peer), isOwnSession(id), FileSystem.isRealDirectory(layout.peersFolder(id)) else { return }
        let marker = layout.peersFolder(id) + "/" + peer
        if !FileSystem.exists(marker) { FileSystem.touch(marker) }
    }

    package func connections(_ id: String) throws(StoreError) -> [String] {
        guard isOwnSession(id) else { return [] }
        return FileSystem.list(layout.peersFolder(id)).filter { Identifiers.isValidID($0) }.sorted()
    }

    // MARK: Messages

    /// Publishes in three atomic steps: (1) the complete message is written and flushed as a temp file in the
    /// recipient's `inbox/tmp`, (2) hard-linked as the sender's `sent/` copy, (3) renamed into `inbox/new` (never
    /// replacing a file there). A crash after (1) or (2) leaves a complete temp file that `finishDelivery` (run by
    /// `doctor` and by every reply to the same question) publishes; a crash after (3) is a delivered message.
    package func deliver(_ message: Message) throws(StoreError) {
        // The recipient's folders must be its own: a planted link to a folder elsewhere is never written through.
        guard isOwnSession(message.to),
              FileSystem.isRealDirectory(layout.session(message.to) + "/inbox"),
              FileSystem.isRealDirectory(layout.box(message.to, .new)), FileSystem.isRealDirectory(layout.box(message.to, .tmp)) else {
            throw StoreError(.notFound, message.to)
        }
        // An id delivered before stays delivered once, even after the message moved on (a late second reply).
        if try locate(message.to, message.id) != nil { throw StoreError(.conflict, "message \(message.id) was already delivered") }
        let temp = try stored { () throws(BridgeError) in
            try AtomicFile.writeTemp(JSONCoding.encode(message), in: layout.box(message.to, .tmp), name: message.id + ".json",
                                     crashPoint: ("deliver", 0))
        }
        CrashPoint.reached("deliver", 1)
        var published = false
        let sentPath = layout.sent(message.from, message.id)
        var linked = false
        defer {
            if !published {
                // The sender's copy goes only when it is this attempt's and no delivery of this id stands or is
                // under way: a concurrent delivery of the same id may rely on the copy (the same message) here.
                if linked, FileStore.sameFile(sentPath, temp) {
                    unlink(temp)
                    if fileDeliveryState(message.to, message.id) == .absent { unlink(sentPath) }
                } else {
                    unlink(temp)
                }
            }
        }
        if isOwnSession(message.from), FileSystem.isRealDirectory(layout.sentFolder(message.from)) {
            if link(temp, sentPath) != 0 {
                guard errno == EEXIST else { throw StoreError(FileSystem.failure(.recordSentCopy, sentPath)) }
                // A copy left by an interrupted attempt at the same (reply) id: replaced by this one. Losing that
                // race again means another delivery of this id is under way: one of them wins the publication.
                guard unlink(sentPath) == 0 || errno == ENOENT, link(temp, sentPath) == 0 else {
                    if errno == EEXIST { throw StoreError(.conflict, "message \(message.id) is being delivered") }
                    throw StoreError(FileSystem.failure(.recordSentCopy, sentPath))
                }
            }
            linked = true
        }
        CrashPoint.reached("deliver", 2)
        let target = layout.message(message.to, .new, message.id)
        if !(try stored { () throws(BridgeError) in try FileSystem.moveNoReplace(temp, target) }) {
            // Either another process finished this very delivery (the temp file is gone and the message is there),
            // or a message with this id exists already.
            if FileSystem.exists(temp) || fileDeliveryState(message.to, message.id) == .absent {
                throw StoreError(.conflict, "message \(message.id) was already delivered")
            }
        }
        published = true
        CrashPoint.reached("deliver", 3)
        FileSystem.syncDirectory(layout.box(message.to, .new))
    }

    /// Whether two paths name one file (same device and inode), without following links.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var x = stat(), y = stat()
        guard lstat(a, &x) == 0, lstat(b, &y) == 0 else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

        package func sentMessage(sender: String, id: String) throws(StoreError) -> Message? {
        guard isOwnSession(sender), Identifiers.isValidID(id),
              let bytes = try readIfPresent(layout.sent(sender, id), limit: FileStore.messageFileLimit) else { return nil }
        return JSONCoding.decode(Message.self, from: bytes)
    }

    package func deliveryState(_ recipient: String, _ id: String) throws(StoreError) -> DeliveryState {
        switch fileDeliveryState(recipient, id) {
        case .absent: return .absent
        case .interrupted: return .interrupted
        case .delivered(let box): return .delivered(FileStore.state(of: box))
        }
    }

    /// Where message `id` addressed to `recipient` is in its life, with the temp file of an interrupted delivery.
    /// The temp files are listed first and the boxes then looked at in the order a message moves (new, claimed,
    /// done, quarantine), so a concurrent move forward is never missed. A published copy wins over any temp file: a
    /// writer killed mid-write leaves an incomplete temp file beside the copy a retry published. Of several temp
    /// files, a complete one is named.
    func fileDeliveryState(_ recipient: String, _ id: String) -> FileDeliveryState {
        guard isOwnSession(recipient), Identifiers.isValidID(id) else { return .absent }
        let prefix = "." + id + ".json."
        let temps = FileSystem.list(layout.box(recipient, .tmp), includeHidden: true).filter { $0.hasPrefix(prefix) }.sorted()
            .map { layout.box(recipient, .tmp) + "/" + $0 }
        if FileSystem.exists(layout.message(recipient, .new, id)) { return .delivered(.new) }
        if fileClaimRecord(recipient, id) != nil { return .delivered(.claimed) }
        if FileSystem.exists(layout.message(recipient, .done, id)) { return .delivered(.done) }
        if FileSystem.exists(layout.message(recipient, .quarantine, id)) { return .delivered(.quarantine) }
        guard let first = temps.first else { return .absent }
        if temps.count == 1 { return .interrupted(first) }
        return .interrupted(temps.first { completeTemp(recipient, tempPath: $0) != nil } ?? first)
    }

    package func finishDelivery(_ recipient: String, _ id: String) throws(StoreError) -> Bool {
        switch fileDeliveryState(recipient, id) {
        case .absent: return false
        case .delivered: return true
        case .interrupted(let temp): return finishDelivery(recipient, tempPath: temp)
        }
    }

    /// The complete, intact message a temp file of `recipient`'s holds, if it does (an incomplete one may belong to
    /// a writer still at work, or to one that died mid-write).
    func completeTemp(_ recipient: String, tempPath: String) -> Message? {
        let name = FileSystem.lastComponent(of: tempPath)
        guard name.hasPrefix("."), let dot = name.dropFirst().firstIndex(of: ".") else { return nil }
        let id = String(name.dropFirst()[..<dot])
        guard let bytes = try? FileSystem.read(tempPath, limit: FileStore.messageFileLimit),
              let m = JSONCoding.decode(Message.self, from: bytes), m.isIntact, m.id == id, m.to == recipient else { return nil }
        return m
    }

    /// Completes a delivery interrupted after its temp file was written: a complete, intact message is linked as
    /// the sender's copy (if missing) and renamed into `inbox/new`; anything else is removed. Exactly once: the
    /// rename of one temp file succeeds for one caller. Returns whether the message is now delivered.
    @discardableResult
    func finishDelivery(_ recipient: String, tempPath: String) -> Bool {
        guard isOwnSession(recipient) else { return false }
        guard let m = completeTemp(recipient, tempPath: tempPath) else {
            // Incomplete: a writer may still be at work; only an old one is an interrupted write.
            if let t = FileSystem.modificationTime(tempPath), Clock.nowNanoseconds() - t > FileStore.tempGraceNanoseconds {
                FileSystem.remove(tempPath)
            }
            return false
        }
        let sentPath = layout.sent(m.from, m.id)
        if isOwnSession(m.from) && FileSystem.isRealDirectory(layout.sentFolder(m.from)) && !FileSystem.exists(sentPath) { _ = link(tempPath, sentPath) }
        let id = m.id
        if (try? FileSystem.moveNoReplace(tempPath, layout.message(recipient, .new, id))) == true {
            FileSystem.syncDirectory(layout.box(recipient, .new))
            return true
        }
        if FileSystem.exists(tempPath) && fileDeliveryState(recipient, id) != .absent { FileSystem.remove(tempPath) }
        return !FileSystem.exists(tempPath) && fileDeliveryState(recipient, id) != .absent
    }

    /// Temp files younger than this may belong to a writer at work.
    package static let tempGraceNanoseconds: Int64 = 60 * 1_000_000_000

    /// Largest message file read (the content cap plus JSON escaping).
    package static let messageFileLimit = 64 << 20

    static func box(of state: MessageState) -> StoreLayout.Box {
        switch state {
        case .pending: return .new
        case .inFlight: return .claimed
        case .done: return .done
        case .quarantined: return .quarantine
        }
    }

    static func state(of box: StoreLayout.Box) -> MessageState {
        switch box {
        case .new, .tmp: return .pending
        case .claimed: return .inFlight
        case .done: return .done
        case .quarantine: return .quarantined
        }
    }

    /// Pending message ids, oldest first; entries that are not message files are quarantined on the way.
    func pendingIDs(_ session: String) -> [String] {
        guard isOwnSession(session) else { return [] }
        var ids: [String] = []
        for name in FileSystem.list(layout.box(session, .new)) {
            if name.hasSuffix(".json"), Identifiers.isValidID(String(name.dropLast(5))) {
                ids.append(String(name.dropLast(5)))
            } else {
                quarantine(session, fileName: name, from: .new)
            }
        }
        return ids.sorted()
    }

    package func inboxSnapshot(_ session: String) throws(StoreError) -> InboxSnapshot {
        InboxSnapshot(pending: pendingIDs(session), claims: try claims(session))
    }

    package func pendingMessages(_ session: String) throws(StoreError) -> [PendingMessage] {
        pendingIDs(session).map { PendingMessage(id: $0, message: peek(session, .new, $0)) }
    }

    package func count(_ session: String, _ state: MessageState) throws(StoreError) -> Int {
        isOwnSession(session) ? FileSystem.count(layout.box(session, FileStore.box(of: state))) : 0
    }

    /// The path of message `id` in `box` (a claimed message is found through its claim record).
    func path(_ session: String, _ box: StoreLayout.Box, _ id: String) -> String? {
        guard isOwnSession(session) else { return nil }
        if box == .claimed {
            guard let record = fileClaimRecord(session, id) else { return nil }
            return layout.box(session, .claimed) + "/" + record.fileName
        }
        return layout.message(session, box, id)
    }

    func peek(_ session: String, _ box: StoreLayout.Box, _ id: String) -> Message? {
        guard let path = path(session, box, id), let bytes = try? FileSystem.read(path, limit: FileStore.messageFileLimit) else { return nil }
        guard let m = JSONCoding.decode(Message.self, from: bytes), m.isIntact, m.id == id else { return nil }
        return m
    }

    package func message(_ session: String, _ id: String, in state: MessageState) throws(StoreError) -> Message? {
        peek(session, FileStore.box(of: state), id)
    }

    /// Reads a file just taken by rename and checks it is an intact message for this session; otherwise moves it
    /// to quarantine and says why.
    private func validateTaken(_ session: String, _ id: String, at target: String) -> ClaimOutcome {
        let reason: String
        do throws(BridgeError) {
            let bytes = try FileSystem.read(target, limit: FileStore.messageFileLimit)
            if let m = JSONCoding.decode(Message.self, from: bytes) {
                if m.isIntact && m.id == id && m.to == session { return .claimed(m) }
                reason = m.sha256 != SHA256.hex(m.content) ? "checksum mismatch" : "ids do not match the file"
            } else {
                reason = "not a valid message JSON object"
            }
        } catch {
            reason = error.message
        }
        _ = try? FileSystem.moveNoReplace(target, uniqueQuarantinePath(session, id + ".json"))
        return .malformed(reason)
    }

    /// Claims a pending message in one rename: into `claimed/` under a name carrying the claim time and delivery
    /// number (when a reply is expected), or straight into `done/`.
    package func claim(_ session: String, _ id: String, keepInFlight: Bool) throws(StoreError) -> ClaimOutcome {
        guard Identifiers.isValidID(id), isOwnSession(session) else { return .gone }
        let source = layout.message(session, .new, id)
        let target = keepInFlight
            ? layout.box(session, .claimed) + "/" + ClaimRecord(messageID: id, claimedAt: Clock.nowNanoseconds(), delivery: 1).fileName
            : layout.message(session, .done, id)
        guard try stored({ () throws(BridgeError) in try FileSystem.moveNoReplace(source, target) }) else { return .gone }
        CrashPoint.reached("claim", 1)
        return validateTaken(session, id, at: target)
    }

    /// Takes over a claim whose lease ran out: one rename to a new claim record (now, delivery + 1). Exactly one of
    /// any number of concurrent callers gets `.claimed`.
    package func redeliver(_ session: String, _ record: ClaimRecord) throws(StoreError) -> ClaimOutcome {
        guard isOwnSession(session) else { return .gone }
        let folder = layout.box(session, .claimed)
        var next = record
        next.claimedAt = max(Clock.nowNanoseconds(), record.claimedAt + 1)
        next.delivery = record.delivery + 1
        guard try stored({ () throws(BridgeError) in
            try FileSystem.moveNoReplace(folder + "/" + record.fileName, folder + "/" + next.fileName)
        }) else { return .gone }
        CrashPoint.reached("lease", 1)
        return validateTaken(session, record.messageID, at: folder + "/" + next.fileName)
    }

    /// Moves a claimed message (this exact claim) to `done/`; false when the claim is gone (taken over or finished).
    package func finishClaim(_ session: String, _ record: ClaimRecord) throws(StoreError) -> Bool {
        guard isOwnSession(session) else { return false }
        return try stored { () throws(BridgeError) in
            try FileSystem.moveNoReplace(layout.box(session, .claimed) + "/" + record.fileName, layout.message(session, .done, record.messageID))
        }
    }

    package func finishInFlight(_ session: String, _ id: String) throws(StoreError) -> Bool {
        guard let source = path(session, .claimed, id) else { return false }
        return try stored { () throws(BridgeError) in try FileSystem.moveNoReplace(source, layout.message(session, .done, id)) }
    }

    /// Three steps: (1) this exact claim is taken by one rename to a record one nanosecond later (so that one of
    /// any number of concurrent expiries and takeovers wins), (2) the "expired" receipt is written (once), (3) the
    /// query moves to `done/`. A crash after (1) or (2) leaves a claim past its last lease that the next settling
    /// (or `doctor`) expires; after (2) it reads as expired, never as a query in `done/` that reads as answered.
    package func expire(_ session: String, _ record: ClaimRecord, query: Message, receipt: DeliveryEvent) throws(StoreError) -> Bool {
        guard isOwnSession(session) else { return false }
        let folder = layout.box(session, .claimed)
        var taken = record
        taken.claimedAt = record.claimedAt + 1
        guard try stored({ () throws(BridgeError) in
            try FileSystem.moveNoReplace(folder + "/" + record.fileName, folder + "/" + taken.fileName)
        }) else { return false }
        if !(try events(sender: query.from, messageID: query.id)).contains(where: { $0.event == .expired }) {
            try appendEvent(sender: query.from, messageID: query.id, receipt)
        }
        CrashPoint.reached("expire", 1)
        _ = try finishClaim(session, taken)
        return true
    }

    /// (1) The reply is published to the asker, (2) the "answered" receipt is written, (3) the query moves to
    /// `done/`. After (1) the query counts as answered: the asker finds the reply by its id, and the next reply,
    /// lease check or `doctor` finishes (2) and (3).
    package func replyAndComplete(_ session: String, _ record: ClaimRecord, query: Message, reply: Message,
                                 receipt: DeliveryEvent) throws(StoreError) {
        try deliver(reply)
        CrashPoint.reached("reply", 2)
        try appendEvent(sender: query.from, messageID: query.id, receipt)
        CrashPoint.reached("reply", 3)
        _ = try finishClaim(session, record)
        CrashPoint.reached("reply", 4)
    }

    package func locate(_ session: String, _ id: String) throws(StoreError) -> MessageState? {
        guard Identifiers.isValidID(id), isOwnSession(session) else { return nil }
        if FileSystem.exists(layout.message(session, .new, id)) { return .pending }
        if fileClaimRecord(session, id) != nil { return .inFlight }
        if FileSystem.exists(layout.message(session, .done, id)) { return .done }
        if FileSystem.exists(layout.message(session, .quarantine, id)) { return .quarantined }
        return nil
    }

    /// A folder listing, read only: names that are no message are left alone here (the readers that take
    /// messages quarantine them).
    package func messageIDs(_ session: String, _ state: MessageState) throws(StoreError) -> [String] {
        guard isOwnSession(session) else { return [] }
        let names = FileSystem.list(layout.box(session, FileStore.box(of: state)))
        if state == .inFlight { return Array(Set(names.compactMap { ClaimRecord(fileName: $0)?.messageID })).sorted() }
        return Self.ids(names)
    }

    package func sentIDs(sender: String) throws(StoreError) -> [String] {
        guard isOwnSession(sender) else { return [] }
        return Self.ids(FileSystem.list(layout.sentFolder(sender)))
    }

    /// The ids of the `<id>.json` names among `names`, sorted.
    static func ids(_ names: [String]) -> [String] {
        names.compactMap { name -> String? in
            guard name.hasSuffix(".json") else { return nil }
            let id = String(name.dropLast(5))
            return Identifiers.isValidID(id) ? id : nil
        }.sorted()
    }

    /// The claims in `claimed/`, oldest message first. Files with other names are quarantined; a claimed file
    /// named by an older version (`<id>.json`) is renamed to a claim record dated from its mtime.
    package func claims(_ session: String) throws(StoreError) -> [ClaimRecord] { fileClaims(session) }

    func fileClaims(_ session: String) -> [ClaimRecord] {
        guard isOwnSession(session) else { return [] }
        let folder = layout.box(session, .claimed)
        var records: [ClaimRecord] = []
        for name in FileSystem.list(folder) {
            if let r = ClaimRecord(fileName: name) {
                records.append(r)
            } else if name.hasSuffix(".json"), Identifiers.isValidID(String(name.dropLast(5))),
                      FileSystem.kind(folder + "/" + name) == .regular {
                let r = ClaimRecord(messageID: String(name.dropLast(5)),
                                    claimedAt: FileSystem.modificationTime(folder + "/" + name) ?? Clock.nowNanoseconds(), delivery: 1)
                if (try? FileSystem.moveNoReplace(folder + "/" + name, folder + "/" + r.fileName)) == true { records.append(r) }
            } else {
                quarantine(session, fileName: name, from: .claimed)
            }
        }
        return records.sorted { ($0.messageID, $0.claimedAt) < ($1.messageID, $1.claimedAt) }
    }

    package func claimRecord(_ session: String, _ id: String) throws(StoreError) -> ClaimRecord? { fileClaimRecord(session, id) }

    func fileClaimRecord(_ session: String, _ id: String) -> ClaimRecord? {
        guard isOwnSession(session) else { return nil }
        let prefix = id + "."
        for name in FileSystem.list(layout.box(session, .claimed)) where name.hasPrefix(prefix) {
            if let r = ClaimRecord(fileName: name), r.messageID == id { return r }
        }
        if FileSystem.exists(layout.box(session, .claimed) + "/" + id + ".json") {
            return fileClaims(session).first { $0.messageID == id }
        }
        return nil
    }

    package func messages(_ session: String, _ state: MessageState) throws(StoreError) -> [Message] {
        guard isOwnSession(session) else { return [] }
        if state == .inFlight { return fileClaims(session).compactMap { peek(session, .claimed, $0.messageID) } }
        let box = FileStore.box(of: state)
        return FileSystem.list(layout.box(session, box)).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            peek(session, box, String(name.dropLast(5)))
        }
    }

    package func quarantine(_ session: String, _ id: String, from state: MessageState) throws(StoreError) {
        guard Identifiers.isValidID(id), isOwnSession(session) else { return }
        switch state {
        case .inFlight:
            // Under the message's own name, so that `locate` and `deliveryState` find it quarantined.
            if let record = fileClaimRecord(session, id) {
                _ = try? FileSystem.moveNoReplace(layout.box(session, .claimed) + "/" + record.fileName, uniqueQuarantinePath(session, id + ".json"))
            }
        case .pending, .done:
            quarantine(session, fileName: id + ".json", from: FileStore.box(of: state))
        case .quarantined:
            return
        }
    }

    /// Moves any entry (file, link, FIFO, folder…) aside into `inbox/quarantine` without opening or following it.
    func quarantine(_ session: String, fileName: String, from box: StoreLayout.Box) {
        guard !fileName.contains("/"), fileName != ".", fileName != "..", isOwnSession(session) else { return }
        _ = try? FileSystem.moveNoReplace(layout.box(session, box) + "/" + fileName, uniqueQuarantinePath(session, fileName))
    }

    /// A quarantine name that does not exist yet (the same name may be quarantined more than once).
    func uniqueQuarantinePath(_ session: String, _ fileName: String) -> String {
        let base = layout.box(session, .quarantine) + "/" + (fileName.hasPrefix(".") ? String(fileName.dropFirst()) : fileName)
        if !FileSystem.exists(base) { return base }
        return base + "." + String(Clock.nowNanoseconds())
    }

    // MARK: Awaited replies

    /// A hint for listeners: written without fsync.
    package func setAwaiting(_ session: String, messageID: String, pid: Int32) throws(StoreError) {
        guard isOwnSession(session) else { return }
        try? FileSystem.makeDirectories(layout.awaitingFolder(session))
        guard FileSystem.isRealDirectory(layout.awaitingFolder(session)), Identifiers.isValidID(messageID) else { return }
        try stored { () throws(BridgeError) in
            _ = try AtomicFile.write(Array("\(pid)\n".utf8), to: layout.awaitingFolder(session) + "/" + messageID, durable: false)
        }
    }

    package func clearAwaiting(_ session: String, messageID: String) throws(StoreError) {
        guard Identifiers.isValidID(messageID), isOwnSession(session) else { return }
        FileSystem.remove(layout.awaitingFolder(session) + "/" + messageID)
    }

    package func awaiting(_ session: String) throws(StoreError) -> [String: Int32] {
        guard isOwnSession(session) else { return [:] }
        var result: [String: Int32] = [:]
        for name in FileSystem.list(layout.awaitingFolder(session)) where Identifiers.isValidID(name) {
            let text = (try? readTextIfPresent(layout.awaitingFolder(session) + "/" + name, limit: 64)) ?? nil
            result[name] = Int32((text ?? "").trimmed(" \n")) ?? 0
        }
        return result
    }

    // MARK: Receipts

    package func appendEvent(sender: String, messageID: String, _ event: DeliveryEvent) throws(StoreError) {
        guard isOwnSession(sender), Identifiers.isValidID(messageID), FileSystem.isRealDirectory(layout.receiptsFolder(sender)) else { return }
        try stored { () throws(BridgeError) in try FileSystem.appendLine(JSONCoding.string(event), to: layout.receipts(sender, messageID)) }
    }

    package func events(sender: String, messageID: String) throws(StoreError) -> [DeliveryEvent] {
        guard isOwnSession(sender), Identifiers.isValidID(messageID),
              let text = try readTextIfPresent(layout.receipts(sender, messageID), limit: FileStore.messageFileLimit) else { return [] }
        return text.split(separator: "\n").compactMap { JSONCoding.decode(DeliveryEvent.self, from: Array($0.utf8)) }
    }

    // MARK: Locks

    /// The lock file of each lock (see `StoreLayout`).
    func lockPath(_ name: StoreLockName) -> String {
        switch name {
        case .registry: return layout.registryLock
        case .inbox(let id): return layout.inboxLock(id)
        case .listener(let id): return layout.listenLock(id)
        case .watcher: return layout.watcherLock
        }
    }

    /// flock(2): a killed holder releases it, so `ttlMilliseconds` is not needed.
    package func acquire(_ name: StoreLockName, ttlMilliseconds: Int, wait: Bool) throws(StoreError) -> (any HeldLock)? {
        switch name {
        case .inbox(let id), .listener(let id): guard isOwnSession(id) else { throw notOwnSession(id) }
        case .registry, .watcher: break
        }
        let path = lockPath(name)
        return try stored { () throws(BridgeError) -> (any HeldLock)? in
            if case .watcher = name { try FileSystem.makeDirectories(FileSystem.parentDirectory(of: path)) }
            return wait ? try FileLock.exclusive(path) : try FileLock.attempt(path)
        }
    }

    // MARK: Change signal

    package func changeSignal(_ scope: ChangeScope, alsoWatching folders: [String]) throws(StoreError) -> any ChangeSignal {
        var paths: [String]
        switch scope {
        case .inbox(let id): paths = isOwnSession(id) ? [layout.box(id, .new)] : []
        case .inboxAndReceipts(let id): paths = isOwnSession(id) ? [layout.box(id, .new), layout.receiptsFolder(id)] : []
        case .allInboxes:
            paths = [layout.sessionsFolder]
            for id in try sessionIDs() { paths.append(layout.box(id, .new)) }
            paths = paths.filter { FileSystem.isDirectory($0) }
        case .allInboxesAndReceipts:
            let (store, forcePolling) = (self, self.forcePolling)
            return FolderSetWatcher(folders: { store.everyFolderOfEverySession() + folders.filter { FileSystem.isDirectory($0) } }) { paths in
                DirectoryWatcher(paths: paths, forcePolling: forcePolling, pollIntervalMilliseconds: 1000, includeRemovals: true)
            }
        }
        paths += folders.filter { FileSystem.isDirectory($0) }
        return DirectoryWatcher(paths: paths, forcePolling: forcePolling, pollIntervalMilliseconds: scope == .allInboxes ? 1000 : 50)
    }

    /// The folders whose changes `.allInboxesAndReceipts` wakes for: the sessions folder (sessions come and go),
    /// each session's folder (manifest, listening mode), its boxes and its receipts. Only those that exist.
    func everyFolderOfEverySession() -> [String] {
        var paths = [layout.sessionsFolder]
        for id in (try? sessionIDs()) ?? [] {
            paths.append(layout.session(id))
            for box in [StoreLayout.Box.new, .claimed, .done] { paths.append(layout.box(id, box)) }
            paths.append(layout.receiptsFolder(id))
        }
        return paths.filter { FileSystem.isDirectory($0) }
    }
}

extension String {
    func trimmed(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
