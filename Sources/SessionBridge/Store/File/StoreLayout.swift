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
package struct StoreLayout: Sendable {
    package let root: String

    package init(root: String) { self.root = root }

    package enum Box: String, Sendable, CaseIterable {
        case new, claimed, done, quarantine, tmp
    }

    package var sessionsFolder: String { root + "/sessions" }
    package var bindingsFolder: String { root + "/bindings" }
    package var registryLock: String { root + "/registry.lock" }
    package var namesFolder: String { root + "/names" }
    package func name(_ name: String) -> String { namesFolder + "/" + name }

    /// A session's folder. An id that is not a valid id (a '/', "..", an empty string) names a folder no session can
    /// have ('%' is never in an id), so no id a caller passes reaches outside its own `sessions/<id>`.
    package func session(_ id: String) -> String { sessionsFolder + "/" + (Identifiers.isValidID(id) ? id : StoreLayout.noSession) }
    static let noSession = "%invalid-id"
    package func manifest(_ id: String) -> String { session(id) + "/manifest.json" }
    package func heartbeat(_ id: String) -> String { session(id) + "/heartbeat" }
    package func box(_ id: String, _ box: Box) -> String { session(id) + "/inbox/" + box.rawValue }
    /// A message's file; an invalid message id names a file no message can have, inside the box.
    package func message(_ id: String, _ box: Box, _ messageID: String) -> String {
        self.box(id, box) + "/" + (Identifiers.isValidID(messageID) ? messageID : StoreLayout.noSession) + ".json"
    }
    package func sentFolder(_ id: String) -> String { session(id) + "/sent" }
    package func sent(_ id: String, _ messageID: String) -> String { sentFolder(id) + "/" + messageID + ".json" }
    package func receiptsFolder(_ id: String) -> String { session(id) + "/receipts" }
    package func receipts(_ id: String, _ messageID: String) -> String { receiptsFolder(id) + "/" + messageID + ".log" }
    package func peersFolder(_ id: String) -> String { session(id) + "/peers" }
    package func awaitingFolder(_ id: String) -> String { session(id) + "/awaiting" }
    package func binding(_ key: String) -> String { bindingsFolder + "/" + String(SHA256.hex(key).prefix(40)) }
    package func listenLock(_ id: String) -> String { session(id) + "/listen.lock" }
    package func inboxLock(_ id: String) -> String { session(id) + "/inbox.lock" }
    package func listenMode(_ id: String) -> String { session(id) + "/listening" }
    package var watcherLock: String { root + "/watch/watch.lock" }
}
