/// The folders of the file store. Each session owns:
///
///     sessions/<id>/manifest.json     who it is
///     sessions/<id>/heartbeat         mtime = last seen
///     sessions/<id>/inbox/new/        pending messages to it (the only folder "anything new?" reads)
///     sessions/<id>/inbox/claimed/    claimed queries waiting for a reply, named <msg>.<claimed-at-ns>.<delivery>.json
///                                     (the claim record is the name, so it changes with the claim's rename)
///     sessions/<id>/inbox/done/       history
///     sessions/<id>/inbox/quarantine/ malformed files moved aside
///     sessions/<id>/inbox/tmp/        senders' temp files (same file system, outside the watched folder)
///     sessions/<id>/sent/<msg>.json   copies of what it sent
///     sessions/<id>/receipts/<msg>.log delivery events of what it sent (claimed, answered, …)
///     sessions/<id>/peers/<peer>      peers it connected to or that connected to it
///     sessions/<id>/awaiting/<msg>    a process blocked in `ask --wait` for this message's reply (holds its pid)
///     sessions/<id>/listening         the listen mode between turns (foreground | background), absent = off
///     sessions/<id>/listen.lock       held by the one background waiter of the session
///     sessions/<id>/inbox.lock        serializes finishing and taking over claims (reply, lease expiry, repair)
///     bindings/<hash>                 runtime session key → bridge id
///     names/<name>                    name → the id that last took it (a hint, verified against the manifest)
///     watch/watch.lock                held by the one tmux watcher of this store
public struct StoreLayout: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public enum Box: String, Sendable, CaseIterable {
        case new, claimed, done, quarantine, tmp
    }

    public var sessionsFolder: String { root + "/sessions" }
    public var bindingsFolder: String { root + "/bindings" }
    public var registryLock: String { root + "/registry.lock" }
    public var namesFolder: String { root + "/names" }
    public func name(_ name: String) -> String { namesFolder + "/" + name }

    /// A session's folder. An id that is not a valid id (a '/', "..", an empty string) names a folder no session can
    /// have ('%' is never in an id), so no id a caller passes reaches outside its own `sessions/<id>`.
    public func session(_ id: String) -> String { sessionsFolder + "/" + (Identifiers.isValidID(id) ? id : StoreLayout.noSession) }
    static let noSession = "%invalid-id"
    public func manifest(_ id: String) -> String { session(id) + "/manifest.json" }
    public func heartbeat(_ id: String) -> String { session(id) + "/heartbeat" }
    public func box(_ id: String, _ box: Box) -> String { session(id) + "/inbox/" + box.rawValue }
    /// A message's file; an invalid message id names a file no message can have, inside the box.
    public func message(_ id: String, _ box: Box, _ messageID: String) -> String {
        self.box(id, box) + "/" + (Identifiers.isValidID(messageID) ? messageID : StoreLayout.noSession) + ".json"
    }
    public func sentFolder(_ id: String) -> String { session(id) + "/sent" }
    public func sent(_ id: String, _ messageID: String) -> String { sentFolder(id) + "/" + messageID + ".json" }
    public func receiptsFolder(_ id: String) -> String { session(id) + "/receipts" }
    public func receipts(_ id: String, _ messageID: String) -> String { receiptsFolder(id) + "/" + messageID + ".log" }
    public func peersFolder(_ id: String) -> String { session(id) + "/peers" }
    public func awaitingFolder(_ id: String) -> String { session(id) + "/awaiting" }
    public func binding(_ key: String) -> String { bindingsFolder + "/" + String(SHA256.hex(key).prefix(40)) }
    public func listenLock(_ id: String) -> String { session(id) + "/listen.lock" }
    public func inboxLock(_ id: String) -> String { session(id) + "/inbox.lock" }
    public func listenMode(_ id: String) -> String { session(id) + "/listening" }
    public var watcherLock: String { root + "/watch/watch.lock" }
}
