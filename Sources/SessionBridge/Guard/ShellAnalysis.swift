#if canImport(Glibc)
import Glibc
#endif

/// Runs a shell script in the abstract: every command that may run is expanded as far as the shell's expansions
/// are statically knowable (quotes, `$'…'`, braces, `~` forms, parameters and their `${…}` operators, `$PWD` and
/// `cd`, globs against the real file system, command substitutions whose output is known) and handed to the
/// program models, which record what it may write. What is not knowable becomes a marker (`Marker.any`), which a
/// path check treats as "may be any path".
final class ShellAnalyzer {
    struct State {
        /// The working directory (absolute; may hold markers).
        var cwd: String
        var oldCwd: String?
        /// Variables set by the script: each a list of possible values.
        var variables: [String: [String]] = [:]
        /// Positional parameters; nil when unknown.
        var positional: [String]? = []
        var functions: [String: ShellNode] = [:]
    }

    /// What a command reads on standard input.
    enum Stream {
        case none
        case text(String)
        /// Lines naming paths inside this folder (find, grep -l, git ls-files …).
        case paths(under: String)
        /// Downloaded by the same command.
        case network
        case unknown
    }

    let environment: Environment
    let home: String
    var effects: [ToolEffects.Effect] = []
    /// Symlinks and hard links made earlier in the same call: link path → target.
    var links: [String: String] = [:]
    /// Files written earlier in the same call: path → their text (nil: unknown), for scripts run from them.
    var writtenFiles: [String: String?] = [:]
    /// Paths removed earlier in the same call (no longer there for later commands).
    var removed: Set<String> = []
    /// What each process substitution `<(…)` of this call prints, by the `/dev/fd/N` path it expands to, so a
    /// script or an argument file read from one is known as well as the command inside it.
    var processOutputs: [String: Stream] = [:]
    var budget = 5_000
    private var globCount = 0
    var exhausted = false
    /// Decides whether a program path is the real session-bridge helper.
    let isTrustedHelper: (String) -> Bool
    /// The guarded folders (resolved), for checks that look inside them (find -name, copies into an ancestor).
    var guardedRoots: (() -> [String])?
    private var callDepth = 0

    init(environment: Environment, home: String, isTrustedHelper: @escaping (String) -> Bool) {
        self.environment = environment
        self.home = home
        self.isTrustedHelper = isTrustedHelper
    }

    // MARK: Running nodes

    /// Runs a node for its effects; with `wantOutput`, also returns what it prints (for pipes and substitutions).
    @discardableResult
    func run(_ node: ShellNode, _ state: inout State, stdin: Stream = .none, wantOutput: Bool = false) -> Stream {
        budget -= 1
        guard budget > 0, !exhausted else { exhausted = true; return .unknown }
        switch node {
        case .simple(let command):
            return runSimple(command, &state, stdin: stdin, wantOutput: wantOutput)
        case .pipeline(let stages):
            var input = stdin
            for (k, stage) in stages.enumerated() {
                var inner = state   // each stage runs in a subshell
                input = run(stage, &inner, stdin: input, wantOutput: wantOutput || k < stages.count - 1)
            }
            return input
        case .sequence(let items):
            var texts: [String] = []
            var known = true
            for item in items {
                let out = run(item, &state, stdin: stdin, wantOutput: wantOutput)
                guard wantOutput else { continue }
                switch out {
                case .none: continue
                case .text(let t): texts.append(t)
                default: if items.count == 1 { return out }; known = false
                }
            }
            guard wantOutput else { return .none }
            return known ? (texts.isEmpty ? .none : .text(texts.joined())) : .unknown
        case .subshell(let body, let redirects):
            var inner = state
            let input = applyRedirects(redirects, state: inner, stdin: stdin)
            let out = run(body, &inner, stdin: input, wantOutput: wantOutput)
            return redirects.contains(where: { $0.writes && ($0.fd == nil || $0.fd == 1) }) ? .none : out
        case .compound(let parts, let redirects):
            let input = applyRedirects(redirects, state: state, stdin: stdin)
            var out: Stream = .none
            for part in parts { out = run(part, &state, stdin: input, wantOutput: wantOutput && parts.count == 1) }
            return parts.count == 1 ? out : (wantOutput ? .unknown : .none)
        case .forLoop(let name, let words, let body, let redirects):
            let input = applyRedirects(redirects, state: state, stdin: stdin)
            var values: [String] = []
            if let words {
                for w in words { values += expand(w, state).flatMap { $0 } }
            } else {
                values = state.positional ?? [Marker.anyString]
            }
            state.variables[name] = values.isEmpty ? [""] : Array(values.prefix(64))
            run(body, &state, stdin: input)
            return wantOutput ? .unknown : .none
        case .function(let name, let body):
            state.functions[name] = body
            // The body is analysed where it is defined too, so a function that is never called still counts.
            var inner = state
            inner.positional = nil
            run(body, &inner, stdin: .unknown)
            return .none
        case .test(let words):
            for w in words { _ = expand(w, state) }
            return .none
        }
    }

    /// Redirections of a compound command: their writes, and the standard input they give it.
    func applyRedirects(_ redirects: [ShellRedirect], state: State, stdin: Stream) -> Stream {
        var input = stdin
        for r in redirects {
            if r.writes {
                for target in expandFields(r.target, state, split: false) {
                    record(.write(place(target, state, follow: true), .node, by: "a shell redirection"))
                    writtenFiles[GuardPaths.collapse(absolute(target, state))] = .some(nil)
                }
            }
            switch r.op {
            case .input, .readWrite:
                if r.fd == nil || r.fd == 0, let path = expandFields(r.target, state, split: false).first {
                    input = fileStream(path, state)
                }
            case .hereDocument:
                if let body = r.body { input = .text(expandFields(body.word, state, split: false).first ?? Marker.anyString) }
            case .hereString:
                input = .text((expandFields(r.target, state, split: false).first ?? Marker.anyString) + "\n")
            default:
                break
            }
        }
        return input
    }

    func fileStream(_ path: String, _ state: State) -> Stream {
        guard Marker.isPlain(path) else { return .unknown }
        if path == "/dev/null" { return .text("") }
        if let out = processOutputs[path] { return out }
        if path.hasPrefix("/dev/") || path.hasPrefix("/proc/") { return .unknown }
        let abs = GuardPaths.collapse(absolute(path, state))
        if let written = writtenFiles[abs] { return written.map { .text($0) } ?? .unknown }
        let real = GuardPaths.resolve(abs, links: links)
        if let text = GuardPaths.readSmallFile(real) { return .text(text) }
        return FileSystem.exists(real) ? .unknown : .none
    }

    func record(_ effect: ToolEffects.Effect) {
        if effects.count < 2048 { effects.append(effect) } else { exhausted = true }
    }

    private func runSimple(_ command: SimpleCommand, _ state: inout State, stdin: Stream, wantOutput: Bool) -> Stream {
        // Assignments.
        for a in command.assignments {
            let values = expandFields(a.value, state, split: false)
            if command.words.isEmpty { state.variables[a.name] = values.isEmpty ? [""] : values }
        }
        var inner = state
        for a in command.assignments where !command.words.isEmpty {
            inner.variables[a.name] = expandFields(a.value, state, split: false)
        }
        let input = applyRedirects(command.redirects, state: inner, stdin: stdin)
        // `$(< file)` prints the file.
        guard !command.words.isEmpty else { return wantOutput && command.redirects.contains(where: { $0.op == .input }) ? input : .none }
        let variants = expandCommand(command.words, inner)
        // A file written by `printf … > f` or `cat > f <<EOF` keeps its text, for a script run from it later.
        for r in command.redirects where r.writes && (r.fd == nil || r.fd == 1) && r.op != .duplicateOutput {
            guard variants.count == 1, let argv = variants.first, !argv.isEmpty, let target = expandFields(r.target, inner, split: false).first else { continue }
            let out = ProgramOutputs.output(argv: argv, stdin: input, analyzer: self, state: inner)
            if case .text(let t) = out, r.op != .append { writtenFiles[GuardPaths.collapse(absolute(target, inner))] = .some(t) }
        }
        var output: Stream = .none
        for argv in variants where !argv.isEmpty {
            let functionOutput = runProgram(argv, &inner, stdin: input, wantOutput: wantOutput)
            if wantOutput {
                if let functionOutput { output = functionOutput }
                else { output = variants.count == 1 ? ProgramOutputs.output(argv: argv, stdin: input, analyzer: self, state: inner) : .unknown }
            }
        }
        if command.redirects.contains(where: { $0.writes && ($0.fd == nil || $0.fd == 1) }) { output = .none }
        // `cd`, `export`, `set --`, functions and other built-ins change the shell they run in.
        if let first = variants.first?.first, ShellAnalyzer.stateBuiltins.contains(first) {
            var kept = inner
            for a in command.assignments { kept.variables[a.name] = state.variables[a.name] }
            state = kept
        }
        return output
    }

    static let stateBuiltins: Set<String> = ["cd", "pushd", "popd", "export", "declare", "typeset", "local", "readonly", "set", "shift",
                                             "read", "mapfile", "readarray", "unset", "source", ".", "eval", "alias", "printf", "getopts", "let"]

    /// Expands the words of a command into argument lists: one list per combination of alternatives (bounded).
    func expandCommand(_ words: [ShellWord], _ state: State) -> [[String]] {
        var variants: [[String]] = [[]]
        for w in words {
            let alternatives = expand(w, state)
            if alternatives.count == 1 || variants.count * alternatives.count > 32 {
                let merged = alternatives.count == 1 ? alternatives[0] : alternatives.flatMap { $0 }
                for k in variants.indices { variants[k] += merged }
            } else {
                variants = variants.flatMap { v in alternatives.map { v + $0 } }
            }
        }
        return variants
    }

    // MARK: Paths

    func absolute(_ path: String, _ state: State) -> String {
        if path.hasPrefix("/") || path.first == Marker.underStart { return path }
        return GuardPaths.join(state.cwd, path)
    }

    /// Where an expanded word lands as a path.
    func place(_ word: String, _ state: State, follow: Bool) -> ToolEffects.Place {
        if word.first == Marker.any { return .anywhere }
        if word.first == Marker.underStart {
            guard let end = word.firstIndex(of: Marker.underEnd) else { return .anywhere }
            let root = String(word[word.index(after: word.startIndex)..<end])
            guard Marker.isPlain(root) else { return .anywhere }
            return .under(GuardPaths.resolve(root, links: links))
        }
        let abs = absolute(word, state)
        if abs.first == Marker.underStart {
            return place(abs, state, follow: follow)
        }
        if abs.contains(Marker.any) || abs.contains(Marker.underStart) {
            return .anywhere
        }
        var f = follow
        if abs.hasSuffix("/") || abs.hasSuffix("/.") { f = true }
        return .exact(GuardPaths.resolve(abs, followFinal: f, links: links))
    }

    // MARK: Expansion

    /// Alternatives, each a list of fields (argv entries), for one word.
    func expand(_ word: ShellWord, _ state: State) -> [[String]] {
        var out: [[String]] = []
        for parts in ShellExpansion.braceExpand(word.parts) {
            out += expandParts(parts, state, split: true)
            if out.count > 64 { break }
        }
        return out.isEmpty ? [[]] : out
    }

    /// One word without word splitting (assignments, redirection targets, here-documents): its possible values.
    func expandFields(_ word: ShellWord, _ state: State, split: Bool) -> [String] {
        expandParts(word.parts, state, split: split).map { $0.joined(separator: " ") }
    }

    private struct Field {
        var value = ""
        var glob = ""
        var hasGlob = false
        var started = false
    }

    private func expandParts(_ parts: [ShellWordPart], _ state: State, split: Bool) -> [[String]] {
        var alternatives: [[Field]] = [[Field()]]
        func appendText(_ s: String, quoted: Bool) {
            for k in alternatives.indices {
                var f = alternatives[k].removeLast()
                f.value += s
                f.started = true
                if quoted {
                    for ch in s { if "*?[]\\".contains(ch) { f.glob.append("\\") }; f.glob.append(ch) }
                } else {
                    f.glob += s
                    if s.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) { f.hasGlob = true }
                }
                alternatives[k].append(f)
            }
        }
        // Field splitting uses the script's IFS when it set one it knows (`IFS=,; $cmd`).
        let customIFS: String? = {
            guard let ifs = state.variables["IFS"], ifs.count == 1, let v = ifs.first, Marker.isPlain(v) else { return nil }
            return v
        }()
        func isSeparator(_ ch: Character) -> Bool {
            if let customIFS { return customIFS.contains(ch) }
            return ch == " " || ch == "\t" || ch == "\n"
        }
        /// Appends an expansion's possible values; unquoted known values split into fields.
        func appendValues(_ values: [String], quoted: Bool) {
            var next: [[Field]] = []
            for alt in alternatives {
                for v in values.prefix(max(1, 64 / max(1, alternatives.count))) {
                    var fields = alt
                    let pieces: [String]
                    if !quoted && split && Marker.isPlain(v) {
                        pieces = v.split(whereSeparator: isSeparator).map(String.init)
                    } else {
                        pieces = [v]
                    }
                    if pieces.isEmpty { next.append(fields); continue }
                    for (n, piece) in pieces.enumerated() {
                        if n > 0 { fields.append(Field()) }
                        var f = fields.removeLast()
                        f.value += piece
                        f.started = true
                        for ch in piece { if "*?[]\\".contains(ch) { f.glob.append("\\") }; f.glob.append(ch) }
                        if !quoted && piece.contains(where: { $0 == "*" || $0 == "?" }) { f.hasGlob = true; f.glob = f.value }
                        fields.append(f)
                    }
                    next.append(fields)
                }
            }
            alternatives = next.isEmpty ? [[Field()]] : next
        }
        for (index, part) in parts.enumerated() {
            switch part {
            case .literal(var s):
                // A tilde prefix runs to the first slash and must be unquoted text throughout (`~$USER` stays as it is).
                if index == 0, s.hasPrefix("~"), s.contains("/") || parts.count == 1 {
                    let end = s.firstIndex(of: "/") ?? s.endIndex
                    let user = String(s[s.index(after: s.startIndex)..<end])
                    if let dir = tilde(user, state) {
                        s = String(s[end...])
                        appendText(dir, quoted: true)
                    }
                }
                appendText(s, quoted: false)
            case .quoted(let s):
                appendText(s, quoted: true)
            case .parameter(let e, let quoted):
                appendValues(parameter(e, state), quoted: quoted)
            case .command(let node, let quoted):
                appendValues([substitute(node, state)], quoted: quoted)
            case .arithmetic:
                appendValues([Marker.opaqueString], quoted: true)
            case .process(let node):
                var inner = state
                let printed = run(node, &inner, stdin: .unknown, wantOutput: true)
                let full = processOutputs.count >= 50
                let path = "/dev/fd/\(63 - min(processOutputs.count, 50))"
                processOutputs[path] = full ? .unknown : printed
                appendValues([path], quoted: true)
            }
        }
        return alternatives.map { fields in
            var out: [String] = []
            for f in fields where f.started || !f.value.isEmpty {
                if f.hasGlob && Marker.isPlain(f.value) && split {
                    out += glob(f.glob, f.value, state)
                } else {
                    out.append(f.value)
                }
            }
            // `""` and `''` make an empty field; a field made only of empty unquoted expansions disappears.
            return out
        }
    }

    /// `~`, `~+`, `~-`, `~user`; nil leaves the text as it is.
    private func tilde(_ user: String, _ state: State) -> String? {
        switch user {
        case "": return environment["HOME"] ?? home
        case "+": return state.cwd
        case "-": return state.oldCwd
        default:
            guard user.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else { return nil }
            guard let pw = getpwnam(user), let dir = pw.pointee.pw_dir else { return nil }
            return String(cString: dir)
        }
    }

    /// Pathname expansion against the real file system (dot files only by an explicit dot, as bash does).
    private func glob(_ pattern: String, _ literal: String, _ state: State) -> [String] {
        guard !state.cwd.contains(Marker.any), Marker.isPlain(state.cwd) else { return [literal] }
        // A pattern that would walk much of the file system is not expanded: it may match anything.
        let wild = pattern.split(separator: "/").filter { $0.contains(where: { "*?[".contains($0) }) }.count
        if wild > 3 || pattern.utf8.count > 1024 { return [Marker.anyString] }
        globCount += 1
        if globCount > 64 { return [Marker.anyString] }
        let relative = !pattern.hasPrefix("/")
        var escapedCwd = ""
        for ch in state.cwd { if "*?[]\\".contains(ch) { escapedCwd.append("\\") }; escapedCwd.append(ch) }
        let full = relative ? (escapedCwd.hasSuffix("/") ? escapedCwd : escapedCwd + "/") + pattern : pattern
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(full, 0, nil, &g) == 0 else { return [literal] }
        var out: [String] = []
        let prefix = state.cwd.hasSuffix("/") ? state.cwd : state.cwd + "/"
        for k in 0..<min(Int(g.gl_pathc), 4096) {
            guard let p = g.gl_pathv[k] else { continue }
            let s = String(cString: p)
            out.append(relative && s.hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : s)
        }
        return out.isEmpty ? [literal] : out
    }

    /// The possible values of a parameter expansion.
    private func parameter(_ e: ParameterExpansion, _ state: State) -> [String] {
        let base = baseValue(e.name, state)
        func argument() -> [String] { e.argument.map { expandFields($0, state, split: false) } ?? [""] }
        switch e.op {
        case "":
            return base ?? [Marker.anyString]
        case "#len":
            return [Marker.opaqueString]
        case "!":
            guard let names = base else { return [Marker.anyString] }
            return names.flatMap { baseValue($0, state) ?? [Marker.anyString] }
        case ":-", "-":
            guard let base else { return argument() + [Marker.anyString] }
            return base.flatMap { $0.isEmpty && e.op == ":-" ? argument() : [$0] }
        case ":=", "=":
            guard let base else { return argument() + [Marker.anyString] }
            return base.flatMap { $0.isEmpty ? argument() : [$0] }
        case ":?", "?":
            return base ?? [Marker.anyString]
        case ":+", "+":
            guard let base else { return argument() + [""] }
            return base.flatMap { $0.isEmpty && e.op == ":+" ? [""] : argument() }
        case "#", "##", "%", "%%":
            guard let base else { return [Marker.anyString] }
            let patterns = argument()
            var out: [String] = []
            for v in base {
                for p in patterns {
                    guard Marker.isPlain(v), Marker.isPlain(p), v.utf8.count <= 4096 else { out.append(Marker.anyString); continue }
                    out.append(ShellExpansion.trim(v, pattern: p, fromStart: e.op.hasPrefix("#"), longest: e.op.count == 2))
                }
            }
            return out
        case "/", "//", "/#", "/%":
            guard let base else { return [Marker.anyString] }
            let patterns = argument()
            let replacements = e.replacement.map { expandFields($0, state, split: false) } ?? [""]
            var out: [String] = []
            for v in base {
                for p in patterns {
                    for r in replacements {
                        guard Marker.isPlain(v), Marker.isPlain(p), Marker.isPlain(r), v.utf8.count <= 4096 else { out.append(Marker.anyString); continue }
                        out.append(ShellExpansion.replace(v, pattern: p, with: r, mode: e.op))
                    }
                }
            }
            return out
        case "^^", "^":
            return (base ?? [Marker.anyString]).map { Marker.isPlain($0) ? (e.op == "^^" ? $0.uppercased() : $0.prefix(1).uppercased() + $0.dropFirst()) : $0 }
        case ",,", ",":
            return (base ?? [Marker.anyString]).map { Marker.isPlain($0) ? (e.op == ",," ? $0.lowercased() : $0.prefix(1).lowercased() + $0.dropFirst()) : $0 }
        case ":":
            guard let base else { return [Marker.anyString] }
            let spec = (argument().first ?? "").split(separator: ":", omittingEmptySubsequences: false)
            guard let offset = spec.first.flatMap({ Int($0.trimmingSpaces()) }) else { return [Marker.anyString] }
            let length = spec.count > 1 ? Int(spec[1].trimmingSpaces()) : nil
            return base.map { v in
                guard Marker.isPlain(v) else { return Marker.anyString }
                let chars = Array(v)
                let start = offset >= 0 ? min(offset, chars.count) : max(0, chars.count + offset)
                var end = chars.count
                if let length { end = length >= 0 ? min(chars.count, start + length) : max(start, chars.count + length) }
                return String(chars[start..<max(start, end)])
            }
        default:
            return [Marker.anyString]
        }
    }

    /// A variable's values: set by the script, special, or from the environment; nil when unset and unknown.
    private func baseValue(_ name: String, _ state: State) -> [String]? {
        if let v = state.variables[name] { return v }
        switch name {
        case "PWD": return [state.cwd]
        case "OLDPWD": return state.oldCwd.map { [$0] }
        case "HOME": return [environment["HOME"] ?? home]
        case "?", "$", "!", "#", "-", "RANDOM", "LINENO", "SECONDS", "UID", "EUID", "PPID", "BASHPID", "SRANDOM", "EPOCHSECONDS", "EPOCHREALTIME":
            return [Marker.opaqueString]
        case "0": return ["bash"]
        case "@", "*":
            guard let p = state.positional else { return nil }
            return [p.joined(separator: " ")]
        case "IFS": return [" "]
        default:
            if let n = Int(name) {
                guard let p = state.positional else { return nil }
                return [n >= 1 && n <= p.count ? p[n - 1] : ""]
            }
            if let v = environment[name] { return [v] }
            return nil
        }
    }

    /// The output of `$(…)`, run for its effects too.
    private func substitute(_ node: ShellNode, _ state: State) -> String {
        var inner = state
        switch run(node, &inner, stdin: .none, wantOutput: true) {
        case .text(let t):
            var s = Substring(t)
            while s.last == "\n" { s = s.dropLast() }
            return String(s)
        case .paths(let root): return Marker.under(root)
        case .none: return ""
        case .network, .unknown: return Marker.anyString
        }
    }

    // MARK: Programs

    /// Runs one program; returns the output of a shell function (other programs' output is ProgramOutputs').
    @discardableResult
    func runProgram(_ argv: [String], _ state: inout State, stdin: Stream, wantOutput: Bool = false) -> Stream? {
        budget -= 1
        guard budget > 0, !exhausted else { exhausted = true; return nil }
        guard let first = argv.first else { return nil }
        if let body = state.functions[first] {
            guard callDepth < 6 else { return .unknown }
            callDepth += 1
            var inner = state
            inner.positional = Array(argv.dropFirst())
            let out = run(body, &inner, stdin: stdin, wantOutput: wantOutput)
            callDepth -= 1
            return out
        }
        ProgramModels.run(argv, analyzer: self, state: &state, stdin: stdin)
        return nil
    }

    /// Parses and runs a shell script given as text (sh -c, eval, here-documents to sh, trap, alias).
    func runScript(_ text: String, _ state: inout State, positional: [String]?, stdin: Stream) {
        guard callDepth < 8 else { exhausted = true; return }
        callDepth += 1
        defer { callDepth -= 1 }
        var inner = state
        inner.positional = positional
        // Unknown parts of a script's text stand for code that could be anything.
        let node = ShellParser.parse(text)
        run(node, &inner, stdin: stdin)
        if text.contains(Marker.any) || text.contains(Marker.underStart) {
            record(.script(language: "sh", text: nil, network: false, cwd: place(".", inner, follow: true)))
        }
    }
}

/// The pure string operations of expansion: braces, `${v#p}` trimming, `${v/p/r}` replacement.
enum ShellExpansion {
    private enum Atom { case char(Character), part(ShellWordPart) }

    /// Brace expansion (`{a,b}`, `{1..3}`, `{a..e}`), on unquoted braces only; at most 256 results.
    static func braceExpand(_ parts: [ShellWordPart]) -> [[ShellWordPart]] {
        var hasBrace = false
        for case .literal(let s) in parts where s.contains("{") { hasBrace = true }
        guard hasBrace else { return [parts] }
        var atoms: [Atom] = []
        for p in parts {
            if case .literal(let s) = p { atoms += s.map { .char($0) } } else { atoms.append(.part(p)) }
        }
        return expandAtoms(atoms, limit: 256).map(rebuild)
    }

    private static func rebuild(_ atoms: [Atom]) -> [ShellWordPart] {
        var out: [ShellWordPart] = []
        var lit = ""
        for a in atoms {
            switch a {
            case .char(let ch): lit.append(ch)
            case .part(let p):
                if !lit.isEmpty { out.append(.literal(lit)); lit = "" }
                out.append(p)
            }
        }
        if !lit.isEmpty { out.append(.literal(lit)) }
        return out
    }

    private static func isChar(_ a: Atom, _ c: Character) -> Bool {
        if case .char(let x) = a { return x == c }
        return false
    }

    private static func expandAtoms(_ atoms: [Atom], limit: Int) -> [[Atom]] {
        // Find the first `{` with a matching `}` that holds a top-level `,` or `..`.
        var k = 0
        while k < atoms.count {
            if isChar(atoms[k], "{"), !(k > 0 && isChar(atoms[k - 1], "$")) {
                var level = 0
                var commas: [Int] = []
                var close: Int?
                var j = k
                while j < atoms.count {
                    if isChar(atoms[j], "{") { level += 1 }
                    else if isChar(atoms[j], "}") { level -= 1; if level == 0 { close = j; break } }
                    else if isChar(atoms[j], ","), level == 1 { commas.append(j) }
                    j += 1
                }
                if let close {
                    let prefix = Array(atoms[..<k]), suffix = Array(atoms[(close + 1)...])
                    var options: [[Atom]] = []
                    if !commas.isEmpty {
                        var start = k + 1
                        for c in commas + [close] { options.append(Array(atoms[start..<c])); start = c + 1 }
                    } else if let seq = sequence(Array(atoms[(k + 1)..<close])) {
                        options = seq.map { $0.map { Atom.char($0) } }
                    }
                    if !options.isEmpty {
                        var out: [[Atom]] = []
                        for o in options {
                            for rest in expandAtoms(o + suffix, limit: limit) {
                                out.append(prefix + rest)
                                if out.count >= limit { return out }
                            }
                        }
                        return out
                    }
                }
            }
            k += 1
        }
        return [atoms]
    }

    /// `{1..5}`, `{05..10..2}`, `{a..e}`.
    private static func sequence(_ atoms: [Atom]) -> [String]? {
        var s = ""
        for a in atoms { guard case .char(let c) = a else { return nil }; s.append(c) }
        let bits = s.components(separatedBy: "..")
        guard bits.count == 2 || bits.count == 3 else { return nil }
        let step = bits.count == 3 ? abs(Int(bits[2]) ?? 1) : 1
        if let a = Int(bits[0]), let b = Int(bits[1]) {
            let width = (bits[0].hasPrefix("0") || bits[1].hasPrefix("0")) ? max(bits[0].count, bits[1].count) : 0
            var out: [String] = []
            var v = a
            let stride = max(1, step) * (a <= b ? 1 : -1)
            while (stride > 0 ? v <= b : v >= b) && out.count < 256 {
                var t = String(v)
                while t.count < width { t = "0" + t }
                out.append(t)
                v += stride
            }
            return out
        }
        if bits[0].count == 1, bits[1].count == 1, let a = bits[0].unicodeScalars.first?.value, let b = bits[1].unicodeScalars.first?.value {
            var out: [String] = []
            let stride = Int(max(1, step)) * (a <= b ? 1 : -1)
            var v = Int(a)
            while (stride > 0 ? v <= Int(b) : v >= Int(b)) && out.count < 256 {
                if let u = Unicode.Scalar(UInt32(v)) { out.append(String(Character(u))) }
                v += stride
            }
            return out
        }
        return nil
    }

    /// `${v#p}`, `${v##p}`, `${v%p}`, `${v%%p}` with a glob pattern.
    static func trim(_ value: String, pattern: String, fromStart: Bool, longest: Bool) -> String {
        let chars = Array(value)
        let order: [Int] = longest ? Array((0...chars.count).reversed()) : Array(0...chars.count)
        for n in order {
            let candidate = fromStart ? String(chars[0..<n]) : String(chars[(chars.count - n)...])
            if fnmatch(pattern, candidate, 0) == 0 {
                return fromStart ? String(chars[n...]) : String(chars[0..<(chars.count - n)])
            }
        }
        return value
    }

    /// `${v/p/r}` forms; patterns with glob characters match with fnmatch at each position.
    static func replace(_ value: String, pattern: String, with replacement: String, mode: String) -> String {
        guard !pattern.isEmpty else { return value }
        let chars = Array(value)
        func matchLength(at start: Int) -> Int? {
            for end in stride(from: chars.count, through: start + 1, by: -1) where fnmatch(pattern, String(chars[start..<end]), 0) == 0 {
                if mode == "/%" && end != chars.count { continue }
                return end - start
            }
            return nil
        }
        var out = ""
        var k = 0
        var replaced = false
        while k < chars.count {
            if (!replaced || mode == "//") && (mode != "/#" || k == 0), let n = matchLength(at: k) {
                out += replacement
                k += n
                replaced = true
                continue
            }
            out.append(chars[k])
            k += 1
        }
        return out
    }
}
