import Foundation
import Testing
@testable import SessionBridge

/// What only the in-memory engine has: its manual clock, named stores of a process, the factory's `memory:` setting,
/// and the damage a test can plant in it. The behaviours every engine shares are in the contract suites.
@Suite struct InMemoryStoreTests {
    @Test func theManualClockStampsClaimsAndHeartbeats() throws {
        let clock = StoreClock.manual(startingAt: 1_800_000_000_000_000_000)
        let store = InMemoryStore(clock: clock)
        try Contract.sessions(store, "asker", "lib")
        #expect(try store.lastSeen("lib") == 1_800_000_000_000_000_000)
        let q = Contract.message(from: "asker", to: "lib")
        try store.deliver(q)
        clock.hand?.advance(seconds: 5)
        _ = try store.claim("lib", q.id, keepInFlight: true)
        #expect(try store.claimRecord("lib", q.id) == ClaimRecord(messageID: q.id, claimedAt: 1_800_000_005_000_000_000, delivery: 1))
        clock.hand?.advance(seconds: -100)   // never backward
        #expect(clock.now() == 1_800_000_005_000_000_000)
        // A takeover within the same nanosecond still moves the claim time forward.
        let first = try #require(try store.claimRecord("lib", q.id))
        _ = try store.redeliver("lib", first)
        #expect(try store.claimRecord("lib", q.id)?.claimedAt == first.claimedAt + 1)
    }

    @Test func namedStoresAreSharedWithinTheProcessAndOpenedByTheFactory() throws {
        let name = "t-\(UUID().uuidString.prefix(8))"
        defer { InMemoryStore.discard(named: name) }
        let root = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let env = Environment(["SESSION_BRIDGE_STORE": "memory:\(name)", "SESSION_BRIDGE_HOME": root, "HOME": root])
        let a = try StoreFactory.open(environment: env).messages
        let b = try StoreFactory.open(environment: env).messages
        try Contract.sessions(a, "lib")
        #expect(try b.sessionIDs() == ["lib"])
        #expect(a.location == "memory:\(name)")
        #expect(try InMemoryStore.named(name).sessionIDs() == ["lib"])
        let other = try StoreFactory.open(environment: Environment(["SESSION_BRIDGE_STORE": "memory:\(name)-other",
                                                                     "SESSION_BRIDGE_HOME": root, "HOME": root])).messages
        #expect(try other.sessionIDs().isEmpty)
        InMemoryStore.discard(named: name + "-other")
    }

    @Test func aDamagedManifestIsReportedCorruptNotMissing() throws {
        let store = InMemoryStore()
        try Contract.sessions(store, "lib", "app")
        store.damageManifest("lib")
        #expect(Contract.errorCode { try store.manifest("lib") } == .corrupt)
        #expect(try store.sessionSnapshots().map(\.manifest.id) == ["app"])
        let findings = store.check(fix: false, policy: LeasePolicy(leaseSeconds: 1, maxDeliveries: 1))
        #expect(findings.contains { $0.subject == "session lib" && !$0.repaired })
    }

    @Test func doctorQuarantinesPlantedMessagesExpiresOverdueClaimsAndDropsStaleBindings() throws {
        let clock = StoreClock.manual()
        let store = InMemoryStore(clock: clock)
        let policy = LeasePolicy(leaseSeconds: 10, maxDeliveries: 1)
        try Contract.sessions(store, "asker", "lib")
        store.plantPending("lib", id: Identifiers.messageID(), bytes: Array("garbage".utf8))
        let q = Contract.message(from: "asker", to: "lib")
        try store.deliver(q)
        _ = try store.claim("lib", q.id, keepInFlight: true)
        try store.bind(key: "claude:gone", to: "gone0000")
        try store.setAwaiting("lib", messageID: q.id, pid: 0)
        #expect(store.check(fix: false, policy: policy).count == 3)   // the claim is not overdue yet
        clock.hand?.advance(seconds: 11)
        let findings = store.check(fix: true, policy: policy)
        #expect(findings.count == 4 && findings.allSatisfy(\.repaired), "\(findings)")
        #expect(try store.count("lib", .quarantined) == 1)
        #expect(try store.locate("lib", q.id) == .done)
        #expect(try store.events(sender: "asker", messageID: q.id).map(\.event) == [.expired])
        #expect(try store.binding(forKey: "claude:gone") == nil)
        #expect(try store.awaiting("lib").isEmpty)
        #expect(store.check(fix: false, policy: policy).isEmpty)
    }

    @Test func aSignalOnTheAllInboxesScopeWakesForAnySessionsDelivery() throws {
        let store = InMemoryStore()
        try Contract.sessions(store, "asker", "lib")
        let signal = try store.changeSignal(.allInboxes, alsoWatching: [])
        #expect(signal.mechanism == "memory" && signal.pollingReason == nil)
        #expect(!signal.wait(timeoutMilliseconds: 20))
        try store.deliver(Contract.message(from: "asker", to: "lib"))
        #expect(signal.wait(timeoutMilliseconds: 0))
        #expect(!signal.wait(timeoutMilliseconds: 0))
        try Contract.sessions(store, "late")
        #expect(signal.wait(timeoutMilliseconds: 0))
    }

    @Test func aSignalAlsoWakesForItsLocalFolders() throws {
        let folder = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = InMemoryStore()
        let signal = try store.changeSignal(.allInboxes, alsoWatching: [folder])
        if signal.pollingReason == nil { #expect(!signal.wait(timeoutMilliseconds: 60)) }
        FileManager.default.createFile(atPath: folder + "/talk.md", contents: Data("x".utf8))
        let start = Clock.monotonicNanoseconds()
        #expect(signal.wait(timeoutMilliseconds: 5_000))
        #expect(Clock.monotonicNanoseconds() - start < 2_000_000_000)
    }
}
