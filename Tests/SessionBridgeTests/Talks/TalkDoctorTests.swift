import Foundation
import Testing
@testable import SessionBridge

/// `doctor --fix` never loses an acknowledged turn: each kind of damage is reported as exactly what it is, every
/// acknowledged turn comes back (from the damaged file, `.bak` or audit.log), and the damaged file is kept.
@Suite struct TalkDoctorTests {
    struct Fixture {
        var talks: Talks
        var id: String
        var path: String
        var original: Conversation
    }

    /// A talk with `turns` acknowledged turns.
    func fixture(turns: Int = 5, config: String? = nil) throws -> Fixture {
        let dir = makeTempDir("talkdoc")
        if let config {
            try FileManager.default.createDirectory(atPath: dir + "/.talks", withIntermediateDirectories: true)
            try config.write(toFile: dir + "/.talks/config.yaml", atomically: false, encoding: .utf8)
        }
        let talks = try Talks.open(dir: dir + "/.talks", environment: Environment(["SESSION_BRIDGE_HOME": dir + "/store"]))
        let id = try talks.create(topic: "Recovery", with: ["b"], maxTurns: 100, first: nil, as: "a").header.id
        for n in 1...turns { _ = try talks.say(id, content: "turn \(n)\nwith a second line\r\(n)", as: n % 2 == 1 ? "a" : "b", next: nil) }
        return Fixture(talks: talks, id: id, path: talks.location.file(id), original: try talks.read(id))
    }

    func doctor(_ f: Fixture, fix: Bool) -> Doctor.Report {
        Doctor.run(store: nil, talks: f.talks, fix: fix, config: BridgeConfig(environment: Environment([:])))
    }

    func text(_ f: Fixture) throws -> String { try String(contentsOfFile: f.path, encoding: .utf8) }
    func write(_ f: Fixture, _ s: String) throws { try s.write(toFile: f.path, atomically: false, encoding: .utf8) }

    /// The turn blocks of the file, as text, and what comes before them.
    func blocks(_ s: String) -> (head: String, blocks: [String]) {
        let parts = s.components(separatedBy: "\n## Turn ")
        return (parts[0], parts.dropFirst().map { "\n## Turn " + $0 })
    }

    func damagedCopies(_ f: Fixture) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: f.talks.location.conversations)) ?? []).filter { $0.hasPrefix("\(f.id).md.damaged-") }
    }

    func problems(_ r: Doctor.Report) -> String { r.findings.map(\.problem).joined(separator: "\n") }

    /// An editor saved a stale buffer: the file is valid but lacks the last two acknowledged turns (.bak lacks them too).
    @Test func staleVersionSavedOverTheTalkGetsItsTurnsBack() throws {
        let f = try fixture()
        let (head, blocks) = blocks(try text(f))
        let stale = (head + blocks.prefix(3).joined()).replacing("turnCount: 5", with: "turnCount: 3")
        try write(f, stale)
        try stale.write(toFile: f.talks.location.backup(f.id), atomically: false, encoding: .utf8)
        let found = doctor(f, fix: false)
        #expect(problems(found).contains("acknowledged turn 4 by b") && problems(found).contains("acknowledged turn 5 by a"), "\(problems(found))")
        #expect(!found.healthy)
        let fixed = doctor(f, fix: true)
        #expect(fixed.healthy, "\(fixed.findings)")
        #expect(try f.talks.read(f.id).turns == f.original.turns)
        #expect(try f.talks.read(f.id).header.nextSpeaker == f.original.header.nextSpeaker)
        #expect(damagedCopies(f).count == 1)
        #expect(doctor(f, fix: false).findings.isEmpty)
    }

    /// After a stale copy is saved over a talk (header and body consistent, fewer turns), the next say is refused
    /// instead of building on it; doctor --fix brings the turns back and the talk goes on. Without audit.log to
    /// recover from, the loss is reported and the talk may go on.
    @Test(arguments: [true, false]) func sayRefusesToBuildOnAStaleCopy(_ auditLog: Bool) throws {
        let f = try fixture(config: auditLog ? nil : "security:\n  audit_log: false\n")
        let (head, blocks) = blocks(try text(f))
        let stale = (head + blocks.prefix(3).joined()).replacing("turnCount: 5", with: "turnCount: 3").replacing("nextSpeaker: \"b\"", with: "nextSpeaker: \"a\"")
        try write(f, stale)
        #expect(try f.talks.read(f.id).turns.count == 3)
        do {
            _ = try f.talks.say(f.id, content: "built on a stale copy", as: "a", next: nil)
            Issue.record("say went on over lost turns")
        } catch {
            #expect(error.exitCode == 12 && error.message.contains("acknowledged turn 5"), "\(error.message)")
        }
        #expect(try text(f) == stale)
        let fixed = doctor(f, fix: true)
        if auditLog {
            #expect(fixed.healthy, "\(fixed.findings)")
            #expect(try f.talks.read(f.id).turns == f.original.turns)
            #expect(try f.talks.say(f.id, content: "six", as: "b", next: nil).number == 6)
        } else {
            #expect(!fixed.healthy && problems(fixed).contains("acknowledged turn 5 (nonce \(f.original.turns[4].nonce)) is lost"), "\(problems(fixed))")
            #expect(try f.talks.say(f.id, content: "four again", as: "a", next: nil).number == 4)
        }
    }

    @Test func deletedTurnIsReportedAsMissingAndRestored() throws {
        let f = try fixture()
        let (head, blocks) = blocks(try text(f))
        try write(f, head + blocks[0] + blocks[1] + blocks[3] + blocks[4])
        let found = doctor(f, fix: false)
        #expect(problems(found).contains("acknowledged turn 3 by a"), "\(problems(found))")
        #expect(!problems(found).contains("numbered"))   // never "renumbered"
        #expect(doctor(f, fix: true).healthy)
        #expect(try f.talks.read(f.id).turns == f.original.turns)
        #expect(damagedCopies(f).count == 1)
    }

    @Test func reorderedTurnsAreReportedAndPutBack() throws {
        let f = try fixture()
        let (head, blocks) = blocks(try text(f))
        try write(f, head + blocks[0] + blocks[2] + blocks[1] + blocks[3] + blocks[4])
        let found = doctor(f, fix: false)
        #expect(problems(found).contains("turn 2 comes after turn 3 (out of order)"), "\(problems(found))")
        #expect(doctor(f, fix: true).healthy)
        #expect(try f.talks.read(f.id).turns == f.original.turns)
    }

    @Test func duplicatedTurnIsReportedAndTheCopyRemoved() throws {
        let f = try fixture()
        let (head, blocks) = blocks(try text(f))
        try write(f, head + blocks[0] + blocks[1] + blocks[1] + blocks[2] + blocks[3] + blocks[4])
        let found = doctor(f, fix: false)
        #expect(problems(found).contains("turn 2 appears twice"), "\(problems(found))")
        #expect(doctor(f, fix: true).healthy)
        #expect(try f.talks.read(f.id).turns == f.original.turns)
    }

    /// The same nonce with other content is a conflict that only a person can settle: reported, left unrepaired,
    /// nothing renumbered or given a new nonce.
    @Test func conflictingCopiesAreReportedNotBlessed() throws {
        let f = try fixture()
        let (head, blocks) = blocks(try text(f))
        let forged = blocks[1].replacing("turn 2\n", with: "turn 2 (forged)\n")
        try write(f, head + blocks[0] + blocks[1] + forged + blocks[2] + blocks[3] + blocks[4])
        let fixed = doctor(f, fix: true)
        #expect(!fixed.healthy)
        #expect(problems(fixed).contains("repeats the nonce of turn 2"), "\(problems(fixed))")
        #expect(problems(fixed).contains("does not match its checksum"))
        let after = try f.talks.read(f.id)
        #expect(after.turns.map(\.number) == [1, 2, 2, 3, 4, 5])
        #expect(Set(after.turns.map(\.nonce)) == Set(f.original.turns.map(\.nonce)))
    }

    /// With no audit log to recover from, a deleted turn is reported missing and nothing is renumbered.
    @Test func withoutAuditLogAMissingTurnStaysReportedAndNumbersStay() throws {
        let f = try fixture(config: "security:\n  audit_log: false\n")
        let (head, blocks) = blocks(try text(f))
        try write(f, head + blocks[0] + blocks[1] + blocks[3] + blocks[4])
        try FileManager.default.removeItem(atPath: f.talks.location.backup(f.id))
        let fixed = doctor(f, fix: true)
        #expect(!fixed.healthy)
        #expect(problems(fixed).contains("turn 3 is missing (not in the talk, its .bak or audit.log)"), "\(problems(fixed))")
        #expect(try f.talks.read(f.id).turns.map(\.number) == [1, 2, 4, 5])
        #expect(try f.talks.read(f.id).turns.map(\.nonce) == f.original.turns.filter { $0.number != 3 }.map(\.nonce))
    }

    /// Damage of every kind that breaks the structure: each time every acknowledged turn comes back byte for byte,
    /// the damaged file is kept as it was, and a second doctor run is clean.
    @Test(arguments: ["cut", "header-in-content", "trailer-removed", "frontmatter-broken", "garbage-spliced", "truncated-to-header"])
    func damagedTalkIsRebuiltFromEverySource(_ damage: String) throws {
        let f = try fixture()
        let s = try text(f)
        let (head, blocks) = blocks(s)
        let broken: String
        switch damage {
        case "cut": broken = String(s.prefix(s.count - 50))
        case "header-in-content": broken = s.replacing("turn 3\n", with: "turn 3\n## Turn 9 — a\n")
        case "trailer-removed": broken = head + blocks[0] + blocks[1].replacing(/<!-- turn[^\n]*\n/, with: "") + blocks[2] + blocks[3] + blocks[4]
        case "frontmatter-broken": broken = s.replacing("status: ACTIVE", with: "status: [unclosed")
        case "garbage-spliced": broken = head + blocks[0] + blocks[1] + "\n## Turn 77 — zed\n\nno trailer here\n" + blocks[2] + blocks[3] + blocks[4]
        default: broken = head
        }
        try write(f, broken)
        // Unreadable, or (cut back to its header) readable but short of the turns its header counts: no say goes on.
        if damage != "truncated-to-header" { #expect(throws: BridgeError.self) { try f.talks.read(f.id) } }
        #expect(throws: BridgeError.self) { try f.talks.say(f.id, content: "refused on a damaged talk", as: "b", next: nil) }
        let fixed = doctor(f, fix: true)
        #expect(fixed.healthy, "\(damage): \(fixed.findings)")
        let after = try f.talks.read(f.id)
        #expect(after.turns == f.original.turns, "\(damage)")
        #expect(after.header.nextSpeaker == f.original.header.nextSpeaker && after.header.turnCount == 5)
        let kept = damagedCopies(f)
        #expect(kept.count == 1)
        if let name = kept.first {
            #expect(try String(contentsOfFile: f.talks.location.conversations + "/" + name, encoding: .utf8) == broken)
        }
        #expect(doctor(f, fix: false).findings.isEmpty, "\(damage): \(doctor(f, fix: false).findings)")
        // The talk goes on.
        #expect(try f.talks.say(f.id, content: "after the repair", as: "b", next: nil).number == 6)
    }

    /// Hostile numbers: a turn numbered 999999999 is reported (the gap as one range), in bounded time; a far-future
    /// YAML date in the frontmatter is kept as the text it is (times are never converted), never a trap.
    @Test func hostileNumbersAndDatesAreBounded() throws {
        let f = try fixture(turns: 2)
        let content = "far away"
        try write(f, try text(f) + "\n## Turn 999999999 — a\n\n\(content)\n\n<!-- turn number=999999999 speaker=a nonce=ffffffffffff at=2026-01-01T00:00:00.000Z sha256=\(SHA256.hex(content)) -->\n")
        let start = Date()
        let report = doctor(f, fix: true)
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(problems(report).contains("turns 3–999999998 are missing"), "\(problems(report))")
        let yaml = "---\nschema: 1\nid: t\ntopic: x\ninitiator: a\nparticipants: [a, b]\nstatus: ACTIVE\nturnCount: 0\nmaxTurns: 5\nnextSpeaker: a\ncreatedAt: 9999-12-31\nupdatedAt: 2026-01-01\n---\n"
        #expect(try Conversation.parse(yaml).0.header.createdAt == "9999-12-31")
    }

    /// A lone carriage return written raw by an older version reads back as itself: no hand edit is reported.
    @Test func rawCarriageReturnFromOlderVersionsVerifies() throws {
        let f = try fixture(turns: 1)
        let content = "10%\r## Turn 2 — b\r100%"
        let raw = "\n## Turn 2 — b\n\n\(content)\n\n<!-- turn number=2 speaker=b nonce=0123456789ab at=2026-01-01T00:00:00.000Z sha256=\(SHA256.hex(content)) -->\n"
        try write(f, try text(f).replacing("turnCount: 1", with: "turnCount: 2").replacing("nextSpeaker: \"b\"", with: "nextSpeaker: \"a\"") + raw)
        let talk = try f.talks.read(f.id)
        #expect(talk.turns.count == 2 && talk.turns[1].content == content && talk.turns.allSatisfy { $0.isIntact })
        let report = doctor(f, fix: true)
        #expect(!problems(report).contains("checksum"), "\(problems(report))")
        #expect(report.healthy)
        #expect(try f.talks.read(f.id).turns[1].content == content)
    }
}
