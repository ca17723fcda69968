#if canImport(Glibc)
import Glibc
#endif

extension FileStore {
    /// `doctor` on the file engine: malformed or leftover files, planted links and FIFOs, expired or half-answered
    /// claims, interrupted deliveries, dangling bindings. Nothing is opened that is not a regular file.
    package func check(fix: Bool, policy: LeasePolicy) -> [Doctor.Finding] {
        typealias Finding = Doctor.Finding
        let store = self
        var out: [Finding] = []
        func add(_ subject: String, _ problem: String, _ repair: String?) {
            out.append(Finding(area: "messages", subject: subject, problem: problem, repair: fix ? repair : nil, repaired: fix && repair != nil))
        }
        let now = Clock.nowNanoseconds()
                let root = layout.root
        func relative(_ path: String) -> String { path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path }
        func describe(_ kind: FileSystem.Kind) -> String {
            switch kind {
            case .regular: return "a regular file"
            case .directory: return "a folder"
            case .symlink: return "a symlink"
            case .fifo: return "a FIFO"
            case .socket: return "a socket"
            case .device: return "a device"
            }
        }
        /// A store file that must be a regular file of bounded size; anything else is removed (never opened).
        func checkFile(_ path: String, limit: Int64 = Int64(FileStore.messageFileLimit), fixNote: String = "removed",
                       repair: (String) -> Void = { FileSystem.removeTree($0) }) {
            guard let kind = FileSystem.kind(path) else { return }
            if kind != .regular {
                if fix { repair(path) }
                add(relative(path), "is \(describe(kind)), not a file the store writes", fixNote)
            } else if let size = FileSystem.size(path), size > limit {
                if fix { repair(path) }
                add(relative(path), "is \(size) bytes, over the \(limit)-byte limit", fixNote)
            }
        }
        /// A store folder: a planted file, link or FIFO in its place is removed and the folder made again.
        func checkFolder(_ path: String) {
            if let kind = FileSystem.kind(path), kind != .directory {
                var repaired: String? = "removed it and made the folder again"
                if fix {
                    FileSystem.removeTree(path)
                    if (try? FileSystem.makeDirectories(path)) == nil { repaired = nil }
                }
                add(relative(path), "is \(describe(kind)), not a folder", repaired)
            } else if FileSystem.kind(path) == nil {
                var repaired: String? = "made the folder"
                if fix && (try? FileSystem.makeDirectories(path)) == nil { repaired = nil }
                add(relative(path), "is missing", repaired)
            }
        }

        for folder in [layout.sessionsFolder, layout.bindingsFolder] { checkFolder(folder) }
        if FileSystem.kind(layout.namesFolder) != nil { checkFolder(layout.namesFolder) }
        checkFile(layout.registryLock, limit: 1 << 20)
        for name in FileSystem.list(layout.sessionsFolder, includeHidden: true) {
            let folder = layout.sessionsFolder + "/" + name
            let kind = FileSystem.kind(folder)
            guard kind == .directory else {
                if let kind {
                    if fix { FileSystem.removeTree(folder) }
                    add(relative(folder), "is \(describe(kind)), not a session folder", "removed")
                }
                continue
            }
            guard Identifiers.isValidID(name) else { continue }
            let id = name
            checkFile(layout.manifest(id), limit: 1 << 20, fixNote: "moved to inbox/quarantine") { path in
                _ = try? FileSystem.moveNoReplace(path, store.uniqueQuarantinePath(id, "manifest.json"))
            }
            guard let manifest = (try? store.manifest(id)) ?? nil else {
                add("session \(id)", "manifest.json is missing or unreadable", nil)
                continue
            }
            for path in [layout.session(id) + "/inbox"] + StoreLayout.Box.allCases.map({ layout.box(id, $0) })
                + [layout.sentFolder(id), layout.receiptsFolder(id), layout.peersFolder(id), layout.awaitingFolder(id)] {
                checkFolder(path)
            }
            for path in [layout.heartbeat(id), layout.listenMode(id), layout.listenLock(id), layout.inboxLock(id)] {
                checkFile(path, limit: 1 << 16)
            }
            // Pending messages: anything that is not an intact message file named by its id is moved aside.
            for name in FileSystem.list(layout.box(id, .new), includeHidden: true) {
                let path = layout.box(id, .new) + "/" + name
                let msgID = name.hasSuffix(".json") ? String(name.dropLast(5)) : ""
                let kind = FileSystem.kind(path)
                var problem: String?
                if let kind, kind != .regular {
                    problem = "is \(describe(kind)), not a message file"
                } else if let size = FileSystem.size(path), size > Int64(FileStore.messageFileLimit) {
                    problem = "is \(size) bytes, over the \(FileStore.messageFileLimit)-byte limit"
                } else if !Identifiers.isValidID(msgID) || peek(id, .new, msgID) == nil {
                    problem = "malformed message file"
                }
                guard let problem else { continue }
                if fix { store.quarantine(id, fileName: name, from: .new) }
                add("session \(id): inbox/new/\(name)", problem, "moved to inbox/quarantine")
            }
            // Claims: records are names `<id>.<claimed-at>.<delivery>.json` of intact queries.
            for name in FileSystem.list(layout.box(id, .claimed), includeHidden: true) {
                let path = layout.box(id, .claimed) + "/" + name
                let kind = FileSystem.kind(path)
                var problem: String?
                if let kind, kind != .regular {
                    problem = "is \(describe(kind)), not a claimed message"
                } else if let size = FileSystem.size(path), size > Int64(FileStore.messageFileLimit) {
                    problem = "is \(size) bytes, over the \(FileStore.messageFileLimit)-byte limit"
                } else if let r = ClaimRecord(fileName: name) {
                    if peek(id, .claimed, r.messageID) == nil { problem = "malformed message file" }
                } else if !(name.hasSuffix(".json") && Identifiers.isValidID(String(name.dropLast(5)))) {
                    problem = "not a claim record"
                }
                guard let problem else { continue }
                if fix { store.quarantine(id, fileName: name, from: .claimed) }
                add("session \(id): inbox/claimed/\(name)", problem, "moved to inbox/quarantine")
            }
            // Claims left half-finished by a crash (answered, or on their last delivery and past the lease).
            let leases = Leases(store: store, policy: policy)
            for record in fileClaims(id) {
                guard let m = peek(id, .claimed, record.messageID) else { continue }
                let answered: Bool
                switch fileDeliveryState(m.from, Identifiers.replyID(for: m.id)) {
                case .absent: answered = false
                case .delivered: answered = true
                case .interrupted(let temp): answered = store.completeTemp(m.from, tempPath: temp) != nil
                }
                if answered {
                    var repair: String? = "finished the reply (delivered, receipt written, moved to inbox/done)"
                    if fix, (try? store.withInboxLock(id) { () throws(BridgeError) -> Bool in
                        try leases.completeIfAnswered(id, name: manifest.name, record, m)
                    }) != true, fileClaimRecord(id, m.id) == record {
                        repair = nil
                    }
                    add("session \(id): message \(m.id)", "answered by an interrupted reply but still claimed", repair)
                } else if policy.decide(record, now: now) == .expire {
                    if fix { _ = leases.settle(id, name: manifest.name, now: now) }
                    add("session \(id): message \(m.id)", "claimed \(record.delivery) time(s) without an answer, past its lease",
                        "marked expired")
                }
            }
            // A query in done/ with no reply and no receipt saying answered or expired was moved there by a lease
            // expiry that a crash stopped before its receipt (stores written before the receipt came first).
            for m in (try? store.messages(id, .done)) ?? [] where m.type == .query && m.from != id && store.isOwnSession(m.from) {
                guard fileDeliveryState(m.from, Identifiers.replyID(for: m.id)) == .absent,
                      !((try? store.events(sender: m.from, messageID: m.id)) ?? []).contains(where: { $0.event == .answered || $0.event == .expired })
                else { continue }
                var repair: String? = "wrote the expired receipt"
                if fix, (try? store.appendEvent(sender: m.from, messageID: m.id, DeliveryEvent(event: .expired, by: id, byName: manifest.name))) == nil {
                    repair = nil
                }
                add("session \(id): message \(m.id)", "in inbox/done unanswered without its expired receipt (an interrupted lease expiry)", repair)
            }
            for box in [StoreLayout.Box.done, .quarantine] {
                for name in FileSystem.list(layout.box(id, box), includeHidden: true) {
                    let path = layout.box(id, box) + "/" + name
                    if box == .done {
                        checkFile(path, fixNote: "moved to inbox/quarantine") { _ in store.quarantine(id, fileName: name, from: .done) }
                    } else {
                        checkFile(path, limit: Int64.max)
                    }
                }
            }
            // Temp files: a complete message left by an interrupted send is published; the rest is removed.
            for name in FileSystem.list(layout.box(id, .tmp), includeHidden: true) {
                let path = layout.box(id, .tmp) + "/" + name
                guard let kind = FileSystem.kind(path) else { continue }
                if kind != .regular {
                    if fix { FileSystem.removeTree(path) }
                    add("session \(id): inbox/tmp/\(name)", "is \(describe(kind)), not a temp file", "removed")
                    continue
                }
                if let size = FileSystem.size(path), size > Int64(FileStore.messageFileLimit) {
                    if fix { FileSystem.remove(path) }
                    add("session \(id): inbox/tmp/\(name)", "is \(size) bytes, over the \(FileStore.messageFileLimit)-byte limit", "removed")
                    continue
                }
                guard let t = FileSystem.modificationTime(path), now - t > FileStore.tempGraceNanoseconds else { continue }
                var delivered = false
                if fix { delivered = store.finishDelivery(id, tempPath: path); if FileSystem.exists(path) { FileSystem.remove(path) } }
                add("session \(id): inbox/tmp/\(name)", "leftover temp file of an interrupted send",
                    delivered ? "published the complete message it holds" : "removed")
            }
            for folder in [layout.sentFolder(id), layout.receiptsFolder(id), layout.peersFolder(id), layout.awaitingFolder(id)] {
                for name in FileSystem.list(folder, includeHidden: true) { checkFile(folder + "/" + name) }
            }
            for (msgID, pid) in (try? store.awaiting(id)) ?? [:] where pid <= 0 || !Processes.isAlive(pid) {
                if fix { try? store.clearAwaiting(id, messageID: msgID) }
                add("session \(id): awaiting/\(msgID)", "left by a waiter that is gone", "removed")
            }
        }
        for name in FileSystem.list(layout.bindingsFolder, includeHidden: true) {
            let path = layout.bindingsFolder + "/" + name
            if let kind = FileSystem.kind(path), kind != .regular {
                if fix { FileSystem.removeTree(path) }
                add("binding \(name)", "is \(describe(kind)), not a binding file", "removed")
                continue
            }
            let target = (try? FileSystem.readString(path, limit: 256))?.trimmed(" \n") ?? ""
            if ((try? store.manifest(target)) ?? nil) == nil {
                if fix { FileSystem.remove(path) }
                add("binding \(name)", "points to a missing session '\(Identifiers.printable(target))'", "removed")
            }
        }
        for name in FileSystem.list(layout.namesFolder, includeHidden: true) { checkFile(layout.namesFolder + "/" + name, limit: 1 << 16) }
        return out
    }
}
