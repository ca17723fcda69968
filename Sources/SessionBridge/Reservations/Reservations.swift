/// Edit reservations, as the commands and hooks use them: reserve (atomic with the conflict check), release,
/// list, renew while the holder works there, and clearing what has ended. A reservation ends on `release`, on the
/// holder's `stop` or SessionEnd, when the holder's session is stale (its process gone, as `peers` says) or ended,
/// or at its TTL. The reservations and the sessions come from one engine (`Stores`).
package struct Reservations {
    package let store: any ReservationStore
    /// Where holders' sessions are looked up (live, stale or ended).
    let sessions: any SessionRegistry
    package let host: String

    package init(store: any ReservationStore, sessions: any SessionRegistry, host: String = Processes.hostName()) {
        self.store = store
        self.sessions = sessions
        self.host = host
    }

    package init(stores: Stores, host: String = Processes.hostName()) {
        self.init(store: stores.reservations, sessions: stores.messages, host: host)
    }

    // MARK: Paths

    /// A reservation argument resolved to its project and pattern.
    package struct Target: Sendable, Equatable {
        package var project: ReservationProject
        package var pattern: String
    }

    /// Resolves a PATH or GLOB (relative to `cwd`, `~` allowed): its fixed part by real path (symlinks, then `..`,
    /// as the kernel does), made relative to the project root it lies in; the glob part is kept.
    package static func target(_ argument: String, cwd: String, home: String, host: String) throws(BridgeError) -> Target {
        guard !argument.isEmpty, argument.utf8.count <= Reservation.patternLimit,
              !argument.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else {
            throw .invalidInput(.reservationPath(argument))
        }
        var text = argument
        if text == "~" || text.hasPrefix("~/") { text = home + text.dropFirst() }
        let absolute = GuardPaths.join(cwd, text)
        let parts = absolute.split(separator: "/", omittingEmptySubsequences: true)
        let firstGlob = parts.firstIndex { ReservationGlob.hasGlob($0) } ?? parts.endIndex
        let tail = parts[firstGlob...].filter { $0 != "." }
        if tail.contains("..") {
            throw .invalidInput(.reservationPattern(argument))
        }
        let fixed = GuardPaths.resolve("/" + parts[..<firstGlob].joined(separator: "/"), followFinal: true)
        let realCwd = GuardPaths.resolve(cwd, followFinal: true)
        let fallback = GuardPaths.isInside(fixed, realCwd) ? realCwd : (FileSystem.isDirectory(fixed) ? fixed : FileSystem.parentDirectory(of: fixed))
        let project = ReservationProject.of(fixed, fallbackRoot: fallback, host: host)
        guard let relative = project.relative(fixed) else {
            throw .invalidInput(.outsideProject(path: argument, root: project.root))
        }
        var segments = relative.split(separator: "/").map(String.init)
        segments += tail.map(String.init)
        // `**/**` is `**`; a trailing `**` adds nothing (a pattern covers everything beneath its matches).
        var cleaned: [String] = []
        for s in segments where !(s == "**" && cleaned.last == "**") { cleaned.append(s) }
        while cleaned.count > 1 && cleaned.last == "**" { cleaned.removeLast() }
        return Target(project: project, pattern: cleaned.isEmpty ? "**" : cleaned.joined(separator: "/"))
    }

    // MARK: Operations

    package struct Request: Sendable {
        package var ttlSeconds: Int
        package var reason: String?
        package var shared: Bool

        package init(ttlSeconds: Int = Reservation.defaultTTLSeconds, reason: String? = nil, shared: Bool = false) {
            self.ttlSeconds = ttlSeconds
            self.reason = reason
            self.shared = shared
        }
    }

    /// What `reserve` did: the project and the reservations now held, or the one in the way.
    package struct ReserveResult: Sendable {
        package var project: ReservationProject
        package var outcome: ReserveOutcome
    }

    /// Reserves every argument for `holder`, all or none. Arguments must lie in one project.
    package func reserve(_ arguments: [String], for holder: SessionManifest, cwd: String, home: String,
                        request: Request, now: Int64 = Clock.nowNanoseconds()) throws(BridgeError) -> ReserveResult {
        guard !arguments.isEmpty else { throw .invalidInput(.noReservationPaths) }
        guard request.ttlSeconds >= 1, request.ttlSeconds <= Reservation.maximumTTLSeconds else {
            throw .invalidInput(.reservationTTLRange)
        }
        if let reason = request.reason {
            guard !reason.isEmpty, reason.utf8.count <= Reservation.reasonLimit, !reason.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else {
                throw .invalidInput(.reservationReason)
            }
        }
        var targets: [Target] = []
        for a in arguments { targets.append(try Self.target(a, cwd: cwd, home: home, host: host)) }
        let project = targets[0].project
        if let other = targets.first(where: { $0.project.id != project.id }) {
            throw .invalidInput(.projectsDiffer(pattern: other.pattern, root: other.project.root, firstPattern: targets[0].pattern, firstRoot: project.root))
        }
        let since = Clock.iso8601(nanoseconds: now)
        let until = Clock.iso8601(nanoseconds: now + Int64(request.ttlSeconds) * 1_000_000_000)
        var seen: Set<String> = []
        let requested = targets.filter { seen.insert($0.pattern).inserted }.map {
            Reservation(pattern: $0.pattern, shared: request.shared, holder: holder.id, holderName: holder.name, agent: holder.agent,
                        host: host, root: project.root, reason: request.reason, since: since, until: until, ttlSeconds: request.ttlSeconds)
        }
        let states = HolderStates(sessions: sessions, host: host, now: now)
        let outcome = try store.reserve(requested, projectID: project.id, isOver: states.isOver)
        return ReserveResult(project: project, outcome: outcome)
    }

    /// Releases the holder's reservations in the project of `cwd`: those named (a pattern as given to `reserve`, or a
    /// path: every reservation of the holder at or beneath it), or all of them when none is named.
    package func release(_ arguments: [String], holder: String, cwd: String, home: String) throws(BridgeError) -> [Reservation] {
        if arguments.isEmpty {
            let realCwd = GuardPaths.resolve(cwd, followFinal: true)
            let project = ReservationProject.of(realCwd, fallbackRoot: realCwd, host: host)
            var gone = try store.release(holder: holder, projectID: project.id) { _ in true }
            // Outside git, the folder project may have been reserved from a parent folder.
            for candidate in ReservationProject.candidates(for: realCwd, host: host) where candidate.id != project.id {
                if (try store.keys()).contains(candidate.key) { gone += try store.release(holder: holder, projectID: candidate.id) { _ in true } }
            }
            return gone
        }
        var gone: [Reservation] = []
        for a in arguments {
            let t = try Self.target(a, cwd: cwd, home: home, host: host)
            let named = ReservationGlob(t.pattern)
            gone += try store.release(holder: holder, projectID: t.project.id) { r in
                r.pattern == t.pattern || named.covers(r.glob.literalPrefix)
            }
        }
        return gone
    }

    /// Releases every reservation of the holder, in every project (its session ends).
    @discardableResult
    package func releaseAll(holder: String) -> [Reservation] {
        var gone: [Reservation] = []
        for id in store.projectIDs() {
            gone += (try? store.release(holder: holder, projectID: id) { _ in true }) ?? []
        }
        return gone
    }

    /// A reservation as listed: where, whose, and whether it still holds.
    package struct Row: Codable, Sendable, Equatable {
        package var project: String
        package var root: String
        package var pattern: String
        package var shared: Bool
        package var holder: String
        package var holderName: String
        package var agent: String
        package var host: String
        package var reason: String?
        package var since: String
        package var until: String
        /// `live`, `expired` (past its TTL), `stale` (the holder's process is gone) or `ended` (the holder stopped).
        package var state: String
        package var you: Bool
    }

    /// Reservations of the project of `cwd` that hold; with `all`, of every project and whatever their state.
    package func list(cwd: String?, me: String?, now: Int64 = Clock.nowNanoseconds()) -> [Row] {
        let states = HolderStates(sessions: sessions, host: host, now: now)
        var keys = (try? store.keys()) ?? []
        if let cwd {
            let real = GuardPaths.resolve(cwd, followFinal: true)
            let wanted = Set(ReservationProject.candidates(for: real, host: host).map(\.key))
            keys = keys.intersection(wanted)
        }
        var rows: [Row] = []
        for key in keys.sorted() {
            guard let (project, list) = (try? store.reservations(key: key)) ?? nil else { continue }
            for r in list {
                let state = states.state(of: r)
                if cwd != nil && state != "live" { continue }
                rows.append(Row(project: project, root: r.root, pattern: r.pattern, shared: r.shared, holder: r.holder, holderName: r.holderName,
                                agent: r.agent, host: r.host, reason: r.reason, since: r.since, until: r.until, state: state, you: r.holder == me))
            }
        }
        return rows.sorted { ($0.project, $0.pattern, $0.since) < ($1.project, $1.pattern, $1.since) }
    }

    /// Removes reservations that no longer hold (expired, stale or ended holders) in every project; with `fix`
    /// false only reports them.
    package func clearOver(fix: Bool, now: Int64 = Clock.nowNanoseconds()) -> [(Reservation, String)] {
        let states = HolderStates(sessions: sessions, host: host, now: now)
        var out: [(Reservation, String)] = []
        for key in ((try? store.keys()) ?? []).sorted() {
            guard let (project, list) = (try? store.reservations(key: key)) ?? nil else { continue }
            if fix {
                let gone = (try? store.clear(projectID: project, where: states.isOver)) ?? []
                out += gone.map { ($0, states.state(of: $0)) }
            } else {
                out += list.filter(states.isOver).map { ($0, states.state(of: $0)) }
            }
        }
        return out
    }

    /// Keys of the records that cannot be read (damaged, or under another project's key).
    package func damagedRecords() -> [String] {
        ((try? store.keys()) ?? []).sorted().filter { key in
            do {
                guard let r = try store.record(key: key) else { return false }
                return ReservationProject.key(r.project) != key
            } catch {
                return true
            }
        }
    }

    package func removeDamaged(key: String) {
        try? store.removeRecord(key: key)
    }
}

/// Whether reservation holders are still there: their session manifest, heartbeat and process, as `peers` sees
/// them, from the engine's session registry. Looked up once per holder. A holder that cannot be looked up (the
/// store did not answer) counts as there: a reservation is never dropped on a failed read.
final class HolderStates {
    let sessions: any SessionRegistry
    let host: String
    let now: Int64
    private var cache: [String: Lookup] = [:]

    enum Lookup {
        case found(PeerState)
        case missing
        case unknown
    }

    init(sessions: any SessionRegistry, host: String, now: Int64) {
        self.sessions = sessions
        self.host = host
        self.now = now
    }

    func lookup(_ id: String) -> Lookup {
        if let known = cache[id] { return known }
        let result: Lookup
        if !Identifiers.isValidID(id) {
            result = .missing
        } else {
            do throws(StoreError) {
                if let m = try sessions.manifest(id), m.id == id {
                    result = .found(PeerState.of(m, lastSeenNanoseconds: try sessions.lastSeen(id) ?? 0, now: now, localHost: host))
                } else {
                    result = .missing
                }
            } catch {
                // An unreadable manifest is no session (`peers` leaves it out); a store that does not answer says
                // nothing, so the holder counts as there.
                result = error.code == .corrupt ? .missing : .unknown
            }
        }
        cache[id] = result
        return result
    }

    func state(of r: Reservation) -> String {
        switch lookup(r.holder) {
        case .missing, .found(.ended): return "ended"
        case .found(.stale): return "stale"
        case .found(.active), .found(.idle), .unknown: return r.isExpired(now: now) ? "expired" : "live"
        }
    }

    func isOver(_ r: Reservation) -> Bool { state(of: r) != "live" }
}
