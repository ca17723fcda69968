import Foundation
import Testing
@testable import SessionBridge

/// One engine's stores for the reservation contract, opened through `StoreFactory` as every command opens them.
final class ReservationEngineUnderTest: @unchecked Sendable {
    let name: String
    let stores: Stores
    /// A git project (with a remote) the reservations are made in.
    let project: String
    private let cleanup: @Sendable () -> Void

    init(name: String, stores: Stores, project: String, cleanup: @escaping @Sendable () -> Void) {
        self.name = name
        self.stores = stores
        self.project = project
        self.cleanup = cleanup
    }

    var store: any ReservationStore { stores.reservations }
    /// The host the holders' manifests name (`Contract.manifest`), so their liveness follows local rules.
    var service: Reservations { Reservations(stores: stores, host: "contract-host") }
    var projectID: String { "git:github.com/acme/contract" }

    func close() { cleanup() }

    static func open(_ name: String) throws -> ReservationEngineUnderTest {
        let base = FileSystem.realPath(makeTempDir("resv-contract")) ?? makeTempDir("resv-contract")
        let project = base + "/proj"
        try FileManager.default.createDirectory(atPath: project + "/.git", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: project + "/src/api", withIntermediateDirectories: true)
        try "[remote \"origin\"]\n\turl = git@github.com:acme/contract.git\n".write(toFile: project + "/.git/config", atomically: true, encoding: .utf8)
        var env = ["SESSION_BRIDGE_HOME": base + "/store", "HOME": base]
        if name == "redis" && !RedisTestServer.enabled {
            EngineMaker.noteOnce("reservation contract: the redis engine is unavailable here, its cases are skipped: redis-server is not installed")
            try Test.cancel("redis engine unavailable: redis-server is not installed")
        }
        let server: RedisTestServer? = name == "redis" ? try RedisTestServer() : nil
        if let server { env["SESSION_BRIDGE_STORE"] = server.url + "?prefix=rc" }
        if name == "memory" { env["SESSION_BRIDGE_STORE"] = "memory:resv-\(UUID().uuidString)" }
        let stores = try StoreFactory.open(environment: Environment(env))
        let setting = env["SESSION_BRIDGE_STORE"]
        return ReservationEngineUnderTest(name: name, stores: stores, project: project) {
            server?.stop()
            if let setting, setting.hasPrefix("memory:") {
                InMemoryStore.discard(named: String(setting.dropFirst(7)))
                InMemoryReservationStore.discard(named: String(setting.dropFirst(7)))
            }
            try? FileManager.default.removeItem(atPath: base)
        }
    }

    /// A reservation of `pattern` by `holder` in the contract's project, ending `ttl` seconds after `now`.
    func reservation(_ pattern: String, by holder: String, shared: Bool = false, now: Int64 = Clock.nowNanoseconds(), ttl: Int = 1800) -> Reservation {
        Reservation(pattern: pattern, shared: shared, holder: holder, holderName: holder, agent: "cli", host: "contract-host", root: project,
                    reason: nil, since: Clock.iso8601(nanoseconds: now), until: Clock.iso8601(nanoseconds: now + Int64(ttl) * 1_000_000_000),
                    ttlSeconds: ttl)
    }

    func reserve(_ patterns: [String], by holder: String, shared: Bool = false) throws -> ReserveOutcome {
        try store.reserve(patterns.map { reservation($0, by: holder, shared: shared) }, projectID: projectID) { _ in false }
    }

    func held() throws -> [Reservation] { try store.reservations(projectID: projectID) }
}

/// The reservation contract, written once against `ReservationStore` (and `Reservations` over an engine's stores)
/// and run on every engine: the guard and the commands rely on each behaviour checked here.
@Suite struct ReservationContractTests {
    static let engines = ["file", "memory", "redis"]

    func isReserved(_ o: ReserveOutcome) -> Bool {
        if case .reserved = o { return true }
        return false
    }

    func conflictHolder(_ o: ReserveOutcome) -> String? {
        if case .conflict(_, let held) = o { return held.holder }
        return nil
    }

    @Test(arguments: engines)
    func exclusiveConflictsWithEveryOtherHolderAndSharedOnesCoexist(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        #expect(isReserved(try e.reserve(["src/api"], by: "aaaa")))
        // Another holder: beneath, above, or by a glob that meets it, shared or not, all conflict.
        for (pattern, shared) in [("src/api/client.swift", false), ("src", false), ("src/*/x.swift", false), ("**", true), ("src/api", true)] {
            #expect(conflictHolder(try e.reserve([pattern], by: "bbbb", shared: shared)) == "aaaa", "\(pattern) shared: \(shared)")
        }
        // Paths that do not meet it, and the holder itself, are free.
        #expect(isReserved(try e.reserve(["src/ui", "docs/*.md", "src/apix"], by: "bbbb")))
        #expect(isReserved(try e.reserve(["src/api/deep"], by: "aaaa")))
        // Shared reservations coexist; an exclusive one conflicts with them.
        #expect(isReserved(try e.reserve(["lib"], by: "cccc", shared: true)))
        #expect(isReserved(try e.reserve(["lib/x"], by: "dddd", shared: true)))
        #expect(conflictHolder(try e.reserve(["lib/x/y"], by: "eeee")) != nil)
        // Re-reserving a pattern replaces the holder's own reservation of it.
        #expect(isReserved(try e.reserve(["lib"], by: "cccc", shared: true)))
        let held = try e.held()
        #expect(held.filter { $0.holder == "cccc" && $0.pattern == "lib" }.count == 1)
        #expect(Set(held.map(\.pattern)) == ["src/api", "src/ui", "docs/*.md", "src/apix", "src/api/deep", "lib", "lib/x"])
        #expect(try e.store.keys() == [ReservationProject.key(e.projectID)])
        #expect(e.store.projectIDs() == [e.projectID])
    }

    @Test(arguments: engines)
    func aReserveIsAllOrNone(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        #expect(isReserved(try e.reserve(["src/api"], by: "aaaa")))
        #expect(conflictHolder(try e.reserve(["docs", "tests", "src/api/client.swift", "tools"], by: "bbbb")) == "aaaa")
        #expect(try e.held().map(\.pattern) == ["src/api"])
        #expect(isReserved(try e.reserve(["docs", "tests"], by: "bbbb")))
        #expect(Set(try e.held().map(\.pattern)) == ["src/api", "docs", "tests"])
    }

    @Test(arguments: engines)
    func concurrentReservesOfOverlappingPathsHaveExactlyOneWinner(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        for round in 0..<3 {
            let patterns = ["src", "src/api", "src/**/*.swift", "src/api/client.swift", "**", "src/*", "src/api/client.swift/deep", "src/api/*.swift"]
            let winners = Collected<String>()
            let failures = Collected<String>()
            Contract.onThreads(patterns.count) { i in
                let holder = "h\(round)x\(i)"
                do {
                    let outcome = try e.store.reserve([e.reservation(patterns[i], by: holder)], projectID: e.projectID) { _ in false }
                    if case .reserved = outcome { winners.add(holder) }
                } catch {
                    failures.add("\(error)")
                }
            }
            #expect(failures.values.isEmpty)
            #expect(winners.values.count == 1)
            let held = try e.held()
            #expect(held.map(\.holder) == winners.values)
            for w in winners.values { _ = try e.store.release(holder: w, projectID: e.projectID) { _ in true } }
        }
        #expect(try e.held().isEmpty)
    }

    @Test(arguments: engines)
    func concurrentReservesOfSeparatePathsAllStand(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        let failures = Collected<String>()
        Contract.onThreads(8) { i in
            do {
                let outcome = try e.store.reserve([e.reservation("part\(i)", by: "p\(i)")], projectID: e.projectID) { _ in false }
                if case .conflict = outcome { failures.add("part\(i) conflicted") }
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.values.isEmpty)
        #expect(Set(try e.held().map(\.pattern)) == Set((0..<8).map { "part\($0)" }))
    }

    @Test(arguments: engines)
    func releaseRemovesOnlyTheHoldersChosenReservations(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        #expect(isReserved(try e.reserve(["src/api", "docs"], by: "aaaa")))
        #expect(isReserved(try e.reserve(["tests"], by: "bbbb")))
        #expect(try e.store.release(holder: "bbbb", projectID: e.projectID) { $0.pattern == "docs" }.isEmpty)
        let gone = try e.store.release(holder: "aaaa", projectID: e.projectID) { $0.pattern == "docs" }
        #expect(gone.map(\.pattern) == ["docs"])
        #expect(Set(try e.held().map(\.pattern)) == ["src/api", "tests"])
        #expect(isReserved(try e.reserve(["docs/x"], by: "bbbb")))
        _ = try e.store.release(holder: "aaaa", projectID: e.projectID) { _ in true }
        _ = try e.store.release(holder: "bbbb", projectID: e.projectID) { _ in true }
        // The last release removes the project's record.
        #expect(try e.held().isEmpty)
        #expect(try e.store.keys().isEmpty)
        #expect(try e.store.record(key: ReservationProject.key(e.projectID)) == nil)
    }

    @Test(arguments: engines)
    func renewMovesTheEndOfTheHoldersNamedReservationsOnly(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        #expect(isReserved(try e.reserve(["src/api", "docs"], by: "aaaa")))
        #expect(isReserved(try e.reserve(["tests"], by: "bbbb")))
        let before = try e.held()
        let later = Clock.iso8601(nanoseconds: Clock.nowNanoseconds() + 7200 * 1_000_000_000)
        try e.store.renew(holder: "aaaa", patterns: ["src/api", "tests"], until: later, projectID: e.projectID)
        let after = try e.held()
        #expect(after.first { $0.pattern == "src/api" }?.until == later)
        #expect(after.first { $0.pattern == "docs" }?.until == before.first { $0.pattern == "docs" }?.until)
        #expect(after.first { $0.pattern == "tests" }?.until == before.first { $0.pattern == "tests" }?.until)
    }

    @Test(arguments: engines)
    func anExpiredReservationStopsHoldingAtItsTTL(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        let (a, b) = (Contract.manifest("aaaa"), Contract.manifest("bbbb"))
        try e.stores.messages.createSession(a)
        try e.stores.messages.createSession(b)
        let now = Clock.nowNanoseconds()
        let first = try e.service.reserve(["src/api"], for: a, cwd: e.project, home: "/", request: .init(ttlSeconds: 60), now: now)
        #expect(isReserved(first.outcome))
        #expect(first.project.id == e.projectID)
        // Within its TTL it holds; one second past it, another session takes the path, and the expired one is gone.
        let early = try e.service.reserve(["src/api/client.swift"], for: b, cwd: e.project, home: "/", request: .init(), now: now + 59 * 1_000_000_000)
        #expect(conflictHolder(early.outcome) == "aaaa")
        let late = try e.service.reserve(["src/api/client.swift"], for: b, cwd: e.project, home: "/", request: .init(), now: now + 61 * 1_000_000_000)
        #expect(isReserved(late.outcome))
        #expect(try e.held().map(\.holder) == ["bbbb"])
        #expect(e.service.list(cwd: nil, me: nil, now: now + 61 * 1_000_000_000).map(\.state) == ["live"])
    }

    @Test(arguments: engines)
    func reservationsOfStaleEndedOrRemovedHoldersAreClearedAndDoNotHold(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        var stale = Contract.manifest("stale"), ended = Contract.manifest("ended")
        let gone = Contract.manifest("gone"), live = Contract.manifest("live"), newcomer = Contract.manifest("newcomer")
        for m in [stale, ended, gone, live, newcomer] { try e.stores.messages.createSession(m) }
        for (m, path) in [(stale, "a"), (ended, "b"), (gone, "c"), (live, "d")] {
            #expect(isReserved(try e.service.reserve([path], for: m, cwd: e.project, home: "/", request: .init()).outcome))
        }
        // Then one holder's terminal closes (its process is gone), one stops, one is removed.
        stale.agent = "terminal"
        stale.pid = 999_999_999
        stale.pidStartTime = 1
        try e.stores.messages.saveManifest(stale)
        ended.state = "ended"
        ended.endedAt = Clock.nowISO8601()
        try e.stores.messages.saveManifest(ended)
        try e.stores.messages.removeSession("gone")
        let states = Dictionary(uniqueKeysWithValues: e.service.list(cwd: nil, me: nil).map { ($0.pattern, $0.state) })
        #expect(states == ["a": "stale", "b": "ended", "c": "ended", "d": "live"])
        // A report leaves them; the clear removes exactly the three that no longer hold.
        #expect(Set(e.service.clearOver(fix: false).map(\.0.pattern)) == ["a", "b", "c"])
        #expect(try e.held().count == 4)
        #expect(Set(e.service.clearOver(fix: true).map(\.0.pattern)) == ["a", "b", "c"])
        #expect(try e.held().map(\.pattern) == ["d"])
        // A reserve drops what no longer holds before checking: the live one still conflicts.
        #expect(isReserved(try e.service.reserve(["a", "b/x"], for: newcomer, cwd: e.project, home: "/", request: .init()).outcome))
        #expect(conflictHolder(try e.service.reserve(["d/x"], for: newcomer, cwd: e.project, home: "/", request: .init()).outcome) == "live")
        // Doctor on the engine's reservations reports nothing more.
        #expect(Doctor.checkReservations(e.service, fix: false).isEmpty)
    }

    @Test(arguments: engines)
    func manyReservationsAreKeptAndCheckedWhole(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        let mine = (0..<300).map { "mod\($0)/src" }
        #expect(isReserved(try e.reserve(mine, by: "aaaa")))
        for i in 0..<100 {
            #expect(isReserved(try e.reserve(["other\(i)/**/*.swift"], by: "h\(i)", shared: i % 2 == 0)))
        }
        #expect(conflictHolder(try e.reserve(["free", "mod299/src/deep/x"], by: "bbbb")) == "aaaa")
        #expect(conflictHolder(try e.reserve(["other7/a/b.swift"], by: "bbbb")) == "h7")
        #expect(isReserved(try e.reserve(["other8/a/b.swift"], by: "bbbb", shared: true)))
        let held = try e.held()
        #expect(held.count == 401)
        #expect(Set(held.map(\.pattern)).isSuperset(of: mine))
        let gone = try e.store.clear(projectID: e.projectID) { $0.holder.hasPrefix("h") }
        #expect(gone.count == 100)
        #expect(try e.held().count == 301)
    }

    @Test(arguments: engines)
    func aProjectHoldsAtMostTheLimitAndABreachChangesNothing(_ engine: String) throws {
        let e = try ReservationEngineUnderTest.open(engine)
        defer { e.close() }
        let all = (0..<ReservationRecord.perProjectLimit).map { "f\($0)" }
        #expect(isReserved(try e.reserve(all, by: "aaaa")))
        #expect(throws: BridgeError.self) { try e.reserve(["one-more"], by: "bbbb") }
        #expect(try e.held().count == ReservationRecord.perProjectLimit)
        #expect(try !e.held().contains { $0.holder == "bbbb" })
    }
}
