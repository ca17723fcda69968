/// Where reservations are kept, in domain terms. An engine stores one record per project (`ReservationRecord`, by
/// the project's key) and provides one atomic read-change-replace step, `update`; the operations (reserve, release,
/// renew, clear) are that step with the same rules on every engine (`ReservationRules`), so two sessions reserving
/// overlapping paths at once cannot both win on any engine. Engines: `FileReservationStore` (a file per project,
/// replaced under a lock), `InMemoryReservationStore` (one mutex) and `RedisReservationStore` (a compare-and-set
/// Lua script). `StoreFactory` hands out the one of the engine in use (`Stores.reservations`).
package protocol ReservationStore: Sendable {
    /// Where the reservations are, for people (`doctor`).
    var location: String { get }
    /// Keys of the projects that have reservations (the guard's first, usually last, read).
    func keys() throws(BridgeError) -> Set<String>
    /// A project's record by key: nil when there is none; throws when it is damaged or cannot be read.
    func record(key: String) throws(BridgeError) -> ReservationRecord?
    /// Reads the project's reservations, lets `body` change them, and stores the result, all as one atomic step
    /// (`body` may run more than once on an engine that retries; it must only change the list). An empty list
    /// removes the record.
    func update<T>(_ projectID: String, _ body: (inout [Reservation]) throws(BridgeError) -> T) throws(BridgeError) -> T
    /// Removes a damaged or misplaced record (`doctor --fix`).
    func removeRecord(key: String) throws(BridgeError)
    /// What the engine's own representation can leave behind (a killed writer's temp files): `doctor`, area
    /// "reservations"; `fix` removes it.
    func checkLeftovers(fix: Bool, now: Int64) -> [Doctor.Finding]
}

/// The result of a reserve: done, or the reservation in the way (an expected outcome, not a failure).
package enum ReserveOutcome: Sendable, Equatable {
    case reserved([Reservation])
    case conflict(requested: Reservation, held: Reservation)
}

/// One project's reservations as stored.
package struct ReservationRecord: Codable, Sendable, Equatable {
    package var schema = 1
    package var project: String
    package var reservations: [Reservation]

    package init(project: String, reservations: [Reservation]) {
        self.project = project
        self.reservations = reservations
    }

    /// At most this many reservations per project.
    package static let perProjectLimit = 10_000
    /// The largest record read; a project never needs more.
    static let byteLimit = 8 << 20

    /// A stored record's bytes, checked: nil when they are not a record of schema 1.
    static func decode(_ bytes: [UInt8]) -> ReservationRecord? {
        guard let r = JSONCoding.decode(ReservationRecord.self, from: bytes), r.schema == 1 else { return nil }
        return r
    }

    /// Fails when a project's new list breaks the limit.
    static func checkSize(_ list: [Reservation]) throws(BridgeError) {
        guard list.count <= perProjectLimit else { throw .invalidInput(.tooManyReservations(limit: perProjectLimit)) }
    }

    /// The bytes to store for a project's new list (nil: remove the record), or the limit it breaks.
    static func encoded(_ projectID: String, _ list: [Reservation]) throws(BridgeError) -> [UInt8]? {
        try checkSize(list)
        return list.isEmpty ? nil : JSONCoding.encode(ReservationRecord(project: projectID, reservations: list))
    }
}

/// The operations every engine shares, each one `update`: the rules live here once.
extension ReservationStore {
    /// The reservations stored under a key, with the project id they belong to.
    package func reservations(key: String) throws(BridgeError) -> (projectID: String, reservations: [Reservation])? {
        guard let r = try record(key: key) else { return nil }
        return (r.project, r.reservations)
    }

    /// The reservations of a project (empty when it has none).
    package func reservations(projectID: String) throws(BridgeError) -> [Reservation] {
        guard let r = try record(key: ReservationProject.key(projectID)), r.project == projectID else { return [] }
        return r.reservations
    }

    /// The ids of every project that has reservations (records that cannot be read are left out).
    package func projectIDs() -> [String] {
        ((try? keys()) ?? []).sorted().compactMap { try? record(key: $0)?.project }
    }

    /// Adds `requested` (all or none): first drops what `isOver` says has ended, then fails with the first
    /// conflict against what remains. A holder's reservation of the same pattern is replaced (renewed).
    package func reserve(_ requested: [Reservation], projectID: String, isOver: (Reservation) -> Bool) throws(BridgeError) -> ReserveOutcome {
        try update(projectID) { (list: inout [Reservation]) throws(BridgeError) -> ReserveOutcome in
            list.removeAll(where: isOver)
            for r in requested {
                if let held = list.first(where: { r.conflicts(with: $0) }) { return .conflict(requested: r, held: held) }
            }
            // One pass however many are requested (a project may hold thousands); the last of a repeated pattern wins.
            var latest: [String: Int] = [:]
            for (i, r) in requested.enumerated() { latest[r.holder + "\u{0}" + r.pattern] = i }
            list.removeAll { latest[$0.holder + "\u{0}" + $0.pattern] != nil }
            list += requested.enumerated().filter { latest[$0.element.holder + "\u{0}" + $0.element.pattern] == $0.offset }.map(\.element)
            return .reserved(requested)
        }
    }

    /// Removes the holder's reservations that `selects` picks. Returns them.
    package func release(holder: String, projectID: String, where selects: (Reservation) -> Bool) throws(BridgeError) -> [Reservation] {
        try update(projectID) { (list: inout [Reservation]) throws(BridgeError) -> [Reservation] in
            let gone = list.filter { $0.holder == holder && selects($0) }
            list.removeAll { $0.holder == holder && selects($0) }
            return gone
        }
    }

    /// Moves the end of the holder's reservations of these patterns to `until`.
    package func renew(holder: String, patterns: Set<String>, until: String, projectID: String) throws(BridgeError) {
        try update(projectID) { (list: inout [Reservation]) throws(BridgeError) in
            for i in list.indices where list[i].holder == holder && patterns.contains(list[i].pattern) {
                list[i].until = until
            }
        }
    }

    /// Removes every reservation `isOver` picks (ended, stale or expired). Returns them.
    package func clear(projectID: String, where isOver: (Reservation) -> Bool) throws(BridgeError) -> [Reservation] {
        try update(projectID) { (list: inout [Reservation]) throws(BridgeError) -> [Reservation] in
            let gone = list.filter(isOver)
            list.removeAll(where: isOver)
            return gone
        }
    }

    package func checkLeftovers(fix: Bool, now: Int64) -> [Doctor.Finding] { [] }
}

/// Reservations as files: `reservations/<key>.json` per project (key: a hash of the project id), replaced whole
/// (temp file, fsync, rename) under `reservations/<key>.lock`. The guard reads one small file, without a lock.
package struct FileReservationStore: ReservationStore {
    package let folder: String

    package init(storeRoot: String) {
        folder = storeRoot + "/reservations"
    }

    package var location: String { folder }

    func recordPath(_ key: String) -> String { folder + "/" + key + ".json" }
    func lockPath(_ key: String) -> String { folder + "/" + key + ".lock" }

    /// One readdir.
    package func keys() throws(BridgeError) -> Set<String> {
        var out: Set<String> = []
        for name in FileSystem.list(folder) where name.hasSuffix(".json") {
            let key = String(name.dropLast(5))
            if key.count == 32, key.allSatisfy({ $0.isHexDigit }) { out.insert(key) }
        }
        return out
    }

    package func record(key: String) throws(BridgeError) -> ReservationRecord? {
        let path = recordPath(key)
        guard FileSystem.kind(path) != nil else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(path, limit: ReservationRecord.byteLimit) } catch {
            throw .storage(.reservationsUnreadable(record: path, error))
        }
        guard let record = ReservationRecord.decode(bytes) else {
            throw .storage(.reservationsDamaged(record: path, inRedis: false))
        }
        return record
    }

    /// Read, change and replace a project's record under its lock. An empty result removes the record.
    package func update<T>(_ projectID: String, _ body: (inout [Reservation]) throws(BridgeError) -> T) throws(BridgeError) -> T {
        try FileSystem.makeDirectories(folder)
        let key = ReservationProject.key(projectID)
        let lock = try FileLock.exclusive(lockPath(key))
        defer { lock.release() }
        let existing = try record(key: key)
        if let existing, existing.project != projectID {
            throw .storage(.reservationsOfAnotherProject(record: recordPath(key), inRedis: false))
        }
        var list = existing?.reservations ?? []
        let before = list
        let result = try body(&list)
        if list == before { return result }
        if let bytes = try ReservationRecord.encoded(projectID, list) {
            try AtomicFile.write(bytes, to: recordPath(key))
        } else {
            FileSystem.remove(recordPath(key))
            FileSystem.syncDirectory(folder)
        }
        return result
    }

    package func removeRecord(key: String) throws(BridgeError) {
        let lock = try FileLock.exclusive(lockPath(key))
        defer { lock.release() }
        FileSystem.remove(recordPath(key))
        FileSystem.syncDirectory(folder)
    }

    /// Temp files a killed writer left (older than the grace a writer at work may need).
    package func checkLeftovers(fix: Bool, now: Int64) -> [Doctor.Finding] {
        var out: [Doctor.Finding] = []
        for name in FileSystem.list(folder, includeHidden: true) where name.hasPrefix(".") && name.contains(".json.") {
            let path = folder + "/" + name
            guard let t = FileSystem.modificationTime(path), now - t > Doctor.tempGraceNanoseconds else { continue }
            out.append(Doctor.Finding(area: "reservations", subject: path, problem: "a temp file left by an interrupted write",
                                      repair: fix ? "removed" : nil, repaired: fix))
            if fix { FileSystem.remove(path) }
        }
        return out
    }
}
