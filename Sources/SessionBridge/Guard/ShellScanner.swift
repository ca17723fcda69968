/// A small shell reader for the guard: splits a Bash script into simple commands with their words (quotes
/// removed, `~` and known variables expanded) and redirections. It follows `NAME=value` assignments and `cd`;
/// what it cannot follow (unknown variables, command substitutions) is marked unresolved. Here-document bodies
/// are skipped (they are input, not commands); command substitutions and `bash -c` scripts are scanned too.
struct ShellScanner {
    struct Word: Equatable {
        var text: String
        /// Contains a variable or substitution whose value is unknown.
        var unresolved: Bool
    }

    struct Redirection: Equatable {
        /// ">", ">>", "<", "<<", "<<<", ">&" …
        var op: String
        var target: Word
        /// The command's working directory when the redirection happens.
        var cwd: String
    }

    struct Command: Equatable {
        var words: [Word]
        var redirections: [Redirection]
        var cwd: String
    }

    var variables: [String: String]
    var cwd: String
    let home: String
    private(set) var commands: [Command] = []
    /// Scripts found inside `$(…)` and backticks, scanned after the main text.
    private var nested: [String] = []

    init(cwd: String, home: String, environment: [String: String]) {
        self.cwd = cwd
        self.home = home
        self.variables = environment
    }

    /// Scans a script; commands accumulate in `commands` (with the cwd in effect for each).
    mutating func scan(_ script: String, depth: Int = 0) {
        guard depth < 4 else { return }
        let chars = Array(script.unicodeScalars)
        var i = 0
        var words: [Word] = []
        var redirections: [Redirection] = []
        var pendingHeredocs: [(delimiter: String, stripTabs: Bool)] = []
        var pendingRedirect: String?

        func finishCommand(_ scanner: inout ShellScanner) {
            if !words.isEmpty || !redirections.isEmpty {
                scanner.record(words: words, redirections: redirections)
            }
            words = []
            redirections = []
        }

        while i < chars.count {
            let c = chars[i]
            // Separators
            if c == " " || c == "\t" { i += 1; continue }
            if c == "\n" {
                finishCommand(&self)
                i += 1
                // Skip here-document bodies that start after this newline.
                for doc in pendingHeredocs {
                    while i < chars.count {
                        var end = i
                        while end < chars.count && chars[end] != "\n" { end += 1 }
                        var line = String(String.UnicodeScalarView(chars[i..<end]))
                        if doc.stripTabs { while line.hasPrefix("\t") { line.removeFirst() } }
                        i = end + 1
                        if line == doc.delimiter { break }
                    }
                }
                pendingHeredocs = []
                continue
            }
            if c == "#" && (i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t" || chars[i - 1] == "\n" || chars[i - 1] == ";") {
                while i < chars.count && chars[i] != "\n" { i += 1 }
                continue
            }
            if c == ";" || c == "|" || c == "&" || c == "(" || c == ")" {
                // `&>` and `&>>` are redirections, not separators.
                if c == "&" && i + 1 < chars.count && chars[i + 1] == ">" {
                    let op = i + 2 < chars.count && chars[i + 2] == ">" ? "&>>" : "&>"
                    pendingRedirect = op
                    i += op.count
                    continue
                }
                finishCommand(&self)
                i += 1
                continue
            }
            // Redirections: [n]> [n]>> >| < << <<- <<< <> >&
            if c == ">" || c == "<" || (c.properties.numericType != nil && c.isASCII && i + 1 < chars.count && (chars[i + 1] == ">" || chars[i + 1] == "<")
                                         && (i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t")) {
                var j = i
                while j < chars.count && chars[j].isASCII && chars[j].properties.numericType != nil { j += 1 }
                var op = ""
                while j < chars.count && (chars[j] == ">" || chars[j] == "<" || chars[j] == "|" || chars[j] == "&" || chars[j] == "-") && op.count < 3 {
                    if chars[j] == "-" && op != "<<" { break }
                    if chars[j] == "|" && op != ">" { break }
                    if chars[j] == "&" && op != ">" && op != "<" { break }
                    op.unicodeScalars.append(chars[j])
                    j += 1
                }
                i = j
                if op.hasPrefix("<<") && op != "<<<" {
                    // Here-document: the next word is the delimiter.
                    while i < chars.count && (chars[i] == " " || chars[i] == "\t") { i += 1 }
                    let (delimiterWord, next) = readWord(chars, i)
                    i = next
                    pendingHeredocs.append((delimiterWord.text, op == "<<-"))
                    continue
                }
                pendingRedirect = op
                continue
            }
            let (word, next) = readWord(chars, i)
            i = next
            if let op = pendingRedirect {
                pendingRedirect = nil
                redirections.append(Redirection(op: op, target: word, cwd: cwd))
            } else {
                words.append(word)
            }
        }
        finishCommand(&self)
        let inner = nested
        nested = []
        for script in inner { scan(script, depth: depth + 1) }
    }

    /// Reads one word starting at `start`: quotes, escapes and expansions. Returns it and the index after it.
    mutating func readWord(_ chars: [Unicode.Scalar], _ start: Int) -> (Word, Int) {
        var i = start
        var text = ""
        var unresolved = false
        let tildeAllowed = i < chars.count && chars[i] == "~"
        func isBoundary(_ c: Unicode.Scalar) -> Bool {
            c == " " || c == "\t" || c == "\n" || c == ";" || c == "|" || c == "&" || c == "(" || c == ")" || c == "<" || c == ">"
        }
        while i < chars.count && !isBoundary(chars[i]) {
            let c = chars[i]
            if c == "\\" {
                if i + 1 < chars.count && chars[i + 1] != "\n" { text.unicodeScalars.append(chars[i + 1]) }
                i += 2
            } else if c == "'" {
                i += 1
                while i < chars.count && chars[i] != "'" { text.unicodeScalars.append(chars[i]); i += 1 }
                i += 1
            } else if c == "\"" {
                i += 1
                while i < chars.count && chars[i] != "\"" {
                    if chars[i] == "\\" && i + 1 < chars.count && "\"\\$`".unicodeScalars.contains(chars[i + 1]) {
                        text.unicodeScalars.append(chars[i + 1])
                        i += 2
                    } else if chars[i] == "$" {
                        let (value, next, known) = expand(chars, i)
                        text += value
                        unresolved = unresolved || !known
                        i = next
                    } else if chars[i] == "`" {
                        let end = chars[(i + 1)...].firstIndex(of: "`") ?? chars.count
                        nested.append(String(String.UnicodeScalarView(chars[(i + 1)..<end])))
                        unresolved = true
                        i = end + 1
                    } else {
                        text.unicodeScalars.append(chars[i])
                        i += 1
                    }
                }
                i += 1
            } else if c == "$" {
                let (value, next, known) = expand(chars, i)
                text += value
                unresolved = unresolved || !known
                i = next
            } else if c == "`" {
                let end = chars[(i + 1)...].firstIndex(of: "`") ?? chars.count
                nested.append(String(String.UnicodeScalarView(chars[(i + 1)..<end])))
                unresolved = true
                i = end + 1
            } else {
                text.unicodeScalars.append(c)
                i += 1
            }
        }
        if tildeAllowed && (text == "~" || text.hasPrefix("~/")) { text = home + text.dropFirst() }
        return (Word(text: text, unresolved: unresolved), min(i, chars.count))
    }

    /// `$NAME`, `${NAME}`, `${NAME:-default}`, `$(…)`. Returns the value, the next index and whether it is known.
    mutating func expand(_ chars: [Unicode.Scalar], _ start: Int) -> (String, Int, Bool) {
        let i = start + 1
        guard i < chars.count else { return ("$", i, true) }
        if chars[i] == "(" {
            // $( … ) with nesting; $(( … )) arithmetic is just unknown.
            var depth = 1
            var j = i + 1
            while j < chars.count && depth > 0 {
                if chars[j] == "(" { depth += 1 } else if chars[j] == ")" { depth -= 1 }
                j += 1
            }
            nested.append(String(String.UnicodeScalarView(chars[(i + 1)..<max(i + 1, j - 1)])))
            return ("", j, false)
        }
        if chars[i] == "{" {
            let end = chars[i...].firstIndex(of: "}") ?? chars.count
            let inner = String(String.UnicodeScalarView(chars[(i + 1)..<end]))
            let name = String(inner.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            let rest = inner.dropFirst(name.count)
            if let v = variables[name] { return (v, end + 1, true) }
            if rest.hasPrefix(":-") || rest.hasPrefix("-") { return (String(rest.drop { $0 == ":" || $0 == "-" }), end + 1, true) }
            return ("${\(inner)}", end + 1, false)
        }
        var j = i
        while j < chars.count && (chars[j].properties.isAlphabetic || chars[j] == "_" || (j > i && chars[j].isASCII && chars[j].properties.numericType != nil)) && chars[j].isASCII {
            j += 1
        }
        if j == i {
            // $?, $$, $1 …: special parameters, whose values are unknown here.
            let special = "?$!#@*0123456789-".unicodeScalars.contains(chars[i])
            return ("$", special ? i + 1 : i, !special)
        }
        let name = String(String.UnicodeScalarView(chars[i..<j]))
        if let v = variables[name] { return (v, j, true) }
        return ("$" + name, j, false)
    }

    /// Records a simple command, following assignments and `cd`.
    mutating func record(words input: [Word], redirections: [Redirection]) {
        var words = input
        // Leading NAME=value assignments set variables (for this and later commands).
        while let first = words.first, let eq = first.text.firstIndex(of: "="), eq != first.text.startIndex,
              first.text[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            if !first.unresolved { variables[String(first.text[..<eq])] = String(first.text[first.text.index(after: eq)...]) }
            words.removeFirst()
        }
        if let first = words.first, ["export", "declare", "local", "readonly", "typeset"].contains(first.text) {
            for w in words.dropFirst() {
                if let eq = w.text.firstIndex(of: "="), !w.unresolved {
                    variables[String(w.text[..<eq])] = String(w.text[w.text.index(after: eq)...])
                }
            }
        }
        if let first = words.first, first.text == "cd" || first.text == "pushd" {
            let target = words.dropFirst().first { !$0.text.hasPrefix("-") }
            if let target {
                if !target.unresolved { cwd = GuardPaths.join(cwd, target.text) }
            } else {
                cwd = home
            }
        }
        commands.append(Command(words: words, redirections: redirections, cwd: cwd))
    }
}
