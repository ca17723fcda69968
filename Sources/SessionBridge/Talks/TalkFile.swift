/// Byte-level reading of talk files, fast enough for talks with tens of thousands of turns: lines are found with
/// byte scans, and turn content becomes a `String` only when a caller needs it.
enum TalkFile {
    /// One line of the file: [start, end) byte offsets, without the newline.
    typealias Line = Range<Int>

    static let dashes: [[UInt8]] = [[0xE2, 0x80, 0x94], [0xE2, 0x80, 0x93], [0x2D]]   // — – -

    /// Splits off the frontmatter. Returns the YAML bytes and the offset where the body starts.
    static func frontmatter(_ b: [UInt8]) throws(Conversation.ParseError) -> (yaml: ArraySlice<UInt8>, bodyStart: Int) {
        guard b.count >= 4, b[0] == 45, b[1] == 45, b[2] == 45, b[3] == 10 else { throw .noFrontmatter }
        var i = 4
        while i < b.count {
            let end = b[i...].firstIndex(of: 10) ?? b.count
            if end - i == 3 && b[i] == 45 && b[i + 1] == 45 && b[i + 2] == 45 {
                return (b[4..<i], min(end + 1, b.count))
            }
            i = end + 1
        }
        throw .noFrontmatter
    }

    /// Parses the header: the canonical form this program writes takes a fast path; anything else goes through
    /// the YAML library.
    static func header(_ yaml: ArraySlice<UInt8>) throws(Conversation.ParseError) -> (TalkHeader, canonical: Bool) {
        if let h = canonicalHeader(yaml) { return (h, true) }
        return (try Conversation.parseHeader(String(decoding: yaml, as: UTF8.self)), false)
    }

    /// `key: value` lines exactly as `Conversation.renderHeader` writes them, or nil.
    static func canonicalHeader(_ yaml: ArraySlice<UInt8>) -> TalkHeader? {
        // The canonical form escapes every control character; anything else (a raw CR, whose CRLF a String would
        // read as one character, a NUL, …) is for the YAML parser to accept or refuse.
        if yaml.contains(where: { ($0 < 32 && $0 != 10) || $0 == 127 }) { return nil }
        var fields: [String: Substring] = [:]
        var slice = yaml
        while slice.last == 10 { slice = slice.dropLast() }
        let text = String(decoding: slice, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":"), line[line.index(after: colon)...].hasPrefix(" ") else { return nil }
            fields[String(line[..<colon])] = line[line.index(colon, offsetBy: 2)...]
        }
        func str(_ k: String) -> String? { fields[k].flatMap { unquote($0) } }
        func opt(_ k: String) -> String?? {
            guard let v = fields[k] else { return .none }
            if v == "null" { return .some(nil) }
            return unquote(v).map { .some($0) }
        }
        guard fields.count == 13, fields["schema"] == "1", let id = str("id"), let topic = str("topic"), let initiator = str("initiator"),
              let list = fields["participants"], list.hasPrefix("["), list.hasSuffix("]"),
              let statusText = fields["status"], let status = TalkStatus(rawValue: String(statusText)),
              let turnCount = fields["turnCount"].flatMap({ Int($0) }), let maxTurns = fields["maxTurns"].flatMap({ Int($0) }),
              let next = str("nextSpeaker"), let created = str("createdAt"), let updated = str("updatedAt"),
              case .some(let resolution) = opt("resolution"), case .some(let blocked) = opt("blockedReason") else { return nil }
        var participants: [String] = []
        for item in list.dropFirst().dropLast().split(separator: ",") {
            guard let name = unquote(Substring(item.trimmingSpaces())) else { return nil }
            participants.append(name)
        }
        guard !participants.isEmpty else { return nil }
        return TalkHeader(id: id, topic: topic, initiator: initiator, participants: participants, status: status, turnCount: turnCount,
                          maxTurns: maxTurns, nextSpeaker: next, createdAt: created, updatedAt: updated, resolution: resolution,
                          blockedReason: blocked)
    }

    /// A JSON-style double-quoted string (what `Conversation.quote` writes), or nil.
    static func unquote(_ s: Substring) -> String? {
        guard s.count >= 2, s.hasPrefix("\""), s.hasSuffix("\"") else { return nil }
        let inner = s.dropFirst().dropLast()
        if !inner.contains("\\") { return inner.contains("\"") ? nil : String(inner) }
        var out = ""
        var it = inner.unicodeScalars.makeIterator()
        while let u = it.next() {
            if u == "\"" { return nil }
            guard u == "\\" else { out.unicodeScalars.append(u); continue }
            guard let e = it.next() else { return nil }
            switch e {
            case "\"": out += "\""
            case "\\": out += "\\"
            case "/": out += "/"
            case "n": out += "\n"
            case "r": out += "\r"
            case "t": out += "\t"
            case "u":
                var hex = ""
                for _ in 0..<4 { guard let h = it.next() else { return nil }; hex.unicodeScalars.append(h) }
                guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else { return nil }
                out.unicodeScalars.append(scalar)
            default: return nil
            }
        }
        return out
    }

    // MARK: Lines

    @inline(__always) static func isBlank(_ b: [UInt8], _ l: Line) -> Bool {
        for i in l where b[i] != 32 && b[i] != 9 { return false }
        return true
    }

    /// `## Turn N — speaker` with any spacing and `—`, `–`, `--` or `-`. Returns (N, speaker range).
    static func turnHeader(_ b: [UInt8], _ l: Line) -> (Int, Range<Int>)? {
        var i = l.lowerBound
        let end = l.upperBound
        while i < end && b[i] == 32 { i += 1 }
        guard i + 1 < end, b[i] == 35, b[i + 1] == 35 else { return nil }
        i += 2
        while i < end && (b[i] == 32 || b[i] == 35) { i += 1 }
        guard i + 4 <= end, b[i] == 84, b[i + 1] == 117, b[i + 2] == 114, b[i + 3] == 110 else { return nil }   // Turn
        i += 4
        guard i < end, b[i] == 32 || b[i] == 9 else { return nil }
        while i < end && (b[i] == 32 || b[i] == 9) { i += 1 }
        var n = 0
        let digitsStart = i
        while i < end && b[i] >= 48 && b[i] <= 57 && i - digitsStart < 9 { n = n * 10 + Int(b[i] - 48); i += 1 }
        guard i > digitsStart else { return nil }
        while i < end && (b[i] == 32 || b[i] == 9) { i += 1 }
        var sawDash = false
        dashLoop: while i < end {
            for d in dashes where i + d.count <= end && Array(b[i..<(i + d.count)]) == d {
                i += d.count
                sawDash = true
                continue dashLoop
            }
            break
        }
        guard sawDash else { return nil }
        while i < end && (b[i] == 32 || b[i] == 9) { i += 1 }
        var e = end
        // A CR at the end is trimmed with the blanks: written back, it would end the line as a CRLF does.
        while e > i && (b[e - 1] == 32 || b[e - 1] == 9 || b[e - 1] == 13) { e -= 1 }
        guard e > i else { return nil }
        for k in i..<e where b[k] == 32 || b[k] == 9 { return nil }
        return (n, i..<e)
    }

    /// Whether a line (after its leading backslashes) starts with `<!--`.
    @inline(__always) static func startsComment(_ b: [UInt8], _ from: Int, _ end: Int) -> Bool {
        var i = from
        while i < end && b[i] == 32 { i += 1 }
        return i + 4 <= end && b[i] == 60 && b[i + 1] == 33 && b[i + 2] == 45 && b[i + 3] == 45
    }

    /// `<!-- turn key=value … -->`: the key/value pairs, or nil.
    static func trailer(_ b: [UInt8], _ l: Line) -> [String: String]? {
        var s = l.lowerBound, e = l.upperBound
        while s < e && (b[s] == 32 || b[s] == 9) { s += 1 }
        while e > s && (b[e - 1] == 32 || b[e - 1] == 9) { e -= 1 }
        guard e - s >= 7, b[s] == 60, b[s + 1] == 33, b[s + 2] == 45, b[s + 3] == 45,
              b[e - 3] == 45, b[e - 2] == 45, b[e - 1] == 62 else { return nil }
        // Split on the space and `=` bytes, as `hasTrailerFields` does: split as Characters, a space or `=` followed
        // by a combining mark would be one grapheme, and the two readers would disagree about the same line.
        let inner = b[(s + 4)..<(e - 3)].split(separator: 32, omittingEmptySubsequences: true)
        guard let head = inner.first, head.elementsEqual([116, 117, 114, 110]) else { return nil }   // turn
        var fields: [String: String] = [:]
        for part in inner.dropFirst() {
            guard let eq = part.firstIndex(of: 61) else { continue }
            fields[String(decoding: part[..<eq], as: UTF8.self)] = String(decoding: part[(eq + 1)...], as: UTF8.self)
        }
        return fields
    }

    /// The body's structure: each turn's header line, content lines and trailer line.
    struct Block {
        var number: Int
        var speaker: String
        var content: Range<Int>   // line indices into `lines`
        var trailer: [String: String]
    }

    struct Body {
        var lines: [Line]
        var blocks: [Block]
        var strayLines: Int
    }

    /// Counts the turns of a body and checks its structure (every header has a well-formed trailer) without
    /// building any string: what an append needs, fast on long talks.
    static func countTurns(_ b: [UInt8], from start: Int) throws(Conversation.ParseError) -> Int {
        var count = 0
        var open: Int?
        var i = start
        while i < b.count {
            let end = b[i...].firstIndex(of: 10) ?? b.count
            let line = i..<end
            i = end + 1
            if line.isEmpty { continue }
            let first = b[line.lowerBound]
            if let number = open {
                if first == 60 || first == 32 || first == 9, startsComment(b, line.lowerBound, line.upperBound) {
                    guard hasTrailerFields(b, line) else { throw .badTrailer(number) }
                    count += 1
                    open = nil
                } else if first == 35 || first == 32, turnHeader(b, line) != nil {
                    throw .tornTurn(number)
                }
            } else if first == 35 || first == 32, let (n, _) = turnHeader(b, line) {
                open = n
            }
        }
        if let number = open { throw .tornTurn(number) }
        return count
    }

    /// Whether a line is a trailer exactly as `trailer` reads one (`<!-- turn … -->` with nonce=, sha256= and at=),
    /// without building strings: an append checks the structure with the same rule as a full parse.
    static func hasTrailerFields(_ b: [UInt8], _ l: Line) -> Bool {
        var s = l.lowerBound, e = l.upperBound
        while s < e && (b[s] == 32 || b[s] == 9) { s += 1 }
        while e > s && (b[e - 1] == 32 || b[e - 1] == 9) { e -= 1 }
        guard e - s >= 7, b[s] == 60, b[s + 1] == 33, b[s + 2] == 45, b[s + 3] == 45,
              b[e - 3] == 45, b[e - 2] == 45, b[e - 1] == 62 else { return false }
        var i = s + 4
        let end = e - 3
        var first = true
        var nonce = false, sum = false, at = false
        while i < end {
            while i < end && b[i] == 32 { i += 1 }
            guard i < end else { break }
            let start = i
            while i < end && b[i] != 32 { i += 1 }
            let token = start..<i
            if first {
                guard token.count == 4, b[start] == 116, b[start + 1] == 117, b[start + 2] == 114, b[start + 3] == 110 else { return false }
                first = false
                continue
            }
            guard let eq = b[token].firstIndex(of: 61) else { continue }
            let key = b[start..<eq]
            if key.elementsEqual([110, 111, 110, 99, 101]) { nonce = true }             // nonce
            else if key.elementsEqual([115, 104, 97, 50, 53, 54]) { sum = true }         // sha256
            else if key.elementsEqual([97, 116]) { at = true }                           // at
        }
        return !first && nonce && sum && at
    }

    /// Walks the body once. Throws on a torn structure (a header with no trailer, a malformed trailer).
    static func body(_ b: [UInt8], from start: Int) throws(Conversation.ParseError) -> Body {
        var lines: [Line] = []
        var i = start
        while i < b.count {
            let end = b[i...].firstIndex(of: 10) ?? b.count
            lines.append(i..<end)
            i = end + 1
        }
        var blocks: [Block] = []
        var stray = 0
        var open: (number: Int, speaker: String, first: Int)?
        for (index, line) in lines.enumerated() {
            if let o = open {
                if startsComment(b, line.lowerBound, line.upperBound) {
                    guard let fields = trailer(b, line), fields["nonce"] != nil, fields["sha256"] != nil, fields["at"] != nil else {
                        throw .badTrailer(o.number)
                    }
                    blocks.append(Block(number: o.number, speaker: o.speaker, content: o.first..<index, trailer: fields))
                    open = nil
                } else if turnHeader(b, line) != nil {
                    throw .tornTurn(o.number)
                }
            } else if let (n, speaker) = turnHeader(b, line) {
                open = (n, String(decoding: b[speaker], as: UTF8.self), index + 1)
            } else if !isBlank(b, line) {
                stray += 1
            }
        }
        if let o = open { throw .tornTurn(o.number) }
        return Body(lines: lines, blocks: blocks, strayLines: stray)
    }

    // MARK: Content

    /// The trailer field that marks a turn whose lines carry backslash escapes (`\\` and `\r`): written only for
    /// content with a carriage return, which could not survive a CRLF-to-LF conversion of the file otherwise.
    static let escapesField = "escapes"
    static let escapesCR = "cr"

    /// A line (from `from`, after its leading backslashes) that the parser would take for structure: a turn header
    /// or the start of an HTML comment (a trailer).
    @inline(__always) static func isReserved(_ b: [UInt8], _ from: Int, _ end: Int) -> Bool {
        turnHeader(b, from..<end) != nil || startsComment(b, from, end)
    }

    /// Renders content as the lines of a turn's body. A line gets one extra leading backslash when, after its
    /// leading backslashes, it would read as structure (a turn header, a comment), or it is blank and either starts
    /// with a backslash or is the first or last line (blank edge lines would otherwise be taken for the spacing
    /// around the content). Reading drops exactly that one backslash, so every content reads back byte for byte.
    static func renderContent(_ content: [UInt8], escaped: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.count + 16)
        var start = 0
        var line: [UInt8] = []
        while start <= content.count {
            let end = content[start...].firstIndex(of: 10) ?? content.count
            line.removeAll(keepingCapacity: true)
            if escaped {
                for c in content[start..<end] {
                    switch c {
                    case 92: line += [92, 92]
                    case 13: line += [92, 114]
                    default: line.append(c)
                    }
                }
            } else {
                line.append(contentsOf: content[start..<end])
            }
            var t = 0
            while t < line.count && line[t] == 92 { t += 1 }
            let edge = start == 0 || end == content.count
            let blank = isBlank(line, t..<line.count)
            if isReserved(line, t, line.count) || (blank && (t > 0 || edge)) { out.append(92) }
            out.append(contentsOf: line)
            if end == content.count { break }
            out.append(10)
            start = end + 1
        }
        return out
    }

    /// A turn's content: surrounding blank lines dropped, each line unescaped.
    static func content(_ b: [UInt8], _ body: Body, _ block: Block) -> String {
        String(decoding: contentBytes(b, body.lines, block), as: UTF8.self)
    }

    /// A turn's content as bytes (the inverse of `renderContent`).
    static func contentBytes(_ b: [UInt8], _ lines: [Line], _ block: Block) -> [UInt8] {
        let escaped = block.trailer[escapesField] == escapesCR
        var first = block.content.lowerBound, last = block.content.upperBound
        while first < last && isBlank(b, lines[first]) { first += 1 }
        while last > first && isBlank(b, lines[last - 1]) { last -= 1 }
        var out: [UInt8] = []
        for k in first..<last {
            let l = lines[k]
            if k > first { out.append(10) }
            var s = l.lowerBound
            if s < l.upperBound && b[s] == 92 {   // a leading backslash: drop one if what follows is reserved or blank
                var t = s
                while t < l.upperBound && b[t] == 92 { t += 1 }
                if isReserved(b, t, l.upperBound) || isBlank(b, t..<l.upperBound) { s += 1 }
            }
            if escaped {
                var i = s
                while i < l.upperBound {
                    if b[i] == 92 && i + 1 < l.upperBound && (b[i + 1] == 92 || b[i + 1] == 114) {
                        out.append(b[i + 1] == 92 ? 92 : 13)
                        i += 2
                    } else {
                        out.append(b[i])
                        i += 1
                    }
                }
            } else {
                out.append(contentsOf: b[s..<l.upperBound])
            }
        }
        return out
    }

    // MARK: Line endings

    /// Whether the file uses CRLF line endings (as its first line does).
    static func usesCRLF(_ b: [UInt8]) -> Bool {
        b.count >= 5 && b[0] == 45 && b[1] == 45 && b[2] == 45 && b[3] == 13 && b[4] == 10
    }

    /// CRLF pairs become LF; a lone CR is left alone (it is content: rendered turns never hold one raw).
    static func withoutCRLF(_ b: [UInt8]) -> [UInt8] {
        guard b.contains(13) else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == 13 && i + 1 < b.count && b[i + 1] == 10 { out.append(10); i += 2 } else { out.append(b[i]); i += 1 }
        }
        return out
    }

    /// Every LF becomes CRLF (for writing to a file kept in CRLF style).
    /// The offset in `raw` of the byte at `offset` in `withoutCRLF(raw)`.
    static func rawOffset(_ raw: [UInt8], ofConverted offset: Int) -> Int {
        var i = 0, o = 0
        while o < offset && i < raw.count {
            i += raw[i] == 13 && i + 1 < raw.count && raw[i + 1] == 10 ? 2 : 1
            o += 1
        }
        return i
    }

    static func withCRLF(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count + b.count / 16)
        for c in b {
            if c == 10 { out.append(13) }
            out.append(c)
        }
        return out
    }
}

extension TalkFile {
    /// What `salvage` finds in a file that does not parse.
    struct Salvage {
        var header: TalkHeader?
        /// Turns in file order, numbered and named by their trailers; content as found (check `isIntact`).
        var turns: [Turn]
        /// Turn headers left without a trailer (cut or torn turns).
        var tornHeaders: Int
    }

    /// Reads whatever turns a damaged file still holds, led by the trailers: each trailer closes the turn whose
    /// header came after the previous trailer. When several header-looking lines stand there, the one whose
    /// content matches the trailer's checksum wins, else the one with the trailer's number. Never throws.
    static func salvage(_ raw: [UInt8]) -> Salvage {
        let b = withoutCRLF(raw)
        var start = 0
        var header: TalkHeader?
        if let (yaml, bodyStart) = try? frontmatter(b) {
            start = bodyStart
            header = try? TalkFile.header(yaml).0
        }
        var lines: [Line] = []
        var i = start
        while i < b.count {
            let end = b[i...].firstIndex(of: 10) ?? b.count
            lines.append(i..<end)
            i = end + 1
        }
        var turns: [Turn] = []
        var torn = 0
        var previous = -1
        for (index, line) in lines.enumerated() {
            guard startsComment(b, line.lowerBound, line.upperBound), let fields = trailer(b, line),
                  let nonce = fields["nonce"], let sum = fields["sha256"], let at = fields["at"] else { continue }
            let span = (previous + 1)..<index
            previous = index
            let headers = span.filter { turnHeader(b, lines[$0]) != nil }
            let wantedNumber = fields["number"].flatMap { Int($0) }
            var chosen: (header: Int, content: [UInt8])?
            for h in headers {
                let bytes = contentBytes(b, lines, Block(number: 0, speaker: "", content: (h + 1)..<index, trailer: fields))
                if SHA256.hex(bytes) == sum { chosen = (h, bytes); break }
            }
            if chosen == nil {
                let h = headers.last { turnHeader(b, lines[$0])?.0 == wantedNumber } ?? headers.last
                let from = h.map { $0 + 1 } ?? span.lowerBound
                chosen = (h ?? -1, contentBytes(b, lines, Block(number: 0, speaker: "", content: from..<index, trailer: fields)))
            }
            guard let chosen else { continue }
            torn += headers.filter { $0 < chosen.header }.count
            let found = chosen.header >= 0 ? turnHeader(b, lines[chosen.header]) : nil
            let number = wantedNumber ?? found?.0 ?? 0
            let speaker = fields["speaker"] ?? found.map { String(decoding: b[$0.1], as: UTF8.self) } ?? ""
            turns.append(Turn(number: number, speaker: speaker, content: String(decoding: chosen.content, as: UTF8.self),
                              nonce: nonce, checksum: sum, at: at))
        }
        if previous + 1 < lines.count {
            torn += ((previous + 1)..<lines.count).filter { turnHeader(b, lines[$0]) != nil }.count
        }
        return Salvage(header: header, turns: turns, tornHeaders: torn)
    }
}
