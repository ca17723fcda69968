/// Settings that bound what a bridge accepts and how long it holds on.
package struct BridgeConfig: Sendable {
    /// Largest message content in bytes (`SESSION_BRIDGE_MAX_MESSAGE_BYTES`, default 4 MiB).
    package var maxMessageBytes: Int
    /// How long a claimed query may stay unanswered before it is delivered again (`SESSION_BRIDGE_LEASE_SECONDS`).
    package var leaseSeconds: Int
    /// After this many claims without an answer a query is marked expired.
    package var maxDeliveries: Int
    /// What names the helper; read only when a command is printed (see `HelperName`).
    private let environment: Environment
    private let argv0: String
    /// How the helper is named in the commands it prints (see `HelperName`).
    package var helper: HelperName { HelperName(environment: environment, argv0: argv0, executable: Processes.executablePath()) }
    /// The helper as shell text: the start of every printed command.
    package var cliPath: String { helper.text }

    package init(environment: Environment, argv0: String = HelperName.bareName) {
        maxMessageBytes = environment.integer("SESSION_BRIDGE_MAX_MESSAGE_BYTES").map { max(1, $0) } ?? MessageContent.defaultLimit
        leaseSeconds = environment.integer("SESSION_BRIDGE_LEASE_SECONDS").map { max(1, $0) } ?? 600
        maxDeliveries = environment.integer("SESSION_BRIDGE_MAX_DELIVERIES").map { max(1, $0) } ?? 3
        self.environment = environment
        self.argv0 = argv0
    }

    /// The lease and redelivery policy these settings make.
    package var lease: LeasePolicy { LeasePolicy(leaseSeconds: leaseSeconds, maxDeliveries: maxDeliveries) }
}

/// The per-process context every front end (CLI, hooks, dashboard) shares: the stores, this session's identity,
/// the settings and the environment. One instance per process. The operations live in its services, each a small
/// view over this context: `sessions`, `messages`, `status` and `reservations`.
package final class Bridge {
    package let store: any BridgeStore
    /// Edit reservations, on the store's engine (`Stores.reservations`).
    package let reservationStore: any ReservationStore
    package let environment: Environment
    package let config: BridgeConfig
    package let identity: Identity?
    package private(set) lazy var host: String = Processes.hostName()
    /// This session's manifest once `SessionService.currentSession` found it (or `start` made it).
    var cachedSelf: SessionManifest?
    /// Change signals stay open until the bridge goes away: closing an inotify descriptor waits for a kernel grace
    /// period (~10 ms), which must not delay printing the message a signal woke us for.
    private var parkedSignals: [any ChangeSignal] = []

    func park(_ signal: any ChangeSignal) -> any ChangeSignal {
        parkedSignals.append(signal)
        return signal
    }

    /// The lease and redelivery rules over this bridge's store.
    package var leases: Leases { Leases(store: store, policy: config.lease) }

    /// Registration, names, peers, stop and garbage collection.
    package var sessions: SessionService { SessionService(bridge: self) }
    /// Ask, listen, reply and await.
    package var messages: MessageService { MessageService(bridge: self) }
    /// What `status` and the dashboard read.
    package var status: StatusService { StatusService(bridge: self) }
    /// Edit reservations held by this session.
    package var reservations: ReservationService { ReservationService(bridge: self) }

    package init(store: any BridgeStore, environment: Environment, sessionOverride: String? = nil, config: BridgeConfig? = nil,
                identity: Identity? = nil, reservations: (any ReservationStore)? = nil) {
        self.store = store
        // A bridge over a given message store alone keeps reservations in the local folder.
        self.reservationStore = reservations ?? FileReservationStore(storeRoot: StoreLocation.rootPath(environment: environment))
        self.environment = environment
        self.config = config ?? BridgeConfig(environment: environment)
        self.identity = identity ?? Identity.resolve(override: sessionOverride, environment: environment)
    }

    /// Opens the store named by the environment (`SESSION_BRIDGE_STORE`, see `StoreFactory`).
    package static func open(environment: Environment = .current(), sessionOverride: String? = nil, argv0: String = HelperName.bareName,
                            identity: Identity? = nil) throws(BridgeError) -> Bridge {
        let stores = try StoreFactory.openForCommand(environment: environment)
        return Bridge(store: stores.messages, environment: environment, sessionOverride: sessionOverride,
                      config: BridgeConfig(environment: environment, argv0: argv0), identity: identity, reservations: stores.reservations)
    }
}
