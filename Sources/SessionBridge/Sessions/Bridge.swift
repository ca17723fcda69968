/// Settings that bound what a bridge accepts and how long it holds on.
public struct BridgeConfig: Sendable {
    /// Largest message content in bytes (`SESSION_BRIDGE_MAX_MESSAGE_BYTES`, default 4 MiB).
    public var maxMessageBytes: Int
    /// How long a claimed query may stay unanswered before it is delivered again (`SESSION_BRIDGE_LEASE_SECONDS`).
    public var leaseSeconds: Int
    /// After this many claims without an answer a query is marked expired.
    public var maxDeliveries: Int
    /// What names the helper; read only when a command is printed (see `HelperName`).
    private let environment: Environment
    private let argv0: String
    /// How the helper is named in the commands it prints (see `HelperName`).
    public var helper: HelperName { HelperName(environment: environment, argv0: argv0, executable: Processes.executablePath()) }
    /// The helper as shell text: the start of every printed command.
    public var cliPath: String { helper.text }

    public init(environment: Environment, argv0: String = HelperName.bareName) {
        maxMessageBytes = environment.integer("SESSION_BRIDGE_MAX_MESSAGE_BYTES").map { max(1, $0) } ?? MessageContent.defaultLimit
        leaseSeconds = environment.integer("SESSION_BRIDGE_LEASE_SECONDS").map { max(1, $0) } ?? 600
        maxDeliveries = environment.integer("SESSION_BRIDGE_MAX_DELIVERIES").map { max(1, $0) } ?? 3
        self.environment = environment
        self.argv0 = argv0
    }

    /// The lease and redelivery policy these settings make.
    public var lease: LeasePolicy { LeasePolicy(leaseSeconds: leaseSeconds, maxDeliveries: maxDeliveries) }
}

/// The bridge's operations, shared by every front end (CLI, hooks). One instance per process.
public final class Bridge {
    public let store: any BridgeStore
    /// Edit reservations, on the store's engine (`Stores.reservations`).
    public let reservationStore: any ReservationStore
    public let environment: Environment
    public let config: BridgeConfig
    public let identity: Identity?
    public private(set) lazy var host: String = Processes.hostName()
    private var cachedSelf: SessionManifest?
    /// Change signals stay open until the bridge goes away: closing an inotify descriptor waits for a kernel grace
    /// period (~10 ms), which must not delay printing the message a signal woke us for.
    private var parkedSignals: [any ChangeSignal] = []

    func park(_ signal: any ChangeSignal) -> any ChangeSignal {
        parkedSignals.append(signal)
        return signal
    }

    /// The lease and redelivery rules over this bridge's store.
    public var leases: Leases { Leases(store: store, policy: config.lease) }

    public init(store: any BridgeStore, environment: Environment, sessionOverride: String? = nil, config: BridgeConfig? = nil,
                identity: Identity? = nil, reservations: (any ReservationStore)? = nil) {
        self.store = store
        // A bridge over a given message store alone keeps reservations in the local folder.
        self.reservationStore = reservations ?? FileReservationStore(storeRoot: StoreLocation.rootPath(environment: environment))
        self.environment = environment
        self.config = config ?? BridgeConfig(environment: environment)
        self.identity = identity ?? Identity.resolve(override: sessionOverride, environment: environment)
    }

    /// Opens the store named by the environment (`SESSION_BRIDGE_STORE`, see `StoreFactory`).
    public static func open(environment: Environment = .current(), sessionOverride: String? = nil, argv0: String = HelperName.bareName,
                            identity: Identity? = nil) throws(BridgeError) -> Bridge {
        let stores = try StoreFactory.openForCommand(environment: environment)
        return Bridge(store: stores.messages, environment: environment, sessionOverride: sessionOverride,
                      config: BridgeConfig(environment: environment, argv0: argv0), identity: identity, reservations: stores.reservations)
    }

    // MARK: Identity

    /// The bound session, if any, without creating one. Refreshes its heartbeat.
    public func currentSession() -> SessionManifest? {
        if let cachedSelf { return cachedSelf }
        guard let identity else { return nil }
        var found: SessionManifest?
        if case .explicit(let v) = identity.source, Identifiers.isValidID(v), let m = readableManifest(v.lowercased()) {
            found = m
        } else if let id = (try? store.binding(forKey: identity.bindingKey)) ?? nil, let m = readableManifest(id) {
            found = m
        }
        guard var m = found, !m.isEnded else { return nil }
        try? store.touchHeartbeat(m.id)
        // A resumed agent session has a new process: follow it so liveness stays true. Sessions keyed from a shell
        // (--session) are driven by short-lived shells: following each would rewrite the manifest on every call.
        let followsProcess: Bool
        switch identity.source {
        case .claudeCode, .codex: followsProcess = true
        case .explicit: followsProcess = environment["SESSION_BRIDGE_PID"] != nil
        case .terminal: followsProcess = false   // the key names the leader process: it never changes
        }
        if followsProcess && !Processes.isSameProcessAlive(pid: m.pid, startTime: m.pidStartTime) {
            let pid = identity.owningProcess(environment: environment)
            if pid != m.pid {
                m.pid = pid
                m.pidStartTime = Processes.startTime(pid)
                try? store.saveManifest(m)
            }
        }
        cachedSelf = m
        return m
    }

    /// The bound session; registers one when the runtime gives an identity and `register` is true.
    public func requireSession(register: Bool = true) throws(BridgeError) -> SessionManifest {
        if let m = currentSession() { return m }
        guard register, let identity else { throw .noIdentity }
        // A terminal joins only through `start`: a stray command typed in some terminal does not register it.
        if case .terminal = identity.source { throw .noIdentity }
        return try start(name: nil).manifest
    }

    public struct StartResult: Sendable {
        public var manifest: SessionManifest
        /// True when the session already existed and was re-used.
        public var reused: Bool
        /// True when nothing identifies the caller (no agent session, terminal or key): later commands reach the
        /// session only through its id (`SESSION_BRIDGE_SESSION` or `--session`).
        public var needsKey: Bool = false
    }

    /// Registers this runtime session, or re-uses the one already bound (renaming it if a new name is given).
    /// With no identity at all (a script without a terminal or key) it registers a session under a fresh id, which
    /// the caller then passes on (`needsKey`).
    public func start(name requestedName: String?, projectPath: String = FileSystem.currentDirectory()) throws(BridgeError) -> StartResult {
        guard let identity else {
            let keyed = Bridge(store: store, environment: environment, config: config,
                               identity: Identity(source: .explicit(Identifiers.sessionID())))
            var result = try keyed.start(name: requestedName, projectPath: projectPath)
            result.needsKey = true
            return result
        }
        if let requestedName, !Identifiers.isValidName(requestedName) { throw .invalidName(Identifiers.printable(requestedName)) }
        return try store.withRegistryLock { () throws(BridgeError) -> StartResult in
            cachedSelf = nil
            if var existing = currentSession() {
                if let requestedName, requestedName != existing.name {
                    existing.name = try uniqueName(requestedName, excluding: existing.id)
                    try bridged { () throws(StoreError) in
                        try store.saveManifest(existing)
                        try store.indexName(existing.name, id: existing.id)
                    }
                    cachedSelf = existing
                }
                return StartResult(manifest: existing, reused: true)
            }
            // A session started by `session-bridge launch --alias NAME` takes that name, so the watcher finds its pane.
            let launched = environment["SESSION_BRIDGE_NAME"].flatMap { Identifiers.isValidName($0) ? $0 : nil }
            let base = requestedName ?? launched ?? Identifiers.sanitizedName(FileSystem.lastComponent(of: projectPath))
            var id = Identifiers.sessionID()
            if case .explicit(let v) = identity.source, Identifiers.isValidID(v), v.count >= 6, try manifest(v.lowercased()) == nil {
                id = v.lowercased()
            }
            while try sessionExists(id) { id = Identifiers.sessionID() }
            let pid = identity.owningProcess(environment: environment)
            let now = Clock.nowISO8601()
            var claudeID: String?
            var codexID: String?
            switch identity.source {
            case .claudeCode(let s): claudeID = s
            case .codex(let t): codexID = t
            case .explicit, .terminal: break
            }
            var manifest = SessionManifest(
                id: id, name: try uniqueName(base, excluding: id), projectPath: projectPath, host: host, pid: pid,
                pidStartTime: Processes.startTime(pid), agent: identity.agent, claudeSessionId: claudeID,
                codexThreadId: codexID, startedAt: now, lastSeen: now, state: "live", endedAt: nil)
            let helpers = Guard.installationHelpers(environment: environment)
            if !helpers.isEmpty { manifest.helpers = helpers.sorted() }
            try bridged { () throws(StoreError) in
                try store.createSession(manifest)
                try store.bind(key: identity.bindingKey, to: id)
                try store.indexName(manifest.name, id: id)
            }
            cachedSelf = manifest
            return StartResult(manifest: manifest, reused: false)
        }
    }

    /// `name`, or `name-2`, `name-3`, … so that no other live session has it.
    func uniqueName(_ name: String, excluding id: String) throws(BridgeError) -> String {
        let now = Clock.nowNanoseconds()
        var taken = Set<String>()
        for row in try bridged({ () throws(StoreError) in try store.sessionSnapshots() }) where row.manifest.id != id {
            let state = PeerState.of(row.manifest, lastSeenNanoseconds: row.lastSeen ?? 0, now: now, localHost: host)
            if state != .ended && state != .stale { taken.insert(row.manifest.name) }
        }
        if !taken.contains(name) { return name }
        var n = 2
        while taken.contains("\(name)-\(n)") { n += 1 }
        return "\(name)-\(n)"
    }

    /// Turns listening between turns on (foreground or background) or off for this session.
    public func setListenMode(_ mode: ListenMode?) throws(BridgeError) -> SessionManifest {
        let me = try requireSession()
        try bridged { () throws(StoreError) in try store.setListenMode(me.id, mode) }
        return me
    }

    // MARK: Peers

    /// Finds a session by id, unique id prefix (4+ characters) or name; live sessions win over ended ones.
    public func resolvePeer(_ text: String) throws(BridgeError) -> SessionManifest {
        guard Identifiers.isValidName(text) || Identifiers.isValidID(text) else { throw .invalidID(Identifiers.printable(text)) }
        if Identifiers.isValidID(text), let m = try manifest(text.lowercased()) {
            if m.isEnded { throw .peerEnded(text) }
            return m
        }
        if let hinted = try bridged({ () throws(StoreError) in try store.indexedSession(named: text) }), let m = try manifest(hinted),
           m.name == text, !m.isEnded,
           PeerState.of(m, lastSeenNanoseconds: (try? store.lastSeen(m.id)) ?? nil ?? 0, now: Clock.nowNanoseconds(), localHost: host) != .stale {
            return m
        }
        let rows = try bridged { () throws(StoreError) in try store.sessionSnapshots() }
        let all = rows.map { $0.manifest }
        let named = all.filter { $0.name == text }
        let liveNamed = named.filter { !$0.isEnded }
        if liveNamed.count == 1 { return liveNamed[0] }
        if liveNamed.count > 1 {
            let now = Clock.nowNanoseconds()
            let seen = Dictionary(rows.map { ($0.manifest.id, $0.lastSeen ?? 0) }, uniquingKeysWith: { a, _ in a })
            let notStale = liveNamed.filter {
                PeerState.of($0, lastSeenNanoseconds: seen[$0.id] ?? 0, now: now, localHost: host) != .stale
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
    public struct PeerInfo: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var projectPath: String
        public var host: String
        public var pid: Int32
        public var agent: String
        public var startedAt: String
        public var lastSeen: String
        public var state: PeerState
        public var you: Bool
        public var pending: Int
        public var listening: Bool
    }

    /// Every session as `peers` shows it, from one snapshot read of the store.
    public func peers(includeEnded: Bool = true) throws(BridgeError) -> [PeerInfo] {
        let me = currentSession()?.id
        let now = Clock.nowNanoseconds()
        var rows: [PeerInfo] = []
        for row in try bridged({ () throws(StoreError) in try store.sessionSnapshots() }) {
            let m = row.manifest
            let seen = row.lastSeen ?? Clock.parseISO8601(m.lastSeen) ?? 0
            let state = PeerState.of(m, lastSeenNanoseconds: seen, now: now, localHost: host)
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
    public func manifest(_ id: String) throws(BridgeError) -> SessionManifest? {
        do {
            return try store.manifest(id)
        } catch {
            if error.code == .corrupt { return nil }
            throw BridgeError(error)
        }
    }

    /// A manifest, nil on any failure (where today's callers cannot report one: identity lookups).
    func readableManifest(_ id: String) -> SessionManifest? { (try? store.manifest(id)) ?? nil }

    /// Whether the store holds a session with this id, readable or not.
    func sessionExists(_ id: String) throws(BridgeError) -> Bool {
        do {
            return try store.manifest(id) != nil
        } catch {
            if error.code == .corrupt { return true }
            throw BridgeError(error)
        }
    }
}
