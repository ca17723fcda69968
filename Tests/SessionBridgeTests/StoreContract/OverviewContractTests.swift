import Foundation
import Testing
@testable import SessionBridge

/// What the dashboard reads of a store, on every engine: the whole-bridge change signal (`.allInboxesAndReceipts`)
/// and the id listings (`messageIDs`, `sentIDs`), which read no message.
@Suite struct OverviewContractTests {
    /// Wakes for each kind of change a page shows, made after the signal, a session made later included; quiet
    /// while nothing changes. A claim is seen with the receipt the bridge writes with it.
    @Test(arguments: StoreEngines.all)
    func theWholeBridgeSignalWakesForEveryKindOfChange(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let signal = try store.changeSignal(.allInboxesAndReceipts, alsoWatching: [])
        func drain() { while signal.wait(timeoutMilliseconds: 150) {} }
        func expectWake(_ what: Comment, sourceLocation: SourceLocation = #_sourceLocation, _ change: () throws -> Void) throws {
            try change()
            #expect(signal.wait(timeoutMilliseconds: 3000), what, sourceLocation: sourceLocation)
            drain()
        }
        drain()
        #expect(!signal.wait(timeoutMilliseconds: 300), "quiet store")

        try expectWake("a session made") { try Contract.sessions(store, "late") }
        let q = Contract.message(from: "asker", to: "late")
        try expectWake("a delivery to the session made after the signal") { try store.deliver(q) }
        try expectWake("a claim and its receipt") {
            _ = try store.claim("late", q.id, keepInFlight: true)
            try store.appendEvent(sender: "asker", messageID: q.id, DeliveryEvent(event: .claimed, by: "late", byName: "late", via: "listen"))
        }
        try expectWake("listening on") { try store.setListenMode("late", .background) }
        try expectWake("listening off") { try store.setListenMode("late", nil) }
        let record = try #require(try store.claimRecord("late", q.id))
        try expectWake("the answer") {
            try store.replyAndComplete("late", record, query: q, reply: Contract.reply(to: q), receipt: Contract.answeredReceipt(q))
        }
        let n = Contract.message(from: "lib", to: "asker", .sessionEnded)
        try expectWake("a delivery to a session that was there before") { try store.deliver(n) }
        try expectWake("a session ending (its manifest saved)") {
            var m = try #require(try store.manifest("late"))
            m.state = "ended"
            m.endedAt = Clock.nowISO8601()
            try store.saveManifest(m)
        }
        try expectWake("a session removed") { try store.removeSession("late") }
        #expect(!signal.wait(timeoutMilliseconds: 300), "quiet again")
    }

    /// The id listings agree with the messages in each state, through every move, and with the sender's copies.
    @Test(arguments: StoreEngines.all)
    func idListingsMatchTheMessagesInEachState(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib", "other")
        func expectListingsAgree(sourceLocation: SourceLocation = #_sourceLocation) throws {
            for session in ["asker", "lib", "other", "nobody"] {
                for state in [MessageState.pending, .inFlight, .done] {
                    let ids = try store.messageIDs(session, state)
                    #expect(ids == ids.sorted(), sourceLocation: sourceLocation)
                    #expect(ids == (try store.messages(session, state)).map(\.id).sorted(), "\(session) \(state)", sourceLocation: sourceLocation)
                }
            }
        }
        var sent: [String: [String]] = [:]
        var queries: [Message] = []
        for i in 0..<12 {
            let (from, to) = [("asker", "lib"), ("other", "lib"), ("lib", "asker")][i % 3]
            let m = Contract.message(from: from, to: to, i % 4 == 0 ? .sessionEnded : .query, content: "m\(i)")
            try store.deliver(m)
            sent[from, default: []].append(m.id)
            if m.type == .query { queries.append(m) }
        }
        try expectListingsAgree()
        for (i, q) in queries.enumerated() where i % 2 == 0 {
            _ = try store.claim(q.to, q.id, keepInFlight: true)
        }
        try expectListingsAgree()
        for (i, q) in queries.enumerated() where i % 4 == 0 {
            let record = try #require(try store.claimRecord(q.to, q.id))
            let reply = Contract.reply(to: q)
            try store.replyAndComplete(q.to, record, query: q, reply: reply, receipt: Contract.answeredReceipt(q))
            sent[q.to, default: []].append(reply.id)
        }
        try expectListingsAgree()
        for session in ["asker", "lib", "other"] {
            #expect(try store.sentIDs(sender: session) == (sent[session] ?? []).sorted(), "\(session)")
        }
        #expect(try store.sentIDs(sender: "nobody").isEmpty)
        #expect(try store.messageIDs("nobody", .pending).isEmpty)
    }
}
