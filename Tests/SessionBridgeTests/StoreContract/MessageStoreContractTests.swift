import Foundation
import Testing
@testable import SessionBridge

/// The store contract, written once against `BridgeStore` and run against every engine of `StoreEngines.all`. A
/// failure here on any engine is a bug of that engine: the bridge above relies on every behaviour checked.
@Suite struct MessageStoreContractTests {
    // MARK: Sessions, bindings, names, heartbeats

    @Test(arguments: StoreEngines.all)
    func sessionsAreCreatedReadUpdatedAndRemoved(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        #expect(try store.sessionIDs().isEmpty)
        try Contract.sessions(store, "bbbb", "aaaa", "cccc")
        #expect(try store.sessionIDs() == ["aaaa", "bbbb", "cccc"])
        var m = try #require(try store.manifest("aaaa"))
        #expect(m == Contract.manifest("aaaa").with(startedAt: m.startedAt, lastSeen: m.lastSeen))
        m.state = "ended"
        m.endedAt = Clock.nowISO8601()
        try store.saveManifest(m)
        #expect(try store.manifest("aaaa") == m)
        try store.removeSession("bbbb")
        #expect(try store.manifest("bbbb") == nil)
        #expect(try store.sessionIDs() == ["aaaa", "cccc"])
        #expect(try store.manifest("nobody") == nil)
        #expect(try store.lastSeen("nobody") == nil)
    }

    @Test(arguments: StoreEngines.all)
    func bindingsAndTheNameIndex(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "aaaa", "bbbb")
        #expect(try store.binding(forKey: "claude:1234") == nil)
        try store.bind(key: "claude:1234", to: "aaaa")
        try store.bind(key: "codex:abcd", to: "bbbb")
        #expect(try store.binding(forKey: "claude:1234") == "aaaa")
        #expect(try store.binding(forKey: "codex:abcd") == "bbbb")
        try store.bind(key: "claude:1234", to: "bbbb")
        #expect(try store.binding(forKey: "claude:1234") == "bbbb")
        try store.unbind(key: "claude:1234")
        #expect(try store.binding(forKey: "claude:1234") == nil)
        #expect(try store.binding(forKey: "codex:abcd") == "bbbb")

        #expect(try store.indexedSession(named: "lib") == nil)
        try store.indexName("lib", id: "aaaa")
        #expect(try store.indexedSession(named: "lib") == "aaaa")
        try store.indexName("lib", id: "bbbb")
        #expect(try store.indexedSession(named: "lib") == "bbbb")
        for bad in ["", ".hidden", "-x", "a/b", "../lib", String(repeating: "n", count: 65)] {
            #expect(try store.indexedSession(named: bad) == nil, "\(bad)")
        }
    }

    @Test(arguments: StoreEngines.all)
    func heartbeatsRecordLastSeen(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let before = engine.now()
        try Contract.sessions(store, "aaaa")
        let first = try #require(try store.lastSeen("aaaa"))
        #expect(first >= before - 1_000_000_000 && first <= engine.now() + 1_000_000_000)
        // An engine may skip refreshes within a second of the last one: move past that.
        engine.advance(milliseconds: 1_100)
        try store.touchHeartbeat("aaaa")
        let second = try #require(try store.lastSeen("aaaa"))
        #expect(second > first)
        try store.touchHeartbeat("nobody")
        #expect(try store.lastSeen("nobody") == nil)
    }

    @Test(arguments: StoreEngines.all)
    func listenModesConnectionsAndAwaitedReplies(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "aaaa", "bbbb")
        #expect(try store.listenMode("aaaa") == nil)
        try store.setListenMode("aaaa", .background)
        #expect(try store.listenMode("aaaa") == .background)
        try store.setListenMode("aaaa", .foreground)
        #expect(try store.listenMode("aaaa") == .foreground)
        try store.setListenMode("aaaa", nil)
        #expect(try store.listenMode("aaaa") == nil)

        #expect(try store.connections("aaaa").isEmpty)
        try store.addConnection("aaaa", peer: "bbbb")
        try store.addConnection("aaaa", peer: "bbbb")
        try store.addConnection("aaaa", peer: "cccc")
        #expect(try store.connections("aaaa") == ["bbbb", "cccc"])
        #expect(try store.connections("bbbb").isEmpty)

        let q = Identifiers.messageID()
        #expect(try store.awaiting("aaaa").isEmpty)
        try store.setAwaiting("aaaa", messageID: q, pid: 4242)
        #expect(try store.awaiting("aaaa") == [q: 4242])
        try store.clearAwaiting("aaaa", messageID: q)
        #expect(try store.awaiting("aaaa").isEmpty)
    }

    // MARK: Delivery and pending order

    @Test(arguments: StoreEngines.all)
    func deliveredMessagesArePendingInOrderWithTheSendersCopy(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        var sent: [Message] = []
        for i in 0..<40 {
            let type: MessageType = i % 3 == 0 ? .ping : .query
            let m = Contract.message(from: "asker", to: "lib", type, content: "message \(i) ✓\n\"quoted\"")
            try store.deliver(m)
            sent.append(m)
            // "Oldest first" is to the millisecond: ids made within one millisecond may sort either way.
            Thread.sleep(forTimeInterval: 0.002)
        }
        let ids = sent.map(\.id)
        #expect(try store.inboxSnapshot("lib").pending == ids)
        #expect(try store.inboxSnapshot("lib").claims.isEmpty)
        #expect(try store.pendingMessages("lib") == sent.map { PendingMessage(id: $0.id, message: $0) })
        #expect(try store.messages("lib", .pending) == sent)
        #expect(try store.count("lib", .pending) == 40)
        for m in sent {
            #expect(try store.message("lib", m.id, in: .pending) == m)
            #expect(try store.sentMessage(sender: "asker", id: m.id) == m)
            #expect(try store.deliveryState("lib", m.id) == .delivered(.pending))
            #expect(try store.locate("lib", m.id) == .pending)
        }
        #expect(try store.inboxSnapshot("asker").isEmpty)
        #expect(try store.deliveryState("lib", Identifiers.messageID()) == .absent)
        #expect(try store.locate("lib", Identifiers.messageID()) == nil)
    }

    @Test(arguments: StoreEngines.all)
    func deliveryRefusesUnknownRecipientsAndRepeatedIDs(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        #expect(Contract.errorCode { try store.deliver(Contract.message(from: "asker", to: "nobody")) } == .notFound)
        let m = Contract.message(from: "asker", to: "lib")
        try store.deliver(m)
        #expect(Contract.errorCode { try store.deliver(m) } == .conflict)
        _ = try store.claim("lib", m.id, keepInFlight: false)
        #expect(Contract.errorCode { try store.deliver(m) } == .conflict)
        #expect(try store.count("lib", .pending) == 0)
        #expect(try store.sessionIDs() == ["asker", "lib"])
    }

    /// Content comes back byte for byte, whatever it holds, large content included.
    @Test(arguments: StoreEngines.all)
    func contentComesBackByteForByte(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let contents = [
            "plain", "line one\nline two\r\nthree\r", "\"}]{[\\\"json\":true}", "tabs\tand\u{7f}del\u{1b}[31mred",
            "emoji 🧵 and combining e\u{301} and RTL \u{202e}txet", "\u{2028}\u{2029}\u{feff}", String(repeating: "é", count: 1 << 19),
            "--- \n## Turn 1\n```\n", "   leading and trailing spaces   ",
        ]
        for content in contents {
            let m = Contract.message(from: "asker", to: "lib", .query, content: content)
            try store.deliver(m)
            guard case .claimed(let got) = try store.claim("lib", m.id, keepInFlight: false) else {
                Issue.record("not claimed: \(content.prefix(20))")
                continue
            }
            #expect(got == m && Array(got.content.utf8) == Array(content.utf8) && got.isIntact)
            #expect(try store.sentMessage(sender: "asker", id: m.id)?.content == content)
        }
    }

    /// Registration under the registry lock from many threads: exactly one session gets a contested name.
    @Test(arguments: StoreEngines.all)
    func theRegistryLockMakesANameUnique(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let winners = Collected<String>()
        Contract.onThreads(8) { i in
            let id = "sess\(i)"
            try? store.withRegistryLock { () throws(BridgeError) in
                try bridged { () throws(StoreError) in
                    if let holder = try store.indexedSession(named: "lib"), try store.manifest(holder) != nil { return }
                    try store.createSession(Contract.manifest(id, name: "lib"))
                    usleep(200)
                    try store.indexName("lib", id: id)
                    winners.add(id)
                }
            }
        }
        #expect(winners.values.count == 1)
        #expect(try store.indexedSession(named: "lib") == winners.values.first)
        #expect(try store.sessionIDs() == winners.values)
    }

    /// The same message id delivered from many threads at once: one delivery, every other one a conflict.
    @Test(arguments: StoreEngines.all)
    func concurrentDeliveriesOfOneIDPublishOnce(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let m = Contract.message(from: "asker", to: "lib")
        let outcomes = Collected<StoreError.Code?>()
        Contract.onThreads(8) { _ in outcomes.add(Contract.errorCode { try store.deliver(m) }) }
        #expect(outcomes.values.filter { $0 == nil }.count == 1)
        #expect(outcomes.values.filter { $0 == .conflict }.count == 7)
        #expect(try store.pendingMessages("lib") == [PendingMessage(id: m.id, message: m)])
    }

    // MARK: Claims, exactly once

    @Test(arguments: StoreEngines.all)
    func claimsMoveMessagesThroughTheirStates(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let q = Contract.message(from: "asker", to: "lib", .query)
        let ping = Contract.message(from: "asker", to: "lib", .ping)
        try store.deliver(q)
        try store.deliver(ping)
        let before = engine.now()
        #expect(try store.claim("lib", q.id, keepInFlight: true) == .claimed(q))
        let record = try #require(try store.claimRecord("lib", q.id))
        #expect(record.messageID == q.id && record.delivery == 1)
        #expect(record.claimedAt >= before - 1_000_000_000 && record.claimedAt <= engine.now() + 1_000_000_000)
        #expect(try store.claims("lib") == [record])
        #expect(try store.locate("lib", q.id) == .inFlight)
        #expect(try store.deliveryState("lib", q.id) == .delivered(.inFlight))
        #expect(try store.message("lib", q.id, in: .inFlight) == q)
        #expect(try store.message("lib", q.id, in: .pending) == nil)
        #expect(try store.claim("lib", q.id, keepInFlight: true) == .gone)

        #expect(try store.claim("lib", ping.id, keepInFlight: false) == .claimed(ping))
        #expect(try store.locate("lib", ping.id) == .done)
        #expect(try store.claimRecord("lib", ping.id) == nil)
        #expect(try store.claim("lib", ping.id, keepInFlight: false) == .gone)
        #expect(try store.claim("lib", Identifiers.messageID(), keepInFlight: true) == .gone)

        #expect(try store.finishClaim("lib", record))
        #expect(try !store.finishClaim("lib", record))
        #expect(try store.locate("lib", q.id) == .done)
        #expect(try store.messages("lib", .done).map(\.id).sorted() == [q.id, ping.id].sorted())
        #expect(try store.count("lib", .done) == 2 && store.count("lib", .inFlight) == 0 && store.count("lib", .pending) == 0)

        // A claimed message that takes no reply is finished whatever its claim.
        let note = Contract.message(from: "asker", to: "lib", .response)
        try store.deliver(note)
        _ = try store.claim("lib", note.id, keepInFlight: true)
        #expect(try store.finishInFlight("lib", note.id))
        #expect(try !store.finishInFlight("lib", note.id))
        #expect(try store.locate("lib", note.id) == .done)
    }

    /// Eight claimers on threads of their own over hundreds of messages, while four senders keep delivering: every
    /// message is taken by exactly one claimer, none is left, none is taken twice.
    @Test(arguments: StoreEngines.all)
    func concurrentClaimersTakeEachMessageExactlyOnce(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "s0", "s1", "s2", "s3", "lib")
        let perSender = 100
        let delivered = Collected<Message>()
        let taken = Collected<String>()
        let sendersDone = Collected<Int>()
        let failures = Collected<String>()
        Contract.onThreads(12) { i in
            if i < 4 {
                for n in 0..<perSender {
                    let m = Contract.message(from: "s\(i)", to: "lib", n % 2 == 0 ? .query : .ping, content: "s\(i) #\(n)")
                    do throws(StoreError) { try store.deliver(m); delivered.add(m) } catch { failures.add("deliver: \(error)") }
                }
                sendersDone.add(i)
                return
            }
            while true {
                let finished = sendersDone.values.count == 4
                let pending: [String]
                do throws(StoreError) { pending = try store.inboxSnapshot("lib").pending } catch { failures.add("snapshot: \(error)"); return }
                if pending.isEmpty && finished { return }
                // Each claimer walks the pending list from a different place, to collide as much as possible.
                let rotated = pending.isEmpty ? [] : Array(pending[(i % pending.count)...] + pending[..<(i % pending.count)])
                for id in rotated {
                    switch Result(catching: { () throws(StoreError) in try store.claim("lib", id, keepInFlight: i % 2 == 0) }) {
                    case .success(.claimed(let m)): taken.add(m.id)
                    case .success(.gone): break
                    case .success(.malformed(let reason)): failures.add("malformed \(id): \(reason)")
                    case .failure(let error): failures.add("claim: \(error)")
                    }
                }
            }
        }
        #expect(failures.values.isEmpty, "\(failures.values.prefix(5))")
        let sent = delivered.values
        #expect(sent.count == 4 * perSender)
        #expect(taken.values.count == sent.count, "every message taken once: \(taken.values.count) takes of \(sent.count)")
        #expect(Set(taken.values) == Set(sent.map(\.id)))
        #expect(try store.count("lib", .pending) == 0)
        #expect(try store.count("lib", .inFlight) + store.count("lib", .done) == sent.count)
    }

    // MARK: Leases, redelivery, expiry

    @Test(arguments: StoreEngines.all)
    func leasesHoldThenRedeliverThenExpire(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let policy = Contract.policy(leaseMilliseconds: 300, maxDeliveries: 2)
        try Contract.sessions(store, "asker", "lib")
        let q = Contract.message(from: "asker", to: "lib", .query)
        try store.deliver(q)
        #expect(try store.claim("lib", q.id, keepInFlight: true) == .claimed(q))
        let first = try #require(try store.claimRecord("lib", q.id))
        #expect(policy.decide(first, now: engine.now()) == .held(until: first.claimedAt + policy.leaseNanoseconds))

        engine.advance(milliseconds: 350)
        #expect(policy.decide(first, now: engine.now()) == .redeliver)
        #expect(try store.redeliver("lib", first) == .claimed(q))
        let second = try #require(try store.claimRecord("lib", q.id))
        #expect(second.delivery == 2 && second.claimedAt > first.claimedAt)
        #expect(policy.decide(second, now: engine.now()) == .held(until: second.claimedAt + policy.leaseNanoseconds))
        // The old claim is gone: it can be neither taken over again nor finished.
        #expect(try store.redeliver("lib", first) == .gone)
        #expect(try !store.finishClaim("lib", first))
        #expect(try store.claims("lib") == [second])

        engine.advance(milliseconds: 350)
        #expect(policy.decide(second, now: engine.now()) == .expire)
        let expired = DeliveryEvent(event: .expired, by: "lib", byName: "lib")
        #expect(try store.expire("lib", second, query: q, receipt: expired))
        #expect(try !store.expire("lib", second, query: q, receipt: expired))
        #expect(try store.locate("lib", q.id) == .done)
        #expect(try store.claims("lib").isEmpty)
        #expect(try store.events(sender: "asker", messageID: q.id) == [expired])
    }

    /// Many takeovers of one claim whose lease ran out, at once: one wins (delivery + 1), the rest find it gone.
    @Test(arguments: StoreEngines.all)
    func concurrentTakeoversHaveOneWinner(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let (q, record) = try Contract.claimedQuery(store)
        engine.advance(milliseconds: 50)
        let wins = Collected<Int>()
        Contract.onThreads(16) { i in
            if case .claimed? = try? store.redeliver("lib", record) { wins.add(i) }
        }
        #expect(wins.values.count == 1)
        #expect(try store.claimRecord("lib", q.id)?.delivery == 2)
    }

    /// Expiry and a late takeover of the same claim race: exactly one of them happens.
    @Test(arguments: StoreEngines.all)
    func expiryAndTakeoverOfOneClaimAreExclusive(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        for _ in 0..<20 {
            let (q, record) = try Contract.claimedQuery(store)
            let winners = Collected<String>()
            Contract.onThreads(8) { i in
                if i % 2 == 0 {
                    if (try? store.expire("lib", record, query: q, receipt: DeliveryEvent(event: .expired, by: "lib"))) == true { winners.add("expire") }
                } else if case .claimed? = try? store.redeliver("lib", record) {
                    winners.add("redeliver")
                }
            }
            #expect(winners.values.count == 1, "\(winners.values)")
            let expiredReceipts = try store.events(sender: "asker", messageID: q.id).filter { $0.event == .expired }.count
            #expect(expiredReceipts == (winners.values == ["expire"] ? 1 : 0))
        }
    }

    // MARK: Replies

    @Test(arguments: StoreEngines.all)
    func replyAndCompletePublishesTheReplyRecordsTheReceiptAndFinishes(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let (q, record) = try Contract.claimedQuery(store)
        let reply = Contract.reply(to: q)
        let receipt = Contract.answeredReceipt(q)
        try store.withInboxLock("lib") { () throws(BridgeError) in
            try bridged { () throws(StoreError) in
                try store.replyAndComplete("lib", record, query: q, reply: reply, receipt: receipt)
            }
        }
        #expect(try store.locate("lib", q.id) == .done)
        #expect(try store.claims("lib").isEmpty)
        #expect(try store.pendingMessages("asker") == [PendingMessage(id: reply.id, message: reply)])
        #expect(try store.deliveryState("asker", reply.id) == .delivered(.pending))
        #expect(try store.sentMessage(sender: "lib", id: reply.id) == reply)
        #expect(try store.events(sender: "asker", messageID: q.id) == [receipt])
        // A second answer to the same claim is refused and changes nothing.
        #expect(Contract.errorCode {
            try store.replyAndComplete("lib", record, query: q, reply: Contract.reply(to: q, content: "again"), receipt: Contract.answeredReceipt(q))
        } != nil)
        #expect(try store.messages("asker", .pending) == [reply])
        #expect(try store.events(sender: "asker", messageID: q.id).count == 1)
    }

    /// Concurrent repliers to one claimed question, with and without the inbox lock: one answer is published, one
    /// receipt written, the question finished; every other replier fails without a trace.
    @Test(arguments: StoreEngines.all, [true, false])
    func concurrentRepliersAnswerOnce(_ maker: EngineMaker, holdingTheLock: Bool) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        for _ in 0..<10 {
            let (q, record) = try Contract.claimedQuery(store)
            let answered = Collected<Int>()
            Contract.onThreads(8) { i in
                let reply = Contract.reply(to: q, content: "answer \(i)")
                let attempt = { () throws(StoreError) in
                    try store.replyAndComplete("lib", record, query: q, reply: reply, receipt: Contract.answeredReceipt(q))
                }
                if holdingTheLock {
                    let ok = try? store.withInboxLock("lib") { () throws(BridgeError) -> Bool in
                        guard (try? store.claimRecord("lib", q.id)) == record else { return false }
                        try bridged(attempt)
                        return true
                    }
                    if ok == true { answered.add(i) }
                } else if (try? attempt()) != nil {
                    answered.add(i)
                }
            }
            #expect(answered.values.count == 1, "\(answered.values)")
            let replies = try store.messages("asker", .pending).filter { $0.inReplyTo == q.id }
            #expect(replies.count == 1)
            if let winner = answered.values.first { #expect(replies.first?.content == "answer \(winner)") }
            #expect(try store.events(sender: "asker", messageID: q.id).filter { $0.event == .answered }.count == 1)
            #expect(try store.locate("lib", q.id) == .done)
            // The asker takes the answer.
            _ = try store.claim("asker", Identifiers.replyID(for: q.id), keepInFlight: false)
        }
        #expect(try store.claims("lib").isEmpty)
    }

    /// An interrupted reply (the answer published, the receipt and the finish not done): every reader sees the
    /// question as answered (the reply's id is derived from it), no second answer can be published, and the engine's
    /// own check (`doctor --fix`) finishes it.
    @Test(arguments: StoreEngines.all)
    func anInterruptedReplyIsFinishedByTheNextReader(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let policy = Contract.policy(leaseMilliseconds: 60_000, maxDeliveries: 3)
        try Contract.sessions(store, "asker", "lib")
        let (q, record) = try Contract.claimedQuery(store)
        // The replier died right after publishing the answer.
        let reply = Contract.reply(to: q)
        try store.deliver(reply)
        #expect(try store.deliveryState("asker", reply.id) == .delivered(.pending))
        #expect(try store.claimRecord("lib", q.id) == record)
        // A second replier cannot publish another answer, and changes nothing.
        #expect(Contract.errorCode {
            try store.replyAndComplete("lib", record, query: q, reply: Contract.reply(to: q, content: "second"), receipt: Contract.answeredReceipt(q))
        } == .conflict)
        #expect(try store.messages("asker", .pending) == [reply])
        #expect(try store.events(sender: "asker", messageID: q.id).isEmpty)

        let found = store.check(fix: false, policy: policy).filter { $0.subject.contains(q.id) }
        #expect(found.count == 1 && !found[0].repaired, "\(found)")
        let fixed = store.check(fix: true, policy: policy).filter { $0.subject.contains(q.id) }
        #expect(fixed.count == 1 && fixed[0].repaired, "\(fixed)")
        #expect(try store.locate("lib", q.id) == .done)
        #expect(try store.claims("lib").isEmpty)
        #expect(try store.events(sender: "asker", messageID: q.id).map(\.event) == [.answered])
        #expect(try store.messages("asker", .pending) == [reply])
        #expect(store.check(fix: false, policy: policy).filter { $0.subject.contains(q.id) }.isEmpty)
    }

    /// A listener killed after claiming: nothing is lost, the lease brings the question back to the next listener,
    /// and after the last delivery `doctor --fix` expires it, never delivering it again.
    @Test(arguments: StoreEngines.all)
    func aCrashedListenersQuestionComesBackThenExpires(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        let policy = Contract.policy(leaseMilliseconds: 200, maxDeliveries: 2)
        try Contract.sessions(store, "asker", "lib")
        let q = Contract.message(from: "asker", to: "lib", .query)
        try store.deliver(q)
        _ = try store.claim("lib", q.id, keepInFlight: true)
        #expect(store.check(fix: false, policy: policy).isEmpty)
        engine.advance(milliseconds: 250)
        let first = try #require(try store.inboxSnapshot("lib").claims.first)
        #expect(policy.decide(first, now: engine.now()) == .redeliver)
        // Not yet on its last delivery: doctor leaves it to the next listener.
        #expect(store.check(fix: true, policy: policy).filter { $0.subject.contains(q.id) }.isEmpty)
        #expect(try store.redeliver("lib", first) == .claimed(q))
        engine.advance(milliseconds: 250)
        let last = try #require(try store.claimRecord("lib", q.id))
        #expect(last.delivery == 2 && policy.decide(last, now: engine.now()) == .expire)
        let fixed = store.check(fix: true, policy: policy).filter { $0.subject.contains(q.id) }
        #expect(fixed.count == 1 && fixed[0].repaired, "\(fixed)")
        #expect(try store.locate("lib", q.id) == .done)
        #expect(try store.events(sender: "asker", messageID: q.id).map(\.event) == [.expired])
        #expect(try store.redeliver("lib", last) == .gone)
        #expect(store.check(fix: false, policy: policy).isEmpty)
    }

    // MARK: Change signal

    /// A reply reaches an asker blocked on its signal: the wait ends within it, well before its timeout.
    @Test(arguments: StoreEngines.all)
    func aReplyWakesAWaitingAsker(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let (q, record) = try Contract.claimedQuery(store)
        let signal = Handed(try store.changeSignal(.inboxAndReceipts("asker"), alsoWatching: []))
        let woke = Collected<(Bool, Int64)>()
        let waiter = Thread {
            let start = Clock.monotonicNanoseconds()
            var answered = false
            while Clock.monotonicNanoseconds() - start < 10_000_000_000 {
                if (try? store.deliveryState("asker", Identifiers.replyID(for: q.id))) == .delivered(.pending) { answered = true; break }
                _ = signal.value.wait(timeoutMilliseconds: 10_000)
            }
            woke.add((answered, Clock.monotonicNanoseconds() - start))
        }
        waiter.start()
        Thread.sleep(forTimeInterval: 0.2)
        let sentAt = Clock.monotonicNanoseconds()
        try store.replyAndComplete("lib", record, query: q, reply: Contract.reply(to: q), receipt: Contract.answeredReceipt(q))
        while woke.values.isEmpty && Clock.monotonicNanoseconds() - sentAt < 12_000_000_000 { Thread.sleep(forTimeInterval: 0.005) }
        let result = try #require(woke.values.first)
        #expect(result.0)
        // Woken by the reply, not by the 10 s timeout.
        #expect(Clock.monotonicNanoseconds() - sentAt < 3_000_000_000)
    }

    @Test(arguments: StoreEngines.all)
    func aDeliveryWakesAWaitingListenerAndNothingTimesOut(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib", "other")
        let handed = Handed(try store.changeSignal(.inbox("lib"), alsoWatching: []))
        let signal = handed.value
        let start = Clock.monotonicNanoseconds()
        #expect(!signal.wait(timeoutMilliseconds: 150))
        #expect(Clock.monotonicNanoseconds() - start >= 100_000_000)
        // A change made before the wait is not missed.
        try store.deliver(Contract.message(from: "asker", to: "lib"))
        let early = Clock.monotonicNanoseconds()
        #expect(signal.wait(timeoutMilliseconds: 5_000))
        #expect(Clock.monotonicNanoseconds() - early < 2_000_000_000)
        // A delivery while it waits ends the wait.
        let woke = Collected<Int64>()
        let waiter = Thread {
            let t = Clock.monotonicNanoseconds()
            var changed = false
            while !changed && Clock.monotonicNanoseconds() - t < 10_000_000_000 {
                changed = (try? store.count("lib", .pending)) == 2
                    || handed.value.wait(timeoutMilliseconds: 10_000) && (try? store.count("lib", .pending)) == 2
            }
            woke.add(Clock.monotonicNanoseconds())
        }
        waiter.start()
        Thread.sleep(forTimeInterval: 0.2)
        let sentAt = Clock.monotonicNanoseconds()
        try store.deliver(Contract.message(from: "asker", to: "lib"))
        while woke.values.isEmpty && Clock.monotonicNanoseconds() - sentAt < 12_000_000_000 { Thread.sleep(forTimeInterval: 0.005) }
        let wokeAt = try #require(woke.values.first)
        #expect(wokeAt - sentAt < 3_000_000_000)
    }

    // MARK: Receipts

    @Test(arguments: StoreEngines.all)
    func receiptsKeepTheirOrderAndContent(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let q = Contract.message(from: "asker", to: "lib", .query)
        let other = Contract.message(from: "asker", to: "lib", .query)
        let events = [
            DeliveryEvent(event: .claimed, by: "lib", byName: "lib", via: "listen", leaseUntil: Clock.nowISO8601()),
            DeliveryEvent(event: .redelivered, by: "lib", byName: "lib"),
            DeliveryEvent(event: .claimed, by: "lib", byName: "lib \"quoted\" ✓", via: "hook"),
            DeliveryEvent(event: .answered, by: "lib", byName: "lib", via: "reply", replyId: Identifiers.replyID(for: q.id)),
        ]
        #expect(try store.events(sender: "asker", messageID: q.id).isEmpty)
        for e in events { try store.appendEvent(sender: "asker", messageID: q.id, e) }
        try store.appendEvent(sender: "asker", messageID: other.id, DeliveryEvent(event: .quarantined))
        #expect(try store.events(sender: "asker", messageID: q.id) == events)
        #expect(try store.events(sender: "asker", messageID: other.id).map(\.event) == [.quarantined])
        #expect(try store.events(sender: "lib", messageID: q.id).isEmpty)
        #expect(try store.events(sender: "nobody", messageID: q.id).isEmpty)
    }

    /// Receipts appended from many threads: none lost, each thread's own in its order.
    @Test(arguments: StoreEngines.all)
    func concurrentReceiptsAreAllKept(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker")
        let q = Identifiers.messageID()
        Contract.onThreads(8) { i in
            for n in 0..<25 {
                try? store.appendEvent(sender: "asker", messageID: q, DeliveryEvent(event: .claimed, by: "t\(i)", via: "\(n)"))
            }
        }
        let events = try store.events(sender: "asker", messageID: q)
        #expect(events.count == 200)
        for i in 0..<8 {
            #expect(events.filter { $0.by == "t\(i)" }.compactMap { $0.via.flatMap(Int.init) } == Array(0..<25))
        }
    }

    // MARK: Named locks

    @Test(arguments: StoreEngines.all)
    func namedLocksAreExclusiveAndIndependent(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "aaaa", "bbbb")
        let held = try #require(try store.acquire(.listener("aaaa"), ttlMilliseconds: 60_000, wait: false))
        #expect(try store.acquire(.listener("aaaa"), ttlMilliseconds: 60_000, wait: false) == nil)
        let other = try #require(try store.acquire(.listener("bbbb"), ttlMilliseconds: 60_000, wait: false))
        let watcher = try #require(try store.acquire(.watcher(host: "h1"), ttlMilliseconds: 60_000, wait: false))
        #expect(try held.renew())
        held.release()
        let again = try #require(try store.acquire(.listener("aaaa"), ttlMilliseconds: 60_000, wait: false))
        again.release()
        other.release()
        watcher.release()

        // A waiter gets the lock once its holder lets go, not before.
        let first = try #require(try store.acquire(.registry, ttlMilliseconds: 60_000, wait: false))
        let got = Collected<Int64>()
        let waiter = Thread {
            if let lock = try? store.acquire(.registry, ttlMilliseconds: 60_000, wait: true) {
                got.add(Clock.monotonicNanoseconds())
                lock.release()
            }
        }
        waiter.start()
        Thread.sleep(forTimeInterval: 0.2)
        #expect(got.values.isEmpty)
        let releasedAt = Clock.monotonicNanoseconds()
        first.release()
        while got.values.isEmpty && Clock.monotonicNanoseconds() - releasedAt < 10_000_000_000 { Thread.sleep(forTimeInterval: 0.005) }
        let gotAt = try #require(got.values.first)
        #expect(gotAt >= releasedAt && gotAt - releasedAt < 3_000_000_000)
    }

    /// A read-modify-write under the inbox lock from eight threads loses no update.
    @Test(arguments: StoreEngines.all)
    func theInboxLockSerializesItsHolders(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "lib")
        final class Counter: @unchecked Sendable { var value = 0; var inside = 0; var overlapped = false }
        let counter = Counter()
        Contract.onThreads(8) { _ in
            for _ in 0..<20 {
                try? store.withInboxLock("lib") { () throws(BridgeError) in
                    counter.inside += 1
                    if counter.inside > 1 { counter.overlapped = true }
                    let v = counter.value
                    usleep(100)
                    counter.value = v + 1
                    counter.inside -= 1
                }
            }
        }
        #expect(counter.value == 160 && !counter.overlapped)
    }

    @Test(arguments: StoreEngines.all)
    func aLockWhoseHolderNeverReleasesItEndsWithItsTTL(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        guard engine.locksExpireByTTL else { try Test.cancel("\(engine.name) locks end with their holder's process, not by TTL") }
        let store = engine.store
        let lost = try #require(try store.acquire(.listener("aaaa"), ttlMilliseconds: 300, wait: false))
        #expect(try store.acquire(.listener("aaaa"), ttlMilliseconds: 300, wait: false) == nil)
        engine.advance(milliseconds: 400)
        let taker = try #require(try store.acquire(.listener("aaaa"), ttlMilliseconds: 60_000, wait: false))
        #expect(try !lost.renew())
        lost.release()   // releasing a lost lock leaves the new holder alone
        #expect(try store.acquire(.listener("aaaa"), ttlMilliseconds: 300, wait: false) == nil)
        #expect(try taker.renew())
        taker.release()
        // A waiter gets an abandoned lock when its TTL runs out.
        _ = try #require(try store.acquire(.registry, ttlMilliseconds: 300, wait: false))
        let got = Collected<Bool>()
        let waiter = Thread {
            if let lock = try? store.acquire(.registry, ttlMilliseconds: 60_000, wait: true) { got.add(true); lock.release() }
        }
        waiter.start()
        Thread.sleep(forTimeInterval: 0.1)
        engine.advance(milliseconds: 400)
        let t = Clock.monotonicNanoseconds()
        while got.values.isEmpty && Clock.monotonicNanoseconds() - t < 10_000_000_000 { Thread.sleep(forTimeInterval: 0.005) }
        #expect(got.values == [true])
    }

    // MARK: Snapshots

    /// The one-call snapshots say exactly what the detailed reads say.
    @Test(arguments: StoreEngines.all)
    func snapshotsEqualTheDetailedReads(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "aaaa", "bbbb", "cccc")
        try store.setListenMode("bbbb", .background)
        var queries: [Message] = []
        for i in 0..<9 {
            let m = Contract.message(from: i % 2 == 0 ? "aaaa" : "cccc", to: i < 6 ? "bbbb" : "aaaa", .query)
            try store.deliver(m)
            queries.append(m)
        }
        _ = try store.claim("bbbb", queries[0].id, keepInFlight: true)
        _ = try store.claim("bbbb", queries[1].id, keepInFlight: false)
        _ = try store.claim("aaaa", queries[7].id, keepInFlight: true)
        let snapshots = try store.sessionSnapshots()
        #expect(snapshots.map(\.manifest.id) == (try store.sessionIDs()))
        for s in snapshots {
            let id = s.manifest.id
            #expect(s.manifest == (try store.manifest(id)))
            #expect(s.lastSeen == (try store.lastSeen(id)))
            #expect(s.pending == (try store.count(id, .pending)))
            #expect(s.listenMode == (try store.listenMode(id)))
            let inbox = try store.inboxSnapshot(id)
            #expect(inbox.pending == (try store.pendingMessages(id)).map(\.id))
            #expect(inbox.claims == (try store.claims(id)))
            #expect(inbox.pending.count == s.pending)
        }
        #expect(snapshots.first { $0.manifest.id == "bbbb" }?.pending == 4)
        #expect(snapshots.first { $0.manifest.id == "aaaa" }?.pending == 2)
    }

    // MARK: Quarantine and hostile input

    @Test(arguments: StoreEngines.all)
    func malformedPendingMessagesAreQuarantinedNotDelivered(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        guard let plant = engine.plantPending else { try Test.cancel("\(engine.name) cannot hold a malformed message") }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let good = Contract.message(from: "asker", to: "lib")
        try store.deliver(good)
        var tampered = Contract.message(from: "asker", to: "lib", content: "original")
        tampered.content = "changed after the checksum"
        var misaddressed = Contract.message(from: "asker", to: "someone-else")
        misaddressed.to = "someone-else"
        let planted: [(String, [UInt8])] = [
            (Identifiers.messageID(), Array("not json at all".utf8)),
            (Identifiers.messageID(), Array("{\"schema\":1}".utf8)),
            (tampered.id, Array(JSONCoding.string(tampered).utf8)),
            (misaddressed.id, Array(JSONCoding.string(misaddressed).utf8)),
        ]
        for (id, bytes) in planted { plant("lib", id, bytes) }
        let pending = try store.pendingMessages("lib")
        #expect(pending.first { $0.id == good.id }?.message == good)
        // Unreadable ones are listed without a message (a misaddressed one may read, but claiming it quarantines it).
        for (id, _) in planted.prefix(3) { #expect(pending.first { $0.id == id }?.message == nil, "\(id)") }
        for (id, _) in planted {
            guard case .malformed = try store.claim("lib", id, keepInFlight: true) else {
                Issue.record("planted \(id) was not reported malformed")
                continue
            }
            #expect(try store.locate("lib", id) == .quarantined)
            #expect(try store.claimRecord("lib", id) == nil)
        }
        #expect(try store.count("lib", .quarantined) == planted.count)
        #expect(try store.inboxSnapshot("lib").pending == [good.id])
        #expect(try store.claim("lib", good.id, keepInFlight: true) == .claimed(good))
        // A readable message can be moved aside too (its claim failed to read elsewhere).
        try store.quarantine("lib", good.id, from: .inFlight)
        #expect(try store.locate("lib", good.id) == .quarantined)
        #expect(try store.claims("lib").isEmpty)
    }

    /// Ids and keys an adversary might pass: every read answers "nothing there", every claim `.gone`, a delivery
    /// `.notFound`, and nothing is created.
    @Test(arguments: StoreEngines.all)
    func hostileIDsFindNothingAndCreateNothing(_ maker: EngineMaker) throws {
        let engine = try maker.open()
        defer { engine.close() }
        let store = engine.store
        try Contract.sessions(store, "asker", "lib")
        let q = Contract.message(from: "asker", to: "lib")
        try store.deliver(q)
        let hostile = ["", ".", "..", "../lib", "lib/../lib", "/etc/passwd", "lib/inbox", String(repeating: "a", count: 65),
                       "a\u{0}b", "a\nb", "*", "lib*", "  lib", "LIB\u{301}"]
        for bad in hostile {
            #expect(try store.manifest(bad) == nil, "\(bad)")
            #expect(try store.lastSeen(bad) == nil)
            #expect(try store.inboxSnapshot(bad).isEmpty)
            #expect(try store.pendingMessages(bad).isEmpty)
            #expect(try store.messages(bad, .done).isEmpty)
            #expect(try store.count(bad, .pending) == 0)
            #expect(try store.claims(bad).isEmpty)
            #expect(try store.events(sender: bad, messageID: q.id).isEmpty)
            #expect(try store.events(sender: "asker", messageID: bad).isEmpty)
            #expect(try store.sentMessage(sender: bad, id: q.id) == nil)
            #expect(try store.sentMessage(sender: "asker", id: bad) == nil)
            #expect(try store.message("lib", bad, in: .pending) == nil)
            #expect(try store.locate("lib", bad) == nil)
            #expect(try store.deliveryState("lib", bad) == .absent)
            #expect(try store.deliveryState(bad, q.id) == .absent)
            #expect(try store.claimRecord("lib", bad) == nil)
            #expect(try store.claim("lib", bad, keepInFlight: true) == .gone)
            #expect(try store.claim(bad, q.id, keepInFlight: true) == .gone)
            #expect(try store.awaiting(bad).isEmpty)
            #expect(try store.connections(bad).isEmpty)
            #expect(Contract.errorCode { try store.deliver(Contract.message(from: "asker", to: bad)) } == .notFound)
        }
        #expect(try store.sessionIDs() == ["asker", "lib"])
        #expect(try store.pendingMessages("lib") == [PendingMessage(id: q.id, message: q)])
    }
}

extension SessionManifest {
    func with(startedAt: String, lastSeen: String) -> SessionManifest {
        var m = self
        m.startedAt = startedAt
        m.lastSeen = lastSeen
        return m
    }
}
