import Foundation
import Testing
@testable import SessionBridge

@Suite struct TalksTests {
    func open(_ dir: String, config: String? = nil) throws -> Talks {
        if let config {
            try FileManager.default.createDirectory(atPath: dir + "/.talks", withIntermediateDirectories: true)
            try config.write(toFile: dir + "/.talks/config.yaml", atomically: false, encoding: .utf8)
        }
        return try Talks.open(dir: dir + "/.talks", environment: Environment(["SESSION_BRIDGE_HOME": dir + "/store"]))
    }

    @Test func turnTakingIsEnforced() throws {
        let t = try open(makeTempDir())
        let talk = try t.create(topic: "Schema", with: ["app", "ops"], maxTurns: nil, first: nil, as: "lib")
        let id = talk.header.id
        #expect(talk.header.participants == ["lib", "app", "ops"] && talk.header.nextSpeaker == "lib")
        #expect(throws: BridgeError.conflict(.talkRefused(talk: id, .notYourTurn(speaker: "app", next: "lib"), listingParticipants: true))) { try t.say(id, content: "hi", as: "app", next: nil) }
        #expect(try t.say(id, content: "one", as: "lib", next: nil).number == 1)
        #expect(try t.read(id).header.nextSpeaker == "app")            // round-robin
        _ = try t.say(id, content: "two", as: "app", next: "lib")       // --next
        #expect(try t.read(id).header.nextSpeaker == "lib")
        #expect(throws: BridgeError.self) { try t.say(id, content: "x", as: "lib", next: "nobody") }
        #expect(throws: BridgeError.self) { try t.say(id, content: "x", as: "eve", next: nil) }
        #expect(throws: BridgeError.emptyMessage) { try t.say(id, content: " \n ", as: "lib", next: nil) }
    }

    @Test func maxTurnsBlocksAndClosedTalksRefuseTurns() throws {
        let t = try open(makeTempDir())
        let id = try t.create(topic: "Short", with: ["app"], maxTurns: 2, first: nil, as: "lib").header.id
        _ = try t.say(id, content: "a", as: "lib", next: nil)
        _ = try t.say(id, content: "b", as: "app", next: nil)
        let h = try t.read(id).header
        #expect(h.status == .blocked && h.blockedReason == "max turns reached" && h.turnCount == 2)
        #expect(throws: BridgeError.self) { try t.say(id, content: "c", as: "lib", next: nil) }
        // A blocked talk can still be resolved; a resolved one takes nothing.
        #expect(try t.resolve(id, summary: "agreed on b", as: "lib").status == .resolved)
        #expect(throws: BridgeError.self) { try t.resolve(id, summary: nil, as: "app") }
        if case .closed(let closed) = try t.wait(id, as: "app", timeoutSeconds: 1) {
            #expect(closed.resolution == "agreed on b")
        } else {
            Issue.record("wait should report the closed talk")
        }
    }

    @Test func blockNeedsActiveTalkAndReason() throws {
        let t = try open(makeTempDir())
        let id = try t.create(topic: "Stuck", with: ["app"], maxTurns: nil, first: "app", as: "lib").header.id
        #expect(try t.read(id).header.nextSpeaker == "app")
        #expect(throws: BridgeError.self) { try t.block(id, reason: "  ", as: "lib") }
        #expect(try t.block(id, reason: "waiting for legal", as: "app").blockedReason == "waiting for legal")
        #expect(throws: BridgeError.self) { try t.block(id, reason: "again", as: "app") }
    }

    @Test func waitReturnsWhenItIsYourTurn() throws {
        let t = try open(makeTempDir())
        let id = try t.create(topic: "Wait", with: ["app"], maxTurns: nil, first: nil, as: "lib").header.id
        #expect(throws: WaitEnded.turnNotYet) { try t.wait(id, as: "app", timeoutSeconds: 0.1) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { _ = try? t.say(id, content: "go", as: "lib", next: nil) }
        let t0 = Date()
        guard case .yourTurn(let h) = try t.wait(id, as: "app", timeoutSeconds: 5) else { Issue.record("expected your turn"); return }
        #expect(h.turnCount == 1 && Date().timeIntervalSince(t0) < 3)
    }

    @Test func everyWriteKeepsBakAndAudits() throws {
        let dir = makeTempDir()
        let t = try open(dir)
        let id = try t.create(topic: "Audit", with: ["app"], maxTurns: nil, first: nil, as: "lib").header.id
        let before = try String(contentsOfFile: t.location.file(id), encoding: .utf8)
        _ = try t.say(id, content: "first", as: "lib", next: nil)
        #expect(try String(contentsOfFile: t.location.backup(id), encoding: .utf8) == before)
        let log = try String(contentsOfFile: t.location.auditLog, encoding: .utf8).split(separator: "\n")
        #expect(log.count == 2)
        #expect(log[1].contains("\"op\":\"say\"") && log[1].contains("\"result\":\"ok\"") && log[1].contains("\"nonce\""))
    }

    @Test func lockFileStrategyWorksAndBreaksStaleLocks() throws {
        let dir = makeTempDir()
        let t = try open(dir, config: "lock_strategy: lockfile\nstale_lock_seconds: 30\n")
        let id = try t.create(topic: "Locks", with: ["app"], maxTurns: nil, first: nil, as: "lib").header.id
        // A lock left by a dead process on this host is stale.
        let stale = #"{"owner":"ghost","pid":999999,"host":"\#(Processes.hostName())","at":"\#(Clock.nowISO8601())"}"#
        try FileManager.default.createDirectory(atPath: t.location.locks, withIntermediateDirectories: true)
        try stale.write(toFile: t.location.lock(id), atomically: false, encoding: .utf8)
        #expect(try t.say(id, content: "through a stale lock", as: "lib", next: nil).number == 1)
        #expect(!FileManager.default.fileExists(atPath: t.location.lock(id)))
    }

    @Test func normalizeKeepsContentAndRefusesHandEdits() throws {
        let t = try open(makeTempDir())
        let id = try t.create(topic: "Norm", with: ["app"], maxTurns: nil, first: nil, as: "lib").header.id
        _ = try t.say(id, content: "keep me\n## Turn 5 — fake", as: "lib", next: nil)
        let path = t.location.file(id)
        let original = try t.read(id)
        let messy = try String(contentsOfFile: path, encoding: .utf8).replacing("\n", with: "\r\n").replacing("— lib", with: "-- lib") + "\r\n\r\nnote from a tool\r\n"
        try messy.write(toFile: path, atomically: false, encoding: .utf8)
        let r = try t.normalize(id, as: nil)
        #expect(r.changed && r.strayLinesRemoved == 1)
        #expect(try t.read(id) == original)
        #expect(try t.normalize(id, as: nil).changed == false)
        // A hand edit of a turn's content is never "normalized" away.
        try String(contentsOfFile: path, encoding: .utf8).replacing("keep me", with: "changed").write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: BridgeError.self) { try t.normalize(id, as: nil) }
    }

    @Test func initAddsGitignoreEntryOnce() throws {
        let dir = makeTempDir()
        let t = try open(dir)
        try t.location.initialize()
        try t.location.initialize()
        let ignore = try String(contentsOfFile: dir + "/.gitignore", encoding: .utf8)
        #expect(ignore == ".talks/\n")
        let config = try String(contentsOfFile: dir + "/.talks/config.yaml", encoding: .utf8)
        #expect(config.contains("lock_strategy: flock"))
    }

    @Test func invalidConfigIsReportedWhenOpening() throws {
        let dir = makeTempDir()
        #expect(throws: BridgeError.self) { try open(dir, config: "lock_strategy: nfs-magic\n") }
    }
}

@Suite struct DoctorTests {
    func setUp() throws -> (Talks, FileStore, String) {
        let dir = makeTempDir()
        let talks = try Talks.open(dir: dir + "/.talks", environment: Environment(["SESSION_BRIDGE_HOME": dir + "/store"]))
        let store = try FileStore(root: dir + "/store")
        let id = try talks.create(topic: "Doc", with: ["app"], maxTurns: nil, first: nil, as: "lib").header.id
        _ = try talks.say(id, content: "one", as: "lib", next: nil)
        _ = try talks.say(id, content: "two", as: "app", next: nil)
        return (talks, store, id)
    }

    func run(_ talks: Talks, _ store: FileStore, fix: Bool) -> Doctor.Report {
        Doctor.run(store: store, talks: talks, fix: fix, config: BridgeConfig(environment: Environment([:])))
    }

    @Test func cleanStoreIsHealthy() throws {
        let (talks, store, _) = try setUp()
        #expect(run(talks, store, fix: false).findings.isEmpty)
    }

    @Test func headerDriftAndDuplicateNoncesAreFixed() throws {
        let (talks, store, id) = try setUp()
        let path = talks.location.file(id)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let nonces = try talks.read(id).turns.map(\.nonce)
        text = text.replacing("turnCount: 2", with: "turnCount: 7").replacing("nextSpeaker: \"lib\"", with: "nextSpeaker: \"zed\"")
            .replacing(nonces[1], with: nonces[0])
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let found = run(talks, store, fix: false)
        #expect(!found.healthy)
        let problems = found.findings.map(\.problem).joined(separator: "\n")
        #expect(problems.contains("turnCount 7") && problems.contains("nextSpeaker 'zed'")
                && problems.contains("turn 2 carries nonce '\(nonces[0])', but it was acknowledged with nonce \(nonces[1])"), "\(problems)")
        let fixed = run(talks, store, fix: true)
        #expect(fixed.healthy, "\(fixed.findings)")
        let after = try talks.read(id)
        // The acknowledged nonce comes back: no new nonce is invented.
        #expect(after.header.turnCount == 2 && after.header.nextSpeaker == "lib" && after.turns.map(\.nonce) == nonces)
        #expect(run(talks, store, fix: false).findings.isEmpty)
    }

    @Test func handEditsAreReportedAndNotBlessed() throws {
        let (talks, store, id) = try setUp()
        let path = talks.location.file(id)
        try String(contentsOfFile: path, encoding: .utf8).replacing("\ntwo\n", with: "\nTWO (edited)\n").write(toFile: path, atomically: false, encoding: .utf8)
        let report = run(talks, store, fix: true)
        #expect(!report.healthy)
        #expect(report.findings.contains { $0.problem.contains("does not match its checksum") && !$0.repaired })
    }

    @Test func tornFileKeepsEveryAcknowledgedTurnAndTheDamagedFile() throws {
        let (talks, store, id) = try setUp()
        let path = talks.location.file(id)
        let good = try talks.read(id)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let cut = String(text.prefix(text.count - 30))
        try cut.write(toFile: path, atomically: false, encoding: .utf8)
        let report = run(talks, store, fix: true)
        #expect(report.healthy, "\(report.findings)")
        // The last acknowledged turn (only in the damaged file's torn tail and audit.log) is back; .bak is one behind.
        #expect(try talks.read(id) == good)
        let kept = try FileManager.default.contentsOfDirectory(atPath: talks.location.conversations).filter { $0.hasPrefix("\(id).md.damaged-") }
        #expect(kept.count == 1)
        #expect(try String(contentsOfFile: talks.location.conversations + "/" + kept[0], encoding: .utf8) == cut)
        #expect(run(talks, store, fix: false).findings.isEmpty)
    }

    @Test func leftoverTempFilesAndStaleLocksAndStoreProblems() throws {
        let (talks, store, _) = try setUp()
        let temp = talks.location.conversations + "/.session-bridge-tmp.doc.md.AbC123"
        // Not this program's: an editor's swap file, a user's notes, a temp-looking file of another tool.
        let others = [".doc.md.swp", ".doc.md.AbC123", "notes.txt", ".notes.md.backup", "doc.md~"].map { talks.location.conversations + "/" + $0 }
        for file in [temp] + others {
            try "partial".write(toFile: file, atomically: false, encoding: .utf8)
            var old = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
            utimensat(AT_FDCWD, file, &old, 0)
        }
        let lib = try Bridge(store: store, environment: Environment([:]), identity: Identity(source: .explicit("doctorlib"))).sessions.start(name: "lib").manifest
        try "{broken".write(toFile: store.layout.box(lib.id, .new) + "/01900000-0000-7000-8000-000000000009.json", atomically: false, encoding: .utf8)
        try "ghost\n".write(toFile: store.layout.bindingsFolder + "/deadbeef", atomically: false, encoding: .utf8)
        let report = run(talks, store, fix: true)
        #expect(report.healthy, "\(report.findings)")
        #expect(report.findings.count == 3)
        #expect(!FileManager.default.fileExists(atPath: temp))
        for file in others { #expect(FileManager.default.fileExists(atPath: file), "\(file)") }
        #expect(run(talks, store, fix: false).findings.isEmpty)
    }
}
