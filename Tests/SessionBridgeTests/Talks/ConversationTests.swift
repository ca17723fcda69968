import Foundation
import Testing
@testable import SessionBridge

@Suite struct ConversationTests {
    func header(_ participants: [String] = ["lib", "app"]) -> TalkHeader {
        TalkHeader(id: "t-abc123", topic: "A \"quoted\" topic: with colon", initiator: participants[0], participants: participants,
                   status: .active, turnCount: 0, maxTurns: 10, nextSpeaker: participants[0], createdAt: "2026-01-01T00:00:00.000Z",
                   updatedAt: "2026-01-01T00:00:00.000Z", resolution: nil, blockedReason: nil)
    }

    func turn(_ n: Int, _ speaker: String, _ content: String) -> Turn {
        Turn(number: n, speaker: speaker, content: content, nonce: "n\(n)abcdef", checksum: SHA256.hex(content), at: "2026-01-01T00:00:0\(n).000Z")
    }

    static let tricky = [
        "plain",
        "## Turn 2 — mallory\nfake header inside",
        "<!-- turn number=9 speaker=x nonce=y at=z sha256=w -->",
        "\\## Turn 3 — already escaped looking",
        "\\\\<!-- two backslashes",
        "---\nfrontmatter: lookalike\n---",
        "line\n\n\nwith blank lines\n  indented",
        "##Turn 4 - compact header lookalike",
        "unicode: héllo — 漢字 🚀",
    ]

    @Test(arguments: tricky) func contentThatLooksLikeStructureRoundTrips(_ content: String) throws {
        var c = Conversation(header: header())
        c.turns = [turn(1, "lib", content), turn(2, "app", "reply")]
        c.header.turnCount = 2
        let (back, notes) = try Conversation.parse(c.render())
        #expect(back == c)
        #expect(back.turns[0].isIntact)
        #expect(notes == Conversation.ParseNotes())
    }

    @Test func lenientParsingOfOtherToolsFormatting() throws {
        var c = Conversation(header: header())
        c.turns = [turn(1, "lib", "first\nsecond"), turn(2, "app", "answer")]
        c.header.turnCount = 2
        let messy = c.render()
            .replacing("## Turn 1 — lib", with: "##  Turn 1 -- lib")
            .replacing("\n", with: "\r\n")
            + "\r\nstray text someone added\r\n"
        let (back, notes) = try Conversation.parse(messy)
        #expect(back.turns == c.turns)
        #expect(notes.nonCanonical && notes.strayLines == 1)
        #expect(back.render() == c.render())
    }

    @Test func frontmatterInAnotherYAMLStyle() throws {
        let text = """
        ---
        schema: 1
        id: t-abc123
        topic: plain topic
        initiator: lib
        participants:
          - lib
          - app
        status: active
        turnCount: 0
        maxTurns: 4
        nextSpeaker: lib
        createdAt: 2026-01-01T00:00:00.000Z
        updatedAt: 2026-01-01T00:00:00.000Z
        ---
        """
        let (c, notes) = try Conversation.parse(text + "\n")
        #expect(c.header.participants == ["lib", "app"] && c.header.status == .active && c.header.maxTurns == 4)
        #expect(c.header.createdAt == "2026-01-01T00:00:00.000Z")
        #expect(notes.nonCanonical)
    }

    @Test func tornFilesAreRejected() {
        var c = Conversation(header: header())
        c.turns = [turn(1, "lib", "complete"), turn(2, "app", "will be cut")]
        let text = c.render()
        let cut = String(text.prefix(text.count - 40))
        #expect(throws: Conversation.ParseError.self) { try Conversation.parse(cut) }
        #expect(throws: Conversation.ParseError.noFrontmatter) { try Conversation.parse("no frontmatter") }
        #expect(throws: Conversation.ParseError.self) { try Conversation.parse("---\nid: [unclosed\n---\n") }
    }

    /// The append path (`say`, `resolve`, `block`) and the reader judge a trailer by one rule: with a combining mark,
    /// a joiner, a variation selector, a CR, a tab, a no-break space or a stray byte put anywhere in a turn's
    /// trailer, an append accepts the file exactly when the reader does, and then sees as many turns.
    @Test func appendAndReaderAgreeOnEveryDamagedTrailer() throws {
        var c = Conversation(header: header())
        c.turns = [turn(1, "lib", "first"), turn(2, "app", "second")]
        c.header.turnCount = 2
        let file = Array(c.render().utf8)
        let needle = Array("<!-- turn number=2".utf8)
        let start = try #require((0...(file.count - needle.count)).first { file[$0..<($0 + needle.count)].elementsEqual(needle) })
        let end = try #require(file[start...].firstIndex(of: 10))
        #expect(end - start > 100)
        let marks: [[UInt8]] = ["\u{301}", "\u{200D}", "\u{FE0F}", "\r", "\t", "\u{A0}", " \u{301}", "=\u{301}"].map { Array($0.utf8) } + [[0xFF], [0x80], [0xCC]]
        var accepted = 0
        for position in start...end {
            for mark in marks {
                let damaged = Array(file[..<position]) + mark + Array(file[position...])
                let read = try? Conversation.parse(bytes: damaged, notes: true).0
                let split = try? FileTalkStore.split(damaged)
                #expect((read != nil) == (split != nil), "at byte \(position - start) of the trailer, \(mark): reader \(read != nil), append \(split != nil)")
                if let read, let split {
                    #expect(read.turns.count == split.turnCount)
                    accepted += 1
                }
            }
        }
        #expect(accepted > 0)
    }
}

@Suite struct TalkConfigTests {
    @Test func templateParses() throws {
        let c = try TalkConfig.parse(TalkConfig.template, path: "config.yaml")
        #expect(c == TalkConfig())
    }

    @Test func readsSettings() throws {
        let c = try TalkConfig.parse("lock_strategy: lockfile\nmax_turns: 6\nwatcher:\n  debounce_ms: 50\nsecurity:\n  audit_log: .talks/audit.log\n", path: "c")
        #expect(c.lockStrategy == .lockfile && c.maxTurns == 6 && c.watcherDebounceMs == 50 && c.auditLog)
    }

    @Test(arguments: [
        ("lock_strategy: proper-lockfile", "lock_strategy must be flock or lockfile"),
        ("max_turns: many", "max_turns must be a whole number"),
        ("max_turns: 0", "max_turns must be a whole number >= 1"),
        ("colour: blue", "unknown setting colour"),
        ("watcher:\n  inject_method: sendkeys", "watcher.inject_method must be auto, tmux or none"),
        ("security:\n  block_direct_edits: maybe", "security.block_direct_edits must be true or false"),
        ("schema_version: 7", "schema_version must be 1"),
        ("[1, 2", "line 1: unexpected 'end of file (an unclosed '[')'"),
        ("- a list", "must be a mapping"),
    ])
    func invalidConfigsAreClearErrors(_ yaml: String, _ fragment: String) {
        do {
            _ = try TalkConfig.parse(yaml, path: "config.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(error.message.hasPrefix("config.yaml: "))
            #expect(error.exitCode == 6)
        }
    }

    @Test func handWrittenAuditLineIsWhatTheEncoderWrites() {
        let entries = [
            AuditEntry(who: "lib", op: "say", talk: "plan-abc123", turn: 3, nonce: "n1", result: "ok"),
            AuditEntry(who: "a\"b\\c", op: "new", talk: "t/x", result: "refused", detail: "line\nbreak\ttab\u{1}\u{1f} é ✓ </script>"),
            AuditEntry(who: "", op: "block", talk: "t", result: "failed", detail: "\r\u{8}\u{c}"),
            AuditEntry(acknowledged: Turn(number: 4, speaker: "app", content: "a \"turn\"\r\n\\ <!-- é\u{0}", nonce: "0a1b2c3d4e5f",
                                          checksum: "abc", at: "2026-01-01T00:00:00.000Z"), talk: "plan-abc123", next: "lib"),
        ]
        for e in entries { #expect(e.line == JSONCoding.string(e), "\(e.line)") }
    }
}
