import Foundation
import Testing
@testable import SessionBridge

/// A small seeded generator, so a failing case can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Pieces of hostile turn content: structure look-alikes, escapes, line endings, whitespace, control characters and
/// unicode (precomposed and decomposed forms are different bytes and must stay so).
let hostilePieces: [String] = [
    "plain text", "## Turn 2 — bob", "##Turn 3 - x", "  ## Turn 4 -- y", "### Turn 5 – z", "\\## Turn 6 — w", "\\\\## Turn 7 — v",
    "<!-- turn number=9 speaker=x nonce=y at=z sha256=w -->", "  <!-- comment", "\\<!--", "<!--", "-->", "---", "--- ", "```",
    "```swift", "key: value", "schema: 1", "- item", "  ", "\t", "", "\\", "\\\\", " \\ ", "\r", "\r\n", "\n", "\n\n", "\r\r\n",
    "10%\r20%\r100%", "é", "e\u{301}", "漢字", "🚀", "\u{2028}", "\u{85}", "\u{1b}[31mred\u{1b}[0m", "\u{7f}", "\u{c}", "\u{b}",
    "\u{7}", " trailing ", "#", "## Turn", "\\r", "\\\\r", "\\n", "turnCount: 99", "<!-- turn", "\u{feff}", "\u{200b}",
]

func randomContent(_ rng: inout SplitMix) -> String {
    (0..<Int.random(in: 1...10, using: &rng)).map { _ in hostilePieces.randomElement(using: &rng)! }.joined()
}

@Suite struct TalkContentTests {
    func open(_ dir: String, extra: [String: String] = [:]) throws -> Talks {
        try Talks.open(dir: dir + "/.talks", environment: Environment(["SESSION_BRIDGE_HOME": dir + "/store"].merging(extra) { $1 }))
    }

    func fileBytes(_ t: Talks, _ id: String) throws -> [UInt8] { try FileSystem.read(t.location.file(id)) }

    /// Random hostile content -> say -> read returns it byte for byte with a checksum that verifies, or say is
    /// refused and the file is unchanged. The file stays parsable, doctor-clean, and survives a CRLF conversion.
    @Test(arguments: [1, 2, 3, 4]) func randomContentRoundTripsOrIsRefusedWithNothingWritten(_ seed: UInt64) throws {
        let t = try open(makeTempDir("talkgen"))
        let id = try t.create(topic: "Generator", with: ["b"], maxTurns: 10_000, first: nil, as: "a").header.id
        var rng = SplitMix(state: seed)
        var accepted: [[UInt8]] = []
        for i in 0..<150 {
            let content = randomContent(&rng)
            let before = try fileBytes(t, id)
            let speaker = accepted.count % 2 == 0 ? "a" : "b"
            do {
                let turn = try t.say(id, content: content, as: speaker, next: nil)
                accepted.append(Array(content.utf8))
                let back = try #require(try t.read(id).turns.last)
                #expect(Array(back.content.utf8) == Array(content.utf8), "seed \(seed) case \(i): \(content.debugDescription)")
                #expect(back.isIntact && back.checksum == SHA256.hex(Array(content.utf8)) && back.nonce == turn.nonce)
            } catch {
                #expect(try fileBytes(t, id) == before, "seed \(seed) case \(i): refused (\(error)) but the file changed")
                #expect(isBlankText(content), "seed \(seed) case \(i): refused \(content.debugDescription): \(error)")
            }
        }
        let talk = try t.read(id)
        #expect(talk.turns.map { Array($0.content.utf8) } == accepted)
        #expect(talk.turns.allSatisfy { $0.isIntact })
        let report = Doctor.run(store: nil, talks: t, fix: false, config: BridgeConfig(environment: Environment([:])))
        #expect(report.findings.isEmpty, "\(report.findings)")
        // A tool that rewrites the file with CRLF line endings changes no content (CR in content is escaped).
        let crlf = TalkFile.withCRLF(try fileBytes(t, id))
        let (reread, notes) = try Conversation.parse(bytes: crlf, notes: true)
        #expect(reread.turns == talk.turns && notes.nonCanonical)
    }

    /// Each decision, one case apiece: kept byte for byte (CR, CRLF, control characters, surrounding blank lines,
    /// a final newline, trailing whitespace, decomposed unicode), or refused with exit 6 (NUL, invalid UTF-8,
    /// nothing but whitespace) with the file unchanged.
    @Test func contentPolicy() throws {
        let dir = makeTempDir("talkpolicy")
        let t = try open(dir)
        let id = try t.create(topic: "Policy", with: ["b"], maxTurns: 100, first: nil, as: "a").header.id
        let kept = ["progress 10%\r50%\r100%", "windows\r\nlines\r\n", "bell\u{7} esc\u{1b}[1m ff\u{c} vt\u{b} del\u{7f}",
                    "\n\nleading and trailing blank lines\n\n", "final newline\n", "trailing spaces   \n\tand tabs\t",
                    "e\u{301} vs \u{e9}", "  \n  indented after a blank edge line", "\\\n\\\\\n \\ "]
        for (i, content) in kept.enumerated() {
            _ = try t.say(id, content: content, as: i % 2 == 0 ? "a" : "b", next: nil)
            let back = try #require(try t.read(id).turns.last)
            #expect(Array(back.content.utf8) == Array(content.utf8), "\(content.debugDescription)")
            #expect(back.isIntact)
        }
        let before = try fileBytes(t, id)
        #expect(throws: BridgeError.binaryContent(.nulBytes)) { try t.say(id, content: "a\u{0}b", as: "b", next: nil) }
        #expect(throws: BridgeError.emptyMessage) { try t.say(id, content: " \r\n\t\n", as: "b", next: nil) }
        #expect(try fileBytes(t, id) == before)
        // Through the real binary: invalid UTF-8 and NUL on stdin are refused with exit 6, nothing written.
        for bad in [Data([0x61, 0xff, 0x62]), Data([0x61, 0x00, 0x62]), Data([0xc3]), Data([0xed, 0xa0, 0x80])] {
            let r = try CLI.run(["talk", "say", id, "-", "--as", "b", "--dir", dir + "/.talks"], root: dir + "/store", key: nil, stdin: bad)
            #expect(r.status == 6, "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
        #expect(try fileBytes(t, id) == before)
    }

    /// The real binary, content on stdin byte for byte, read back with `show --json`.
    @Test func randomContentThroughTheBinary() throws {
        let dir = makeTempDir("talkgencli")
        let tdir = dir + "/.talks"
        let new = try CLI.run(["talk", "new", "Gen", "--with", "b", "--as", "a", "--max-turns", "1000", "--dir", tdir], root: dir + "/store", key: nil)
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        var rng = SplitMix(state: 42)
        var accepted = 0
        for i in 0..<40 {
            let content = randomContent(&rng)
            let path = tdir + "/conversations/\(id).md"
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            let r = try CLI.run(["talk", "say", id, "-", "--as", accepted % 2 == 0 ? "a" : "b", "--dir", tdir], root: dir + "/store", key: nil,
                                stdin: Data(content.utf8))
            if r.status != 0 {
                #expect(r.status == 6 && isBlankText(content), "case \(i): \(r.stderr)")
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
                continue
            }
            accepted += 1
            let show = try CLI.run(["talk", "show", id, "--json", "--since", String(accepted - 1), "--dir", tdir], root: dir + "/store", key: nil)
            // JSONDecoder, not JSONSerialization (which drops U+FEFF on Linux).
            struct Shown: Decodable { var turns: [Turn] }
            let turn = try #require(try JSONDecoder().decode(Shown.self, from: Data(show.stdout.utf8)).turns.first)
            #expect(Array(turn.content.utf8) == Array(content.utf8), "case \(i): \(content.debugDescription) came back \(turn.content.debugDescription)")
            #expect(turn.checksum == SHA256.hex(Array(content.utf8)))
        }
        let doctor = try CLI.run(["doctor", "--dir", tdir], root: dir + "/store", key: nil)
        #expect(doctor.status == 0, "\(doctor.stdout)")
    }

    /// A talk another tool saved with CRLF line endings parses and takes new turns; it stays CRLF and its old turns
    /// are copied byte for byte.
    @Test func crlfTalkAcceptsNewTurns() throws {
        let t = try open(makeTempDir("talkcrlf"))
        let id = try t.create(topic: "CRLF", with: ["b"], maxTurns: 100, first: nil, as: "a").header.id
        _ = try t.say(id, content: "first\nturn", as: "a", next: nil)
        let path = t.location.file(id)
        let crlf = TalkFile.withCRLF(try fileBytes(t, id))
        try Data(crlf).write(to: URL(fileURLWithPath: path))
        #expect(try t.readHeader(id).nextSpeaker == "b")
        #expect(t.list(status: nil).damaged.isEmpty)
        guard case .yourTurn = try t.wait(id, as: "b", timeoutSeconds: 1) else { Issue.record("wait should see b's turn"); return }
        _ = try t.say(id, content: "second\r\nwith CR\rinside", as: "b", next: nil)
        let after = try fileBytes(t, id)
        #expect(TalkFile.usesCRLF(after) && !TalkFile.withoutCRLF(after).contains(13))   // CRLF throughout, no raw CR in content
        let oldBody = crlf[crlf.firstRange(of: Array("\r\n## Turn 1".utf8))!.lowerBound...]
        #expect(after.firstRange(of: Array(oldBody)) != nil)                         // the old turn, byte for byte
        let talk = try t.read(id)
        #expect(talk.turns.map(\.content) == ["first\nturn", "second\r\nwith CR\rinside"] && talk.turns.allSatisfy { $0.isIntact })
        _ = try t.say(id, content: "third", as: "a", next: nil)
        #expect(try t.read(id).turns.count == 3)
    }

    /// A say that would take the talk past the size limit is refused before anything is written; the talk stays
    /// readable and can still be resolved. A talk already over the limit (grown some other way) is still read.
    @Test func sizeLimitRefusesTheSayNeverTheTalk() throws {
        let dir = makeTempDir("talksize")
        let t = try open(dir, extra: ["SESSION_BRIDGE_MAX_TALK_BYTES": "8192"])
        let id = try t.create(topic: "Size", with: ["b"], maxTurns: 1000, first: nil, as: "a").header.id
        var said = 0
        var refused: BridgeError?
        while refused == nil && said < 100 {
            let before = try fileBytes(t, id)
            do {
                _ = try t.say(id, content: String(repeating: "x", count: 1000) + " \(said)", as: said % 2 == 0 ? "a" : "b", next: nil)
                said += 1
                #expect(try fileBytes(t, id).count <= 8192)
            } catch {
                refused = error as? BridgeError
                #expect(try fileBytes(t, id) == before)
            }
        }
        let error = try #require(refused)
        #expect(error.exitCode == 6 && error.message.contains("8192-byte limit") && error.message.contains("nothing was written"))
        #expect(try t.read(id).turns.count == said)
        #expect(t.list(status: nil).damaged.isEmpty)
        #expect(try t.resolve(id, summary: "full", as: "a").status == .resolved)

        // A talk far past the limit, made by hand: every reader still works, a say is refused cleanly.
        let bigID = "big-talk-1"
        var big = Conversation(header: TalkHeader(id: bigID, topic: "big", initiator: "a", participants: ["a", "b"], status: .active,
                                                  turnCount: 0, maxTurns: 1000, nextSpeaker: "a", createdAt: Clock.nowISO8601(),
                                                  updatedAt: Clock.nowISO8601(), resolution: nil, blockedReason: nil))
        for n in 1...20 {
            let c = String(repeating: "y", count: 2000)
            big.turns.append(Turn(number: n, speaker: n % 2 == 1 ? "a" : "b", content: c, nonce: String(format: "%012x", n), checksum: SHA256.hex(c), at: Clock.nowISO8601()))
        }
        big.header.turnCount = 20
        try big.render().write(toFile: t.location.file(bigID), atomically: false, encoding: .utf8)
        let before = try fileBytes(t, bigID)
        #expect(try t.read(bigID).turns.count == 20)
        #expect(throws: BridgeError.self) { try t.say(bigID, content: "more", as: "a", next: nil) }
        #expect(try fileBytes(t, bigID) == before)
        #expect(try t.block(bigID, reason: "too big", as: "b").status == .blocked)
        let cli = try CLI.run(["talk", "say", id, "z", "--as", "a", "--dir", dir + "/.talks"], root: dir + "/store", key: nil,
                              extra: ["SESSION_BRIDGE_MAX_TALK_BYTES": "8192"])
        #expect(cli.status == 12 || cli.status == 6, "\(cli.stderr)")   // resolved (12) or over the limit (6): never a partial write
    }

    /// A frontmatter with YAML anchors and aliases (an alias bomb) is refused at once, never expanded.
    @Test func aliasBombInFrontmatterIsRefusedFast() throws {
        let t = try open(makeTempDir("talkbomb"))
        var yaml = "---\nschema: 1\nid: bomb-1\ntopic: x\ninitiator: a\nparticipants: [a, b]\nstatus: ACTIVE\nturnCount: 0\nmaxTurns: 5\n"
        yaml += "nextSpeaker: a\ncreatedAt: x\nupdatedAt: x\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for n in 1..<12 { yaml += "l\(n): &l\(n) [" + Array(repeating: "*l\(n - 1)", count: 9).joined(separator: ", ") + "]\n" }
        yaml += "---\n"
        try FileManager.default.createDirectory(atPath: t.location.conversations, withIntermediateDirectories: true)
        try yaml.write(toFile: t.location.file("bomb-1"), atomically: false, encoding: .utf8)
        let start = Date()
        #expect(throws: Conversation.ParseError.yamlAliases) { try Conversation.parse(yaml) }
        #expect(t.list(status: nil).damaged == ["bomb-1"])
        #expect(throws: BridgeError.self) { try t.read("bomb-1") }
        #expect(Date().timeIntervalSince(start) < 2)
        // Quoted or commented look-alikes are plain text.
        for ok in ["topic: \"a *b &c\"", "topic: 'x &y'", "topic: a * b & c", "topic: x # &comment *alias"] {
            #expect(!Conversation.hasAnchorsOrAliases(ok), "\(ok)")
        }
        for bad in ["topic: &a x", "topic: *a", "participants: [*a, b]", "- &x y"] {
            #expect(Conversation.hasAnchorsOrAliases(bad), "\(bad)")
        }
    }

    /// The parser and the salvage reader never trap: random bytes, and random cuts, splices and byte flips of a
    /// real talk, either parse or give a structured error.
    @Test func parserNeverTrapsOnMangledInput() throws {
        var talk = Conversation(header: TalkHeader(id: "t-1", topic: "fuzz", initiator: "a", participants: ["a", "b"], status: .active,
                                                   turnCount: 0, maxTurns: 50, nextSpeaker: "a", createdAt: "2026-01-01T00:00:00.000Z",
                                                   updatedAt: "2026-01-01T00:00:00.000Z", resolution: nil, blockedReason: nil))
        var rng = SplitMix(state: 7)
        for n in 1...6 {
            let c = randomContent(&rng)
            talk.turns.append(Turn(number: n, speaker: n % 2 == 1 ? "a" : "b", content: c, nonce: "n\(n)", checksum: SHA256.hex(c), at: "x"))
        }
        let base = Array(talk.render().utf8)
        let alphabet = Array("-\n\r#<!>\\ Turn—:=\"".utf8) + [0, 0xff, 0xe2]
        for _ in 0..<1200 {
            var b = base
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: if !b.isEmpty { b[Int.random(in: 0..<b.count, using: &rng)] = alphabet.randomElement(using: &rng)! }
                case 1: if !b.isEmpty { b.removeSubrange(Int.random(in: 0..<b.count, using: &rng)..<b.count) }
                case 2: b.insert(contentsOf: Array("\n## Turn 3 — a\n".utf8), at: Int.random(in: 0...b.count, using: &rng))
                default: if b.count > 2 { let i = Int.random(in: 0..<(b.count - 1), using: &rng); b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...40, using: &rng))) }
                }
            }
            _ = try? Conversation.parse(bytes: b, notes: true)
            _ = TalkFile.salvage(b)
            _ = try? Conversation.parseHeaderOnly(b)
            // The append path's structure check agrees with the full parse: a say never builds on a file that
            // does not parse.
            if let (_, start) = try? TalkFile.frontmatter(b) {
                let counted = try? TalkFile.countTurns(b, from: start)
                let parsed = try? TalkFile.body(b, from: start)
                #expect(counted == parsed?.blocks.count, "\(String(decoding: b, as: UTF8.self).debugDescription)")
            }
        }
        for _ in 0..<2000 {
            let pieces = ["<!--", "-->", " ", "turn", "turnx", "nonce=", "sha256=", "at=", "x", "=", "\t", "nonce", "<!-- turn "]
            let line = Array((0..<Int.random(in: 1...8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined().utf8)
            let fields = TalkFile.trailer(line, 0..<line.count)
            let strict = fields != nil && fields?["nonce"] != nil && fields?["sha256"] != nil && fields?["at"] != nil
            #expect(TalkFile.hasTrailerFields(line, 0..<line.count) == strict, "\(String(decoding: line, as: UTF8.self))")
        }
        for _ in 0..<500 {
            let b = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? Conversation.parse(bytes: [45, 45, 45, 10] + b, notes: true)
            _ = TalkFile.salvage(b)
        }
    }
}

/// Text that `say` refuses as empty: nothing but whitespace.
func isBlankText(_ s: String) -> Bool { s.allSatisfy { $0.isWhitespace } }
