import Foundation
import Testing
@testable import SessionBridge

/// Crash consistency of the message store with real processes: SIGKILL at every step of send, claim, reply, lease
/// takeover and expiry (the binary stops itself at a step with SESSION_BRIDGE_CRASH_AT), then a fresh process must
/// find every acknowledged question answerable, or answered and delivered to the asker, exactly once; and random
/// kills of concurrent senders, listeners and repliers lose nothing and deliver nothing twice.
@Suite(.serialized) struct FaultInjectionTests {
    /// A store with two sessions, `lib` (key lib-key) and `app` (key app-key).
    func setUp(_ extra: [String: String] = [:]) throws -> String {
        let root = makeTempDir("sbfault")
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key", extra: extra).status == 0)
        #expect(try CLI.run(["start", "--name", "app"], root: root, key: "app-key", extra: extra).status == 0)
        return root
    }

    func crashing(_ point: String, _ extra: [String: String] = [:]) -> [String: String] {
        extra.merging(["SESSION_BRIDGE_CRASH_AT": point]) { _, new in new }
    }

    /// `doctor --fix` repairs what the crash left, after which `doctor` reports a clean store.
    func expectDoctorCleanAfterFix(_ root: String, _ extra: [String: String] = [:], _ context: String) throws {
        let fix = try CLI.run(["doctor", "--fix", "--json"], root: root, key: "app-key", extra: extra)
        #expect(fix.status == 0, "\(context): doctor --fix: \(fix.stdout) \(fix.stderr)")
        let check = try CLI.run(["doctor", "--json"], root: root, key: "app-key", extra: extra)
        #expect(check.status == 0, "\(context): doctor after --fix: \(check.stdout) \(check.stderr)")
    }

    func ask(_ root: String, _ text: String, extra: [String: String] = [:]) throws -> String {
        let r = try CLI.run(["ask", "lib", text], root: root, key: "app-key", extra: extra)
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func messageID(fromJSON text: String) -> String? {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["id"] as? String
    }

    func content(fromJSON text: String) -> String? {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["content"] as? String
    }

    /// After a crash of `reply`: a second reply either answers or says it was answered; the asker gets exactly the
    /// answer that counted, once; the status says answered; doctor is clean after --fix.
    func expectAnswerable(_ root: String, _ q: String, _ extra: [String: String], _ context: String) throws {
        let second = try CLI.run(["reply", q, "second"], root: root, key: "lib-key", extra: extra)
        #expect(second.status == 0 || second.status == 12, "\(context): second reply: \(second.status) \(second.stderr)")
        let answer = try CLI.run(["await", q, "--timeout", "10", "--json"], root: root, key: "app-key", extra: extra)
        #expect(answer.status == 0, "\(context): await: \(answer.status) \(answer.stderr)")
        let expected = second.status == 0 ? "second" : "first"
        #expect(content(fromJSON: answer.stdout) == expected, "\(context): got \(answer.stdout)")
        // Nothing else arrives: the reply was delivered once.
        let more = try CLI.run(["listen", "--timeout", "0.2", "--json"], root: root, key: "app-key", extra: extra)
        #expect(more.status == 10, "\(context): a second delivery: \(more.stdout)")
        let status = try CLI.run(["status", q, "--json"], root: root, key: "app-key", extra: extra)
        #expect(status.stdout.contains("\"state\":\"answered\"") || status.stdout.contains("\"state\" : \"answered\""),
                "\(context): status \(status.stdout)")
        try expectDoctorCleanAfterFix(root, extra, context)
    }

    // MARK: Every step

    @Test(arguments: ["deliver:0", "deliver:1", "deliver:2", "deliver:3"])
    func askKilledAtEveryStepLeavesAConsistentStore(_ point: String) throws {
        let root = try setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try CLI.run(["ask", "lib", "question"], root: root, key: "app-key", extra: crashing(point))
        #expect(r.status != 0, "\(point): the ask was not killed")
        // The question is either delivered once, or not at all (the ask was never acknowledged).
        let first = try CLI.run(["listen", "--timeout", "0.3", "--json"], root: root, key: "lib-key")
        let second = try CLI.run(["listen", "--timeout", "0.3", "--json"], root: root, key: "lib-key")
        #expect(!(first.status == 0 && second.status == 0), "\(point): delivered twice")
        if point == "deliver:3" { #expect(first.status == 0, "\(point): published before the crash, so delivered") }
        if first.status == 0, let q = messageID(fromJSON: first.stdout) {
            #expect(try CLI.run(["reply", q, "answer"], root: root, key: "lib-key").status == 0)
            let answer = try CLI.run(["await", q, "--timeout", "5", "--json"], root: root, key: "app-key")
            #expect(answer.status == 0 && content(fromJSON: answer.stdout) == "answer", "\(point): \(answer.stderr)")
        }
        try expectDoctorCleanAfterFix(root, [:], point)
    }

    /// `reply` killed at every step of its own sequence and of the reply's publication, with the question claimed
    /// by a listener first, or still pending (a reply without listen claims it itself).
    @Test(arguments: ["deliver:0", "deliver:1", "deliver:2", "deliver:3", "reply:1", "reply:2", "reply:3", "reply:4"], [true, false])
    func replyKilledAtEveryStepLosesNoAnswer(_ point: String, listenFirst: Bool) throws {
        if point == "reply:1" && listenFirst { return }   // step 1 is the claim of a still-pending question
        let root = try setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let q = try ask(root, "question")
        if listenFirst { #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key").status == 0) }
        let killed = try CLI.run(["reply", q, "first"], root: root, key: "lib-key", extra: crashing(point))
        #expect(killed.status != 0, "\(point): the reply was not killed")
        try expectAnswerable(root, q, [:], "\(point) listenFirst=\(listenFirst)")
    }

    /// `doctor` alone (no second reply) finds a reply interrupted after its answer went out, and finishes it.
    @Test(arguments: ["deliver:1", "deliver:2", "deliver:3", "reply:2", "reply:3"])
    func doctorFinishesAnInterruptedReply(_ point: String) throws {
        let root = try setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let q = try ask(root, "question")
        #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["reply", q, "first"], root: root, key: "lib-key", extra: crashing(point)).status != 0)
        let report = try CLI.run(["doctor", "--json"], root: root, key: "app-key")
        #expect(report.status == 13 && report.stdout.contains("interrupted reply"), "\(point): \(report.stdout)")
        try expectDoctorCleanAfterFix(root, [:], point)
        let answer = try CLI.run(["await", q, "--timeout", "5", "--json"], root: root, key: "app-key")
        #expect(answer.status == 0 && content(fromJSON: answer.stdout) == "first", "\(point): \(answer.stderr)")
        let again = try CLI.run(["reply", q, "second"], root: root, key: "lib-key")
        #expect(again.status == 12 && again.stderr.contains("already answered"), "\(point): \(again.stderr)")
    }

    /// The asker waits while the replier dies mid-reply: the waiting `ask --wait` still gets the answer.
    @Test(arguments: ["deliver:1", "deliver:2", "reply:2", "reply:3"])
    func waitingAskGetsTheAnswerOfAKilledReply(_ point: String) throws {
        let root = try setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let waiter = try CLI.start(["ask", "lib", "question", "--wait", "20", "--json"], root: root, key: "app-key")
        let heard = try CLI.run(["listen", "--timeout", "10", "--json"], root: root, key: "lib-key")
        let q = try #require(messageID(fromJSON: heard.stdout))
        _ = try CLI.run(["reply", q, "first"], root: root, key: "lib-key", extra: crashing(point))
        let r = CLI.finish(waiter)
        #expect(r.status == 0 && content(fromJSON: r.stdout) == "first", "\(point): \(r.status) \(r.stdout) \(r.stderr)")
        try expectDoctorCleanAfterFix(root, [:], point)
    }

    /// `listen` killed right after its claim, and after the claim's receipt: the question comes back after the lease.
    @Test(arguments: ["claim:1", "claim:2"])
    func listenKilledAfterClaimRedeliversAfterTheLease(_ point: String) throws {
        let extra = ["SESSION_BRIDGE_LEASE_SECONDS": "1"]
        let root = try setUp(extra)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let q = try ask(root, "question", extra: extra)
        let killed = try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key", extra: crashing(point, extra))
        #expect(killed.status != 0)
        let again = try CLI.run(["listen", "--timeout", "5", "--json"], root: root, key: "lib-key", extra: extra)
        #expect(again.status == 0 && messageID(fromJSON: again.stdout) == q, "\(point): \(again.stderr)")
        #expect(try CLI.run(["reply", q, "answer"], root: root, key: "lib-key", extra: extra).status == 0)
        let answer = try CLI.run(["await", q, "--timeout", "5", "--json"], root: root, key: "app-key", extra: extra)
        #expect(answer.status == 0 && content(fromJSON: answer.stdout) == "answer")
        try expectDoctorCleanAfterFix(root, extra, point)
    }

    /// A reply shown by `listen` or by the PostToolUse hook, the process killed after writing it out and before
    /// finishing its claim: the reply is not lost but delivered again after the lease, then finished, and only once more.
    @Test(arguments: ["listen", "hook"])
    func killedBetweenShowingAReplyAndFinishingItRedeliversIt(_ path: String) throws {
        let extra = ["SESSION_BRIDGE_LEASE_SECONDS": "1"]
        let root = try setUp(extra)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let q = try ask(root, "question", extra: extra)
        #expect(try CLI.run(["reply", q, "the answer"], root: root, key: "lib-key", extra: extra).status == 0)
        let hookInput = Data(#"{"session_id":"app-key","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#.utf8)
        func show(_ env: [String: String]) throws -> Run {
            path == "listen"
                ? try CLI.run(["listen", "--timeout", "3", "--json"], root: root, key: "app-key", extra: env)
                : try CLI.run(["hook", "post-tool-use"], root: root, key: "app-key", stdin: hookInput, extra: env)
        }
        let killed = try show(crashing("shown:1", extra))
        #expect(killed.status != 0, "\(path): not killed")
        #expect(killed.stdout.contains("the answer"), "\(path): the reply was not written out before the kill: \(killed.stdout)")
        Thread.sleep(forTimeInterval: 1.2)
        let again = try show(extra)
        #expect(again.status == 0 && again.stdout.contains("the answer"), "\(path): not delivered again: \(again.stdout) \(again.stderr)")
        Thread.sleep(forTimeInterval: 1.2)
        let after = try show(extra)
        #expect(!after.stdout.contains("the answer"), "\(path): delivered a third time: \(after.stdout)")
        try expectDoctorCleanAfterFix(root, extra, path)
    }

    /// A lease takeover (redelivery) killed at each of its steps: the question is delivered again later, once.
    @Test(arguments: ["lease:1", "lease:2", "lease:3"])
    func redeliveryKilledAtEveryStepStillDelivers(_ point: String) throws {
        let extra = ["SESSION_BRIDGE_LEASE_SECONDS": "1", "SESSION_BRIDGE_MAX_DELIVERIES": "5"]
        let root = try setUp(extra)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let q = try ask(root, "question", extra: extra)
        #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key", extra: extra).status == 0)
        Thread.sleep(forTimeInterval: 1.1)
        let killed = try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key", extra: crashing(point, extra))
        #expect(killed.status != 0, "\(point): the takeover was not killed")
        let again = try CLI.run(["listen", "--timeout", "5", "--json"], root: root, key: "lib-key", extra: extra)
        #expect(again.status == 0 && messageID(fromJSON: again.stdout) == q, "\(point): \(again.stderr)")
        #expect(try CLI.run(["reply", q, "answer"], root: root, key: "lib-key", extra: extra).status == 0)
        let answer = try CLI.run(["await", q, "--timeout", "5", "--json"], root: root, key: "app-key", extra: extra)
        #expect(answer.status == 0 && content(fromJSON: answer.stdout) == "answer")
        try expectDoctorCleanAfterFix(root, extra, point)
    }

    /// Expiry killed between its receipt and its move: the question is not delivered again, and doctor is clean.
    @Test func expiryKilledBeforeItsMoveIsNotRedelivered() throws {
        let extra = ["SESSION_BRIDGE_LEASE_SECONDS": "1", "SESSION_BRIDGE_MAX_DELIVERIES": "1"]
        let root = try setUp(extra)
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try ask(root, "question", extra: extra)
        #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key", extra: extra).status == 0)
        Thread.sleep(forTimeInterval: 1.1)
        let killed = try CLI.run(["listen", "--timeout", "0.5"], root: root, key: "lib-key", extra: crashing("expire:1", extra))
        #expect(killed.status != 0)
        let again = try CLI.run(["listen", "--timeout", "0.5"], root: root, key: "lib-key", extra: extra)
        #expect(again.status == 10, "an expired question came back: \(again.stdout)")
        try expectDoctorCleanAfterFix(root, extra, "expire:1")
    }

    func state(_ root: String, _ q: String, _ extra: [String: String]) throws -> String? {
        let r = try CLI.run(["status", q, "--json"], root: root, key: "app-key", extra: extra)
        guard let data = r.stdout.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["state"] as? String
    }

    func expiredReceipts(_ root: String, _ q: String) -> Int {
        let text = (try? String(contentsOfFile: root + "/sessions/app-key/receipts/\(q).log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("\"expired\"") }.count
    }

    /// Expiry killed at its one step (after the receipt, before the move): the asker sees "expired" at once, a late
    /// reply is refused as expired, the receipt is written once, and doctor finishes the move.
    @Test func expiryKilledMidwaySaysExpiredAndDoctorFinishesIt() throws {
        let extra = ["SESSION_BRIDGE_LEASE_SECONDS": "1", "SESSION_BRIDGE_MAX_DELIVERIES": "1"]
        let root = try setUp(extra)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let q = try ask(root, "question", extra: extra)
        #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key", extra: extra).status == 0)
        Thread.sleep(forTimeInterval: 1.1)
        let killed = try CLI.run(["inbox", "--json"], root: root, key: "lib-key", extra: crashing("expire:1", extra))
        #expect(killed.status != 0, "the expiry was not killed")
        #expect(expiredReceipts(root, q) == 1)
        // The claim is still there; doctor names it before anything else settles it.
        let report = try CLI.run(["doctor", "--json"], root: root, key: "app-key", extra: extra)
        #expect(report.status == 13 && report.stdout.contains(q), "doctor does not see the interrupted expiry: \(report.stdout)")
        try expectDoctorCleanAfterFix(root, extra, "expire:1")
        #expect(try state(root, q, extra) == "expired")
        #expect(FileManager.default.fileExists(atPath: root + "/sessions/lib-key/inbox/done/\(q).json"))
        let late = try CLI.run(["reply", q, "too late"], root: root, key: "lib-key", extra: extra)
        #expect(late.status != 0 && late.stderr.contains("expired"), "\(late.status) \(late.stderr)")
        #expect(expiredReceipts(root, q) == 1, "the expired receipt was written again")
    }

    /// The state an expiry interrupted between its move and its receipt left in stores written before the receipt
    /// came first: a query in done/ with no reply and no receipt. doctor reports it and writes the receipt, after
    /// which the asker sees "expired", not "done".
    @Test func doctorFinishesAnExpiryInterruptedAfterItsMove() throws {
        let extra = ["SESSION_BRIDGE_LEASE_SECONDS": "600"]
        let root = try setUp(extra)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let q = try ask(root, "question", extra: extra)
        let answered = try ask(root, "another", extra: extra)
        #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key", extra: extra).status == 0)
        #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key", extra: extra).status == 0)
        #expect(try CLI.run(["reply", answered, "yes"], root: root, key: "lib-key", extra: extra).status == 0)
        let claimed = root + "/sessions/lib-key/inbox/claimed"
        let record = try #require(try FileManager.default.contentsOfDirectory(atPath: claimed).first { $0.hasPrefix(q + ".") })
        #expect(rename(claimed + "/" + record, root + "/sessions/lib-key/inbox/done/\(q).json") == 0)
        let report = try CLI.run(["doctor", "--json"], root: root, key: "app-key", extra: extra)
        #expect(report.status == 13 && report.stdout.contains(q), "doctor does not see the interrupted expiry: \(report.stdout)")
        #expect(!report.stdout.contains(answered), "an answered question is reported: \(report.stdout)")
        try expectDoctorCleanAfterFix(root, extra, "expire, old order")
        #expect(try state(root, q, extra) == "expired")
        #expect(try state(root, answered, extra) == "answered")
        #expect(expiredReceipts(root, q) == 1)
    }

    // MARK: Random kills

    final class Tally: @unchecked Sendable {
        let lock = NSLock()
        var acknowledged: [String] = []
        var deliveries: [String: Int] = [:]
        /// Each delivery of a question: when its listen started and when it returned (seconds since the reference date).
        var deliveryTimes: [String: [(start: Double, end: Double)]] = [:]
        /// When a reply to the question was first acknowledged.
        var answeredAt: [String: Double] = [:]
        var answered: Set<String> = []
        var kills = 0
        var sendersLeft = 0
        var failures: [String] = []
        func with<T>(_ body: (Tally) -> T) -> T { lock.lock(); defer { lock.unlock() }; return body(self) }
    }

    /// Runs the binary, killing it with SIGKILL after a random delay with probability `killChance`.
    static func runMaybeKilled(_ args: [String], root: String, key: String, extra: [String: String], killChance: Double,
                               tally: Tally) -> (status: Int32, stdout: String, killed: Bool) {
        guard let handle = try? CLI.start(args, root: root, key: key, extra: extra) else { return (-1, "", false) }
        var killed = false
        if Double.random(in: 0..<1) < killChance {
            usleep(UInt32.random(in: 0...20_000))
            if handle.0.isRunning {
                kill(handle.0.processIdentifier, SIGKILL)
                killed = true
                tally.with { $0.kills += 1 }
            }
        }
        let r = CLI.finish(handle)
        return (r.status, r.stdout, killed && r.status != 0)
    }

    /// One batch: 2 senders and 3 listeners (each answering what it hears) on one store, every process killed at a
    /// random instant with some probability and retried; then every acknowledged question must have been answered
    /// and its answer be waiting for the asker, no question printed by two listens, and doctor clean after --fix.
    static func batch(questions: Int, tally: Tally) throws {
        let extra = ["SESSION_BRIDGE_LEASE_SECONDS": "3", "SESSION_BRIDGE_MAX_DELIVERIES": "1000"]
        let root = makeTempDir("sbrandom")
        defer { try? FileManager.default.removeItem(atPath: root) }
        guard try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key", extra: extra).status == 0,
              try CLI.run(["start", "--name", "app"], root: root, key: "app-key", extra: extra).status == 0 else {
            tally.with { $0.failures.append("start failed") }
            return
        }
        let local = Tally()
        local.sendersLeft = 2
        let group = DispatchGroup()
        for s in 0..<2 {
            group.enter()
            Thread {
                for i in 0..<(questions / 2) {
                    let r = runMaybeKilled(["ask", "lib", "q-\(s)-\(i)"], root: root, key: "app-key", extra: extra, killChance: 0.45, tally: tally)
                    if r.status == 0 { local.with { $0.acknowledged.append(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) } }
                }
                local.with { $0.sendersLeft -= 1 }
                group.leave()
            }.start()
        }
        let deadline = Date().addingTimeInterval(90)
        let finished: @Sendable () -> Bool = {
            local.with { t in t.sendersLeft == 0 && t.acknowledged.allSatisfy { t.answered.contains($0) } }
        }
        for _ in 0..<3 {
            group.enter()
            Thread {
                while !finished() && Date() < deadline {
                    let listenStart = Date().timeIntervalSinceReferenceDate
                    let heard = runMaybeKilled(["listen", "--timeout", "1", "--json"], root: root, key: "lib-key", extra: extra,
                                               killChance: 0.4, tally: tally)
                    guard heard.status == 0, let data = heard.stdout.data(using: .utf8),
                          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                          let id = object["id"] as? String else { continue }
                    let listenEnd = Date().timeIntervalSinceReferenceDate
                    local.with {
                        $0.deliveries[id, default: 0] += 1
                        $0.deliveryTimes[id, default: []].append((listenStart, listenEnd))
                    }
                    while Date() < deadline {
                        let r = runMaybeKilled(["reply", id, "answer to \(id)"], root: root, key: "lib-key", extra: extra,
                                               killChance: 0.45, tally: tally)
                        if r.status == 0 || r.status == 12 {
                            let at = Date().timeIntervalSinceReferenceDate
                            local.with { t in
                                _ = t.answered.insert(id)
                                if r.status == 0, t.answeredAt[id].map({ at < $0 }) ?? true { t.answeredAt[id] = at }
                            }
                            break
                        }
                        if !r.killed { local.with { $0.failures.append("reply \(id): exit \(r.status)") }; break }
                    }
                }
                group.leave()
            }.start()
        }
        group.wait()
        var failures = local.failures
        for id in local.acknowledged {
            if !local.answered.contains(id) { failures.append("acknowledged question \(id) was never delivered and answered") }
            let r = try CLI.run(["await", id, "--timeout", "5", "--json"], root: root, key: "app-key", extra: extra)
            if r.status != 0 || !r.stdout.contains("answer to \(id)") {
                failures.append("answer to acknowledged question \(id) lost: exit \(r.status) \(r.stderr)")
            }
        }
        // A question may come back only as a redelivery: after its lease ran out (the lease starts no earlier than
        // the listen that took it) and while it is still unanswered. Two deliveries inside one lease, or one after
        // an acknowledged answer, are a question delivered twice.
        let lease = Double(extra["SESSION_BRIDGE_LEASE_SECONDS"] ?? "") ?? 0
        for (id, times) in local.deliveryTimes where times.count > 1 {
            let ordered = times.sorted { $0.end < $1.end }
            for (earlier, later) in zip(ordered, ordered.dropFirst()) where later.end < earlier.start + lease {
                failures.append("question \(id) delivered twice within one lease (\(times.count) deliveries)")
            }
            if let answeredAt = local.answeredAt[id], ordered.contains(where: { $0.start > answeredAt }) {
                failures.append("question \(id) delivered again after its answer was acknowledged")
            }
        }
        let fix = try CLI.run(["doctor", "--fix", "--json"], root: root, key: "app-key", extra: extra)
        let check = try CLI.run(["doctor", "--json"], root: root, key: "app-key", extra: extra)
        if fix.status != 0 || check.status != 0 { failures.append("doctor not clean after --fix: \(fix.stdout) / \(check.stdout)") }
        tally.with { t in
            t.acknowledged += local.acknowledged
            t.failures += failures
            for (k, v) in local.deliveries { t.deliveries[k, default: 0] += v }
        }
    }

    /// At least 500 random SIGKILLs across concurrent senders, listeners and repliers.
    @Test func randomKillsLoseNothingAndDeliverNothingTwice() throws {
        let tally = Tally()
        let batches = 8
        let parallel = 4
        let group = DispatchGroup()
        let errors = Tally()
        // Batches run four at a time until the kill count is reached (each kill is one trial).
        var started = 0
        while tally.with({ $0.kills }) < 500 && started < 40 {
            for _ in 0..<parallel {
                started += 1
                group.enter()
                Thread {
                    do { try Self.batch(questions: 60, tally: tally) } catch { errors.with { $0.failures.append("\(error)") } }
                    group.leave()
                }.start()
            }
            group.wait()
            if started >= batches && tally.with({ $0.kills }) >= 500 { break }
        }
        print("random kills: \(tally.kills) SIGKILLs, \(tally.acknowledged.count) acknowledged questions, "
            + "\(tally.deliveries.count) delivered, \(tally.failures.count) failures")
        #expect(errors.failures.isEmpty, "\(errors.failures)")
        #expect(tally.kills >= 500, "only \(tally.kills) kills")
        #expect(!tally.acknowledged.isEmpty)
        #expect(tally.failures.isEmpty, "\(tally.failures.count) failures in \(tally.kills) kills: \(tally.failures.prefix(10))")
    }
}
