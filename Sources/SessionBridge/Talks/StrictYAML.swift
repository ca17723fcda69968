/// A strict parser for the small YAML subset that configuration files use: block mappings and sequences, flow
/// mappings and sequences (`{a: 1}`, `[x, y]`), plain, single- and double-quoted scalars, comments, and an optional
/// `---` at the top. Everything else (anchors, aliases, tags, directives, several documents, block scalars,
/// complex keys, duplicate keys, tabs in indentation, multi-line plain scalars) is refused with the line it is on.
///
/// Files such as `.talks/config.yaml` arrive with a repository, so the input is hostile: the parser never traps,
/// its recursion is bounded by `maxDepth`, and it does work linear in the input (no alias can expand it).
package enum StrictYAML {
    /// A parsed node; `line` is 1-based, where the node starts.
    package indirect enum Node: Equatable, Sendable {
        /// A scalar's text; `plain` is false when it was quoted (so `"30"` stays text and `30` may be a number).
        case scalar(String, plain: Bool, line: Int)
        case sequence([Node], line: Int)
        case mapping([Entry], line: Int)

        package var line: Int {
            switch self {
            case .scalar(_, _, let l), .sequence(_, let l), .mapping(_, let l): return l
            }
        }

        /// The value of a plain `null`, `~` or empty scalar.
        package var isNull: Bool {
            if case .scalar(let s, true, _) = self { return s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL" }
            return false
        }
    }

    package struct Entry: Equatable, Sendable {
        package var key: String
        package var value: Node
        package var line: Int
    }

    /// Why a document was refused, with the 1-based line.
    package struct Failure: Error, Equatable, Sendable {
        package enum Reason: Equatable, Sendable {
            case notUTF8
            case controlCharacter
            case loneCarriageReturn
            case tabIndentation
            case anchor
            case alias
            case tag
            case directive
            case multipleDocuments
            case blockScalar
            case complexKey
            case reservedIndicator(Character)
            case duplicateKey(String)
            case badIndentation
            case multilineScalar
            case tooDeep
            case unterminatedQuote
            case badEscape
            case keyNotScalar
            /// Something else that is not in the subset, with the text found.
            case unexpected(String)
        }

        package var line: Int
        package var reason: Reason

        package init(line: Int, reason: Reason) {
            self.line = line
            self.reason = reason
        }

        /// One line for the user (without the file name, which the caller adds).
        package var message: String {
            let what: String
            switch reason {
            case .notUTF8: what = "not UTF-8 text"
            case .controlCharacter: what = "a control character (only tab, newline and CRLF line ends are allowed)"
            case .loneCarriageReturn: what = "a carriage return that does not end a line"
            case .tabIndentation: what = "a tab in the indentation (indent with spaces)"
            case .anchor: what = "an anchor (&): anchors and aliases are not supported"
            case .alias: what = "an alias (*): anchors and aliases are not supported"
            case .tag: what = "a tag (!): tags are not supported"
            case .directive: what = "a directive (%): directives are not supported"
            case .multipleDocuments: what = "a second document: one document per file"
            case .blockScalar: what = "a block scalar (| or >): write the text on one line, in quotes"
            case .complexKey: what = "a complex key (?): keys are plain or quoted text"
            case .reservedIndicator(let c): what = "'\(c)' cannot start a plain value: quote it"
            case .duplicateKey(let k): what = "the key '\(Identifiers.printable(k))' appears twice"
            case .badIndentation: what = "unexpected indentation"
            case .multilineScalar: what = "a value continued on the next line: write it on one line, in quotes"
            case .tooDeep: what = "nesting deeper than \(StrictYAML.maxDepth) levels"
            case .unterminatedQuote: what = "a quoted value that does not end on its line"
            case .badEscape: what = "an unknown escape in a double-quoted value"
            case .keyNotScalar: what = "a key that is not plain or quoted text"
            case .unexpected(let text): what = "unexpected '\(Identifiers.printable(text))'"
            }
            return "line \(line): \(what)"
        }
    }

    /// Nesting beyond this is refused; configuration needs two or three levels.
    package static let maxDepth = 32

    /// Parses one document. An empty document (only comments or blank lines) is nil.
    package static func parse(_ bytes: [UInt8]) -> Result<Node?, Failure> {
        var parser = Parser(bytes)
        do {
            return .success(try parser.document())
        } catch {
            return .failure(error)
        }
    }
}

/// A recursive-descent parser over bytes. Positions are byte offsets; `line` tracks the current line number.
private struct Parser {
    let b: [UInt8]
    var i = 0
    var line = 1

    init(_ bytes: [UInt8]) {
        // A UTF-8 byte order mark at the very start is allowed and skipped.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            b = Array(bytes[3...])
        } else {
            b = bytes
        }
    }

    typealias Failure = StrictYAML.Failure

    func fail(_ reason: Failure.Reason, line l: Int? = nil) -> Failure { Failure(line: l ?? line, reason: reason) }

    func at(_ k: Int) -> UInt8 { k < b.count ? b[k] : 0 }
    var current: UInt8 { at(i) }
    var atEnd: Bool { i >= b.count }

    static func isBreak(_ c: UInt8) -> Bool { c == 10 || c == 13 }
    static func isBlank(_ c: UInt8) -> Bool { c == 32 || c == 9 }

    // MARK: Checks over the whole input

    /// UTF-8, no control characters but tab and line ends, no lone CR; done first so later steps can trust bytes.
    func validateCharacters() throws(Failure) {
        var l = 1
        var k = 0
        while k < b.count {
            let c = b[k]
            if c == 10 { l += 1 } else if c == 13 {
                if at(k + 1) != 10 { throw fail(.loneCarriageReturn, line: l) }
            } else if c == 9 {
            } else if c < 32 || c == 127 {
                throw fail(.controlCharacter, line: l)
            }
            k += 1
        }
        var lineStart = 0
        l = 1
        for (k, c) in b.enumerated() where c == 10 {
            if String(validating: b[lineStart..<k], as: UTF8.self) == nil { throw fail(.notUTF8, line: l) }
            lineStart = k + 1
            l += 1
        }
        if String(validating: b[lineStart...], as: UTF8.self) == nil { throw fail(.notUTF8, line: l) }
    }

    // MARK: Lines

    /// Skips blank and comment-only lines from the start of a line; returns the indentation of the next content
    /// line (leaving `i` at its first content byte), or nil at the end. Tabs in the indentation are refused.
    mutating func nextContentLine() throws(Failure) -> Int? {
        while !atEnd {
            let start = i
            var k = i
            while at(k) == 32 { k += 1 }
            // A tab where indentation goes, even on a blank or comment line (libyaml refuses those too).
            if at(k) == 9 { throw fail(.tabIndentation) }
            let c = at(k)
            if k >= b.count { i = k; return nil }
            if c == 35 || Parser.isBreak(c) {
                // Blank or comment line: skip to the next line.
                i = k
                skipToLineEnd()
                try consumeBreak()
                continue
            }
            i = k
            return k - start
        }
        return nil
    }

    /// Moves to the end of the current line (before its line break).
    mutating func skipToLineEnd() {
        while !atEnd && !Parser.isBreak(current) { i += 1 }
    }

    /// Consumes one line break (LF or CRLF), if present.
    mutating func consumeBreak() throws(Failure) {
        if current == 13 && at(i + 1) == 10 { i += 2; line += 1 } else if current == 10 { i += 1; line += 1 }
    }

    /// After a value: only blanks and a comment may follow on the line; then the line break.
    mutating func endOfLine() throws(Failure) {
        while Parser.isBlank(current) { i += 1 }
        if current == 35 { skipToLineEnd() }
        if !atEnd && !Parser.isBreak(current) { throw fail(.unexpected(snippet())) }
        try consumeBreak()
    }

    /// The column of `i` within its line.
    func column() -> Int {
        var k = i
        while k > 0 && b[k - 1] != 10 { k -= 1 }
        return i - k
    }

    func snippet() -> String {
        var k = i
        while k < b.count && !Parser.isBreak(b[k]) && k - i < 20 { k += 1 }
        return String(decoding: b[i..<k], as: UTF8.self)
    }

    // MARK: Document

    mutating func document() throws(Failure) -> StrictYAML.Node? {
        try validateCharacters()
        guard let indent = try nextContentLine() else { return nil }
        if current == 37 { throw fail(.directive) }
        if isDocumentMarker(45) {
            i += 3
            try endOfLine()
            guard let next = try nextContentLine() else { return nil }
            return try rest(try block(indent: next, depth: 1))
        }
        return try rest(try block(indent: indent, depth: 1))
    }

    /// After the root node only blank lines and comments may remain; another `---` or `...` is refused.
    mutating func rest(_ node: StrictYAML.Node) throws(Failure) -> StrictYAML.Node {
        guard try nextContentLine() != nil else { return node }
        if isDocumentMarker(45) || isDocumentMarker(46) { throw fail(.multipleDocuments) }
        if current == 37 { throw fail(.directive) }
        throw fail(.badIndentation)
    }

    /// `---` or `...` at the start of a line, alone or followed by a blank.
    func isDocumentMarker(_ c: UInt8) -> Bool {
        column() == 0 && at(i) == c && at(i + 1) == c && at(i + 2) == c
            && (i + 3 >= b.count || Parser.isBlank(at(i + 3)) || Parser.isBreak(at(i + 3)))
    }

    // MARK: Block nodes

    /// A node whose first content is at `i`, at column `indent`: a sequence, a mapping, or one scalar or flow value.
    mutating func block(indent: Int, depth: Int) throws(Failure) -> StrictYAML.Node {
        if depth > StrictYAML.maxDepth { throw fail(.tooDeep) }
        if isDocumentMarker(45) || isDocumentMarker(46) { throw fail(.multipleDocuments) }
        if current == 45 && (Parser.isBlank(at(i + 1)) || Parser.isBreak(at(i + 1)) || i + 1 >= b.count) {
            return try sequence(indent: indent, depth: depth)
        }
        if try looksLikeKey() { return try mapping(indent: indent, depth: depth) }
        // One value; a continuation on a more indented line is refused by the enclosing collection.
        let node = try inline(depth: depth)
        try endOfLine()
        return node
    }

    /// True when the line at `i` starts with a key followed by `:` and a blank or the line end.
    mutating func looksLikeKey() throws(Failure) -> Bool {
        let save = (i, line)
        defer { (i, line) = save }
        switch current {
        case 34, 39:
            _ = try quoted()
        case 91, 123:
            return false
        default:
            _ = try plain(flow: false, key: true)
        }
        while Parser.isBlank(current) { i += 1 }
        return current == 58 && (Parser.isBlank(at(i + 1)) || Parser.isBreak(at(i + 1)) || i + 1 >= b.count)
    }

    mutating func mapping(indent: Int, depth: Int) throws(Failure) -> StrictYAML.Node {
        let startLine = line
        var entries: [StrictYAML.Entry] = []
        var keys = Set<String>()
        while true {
            let keyLine = line
            if current == 63 { throw fail(.complexKey) }
            let key: String
            switch current {
            case 34, 39: key = try quoted()
            case 91, 123: throw fail(.keyNotScalar)
            default:
                key = try plain(flow: false, key: true)
                if key.isEmpty { throw fail(.unexpected(":")) }
            }
            while Parser.isBlank(current) { i += 1 }
            // In a block mapping the ':' is followed by a blank or the line end, even after a quoted key.
            guard current == 58, Parser.isBlank(at(i + 1)) || Parser.isBreak(at(i + 1)) || i + 1 >= b.count else {
                throw fail(.unexpected(snippet()))
            }
            i += 1
            if !keys.insert(key).inserted { throw fail(.duplicateKey(key), line: keyLine) }
            while Parser.isBlank(current) { i += 1 }
            let value: StrictYAML.Node
            if atEnd || Parser.isBreak(current) || current == 35 {
                try endOfLine()
                let save = (i, line)
                if let next = try nextContentLine() {
                    let isItem = current == 45 && (Parser.isBlank(at(i + 1)) || Parser.isBreak(at(i + 1)) || i + 1 >= b.count)
                    if next > indent || (next == indent && isItem) {
                        value = try block(indent: next, depth: depth + 1)
                    } else {
                        (i, line) = save
                        value = .scalar("", plain: true, line: keyLine)
                    }
                } else {
                    value = .scalar("", plain: true, line: keyLine)
                }
            } else {
                value = try inline(depth: depth + 1)
                try endOfLine()
            }
            entries.append(StrictYAML.Entry(key: key, value: value, line: keyLine))
            let save = (i, line)
            guard let next = try nextContentLine() else { break }
            if next < indent { (i, line) = save; break }
            if next > indent {
                if case .scalar = value { throw fail(.multilineScalar) }
                throw fail(.badIndentation)
            }
            if isDocumentMarker(45) || isDocumentMarker(46) { (i, line) = save; break }
            if current == 45 && (Parser.isBlank(at(i + 1)) || Parser.isBreak(at(i + 1)) || i + 1 >= b.count) {
                throw fail(.unexpected("-"))
            }
        }
        return .mapping(entries, line: startLine)
    }

    mutating func sequence(indent: Int, depth: Int) throws(Failure) -> StrictYAML.Node {
        let startLine = line
        var items: [StrictYAML.Node] = []
        while true {
            // At a '-' at column `indent`.
            i += 1
            while current == 32 { i += 1 }
            if current == 9 { throw fail(.tabIndentation) }
            if atEnd || Parser.isBreak(current) || current == 35 {
                try endOfLine()
                let save = (i, line)
                if let next = try nextContentLine(), next > indent {
                    items.append(try block(indent: next, depth: depth + 1))
                } else {
                    (i, line) = save
                    items.append(.scalar("", plain: true, line: line))
                }
            } else {
                // The item starts on this line; a mapping in it is indented to where its first key starts.
                items.append(try block(indent: column(), depth: depth + 1))
            }
            let save = (i, line)
            guard let next = try nextContentLine() else { break }
            if next < indent { (i, line) = save; break }
            if next > indent { throw fail(.badIndentation) }
            if isDocumentMarker(45) || isDocumentMarker(46) { (i, line) = save; break }
            guard current == 45 && (Parser.isBlank(at(i + 1)) || Parser.isBreak(at(i + 1)) || i + 1 >= b.count) else {
                // A key at the indentation of a sequence that is a mapping's value ends the sequence.
                (i, line) = save
                break
            }
        }
        return .sequence(items, line: startLine)
    }

    // MARK: Values on one line (and flow collections, which may span lines)

    mutating func inline(depth: Int) throws(Failure) -> StrictYAML.Node {
        if depth > StrictYAML.maxDepth { throw fail(.tooDeep) }
        let l = line
        switch current {
        case 91: return try flowSequence(depth: depth)
        case 123: return try flowMapping(depth: depth)
        case 34, 39: return .scalar(try quoted(), plain: false, line: l)
        default: return .scalar(try plain(flow: false, key: false), plain: true, line: l)
        }
    }

    /// Skips blanks, line breaks and comments inside a flow collection.
    mutating func skipFlowSpace() throws(Failure) {
        while !atEnd {
            if Parser.isBlank(current) { i += 1; continue }
            if Parser.isBreak(current) { try consumeBreak(); continue }
            if current == 35 && (i == 0 || Parser.isBlank(b[i - 1]) || Parser.isBreak(b[i - 1])) { skipToLineEnd(); continue }
            break
        }
    }

    mutating func flowValue(depth: Int) throws(Failure) -> StrictYAML.Node {
        if depth > StrictYAML.maxDepth { throw fail(.tooDeep) }
        let l = line
        switch current {
        case 91: return try flowSequence(depth: depth)
        case 123: return try flowMapping(depth: depth)
        case 34, 39: return .scalar(try quoted(), plain: false, line: l)
        default: return .scalar(try plain(flow: true, key: false), plain: true, line: l)
        }
    }

    mutating func flowSequence(depth: Int) throws(Failure) -> StrictYAML.Node {
        if depth > StrictYAML.maxDepth { throw fail(.tooDeep) }
        let l = line
        i += 1
        var items: [StrictYAML.Node] = []
        while true {
            try skipFlowSpace()
            if atEnd { throw fail(.unexpected("end of file (an unclosed '[')")) }
            if current == 93 { i += 1; break }
            if current == 63 { throw fail(.complexKey) }
            items.append(try flowValue(depth: depth + 1))
            try skipFlowSpace()
            if current == 58 { throw fail(.unexpected(":")) }
            if current == 44 { i += 1; continue }
            if current == 93 { i += 1; break }
            throw fail(atEnd ? .unexpected("end of file (an unclosed '[')") : .unexpected(snippet()))
        }
        return .sequence(items, line: l)
    }

    mutating func flowMapping(depth: Int) throws(Failure) -> StrictYAML.Node {
        if depth > StrictYAML.maxDepth { throw fail(.tooDeep) }
        let l = line
        i += 1
        var entries: [StrictYAML.Entry] = []
        var keys = Set<String>()
        while true {
            try skipFlowSpace()
            if atEnd { throw fail(.unexpected("end of file (an unclosed '{')")) }
            if current == 125 { i += 1; break }
            if current == 63 { throw fail(.complexKey) }
            let keyLine = line
            let key: String
            switch current {
            case 34, 39: key = try quoted()
            case 91, 123: throw fail(.keyNotScalar)
            default:
                key = try plain(flow: true, key: true)
                if key.isEmpty { throw fail(.unexpected(":")) }
            }
            // An implicit key and its ':' share a line.
            while Parser.isBlank(current) { i += 1 }
            guard current == 58 else { throw fail(atEnd ? .unexpected("end of file (an unclosed '{')") : .unexpected(snippet())) }
            i += 1
            if !keys.insert(key).inserted { throw fail(.duplicateKey(key), line: keyLine) }
            try skipFlowSpace()
            let value: StrictYAML.Node
            if current == 44 || current == 125 {
                value = .scalar("", plain: true, line: keyLine)
            } else {
                value = try flowValue(depth: depth + 1)
            }
            entries.append(StrictYAML.Entry(key: key, value: value, line: keyLine))
            try skipFlowSpace()
            if current == 44 { i += 1; continue }
            if current == 125 { i += 1; break }
            throw fail(atEnd ? .unexpected("end of file (an unclosed '{')") : .unexpected(snippet()))
        }
        return .mapping(entries, line: l)
    }

    // MARK: Scalars

    /// A plain scalar. It ends at a line break, at ` #`, at `: ` (or `:` before the end) for keys, and in flow
    /// context also at `,`, `[`, `]`, `{`, `}`. Indicators that would start something unsupported are refused.
    mutating func plain(flow: Bool, key: Bool) throws(Failure) -> String {
        let c = current
        switch c {
        case 38: throw fail(.anchor)
        case 42: throw fail(.alias)
        case 33: throw fail(.tag)
        case 124, 62: throw fail(.blockScalar)
        case 37: throw fail(.directive)
        case 64: throw fail(.reservedIndicator("@"))
        case 96: throw fail(.reservedIndicator("`"))
        case 63 where flow || Parser.isBlank(at(i + 1)) || Parser.isBreak(at(i + 1)) || i + 1 >= b.count: throw fail(.complexKey)
        case 44, 93, 125: throw fail(.unexpected(String(UnicodeScalar(c))))
        case 91, 123: throw fail(.unexpected(String(UnicodeScalar(c))))
        case 35: throw fail(.unexpected("#"))
        case 58 where flow: throw fail(.unexpected(":"))
        case 45 where Parser.isBlank(at(i + 1)) || Parser.isBreak(at(i + 1)) || i + 1 >= b.count:
            throw fail(.unexpected("-"))
        default: break
        }
        let start = i
        var end = i
        while !atEnd {
            let ch = current
            if Parser.isBreak(ch) { break }
            if ch == 35 && i > start && Parser.isBlank(b[i - 1]) { break }
            if ch == 58 {
                let n = at(i + 1)
                if Parser.isBlank(n) || Parser.isBreak(n) || i + 1 >= b.count { break }
                // In a flow collection `x:,` or `x:]` is neither a key nor text (libyaml refuses it too).
                if flow && (n == 44 || n == 91 || n == 93 || n == 123 || n == 125) { throw fail(.unexpected(":")) }
            }
            if flow && (ch == 44 || ch == 91 || ch == 93 || ch == 123 || ch == 125) { break }
            i += 1
            if !Parser.isBlank(ch) { end = i }
        }
        // Trailing blanks are not part of the value.
        let text = String(decoding: b[start..<end], as: UTF8.self)
        i = end
        // `key: a: b` on one line is a mapping where a value was expected.
        if !key && !flow {
            var k = i
            while Parser.isBlank(at(k)) { k += 1 }
            if at(k) == 58 && k < b.count { throw fail(.unexpected(":")) }
        }
        return text
    }

    /// A single- or double-quoted scalar on one line.
    mutating func quoted() throws(Failure) -> String {
        let q = current
        i += 1
        var out: [UInt8] = []
        while true {
            if atEnd || Parser.isBreak(current) { throw fail(.unterminatedQuote) }
            let c = current
            if q == 39 {
                if c == 39 {
                    if at(i + 1) == 39 { out.append(39); i += 2; continue }
                    i += 1
                    break
                }
                out.append(c)
                i += 1
                continue
            }
            if c == 34 { i += 1; break }
            if c != 92 { out.append(c); i += 1; continue }
            i += 1
            let e = current
            i += 1
            switch e {
            case 48: out.append(0)
            case 97: out.append(7)
            case 98: out.append(8)
            case 116, 9: out.append(9)
            case 110: out.append(10)
            case 118: out.append(11)
            case 102: out.append(12)
            case 114: out.append(13)
            case 101: out.append(27)
            case 32: out.append(32)
            case 34: out.append(34)
            case 47: out.append(47)
            case 92: out.append(92)
            case 78: out.append(contentsOf: [0xC2, 0x85])
            case 95: out.append(contentsOf: [0xC2, 0xA0])
            case 76: out.append(contentsOf: [0xE2, 0x80, 0xA8])
            case 80: out.append(contentsOf: [0xE2, 0x80, 0xA9])
            case 120, 117, 85:
                let digits = e == 120 ? 2 : (e == 117 ? 4 : 8)
                var value: UInt32 = 0
                for _ in 0..<digits {
                    guard let d = Parser.hexValue(current) else { throw fail(.badEscape) }
                    value = value << 4 | UInt32(d)
                    i += 1
                }
                guard let scalar = Unicode.Scalar(value) else { throw fail(.badEscape) }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw fail(.badEscape)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
