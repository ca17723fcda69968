/// The guard's second half: a tool call that may write a path another live session holds exclusively is denied,
/// with a reason naming the holder and the command to ask them. It reads the same `ToolEffects` as the store
/// guard (file tools by path, apply_patch by its headers, shell commands by the writer analysis); the reserved
/// folders of the project are added to the analysis' guarded roots, so indirect writes (git restoring tracked
/// files, a copy into an ancestor) are seen too. The holder is never blocked, and its own writes there renew its
/// reservations. Shared reservations never block an edit; they only keep exclusive ones out.
struct ReservationGuard {
    let g: Guard
    let store: any ReservationStore
    let host: String
    let keys: Set<String>
    /// The calling session's id, if it has one.
    let me: String?
    let now: Int64
    /// Holders' liveness. nil in a probe: a pass over the records alone, before any session is looked up, in
    /// which every reservation that the call may touch counts as a hit (whoever holds it, shared or not, live
    /// or over), so a probe that allows means the full check would allow too, and renew nothing.
    let states: HolderStates?
    private var records: [String: (String, [Reservation])?] = [:]
    private var candidateCache: [String: [ReservationProject]] = [:]
    /// The caller's own reservations its writes fall in: renewed when the call is allowed.
    private var own: [String: [Reservation]] = [:]

    /// A reservation in the way, and the path (as shown) it stops.
    struct Hit {
        var reservation: Reservation
        var path: String
        var what: String
    }

    static func check(_ hook: PreToolUseInput, input: [UInt8], guard g: Guard, effects: ToolEffects) -> Guard.Verdict {
        let setting: StoreFactory.Setting
        do { setting = try StoreFactory.setting(environment: g.environment) } catch {
            // The store guard has already judged the call; without a store there are no reservations to read.
            return .allow
        }
        // The file engine: one readdir says there is nothing to enforce, before anything else is opened; then the
        // records alone say whether any reservation can concern this call, before the message store is opened
        // for holders' liveness and the caller's identity.
        var listed: Set<String>?
        if setting.scheme == "file" {
            let records = FileReservationStore(storeRoot: setting.rest)
            let found = (try? records.keys()) ?? []
            if found.isEmpty { return .allow }
            var probe = ReservationGuard(g: g, store: records, host: Processes.hostName(), keys: found, me: nil, now: Clock.nowNanoseconds(), states: nil)
            if probe.run(hook, effects: effects) == .allow { return .allow }
            listed = found
        }
        let stores: Stores
        let keys: Set<String>
        do throws(BridgeError) {
            stores = try StoreFactory.openForCommand(environment: g.environment)
            if let listed { keys = listed } else { keys = try stores.reservations.keys() }
        } catch {
            return unreachable(error, effects: effects, guard: g)
        }
        if keys.isEmpty { return .allow }
        let service = Reservations(stores: stores)
        let now = Clock.nowNanoseconds()
        var rg = ReservationGuard(g: g, store: service.store, host: service.host, keys: keys,
                                  me: callerID(input: input, environment: g.environment, sessions: stores.messages), now: now,
                                  states: HolderStates(sessions: service.sessions, host: service.host, now: now))
        return rg.run(hook, effects: effects)
    }

    /// The reservations could not be read (a networked store that does not answer). A call that writes nothing
    /// goes through; one that may write is denied, since it may write where another session holds a reservation:
    /// reservations are a guard, and a guard that lets writes through unseen would not hold.
    static func unreachable(_ error: BridgeError, effects: ToolEffects, guard g: Guard) -> Guard.Verdict {
        if effects.effects.isEmpty && !effects.exhausted { return .allow }
        return .deny("session-bridge reservation: edit reservations cannot be read (\(error.message(helper: g.helper))), so this call, "
            + "which may write files, is denied: another session may hold them. Make the store reachable again and retry "
            + "(`\(g.helper.command("doctor"))` checks it); tool calls that only read still run.")
    }

    init(g: Guard, store: any ReservationStore, host: String, keys: Set<String>, me: String?, now: Int64, states: HolderStates?) {
        self.g = g
        self.store = store
        self.host = host
        self.keys = keys
        self.me = me
        self.now = now
        self.states = states
    }

    /// Whether a reservation no longer binds (its holder is gone, or it ran out); never in a probe.
    func isOver(_ r: Reservation) -> Bool { states?.isOver(r) ?? false }

    /// The bridge session the hook speaks for, by the same rules as the commands (an explicit id, else the binding).
    static func callerID(input: [UInt8], environment: Environment, sessions: any SessionRegistry) -> String? {
        guard let identity = Hooks.identity(input: input, environment: environment) else { return nil }
        if case .explicit(let v) = identity.source, Identifiers.isValidID(v), ((try? sessions.manifest(v.lowercased())) ?? nil) != nil {
            return v.lowercased()
        }
        guard let id = (try? sessions.binding(forKey: identity.bindingKey)) ?? nil else { return nil }
        return Identifiers.isValidID(id) ? id : nil
    }

    mutating func run(_ hook: PreToolUseInput, effects given: ToolEffects) -> Guard.Verdict {
        // Reserved folders near the call that exist join the analysis' guarded roots (one more analysis, only
        // then): git or a copy can only reach files there through a folder that is there.
        var extra: [String] = []
        for project in candidates(GuardPaths.resolve(g.cwd)) {
            for r in load(project) where r.holder != me && !r.shared {
                let prefix = r.glob.literalPrefix
                let folder = prefix.isEmpty ? project.root : GuardPaths.join(project.root, prefix)
                if FileSystem.exists(folder) { extra.append(folder) }
            }
        }
        var effects = given
        if !extra.isEmpty {
            var g2 = g
            g2.extraGuardedRoots = extra
            effects = g2.effects(of: hook)
        }
        for e in effects.effects {
            if let hit = conflict(e) { return .deny(reason(hit)) }
        }
        renewOwn()
        return .allow
    }

    mutating func conflict(_ effect: ToolEffects.Effect) -> Hit? {
        switch effect {
        case .write(let place, let scope, let by):
            // A tree write, or new contents beneath a folder (a recursive copy, sync or extraction into it), may
            // land on anything beneath the place that a reservation could match.
            return check(place, tree: scope != .node, what: describeTool(by))
        case .opaque(let program, let cwd, let arguments):
            let name = Marker.isPlain(program) ? FileSystem.lastComponent(of: program) : "a program named at run time"
            if case .exact(let c) = cwd, let hit = check(.exact(c), tree: false, what: "`\(name)` (run inside a reserved folder)") { return hit }
            for a in arguments {
                if let hit = check(a, tree: false, what: "`\(name)`") { return hit }
            }
            return nil
        case .script(let language, let text, _, let cwd):
            var dir = g.cwd
            if case .exact(let c) = cwd {
                dir = c
                if let hit = check(.exact(c), tree: false, what: "a \(language) script run inside a reserved folder") { return hit }
            }
            guard let text, ScriptScan.mayWrite(text, language: language) else { return nil }
            return scriptMention(text, dir: dir, what: "the \(language) code in this call")
        }
    }

    /// A write at a place: covered by a reservation (a node), or with `tree`, holding one anywhere beneath.
    mutating func check(_ place: ToolEffects.Place, tree: Bool, what: String) -> Hit? {
        switch place {
        case .anywhere:
            // The store guard already denies writes it cannot place.
            return nil
        case .under(let root):
            return check(path: root, tree: true, what: what)
        case .exact(let p):
            return check(path: p, tree: tree, what: what)
        }
    }

    mutating func check(path p: String, tree: Bool, what: String) -> Hit? {
        for project in candidates(p) {
            guard let rel = project.relative(p) else { continue }
            let written = ReservationGlob(path: rel)
            for r in load(project) {
                guard tree ? r.glob.overlaps(written) : r.glob.covers(rel) else { continue }
                if states == nil { return Hit(reservation: r, path: rel.isEmpty ? project.root : rel, what: what) }
                if r.holder == me {
                    if !r.isExpired(now: now) { own[project.id, default: []].append(r) }
                    continue
                }
                if r.shared || isOver(r) { continue }
                return Hit(reservation: r, path: rel.isEmpty ? project.root : rel, what: what)
            }
        }
        guard tree else { return nil }
        // A folder that holds a whole project (rm -r of its parent).
        for key in keys.sorted() {
            guard let (_, list) = record(key) else { continue }
            for r in list where r.host == host && GuardPaths.isInside(r.root, p) && r.holder != me && !r.shared && !isOver(r) {
                return Hit(reservation: r, path: p, what: what)
            }
        }
        return nil
    }

    /// Code the guard does not parse that may write, and names a folder another session holds exclusively (by its
    /// path from the root, from the script's folder, or absolute), or any code that may write in a project whose
    /// whole tree is held.
    mutating func scriptMention(_ text: String, dir: String, what: String) -> Hit? {
        for project in candidates(dir) {
            for r in load(project) where r.holder != me && !r.shared {
                let prefix = r.glob.literalPrefix
                let absolute = prefix.isEmpty ? project.root : GuardPaths.join(project.root, prefix)
                var names = [absolute]
                if !prefix.isEmpty { names.append(prefix) }
                if GuardPaths.isInside(absolute, dir), absolute != dir { names.append(String(absolute.dropFirst(dir == "/" ? 1 : dir.count + 1))) }
                let mentioned = prefix.isEmpty || GuardPaths.isInside(dir, absolute) || names.contains { text.contains($0) }
                if mentioned && !isOver(r) { return Hit(reservation: r, path: prefix.isEmpty ? project.root : prefix, what: what) }
            }
        }
        return nil
    }

    private func describeTool(_ by: String) -> String {
        ["Write", "Edit", "MultiEdit", "NotebookEdit", "apply_patch"].contains(by) || by.hasPrefix("a ") ? by : "`\(by)`"
    }

    // MARK: Reading

    /// The projects a path may be reserved in that have a record (cached by folder).
    mutating func candidates(_ path: String) -> [ReservationProject] {
        if let known = candidateCache[path] { return known }
        var seen: Set<String> = []
        let found = ReservationProject.candidates(for: path, host: host).filter { keys.contains($0.key) && seen.insert($0.key).inserted }
        candidateCache[path] = found
        return found
    }

    mutating func record(_ key: String) -> (String, [Reservation])? {
        if let known = records[key] { return known }
        // A damaged record cannot be enforced; `doctor` reports it.
        let r = (try? store.reservations(key: key)) ?? nil
        let value = r.map { ($0.projectID, $0.reservations) }
        records[key] = value
        return value
    }

    mutating func load(_ project: ReservationProject) -> [Reservation] {
        guard let (id, list) = record(project.key), id == project.id else { return [] }
        return list
    }

    // MARK: Renewal

    /// Moves the end of the caller's reservations it works in to a full TTL from now, at most once a minute each.
    mutating func renewOwn() {
        guard let me else { return }
        for (projectID, list) in own {
            var byEnd: [Int: Set<String>] = [:]
            for r in list {
                guard let end = Clock.parseISO8601(r.until) else { continue }
                let full = now + Int64(r.ttlSeconds) * 1_000_000_000
                if full - end >= 60 * 1_000_000_000 { byEnd[r.ttlSeconds, default: []].insert(r.pattern) }
            }
            for (ttl, patterns) in byEnd {
                let until = Clock.iso8601(nanoseconds: now + Int64(ttl) * 1_000_000_000)
                try? store.renew(holder: me, patterns: patterns, until: until, projectID: projectID)
            }
        }
    }

    // MARK: Reason

    func reason(_ hit: Hit) -> String {
        let r = hit.reservation
        let p = Identifiers.printable
        let path = p(hit.path), pattern = p(r.pattern)
        var text = "session-bridge reservation: \(path) is reserved " + (r.pattern == hit.path ? "" : "(\(pattern)) ")
            + "by \(ReservationText.holder(r)) since \(p(r.since)) until \(p(r.until))"
        if let why = r.reason { text += ", for: \(p(why))" }
        let question = "I need to edit \(path), which you reserved (\(pattern)). Please release it when you can and tell me."
        text += ". No tool call may change it while they hold it (this one: \(hit.what)). Ask them: "
            + "`\(g.helper.command("ask \(r.holder) \(HelperName.singleQuoted(question)) --wait 90"))`, "
            + "then try again once they have released it (`\(g.helper.command("reservations"))` lists what is held)."
        return text
    }
}
