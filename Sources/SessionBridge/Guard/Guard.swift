/// Path arithmetic for the guard: absolute, `..` collapsed, symlinks resolved through the longest existing prefix.
enum GuardPaths {
    static func join(_ base: String, _ path: String) -> String {
        path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base + path : base + "/" + path)
    }

    /// `/a/./b/../c` → `/a/c` (lexically).
    static func collapse(_ path: String) -> String {
        var parts: [Substring] = []
        for p in path.split(separator: "/", omittingEmptySubsequences: true) {
            if p == "." { continue }
            if p == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(p)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The real location of a path that may not exist yet: realpath of its longest existing prefix, plus the rest.
    static func resolve(_ path: String) -> String {
        let lexical = collapse(path)
        var prefix = lexical
        var rest: [String] = []
        while prefix != "/" {
            if let real = FileSystem.realPath(prefix) {
                return collapse(([real] + rest.reversed()).joined(separator: "/"))
            }
            rest.append(FileSystem.lastComponent(of: prefix))
            prefix = FileSystem.parentDirectory(of: prefix)
        }
        return lexical
    }

    static func isInside(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }
}

/// The PreToolUse guard: denies any tool call that would create, change, move or delete something inside the
/// bridge's message store or a talks folder, naming the command to use instead. Reading stays allowed, and so
/// does running session-bridge itself. Claude Code (Write, Edit, MultiEdit, NotebookEdit, Bash) and Codex
/// (apply_patch, Bash) inputs are both understood.
///
/// Bash commands are read with a small shell scanner, so the guard catches mistakes and the usual ways of writing
/// files (redirections, tee, cp/mv/rm/ln/touch/install/rsync/dd, sed -i, perl -i, truncate, chmod, mkdir,
/// interpreters with inline code, `bash -c`), following variables and `cd` where it can. It is a guard against
/// accidents, not a sandbox: a script file run from Bash is not inspected.
public struct Guard {
    public enum Verdict: Equatable, Sendable {
        case allow
        case deny(String)
    }

    enum Area { case store, talks }

    struct Protected {
        var path: String
        var area: Area
    }

    let cwd: String
    let home: String
    let environment: Environment
    let protected: [Protected]
    /// Talks folders are guarded unless their config.yaml says `security.block_direct_edits: false`.
    let guardTalks: Bool

    /// How the reasons name the helper: as the hook's session runs it.
    var helper: HelperName {
        HelperName(environment: environment, argv0: CommandLine.arguments.first ?? HelperName.bareName,
                   executable: FileSystem.realPath("/proc/self/exe"))
    }

    init(cwd: String, environment: Environment) {
        self.cwd = cwd
        self.home = environment["HOME"] ?? "/root"
        self.environment = environment
        var roots = [Protected(path: GuardPaths.resolve(StoreLocation.rootPath(environment: environment)), area: .store)]
        var guardTalks = true
        if let location = try? TalkLocation.find(dir: nil, environment: environment, cwd: cwd) {
            guardTalks = location.config.blockDirectEdits
            roots.append(Protected(path: GuardPaths.resolve(location.root), area: .talks))
            roots.append(Protected(path: GuardPaths.resolve(location.conversations), area: .talks))
        }
        if let extra = environment["SESSION_BRIDGE_TALKS"] {
            roots.append(Protected(path: GuardPaths.resolve(FileSystem.absolute(extra)), area: .talks))
        }
        self.protected = roots
        self.guardTalks = guardTalks
    }

    /// Evaluates one hook input (the JSON a PreToolUse hook receives on stdin).
    public static func evaluate(input: [UInt8], environment: Environment) -> Verdict {
        guard let hook = JSONCoding.decode(PreToolUseInput.self, from: input) else {
            // Malformed input: fail closed only when it looks like it touches a guarded folder.
            let text = String(decoding: input.prefix(1 << 20), as: UTF8.self)
            let g = Guard(cwd: FileSystem.currentDirectory(), environment: environment)
            if text.contains(".talks") || g.protected.contains(where: { text.contains($0.path) }) || text.contains(".claude/session-bridge") {
                return .deny("session-bridge guard: the hook input could not be read and mentions a session-bridge folder, so the call is denied to be safe. Use the session-bridge commands (\(g.helper.command("--help"))).")
            }
            return .allow
        }
        let g = Guard(cwd: hook.cwd ?? FileSystem.currentDirectory(), environment: environment)
        return g.check(hook)
    }

    func check(_ hook: PreToolUseInput) -> Verdict {
        let input = hook.toolInput ?? [:]
        switch hook.toolName ?? "" {
        case "Write", "Edit", "MultiEdit", "NotebookEdit":
            let path = input["file_path"]?.string ?? input["notebook_path"]?.string ?? input["path"]?.string
            guard let path else {
                return mentionsGuarded(input) ? .deny(reason(for: nil, area: .talks, tool: hook.toolName ?? "edit")) : .allow
            }
            return verdict(path: path, cwd: cwd, tool: hook.toolName ?? "Write")
        case "apply_patch":
            let patch = input["command"]?.string ?? input["input"]?.string ?? input["patch"]?.string ?? ""
            return checkPatch(patch)
        case "Bash", "shell", "exec_command", "shell_command", "local_shell":
            let command = input["command"]?.string ?? input["cmd"]?.string ?? input["command"]?.joined ?? ""
            let workdir = input["workdir"]?.string.map { GuardPaths.join(cwd, $0) } ?? cwd
            return checkBash(command, cwd: workdir)
        default:
            return .allow
        }
    }

    /// The guarded area a path falls in, if any.
    func area(of rawPath: String, cwd: String) -> Area? {
        var p = rawPath
        if p == "~" || p.hasPrefix("~/") { p = home + p.dropFirst() }
        let resolved = GuardPaths.resolve(GuardPaths.join(cwd, p))
        for root in protected where GuardPaths.isInside(resolved, root.path) {
            if root.area == .talks && !guardTalks { continue }
            return root.area
        }
        if guardTalks && resolved.split(separator: "/").contains(".talks") { return .talks }
        return nil
    }

    func verdict(path: String, cwd: String, tool: String) -> Verdict {
        guard let a = area(of: path, cwd: cwd) else { return .allow }
        return .deny(reason(for: path, area: a, tool: tool))
    }

    func reason(for path: String?, area: Area, tool: String) -> String {
        let what = path.map { "\($0) is" } ?? "this call writes"
        switch area {
        case .store:
            return "session-bridge guard: \(what) inside the session-bridge message store; \(tool) may not change it by hand "
                + "(it would bypass atomic delivery and receipts). Use the helper: \(helper.command("ask | reply | listen | stop | gc | doctor --fix"))."
        case .talks:
            return "session-bridge guard: \(what) inside a talks folder; \(tool) may not change talks by hand (it would bypass "
                + "the lock, nonce and turn checks). Use: \(helper.command("talk say | resolve | block | normalize")), or \(helper.command("doctor --fix"))."
        }
    }

    func mentionsGuarded(_ input: [String: JSONValue]) -> Bool {
        let text = input.values.compactMap(\.string).joined(separator: "\n")
        return text.contains(".talks/") || protected.contains { text.contains($0.path) }
    }

    // MARK: apply_patch

    func checkPatch(_ patch: String) -> Verdict {
        for line in patch.split(separator: "\n", omittingEmptySubsequences: true) {
            for marker in ["*** Add File:", "*** Update File:", "*** Delete File:", "*** Move to:"] where line.hasPrefix(marker) {
                let path = line.dropFirst(marker.count).trimmingSpaces()
                if case .deny(let why) = verdict(path: path, cwd: cwd, tool: "apply_patch") { return .deny(why) }
            }
        }
        return .allow
    }

    // MARK: Bash

    /// Commands whose every operand is written (created, changed or removed).
    static let writesOperands: Set<String> = ["rm", "rmdir", "touch", "mkdir", "truncate", "chmod", "chown", "chgrp", "shred", "unlink", "setfacl", "mkfifo", "mknod", "tee"]
    /// Commands whose last operand (or -t DIR) is the destination.
    static let writesDestination: Set<String> = ["cp", "ln", "install", "rsync", "scp", "link"]
    /// Interpreters whose inline code is checked for guarded paths.
    static let interpreters: [String: Set<String>] = [
        "python": ["-c"], "python3": ["-c"], "python2": ["-c"], "node": ["-e", "--eval", "-p", "--print"], "nodejs": ["-e"],
        "perl": ["-e", "-E"], "ruby": ["-e"], "php": ["-r"], "deno": ["eval"], "bun": ["-e", "--eval"], "lua": ["-e"], "Rscript": ["-e"],
    ]
    static let wrappers: Set<String> = ["sudo", "env", "command", "builtin", "exec", "nohup", "nice", "time", "timeout", "stdbuf", "ionice", "xargs", "doas", "chronic"]

    func checkBash(_ script: String, cwd: String) -> Verdict {
        var scanner = ShellScanner(cwd: cwd, home: home, environment: environment.values)
        scanner.scan(script)
        for command in scanner.commands {
            for r in command.redirections where r.op.contains(">") && !r.target.text.hasPrefix("&") && !r.target.text.isEmpty {
                if case .deny(let why) = verdict(path: r.target.text, cwd: r.cwd, tool: "a shell redirection") { return .deny(why) }
            }
            if case .deny(let why) = checkCommand(command) { return .deny(why) }
        }
        return .allow
    }

    func checkCommand(_ command: Command) -> Verdict {
        var words = command.words
        // Strip wrappers (sudo, env, timeout 5, nice -n 5, …) and their options.
        while let first = words.first, Guard.wrappers.contains(FileSystem.lastComponent(of: first.text)) {
            let name = FileSystem.lastComponent(of: first.text)
            words.removeFirst()
            while let w = words.first, w.text.hasPrefix("-") || (name == "env" && w.text.contains("=")) {
                words.removeFirst()
                if ["-n", "-u", "-g", "-s", "-k", "-C", "-c"].contains(w.text), name != "env" { _ = words.isEmpty ? nil : words.removeFirst() }
            }
            if name == "timeout", let w = words.first, w.text.first?.isNumber == true { words.removeFirst() }
        }
        guard let first = words.first else { return .allow }
        let name = FileSystem.lastComponent(of: first.text)
        let args = Array(words.dropFirst())
        let operands = args.filter { !$0.text.hasPrefix("-") || $0.text == "-" }
        let tool = "`\(name)`"
        // session-bridge itself is the sanctioned writer.
        if name == "session-bridge" || name == "session-bridge-jq" { return .allow }
        func deny(_ w: Word) -> Verdict? {
            if case .deny(let why) = verdict(path: w.text, cwd: command.cwd, tool: tool) { return .deny(why) }
            return nil
        }
        if Guard.writesOperands.contains(name) {
            for w in operands { if let d = deny(w) { return d } }
            return .allow
        }
        if name == "mv" {
            for w in operands { if let d = deny(w) { return d } }   // moving out deletes there, moving in creates
            return .allow
        }
        if Guard.writesDestination.contains(name) {
            if let t = args.firstIndex(where: { $0.text == "-t" || $0.text == "--target-directory" }), t + 1 < args.count, let d = deny(args[t + 1]) {
                return d
            }
            if let t = args.first(where: { $0.text.hasPrefix("--target-directory=") }),
               let d = deny(Word(text: String(t.text.dropFirst("--target-directory=".count)), unresolved: t.unresolved)) {
                return d
            }
            if name == "rsync", args.contains(where: { $0.text.hasPrefix("--remove-source") }) {
                for w in operands { if let d = deny(w) { return d } }
            }
            if let last = operands.last, operands.count >= (name == "ln" ? 1 : 2), let d = deny(last) { return d }
            return .allow
        }
        if name == "dd" {
            for w in args where w.text.hasPrefix("of=") {
                if let d = deny(Word(text: String(w.text.dropFirst(3)), unresolved: w.unresolved)) { return d }
            }
            return .allow
        }
        if name == "sed" || name == "perl" {
            let inPlace = args.contains { w in
                w.text == "-i" || w.text.hasPrefix("-i") || w.text.hasPrefix("--in-place") || (w.text.hasPrefix("-") && !w.text.hasPrefix("--") && w.text.contains("i") && name == "perl")
            }
            if inPlace {
                for w in operands { if let d = deny(w) { return d } }
            }
            if name == "perl", let code = inlineCode(args, flags: ["-e", "-E"]), mentionsGuarded(code) { return .deny(reason(for: nil, area: .talks, tool: "inline perl code")) }
            return .allow
        }
        if let flags = Guard.interpreters[name] ?? (name.hasPrefix("python") ? ["-c"] : nil) {
            if let code = inlineCode(args, flags: flags), mentionsGuarded(code) {
                return .deny(reason(for: nil, area: area(forCode: code), tool: "inline \(name) code"))
            }
            return .allow
        }
        if ["bash", "sh", "zsh", "dash", "ksh"].contains(name), let i = args.firstIndex(where: { $0.text == "-c" || ($0.text.hasPrefix("-") && $0.text.hasSuffix("c") && !$0.text.hasPrefix("--")) }), i + 1 < args.count {
            return checkBash(args[i + 1].text, cwd: command.cwd)
        }
        if name == "eval" {
            return checkBash(args.map(\.text).joined(separator: " "), cwd: command.cwd)
        }
        if name == "find", args.contains(where: { ["-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-fls"].contains($0.text) }) {
            for w in args.prefix(while: { !$0.text.hasPrefix("-") }) { if let d = deny(w) { return d } }
            return .allow
        }
        if name == "git", let sub = args.first?.text, ["checkout", "restore", "clean", "rm", "mv", "stash", "reset"].contains(sub) {
            for w in operands.dropFirst() { if let d = deny(w) { return d } }
        }
        return .allow
    }

    typealias Command = ShellScanner.Command
    typealias Word = ShellScanner.Word

    func inlineCode(_ args: [Word], flags: Set<String>) -> String? {
        for (i, w) in args.enumerated() {
            if flags.contains(w.text), i + 1 < args.count { return args[i + 1].text }
            if let f = flags.first(where: { $0.count == 2 && w.text.hasPrefix($0) && w.text.count > 2 && !w.text.hasPrefix("--") }) {
                return String(w.text.dropFirst(f.count))
            }
            // perl -pi -e, python -Wignore -c …: combined short flags ending with the code flag.
            if w.text.hasPrefix("-") && !w.text.hasPrefix("--") && flags.contains("-" + String(w.text.last ?? " ")), i + 1 < args.count {
                return args[i + 1].text
            }
        }
        return nil
    }

    /// Inline code that names a guarded folder: a protected path, `.talks`, or the store's default location.
    func mentionsGuarded(_ code: String) -> Bool {
        if guardTalks && code.contains(".talks") { return true }
        if code.contains(".claude/session-bridge") { return true }
        if code.contains("SESSION_BRIDGE_HOME") { return true }
        return protected.contains { ($0.area == .store || guardTalks) && code.contains($0.path) }
    }

    func area(forCode code: String) -> Area {
        code.contains(".talks") ? .talks : .store
    }
}

/// The fields of a PreToolUse hook input the guard reads (Claude Code and Codex shapes).
struct PreToolUseInput: Decodable {
    var toolName: String?
    var toolInput: [String: JSONValue]?
    var cwd: String?

    enum CodingKeys: String, CodingKey {
        case toolName = "tool_name", toolInput = "tool_input", cwd
    }
}

/// Any JSON value, kept only as far as the guard needs (strings and string lists).
enum JSONValue: Decodable {
    case string(String)
    case strings([String])
    case other

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([String].self) { self = .strings(a); return }
        self = .other
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var joined: String? { if case .strings(let a) = self { return a.joined(separator: " ") }; return nil }
}
