#if canImport(Glibc)
import Glibc
#endif
import CSys

/// The embedded store: one folder tree under the store root (see `StoreLayout`). Exactly-once claims come from
/// rename(2), which moves a given file for one caller only; publication is temp file + fsync + rename.
public struct FileStore: MessageStore {
    public let layout: StoreLayout
    /// Force the polling watcher (tests; file systems without inotify are detected automatically).
    public let forcePolling: Bool

    /// Opens (and creates, if needed) the store at `root` after checking that the root is safe.
    public init(root: String, forcePolling: Bool = false) throws(BridgeError) {
        try StoreLocation.prepare(root)
        self.layout = StoreLayout(root: root)
        self.forcePolling = forcePolling
        try FileSystem.makeDirectories(layout.sessionsFolder)
        try FileSystem.makeDirectories(layout.bindingsFolder)
    }

    // MARK: Sessions

    /// Whether `id` names a session folder of this store: a real folder, never a link planted to one elsewhere.
    /// Until `doctor --fix` removes such a link, the session does not exist for any command: nothing reads,
    /// writes, moves or locks through it.
    public func isOwnSession(_ id: String) -> Bool {
        Identifiers.isValidID(id) && FileSystem.isRealDirectory(layout.session(id))
    }

    /// The error for a session entry that is not a real folder (`doctor --fix` removes it).
    func notOwnSession(_ id: String) -> BridgeError {
        let kind = FileSystem.kind(layout.session(id)).map { $0.rawValue } ?? "missing entry"
        return .insecureStore("\(layout.session(id)) is a \(kind), not a session folder; run doctor --fix")
    }

    public func createSession(_ manifest: SessionManifest) throws(BridgeError) {
        let id = manifest.id
        if let kind = FileSystem.kind(layout.session(id)), kind != .directory { throw notOwnSession(id) }
        for box in StoreLayout.Box.allCases { try FileSystem.makeDirectories(layout.box(id, box)) }
        try FileSystem.makeDirectories(layout.sentFolder(id))
        try FileSystem.makeDirectories(layout.receiptsFolder(id))
        try FileSystem.makeDirectories(layout.peersFolder(id))
        try FileSystem.makeDirectories(layout.awaitingFolder(id))
        try saveManifest(manifest)
        touchHeartbeat(id)
    }

    public func manifest(_ id: String) -> SessionManifest? {
        guard isOwnSession(id), let bytes = try? FileSystem.read(layout.manifest(id), limit: 1 << 20) else { return nil }
        return JSONCoding.decode(SessionManifest.self, from: bytes)
    }

    public func saveManifest(_ manifest: SessionManifest) throws(BridgeError) {
        guard isOwnSession(manifest.id) else { throw notOwnSession(manifest.id) }
        try AtomicFile.write(JSONCoding.encode(manifest, pretty: true), to: layout.manifest(manifest.id))
    }

    public func sessionIDs() -> [String] {
        FileSystem.list(layout.sessionsFolder).filter { isOwnSession($0) }.sorted()
    }

    public func removeSession(_ id: String) {
        guard Identifiers.isValidID(id) else { return }
        FileSystem.removeTree(layout.session(id))
    }

    /// Refreshes the heartbeat at most once a second: a stat is cheaper than a metadata write on every command.
    public func touchHeartbeat(_ id: String) {
        guard isOwnSession(id) else { return }
        let path = layout.heartbeat(id)
        if let t = FileSystem.modificationTime(path), Clock.nowNanoseconds() - t < 1_000_000_000 { return }
        FileSystem.touch(path)
    }

    public func lastSeen(_ id: String) -> Int64? { isOwnSession(id) ? FileSystem.modificationTime(layout.heartbeat(id)) : nil }

    public func withRegistryLock<T>(_ body: () throws(BridgeError) -> T) throws(BridgeError) -> T {
        let lock = try FileLock.exclusive(layout.registryLock)
        defer { lock.release() }
        return try body()
    }

    // MARK: Bindings

    public func binding(forKey key: String) -> String? {
        guard let text = try? FileSystem.readString(layout.binding(key), limit: 256) else { return nil }
        let id = text.trimmed(" \n\t")
        return Identifiers.isValidID(id) ? id : nil
    }

    public func bind(key: String, to id: String) throws(BridgeError) {
        try AtomicFile.write(id + "\n", to: layout.binding(key))
    }

    public func unbind(key: String) { FileSystem.remove(layout.binding(key)) }

    // MARK: Name index

    public func indexedSession(named name: String) -> String? {
        guard Identifiers.isValidName(name), let text = try? FileSystem.readString(layout.name(name), limit: 256) else { return nil }
        let id = text.trimmed(" \n")
        return Identifiers.isValidID(id) ? id : nil
    }

    public func indexName(_ name: String, id: String) {
        guard Identifiers.isValidName(name) else { return }
        try? FileSystem.makeDirectories(layout.namesFolder)
        _ = try? AtomicFile.write(Array((id + "\n").utf8), to: layout.name(name), durable: false)
    }

    // MARK: Listen mode

    public func listenMode(_ id: String) -> ListenMode? {
        guard isOwnSession(id), let text = try? FileSystem.readString(layout.listenMode(id), limit: 64) else { return nil }
        return ListenMode(rawValue: text.trimmed(" \n"))
    }

    public func setListenMode(_ id: String, _ mode: ListenMode?) throws(BridgeError) {
        guard isOwnSession(id) else { throw notOwnSession(id) }
        if let mode {
            try AtomicFile.write(Array((mode.rawValue + "\n").utf8), to: layout.listenMode(id))
        } else {
            FileSystem.remove(layout.listenMode(id))
        }
    }

    // MARK: Connections

    public func addConnection(_ id: String, peer: String) {
        guard Identifiers.isValidID(peer), isOwnSession(id), FileSystem.isRealDirectory(layout.peersFolder(id)) else { return }
        let marker = layout.peersFolder(id) + "/" + peer
        if !FileSystem.exists(marker) { FileSystem.touch(marker) }
    }

    public func connections(_ id: String) -> [String] {
        guard isOwnSession(id) else { return [] }
        return FileSystem.list(layout.peersFolder(id)).filter { Identifiers.isValidID($0) }.sorted()
    }

    // MARK: Messages

    /// Publishes in three atomic steps: (1) the complete message is written and flushed as a temp file in the
    /// recipient's `inbox/tmp`, (2) hard-linked as the sender's `sent/` copy, (3) renamed into `inbox/new` (never
    /// replacing a file there). A crash after (1) or (2) leaves a complete temp file that `finishDelivery` (run by
    /// `doctor` and by every reply to the same question) publishes; a crash after (3) is a delivered message.
    public func deliver(_ message: Message) throws(BridgeError) {
        // The recipient's folders must be its own: a planted link to a folder elsewhere is never written through.
        guard isOwnSession(message.to),
              FileSystem.isRealDirectory(layout.session(message.to) + "/inbox"),
              FileSystem.isRealDirectory(layout.box(message.to, .new)), FileSystem.isRealDirectory(layout.box(message.to, .tmp)) else {
            throw .unknownPeer(message.to)
        }
        let temp = try AtomicFile.writeTemp(JSONCoding.encode(message), in: layout.box(message.to, .tmp), name: message.id + ".json",
                                            crashPoint: ("deliver", 0))
        CrashPoint.reached("deliver", 1)
        var published = false
        let sentPath = layout.sent(message.from, message.id)
        var linked = false
        defer { if !published { unlink(temp); if linked { unlink(sentPath) } } }
        if isOwnSession(message.from), FileSystem.isRealDirectory(layout.sentFolder(message.from)) {
            if link(temp, sentPath) != 0 {
                // A copy left by an interrupted attempt at the same (reply) id: replaced by this one.
                guard errno == EEXIST, unlink(sentPath) == 0 || errno == ENOENT, link(temp, sentPath) == 0 else {
                    throw FileSystem.failure("cannot record the sent message", sentPath)
                }
            }
            linked = true
        }
        CrashPoint.reached("deliver", 2)
        let target = layout.message(message.to, .new, message.id)
        if !(try FileSystem.moveNoReplace(temp, target)) {
            // Either another process finished this very delivery (the temp file is gone and the message is there),
            // or a message with this id exists already.
            if FileSystem.exists(temp) || deliveryState(message.to, message.id) == .absent {
                throw .conflict("message \(message.id) was already delivered")
            }
        }
        published = true
        CrashPoint.reached("deliver", 3)
        FileSystem.syncDirectory(layout.box(message.to, .new))
    }

    public func sentMessage(sender: String, id: String) -> Message? {
        guard isOwnSession(sender), Identifiers.isValidID(id),
              let bytes = try? FileSystem.read(layout.sent(sender, id)) else { return nil }
        return JSONCoding.decode(Message.self, from: bytes)
    }

    /// Where message `id` addressed to `recipient` is in its life. The temp files are listed first and the boxes
    /// then looked at in the order a message moves (new, claimed, done, quarantine), so a concurrent move forward
    /// is never missed. A published copy wins over any temp file: a writer killed mid-write leaves an incomplete
    /// temp file beside the copy a retry published. Of several temp files, a complete one is named.
    public func deliveryState(_ recipient: String, _ id: String) -> DeliveryState {
        guard isOwnSession(recipient), Identifiers.isValidID(id) else { return .absent }
        let prefix = "." + id + ".json."
        let temps = FileSystem.list(layout.box(recipient, .tmp), includeHidden: true).filter { $0.hasPrefix(prefix) }.sorted()
            .map { layout.box(recipient, .tmp) + "/" + $0 }
        if FileSystem.exists(layout.message(recipient, .new, id)) { return .delivered(.new) }
        if claimRecord(recipient, id) != nil { return .delivered(.claimed) }
        if FileSystem.exists(layout.message(recipient, .done, id)) { return .delivered(.done) }
        if FileSystem.exists(layout.message(recipient, .quarantine, id)) { return .delivered(.quarantine) }
        guard let first = temps.first else { return .absent }
        if temps.count == 1 { return .interrupted(first) }
        return .interrupted(temps.first { completeTemp(recipient, tempPath: $0) != nil } ?? first)
    }

    /// The complete, intact message a temp file of `recipient`'s holds, if it does (an incomplete one may belong to
    /// a writer still at work, or to one that died mid-write).
    public func completeTemp(_ recipient: String, tempPath: String) -> Message? {
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
    public func finishDelivery(_ recipient: String, tempPath: String) -> Bool {
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
        if FileSystem.exists(tempPath) && deliveryState(recipient, id) != .absent { FileSystem.remove(tempPath) }
        return !FileSystem.exists(tempPath) && deliveryState(recipient, id) != .absent
    }

    /// Temp files younger than this may belong to a writer at work.
    public static let tempGraceNanoseconds: Int64 = 60 * 1_000_000_000

    /// Largest message file read (the content cap plus JSON escaping).
    public static let messageFileLimit = 64 << 20

    public func pending(_ session: String) -> [String] {
        guard isOwnSession(session) else { return [] }
        var ids: [String] = []
        for name in FileSystem.list(layout.box(session, .new)) {
            if name.hasSuffix(".json"), Identifiers.isValidID(String(name.dropLast(5))) {
                ids.append(String(name.dropLast(5)))
            } else {
                quarantine(session, fileName: name)
            }
        }
        return ids.sorted()
    }

    public func count(_ session: String, _ box: StoreLayout.Box) -> Int {
        isOwnSession(session) ? FileSystem.count(layout.box(session, box)) : 0
    }

    /// The path of message `id` in `box` (a claimed message is found through its claim record).
    func path(_ session: String, _ box: StoreLayout.Box, _ id: String) -> String? {
        guard isOwnSession(session) else { return nil }
        if box == .claimed {
            guard let record = claimRecord(session, id) else { return nil }
            return layout.box(session, .claimed) + "/" + record.fileName
        }
        return layout.message(session, box, id)
    }

    public func peek(_ session: String, _ box: StoreLayout.Box, _ id: String) -> Message? {
        guard let path = path(session, box, id), let bytes = try? FileSystem.read(path, limit: FileStore.messageFileLimit) else { return nil }
        guard let m = JSONCoding.decode(Message.self, from: bytes), m.isIntact, m.id == id else { return nil }
        return m
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
    public func claim(_ session: String, _ id: String, keepInFlight: Bool) throws(BridgeError) -> ClaimOutcome {
        guard isOwnSession(session) else { return .gone }
        let source = layout.message(session, .new, id)
        let target = keepInFlight
            ? layout.box(session, .claimed) + "/" + ClaimRecord(messageID: id, claimedAt: Clock.nowNanoseconds(), delivery: 1).fileName
            : layout.message(session, .done, id)
        guard try FileSystem.moveNoReplace(source, target) else { return .gone }
        CrashPoint.reached("claim", 1)
        return validateTaken(session, id, at: target)
    }

    /// Takes over a claim whose lease ran out: one rename to a new claim record (now, delivery + 1). Exactly one of
    /// any number of concurrent callers gets `.claimed`.
    public func reclaim(_ session: String, _ record: ClaimRecord) throws(BridgeError) -> ClaimOutcome {
        guard isOwnSession(session) else { return .gone }
        let folder = layout.box(session, .claimed)
        var next = record
        next.claimedAt = max(Clock.nowNanoseconds(), record.claimedAt + 1)
        next.delivery = record.delivery + 1
        guard try FileSystem.moveNoReplace(folder + "/" + record.fileName, folder + "/" + next.fileName) else { return .gone }
        CrashPoint.reached("lease", 1)
        return validateTaken(session, record.messageID, at: folder + "/" + next.fileName)
    }

    /// Moves a claimed message (this exact claim) to `done/`; false when the claim is gone (taken over or finished).
    public func finishClaim(_ session: String, _ record: ClaimRecord) throws(BridgeError) -> Bool {
        guard isOwnSession(session) else { return false }
        return try FileSystem.moveNoReplace(layout.box(session, .claimed) + "/" + record.fileName, layout.message(session, .done, record.messageID))
    }

    public func move(_ session: String, _ id: String, from: StoreLayout.Box, to: StoreLayout.Box) throws(BridgeError) -> Bool {
        precondition(to != .claimed, "a claim is made with claim(_:_:keepInFlight:) or reclaim(_:_:)")
        guard let source = path(session, from, id) else { return false }
        return try FileSystem.moveNoReplace(source, layout.message(session, to, id))
    }

    public func locate(_ session: String, _ id: String) -> StoreLayout.Box? {
        guard isOwnSession(session) else { return nil }
        if FileSystem.exists(layout.message(session, .new, id)) { return .new }
        if claimRecord(session, id) != nil { return .claimed }
        for box in [StoreLayout.Box.done, .quarantine] where FileSystem.exists(layout.message(session, box, id)) { return box }
        return nil
    }

    /// The claims in `claimed/`, oldest message first. Files with other names are quarantined; a claimed file
    /// named by an older version (`<id>.json`) is renamed to a claim record dated from its mtime.
    public func claims(_ session: String) -> [ClaimRecord] {
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

    public func claimRecord(_ session: String, _ id: String) -> ClaimRecord? {
        guard isOwnSession(session) else { return nil }
        let prefix = id + "."
        for name in FileSystem.list(layout.box(session, .claimed)) where name.hasPrefix(prefix) {
            if let r = ClaimRecord(fileName: name), r.messageID == id { return r }
        }
        if FileSystem.exists(layout.box(session, .claimed) + "/" + id + ".json") {
            return claims(session).first { $0.messageID == id }
        }
        return nil
    }

    public func messages(_ session: String, _ box: StoreLayout.Box) -> [Message] {
        if box == .claimed { return claims(session).compactMap { peek(session, .claimed, $0.messageID) } }
        return FileSystem.list(layout.box(session, box)).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            peek(session, box, String(name.dropLast(5)))
        }
    }

    public func quarantine(_ session: String, fileName: String) {
        quarantine(session, fileName: fileName, from: .new)
    }

    /// Moves any entry (file, link, FIFO, folder…) aside into `inbox/quarantine` without opening or following it.
    public func quarantine(_ session: String, fileName: String, from box: StoreLayout.Box) {
        guard !fileName.contains("/"), fileName != ".", fileName != "..", isOwnSession(session) else { return }
        _ = try? FileSystem.moveNoReplace(layout.box(session, box) + "/" + fileName, uniqueQuarantinePath(session, fileName))
    }

    /// A quarantine name that does not exist yet (the same name may be quarantined more than once).
    func uniqueQuarantinePath(_ session: String, _ fileName: String) -> String {
        let base = layout.box(session, .quarantine) + "/" + (fileName.hasPrefix(".") ? String(fileName.dropFirst()) : fileName)
        if !FileSystem.exists(base) { return base }
        return base + "." + String(Clock.nowNanoseconds())
    }

    /// Serializes the steps that finish or take over a claim (reply, lease expiry, redelivery, repair) within one
    /// session; claims from `new/` need no lock (one rename). flock(2): a killed holder releases it.
    public func withInboxLock<T>(_ session: String, _ body: () throws(BridgeError) -> T) throws(BridgeError) -> T {
        guard isOwnSession(session) else { throw notOwnSession(session) }
        let lock = try FileLock.exclusive(layout.inboxLock(session))
        defer { lock.release() }
        return try body()
    }

    // MARK: Awaited replies

    public func setAwaiting(_ session: String, messageID: String, pid: Int32) {
        guard isOwnSession(session) else { return }
        try? FileSystem.makeDirectories(layout.awaitingFolder(session))
        guard FileSystem.isRealDirectory(layout.awaitingFolder(session)) else { return }
        _ = try? AtomicFile.write(Array("\(pid)\n".utf8), to: layout.awaitingFolder(session) + "/" + messageID, durable: false)
    }

    public func clearAwaiting(_ session: String, messageID: String) {
        guard isOwnSession(session) else { return }
        FileSystem.remove(layout.awaitingFolder(session) + "/" + messageID)
    }

    public func awaiting(_ session: String) -> [String: Int32] {
        guard isOwnSession(session) else { return [:] }
        var result: [String: Int32] = [:]
        for name in FileSystem.list(layout.awaitingFolder(session)) where Identifiers.isValidID(name) {
            let text = (try? FileSystem.readString(layout.awaitingFolder(session) + "/" + name, limit: 64)) ?? ""
            result[name] = Int32(text.trimmed(" \n")) ?? 0
        }
        return result
    }

    // MARK: Receipts

    public func appendEvent(sender: String, messageID: String, _ event: DeliveryEvent) {
        guard isOwnSession(sender), Identifiers.isValidID(messageID), FileSystem.isRealDirectory(layout.receiptsFolder(sender)) else { return }
        try? FileSystem.appendLine(JSONCoding.string(event), to: layout.receipts(sender, messageID))
    }

    public func events(sender: String, messageID: String) -> [DeliveryEvent] {
        guard isOwnSession(sender), Identifiers.isValidID(messageID),
              let text = try? FileSystem.readString(layout.receipts(sender, messageID), limit: FileStore.messageFileLimit) else { return [] }
        return text.split(separator: "\n").compactMap { JSONCoding.decode(DeliveryEvent.self, from: Array($0.utf8)) }
    }

    public func makeWatcher(_ session: String, includeReceipts: Bool) -> DirectoryWatcher {
        var paths = [layout.box(session, .new)]
        if includeReceipts { paths.append(layout.receiptsFolder(session)) }
        return DirectoryWatcher(paths: paths, forcePolling: forcePolling)
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
