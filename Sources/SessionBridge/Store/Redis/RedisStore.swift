#if canImport(Glibc)
import Glibc
#endif

/// The Redis engine: sessions on several machines share one Redis server. Each inbox is a set of keys under the
/// URL's prefix (see `RedisScripts` for the states and the scripts that move messages between them); every step of
/// the contract that must be exactly once is one Lua script, which Redis runs alone. Heartbeats are keys with a TTL,
/// so a host that dies leaves sessions that go stale by themselves; locks are `SET NX PX` keys with a token; the
/// change signal is a blocking `XREAD` on the inbox's event stream (no polling). Durability is the server's: run it
/// with `appendonly yes` and `appendfsync always` (README, "Several machines").
package struct RedisStore: BridgeStore {
    package let configuration: RedisConfiguration
    let pool: RedisPool

    /// How long a heartbeat lasts without a refresh: past it, a session's host is taken for gone.
    package static let heartbeatTTLMilliseconds = Int(PeerState.remoteStaleNanoseconds / 1_000_000)

    package init(configuration: RedisConfiguration) {
        self.configuration = configuration
        pool = RedisPool(configuration)
    }

    /// Opens the engine for the factory: parses the URL (no connection yet). `forHook` gives every connection the
    /// short hook connect bound unless the URL sets one, so a hook stays fast when Redis is down or unreachable.
    package static func open(url: String, environment: Environment, forHook: Bool = false) throws(StoreError) -> RedisStore {
        var config: RedisConfiguration
        do { config = try RedisConfiguration.parse(url, environment: environment) } catch { throw storeError(error) }
        config.forHook = forHook
        let store = RedisStore(configuration: config)
        return store
    }

    package var location: String { configuration.redacted }

    // MARK: keys

    func key(_ parts: String...) -> [UInt8] { Array((configuration.prefix + parts.joined(separator: ":")).utf8) }
    var sessionsKey: [UInt8] { key("sessions") }
    var allEventsKey: [UInt8] { key("events") }
    func sessionKey(_ id: String, _ what: String) -> [UInt8] { key("s", id, what) }

    // MARK: calls

    func call(_ args: [[UInt8]]) throws(StoreError) -> RedisReply {
        try pool.with { (c) throws(RedisError) -> RedisReply in try c.call(bytes: args) }
    }

    func call(_ args: [String]) throws(StoreError) -> RedisReply { try call(args.map { Array($0.utf8) }) }

    func pipeline(_ commands: [[[UInt8]]]) throws(StoreError) -> [RedisReply] {
        try pool.with { (c) throws(RedisError) -> [RedisReply] in try c.pipeline(commands) }
    }

    /// Runs a script by its SHA-1 (`EVALSHA`): its text crosses the link only when the server does not have it yet
    /// (first use since a start, a restart or `SCRIPT FLUSH`): on `NOSCRIPT` it is sent whole with `EVAL`, which
    /// also caches it. `NOSCRIPT` means the script did not run, so sending it again runs it once.
    func eval(_ script: String, keys: [[UInt8]], args: [[UInt8]]) throws(StoreError) -> RedisReply {
        let tail = [Array(String(keys.count).utf8)] + keys + args
        let sha = RedisScriptDigests.shared.sha(of: script)
        return try pool.with { (c) throws(RedisError) -> RedisReply in
            let reply = try c.send(bytes: [Array("EVALSHA".utf8), sha] + tail)
            guard case .error(let text) = reply else { return reply }
            guard text.hasPrefix("NOSCRIPT") else { throw c.classify(text) }
            return try c.call(bytes: [Array("EVAL".utf8), Array(script.utf8)] + tail)
        }
    }

    static func storeError(_ e: RedisError) -> StoreError {
        switch e {
        // The detail names the server; the "store unreachable" prefix is the error's own (BridgeError.storeUnreachable).
        case .unreachable(let endpoint, let reason): return StoreError(.unreachable, RedisError.unreachableDetail(endpoint: endpoint, reason: reason))
        case .authRefused, .noPermission, .insecurePasswordFile: return StoreError(.permission, e.message)
        case .badConfiguration: return StoreError(.unsupported, e.message)
        case .server(let text):
            if text.hasPrefix("OOM") { return StoreError(.full, e.message) }
            if text.hasPrefix("WRONGTYPE") { return StoreError(.corrupt, e.message) }
            return StoreError(.io, e.message)
        case .unexpectedReply: return StoreError(.corrupt, e.message)
        }
    }

    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: Sessions

    package func createSession(_ manifest: SessionManifest) throws(StoreError) {
        let id = manifest.id
        guard Identifiers.isValidID(id) else { throw StoreError(.io, "invalid session id '\(id)'") }
        let now = String(Clock.nowNanoseconds())
        let replies = try pipeline([
            [b("SET"), sessionKey(id, "manifest"), JSONCoding.encode(manifest, pretty: true)],
            [b("SET"), sessionKey(id, "hb"), b(now), b("PX"), b(String(Self.heartbeatTTLMilliseconds))],
            [b("SADD"), sessionsKey, b(id)],
            [b("XADD"), allEventsKey, b("MAXLEN"), b("~"), b("256"), b("*"), b("s"), b(id)],
        ])
        try check(replies)
    }

    func check(_ replies: [RedisReply]) throws(StoreError) {
        for r in replies { if case .error(let text) = r { throw Self.storeError(pool.classify(text)) } }
    }

    package func manifest(_ id: String) throws(StoreError) -> SessionManifest? {
        guard Identifiers.isValidID(id) else { return nil }
        guard let bytes = try call([b("GET"), sessionKey(id, "manifest")]).bytes else { return nil }
        guard let m = SessionManifest.decode(bytes) else {
            throw StoreError(.corrupt, "the manifest of session \(id) in Redis is not a session manifest")
        }
        return m
    }

    package func saveManifest(_ manifest: SessionManifest) throws(StoreError) {
        try check(try pipeline([
            [b("SET"), sessionKey(manifest.id, "manifest"), JSONCoding.encode(manifest, pretty: true)],
            [b("SADD"), sessionsKey, b(manifest.id)],
            sessionChanged(manifest.id),
        ]))
    }

    package func sessionIDs() throws(StoreError) -> [String] {
        (try call([b("SMEMBERS"), sessionsKey]).array ?? []).compactMap(\.string).filter { Identifiers.isValidID($0) }.sorted()
    }

    package func removeSession(_ id: String) throws(StoreError) {
        guard Identifiers.isValidID(id) else { return }
        var keys: [[UInt8]] = ["manifest", "hb", "listen", "peers", "msg", "state", "pending", "inflight", "done",
                               "quarantine", "sent", "awaiting", "events"].map { sessionKey(id, $0) }
        // Receipts of what it sent: one list per message.
        var cursor = "0"
        repeat {
            let r = try call([b("SCAN"), b(cursor), b("MATCH"), sessionKey(id, "rcpt:*"), b("COUNT"), b("500")])
            guard let parts = r.array, parts.count == 2, let next = parts[0].string else { break }
            keys += (parts[1].array ?? []).compactMap(\.bytes)
            cursor = next
        } while cursor != "0"
        _ = try pipeline([[b("DEL")] + keys, [b("SREM"), sessionsKey, b(id)], sessionChanged(id)])
    }

    package func touchHeartbeat(_ id: String) throws(StoreError) {
        guard Identifiers.isValidID(id) else { return }
        // Only a registered session has a heartbeat: a touch for an unknown id must not make one appear.
        _ = try eval(RedisScripts.touchHeartbeat, keys: [sessionKey(id, "manifest"), sessionKey(id, "hb")],
                     args: [b(String(Clock.nowNanoseconds())), b(String(Self.heartbeatTTLMilliseconds))])
    }

    package func lastSeen(_ id: String) throws(StoreError) -> Int64? {
        guard Identifiers.isValidID(id) else { return nil }
        let r = try pipeline([[b("GET"), sessionKey(id, "hb")], [b("EXISTS"), sessionKey(id, "manifest")]])
        try check(r)
        return Self.lastSeen(heartbeat: r[0], registered: r[1].integer == 1)
    }

    /// A registered session whose heartbeat key has run out was last seen at least one TTL ago: that bound, rather
    /// than nothing (which readers would replace by the manifest's start time, and show a dead host as recent). A
    /// second more, because readers take their clock before they read the store (`peers`), and must still find it
    /// one TTL old.
    static func lastSeen(heartbeat: RedisReply, registered: Bool) -> Int64? {
        if let seen = heartbeat.integer { return seen }
        return registered ? Clock.nowNanoseconds() - Int64(heartbeatTTLMilliseconds) * 1_000_000 - 1_000_000_000 : nil
    }

    package func sessionSnapshots() throws(StoreError) -> [SessionSnapshot] {
        let ids = try sessionIDs()
        if ids.isEmpty { return [] }
        var commands: [[[UInt8]]] = []
        for id in ids {
            commands.append([b("GET"), sessionKey(id, "manifest")])
            commands.append([b("GET"), sessionKey(id, "hb")])
            commands.append([b("ZCARD"), sessionKey(id, "pending")])
            commands.append([b("GET"), sessionKey(id, "listen")])
        }
        let r = try pipeline(commands)
        try check(r)
        var rows: [SessionSnapshot] = []
        for (i, _) in ids.enumerated() {
            guard let bytes = r[4 * i].bytes, let m = SessionManifest.decode(bytes) else { continue }
            rows.append(SessionSnapshot(manifest: m, lastSeen: Self.lastSeen(heartbeat: r[4 * i + 1], registered: true), pending: Int(r[4 * i + 2].integer ?? 0),
                                        listenMode: r[4 * i + 3].string.flatMap { ListenMode(rawValue: $0) }))
        }
        return rows
    }

    // MARK: Bindings, names, listen modes, connections

    package func binding(forKey key: String) throws(StoreError) -> String? {
        guard let id = try call([b("GET"), self.key("bind", key)]).string, Identifiers.isValidID(id) else { return nil }
        return id
    }

    package func bind(key: String, to id: String) throws(StoreError) { _ = try call([b("SET"), self.key("bind", key), b(id)]) }

    package func unbind(key: String) throws(StoreError) { _ = try call([b("DEL"), self.key("bind", key)]) }

    package func indexedSession(named name: String) throws(StoreError) -> String? {
        guard Identifiers.isValidName(name), let id = try call([b("GET"), key("name", name)]).string, Identifiers.isValidID(id) else { return nil }
        return id
    }

    package func indexName(_ name: String, id: String) throws(StoreError) {
        guard Identifiers.isValidName(name) else { return }
        _ = try call([b("SET"), key("name", name), b(id)])
    }

    package func listenMode(_ id: String) throws(StoreError) -> ListenMode? {
        try call([b("GET"), sessionKey(id, "listen")]).string.flatMap { ListenMode(rawValue: $0) }
    }

    package func setListenMode(_ id: String, _ mode: ListenMode?) throws(StoreError) {
        let change = mode.map { [b("SET"), sessionKey(id, "listen"), b($0.rawValue)] } ?? [b("DEL"), sessionKey(id, "listen")]
        try check(try pipeline([change, sessionChanged(id)]))
    }

    /// The entry on the all-sessions stream that tells change signals a session itself changed (manifest,
    /// listening mode, removal), which no inbox stream records.
    func sessionChanged(_ id: String) -> [[UInt8]] {
        [b("XADD"), allEventsKey, b("MAXLEN"), b("~"), b("256"), b("*"), b("s"), b(id)]
    }

    package func addConnection(_ id: String, peer: String) throws(StoreError) {
        guard Identifiers.isValidID(peer), Identifiers.isValidID(id) else { return }
        _ = try call([b("SADD"), sessionKey(id, "peers"), b(peer)])
    }

    package func connections(_ id: String) throws(StoreError) -> [String] {
        (try call([b("SMEMBERS"), sessionKey(id, "peers")]).array ?? []).compactMap(\.string).filter { Identifiers.isValidID($0) }.sorted()
    }

    // MARK: Messages

    package func deliver(_ message: Message) throws(StoreError) {
        guard Identifiers.isValidID(message.to), Identifiers.isValidID(message.id), Identifiers.isValidID(message.from) else {
            throw StoreError(.notFound, message.to)
        }
        let keys = [sessionsKey, sessionKey(message.to, "msg"), sessionKey(message.to, "state"), sessionKey(message.to, "pending"),
                    sessionKey(message.from, "sent"), sessionKey(message.to, "events"), allEventsKey]
        do {
            _ = try eval(RedisScripts.deliver, keys: keys, args: [b(message.to), b(message.id), JSONCoding.encode(message)])
        } catch {
            if error.detail.contains("NOTFOUND") { throw StoreError(.notFound, message.to) }
            if error.detail.contains("CONFLICT") { throw StoreError(.conflict, "message \(message.id) was already delivered") }
            throw error
        }
    }

    package func sentMessage(sender: String, id: String) throws(StoreError) -> Message? {
        guard Identifiers.isValidID(sender), Identifiers.isValidID(id),
              let bytes = try call([b("HGET"), sessionKey(sender, "sent"), b(id)]).bytes else { return nil }
        return JSONCoding.decode(Message.self, from: bytes)
    }

    func rawState(_ session: String, _ id: String) throws(StoreError) -> String? {
        guard Identifiers.isValidID(session), Identifiers.isValidID(id) else { return nil }
        return try call([b("HGET"), sessionKey(session, "state"), b(id)]).string
    }

    static func state(of raw: String) -> MessageState {
        switch raw.first {
        case "p": return .pending
        case "f": return .inFlight
        case "q": return .quarantined
        default: return .done
        }
    }

    package func deliveryState(_ recipient: String, _ id: String) throws(StoreError) -> DeliveryState {
        guard let raw = try rawState(recipient, id) else { return .absent }
        return .delivered(Self.state(of: raw))
    }

    /// A delivery is one script here: it is never left half done.
    package func finishDelivery(_ recipient: String, _ id: String) throws(StoreError) -> Bool {
        try rawState(recipient, id) != nil
    }

    static func record(_ id: String, _ raw: String) -> ClaimRecord? {
        let parts = raw.split(separator: ":")
        guard parts.count == 3, parts[0] == "f", let at = Int64(parts[1]), let n = Int(parts[2]) else { return nil }
        return ClaimRecord(messageID: id, claimedAt: at, delivery: n)
    }

    static func text(_ r: ClaimRecord) -> String { "f:\(r.claimedAt):\(r.delivery)" }

    package func inboxSnapshot(_ session: String) throws(StoreError) -> InboxSnapshot {
        let r = try eval(RedisScripts.inboxSnapshot, keys: [sessionKey(session, "pending"), sessionKey(session, "inflight"),
                                                           sessionKey(session, "state")], args: [])
        guard let parts = r.array, parts.count == 2 else { throw StoreError(.corrupt, "unexpected inbox snapshot reply") }
        let pending = (parts[0].array ?? []).compactMap(\.string).filter { Identifiers.isValidID($0) }
        let flat = parts[1].array ?? []
        var claims: [ClaimRecord] = []
        var i = 0
        while i + 1 < flat.count {
            if let id = flat[i].string, let raw = flat[i + 1].string, let rec = Self.record(id, raw) { claims.append(rec) }
            i += 2
        }
        return InboxSnapshot(pending: pending, claims: claims.sorted { ($0.messageID, $0.claimedAt) < ($1.messageID, $1.claimedAt) })
    }

    package func pendingMessages(_ session: String) throws(StoreError) -> [PendingMessage] {
        let ids = try inboxSnapshot(session).pending
        if ids.isEmpty { return [] }
        let r = try call([b("HMGET"), sessionKey(session, "msg")] + ids.map { b($0) })
        let values = r.array ?? []
        return ids.enumerated().map { i, id in
            let m = i < values.count ? values[i].bytes.flatMap { JSONCoding.decode(Message.self, from: $0) } : nil
            return PendingMessage(id: id, message: m.flatMap { $0.isIntact && $0.id == id ? $0 : nil })
        }
    }

    func setKey(_ session: String, _ state: MessageState) -> [UInt8] {
        switch state {
        case .pending: return sessionKey(session, "pending")
        case .inFlight: return sessionKey(session, "inflight")
        case .done: return sessionKey(session, "done")
        case .quarantined: return sessionKey(session, "quarantine")
        }
    }

    package func count(_ session: String, _ state: MessageState) throws(StoreError) -> Int {
        let cmd = state == .inFlight ? "SCARD" : "ZCARD"
        return Int(try call([b(cmd), setKey(session, state)]).integer ?? 0)
    }

    package func message(_ session: String, _ id: String, in state: MessageState) throws(StoreError) -> Message? {
        guard let raw = try rawState(session, id), Self.state(of: raw) == state,
              let bytes = try call([b("HGET"), sessionKey(session, "msg"), b(id)]).bytes,
              let m = JSONCoding.decode(Message.self, from: bytes), m.isIntact, m.id == id else { return nil }
        return m
    }

    package func messages(_ session: String, _ state: MessageState) throws(StoreError) -> [Message] {
        let ids: [String]
        if state == .inFlight {
            ids = try claims(session).map(\.messageID)
        } else {
            ids = (try call([b("ZRANGE"), setKey(session, state), b("0"), b("-1")]).array ?? []).compactMap(\.string)
        }
        if ids.isEmpty { return [] }
        let values = try call([b("HMGET"), sessionKey(session, "msg")] + ids.map { b($0) }).array ?? []
        return ids.enumerated().compactMap { i, id in
            guard i < values.count, let bytes = values[i].bytes, let m = JSONCoding.decode(Message.self, from: bytes),
                  m.isIntact, m.id == id else { return nil }
            return m
        }
    }

    package func locate(_ session: String, _ id: String) throws(StoreError) -> MessageState? {
        try rawState(session, id).map(Self.state(of:))
    }

    package func messageIDs(_ session: String, _ state: MessageState) throws(StoreError) -> [String] {
        guard Identifiers.isValidID(session) else { return [] }
        let r = state == .inFlight ? try call([b("SMEMBERS"), setKey(session, state)])
                                   : try call([b("ZRANGE"), setKey(session, state), b("0"), b("-1")])
        return (r.array ?? []).compactMap(\.string).filter { Identifiers.isValidID($0) }.sorted()
    }

    package func sentIDs(sender: String) throws(StoreError) -> [String] {
        guard Identifiers.isValidID(sender) else { return [] }
        return (try call([b("HKEYS"), sessionKey(sender, "sent")]).array ?? []).compactMap(\.string).filter { Identifiers.isValidID($0) }.sorted()
    }

    /// Checks what a script just took is an intact message for `session`; otherwise quarantines it and says why.
    func validateTaken(_ session: String, _ id: String, _ reply: RedisReply, from state: String) throws(StoreError) -> ClaimOutcome {
        guard let bytes = reply.bytes else { return .gone }
        let reason: String
        if let m = JSONCoding.decode(Message.self, from: bytes) {
            if m.isIntact && m.id == id && m.to == session { return .claimed(m) }
            reason = m.sha256 != SHA256.hex(m.content) ? "checksum mismatch" : "ids do not match the entry"
        } else {
            reason = "not a valid message JSON object"
        }
        try moveToQuarantine(session, id, from: state)
        return .malformed(reason)
    }

    package func claim(_ session: String, _ id: String, keepInFlight: Bool) throws(StoreError) -> ClaimOutcome {
        guard Identifiers.isValidID(id), Identifiers.isValidID(session) else { return .gone }
        let record = ClaimRecord(messageID: id, claimedAt: Clock.nowNanoseconds(), delivery: 1)
        let r = try eval(RedisScripts.claim, keys: [sessionKey(session, "state"), sessionKey(session, "pending"),
                                                    sessionKey(session, "inflight"), sessionKey(session, "done"),
                                                    sessionKey(session, "msg")],
                         args: [b(id), b(keepInFlight ? "1" : "0"), b(Self.text(record))])
        return try validateTaken(session, id, r, from: keepInFlight ? "f" : "d")
    }

    package func redeliver(_ session: String, _ record: ClaimRecord) throws(StoreError) -> ClaimOutcome {
        var next = record
        next.claimedAt = max(Clock.nowNanoseconds(), record.claimedAt + 1)
        next.delivery = record.delivery + 1
        let r = try eval(RedisScripts.redeliver, keys: [sessionKey(session, "state"), sessionKey(session, "msg")],
                         args: [b(record.messageID), b(Self.text(record)), b(Self.text(next))])
        return try validateTaken(session, record.messageID, r, from: "f")
    }

    func finish(_ session: String, _ id: String, expected: String) throws(StoreError) -> Bool {
        let r = try eval(RedisScripts.finish, keys: [sessionKey(session, "state"), sessionKey(session, "inflight"), sessionKey(session, "done")],
                         args: [b(id), b(expected)])
        return r.integer == 1
    }

    package func finishClaim(_ session: String, _ record: ClaimRecord) throws(StoreError) -> Bool {
        try finish(session, record.messageID, expected: Self.text(record))
    }

    package func finishInFlight(_ session: String, _ id: String) throws(StoreError) -> Bool {
        guard Identifiers.isValidID(id) else { return false }
        return try finish(session, id, expected: "")
    }

    package func expire(_ session: String, _ record: ClaimRecord, query: Message, receipt: DeliveryEvent) throws(StoreError) -> Bool {
        let r = try eval(RedisScripts.expire, keys: [sessionKey(session, "state"), sessionKey(session, "inflight"), sessionKey(session, "done"),
                                                     sessionKey(query.from, "rcpt:" + query.id), sessionKey(query.from, "events")],
                         args: [b(record.messageID), b(Self.text(record)), JSONCoding.encode(receipt)])
        return r.integer == 1
    }

    package func replyAndComplete(_ session: String, _ record: ClaimRecord, query: Message, reply: Message,
                                 receipt: DeliveryEvent) throws(StoreError) {
        let asker = reply.to
        guard Identifiers.isValidID(asker), Identifiers.isValidID(reply.id) else { throw StoreError(.notFound, asker) }
        let keys = [sessionsKey, sessionKey(asker, "msg"), sessionKey(asker, "state"), sessionKey(asker, "pending"),
                    sessionKey(reply.from, "sent"), sessionKey(asker, "events"), allEventsKey,
                    sessionKey(query.from, "rcpt:" + query.id),
                    sessionKey(session, "state"), sessionKey(session, "inflight"), sessionKey(session, "done")]
        do {
            _ = try eval(RedisScripts.replyAndComplete, keys: keys,
                         args: [b(asker), b(reply.id), JSONCoding.encode(reply), b(query.id), b(Self.text(record)), JSONCoding.encode(receipt)])
        } catch {
            if error.detail.contains("NOTFOUND") { throw StoreError(.notFound, asker) }
            if error.detail.contains("CONFLICT") { throw StoreError(.conflict, "message \(reply.id) was already delivered") }
            throw error
        }
    }

    package func claims(_ session: String) throws(StoreError) -> [ClaimRecord] { try inboxSnapshot(session).claims }

    package func claimRecord(_ session: String, _ id: String) throws(StoreError) -> ClaimRecord? {
        guard let raw = try rawState(session, id) else { return nil }
        return Self.record(id, raw)
    }

    func moveToQuarantine(_ session: String, _ id: String, from state: String) throws(StoreError) {
        _ = try eval(RedisScripts.quarantine, keys: [sessionKey(session, "state"), sessionKey(session, "pending"), sessionKey(session, "inflight"),
                                                     sessionKey(session, "done"), sessionKey(session, "quarantine")],
                     args: [b(id), b(state)])
    }

    package func quarantine(_ session: String, _ id: String, from state: MessageState) throws(StoreError) {
        guard Identifiers.isValidID(id) else { return }
        switch state {
        case .pending: try moveToQuarantine(session, id, from: "p")
        case .inFlight: try moveToQuarantine(session, id, from: "f")
        case .done: try moveToQuarantine(session, id, from: "d")
        case .quarantined: return
        }
    }

    // MARK: Awaited replies

    package func setAwaiting(_ session: String, messageID: String, pid: Int32) throws(StoreError) {
        guard Identifiers.isValidID(messageID) else { return }
        _ = try call([b("HSET"), sessionKey(session, "awaiting"), b(messageID), b(String(pid))])
    }

    package func clearAwaiting(_ session: String, messageID: String) throws(StoreError) {
        _ = try call([b("HDEL"), sessionKey(session, "awaiting"), b(messageID)])
    }

    package func awaiting(_ session: String) throws(StoreError) -> [String: Int32] {
        var out: [String: Int32] = [:]
        for (k, v) in try call([b("HGETALL"), sessionKey(session, "awaiting")]).fieldMap ?? [:] where Identifiers.isValidID(k) {
            out[k] = Int32(v.string ?? "") ?? 0
        }
        return out
    }

    // MARK: Receipts

    package func appendEvent(sender: String, messageID: String, _ event: DeliveryEvent) throws(StoreError) {
        guard Identifiers.isValidID(sender), Identifiers.isValidID(messageID) else { return }
        try check(try pipeline([
            [b("RPUSH"), sessionKey(sender, "rcpt:" + messageID), JSONCoding.encode(event)],
            [b("XADD"), sessionKey(sender, "events"), b("MAXLEN"), b("~"), b("256"), b("*"), b("r"), b(messageID)],
        ]))
    }

    package func events(sender: String, messageID: String) throws(StoreError) -> [DeliveryEvent] {
        guard Identifiers.isValidID(sender), Identifiers.isValidID(messageID) else { return [] }
        return (try call([b("LRANGE"), sessionKey(sender, "rcpt:" + messageID), b("0"), b("-1")]).array ?? [])
            .compactMap { $0.bytes.flatMap { JSONCoding.decode(DeliveryEvent.self, from: $0) } }
    }

    // MARK: Locks

    func lockKey(_ name: StoreLockName) -> [UInt8] {
        switch name {
        case .registry: return key("lock", "registry")
        case .inbox(let id): return key("lock", "inbox", id)
        case .listener(let id): return key("lock", "listen", id)
        case .watcher(let host): return key("lock", "watcher", host)
        }
    }

    /// `SET key token NX PX ttl`; waiting retries with a growing pause (locks are held for a few calls).
    package func acquire(_ name: StoreLockName, ttlMilliseconds: Int, wait: Bool) throws(StoreError) -> (any HeldLock)? {
        let k = lockKey(name)
        let token = Identifiers.sessionID()
        var pause: UInt64 = 1_000_000
        while true {
            let r = try call([b("SET"), k, b(token), b("NX"), b("PX"), b(String(max(1, ttlMilliseconds)))])
            if r == .status("OK") { return RedisLock(store: self, key: k, token: token, ttl: ttlMilliseconds) }
            if !wait { return nil }
            RedisClock.sleep(nanoseconds: pause)
            pause = min(pause * 2, 50_000_000)
        }
    }

    // MARK: Change signal

    package func changeSignal(_ scope: ChangeScope, alsoWatching folders: [String]) throws(StoreError) -> any ChangeSignal {
        let streams: [[UInt8]]
        var follow: (@Sendable () -> [[UInt8]]?)?
        switch scope {
        case .inbox(let id), .inboxAndReceipts(let id): streams = [sessionKey(id, "events")]
        case .allInboxes: streams = [allEventsKey]
        case .allInboxesAndReceipts:
            // The all-sessions stream (deliveries, sessions made, changed or removed) and each session's own (its
            // deliveries, the receipts of what it sent); the set follows the sessions.
            let store = self
            let every: @Sendable () throws(StoreError) -> [[UInt8]] = { () throws(StoreError) in
                [store.allEventsKey] + (try store.sessionIDs()).map { store.sessionKey($0, "events") }
            }
            streams = try every()
            follow = { try? every() }
        }
        let signal: RedisChangeSignal
        do {
            signal = try RedisChangeSignal(configuration: configuration, streams: streams, follow: follow)
        } catch {
            throw Self.storeError(error)
        }
        // Local folders (the watcher's `.talks/` and target registry) change without a word to Redis: both are waited on.
        if folders.isEmpty { return signal }
        return CombinedChangeSignal(primary: signal, folders: DirectoryWatcher(paths: folders))
    }

    // MARK: doctor

    /// `doctor` on Redis: the server answers, and every in-flight claim is looked at as the lease rules say: one
    /// answered by an interrupted reply is finished, one past its last lease is expired (with `fix`).
    package func check(fix: Bool, policy: LeasePolicy) -> [Doctor.Finding] {
        var out: [Doctor.Finding] = []
        func add(_ subject: String, _ problem: String, _ repair: String?, done: Bool) {
            out.append(Doctor.Finding(area: "messages", subject: subject, problem: problem, repair: fix ? repair : nil,
                                      repaired: fix && done))
        }
        do {
            _ = try call(["PING"])
            let now = Clock.nowNanoseconds()
            let leases = Leases(store: self, policy: policy)
            for id in try sessionIDs() {
                let name: String
                do {
                    guard let m = try manifest(id) else { continue }
                    name = m.name
                } catch {
                    add("session \(id)", error.detail, nil, done: false)
                    continue
                }
                for record in try claims(id) {
                    guard let m = try message(id, record.messageID, in: .inFlight) else { continue }
                    let subject = "session \(id): message \(m.id)"
                    if case .delivered = try deliveryState(m.from, Identifiers.replyID(for: m.id)) {
                        let done = fix && ((try? leases.completeIfAnswered(id, name: name, record, m)) == true)
                        add(subject, "answered by an interrupted reply but still claimed",
                            "finished the reply (receipt written, moved to done)", done: done)
                    } else if policy.decide(record, now: now) == .expire {
                        let done = fix && ((try? expire(id, record, query: m,
                                                         receipt: DeliveryEvent(event: .expired, by: id, byName: name))) == true)
                        add(subject, "claimed \(record.delivery) time(s) without an answer, past its lease", "marked expired", done: done)
                    }
                }
            }
        } catch {
            out.append(Doctor.Finding(area: "messages", subject: location, problem: error.detail, repair: nil, repaired: false))
        }
        return out
    }
}

/// A lock held in Redis: a key holding this holder's token, with a TTL.
final class RedisLock: HeldLock, @unchecked Sendable {
    let store: RedisStore
    let key: [UInt8]
    let token: String
    let ttl: Int
    private var released = false

    init(store: RedisStore, key: [UInt8], token: String, ttl: Int) {
        self.store = store
        self.key = key
        self.token = token
        self.ttl = ttl
    }

    deinit { release() }

    func renew() throws(StoreError) -> Bool {
        try store.eval(RedisScripts.renew, keys: [key], args: [Array(token.utf8), Array(String(ttl).utf8)]).integer == 1
    }

    func release() {
        if released { return }
        released = true
        _ = try? store.eval(RedisScripts.release, keys: [key], args: [Array(token.utf8)])
    }
}

/// Connections of one store, reused across calls and threads (one caller per connection at a time).
final class RedisPool: @unchecked Sendable {
    let configuration: RedisConfiguration
    private var idle: [RedisConnection] = []
    private var mutex = pthread_mutex_t()

    init(_ configuration: RedisConfiguration) {
        self.configuration = configuration
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    func classify(_ text: String) -> RedisError { RedisConnection(configuration).classify(text) }

    /// Runs `body` on an idle connection or a new one. A reused connection the server closed while it sat idle (a
    /// restart) fails before its command reaches a live server: that one failure is retried on a new connection.
    func with<T>(_ body: (RedisConnection) throws(RedisError) -> T) throws(StoreError) -> T {
        pthread_mutex_lock(&mutex)
        let reused = idle.popLast()
        pthread_mutex_unlock(&mutex)
        if let reused {
            do throws(RedisError) {
                let result = try body(reused)
                giveBack(reused)
                return result
            } catch {
                guard case .unreachable(_, let reason) = error, reason == "Server closed the connection" || reason.contains("reset") else {
                    giveBack(reused)
                    throw RedisStore.storeError(error)
                }
            }
        }
        let c = RedisConnection(configuration, connectTimeoutMilliseconds: configuration.effectiveConnectTimeout,
                                commandTimeoutMilliseconds: configuration.commandTimeoutMilliseconds)
        defer { giveBack(c) }
        do { return try body(c) } catch { throw RedisStore.storeError(error) }
    }

    private func giveBack(_ c: RedisConnection) {
        guard c.isConnected else { return }
        pthread_mutex_lock(&mutex)
        if idle.count < 8 { idle.append(c) }
        pthread_mutex_unlock(&mutex)
    }
}

/// The SHA-1 of each script this process ran, computed once per script text.
final class RedisScriptDigests: @unchecked Sendable {
    static let shared = RedisScriptDigests()
    private var digests: [String: [UInt8]] = [:]
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }

    deinit { pthread_mutex_destroy(&mutex) }

    /// The script's SHA-1 as lower-case hex bytes, as `EVALSHA` takes it.
    func sha(of script: String) -> [UInt8] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if let known = digests[script] { return known }
        let sha = Array(SHA1.hex(script).utf8)
        digests[script] = sha
        return sha
    }
}

extension RedisConfiguration {
    /// The connect bound used, unless the URL set one: the short hook bound for a hook, and for a loopback host (a
    /// local server or a tunnel's end, which accept at once when up); the ordinary bound for other commands to a
    /// remote host.
    var effectiveConnectTimeout: Int {
        if connectTimeoutExplicit { return connectTimeoutMilliseconds }
        return isLoopback || forHook ? hookConnectTimeoutMilliseconds : connectTimeoutMilliseconds
    }
}

/// Wakes when an entry is added to any of its streams: a blocking `XREAD` from the last entry seen. After a lost
/// connection it reconnects with backoff and reports a wake-up (the caller looks again, so nothing is missed).
final class RedisChangeSignal: ChangeSignal {
    let connection: RedisConnection
    private(set) var streams: [[UInt8]]
    private var lastIDs: [[UInt8]]
    /// The streams to read from now on, asked after each wake-up (nil: the same ones; the answer nil: unknown now).
    let follow: (@Sendable () -> [[UInt8]]?)?

    init(configuration: RedisConfiguration, streams: [[UInt8]], follow: (@Sendable () -> [[UInt8]]?)? = nil) throws(RedisError) {
        connection = RedisConnection(configuration, connectTimeoutMilliseconds: configuration.effectiveConnectTimeout,
                                     commandTimeoutMilliseconds: configuration.commandTimeoutMilliseconds)
        self.streams = streams
        self.follow = follow
        lastIDs = try Self.tops(connection, streams)
    }

    /// The id of each stream's last entry ("0-0" for an empty or missing stream), in one round trip.
    static func tops(_ c: RedisConnection, _ streams: [[UInt8]]) throws(RedisError) -> [[UInt8]] {
        if streams.isEmpty { return [] }
        let replies = try c.pipeline(streams.map { [Array("XREVRANGE".utf8), $0, Array("+".utf8), Array("-".utf8), Array("COUNT".utf8), Array("1".utf8)] })
        for r in replies { if case .error(let text) = r { throw c.classify(text) } }
        return replies.map { $0.array?.first?.array?.first?.bytes ?? Array("0-0".utf8) }
    }

    /// After a wake-up: reads from the streams `follow` names now, keeping where each known one was read to; a new
    /// one is read from its current end (the caller reads the store after this, so what it holds is seen).
    func refollow() {
        guard let follow, let now = follow(), now != streams else { return }
        var known: [[UInt8]: [UInt8]] = [:]
        for (s, id) in zip(streams, lastIDs) { known[s] = id }
        let fresh = now.filter { known[$0] == nil }
        guard let tops = try? Self.tops(connection, fresh) else { return }
        for (s, id) in zip(fresh, tops) { known[s] = id }
        streams = now
        lastIDs = now.map { known[$0] ?? Array("0-0".utf8) }
    }

    var mechanism: String { "redis" }
    var pollingReason: String? { nil }

    func wait(timeoutMilliseconds: Int) -> Bool {
        let deadline = RedisClock.now() + UInt64(max(0, timeoutMilliseconds)) * 1_000_000
        var lost = false
        while true {
            let now = RedisClock.now()
            if now >= deadline { return false }
            let left = Int((deadline - now) / 1_000_000)
            do throws(RedisError) {
                if !connection.isConnected {
                    try connection.connect(retryingUntil: deadline)
                    if lost { refollow(); return true }
                }
                let block = max(1, min(left, 30_000))
                let r = try connection.send(bytes: [Array("XREAD".utf8), Array("BLOCK".utf8), Array(String(block).utf8), Array("STREAMS".utf8)]
                                            + streams + lastIDs, timeoutMilliseconds: block + 2000)
                if case .array(let perStream) = r {
                    for entry in perStream {
                        guard let parts = entry.array, parts.count == 2, let name = parts[0].bytes,
                              let index = streams.firstIndex(of: name), let last = parts[1].array?.last?.array?.first?.bytes else { continue }
                        lastIDs[index] = last
                    }
                    refollow()
                    return true
                }
                if case .error = r { lost = true; connection.close(); RedisClock.sleep(nanoseconds: 10_000_000) }
            } catch {
                lost = true
                if RedisClock.now() >= deadline { return false }
            }
        }
    }
}
