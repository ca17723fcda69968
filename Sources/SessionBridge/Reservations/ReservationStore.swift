/// Where reservations are kept, in domain terms: every change is atomic with the check it depends on, so two
/// sessions reserving overlapping paths at once cannot both win. Engines: `FileReservationStore` (one record per
/// project under the store root); another engine (Redis) implements the same operations.
public protocol ReservationStore {
    /// The reservations of a project (empty when it has none).
    func reservations(projectID: String) throws(BridgeError) -> [Reservation]
    /// The ids of every project that has reservations.
    func projectIDs() -> [String]
    /// Adds `requested` (all or none): first drops what `isOver` says has ended, then fails with the first
    /// conflict against what remains. A holder's reservation of the same pattern is replaced (renewed).
    func reserve(_ requested: [Reservation], projectID: String, isOver: (Reservation) -> Bool) throws(BridgeError) -> ReserveOutcome
    /// Removes the holder's reservations that `selects` picks. Returns them.
    func release(holder: String, projectID: String, where selects: (Reservation) -> Bool) throws(BridgeError) -> [Reservation]
    /// Moves the end of the holder's reservations of these patterns to `until`.
    func renew(holder: String, patterns: Set<String>, until: String, projectID: String) throws(BridgeError)
    /// Removes every reservation `isOver` picks (ended, stale or expired). Returns them.
    func clear(projectID: String, where isOver: (Reservation) -> Bool) throws(BridgeError) -> [Reservation]
}

/// The result of a reserve: done, or the reservation in the way (an expected outcome, not a failure).
public enum ReserveOutcome: Sendable, Equatable {
    case reserved([Reservation])
    case conflict(requested: Reservation, held: Reservation)
}

/// One project's reservations as stored.
struct ReservationRecord: Codable {
    var schema = 1
    var project: String
    var reservations: [Reservation]
}

/// Reservations as files: `reservations/<key>.json` per project (key: a hash of the project id), replaced whole
/// (temp file, fsync, rename) under `reservations/<key>.lock`. The guard reads one small file, without a lock.
public struct FileReservationStore: ReservationStore {
    public let folder: String
    /// The largest record read; a project never needs more.
    static let recordLimit = 8 << 20
    /// At most this many reservations per project.
    public static let perProjectLimit = 10_000

    public init(storeRoot: String) {
        folder = storeRoot + "/reservations"
    }

    func recordPath(_ key: String) -> String { folder + "/" + key + ".json" }
    func lockPath(_ key: String) -> String { folder + "/" + key + ".lock" }

    /// Keys of the projects that have a record (one readdir: the guard's first, usually last, step).
    public func keys() -> Set<String> {
        var out: Set<String> = []
        for name in FileSystem.list(folder) where name.hasSuffix(".json") {
            let key = String(name.dropLast(5))
            if key.count == 32, key.allSatisfy({ $0.isHexDigit }) { out.insert(key) }
        }
        return out
    }

    /// A record by key: nil when there is none; throws when it is damaged.
    func record(key: String) throws(BridgeError) -> ReservationRecord? {
        let path = recordPath(key)
        guard FileSystem.kind(path) != nil else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(path, limit: Self.recordLimit) } catch {
            throw .storage("cannot read the reservations record \(path): \(error.message)")
        }
        guard let record = JSONCoding.decode(ReservationRecord.self, from: bytes), record.schema == 1 else {
            throw .storage("the reservations record \(path) is damaged: run `doctor --fix`")
        }
        return record
    }

    /// The reservations stored under a key, with the project id they belong to.
    public func reservations(key: String) throws(BridgeError) -> (projectID: String, reservations: [Reservation])? {
        guard let r = try record(key: key) else { return nil }
        return (r.project, r.reservations)
    }

    public func reservations(projectID: String) throws(BridgeError) -> [Reservation] {
        guard let r = try record(key: ReservationProject.key(projectID)), r.project == projectID else { return [] }
        return r.reservations
    }

    public func projectIDs() -> [String] {
        keys().sorted().compactMap { try? record(key: $0)?.project }
    }

    /// Read, change and replace a project's record under its lock. An empty result removes the record.
    func update<T>(_ projectID: String, _ body: (inout [Reservation]) throws(BridgeError) -> T) throws(BridgeError) -> T {
        try FileSystem.makeDirectories(folder)
        let key = ReservationProject.key(projectID)
        let lock = try FileLock.exclusive(lockPath(key))
        defer { lock.release() }
        let existing = try record(key: key)
        if let existing, existing.project != projectID {
            throw .storage("the reservations record \(recordPath(key)) belongs to another project: run `doctor --fix`")
        }
        var list = existing?.reservations ?? []
        let before = list
        let result = try body(&list)
        if list == before { return result }
        if list.isEmpty {
            FileSystem.remove(recordPath(key))
            FileSystem.syncDirectory(folder)
        } else {
            if list.count > Self.perProjectLimit {
                throw .invalidInput("a project holds at most \(Self.perProjectLimit) reservations")
            }
            try AtomicFile.write(JSONCoding.encode(ReservationRecord(project: projectID, reservations: list)), to: recordPath(key))
        }
        return result
    }

    public func reserve(_ requested: [Reservation], projectID: String, isOver: (Reservation) -> Bool) throws(BridgeError) -> ReserveOutcome {
        try update(projectID) { (list: inout [Reservation]) throws(BridgeError) -> ReserveOutcome in
            list.removeAll(where: isOver)
            for r in requested {
                if let held = list.first(where: { r.conflicts(with: $0) }) { return .conflict(requested: r, held: held) }
            }
            for r in requested {
                list.removeAll { $0.holder == r.holder && $0.pattern == r.pattern }
                list.append(r)
            }
            return .reserved(requested)
        }
    }

    public func release(holder: String, projectID: String, where selects: (Reservation) -> Bool) throws(BridgeError) -> [Reservation] {
        try update(projectID) { (list: inout [Reservation]) throws(BridgeError) -> [Reservation] in
            let gone = list.filter { $0.holder == holder && selects($0) }
            list.removeAll { $0.holder == holder && selects($0) }
            return gone
        }
    }

    public func renew(holder: String, patterns: Set<String>, until: String, projectID: String) throws(BridgeError) {
        try update(projectID) { (list: inout [Reservation]) throws(BridgeError) in
            for i in list.indices where list[i].holder == holder && patterns.contains(list[i].pattern) {
                list[i].until = until
            }
        }
    }

    public func clear(projectID: String, where isOver: (Reservation) -> Bool) throws(BridgeError) -> [Reservation] {
        try update(projectID) { (list: inout [Reservation]) throws(BridgeError) -> [Reservation] in
            let gone = list.filter(isOver)
            list.removeAll(where: isOver)
            return gone
        }
    }

    /// Removes a damaged or misplaced record (doctor --fix). Under its lock.
    func removeRecord(key: String) throws(BridgeError) {
        let lock = try FileLock.exclusive(lockPath(key))
        defer { lock.release() }
        FileSystem.remove(recordPath(key))
        FileSystem.syncDirectory(folder)
    }
}
