/// The stores a process works with, as `StoreFactory` opened them.
package struct Stores: Sendable {
    /// Sessions, messages, receipts and locks.
    package var messages: any BridgeStore
    /// A safe local folder (0700, owned by the user) for what stays on this host whatever the engine: the tmux
    /// watcher's targets and state, and the default place of talks. For the file engine it is the store's root.
    package var localRoot: String
    /// The talk engine of the same setting, for a talks folder (which keeps config.yaml and, for a networked
    /// engine, the markdown mirror).
    package var talks: StoreFactory.TalkEngine
    /// Edit reservations, on the same engine as the messages (so on Redis every host sees them).
    package var reservations: any ReservationStore

    /// `reservations` defaults to the file engine's, in `localRoot`.
    package init(messages: any BridgeStore, localRoot: String, talks: @escaping StoreFactory.TalkEngine,
                reservations: (any ReservationStore)? = nil) {
        self.messages = messages
        self.localRoot = localRoot
        self.talks = talks
        self.reservations = reservations ?? FileReservationStore(storeRoot: localRoot)
    }
}

/// The one place that opens a store. The setting is `SESSION_BRIDGE_STORE`, a URL:
///
/// - unset: the file engine under `SESSION_BRIDGE_HOME` (default `~/.claude/session-bridge`), as always;
/// - `file:///path` or a plain path: the file engine at that folder;
/// - `memory:` or `memory:NAME`: the in-memory engine (one process; tests);
/// - `redis://[user:password@]host:port[/db][?prefix=NAME]`: the Redis Streams engine.
///
/// Engines are chosen by scheme in `messageOpener(_:)`; a scheme with no engine in this binary is a clear `.unsupported` error.
/// `SESSION_BRIDGE_POLL=1` makes the file engine's change signals poll.
package enum StoreFactory {
    /// The setting, split at its scheme. `text` is the whole setting (an engine parses its own URL from it).
    package struct Setting: Sendable, Equatable {
        /// "file", "memory", "redis"… (lower-cased).
        package var scheme: String
        /// What follows "scheme:" (for a file setting: the absolute folder path).
        package var rest: String
        package var text: String
        /// Opened by a hook: a networked engine connects within its short hook bound, so hooks stay fast when the
        /// server is down or unreachable.
        package var forHook = false
    }

    /// Opens an engine from its setting. `localRoot` is prepared and safe.
    package typealias Opener = @Sendable (_ setting: Setting, _ environment: Environment, _ localRoot: String) throws(StoreError) -> any BridgeStore

    /// Opens the talk engine for a talks folder (already set up: it cannot fail).
    package typealias TalkEngine = @Sendable (TalkLocation) -> any TalkStore

    /// Prepares the talk engine of a setting: the file engine keeps talks as files in the talks folder, the
    /// in-memory engine in the process (by name), the Redis engine on the server of the URL. `messages`: the
    /// message store already opened from the same setting, whose connections a networked engine shares (nil when
    /// only talks are wanted). Nothing is connected here: a hook that never touches a talk pays nothing for it.
    package typealias TalkOpener = @Sendable (_ setting: Setting, _ environment: Environment, _ messages: (any BridgeStore)?) throws(StoreError) -> TalkEngine

    /// The talk engine of a scheme this binary has (the same schemes as `messageOpener(_:)`). A `switch`, not a table of
    /// closures: a table is built by every process on its first use, through the runtime's generic look-ups.
    static func talkOpener(_ scheme: String) -> TalkOpener? {
        switch scheme {
        case "file":
            return { _, environment, _ throws(StoreError) in { FileTalkStore(location: $0, environment: environment) } }
        case "memory":
            return { setting, _, _ throws(StoreError) in
                let store = MemoryTalkStore.named(setting.rest)
                return { _ in store }
            }
        case "redis":
            return { setting, environment, messages throws(StoreError) in
                let limit = TalkStorage.maxTalkBytes(environment)
                if let redis = messages as? RedisStore {
                    return { _ in RedisTalkStore(configuration: redis.configuration, pool: redis.pool, maxTalkBytes: limit) }
                }
                let config: RedisConfiguration
                do throws(RedisError) { config = try RedisConfiguration.parse(setting.text, environment: environment) } catch { throw RedisStore.storeError(error) }
                let pool = RedisPool(config)
                return { _ in RedisTalkStore(configuration: config, pool: pool, maxTalkBytes: limit) }
            }
        default:
            return nil
        }
    }

    /// The message engine of a scheme this binary has.
    static func messageOpener(_ scheme: String) -> Opener? {
        switch scheme {
        case "file":
            return { setting, environment, _ throws(StoreError) in
                try stored { () throws(BridgeError) in try FileStore(root: setting.rest, forcePolling: pollingForced(environment)) }
            }
        case "memory":
            return { setting, _, _ throws(StoreError) in InMemoryStore.named(setting.rest) }
        case "redis":
            return { setting, environment, _ throws(StoreError) in
                try RedisStore.open(url: setting.text, environment: environment, forHook: setting.forHook)
            }
        default:
            return nil
        }
    }

    /// Opens the store the environment names (`forHook`: for a hook, see `Setting.forHook`).
    package static func open(environment: Environment = .current(), forHook: Bool = false) throws(StoreError) -> Stores {
        var setting = try self.setting(environment: environment)
        setting.forHook = forHook
        guard let opener = messageOpener(setting.scheme) else {
            throw StoreError(.unsupported, "SESSION_BRIDGE_STORE names an unknown engine '\(setting.scheme)': use a folder, file://, memory: or redis://")
        }
        let localRoot = StoreLocation.rootPath(environment: environment)
        if setting.scheme != "file" { try stored { () throws(BridgeError) in try StoreLocation.prepare(localRoot) } }
        let messages = try opener(setting, environment, localRoot)
        return Stores(messages: messages, localRoot: localRoot, talks: try talkEngine(setting, environment, messages),
                      reservations: reservationStore(setting, messages, localRoot: localRoot))
    }

    /// The talk engine the environment names, for one talks folder, without opening the message store: what the
    /// talk commands use (`SESSION_BRIDGE_STORE` chooses the engine as for every other command).
    package static func openTalks(location: TalkLocation, environment: Environment = .current()) throws(StoreError) -> any TalkStore {
        try talkEngine(try setting(environment: environment), environment, nil)(location)
    }

    static func talkEngine(_ setting: Setting, _ environment: Environment, _ messages: (any BridgeStore)?) throws(StoreError) -> TalkEngine {
        guard let opener = talkOpener(setting.scheme) else {
            throw StoreError(.unsupported, "SESSION_BRIDGE_STORE names an engine without talks '\(setting.scheme)'")
        }
        return try opener(setting, environment, messages)
    }

    /// The reservation store of the engine: beside the messages (the file engine's root, the memory store of the
    /// same name, the same Redis server and prefix).
    static func reservationStore(_ setting: Setting, _ messages: any BridgeStore, localRoot: String) -> any ReservationStore {
        switch (setting.scheme, messages) {
        case ("memory", _): return InMemoryReservationStore.named(setting.rest)
        case (_, let redis as RedisStore): return RedisReservationStore(engine: redis)
        case ("file", _): return FileReservationStore(storeRoot: setting.rest)
        default: return FileReservationStore(storeRoot: localRoot)
        }
    }

    /// Opens the store for a command: its failure is the command's error.
    package static func openForCommand(environment: Environment = .current()) throws(BridgeError) -> Stores {
        try bridged { () throws(StoreError) in try open(environment: environment) }
    }

    /// Reads `SESSION_BRIDGE_STORE` (see the type's notes).
    package static func setting(environment: Environment) throws(StoreError) -> Setting {
        let raw = environment["SESSION_BRIDGE_STORE"] ?? ""
        if raw.isEmpty || StoreLocation.filePath(raw) != nil {
            return Setting(scheme: "file", rest: StoreLocation.rootPath(environment: environment), text: raw)
        }
        let colon = raw.firstIndex(of: ":") ?? raw.endIndex
        let scheme = raw[..<colon].lowercased()
        guard !scheme.isEmpty, colon < raw.endIndex,
              scheme.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 43 || $0 == 45 || $0 == 46 }) else {
            throw StoreError(.unsupported, "SESSION_BRIDGE_STORE is neither a folder nor a store URL")
        }
        if scheme == "file" {
            throw StoreError(.unsupported, "SESSION_BRIDGE_STORE: a file URL names a local folder, file:///path")
        }
        return Setting(scheme: scheme, rest: String(raw[raw.index(after: colon)...]), text: raw)
    }

    static func pollingForced(_ environment: Environment) -> Bool {
        environment["SESSION_BRIDGE_POLL"].map { $0 != "0" } ?? false
    }
}
