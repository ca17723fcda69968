/// Sessions: registering this one, the names, finding peers, connecting, ending and collecting what ended.
package struct SessionService {
    let bridge: Bridge

    // MARK: Identity

    /// The bound session, if any, without creating one. Refreshes its heartbeat.
    package func currentSession() -> SessionManifest? {
        if let cachedSelf = bridge.cachedSelf { return cachedSelf }
        guard let identity = bridge.identity else { return nil }
        var found: SessionManifest?
        if case .explicit(let v) = identity.source, Identifiers.isValidID(v), let m = readableManifest(v.lowercased()) {
            found = m
        } else if let id = (try? bridge.store.binding(forKey: identity.bindingKey)) ?? nil, let m = readableManifest(id) {
            found = m
        }
        guard var m = found, !m.isEnded else { return nil }
        try? bridge.store.touchHeartbeat(m.id)
        // A resumed agent session has a new process: follow it so liveness stays true. Sessions keyed from a shell
        // (--session) are driven by short-lived shells: following each would rewrite the manifest on every call.
        let followsProcess: Bool
        switch identity.source {
        case .claudeCode, .codex: followsProcess = true
        case .explicit: followsProcess = bridge.environment["SESSION_BRIDGE_PID"] != nil
        case .terminal: followsProcess = false   // the key names the leader process: it never changes
        }
        if followsProcess && !Processes.isSameProcessAlive(pid: m.pid, startTime: m.pidStartTime) {
            let pid = identity.owningProcess(environment: bridge.environment)
            if pid != m.pid {
                m.pid = pid
                m.pidStartTime = Processes.startTime(pid)
                try? bridge.store.saveManifest(m)
            }
        }
        bridge.cachedSelf = m
        return m
    }

    /// The session this identity names (its id, or the one its key is bound to) when that session has ended.
    func endedSession() -> SessionManifest? {
        guard let identity = bridge.identity else { return nil }
        var found: SessionManifest?
        if case .explicit(let v) = identity.source, Identifiers.isValidID(v) { found = readableManifest(v.lowercased()) }
        if found == nil, let id = (try? bridge.store.binding(forKey: identity.bindingKey)) ?? nil { found = readableManifest(id) }
        guard let m = found, m.isEnded else { return nil }
        return m
    }

    /// The bound session; registers one when the runtime gives an identity and `register` is true.
    /// Without `register`, an identity that names a session which has ended is told so (`sessionEnded`), not that
    /// it has none.
    package func requireSession(register: Bool = true) throws(BridgeError) -> SessionManifest {
        if let m = currentSession() { return m }
        if !register, let ended = endedSession() {
            throw .sessionEnded(id: Identifiers.printable(ended.id), name: Identifiers.printable(ended.name))
        }
        guard register, let identity = bridge.identity else { throw .noIdentity }
        // A terminal joins only through `start`: a stray command typed in some terminal does not register it.
        if case .terminal = identity.source { throw .noIdentity }
        return try start(name: nil).manifest
    }

    package struct StartResult: Sendable {
        package var manifest: SessionManifest
        /// True when the session already existed and was re-used.
        package var reused: Bool
        /// True when nothing identifies the caller (no agent session, terminal or key): later commands reach the
        /// session only through its id (`SESSION_BRIDGE_SESSION` or `--session`).
        package var needsKey: Bool = false
    }

    /// Registers this runtime session, or re-uses the one already bound (renaming it if a new name is given).
    /// With no identity at all (a script without a terminal or key) it registers a session under a fresh id, which
    /// the caller then passes on (`needsKey`).
    package func start(name requestedName: String?, projectPath: String = FileSystem.currentDirectory()) throws(BridgeError) -> StartResult {
        guard let identity = bridge.identity else {
            let keyed = Bridge(store: bridge.store, environment: bridge.environment, config: bridge.config,
                               identity: Identity(source: .explicit(Identifiers.sessionID())))
            var result = try keyed.sessions.start(name: requestedName, projectPath: projectPath)
            result.needsKey = true
            return result
        }
        if let requestedName, !Identifiers.isValidName(requestedName) { throw .invalidName(Identifiers.printable(requestedName)) }
        return try bridge.store.withRegistryLock { () throws(BridgeError) -> StartResult in
            bridge.cachedSelf = nil
            if var existing = currentSession() {
                if let requestedName, requestedName != existing.name {
                    existing.name = try uniqueName(requestedName, excluding: existing.id)
                    try bridged { () throws(StoreError) in
                        try bridge.store.saveManifest(existing)
                        try bridge.store.indexName(existing.name, id: existing.id)
                    }
                    bridge.cachedSelf = existing
                }
                return StartResult(manifest: existing, reused: true)
            }
            // A session started by `session-bridge launch --alias NAME` takes that name, so the watcher finds its pane.
            let launched = bridge.environment["SESSION_BRIDGE_NAME"].flatMap { Identifiers.isValidName($0) ? $0 : nil }
            let base = requestedName ?? launched ?? Identifiers.sanitizedName(FileSystem.lastComponent(of: projectPath))
            var id = Identifiers.sessionID()
            if case .explicit(let v) = identity.source, Identifiers.isValidID(v), v.count >= 6, try manifest(v.lowercased()) == nil {
                id = v.lowercased()
            }
            while try sessionExists(id) { id = Identifiers.sessionID() }
            let pid = identity.owningProcess(environment: bridge.environment)
            let now = Clock.nowISO8601()
            var claudeID: String?
            var codexID: String?
            switch identity.source {
            case .claudeCode(let s): claudeID = s
            case .codex(let t): codexID = t
            case .explicit, .terminal: break
            }
            var manifest = SessionManifest(
                id: id, name: try uniqueName(base, excluding: id), projectPath: projectPath, host: bridge.host, pid: pid,
                pidStartTime: Processes.startTime(pid), agent: identity.agent, claudeSessionId: claudeID,
                codexThreadId: codexID, startedAt: now, lastSeen: now, state: "live", endedAt: nil)
            let helpers = Guard.installationHelpers(environment: bridge.environment)
            if !helpers.isEmpty { manifest.helpers = helpers.sorted() }
            try bridged { () throws(StoreError) in
                try bridge.store.createSession(manifest)
                try bridge.store.bind(key: identity.bindingKey, to: id)
                try bridge.store.indexName(manifest.name, id: id)
            }
            bridge.cachedSelf = manifest
            return StartResult(manifest: manifest, reused: false)
        }
    }

    /// `name`, or `name-2`, `name-3`, … so that no other live session has it.
    func uniqueName(_ name: String, excluding id: String) throws(BridgeError) -> String {
        let now = Clock.nowNanoseconds()
        var taken = Set<String>()
        for row in try bridged({ () throws(StoreError) in try bridge.store.sessionSnapshots() }) where row.manifest.id != id {
            let state = PeerState.of(row.manifest, lastSeenNanoseconds: row.lastSeen ?? 0, now: now, localHost: bridge.host)
            if state != .ended && state != .stale { taken.insert(row.manifest.name) }
        }
        if !taken.contains(name) { return name }
        var n = 2
        while taken.contains("\(name)-\(n)") { n += 1 }
        return "\(name)-\(n)"
    }

    /// Turns listening between turns on (foreground or background) or off for this session.
    package func setListenMode(_ mode: ListenMode?) throws(BridgeError) -> SessionManifest {
        let me = try requireSession()
        try bridged { () throws(StoreError) in try bridge.store.setListenMode(me.id, mode) }
        return me
    }

    // MARK: Peers

    /// Finds a session by id, unique id prefix (4+ characters) or name; live sessions win over ended ones.
    package func resolvePeer(_ text: String) throws(BridgeError) -> SessionManifest {
        guard Identifiers.isValidName(text) || Identifiers.isValidID(text) else { throw .invalidID(Identifiers.printable(text)) }
        if Identifiers.isValidID(text), let m = try manifest(text.lowercased()) {
            if m.isEnded { throw .peerEnded(text) }
            return m
        }
        if let hinted = try bridged({ () throws(StoreError) in try bridge.store.indexedSession(named: text) }), let m = try manifest(hinted),
           m.name == text, !m.isEnded,
           PeerState.of(m, lastSeenNanoseconds: (try? bridge.store.lastSeen(m.id)) ?? nil ?? 0, now: Clock.nowNanoseconds(), localHost: bridge.host) != .stale {
            return m
        }
        let rows = try bridged { () throws(StoreError) in try bridge.store.sessionSnapshots() }
        let all = rows.map { $0.manifest }
        let named = all.filter { $0.name == text }
        let liveNamed = named.filter { !$0.isEnded }
        if liveNamed.count == 1 { return liveNamed[0] }
        if liveNamed.count > 1 {
            let now = Clock.nowNanoseconds()
            let seen = Dictionary(rows.map { ($0.manifest.id, $0.lastSeen ?? 0) }, uniquingKeysWith: { a, _ in a })
            let notStale = liveNamed.filter {
                PeerState.of($0, lastSeenNanoseconds: seen[$0.id] ?? 0, now: now, localHost: bridge.host) != .stale
            }
            if notStale.count == 1 { return notStale[0] }
            throw .ambiguousPeer(text, candidates: liveNamed.map { "\($0.name) = \($0.id)" })
        }
        if !named.isEmpty { throw .peerEnded(text) }
        if text.count >= 4 {
            let prefixed = all.filter { $0.id.hasPrefix(text.lowercased()) }
            if prefixed.count == 1 {
                if prefixed[0].isEnded { throw .peerEnded(text) }
                return prefixed[0]
            }
            if prefixed.count > 1 { throw .ambiguousPeer(text, candidates: prefixed.map { $0.id }) }
        }
        throw .unknownPeer(Identifiers.printable(text))
    }

    /// One row of `peers`.
    package struct PeerInfo: Codable, Sendable, Equatable {
        package var id: String
        package var name: String
        package var projectPath: String
        package var host: String
        package var pid: Int32
        package var agent: String
        package var startedAt: String
        package var lastSeen: String
        package var state: PeerState
        package var you: Bool
        package var pending: Int
        package var listening: Bool
    }

    /// Every session as `peers` shows it, from one snapshot read of the store.
    package func peers(includeEnded: Bool = true) throws(BridgeError) -> [PeerInfo] {
        let me = currentSession()?.id
        let now = Clock.nowNanoseconds()
        var rows: [PeerInfo] = []
        for row in try bridged({ () throws(StoreError) in try bridge.store.sessionSnapshots() }) {
            let m = row.manifest
            let seen = row.lastSeen ?? Clock.parseISO8601(m.lastSeen) ?? 0
            let state = PeerState.of(m, lastSeenNanoseconds: seen, now: now, localHost: bridge.host)
            if !includeEnded && state == .ended { continue }
            rows.append(PeerInfo(id: m.id, name: m.name, projectPath: m.projectPath, host: m.host, pid: m.pid, agent: m.agent,
                                 startedAt: m.startedAt, lastSeen: Clock.iso8601(nanoseconds: seen), state: state,
                                 you: m.id == me, pending: row.pending, listening: row.listenMode != nil))
        }
        let order: [PeerState: Int] = [.active: 0, .idle: 1, .stale: 2, .ended: 3]
        return rows.sorted { a, b in
            (order[a.state] ?? 9, a.name, a.id) < (order[b.state] ?? 9, b.name, b.id)
        }
    }

    // MARK: Store reads

    /// A session's manifest; nil when there is none or it cannot be read as one (a damaged manifest is `doctor`'s).
    /// A store that cannot answer is an error.
    package func manifest(_ id: String) throws(BridgeError) -> SessionManifest? {
        do {
            return try bridge.store.manifest(id)
        } catch {
            if error.code == .corrupt { return nil }
            throw BridgeError(error)
        }
    }

    /// A manifest, nil on any failure (where today's callers cannot report one: identity lookups).
    func readableManifest(_ id: String) -> SessionManifest? { (try? bridge.store.manifest(id)) ?? nil }

    /// Whether the store holds a session with this id, readable or not.
    func sessionExists(_ id: String) throws(BridgeError) -> Bool {
        do {
            return try bridge.store.manifest(id) != nil
        } catch {
            if error.code == .corrupt { return true }
            throw BridgeError(error)
        }
    }

    // MARK: Connections and ending

    /// Both sides now know each other: whichever stops first tells the other.
    func connect(_ a: String, _ b: String) {
        try? bridge.store.addConnection(a, peer: b)
        try? bridge.store.addConnection(b, peer: a)
    }

    package struct ConnectResult: Sendable {
        package var peer: SessionManifest
        package var ping: Message
        /// The peer's pong, when it answered within the wait.
        package var pong: Message?
    }

    /// Records the peer as connected and pings it; waits up to `waitSeconds` for the pong (a listening peer answers
    /// at once; one that is not listening answers when it next listens or runs a hook).
    package func connect(_ peerText: String, waitSeconds: Double) throws(BridgeError) -> ConnectResult {
        let me = try requireSession()
        let peer = try resolvePeer(peerText)
        if peer.id == me.id { throw .cannotMessageSelf }
        let ping = try bridge.messages.send(from: me, to: peer, type: .ping, content: "ping from \(me.name)", inReplyTo: nil)
        var pong: Message?
        if waitSeconds > 0, case .answered(let m)? = try? bridge.messages.waitForReply(to: ping.id, timeoutSeconds: waitSeconds) { pong = m }
        return ConnectResult(peer: peer, ping: ping, pong: pong)
    }

    package struct StopResult: Codable, Sendable {
        package var session: SessionManifest
        package var notified: [String]
    }

    /// Ends this session: marks it ended, tells connected peers, and releases the runtime binding.
    /// The history stays for audit until `gc`.
    package func stop() throws(BridgeError) -> StopResult {
        guard var me = currentSession() else { throw .noIdentity }
        me.state = "ended"
        me.endedAt = Clock.nowISO8601()
        try bridged { () throws(StoreError) in try bridge.store.saveManifest(me) }
        try? bridge.store.setListenMode(me.id, nil)
        bridge.reservations.rules.releaseAll(holder: me.id)
        var notified: [String] = []
        for peerID in (try? bridge.store.connections(me.id)) ?? [] {
            guard let peer = readableManifest(peerID), !peer.isEnded else { continue }
            if (try? bridge.messages.send(from: me, to: peer, type: .sessionEnded, content: "\(me.name) (\(me.id)) ended its session", inReplyTo: nil)) != nil {
                notified.append(peer.name)
            }
        }
        if let identity = bridge.identity { try? bridge.store.unbind(key: identity.bindingKey) }
        return StopResult(session: me, notified: notified)
    }

    /// Deletes sessions that ended more than `olderThanSeconds` ago. Returns their ids.
    package func collectGarbage(olderThanSeconds: Int) throws(BridgeError) -> [String] {
        let cutoff = Clock.nowNanoseconds() - Int64(olderThanSeconds) * 1_000_000_000
        var removed: [String] = []
        for row in try bridged({ () throws(StoreError) in try bridge.store.sessionSnapshots() }) {
            let m = row.manifest
            guard m.isEnded else { continue }
            let ended = m.endedAt.flatMap { Clock.parseISO8601($0) } ?? row.lastSeen ?? 0
            if ended <= cutoff {
                try bridged { () throws(StoreError) in try bridge.store.removeSession(m.id) }
                removed.append(m.id)
            }
        }
        return removed
    }
}
