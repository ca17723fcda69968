/// A talk's state, as its frontmatter says.
package enum TalkStatus: String, Codable, Sendable, CaseIterable {
    case active = "ACTIVE"
    case resolved = "RESOLVED"
    case blocked = "BLOCKED"
}

/// One turn: a block in the body with a trailer comment carrying its nonce, time and checksum.
package struct Turn: Codable, Sendable, Equatable {
    package var number: Int
    package var speaker: String
    package var content: String
    package var nonce: String
    package var checksum: String
    package var at: String

    package var isIntact: Bool { checksum == SHA256.hex(content) }
}

/// The frontmatter of a talk (schema v1).
package struct TalkHeader: Codable, Sendable, Equatable {
    package var schema: Int = 1
    package var id: String
    package var topic: String
    package var initiator: String
    package var participants: [String]
    package var status: TalkStatus
    package var turnCount: Int
    package var maxTurns: Int
    package var nextSpeaker: String
    package var createdAt: String
    package var updatedAt: String
    package var resolution: String?
    package var blockedReason: String?
}

/// A talk: one append-only markdown file with YAML frontmatter, readable by any session or person, where every
/// change shows in a diff. `render()` writes the canonical form; `parse` reads it back, and also reads the
/// variations other tools introduce (CRLF, `--` for `—`, extra blank lines, YAML in another style).
package struct Conversation: Sendable, Equatable {
    package var header: TalkHeader
    package var turns: [Turn]

    package init(header: TalkHeader, turns: [Turn] = []) {
        self.header = header
        self.turns = turns
    }

    /// Problems met while parsing leniently that the canonical form removes (reported by doctor / normalize).
    package struct ParseNotes: Sendable, Equatable {
        package var strayLines: Int = 0
        package var nonCanonical: Bool = false
    }

    package enum ParseError: Error, Equatable, Sendable {
        case noFrontmatter
        case badFrontmatter(String)
        case tornTurn(Int)
        case badTrailer(Int)
        /// The header counts more turns than the body holds.
        case missingTurns(Int, Int)
        /// A turn acknowledged earlier is no longer in the file.
        case lostTurn(Int, String)
        /// YAML anchors and aliases (which can expand without bound) in the frontmatter.
        case yamlAliases

        package var message: String {
            switch self {
            case .noFrontmatter: return "no YAML frontmatter (--- ... ---) at the top"
            case .badFrontmatter(let m): return "frontmatter: \(m)"
            case .tornTurn(let n): return "turn \(n) has no trailer (the file is cut or torn)"
            case .badTrailer(let n): return "turn \(n) has a malformed trailer"
            case .missingTurns(let counted, let held): return "the header counts \(counted) turns but the file holds \(held)"
            case .lostTurn(let n, let nonce): return "acknowledged turn \(n) (nonce \(nonce)) is no longer in the file; a stale copy was saved over it?"
            case .yamlAliases: return "frontmatter: YAML anchors and aliases are not accepted"
            }
        }
    }

    // MARK: Rendering

    package func render() -> String {
        var out = Conversation.renderHeader(header)
        for turn in turns { out += Conversation.renderTurn(turn) }
        return out
    }

    static func renderHeader(_ h: TalkHeader) -> String {
        func q(_ s: String?) -> String { s.map(Conversation.quote) ?? "null" }
        return """
        ---
        schema: \(h.schema)
        id: \(q(h.id))
        topic: \(q(h.topic))
        initiator: \(q(h.initiator))
        participants: [\(h.participants.map(Conversation.quote).joined(separator: ", "))]
        status: \(h.status.rawValue)
        turnCount: \(h.turnCount)
        maxTurns: \(h.maxTurns)
        nextSpeaker: \(q(h.nextSpeaker))
        createdAt: \(q(h.createdAt))
        updatedAt: \(q(h.updatedAt))
        resolution: \(q(h.resolution))
        blockedReason: \(q(h.blockedReason))
        ---

        """
    }

    static func renderTurn(_ t: Turn) -> String {
        String(decoding: renderTurnBytes(t), as: UTF8.self)
    }

    /// A turn block: header line, content (escaped so that it reads back byte for byte), trailer. Content with a
    /// carriage return is written with `\\` and `\r` escapes and marked `escapes=cr` in the trailer.
    static func renderTurnBytes(_ t: Turn) -> [UInt8] {
        let content = Array(t.content.utf8)
        let escaped = content.contains(13)
        var out = Array("\n## Turn \(t.number) — \(t.speaker)\n\n".utf8)
        out += TalkFile.renderContent(content, escaped: escaped)
        out += Array("\n\n<!-- turn number=\(t.number) speaker=\(t.speaker) nonce=\(t.nonce) at=\(t.at) sha256=\(t.checksum)".utf8)
        if escaped { out += Array(" \(TalkFile.escapesField)=\(TalkFile.escapesCR)".utf8) }
        out += Array(" -->\n".utf8)
        return out
    }

    /// A double-quoted scalar: JSON string syntax, which YAML reads the same way.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    // MARK: Parsing

    /// Parses a talk file. Lenient about formatting (CRLF, `--` for `—`, spacing, YAML style, stray lines);
    /// strict about structure (frontmatter, and a header and a trailer for every turn).
    package static func parse(_ text: String) throws(ParseError) -> (Conversation, ParseNotes) {
        try parse(bytes: Array(text.utf8), notes: true)
    }

    /// The parse entry point for raw file bytes (and for fuzzing): any input gives a talk or a `ParseError`,
    /// never a trap. Invalid UTF-8 in content reads as U+FFFD, so the turn's checksum no longer matches.
    package static func parse(bytes raw: [UInt8], notes wantNotes: Bool) throws(ParseError) -> (Conversation, ParseNotes) {
        var notes = ParseNotes()
        let b = TalkFile.withoutCRLF(raw)
        if b.count != raw.count { notes.nonCanonical = true }
        let (yaml, bodyStart) = try TalkFile.frontmatter(b)
        let (header, canonicalHeader) = try TalkFile.header(yaml)
        let body = try TalkFile.body(b, from: bodyStart)
        var turns: [Turn] = []
        turns.reserveCapacity(body.blocks.count)
        for block in body.blocks {
            let t = block.trailer
            turns.append(Turn(number: block.number, speaker: block.speaker, content: TalkFile.content(b, body, block),
                              nonce: t["nonce"] ?? "", checksum: t["sha256"] ?? "", at: t["at"] ?? ""))
        }
        let conversation = Conversation(header: header, turns: turns)
        notes.strayLines = body.strayLines
        if !canonicalHeader { notes.nonCanonical = true }
        if wantNotes && !notes.nonCanonical && Array(conversation.render().utf8) != b { notes.nonCanonical = true }
        return (conversation, notes)
    }

    /// Reads only the frontmatter (for listing many talks fast).
    package static func parseHeaderOnly(_ bytes: [UInt8]) throws(ParseError) -> TalkHeader {
        try TalkFile.header(TalkFile.frontmatter(TalkFile.withoutCRLF(bytes)).yaml).0
    }

    /// A header in any YAML form a person may have written (the canonical form takes `TalkFile`'s fast path), read
    /// with the strict parser config.yaml uses: no anchors, aliases, tags or block scalars, so a hostile header
    /// costs time linear in its size.
    static func parseHeader(_ yaml: String) throws(ParseError) -> TalkHeader {
        if hasAnchorsOrAliases(yaml) { throw .yamlAliases }
        let root: StrictYAML.Node?
        switch StrictYAML.parse(Array(yaml.utf8)) {
        case .success(let node): root = node
        case .failure(let failure):
            if failure.reason == .anchor || failure.reason == .alias { throw .yamlAliases }
            throw .badFrontmatter("not valid YAML (\(failure.message))")
        }
        guard case .mapping(let entries, _)? = root else { throw .badFrontmatter("not a mapping") }
        var map: [String: StrictYAML.Node] = [:]
        for entry in entries { map[entry.key] = entry.value }
        func string(_ key: String) throws(ParseError) -> String {
            guard let v = map[key] else { throw .badFrontmatter("missing \(key)") }
            guard case .scalar(let text, _, _) = v, !v.isNull else { throw .badFrontmatter("\(key) is not a string") }
            return text
        }
        func optional(_ key: String) throws(ParseError) -> String? {
            guard let v = map[key], !v.isNull else { return nil }
            return try string(key)
        }
        func int(_ key: String) throws(ParseError) -> Int {
            if case .scalar(let text, _, _)? = map[key], let i = Int(text) { return i }
            throw .badFrontmatter("\(key) is missing or not a number")
        }
        var participants: [String] = []
        if case .sequence(let items, _)? = map["participants"] {
            for item in items {
                guard case .scalar(let name, _, _) = item, !item.isNull else { throw .badFrontmatter("participants must be names") }
                participants.append(name)
            }
        }
        guard !participants.isEmpty else { throw .badFrontmatter("participants must be a non-empty list") }
        guard let status = TalkStatus(rawValue: try string("status").uppercased()) else {
            throw .badFrontmatter("status must be ACTIVE, RESOLVED or BLOCKED")
        }
        return TalkHeader(
            schema: (try? int("schema")) ?? 1, id: try string("id"), topic: try string("topic"), initiator: try string("initiator"),
            participants: participants, status: status, turnCount: try int("turnCount"), maxTurns: try int("maxTurns"),
            nextSpeaker: try string("nextSpeaker"), createdAt: try string("createdAt"), updatedAt: try string("updatedAt"),
            resolution: try optional("resolution"), blockedReason: try optional("blockedReason"))
    }
}

extension Conversation {
    /// Whether YAML text holds an anchor (`&name`) or an alias (`*name`) outside quoted scalars and comments: a
    /// header never needs one, and a few nested aliases expand to gigabytes.
    static func hasAnchorsOrAliases(_ yaml: String) -> Bool {
        let b = Array(yaml.utf8)
        var quote: UInt8 = 0
        var previous: UInt8 = 10
        var i = 0
        while i < b.count {
            let c = b[i]
            if quote != 0 {
                if c == 92 && quote == 34 { i += 2; previous = 0; continue }   // \" inside a double-quoted scalar
                if c == quote { quote = 0 }
                if c == 10 { previous = 10 }
            } else if c == 35 && (previous == 32 || previous == 9 || previous == 10) {   // a comment, to the end of the line
                while i < b.count && b[i] != 10 { i += 1 }
                continue
            } else if (c == 34 || c == 39) && [10, 32, 9, 91, 123, 44, 58, 45].contains(previous) {
                quote = c
            } else if (c == 38 || c == 42) && [10, 32, 9, 91, 123, 44, 45, 63, 58].contains(previous) && i + 1 < b.count
                        && ![32, 9, 10, 13].contains(b[i + 1]) {
                return true
            }
            previous = c
            i += 1
        }
        return false
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
