import Foundation
import Testing
@testable import SessionBridge

@Suite struct LeaseTests {
    @Test func claimRecordsRoundTripAndRefuseEverythingElse() {
        let r = ClaimRecord(messageID: "0190aaaa-0000-7000-8000-000000000000", claimedAt: 1_764_000_000_123_456_789, delivery: 3)
        #expect(ClaimRecord(fileName: r.fileName) == r)
        for bad in ["", ".json", "x.json", "id.1.json", "id.1.2.3.json", "id..1.json", "id.1..json", "id.-1.1.json", "id.1.0.json",
                    "id.1.1.txt", "../x.1.1.json", "id.99999999999999999999.1.json", "id.1.1.json.tmp", "id.1.1x.json", "id.+1.1.json"] {
            #expect(ClaimRecord(fileName: bad) == nil, "\(bad)")
        }
        // Random names never crash the parser, and whatever parses renders back to itself.
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdef-.json/ x")
        for _ in 0..<20_000 {
            let name = String((0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            if let parsed = ClaimRecord(fileName: name) { #expect(parsed.fileName == name) }
        }
    }

    @Test func policyHoldsRedeliversThenExpires() {
        let p = LeasePolicy(leaseSeconds: 10, maxDeliveries: 2)
        let first = ClaimRecord(messageID: "m", claimedAt: 1_000_000_000_000, delivery: 1)
        #expect(p.decide(first, now: first.claimedAt) == .held(until: first.claimedAt + 10_000_000_000))
        #expect(p.decide(first, now: first.claimedAt + 9_999_999_999) == .held(until: first.claimedAt + 10_000_000_000))
        #expect(p.decide(first, now: first.claimedAt + 10_000_000_000) == .redeliver)
        var second = first
        second.delivery = 2
        #expect(p.decide(second, now: first.claimedAt + 10_000_000_000) == .expire)
    }

    @Test func replyIDsAreDerivedValidAndDistinct() {
        let q = Identifiers.messageID()
        let a = Identifiers.replyID(for: q)
        #expect(a == Identifiers.replyID(for: q))
        #expect(a == Identifiers.replyID(for: q.uppercased()))
        #expect(Identifiers.isValidID(a) && a != q && a.count == 36)
        #expect(a.prefix(13) == q.prefix(13).prefix(8) + q.dropFirst(8).prefix(5))   // keeps the question's time order
        #expect(Array(a)[14] == "8")
        var seen = Set<String>()
        for _ in 0..<2000 { seen.insert(Identifiers.replyID(for: Identifiers.messageID())) }
        #expect(seen.count == 2000)
        #expect(Identifiers.isValidID(Identifiers.replyID(for: "not-a-uuid")))
    }

    /// The lease runs from the claim, never from the file's mtime: a question written long ago and claimed now is
    /// not taken over by a second listener.
    @Test func oldMessageFileIsNotSeenAsAnExpiredClaim() throws {
        let root = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lib = try makeBridge(root: root, key: "lib-key", extra: ["SESSION_BRIDGE_LEASE_SECONDS": "60"])
        let lib2 = try makeBridge(root: root, key: "lib-key", extra: ["SESSION_BRIDGE_LEASE_SECONDS": "60"])
        let app = try makeBridge(root: root, key: "app-key")
        _ = try lib.sessions.start(name: "lib", projectPath: "/p/lib")
        _ = try app.sessions.start(name: "app", projectPath: "/p/app")
        let q = try app.messages.ask("lib", content: "old question")
        let path = root + "/sessions/lib-key/inbox/new/\(q.id).json"
        var times = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        #expect(try lib.messages.listen(timeoutSeconds: 1).message.id == q.id)
        #expect(throws: WaitEnded.nothingArrived) { try lib2.messages.listen(timeoutSeconds: 0.2) }
        let record = try #require(try lib.store.claimRecord("lib-key", q.id))
        #expect(record.delivery == 1 && abs(record.claimedAt - Clock.nowNanoseconds()) < 30_000_000_000)
    }

    /// Many concurrent takeovers of one expired claim: exactly one wins.
    @Test func concurrentTakeoversHaveOneWinner() throws {
        let root = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lib = try makeBridge(root: root, key: "lib-key", extra: ["SESSION_BRIDGE_LEASE_SECONDS": "1"])
        let app = try makeBridge(root: root, key: "app-key")
        _ = try lib.sessions.start(name: "lib", projectPath: "/p/lib")
        _ = try app.sessions.start(name: "app", projectPath: "/p/app")
        let q = try app.messages.ask("lib", content: "q")
        #expect(try lib.messages.listen(timeoutSeconds: 1).message.id == q.id)
        Thread.sleep(forTimeInterval: 1.05)
        let store = try FileStore(root: root)
        let record = try #require(try store.claimRecord("lib-key", q.id))
        let wins = Tally()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if case .claimed? = try? store.redeliver("lib-key", record) { wins.add() }
        }
        #expect(wins.value == 1)
        #expect(try store.claimRecord("lib-key", q.id)?.delivery == 2)
    }

    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }
}
