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

    public func createSession(_ manifest: SessionManifest) throws(BridgeError) {
        let id = manifest.id
        for box in StoreLayout.Box.allCases { try FileSystem.makeDirectories(layout.box(id, box)) }
        try FileSystem.makeDirectories(layout.sentFolder(id))
        try FileSystem.makeDirectories(layout.receiptsFolder(id))
        try FileSystem.makeDirectories(layout.peersFolder(id))
        try FileSystem.makeDirectories(layout.awaitingFolder(id))
        try saveManifest(manifest)
        touchHeartbeat(id)
    }

    public func manifest(_ id: String) -> SessionManifest? {
        guard Identifiers.isValidID(id), let bytes = try? FileSystem.read(layout.manifest(id), limit: 1 << 20) else { return nil }
        return JSONCoding.decode(SessionManifest.self, from: bytes)
    }

    public func saveManifest(_ manifest: SessionManifest) throws(BridgeError) {
        try AtomicFile.write(JSONCoding.encode(manifest, pretty: true), to: layout.manifest(manifest.id))
    }

    public func sessionIDs() -> [String] {
        FileSystem.list(layout.sessionsFolder).filter { Identifiers.isValidID($0) }.sorted()
    }

    public func removeSession(_ id: String) {
        guard Identifiers.isValidID(id) else { return }
        FileSystem.removeTree(layout.session(id))
    }

    /// Refreshes the heartbeat at most once a second: a stat is cheaper than a metadata write on every command.
    public func touchHeartbeat(_ id: String) {
        let path = layout.heartbeat(id)
        if let t = FileSystem.modificationTime(path), Clock.nowNanoseconds() - t < 1_000_000_000 { return }
        FileSystem.touch(path)
    }

    public func lastSeen(_ id: String) -> Int64? { FileSystem.modificationTime(layout.heartbeat(id)) }

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
        guard let text = try? FileSystem.readString(layout.listenMode(id), limit: 64) else { return nil }
        return ListenMode(rawValue: text.trimmed(" \n"))
    }

    public func setListenMode(_ id: String, _ mode: ListenMode?) throws(BridgeError) {
        if let mode {
            try AtomicFile.write(Array((mode.rawValue + "\n").utf8), to: layout.listenMode(id))
        } else {
            FileSystem.remove(layout.listenMode(id))
        }
    }

    // MARK: Connections

    public func addConnection(_ id: String, peer: String) {
        guard Identifiers.isValidID(peer) else { return }
        let marker = layout.peersFolder(id) + "/" + peer
        if !FileSystem.exists(marker) { FileSystem.touch(marker) }
    }

    public func connections(_ id: String) -> [String] {
        FileSystem.list(layout.peersFolder(id)).filter { Identifiers.isValidID($0) }.sorted()
    }

    // MARK: Messages

    public func deliver(_ message: Message) throws(BridgeError) {
        guard FileSystem.isDirectory(layout.box(message.to, .new)) else { throw .unknownPeer(message.to) }
        // One durable write, two names: the sender's copy is a hard link to the delivered file (same file system).
        let temp = try AtomicFile.writeTemp(JSONCoding.encode(message), in: layout.box(message.to, .tmp), name: message.id)
        var published = false
        let sentPath = layout.sent(message.from, message.id)
        defer { if !published { unlink(temp); unlink(sentPath) } }
        if FileSystem.isDirectory(layout.sentFolder(message.from)) && link(temp, sentPath) != 0 {
            throw FileSystem.failure("cannot record the sent message", sentPath)
        }
        let target = layout.message(message.to, .new, message.id)
        if rename(temp, target) != 0 { throw FileSystem.failure("cannot publish", target) }
        published = true
        FileSystem.syncDirectory(layout.box(message.to, .new))
    }

    public func sentMessage(sender: String, id: String) -> Message? {
        guard Identifiers.isValidID(sender), Identifiers.isValidID(id),
              let bytes = try? FileSystem.read(layout.sent(sender, id)) else { return nil }
        return JSONCoding.decode(Message.self, from: bytes)
    }

    public func pending(_ session: String) -> [String] {
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
        FileSystem.count(layout.box(session, box))
    }

    public func peek(_ session: String, _ box: StoreLayout.Box, _ id: String) -> Message? {
        guard let bytes = try? FileSystem.read(layout.message(session, box, id)) else { return nil }
        guard let m = JSONCoding.decode(Message.self, from: bytes), m.isIntact, m.id == id else { return nil }
        return m
    }

    public func claim(_ session: String, _ id: String, keepInFlight: Bool) throws(BridgeError) -> ClaimOutcome {
        let source = layout.message(session, .new, id)
        let target = layout.message(session, keepInFlight ? .claimed : .done, id)
        guard try FileSystem.move(source, target) else { return .gone }
        FileSystem.touch(target)   // mtime = claim time: the lease runs from here
        let reason: String
        do throws(BridgeError) {
            let bytes = try FileSystem.read(target)
            if let m = JSONCoding.decode(Message.self, from: bytes) {
                if m.isIntact && m.id == id && m.to == session { return .claimed(m) }
                reason = m.sha256 != SHA256.hex(m.content) ? "checksum mismatch" : "ids do not match the file"
            } else {
                reason = "not a valid message JSON object"
            }
        } catch {
            reason = error.message
        }
        _ = try? FileSystem.move(target, layout.box(session, .quarantine) + "/" + id + ".json")
        return .malformed(reason)
    }

    public func move(_ session: String, _ id: String, from: StoreLayout.Box, to: StoreLayout.Box) throws(BridgeError) -> Bool {
        try FileSystem.moveNoReplace(layout.message(session, from, id), layout.message(session, to, id))
    }

    public func locate(_ session: String, _ id: String) -> StoreLayout.Box? {
        for box in [StoreLayout.Box.new, .claimed, .done, .quarantine] where FileSystem.exists(layout.message(session, box, id)) {
            return box
        }
        return nil
    }

    public func expiredClaims(_ session: String, leaseNanoseconds: Int64, now: Int64) -> [String] {
        FileSystem.list(layout.box(session, .claimed)).compactMap { name -> String? in
            guard name.hasSuffix(".json") else { return nil }
            let id = String(name.dropLast(5))
            guard let t = claimTime(session, id), now - t >= leaseNanoseconds else { return nil }
            return id
        }.sorted()
    }

    public func claimTime(_ session: String, _ id: String) -> Int64? {
        FileSystem.modificationTime(layout.message(session, .claimed, id))
    }

    public func messages(_ session: String, _ box: StoreLayout.Box) -> [Message] {
        FileSystem.list(layout.box(session, box)).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            peek(session, box, String(name.dropLast(5)))
        }
    }

    public func quarantine(_ session: String, fileName: String) {
        guard !fileName.contains("/") else { return }
        _ = try? FileSystem.move(layout.box(session, .new) + "/" + fileName, layout.box(session, .quarantine) + "/" + fileName)
    }

    // MARK: Awaited replies

    public func setAwaiting(_ session: String, messageID: String, pid: Int32) {
        try? FileSystem.makeDirectories(layout.awaitingFolder(session))
        _ = try? AtomicFile.write(Array("\(pid)\n".utf8), to: layout.awaitingFolder(session) + "/" + messageID, durable: false)
    }

    public func clearAwaiting(_ session: String, messageID: String) {
        FileSystem.remove(layout.awaitingFolder(session) + "/" + messageID)
    }

    public func awaiting(_ session: String) -> [String: Int32] {
        var result: [String: Int32] = [:]
        for name in FileSystem.list(layout.awaitingFolder(session)) where Identifiers.isValidID(name) {
            let text = (try? FileSystem.readString(layout.awaitingFolder(session) + "/" + name, limit: 64)) ?? ""
            result[name] = Int32(text.trimmed(" \n")) ?? 0
        }
        return result
    }

    // MARK: Receipts

    public func appendEvent(sender: String, messageID: String, _ event: DeliveryEvent) {
        guard Identifiers.isValidID(sender), FileSystem.isDirectory(layout.receiptsFolder(sender)) else { return }
        try? FileSystem.appendLine(JSONCoding.string(event), to: layout.receipts(sender, messageID))
    }

    public func events(sender: String, messageID: String) -> [DeliveryEvent] {
        guard Identifiers.isValidID(sender), Identifiers.isValidID(messageID),
              let text = try? FileSystem.readString(layout.receipts(sender, messageID)) else { return [] }
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
