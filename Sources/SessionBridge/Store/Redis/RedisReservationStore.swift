/// Reservations on the Redis engine, so sessions on every host that shares the server see one another's. Each
/// project is a hash `rsv:p:<key>` under the URL's prefix holding its record (`r`, the same JSON as the file
/// engine's) and a version (`v`, from the never-reset counter `rsv:seq`); `rsv:projects` lists the keys that have
/// one. `update` reads the record and its version, applies the shared rules (`ReservationStore`'s operations) in
/// Swift, and stores the result with one Lua script that checks the version is unchanged (compare and set, every
/// key declared); when another writer came first it reads again and retries. So reserve, release, renew and clear
/// are each atomic on the server, with the rules written once for every engine.
package struct RedisReservationStore: ReservationStore {
    let engine: RedisStore

    /// Shares the engine's connections.
    package init(engine: RedisStore) {
        self.engine = engine
    }

    package var location: String { engine.location + " (reservations)" }

    var projectsKey: [UInt8] { engine.key("rsv", "projects") }
    var sequenceKey: [UInt8] { engine.key("rsv", "seq") }
    func recordKey(_ key: String) -> [UInt8] { engine.key("rsv", "p", key) }

    /// How many times `update` reads again after losing a race before it gives up (each loss is another writer's
    /// success, so this bounds the wait, not the outcome).
    static let maximumAttempts = 200

    /// KEYS: record, projects, seq. ARGV: project key, expected version ("0": none), new record ("": remove).
    static let compareAndSet = """
    local v = redis.call('HGET', KEYS[1], 'v') or '0'
    if v ~= ARGV[2] then return 0 end
    if ARGV[3] == '' then
      redis.call('DEL', KEYS[1])
      redis.call('SREM', KEYS[2], ARGV[1])
    else
      local n = redis.call('INCR', KEYS[3])
      redis.call('HSET', KEYS[1], 'v', tostring(n))
      redis.call('HSET', KEYS[1], 'r', ARGV[3])
      redis.call('SADD', KEYS[2], ARGV[1])
    end
    return 1
    """

    /// KEYS: record, projects. ARGV: project key.
    static let remove = """
    redis.call('DEL', KEYS[1])
    redis.call('SREM', KEYS[2], ARGV[1])
    return 1
    """

    static func isKey(_ s: String) -> Bool { s.utf8.count == 32 && s.allSatisfy { $0.isHexDigit } }

    package func keys() throws(BridgeError) -> Set<String> {
        let reply = try bridged { () throws(StoreError) in try engine.call([engine.b("SMEMBERS"), projectsKey]) }
        return Set((reply.array ?? []).compactMap(\.string).filter(Self.isKey))
    }

    /// The record and its version ("0" when there is none).
    func versioned(_ key: String) throws(BridgeError) -> (ReservationRecord?, String) {
        let reply = try bridged { () throws(StoreError) in try engine.call([engine.b("HMGET"), recordKey(key), engine.b("v"), engine.b("r")]) }
        guard let parts = reply.array, parts.count == 2 else {
            throw .storage(.reservationsDamaged(record: key, inRedis: true))
        }
        guard let bytes = parts[1].bytes else { return (nil, parts[0].string ?? "0") }
        guard bytes.count <= ReservationRecord.byteLimit, let record = ReservationRecord.decode(bytes) else {
            throw .storage(.reservationsDamaged(record: key, inRedis: true))
        }
        return (record, parts[0].string ?? "0")
    }

    package func record(key: String) throws(BridgeError) -> ReservationRecord? {
        guard Self.isKey(key) else { return nil }
        return try versioned(key).0
    }

    package func update<T>(_ projectID: String, _ body: (inout [Reservation]) throws(BridgeError) -> T) throws(BridgeError) -> T {
        let key = ReservationProject.key(projectID)
        for attempt in 0..<Self.maximumAttempts {
            let (existing, version) = try versioned(key)
            if let existing, existing.project != projectID {
                throw .storage(.reservationsOfAnotherProject(record: key, inRedis: true))
            }
            var list = existing?.reservations ?? []
            let before = list
            let result = try body(&list)
            if list == before { return result }
            let bytes = try ReservationRecord.encoded(projectID, list) ?? []
            let reply = try bridged { () throws(StoreError) in
                try engine.eval(Self.compareAndSet, keys: [recordKey(key), projectsKey, sequenceKey],
                                args: [engine.b(key), engine.b(version), bytes])
            }
            if reply.integer == 1 { return result }
            // Another writer changed the record since it was read: read it again, after a pause that grows.
            RedisClock.sleep(nanoseconds: UInt64(min(attempt + 1, 20)) * 200_000)
        }
        throw .storage(.reservationsKeptChanging(project: projectID))
    }

    package func removeRecord(key: String) throws(BridgeError) {
        guard Self.isKey(key) else { return }
        _ = try bridged { () throws(StoreError) in
            try engine.eval(Self.remove, keys: [recordKey(key), projectsKey], args: [engine.b(key)])
        }
    }
}
