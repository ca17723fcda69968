import Foundation
import Testing
@testable import SessionBridge

/// The lease and redelivery rules (`Leases`, the one place they live) over every engine, and the crash points of
/// the reliability design that apply in process: a process killed between two store steps leaves a state the next
/// reader completes. (The file engine's kills inside a step, with real processes, are FaultInjectionTests.)
@Suite struct LeaseContractTests {
    /// How far a reply got before its process died.
    enum ReplyStep: String, CaseIterable, Sendable {
        /// The question was claimed (reply:1, claim:1); nothing else happened.
        case claimed
        /// The answer was published to the asker (reply:2).
        case published
        /// The answered receipt was written too (reply:3); only finishing the claim is left.
        case receipted
    }

    /// A question claimed by `lib` and a reply interrupted after `step`; returns the question and its claim.
    func interruptedReply(_ store: any BridgeStore, after step: ReplyStep) throws -> (Message, ClaimRecord) {
        try Contract.sessions(store, "asker", "lib")
        let (q, record) = try Contract.claimedQuery(store)
        if step != .claimed { try store.deliver(Contract.reply(to: q)) }
        if step == .receipted { try store.appendEvent(sender: "asker", messageID: q.id, Contract.answeredReceipt(q)) }
        return (q, record)
    }

    /// The asker ends with exactly one answer and one answered receipt, the question done.
    func expectAnsweredOnce(_ store: any BridgeStore, _ q: Message) throws {
        #expect(try store.messages("asker", .pending).filter { $0.inReplyTo == q.id }.count == 1)
        #expect(try store.events(sender: "asker", messageID: q.id).filter { $0.event == .answered }.count == 1)
        #expect(try store.locate("lib", q.id) == .done)
        #expect(try store.claimRecord("lib", q.id) == nil)
    }

    @Test(arguments: StoreEngines.all, ReplyStep.allCases)
    func settlingAfterTheLeaseFinishesOrRedeliversAnInterruptedReply(_ maker: EngineMaker, step: ReplyStep) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let leases = Leases(store: store, policy: Contract.policy(leaseMilliseconds: 200, maxDeliveries: 3))
        let (q, record) = try interruptedReply(store, after: step)
        #expect(leases.settle("lib", name: "lib", now: engine.now()).redeliverable.isEmpty)
        engine.advance(milliseconds: 250)
        let settled = leases.settle("lib", name: "lib", now: engine.now())
        if step == .claimed {
            #expect(settled.redeliverable == [record] && settled.finished.isEmpty)
            #expect(try store.claimRecord("lib", q.id) == record)
        } else {
            #expect(settled.finished == [q.id] && settled.redeliverable.isEmpty)
            try expectAnsweredOnce(store, q)
        }
        // Settling again changes nothing.
        let again = leases.settle("lib", name: "lib", now: engine.now())
        #expect(again.finished.isEmpty && again.expired.isEmpty)
        if step != .claimed { try expectAnsweredOnce(store, q) }
    }

    @Test(arguments: StoreEngines.all, ReplyStep.allCases)
    func aTakeoverOfAnInterruptedReplyRedeliversOnlyAnUnansweredQuestion(_ maker: EngineMaker, step: ReplyStep) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let leases = Leases(store: store, policy: Contract.policy(leaseMilliseconds: 200, maxDeliveries: 3))
        let (q, record) = try interruptedReply(store, after: step)
        let lib = Contract.manifest("lib")
        engine.advance(milliseconds: 250)
        let outcome = try leases.takeOver(lib, record)
        if step == .claimed {
            #expect(outcome == .claimed(q))
            #expect(try store.claimRecord("lib", q.id)?.delivery == 2)
            #expect(try store.events(sender: "asker", messageID: q.id).map(\.event) == [.redelivered])
        } else {
            #expect(outcome == .gone)
            try expectAnsweredOnce(store, q)
            #expect(try !store.events(sender: "asker", messageID: q.id).contains { $0.event == .redelivered })
        }
    }

    /// Many listeners find the same lease run out at once: one takes the question over, one redelivered receipt.
    @Test(arguments: StoreEngines.all)
    func concurrentTakeoversThroughTheLeasesHaveOneWinner(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let leases = Leases(store: store, policy: Contract.policy(leaseMilliseconds: 100, maxDeliveries: 3))
        let (q, record) = try interruptedReply(store, after: .claimed)
        engine.advance(milliseconds: 150)
        let wins = Collected<Int>()
        let handed = Handed(leases)
        Contract.onThreads(8) { i in
            if case .claimed? = try? handed.value.takeOver(Contract.manifest("lib"), record) { wins.add(i) }
        }
        #expect(wins.values.count == 1)
        #expect(try store.claimRecord("lib", q.id)?.delivery == 2)
        #expect(try store.events(sender: "asker", messageID: q.id).filter { $0.event == .redelivered }.count == 1)
    }

    /// Many settlers of a question on its last delivery: it is expired once, with one receipt, and never redelivered.
    @Test(arguments: StoreEngines.all)
    func concurrentSettlersExpireAQuestionOnce(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let leases = Leases(store: store, policy: Contract.policy(leaseMilliseconds: 100, maxDeliveries: 1))
        let (q, _) = try interruptedReply(store, after: .claimed)
        engine.advance(milliseconds: 150)
        let now = engine.now()
        let expired = Collected<String>()
        let redeliverable = Collected<ClaimRecord>()
        let handed = Handed(leases)
        Contract.onThreads(8) { _ in
            let s = handed.value.settle("lib", name: "lib", now: now)
            expired.add(contentsOf: s.expired)
            redeliverable.add(contentsOf: s.redeliverable)
        }
        #expect(expired.values == [q.id] && redeliverable.values.isEmpty)
        #expect(try store.events(sender: "asker", messageID: q.id).map(\.event) == [.expired])
        #expect(try store.locate("lib", q.id) == .done)
    }

    /// A reply racing a takeover of the same claim (its lease just ran out): either the answer stands and the
    /// takeover finds it answered, or the takeover wins and the late reply is refused; never both, never neither.
    @Test(arguments: StoreEngines.all)
    func aReplyRacingATakeoverEndsOneWay(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let leases = Leases(store: store, policy: Contract.policy(leaseMilliseconds: 100, maxDeliveries: 3))
        try Contract.sessions(store, "asker", "lib")
        for _ in 0..<15 {
            let (q, record) = try Contract.claimedQuery(store)
            engine.advance(milliseconds: 150)
            let results = Collected<String>()
            let handed = Handed(leases)
            Contract.onThreads(2) { i in
                if i == 0 {
                    let answered = try? store.withInboxLock("lib") { () throws(BridgeError) -> Bool in
                        guard (try? store.claimRecord("lib", q.id)) == record else { return false }
                        try bridged { () throws(StoreError) in
                            try store.replyAndComplete("lib", record, query: q, reply: Contract.reply(to: q), receipt: Contract.answeredReceipt(q))
                        }
                        return true
                    }
                    results.add(answered == true ? "replied" : "refused")
                } else if case .claimed? = try? handed.value.takeOver(Contract.manifest("lib"), record) {
                    results.add("took over")
                } else {
                    results.add("gone")
                }
            }
            let r = Set(results.values)
            #expect(r == ["replied", "gone"] || r == ["refused", "took over"], "\(results.values)")
            let replies = try store.messages("asker", .pending).filter { $0.inReplyTo == q.id }.count
            #expect(replies == (r.contains("replied") ? 1 : 0))
            if let now = try store.claimRecord("lib", q.id) { _ = try store.finishClaim("lib", now) }
        }
    }
}
