/// The syntax tree of a shell script, as far as the guard needs it: every command that may run (in `if`, loops,
/// `case`, groups, subshells, pipelines, functions, substitutions), with its words still unexpanded and its
/// redirections and here-document bodies attached. The parser never fails: text it cannot read becomes words, so
/// hostile input yields a tree, never a trap.
indirect enum ShellNode {
    case simple(SimpleCommand)
    /// Commands connected by `|` or `|&`; each stage reads the previous one's output.
    case pipeline([ShellNode])
    /// Commands run one after another (`;`, `&`, `&&`, `||`, newlines): any of them may run.
    case sequence([ShellNode])
    /// `( … )`: changes of directory and variables stay inside.
    case subshell(ShellNode, [ShellRedirect])
    /// `{ …; }`, `if`, `while`, `until`, `case`, `[[ ]]`, `(( ))`: parts that may all run, in order.
    case compound([ShellNode], [ShellRedirect])
    /// `for NAME in WORDS; do BODY; done` (words nil: the positional parameters).
    case forLoop(name: String, words: [ShellWord]?, body: ShellNode, [ShellRedirect])
    /// `name() BODY` or `function name BODY`.
    case function(name: String, body: ShellNode)
    /// A condition that only reads (`[[ … ]]`, `(( … ))`), with words whose substitutions still run.
    case test([ShellWord])
}

struct SimpleCommand {
    var assignments: [(name: String, value: ShellWord)] = []
    var words: [ShellWord] = []
    var redirects: [ShellRedirect] = []
}

/// A word before expansion: literal, quoted and expandable parts in order.
struct ShellWord {
    var parts: [ShellWordPart]

    /// The text the word stands for when it has no expansions (quotes removed), else nil.
    var literalText: String? {
        var s = ""
        for p in parts {
            switch p {
            case .literal(let t), .quoted(let t): s += t
            default: return nil
            }
        }
        return s
    }
}

enum ShellWordPart {
    /// Unquoted text: subject to tilde, brace and pathname expansion.
    case literal(String)
    /// Quoted text (`'…'`, `"…"` pieces, `$'…'`, escaped characters): taken as is.
    case quoted(String)
    /// `$NAME`, `${NAME…}`, `$1`, `$@` …
    case parameter(ParameterExpansion, quoted: Bool)
    /// `$(…)` or backticks.
    case command(ShellNode, quoted: Bool)
    /// `$(( … ))` or `$[ … ]`: a number.
    case arithmetic
    /// `<(…)` or `>(…)`: a /dev/fd path whose commands run.
    case process(ShellNode)
}

struct ParameterExpansion {
    var name: String
    /// "" for plain `$NAME`; else the operator text (`:-`, `%%`, `/`, `#` for length, `!` for indirection …).
    var op: String = ""
    var argument: ShellWord?
    var replacement: ShellWord?
}

/// The text of a here-document, filled in when the parser reaches the line after its operator.
final class HereDocumentBody {
    var word = ShellWord(parts: [])
}

struct ShellRedirect {
    enum Op: String {
        case output = ">", append = ">>", clobber = ">|", input = "<", readWrite = "<>", duplicateOutput = ">&",
             duplicateInput = "<&", outputAndError = "&>", appendOutputAndError = "&>>", hereDocument = "<<", hereString = "<<<"
    }
    var fd: Int?
    var op: Op
    var target: ShellWord
    var body: HereDocumentBody?

    /// Whether the redirection can create or change the file it names.
    var writes: Bool {
        switch op {
        case .output, .append, .clobber, .readWrite, .outputAndError, .appendOutputAndError: return true
        case .duplicateOutput:
            // `>&2`, `>&-` duplicate a descriptor; `>&file` writes a file.
            guard let t = target.literalText else { return true }
            return !(t == "-" || (!t.isEmpty && t.allSatisfy(\.isNumber)))
        case .input, .duplicateInput, .hereDocument, .hereString: return false
        }
    }
}

/// A recursive-descent reader of POSIX sh and bash syntax over UTF-8 bytes.
struct ShellParser {
    private let c: [UInt8]
    private var i = 0
    private var pending: [(delimiter: String, stripTabs: Bool, expands: Bool, body: HereDocumentBody)] = []
    private let depth: Int
    /// Shared limit on nodes made, so a hostile script cannot make the parse slow.
    private var budget: Int

    static let maxDepth = 24
    /// Compound commands nested deeper than this are not read (the rest of the text becomes "anything").
    static let maxNesting = 64
    private var nesting = 0
    /// Set when the text nests deeper than the parser reads.
    private(set) var tooDeep = false

    init(_ text: String, depth: Int = 0, budget: Int = 20_000) {
        c = Array(text.utf8)
        self.depth = depth
        self.budget = budget
    }

    private init(bytes: [UInt8], depth: Int, budget: Int) {
        c = bytes
        self.depth = depth
        self.budget = budget
    }

    /// Parses a whole script.
    static func parse(_ text: String) -> ShellNode {
        var p = ShellParser(text)
        return p.parseAll()
    }

    mutating func parseAll() -> ShellNode {
        var items: [ShellNode] = []
        while i < c.count && budget > 0 {
            let before = i
            items.append(parseList(until: []))
            if i == before { i += 1 }   // a stray `)`, `}`, `fi` …: skip it and go on
        }
        return .sequence(items)
    }

    // MARK: Characters

    private func at(_ k: Int) -> UInt8 { k < c.count ? c[k] : 0 }
    private var cur: UInt8 { at(i) }

    private static func isBlank(_ b: UInt8) -> Bool { b == 32 || b == 9 }
    private static func isMeta(_ b: UInt8) -> Bool {
        b == 32 || b == 9 || b == 10 || b == 59 || b == 38 || b == 124 || b == 40 || b == 41 || b == 60 || b == 62 || b == 13
    }
    private static func isNameStart(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
    private static func isNameChar(_ b: UInt8) -> Bool { isNameStart(b) || (b >= 48 && b <= 57) }

    private func text(_ a: Int, _ b: Int) -> String {
        let lo = max(0, min(a, c.count)), hi = max(lo, min(b, c.count))
        return String(decoding: c[lo..<hi], as: UTF8.self)
    }

    /// Skips blanks, line continuations and comments (not newlines).
    private mutating func skipBlanks() {
        while i < c.count {
            if ShellParser.isBlank(cur) || cur == 13 { i += 1; continue }
            if cur == 92 && at(i + 1) == 10 { i += 2; continue }
            if cur == 35 {   // `#` at a word start: a comment
                while i < c.count && cur != 10 { i += 1 }
                continue
            }
            break
        }
    }

    /// Consumes a newline and the here-document bodies that start after it.
    private mutating func consumeNewline() {
        i += 1
        readPendingHereDocuments()
    }

    private mutating func readPendingHereDocuments() {
        let docs = pending
        pending = []
        for doc in docs {
            let start = i
            var bodyEnd = c.count
            var next = c.count
            var lineStart = i
            while lineStart < c.count {
                var lineEnd = lineStart
                while lineEnd < c.count && c[lineEnd] != 10 { lineEnd += 1 }
                var s = lineStart
                if doc.stripTabs { while s < lineEnd && c[s] == 9 { s += 1 } }
                if text(s, lineEnd) == doc.delimiter {
                    bodyEnd = lineStart
                    next = min(lineEnd + 1, c.count)
                    break
                }
                lineStart = lineEnd + 1
            }
            var bodyText = text(start, bodyEnd)
            if doc.stripTabs {
                bodyText = bodyText.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { String($0.drop { $0 == "\t" }) }.joined(separator: "\n")
            }
            doc.body.word = doc.expands ? ShellParser.expandingBody(bodyText, depth: depth, budget: &budget) : ShellWord(parts: [.quoted(bodyText)])
            i = next
        }
    }

    /// An unquoted here-document body: `$…`, backticks and backslashes work as inside double quotes.
    static func expandingBody(_ text: String, depth: Int, budget: inout Int) -> ShellWord {
        var p = ShellParser(bytes: Array(text.utf8), depth: depth, budget: budget)
        let parts = p.readDoubleQuoted(terminator: nil)
        budget = p.budget
        return ShellWord(parts: parts)
    }

    // MARK: Lists

    private static let closers: Set<String> = ["then", "else", "elif", "fi", "do", "done", "esac", "}", "in"]

    /// `and-or` items separated by `;`, `&` and newlines, up to a closing keyword in `until` (or `)`, `;;`).
    private mutating func parseList(until: Set<String>) -> ShellNode {
        var items: [ShellNode] = []
        while i < c.count && budget > 0 {
            skipBlanks()
            guard i < c.count else { break }
            if cur == 10 { consumeNewline(); continue }
            if cur == 59 && at(i + 1) != 59 { i += 1; continue }   // a stray `;`
            if cur == 38 && at(i + 1) != 38 { i += 1; continue }   // `&` after a command
            if cur == 41 { break }                                 // `)` ends a subshell or substitution
            if cur == 59 && at(i + 1) == 59 { break }              // `;;` ends a case item
            if let word = peekReservedWord(), until.contains(word) || ShellParser.closers.contains(word) && !until.isEmpty { break }
            let before = i
            let item = parseAndOr(until: until)
            items.append(item)
            if i == before { i += 1 }
            skipBlanks()
            if cur == 59 && at(i + 1) != 59 && at(i + 1) != 38 { i += 1 }
            else if cur == 59 && at(i + 1) == 38 { i += 2 }       // `;&` in case
            else if cur == 38 && at(i + 1) != 38 && at(i + 1) != 62 { i += 1 }
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func parseAndOr(until: Set<String>) -> ShellNode {
        var items = [parsePipeline(until: until)]
        while budget > 0 {
            skipBlanks()
            if (cur == 38 && at(i + 1) == 38) || (cur == 124 && at(i + 1) == 124) {
                i += 2
                skipNewlines()
                items.append(parsePipeline(until: until))
            } else {
                break
            }
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func skipNewlines() {
        while i < c.count {
            skipBlanks()
            if cur == 10 { consumeNewline() } else { break }
        }
    }

    private mutating func parsePipeline(until: Set<String>) -> ShellNode {
        skipBlanks()
        while cur == 33 && ShellParser.isMeta(at(i + 1)) { i += 1; skipBlanks() }   // `!`
        if peekReservedWord() == "time" { i += 4; skipBlanks(); while cur == 45 && at(i + 1) == 112 { i += 2; skipBlanks() } }
        var stages = [parseCommand(until: until)]
        while budget > 0 {
            skipBlanks()
            if cur == 124 && at(i + 1) != 124 {
                i += at(i + 1) == 38 ? 2 : 1
                skipNewlines()
                stages.append(parseCommand(until: until))
            } else {
                break
            }
        }
        return stages.count == 1 ? stages[0] : .pipeline(stages)
    }

    /// The reserved word at the cursor, if the next token is one.
    private func peekReservedWord() -> String? {
        var j = i
        while j < c.count && !ShellParser.isMeta(c[j]) && c[j] != 34 && c[j] != 39 && c[j] != 92 && c[j] != 36 && c[j] != 96 { j += 1 }
        guard j > i, j - i <= 8 else {
            if cur == 123 || cur == 125 { return String(UnicodeScalar(cur)) }
            return nil
        }
        let w = text(i, j)
        switch w {
        case "if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "select", "in",
             "function", "{", "}", "[[", "time", "coproc":
            return w
        default:
            return nil
        }
    }

    private mutating func expectKeyword(_ word: String) {
        skipNewlines()
        skipBlanks()
        if peekReservedWord() == word { i += word.utf8.count }
    }

    // MARK: Commands

    private mutating func parseCommand(until: Set<String>) -> ShellNode {
        budget -= 1
        nesting += 1
        defer { nesting -= 1 }
        skipBlanks()
        guard depth < ShellParser.maxDepth, nesting < ShellParser.maxNesting, budget > 0 else {
            i = c.count
            tooDeep = true
            return .simple(SimpleCommand(words: [ShellWord(parts: [.literal("\u{2}")]), ShellWord(parts: [.literal("\u{2}")])]))
        }
        if cur == 40 {
            if at(i + 1) == 40 { return parseArithmeticCommand() }
            i += 1
            let body = parseList(until: [])
            if cur == 41 { i += 1 }
            return .subshell(body, parseTrailingRedirects())
        }
        switch peekReservedWord() {
        case "{":
            i += 1
            let body = parseList(until: ["}"])
            expectKeyword("}")
            return .compound([body], parseTrailingRedirects())
        case "if":
            i += 2
            var parts: [ShellNode] = [parseList(until: ["then"])]
            expectKeyword("then")
            parts.append(parseList(until: ["elif", "else", "fi"]))
            while budget > 0 {
                skipNewlines()
                if peekReservedWord() == "elif" {
                    i += 4
                    parts.append(parseList(until: ["then"]))
                    expectKeyword("then")
                    parts.append(parseList(until: ["elif", "else", "fi"]))
                } else if peekReservedWord() == "else" {
                    i += 4
                    parts.append(parseList(until: ["fi"]))
                } else {
                    break
                }
            }
            expectKeyword("fi")
            return .compound(parts, parseTrailingRedirects())
        case "while", "until":
            i += 5
            let condition = parseList(until: ["do"])
            expectKeyword("do")
            let body = parseList(until: ["done"])
            expectKeyword("done")
            return .compound([condition, body], parseTrailingRedirects())
        case "for", "select":
            i += peekReservedWord() == "for" ? 3 : 6
            skipBlanks()
            if cur == 40 && at(i + 1) == 40 {
                _ = parseArithmeticCommand()
                skipBlanks()
                if cur == 59 { i += 1 }
                expectKeyword("do")
                let body = parseList(until: ["done"])
                expectKeyword("done")
                return .compound([body], parseTrailingRedirects())
            }
            let name = readWord()?.literalText ?? ""
            skipBlanks()
            var words: [ShellWord]?
            skipNewlines()
            if peekReservedWord() == "in" {
                i += 2
                var list: [ShellWord] = []
                while budget > 0 {
                    skipBlanks()
                    if cur == 59 || cur == 10 || i >= c.count { break }
                    guard let w = readWord() else { break }
                    list.append(w)
                }
                words = list
            }
            skipBlanks()
            if cur == 59 { i += 1 }
            expectKeyword("do")
            let body = parseList(until: ["done"])
            expectKeyword("done")
            return .forLoop(name: name, words: words, body: body, parseTrailingRedirects())
        case "case":
            i += 4
            skipBlanks()
            let subject = readWord() ?? ShellWord(parts: [])
            expectKeyword("in")
            var parts: [ShellNode] = [.test([subject])]
            while i < c.count && budget > 0 {
                skipNewlines()
                if peekReservedWord() == "esac" { break }
                if cur == 40 { i += 1 }
                // Patterns up to `)`.
                var patterns: [ShellWord] = []
                while i < c.count && budget > 0 {
                    skipBlanks()
                    if cur == 41 { i += 1; break }
                    if cur == 124 { i += 1; continue }
                    guard let w = readWord() else { i += 1; continue }
                    patterns.append(w)
                }
                parts.append(.test(patterns))
                parts.append(parseList(until: ["esac"]))
                skipBlanks()
                if cur == 59 && at(i + 1) == 59 { i += at(i + 2) == 38 ? 3 : 2 }
            }
            expectKeyword("esac")
            return .compound(parts, parseTrailingRedirects())
        case "[[":
            i += 2
            var words: [ShellWord] = []
            while i < c.count && budget > 0 {
                skipBlanks()
                if cur == 10 { consumeNewline(); continue }
                if cur == 93 && at(i + 1) == 93 && ShellParser.isMeta(at(i + 2)) || (cur == 93 && at(i + 1) == 93 && i + 2 >= c.count) { i += 2; break }
                if ShellParser.isMeta(cur) { i += 1; continue }   // `<`, `>`, `(`, `&&` … compare, they do not redirect
                guard let w = readWord() else { i += 1; continue }
                words.append(w)
            }
            return .compound([.test(words)], parseTrailingRedirects())
        case "function":
            i += 8
            skipBlanks()
            let name = readWord()?.literalText ?? ""
            skipBlanks()
            if cur == 40 && at(i + 1) == 41 { i += 2 }
            skipNewlines()
            return .function(name: name, body: parseCommand(until: until))
        case "coproc":
            i += 6
            return parseCommand(until: until)
        default:
            break
        }
        return parseSimple()
    }

    /// `(( … ))` as a command: reads only (its substitutions still run).
    private mutating func parseArithmeticCommand() -> ShellNode {
        i += 2
        var level = 0
        let start = i
        while i < c.count {
            if cur == 40 { level += 1 } else if cur == 41 {
                if level == 0 && at(i + 1) == 41 { break }
                level -= 1
            }
            i += 1
        }
        let inner = text(start, i)
        i = min(c.count, i + 2)
        var words: [ShellWord] = []
        if inner.contains("$") || inner.contains("`") {
            var sub = ShellParser(bytes: Array(inner.utf8), depth: depth + 1, budget: budget)
            words.append(ShellWord(parts: sub.readDoubleQuoted(terminator: nil)))
            budget = sub.budget
        }
        return .compound([.test(words)], parseTrailingRedirects())
    }

    private mutating func parseTrailingRedirects() -> [ShellRedirect] {
        var redirects: [ShellRedirect] = []
        while budget > 0 {
            skipBlanks()
            guard let r = tryRedirect() else { break }
            redirects.append(r)
        }
        return redirects
    }

    private mutating func parseSimple() -> ShellNode {
        var command = SimpleCommand()
        while i < c.count && budget > 0 {
            skipBlanks()
            guard i < c.count else { break }
            if let r = tryRedirect() { command.redirects.append(r); continue }
            // `<(…)` and `>(…)` start a word (a process substitution), not an operator.
            if ShellParser.isMeta(cur) && !((cur == 60 || cur == 62) && at(i + 1) == 40) {
                // `name() { … }`: a function definition.
                if cur == 40 && at(i + 1) == 41, command.words.count == 1, command.assignments.isEmpty, let name = command.words[0].literalText {
                    i += 2
                    skipNewlines()
                    return .function(name: name, body: parseCommand(until: []))
                }
                if cur == 40 && command.words.isEmpty && command.assignments.isEmpty { return parseCommand(until: []) }
                break
            }
            let start = i
            guard let word = readWord() else { if i == start { i += 1 }; continue }
            if command.words.isEmpty, let assignment = ShellParser.assignment(word) {
                command.assignments.append(assignment)
            } else {
                command.words.append(word)
            }
        }
        return .simple(command)
    }

    /// `NAME=value` (or `NAME+=value`): the name and the value's parts.
    static func assignment(_ word: ShellWord) -> (name: String, value: ShellWord)? {
        guard case .literal(let first)? = word.parts.first, let eq = first.firstIndex(of: "=") else { return nil }
        var name = String(first[..<eq])
        let appends = name.hasSuffix("+")
        if appends { name.removeLast() }
        guard let f = name.utf8.first, isNameStart(f), name.utf8.allSatisfy(isNameChar) else { return nil }
        var rest = Array(word.parts.dropFirst())
        let tail = String(first[first.index(after: eq)...])
        if !tail.isEmpty { rest.insert(.literal(tail), at: 0) }
        // `NAME+=value` is `NAME=${NAME}value`.
        if appends { rest.insert(.parameter(ParameterExpansion(name: name), quoted: true), at: 0) }
        return (name, ShellWord(parts: rest))
    }

    /// A redirection at the cursor: `[n]op target`, `&>`, here-documents (whose bodies are read at the next newline).
    private mutating func tryRedirect() -> ShellRedirect? {
        var j = i
        var fd: Int?
        while j < c.count && c[j] >= 48 && c[j] <= 57 { j += 1 }
        if j > i {
            guard j < c.count, c[j] == 60 || c[j] == 62 else { return nil }
            fd = Int(text(i, j)).map { min($0, 1 << 20) }
        } else if cur == 123 {
            // `{var}>file`
            var k = i + 1
            while k < c.count && ShellParser.isNameChar(c[k]) { k += 1 }
            guard k > i + 1, at(k) == 125, at(k + 1) == 60 || at(k + 1) == 62 else { return nil }
            j = k + 1
        }
        let b0 = at(j), b1 = at(j + 1), b2 = at(j + 2)
        let op: ShellRedirect.Op
        var len = 1
        switch (b0, b1, b2) {
        case (38, 62, 62): op = .appendOutputAndError; len = 3
        case (38, 62, _): op = .outputAndError; len = 2
        case (60, 60, 60): op = .hereString; len = 3
        case (60, 60, _): op = .hereDocument; len = 2
        case (60, 62, _): op = .readWrite; len = 2
        case (60, 38, _): op = .duplicateInput; len = 2
        case (60, 40, _): return nil   // <( … ): process substitution, a word
        case (60, _, _): op = .input
        case (62, 62, _): op = .append; len = 2
        case (62, 124, _): op = .clobber; len = 2
        case (62, 38, _): op = .duplicateOutput; len = 2
        case (62, 40, _): return nil
        case (62, _, _): op = .output
        default: return nil
        }
        i = j + len
        if op == .hereDocument {
            let stripTabs = cur == 45
            if stripTabs { i += 1 }
            skipBlanks()
            let delimiterWord = readWord() ?? ShellWord(parts: [])
            var delimiter = ""
            var quoted = false
            for p in delimiterWord.parts {
                switch p {
                case .literal(let t): delimiter += t
                case .quoted(let t): delimiter += t; quoted = true
                case .parameter(let e, _): delimiter += "$" + e.name
                default: quoted = true
                }
            }
            let body = HereDocumentBody()
            pending.append((delimiter, stripTabs, !quoted, body))
            return ShellRedirect(fd: fd, op: op, target: delimiterWord, body: body)
        }
        skipBlanks()
        let target = readWord() ?? ShellWord(parts: [])
        return ShellRedirect(fd: fd, op: op, target: target, body: nil)
    }

    // MARK: Words

    /// Reads one word up to an unquoted metacharacter; nil at a metacharacter.
    private mutating func readWord() -> ShellWord? {
        var parts: [ShellWordPart] = []
        var lit: [UInt8] = []
        func flush() {
            if !lit.isEmpty { parts.append(.literal(String(decoding: lit, as: UTF8.self))); lit = [] }
        }
        let start = i
        while i < c.count && budget > 0 {
            let b = cur
            if (b == 60 || b == 62) && at(i + 1) == 40 {
                // Process substitution.
                flush()
                i += 2
                let node = parseNested()
                parts.append(.process(node))
                continue
            }
            if ShellParser.isMeta(b) {
                // `a=(x y)`: an array assignment; its elements become the value.
                if b == 40, parts.isEmpty, let s = Optional(String(decoding: lit, as: UTF8.self)), s.hasSuffix("="),
                   ShellParser.assignment(ShellWord(parts: [.literal(s)])) != nil {
                    i += 1
                    var elements: [ShellWordPart] = []
                    while i < c.count && cur != 41 && budget > 0 {
                        if ShellParser.isBlank(cur) || cur == 10 { i += 1; continue }
                        guard let w = readWord() else { i += 1; continue }
                        if !elements.isEmpty { elements.append(.quoted(" ")) }
                        elements += w.parts
                    }
                    if cur == 41 { i += 1 }
                    lit = []
                    parts.append(.literal(s))
                    parts += elements
                    continue
                }
                break
            }
            switch b {
            case 92:   // backslash
                if at(i + 1) == 10 { i += 2; continue }
                flush()
                if i + 1 < c.count {
                    let n = ShellParser.utf8Length(c[i + 1])
                    parts.append(.quoted(text(i + 1, i + 1 + n)))
                    i += 1 + n
                } else {
                    i += 1
                }
            case 39:   // '…'
                flush()
                let s = i + 1
                var e = s
                while e < c.count && c[e] != 39 { e += 1 }
                parts.append(.quoted(text(s, e)))
                i = min(c.count, e + 1)
            case 34:   // "…"
                flush()
                i += 1
                parts += readDoubleQuoted(terminator: 34)
            case 36:   // $
                if at(i + 1) == 39 {
                    flush()
                    i += 2
                    parts.append(.quoted(readANSIC()))
                } else if at(i + 1) == 34 {
                    flush()
                    i += 2
                    parts += readDoubleQuoted(terminator: 34)
                } else if let part = readDollar(quoted: false) {
                    flush()
                    parts.append(part)
                } else {
                    lit.append(b)
                    i += 1
                }
            case 96:   // `…`
                flush()
                parts.append(.command(readBackquoted(), quoted: false))
            default:
                lit.append(b)
                i += 1
            }
        }
        flush()
        if i == start { return nil }
        return ShellWord(parts: parts)
    }

    private static func utf8Length(_ lead: UInt8) -> Int {
        if lead < 0xC0 { return 1 }
        if lead < 0xE0 { return 2 }
        if lead < 0xF0 { return 3 }
        return 4
    }

    /// The inside of double quotes (or of an expanding here-document when `terminator` is nil).
    mutating func readDoubleQuoted(terminator: UInt8?) -> [ShellWordPart] {
        var parts: [ShellWordPart] = []
        var lit: [UInt8] = []
        func flush() {
            if !lit.isEmpty { parts.append(.quoted(String(decoding: lit, as: UTF8.self))); lit = [] }
        }
        while i < c.count && budget > 0 {
            let b = cur
            if let t = terminator, b == t { i += 1; break }
            if b == 92 {
                let n = at(i + 1)
                if n == 36 || n == 96 || n == 92 || (n == 34 && terminator != nil) { lit.append(n); i += 2; continue }
                if n == 10 { i += 2; continue }
                lit.append(b)
                i += 1
                continue
            }
            if b == 36, let part = readDollar(quoted: true) {
                flush()
                parts.append(part)
                continue
            }
            if b == 96 {
                flush()
                parts.append(.command(readBackquoted(), quoted: true))
                continue
            }
            lit.append(b)
            i += 1
        }
        flush()
        if parts.isEmpty { parts.append(.quoted("")) }
        return parts
    }

    /// `$'…'` with its backslash escapes decoded.
    private mutating func readANSIC() -> String {
        var out: [UInt8] = []
        while i < c.count && cur != 39 {
            if cur == 92 && i + 1 < c.count {
                let n = c[i + 1]
                i += 2
                switch n {
                case 110: out.append(10)
                case 116: out.append(9)
                case 114: out.append(13)
                case 97: out.append(7)
                case 98: out.append(8)
                case 101, 69: out.append(27)
                case 102: out.append(12)
                case 118: out.append(11)
                case 39, 34, 92, 63: out.append(n)
                case 120:   // \xHH
                    var v = 0, k = 0
                    while k < 2, let d = ShellParser.hex(at(i)) { v = v * 16 + d; i += 1; k += 1 }
                    if k > 0 { out.append(UInt8(v)) } else { out += [92, 120] }
                case 117, 85:   // \uHHHH, \UHHHHHHHH
                    var v = 0, k = 0
                    let limit = n == 117 ? 4 : 8
                    while k < limit, let d = ShellParser.hex(at(i)) { v = v * 16 + d; i += 1; k += 1 }
                    if let scalar = Unicode.Scalar(UInt32(min(v, 0x10FFFF))) { out += Array(String(Character(scalar)).utf8) }
                case 99:   // \cX
                    if i < c.count { out.append(c[i] & 0x1F); i += 1 }
                case 48...55:   // octal \NNN
                    var v = Int(n - 48), k = 1
                    while k < 3, at(i) >= 48, at(i) <= 55 { v = v * 8 + Int(at(i) - 48); i += 1; k += 1 }
                    out.append(UInt8(v & 0xFF))
                default:
                    out += [92, n]
                }
            } else {
                out.append(cur)
                i += 1
            }
        }
        i = min(c.count, i + 1)
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: return Int(b - 48)
        case 97...102: return Int(b - 87)
        case 65...70: return Int(b - 55)
        default: return nil
        }
    }

    /// `$…` at the cursor: a parameter, a command substitution or arithmetic; nil when `$` is literal.
    private mutating func readDollar(quoted: Bool) -> ShellWordPart? {
        let n = at(i + 1)
        if n == 40 {
            if at(i + 2) == 40 {
                // $(( … )): arithmetic, whose substitutions still run.
                i += 3
                var level = 0
                let start = i
                while i < c.count {
                    if cur == 40 { level += 1 } else if cur == 41 {
                        if level == 0 && at(i + 1) == 41 { break }
                        level -= 1
                        if level < -1 { break }
                    }
                    i += 1
                }
                let inner = text(start, i)
                i = min(c.count, i + 2)
                if inner.contains("$(") || inner.contains("`") {
                    var sub = ShellParser(bytes: Array(inner.utf8), depth: depth + 1, budget: budget)
                    let parts = sub.readDoubleQuoted(terminator: nil)
                    budget = sub.budget
                    for case .command(let node, _) in parts { return .command(node, quoted: true) }
                }
                return .arithmetic
            }
            i += 2
            return .command(parseNested(), quoted: quoted)
        }
        if n == 91 {   // $[ … ]
            while i < c.count && cur != 93 { i += 1 }
            i = min(c.count, i + 1)
            return .arithmetic
        }
        if n == 123 { return readBraced(quoted: quoted) }
        if ShellParser.isNameStart(n) {
            var j = i + 1
            while j < c.count && ShellParser.isNameChar(c[j]) { j += 1 }
            let name = text(i + 1, j)
            i = j
            return .parameter(ParameterExpansion(name: name), quoted: quoted)
        }
        if (n >= 48 && n <= 57) || n == 64 || n == 42 || n == 35 || n == 63 || n == 36 || n == 33 || n == 45 {
            i += 2
            return .parameter(ParameterExpansion(name: String(UnicodeScalar(n))), quoted: quoted)
        }
        return nil
    }

    /// `${…}` forms: `${#v}`, `${!v}`, `${v:-w}`, `${v%p}`, `${v/p/r}`, `${v:o:l}`, `${v^^}` …
    private mutating func readBraced(quoted: Bool) -> ShellWordPart {
        i += 2
        nesting += 1
        defer { nesting -= 1 }
        guard nesting < ShellParser.maxNesting else {
            i = c.count
            tooDeep = true
            return .parameter(ParameterExpansion(name: "", op: "?unknown"), quoted: quoted)
        }
        var e = ParameterExpansion(name: "")
        if cur == 35 && at(i + 1) != 125 { e.op = "#len"; i += 1 }
        else if cur == 33 { e.op = "!"; i += 1 }
        let nameStart = i
        if ShellParser.isNameStart(cur) {
            while i < c.count && ShellParser.isNameChar(cur) { i += 1 }
        } else if i < c.count && cur != 125 {
            i += 1   // a special parameter: ${1}, ${@}, ${#} …
            while i < c.count && cur >= 48 && cur <= 57 && c[nameStart] >= 48 && c[nameStart] <= 57 { i += 1 }
        }
        e.name = text(nameStart, i)
        if cur == 91 {   // ${a[0]}: the element's index is skipped
            while i < c.count && cur != 93 { i += 1 }
            i = min(c.count, i + 1)
        }
        if cur == 125 { i += 1; return .parameter(e, quoted: quoted) }
        // Operator.
        let ops = [":-", ":=", ":?", ":+", "##", "%%", "//", "/#", "/%", "^^", ",,", "-", "=", "?", "+", "#", "%", "/", "^", ",", ":", "@"]
        var op = ""
        for candidate in ops where text(i, i + candidate.utf8.count) == candidate { op = candidate; break }
        if op.isEmpty {
            // Unknown form: skip to the closing brace.
            skipBraced()
            e.op = e.op.isEmpty ? "?unknown" : e.op
            return .parameter(e, quoted: quoted)
        }
        i += op.utf8.count
        if e.op == "!" { e.op = "!" } else { e.op = op }
        if op.hasPrefix("/") {
            e.argument = ShellWord(parts: readBracedWord(stopAtSlash: true))
            if cur == 47 { i += 1; e.replacement = ShellWord(parts: readBracedWord(stopAtSlash: false)) }
        } else {
            e.argument = ShellWord(parts: readBracedWord(stopAtSlash: false))
        }
        if cur == 125 { i += 1 }
        return .parameter(e, quoted: quoted)
    }

    private mutating func skipBraced() {
        var level = 0
        while i < c.count {
            if cur == 123 { level += 1 } else if cur == 125 {
                if level == 0 { i += 1; return }
                level -= 1
            }
            i += 1
        }
    }

    /// The word inside `${v op word}` up to `}` (or `/`).
    private mutating func readBracedWord(stopAtSlash: Bool) -> [ShellWordPart] {
        var parts: [ShellWordPart] = []
        var lit: [UInt8] = []
        func flush() { if !lit.isEmpty { parts.append(.literal(String(decoding: lit, as: UTF8.self))); lit = [] } }
        var level = 0
        while i < c.count && budget > 0 {
            let b = cur
            if b == 125 && level == 0 { break }
            if b == 47 && stopAtSlash && level == 0 { break }
            switch b {
            case 123: level += 1; lit.append(b); i += 1
            case 125: level -= 1; lit.append(b); i += 1
            case 92:
                flush()
                parts.append(.quoted(text(i + 1, i + 2)))
                i += 2
            case 39:
                flush()
                let s = i + 1
                var e = s
                while e < c.count && c[e] != 39 { e += 1 }
                parts.append(.quoted(text(s, e)))
                i = min(c.count, e + 1)
            case 34:
                flush()
                i += 1
                parts += readDoubleQuoted(terminator: 34)
            case 36:
                if let part = readDollar(quoted: false) { flush(); parts.append(part) } else { lit.append(b); i += 1 }
            case 96:
                flush()
                parts.append(.command(readBackquoted(), quoted: false))
            default:
                lit.append(b)
                i += 1
            }
        }
        flush()
        return parts
    }

    /// `$( … )` after the opening: the script up to its `)`.
    private mutating func parseNested() -> ShellNode {
        guard depth + 1 < ShellParser.maxDepth else {
            // Too deep: skip to the matching parenthesis and stand for "anything".
            var level = 1
            while i < c.count && level > 0 { if cur == 40 { level += 1 } else if cur == 41 { level -= 1 }; i += 1 }
            return .simple(SimpleCommand(words: [ShellWord(parts: [.literal("\u{2}")]), ShellWord(parts: [.literal("\u{2}")])]))
        }
        var sub = ShellParser(bytes: c, depth: depth + 1, budget: budget)
        sub.i = i
        sub.nesting = nesting
        var items: [ShellNode] = []
        while sub.i < c.count && sub.budget > 0 {
            items.append(sub.parseList(until: []))
            if sub.cur == 41 { sub.i += 1; break }
            if sub.i < c.count { sub.i += 1 }
        }
        i = sub.i
        budget = sub.budget
        return .sequence(items)
    }

    /// `` `…` `` at the cursor: its text unescaped and parsed.
    private mutating func readBackquoted() -> ShellNode {
        i += 1
        var inner: [UInt8] = []
        while i < c.count && cur != 96 {
            if cur == 92 && (at(i + 1) == 96 || at(i + 1) == 92 || at(i + 1) == 36) { inner.append(at(i + 1)); i += 2; continue }
            inner.append(cur)
            i += 1
        }
        i = min(c.count, i + 1)
        guard depth + 1 < ShellParser.maxDepth else { return .simple(SimpleCommand(words: [ShellWord(parts: [.literal("\u{2}")]), ShellWord(parts: [.literal("\u{2}")])])) }
        var sub = ShellParser(bytes: inner, depth: depth + 1, budget: budget)
        sub.nesting = nesting
        let node = sub.parseAll()
        budget = sub.budget
        return node
    }
}
