#if canImport(Glibc)
import Glibc
#endif

/// Finds (and with `fix`, repairs) what can go wrong in the message store and the talks: malformed or leftover
/// files, expired claims, dangling bindings; torn or unparsable talks, missing or duplicate nonces, hand edits
/// (checksum mismatches), header drift, leftover temp files and stale locks. Every change is reported.
public struct Doctor {
    public struct Finding: Codable, Sendable, Equatable {
        /// "messages" or "talks".
        public var area: String
        public var subject: String
        public var problem: String
        /// What --fix did, or nil when nothing was done.
        public var repair: String?
        public var repaired: Bool
    }

    public struct Report: Codable, Sendable {
        public var findings: [Finding]
        /// True when nothing is wrong, or everything found was repaired.
        public var healthy: Bool { findings.allSatisfy { $0.repaired } }
    }

    /// Temp files younger than this may belong to a writer at work: left alone.
    static let tempGraceNanoseconds: Int64 = 60 * 1_000_000_000

    public static func run(store: FileStore?, talks: Talks?, fix: Bool, config: BridgeConfig) -> Report {
        var findings: [Finding] = []
        if let store { findings += checkMessages(store, fix: fix, config: config) }
        if let talks { findings += checkTalks(talks, fix: fix) }
        return Report(findings: findings)
    }

    // MARK: Messages

    static func checkMessages(_ store: FileStore, fix: Bool, config: BridgeConfig) -> [Finding] {
        var out: [Finding] = []
        func add(_ subject: String, _ problem: String, _ repair: String?) {
            out.append(Finding(area: "messages", subject: subject, problem: problem, repair: fix ? repair : nil, repaired: fix && repair != nil))
        }
        let now = Clock.nowNanoseconds()
        let layout = store.layout
        for id in FileSystem.list(layout.sessionsFolder) {
            guard Identifiers.isValidID(id) else { continue }
            guard store.manifest(id) != nil else {
                add("session \(id)", "manifest.json is missing or unreadable", nil)
                continue
            }
            for name in FileSystem.list(layout.box(id, .new)) {
                let path = layout.box(id, .new) + "/" + name
                let msgID = name.hasSuffix(".json") ? String(name.dropLast(5)) : ""
                let ok = !msgID.isEmpty && (try? FileSystem.read(path)).flatMap { JSONCoding.decode(Message.self, from: $0) }
                    .map { $0.isIntact && $0.id == msgID } == true
                if !ok {
                    if fix { store.quarantine(id, fileName: name) }
                    add("session \(id): inbox/new/\(name)", "malformed message file", "moved to inbox/quarantine")
                }
            }
            for name in FileSystem.list(layout.box(id, .tmp), includeHidden: true) {
                let path = layout.box(id, .tmp) + "/" + name
                guard let t = FileSystem.modificationTime(path), now - t > tempGraceNanoseconds else { continue }
                if fix { FileSystem.remove(path) }
                add("session \(id): inbox/tmp/\(name)", "leftover temp file of an interrupted send", "removed")
            }
            let lease = Int64(config.leaseSeconds) * 1_000_000_000
            for msgID in store.expiredClaims(id, leaseNanoseconds: lease, now: now) {
                var repair: String? = "put back in inbox/new for redelivery"
                if fix {
                    if (try? store.move(id, msgID, from: .claimed, to: .new)) != true { repair = nil }
                    else if let m = store.peek(id, .new, msgID) {
                        store.appendEvent(sender: m.from, messageID: msgID, DeliveryEvent(event: .redelivered, by: id, via: "doctor"))
                    }
                }
                add("session \(id): message \(msgID)", "claimed but unanswered past its lease", repair)
            }
        }
        for name in FileSystem.list(layout.bindingsFolder) {
            let path = layout.bindingsFolder + "/" + name
            let target = (try? FileSystem.readString(path, limit: 256))?.trimmed(" \n") ?? ""
            if store.manifest(target) == nil {
                if fix { FileSystem.remove(path) }
                add("binding \(name)", "points to a missing session '\(target)'", "removed")
            }
        }
        return out
    }
}
