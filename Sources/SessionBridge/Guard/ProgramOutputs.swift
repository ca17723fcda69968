/// What a command prints, as far as it is knowable without running it: the text of `echo`/`printf`/`cat`/`pwd`
/// and simple decoders (`base64 -d`, `xxd -r -p`, `rev`, `tr`), "paths under a folder" for listers (`find`,
/// `ls`, `grep -l`, `git ls-files`), an opaque value for programs that print no path (dates, ids, hashes), and
/// "network" for downloads. Everything else is unknown.
enum ProgramOutputs {
    typealias Stream = ShellAnalyzer.Stream

    /// Programs whose output is never a path nor a guarded name.
    static let opaqueOutput: Set<String> = [
        "date", "whoami", "id", "uname", "hostname", "nproc", "seq", "wc", "pgrep", "pidof", "getconf", "tput", "stty", "arch", "expr",
        "uptime", "md5sum", "sha1sum", "sha256sum", "sha512sum", "cksum", "b2sum", "uuidgen", "od", "free", "df", "du", "stat",
        "logname", "tty", "nvidia-smi", "openssl", "shuf", "jobs", "bc", "numfmt", "cut-none", "sleep", "true", "false", "test", "[",
    ]

    static func output(argv: [String], stdin: Stream, analyzer a: ShellAnalyzer, state: ShellAnalyzer.State) -> Stream {
        guard let program = argv.first, Marker.isPlain(program) else { return .unknown }
        let name = FileSystem.lastComponent(of: program)
        let args = Array(argv.dropFirst())
        func lines(_ s: String) -> Stream { .text(s.hasSuffix("\n") ? s : s + "\n") }
        func input(_ operands: [String]) -> Stream {
            let files = operands.filter { $0 != "-" }
            guard !files.isEmpty else { return stdin }
            var texts: [String] = []
            for f in files {
                switch a.fileStream(f, state) {
                case .text(let t): texts.append(t)
                case .none: continue
                default: return .unknown
                }
            }
            return .text(texts.joined())
        }
        func paths(_ root: String) -> Stream {
            guard Marker.isPlain(root) else { return .unknown }
            return .paths(under: GuardPaths.collapse(a.absolute(root, state)))
        }
        switch name {
        case "echo":
            var rest = args[...]
            var escapes = false
            var newline = true
            while let f = rest.first, f.hasPrefix("-"), f.count > 1, f.dropFirst().allSatisfy({ "neE".contains($0) }) {
                if f.contains("e") { escapes = true }
                if f.contains("n") { newline = false }
                rest = rest.dropFirst()
            }
            var text = rest.joined(separator: " ")
            if escapes { text = decodeEscapes(text) }
            return .text(newline ? text + "\n" : text)
        case "printf":
            guard let format = args.first else { return .none }
            return printf(format, Array(args.dropFirst())).map { .text($0) } ?? .unknown
        case "cat", "tac":
            let o = ProgramOptions(args)
            let s = input(o.operands)
            if name == "tac", case .text(let t) = s { return lines(t.split(separator: "\n").reversed().joined(separator: "\n")) }
            return s
        case "head", "tail", "sort", "uniq", "cut", "nl", "fold", "fmt", "expand":
            let o = ProgramOptions(args, shortWithValue: "ncktTfdbsw", longWithValue: ["--lines", "--bytes", "--key", "--field-separator"])
            return input(name == "uniq" ? Array(o.operands.prefix(1)) : o.operands)
        case "grep", "egrep", "fgrep", "rg", "ag":
            let o = ProgramOptions(args, shortWithValue: "efmABCDd", longWithValue: ["--regexp", "--file", "--max-count", "--after-context", "--before-context", "--context", "--include", "--exclude", "--exclude-dir", "--type", "--glob", "-g", "--color"])
            var operands = o.operands
            if o.values("-e", "--regexp", "-f", "--file").isEmpty && !operands.isEmpty && !o.has("--files") { operands.removeFirst() }
            if o.has("-l", "-L", "--files-with-matches", "--files-without-match", "-r", "-R", "--recursive", "--files") || name == "rg" || name == "ag" {
                if operands.count == 1 { return paths(operands[0]) }
                if operands.isEmpty { return (o.has("-r", "-R", "--recursive", "--files") || name == "rg" || name == "ag") ? paths(".") : stdin }
                return .unknown
            }
            return input(operands)
        case "find", "fd", "fdfind", "ls", "tree", "locate", "plocate":
            let operands = args.filter { !$0.hasPrefix("-") }
            if name == "locate" || name == "plocate" { return .paths(under: "/") }
            if name == "find" {
                let roots = args.prefix { !$0.hasPrefix("-") && $0 != "(" && $0 != "!" }
                if roots.count == 1, let r = roots.first { return paths(r) }
                return roots.isEmpty ? paths(".") : .unknown
            }
            if name == "fd" || name == "fdfind" { return operands.count >= 2 ? paths(operands[1]) : paths(".") }
            if operands.count == 1 { return paths(operands[0]) }
            return operands.isEmpty ? paths(".") : .unknown
        case "git":
            guard let sub = args.first(where: { !$0.hasPrefix("-") }) else { return .unknown }
            let rest = args.drop { $0 != sub }.dropFirst()
            switch sub {
            case "ls-files", "ls-tree", "status", "diff", "grep", "clean":
                let root = GitModel.repositoryRoot(state) ?? state.cwd
                if sub == "diff" && !rest.contains(where: { $0.hasPrefix("--name-only") || $0.hasPrefix("--name-status") }) { return .text(Marker.opaqueString) }
                return paths(root)
            case "rev-parse":
                if rest.contains("--show-toplevel") {
                    return GitModel.repositoryRoot(state).map { .text($0 + "\n") } ?? .text(Marker.opaqueString)
                }
                if rest.contains("--git-dir") || rest.contains("--absolute-git-dir") {
                    return GitModel.repositoryRoot(state).map { .text($0 + "/.git\n") } ?? .text(Marker.opaqueString)
                }
                if rest.contains("--show-prefix") || rest.contains("--show-cdup") || rest.contains("--git-common-dir") { return .unknown }
                return .text(Marker.opaqueString)
            case "branch", "describe", "log", "show", "merge-base", "rev-list", "symbolic-ref", "hash-object", "config", "remote", "tag", "stash", "shortlog", "cat-file", "for-each-ref", "name-rev":
                if sub == "show" && rest.contains(where: { $0.contains(":") }) { return .unknown }
                if sub == "cat-file" && rest.contains("-p") { return .unknown }
                if sub == "log" && rest.contains(where: { $0.hasPrefix("--name-only") || $0.hasPrefix("--name-status") || $0 == "--stat" }) { return paths(GitModel.repositoryRoot(state) ?? state.cwd) }
                return .text(Marker.opaqueString)
            default:
                return .unknown
            }
        case "pwd":
            return .text(state.cwd + "\n")
        case "basename":
            let o = ProgramOptions(args, shortWithValue: "s", longWithValue: ["--suffix"])
            guard let p = o.operands.first, Marker.isPlain(p) else { return .unknown }
            var b = FileSystem.lastComponent(of: p.count > 1 && p.hasSuffix("/") ? String(p.dropLast()) : p)
            let suffix = o.values("-s", "--suffix").first ?? (o.operands.count > 1 ? o.operands[1] : nil)
            if let suffix, b.hasSuffix(suffix), b != suffix { b.removeLast(suffix.count) }
            return .text(b + "\n")
        case "dirname":
            guard let p = args.first(where: { !$0.hasPrefix("-") }), Marker.isPlain(p) else { return .unknown }
            let trimmed = p.count > 1 && p.hasSuffix("/") ? String(p.dropLast()) : p
            guard trimmed.contains("/") else { return .text(".\n") }
            let parent = FileSystem.parentDirectory(of: trimmed)
            return .text((parent.isEmpty ? "/" : parent) + "\n")
        case "realpath", "readlink":
            guard let p = args.last(where: { !$0.hasPrefix("-") }), Marker.isPlain(p) else { return .unknown }
            if name == "readlink" && !args.contains(where: { $0.hasPrefix("-") && ($0.contains("f") || $0.contains("e") || $0.contains("m")) }) {
                return GuardPaths.readLink(a.absolute(p, state)).map { .text($0 + "\n") } ?? .none
            }
            return .text(GuardPaths.resolve(a.absolute(p, state), links: a.links) + "\n")
        case "mktemp":
            let o = ProgramOptions(args, shortWithValue: "pt", longWithValue: ["--tmpdir", "--suffix"])
            let dir = o.values("-p", "--tmpdir").first ?? o.operands.first.map { FileSystem.parentDirectory(of: a.absolute($0, state)) } ?? (a.environment["TMPDIR"] ?? "/tmp")
            return .text(GuardPaths.join(dir, "tmp." + Marker.opaqueString) + "\n")
        case "which", "command", "type":
            guard let target = args.last(where: { !$0.hasPrefix("-") }), Marker.isPlain(target) else { return .unknown }
            return .text((ProgramModels.resolveProgram(target, a, state) ?? "/usr/bin/" + target) + "\n")
        case "printenv":
            guard let n = args.first else { return .unknown }
            return a.environment[n].map { .text($0 + "\n") } ?? .none
        case "base64", "base32", "basenc":
            let o = ProgramOptions(args, shortWithValue: "w", longWithValue: ["--wrap"])
            guard o.has("-d", "--decode", "-D") else { return .text(Marker.opaqueString) }
            guard case .text(let t) = input(o.operands), Marker.isPlain(t), name == "base64" else { return .unknown }
            return decodeBase64(t).map { .text($0) } ?? .unknown
        case "xxd":
            guard args.contains("-r"), args.contains(where: { $0 == "-p" || $0 == "-ps" || $0 == "-plain" }) else { return .unknown }
            guard case .text(let t) = input(args.filter { !$0.hasPrefix("-") }), Marker.isPlain(t) else { return .unknown }
            return decodeHex(t).map { .text($0) } ?? .unknown
        case "rev":
            guard case .text(let t) = input(args.filter { !$0.hasPrefix("-") }) else { return .unknown }
            return .text(t.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.reversed()) }.joined(separator: "\n"))
        case "tr":
            guard case .text(let t) = stdin else { return .unknown }
            let o = ProgramOptions(args)
            let sets = o.operands.map(expandTrSet)
            if o.has("-d", "--delete"), let d = sets.first, !o.has("-c", "-C") { return .text(String(t.filter { !d.contains($0) })) }
            guard sets.count == 2, !o.has("-c", "-C", "-s", "-d") else { return .unknown }
            var map: [Character: Character] = [:]
            for (k, ch) in sets[0].enumerated() { map[ch] = sets[1].isEmpty ? ch : sets[1][min(k, sets[1].count - 1)] }
            return .text(String(t.map { map[$0] ?? $0 }))
        case "curl":
            // `curl file:///path` prints a local file: known as `cat` of it would be.
            let urls = args.filter { $0.contains("://") }
            if !urls.isEmpty, urls.allSatisfy({ $0.hasPrefix("file://") }) {
                return input(urls.map { u in
                    let rest = u.dropFirst(7)
                    return rest.hasPrefix("localhost/") ? String(rest.dropFirst(9)) : String(rest)
                })
            }
            return .network
        case "wget", "wget2", "fetch", "http", "https", "xh", "aria2c":
            return .network
        case "jq", "yq", "gojq":
            return .unknown
        case "yes":
            return .text((args.first ?? "y") + "\n")
        case _ where opaqueOutput.contains(name):
            return .text(Marker.opaqueString + "\n")
        case "docker", "podman", "kubectl":
            if args.contains(where: { ($0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("q")) || $0 == "--quiet" }) { return .text(Marker.opaqueString) }
            return .unknown
        case "lsof":
            if args.contains(where: { $0.hasPrefix("-t") }) { return .text(Marker.opaqueString) }
            return .unknown
        default:
            return .unknown
        }
    }

    /// echo -e / printf %b escapes.
    static func decodeEscapes(_ s: String) -> String {
        var bytes: [UInt8] = []
        let c = Array(s.utf8)
        var i = 0
        while i < c.count {
            if c[i] == 92, i + 1 < c.count {
                let n = c[i + 1]
                i += 2
                switch n {
                case 110: bytes.append(10)
                case 116: bytes.append(9)
                case 114: bytes.append(13)
                case 92: bytes.append(92)
                case 97: bytes.append(7)
                case 98: bytes.append(8)
                case 101: bytes.append(27)
                case 102: bytes.append(12)
                case 118: bytes.append(11)
                case 99: return String(decoding: bytes, as: UTF8.self)
                case 120:
                    var v = 0, k = 0
                    while k < 2, i < c.count, let d = ShellParser.hex(c[i]) { v = v * 16 + d; i += 1; k += 1 }
                    bytes.append(UInt8(v & 0xFF))
                case 48...55:
                    var v = Int(n - 48), k = n == 48 ? 0 : 1
                    while k < 3, i < c.count, c[i] >= 48, c[i] <= 55 { v = v * 8 + Int(c[i] - 48); i += 1; k += 1 }
                    bytes.append(UInt8(v & 0xFF))
                default:
                    bytes += [92, n]
                }
            } else {
                bytes.append(c[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// printf FORMAT ARGS with %s, %b, %c, %d, %%; nil for forms it does not follow.
    static func printf(_ format: String, _ args: [String]) -> String? {
        let f = Array(format)
        var out = ""
        var argIndex = 0
        var round = 0
        repeat {
            var k = 0
            var used = false
            while k < f.count {
                if f[k] == "%" && k + 1 < f.count {
                    var j = k + 1
                    while j < f.count, "-+ #0123456789.".contains(f[j]) { j += 1 }
                    guard j < f.count else { return nil }
                    let conv = f[j]
                    let arg = argIndex < args.count ? args[argIndex] : ""
                    switch conv {
                    case "%": out.append("%")
                    case "s": out += arg; argIndex += 1; used = true
                    case "b": out += decodeEscapes(arg); argIndex += 1; used = true
                    case "c": out += String(arg.prefix(1)); argIndex += 1; used = true
                    case "d", "i", "u", "x", "X", "o", "f", "g", "e":
                        out += Marker.opaqueString
                        argIndex += 1
                        used = true
                    case "q", "Q": out += arg; argIndex += 1; used = true
                    default: return nil
                    }
                    k = j + 1
                    continue
                }
                if f[k] == "\\" {
                    var e = String(f[k])
                    if k + 1 < f.count { e.append(f[k + 1]) }
                    var n = k + 2
                    if let last = e.last, last == "x" || last.isNumber {
                        while n < f.count, n < k + 5, f[n].isHexDigit { e.append(f[n]); n += 1 }
                    }
                    // The format string also takes C's \" \' \? (bash's printf does; echo -e and %b do not).
                    if e == "\\\"" || e == "\\'" || e == "\\?" { out.append(e.last ?? "\\") } else { out += decodeEscapes(e) }
                    k = n
                    continue
                }
                out.append(f[k])
                k += 1
            }
            round += 1
            if !used { break }
        } while argIndex < args.count && round < 64
        return out
    }

    static func decodeBase64(_ text: String) -> String? {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var lookup = [Int](repeating: -1, count: 256)
        for (k, b) in table.enumerated() { lookup[Int(b)] = k }
        lookup[Int(UInt8(ascii: "-"))] = 62
        lookup[Int(UInt8(ascii: "_"))] = 63
        var bits = 0, count = 0
        var out: [UInt8] = []
        for b in text.utf8 {
            if b == 61 || b == 10 || b == 13 || b == 32 { continue }
            let v = lookup[Int(b)]
            guard v >= 0 else { return nil }
            bits = (bits << 6) | v
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8((bits >> count) & 0xFF))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decodeHex(_ text: String) -> String? {
        var out: [UInt8] = []
        var pending: Int?
        for b in text.utf8 {
            if b == 10 || b == 32 || b == 13 { continue }
            guard let d = ShellParser.hex(b) else { return nil }
            if let p = pending { out.append(UInt8(p * 16 + d)); pending = nil } else { pending = d }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `a-z`, `A-Z0-9`, `\n` in a tr set.
    static func expandTrSet(_ s: String) -> [Character] {
        let c = Array(decodeEscapes(s))
        var out: [Character] = []
        var k = 0
        while k < c.count {
            if k + 2 < c.count, c[k + 1] == "-", let lo = c[k].unicodeScalars.first?.value, let hi = c[k + 2].unicodeScalars.first?.value, lo <= hi, hi - lo < 4096 {
                for v in lo...hi { if let u = Unicode.Scalar(v) { out.append(Character(u)) } }
                k += 3
            } else {
                out.append(c[k])
                k += 1
            }
        }
        return out
    }
}
