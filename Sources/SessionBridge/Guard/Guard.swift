#if canImport(Glibc)
import Glibc
#endif

/// The PreToolUse guard: denies any tool call that may create, change, move or delete something inside the
/// bridge's message store or a talks folder (or destroy a folder that holds one), naming the command to use
/// instead. Claude Code (Write, Edit, MultiEdit, NotebookEdit, Bash) and Codex (apply_patch, shell commands as
/// strings or argument lists) inputs are both understood.
///
/// The rule: a call that names, or may expand to, a guarded path is denied unless every part of it is known to
/// only read. Shell commands are parsed and expanded (`ShellAnalyzer`), then each program is modelled by class
/// (`ProgramModels`): what is unknowable counts as "may be anything", unknown programs may write whatever they
/// name, and scripts fed to interpreters are analysed (shell) or scanned (other languages). Only the real
/// session-bridge helper of this installation may write the store. It is a guard against mistakes and hostile
/// prompts, not a sandbox: a compiled program run from Bash is not inspected.
package struct Guard {
    package enum Verdict: Equatable, Sendable {
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
    /// Real paths of the session-bridge helper of this installation (nil: found when first needed).
    let givenHelpers: Set<String>?
    /// More folders the analysis treats as guarded (reserved folders), so that writes reaching them indirectly
    /// (git restoring tracked files, a copy into an ancestor) are reported as writes there.
    var extraGuardedRoots: [String] = []

    /// How the reasons name the helper: as the hook's session runs it.
    var helper: HelperName {
        HelperName(environment: environment, argv0: CommandLine.arguments.first ?? HelperName.bareName,
                   executable: Processes.executablePath())
    }

    init(cwd: String, environment: Environment, trustedHelpers: Set<String>? = nil) {
        self.cwd = cwd
        self.home = environment["HOME"] ?? "/root"
        self.environment = environment
        var roots = [Protected(path: GuardPaths.resolve(StoreLocation.rootPath(environment: environment)), area: .store)]
        // Whatever state config.yaml is in: an invalid one keeps the default folders guarded, an unsafe
        // conversation_dir (`/`, the home folder…) is not claimed.
        let talks = TalkLocation.guarded(environment: environment, cwd: cwd)
        let guardTalks = talks.blockDirectEdits
        for folder in talks.folders { roots.append(Protected(path: GuardPaths.resolve(folder), area: .talks)) }
        if let extra = environment["SESSION_BRIDGE_TALKS"] {
            roots.append(Protected(path: GuardPaths.resolve(FileSystem.absolute(extra)), area: .talks))
        }
        self.protected = roots
        self.guardTalks = guardTalks
        self.givenHelpers = trustedHelpers
    }

    /// Helper installations that registered sessions in this store (each found by the real binary from its own
    /// path, see `SessionManifest.helpers`): read only when a command runs a session-bridge that is not this one.
    static func registeredHelpers(environment: Environment) -> Set<String> {
        let sessions = StoreLocation.rootPath(environment: environment) + "/sessions"
        var out: Set<String> = []
        for id in FileSystem.list(sessions) where Identifiers.isValidID(id) {
            guard let bytes = try? FileSystem.read(sessions + "/" + id + "/manifest.json", limit: 1 << 20),
                  let manifest = SessionManifest.decode(bytes) else { continue }
            for path in manifest.helpers ?? [] where path.hasSuffix("/session-bridge") || path.hasSuffix("/session-bridge-jq") {
                out.insert(path)
            }
        }
        return out
    }

    /// The helper binary that runs this code, its jq helper and the plugin's launcher, by real path.
    static func installationHelpers(environment: Environment) -> Set<String> {
        var out: Set<String> = []
        guard let exe = Processes.executablePath() else { return out }
        guard FileSystem.lastComponent(of: exe) == "session-bridge" else { return out }
        out.insert(exe)
        let dir = FileSystem.parentDirectory(of: exe)
        if let jq = FileSystem.realPath(dir + "/session-bridge-jq") { out.insert(jq) }
        // <root>/.build/<triple>/release/session-bridge → <root>/scripts/session-bridge
        var root = dir
        for _ in 0..<3 {
            root = FileSystem.parentDirectory(of: root)
            if let launcher = FileSystem.realPath(root + "/scripts/session-bridge") { out.insert(launcher); break }
        }
        for key in ["CLAUDE_PLUGIN_ROOT", "PLUGIN_ROOT"] {
            if let r = environment[key], let launcher = FileSystem.realPath(r + "/scripts/session-bridge"),
               let expected = out.first(where: { $0.hasSuffix("/scripts/session-bridge") }), launcher == expected {
                out.insert(launcher)
            }
        }
        return out
    }

    /// Evaluates one hook input (the JSON a PreToolUse hook receives on stdin). Never traps, on any input.
    package static func evaluate(input: [UInt8], environment: Environment) -> Verdict {
        guard let hook = PreToolUseInput.decode(input) else {
            // Malformed input: fail closed only when it looks like it touches a guarded folder.
            let text = String(decoding: input.prefix(1 << 20), as: UTF8.self)
            let g = Guard(cwd: FileSystem.currentDirectory(), environment: environment)
            if text.contains(".talks") || g.protected.contains(where: { text.contains($0.path) }) || text.contains(".claude/session-bridge") {
                return .deny("session-bridge guard: the hook input could not be read and mentions a session-bridge folder, so the call is denied to be safe. Use the session-bridge commands (\(g.helper.command("--help"))).")
            }
            return .allow
        }
        let g = Guard(cwd: hook.cwd.map { FileSystem.absolute($0) } ?? FileSystem.currentDirectory(), environment: environment)
        let effects = g.effects(of: hook)
        let verdict = g.verdict(effects, tool: hook.toolName ?? "")
        guard verdict == .allow else { return verdict }
        // Edit reservations of other sessions: the same analysis, aimed at reserved paths.
        return ReservationGuard.check(hook, input: input, guard: g, effects: effects)
    }

    /// Evaluates one shell command string run in `cwd` (the fuzzing and testing entry point). Never traps.
    package static func evaluate(command: String, cwd: String, environment: Environment) -> Verdict {
        let g = Guard(cwd: cwd, environment: environment)
        return g.verdict(g.effects(ofShell: command, cwd: cwd), tool: "Bash")
    }

    func check(_ hook: PreToolUseInput) -> Verdict {
        let tool = hook.toolName ?? ""
        return verdict(effects(of: hook), tool: tool)
    }

    /// What a tool call may write: the reusable half of the guard.
    func effects(of hook: PreToolUseInput) -> ToolEffects {
        let input = hook.toolInput ?? [:]
        var out = ToolEffects()
        switch hook.toolName ?? "" {
        case "Write", "Edit", "MultiEdit", "NotebookEdit":
            let path = input["file_path"]?.string ?? input["notebook_path"]?.string ?? input["path"]?.string
            guard let path else {
                if mentionsGuarded(input.values.compactMap(\.string).joined(separator: "\n")) { out.effects.append(.write(.anywhere, .node, by: hook.toolName ?? "edit")) }
                return out
            }
            out.effects.append(.write(place(of: path, cwd: cwd, follow: true), .node, by: hook.toolName ?? "Write"))
        case "apply_patch":
            let patch = input["command"]?.string ?? input["input"]?.string ?? input["patch"]?.string ?? input["command"]?.list?.last ?? ""
            if let argv = input["command"]?.list, argv.first.map({ FileSystem.lastComponent(of: $0) }) != "apply_patch" {
                return effects(ofArgv: argv, cwd: workdir(input))
            }
            for change in ApplyPatch.paths(in: patch) {
                out.effects.append(.write(place(of: change.path, cwd: workdir(input), follow: !change.removes), .node, by: "apply_patch"))
            }
        case "Bash", "shell", "exec_command", "shell_command", "local_shell", "container.exec", "unified_exec":
            if let argv = input["command"]?.list ?? input["cmd"]?.list ?? input["argv"]?.list {
                return effects(ofArgv: argv, cwd: workdir(input))
            }
            let command = input["command"]?.string ?? input["cmd"]?.string ?? ""
            return effects(ofShell: command, cwd: workdir(input))
        default:
            break
        }
        return out
    }

    func workdir(_ input: [String: JSONValue]) -> String {
        guard let w = input["workdir"]?.string ?? input["cwd"]?.string else { return cwd }
        return GuardPaths.collapse(GuardPaths.join(cwd, expandTildeOnly(w)))
    }

    func expandTildeOnly(_ p: String) -> String {
        p == "~" || p.hasPrefix("~/") ? home + p.dropFirst() : p
    }

    func place(of path: String, cwd: String, follow: Bool) -> ToolEffects.Place {
        let p = expandTildeOnly(path)
        return .exact(GuardPaths.resolve(GuardPaths.join(cwd, p), followFinal: follow))
    }

    func analyzer() -> ShellAnalyzer {
        let given = givenHelpers
        let env = environment
        let a = ShellAnalyzer(environment: environment, home: home, isTrustedHelper: { path in
            if let given { return given.contains(path) }
            return Guard.installationHelpers(environment: env).contains(path) || Guard.registeredHelpers(environment: env).contains(path)
        })
        let roots = protected.filter { $0.area == .store || guardTalks }.map(\.path) + extraGuardedRoots
        a.guardedRoots = { roots }
        return a
    }

    func effects(ofShell command: String, cwd: String) -> ToolEffects {
        let a = analyzer()
        var state = ShellAnalyzer.State(cwd: cwd)
        a.runScript(command, &state, positional: [], stdin: .none)
        return ToolEffects(effects: a.effects, exhausted: a.exhausted)
    }

    /// A Codex argument list: executed directly (no shell), so its words are taken literally.
    func effects(ofArgv argv: [String], cwd: String) -> ToolEffects {
        let a = analyzer()
        var state = ShellAnalyzer.State(cwd: cwd)
        let clean = argv.map { $0.filter { !(($0.unicodeScalars.first?.value ?? 5) < 5) } }
        a.runProgram(clean, &state, stdin: .none)
        return ToolEffects(effects: a.effects, exhausted: a.exhausted)
    }

    // MARK: Policy

    func verdict(_ effects: ToolEffects, tool: String) -> Verdict {
        if effects.exhausted {
            return .deny("session-bridge guard: this command is too large or too deeply nested to check, so it is denied to be safe. "
                + "Split it into smaller commands; to change bridge state use the helper (\(helper.command("--help"))).")
        }
        for e in effects.effects {
            switch e {
            case .write(let place, let scope, let by):
                if let area = hit(place, scope: scope) { return .deny(reason(for: describe(place), area: area, tool: describeTool(by, tool))) }
            case .opaque(let program, let cwd, let arguments):
                if let area = hit(cwd, scope: .node) {
                    return .deny(reason(for: nil, area: area, tool: "`\(display(program))` (run inside a guarded folder)"))
                }
                for a in arguments {
                    if case .anywhere = a { return .deny(unknowable(program: display(program))) }
                    if let area = hit(a, scope: .node) { return .deny(reason(for: describe(a), area: area, tool: "`\(display(program))`")) }
                }
            case .script(let language, let text, let network, let cwd):
                if let area = hit(cwd, scope: .node) {
                    return .deny(reason(for: nil, area: area, tool: "a \(language) script run inside a guarded folder"))
                }
                guard let text else {
                    if network { continue }
                    return .deny("session-bridge guard: this command runs a \(language) script whose text is built at run time, so it may write the "
                        + "session-bridge store or a talks folder. Run it without constructing the script; to change bridge state use "
                        + "\(helper.command("ask | reply | talk say | doctor --fix")).")
                }
                if ScriptScan.mayWrite(text, language: language) && (mentionsGuarded(text) || ScriptScan.mayConstructPath(text, language: language)) {
                    return .deny(reason(for: nil, area: text.contains(".talks") ? .talks : .store, tool: "the \(language) code in this call"))
                }
            }
        }
        return .allow
    }

    private func display(_ program: String) -> String {
        Marker.isPlain(program) ? FileSystem.lastComponent(of: program) : "a program named at run time"
    }

    private func describeTool(_ by: String, _ tool: String) -> String {
        by == tool || by.hasPrefix("a ") ? by : "`\(by)`"
    }

    private func describe(_ place: ToolEffects.Place) -> String? {
        switch place {
        case .exact(let p): return p
        case .under(let p): return "a path under \(p)"
        case .anywhere: return "a path known only at run time"
        }
    }

    private func unknowable(program: String) -> String {
        "session-bridge guard: `\(program)` gets an argument known only at run time (a command's output, an unset variable or a file list), "
            + "which may name the session-bridge store or a talks folder. Name the paths literally; to change bridge state use "
            + "\(helper.command("ask | reply | talk say | doctor --fix"))."
    }

    /// The guarded area a write lands in, if any.
    func hit(_ place: ToolEffects.Place, scope: ToolEffects.Scope) -> Area? {
        switch place {
        case .anywhere:
            return .store
        case .under(let root):
            return area(of: root, tree: true)
        case .exact(let p):
            return area(of: p, tree: scope == .tree)
        }
    }

    /// The guarded area a resolved path falls in; with `tree`, also when it holds a guarded folder.
    func area(of resolved: String, tree: Bool) -> Area? {
        for root in protected where GuardPaths.isInside(resolved, root.path) || (tree && GuardPaths.isInside(root.path, resolved)) {
            if root.area == .talks && !guardTalks { continue }
            return root.area
        }
        if guardTalks {
            if resolved.split(separator: "/").contains(".talks") { return .talks }
            if tree && FileSystem.isDirectory(resolved + "/.talks") { return .talks }
        }
        if tree, FileSystem.isDirectory(resolved + "/.claude/session-bridge") || FileSystem.isDirectory(resolved + "/session-bridge/sessions") { return .store }
        return nil
    }

    func reason(for path: String?, area: Area, tool: String) -> String {
        let what = path.map { "\($0) is" } ?? "this call writes"
        switch area {
        case .store:
            return "session-bridge guard: \(what) inside (or holds) the session-bridge message store; \(tool) may not change it by hand "
                + "(it would bypass atomic delivery and receipts). Use the helper: \(helper.command("ask | reply | listen | stop | gc | doctor --fix"))."
        case .talks:
            return "session-bridge guard: \(what) inside (or holds) a talks folder; \(tool) may not change talks by hand (it would bypass "
                + "the lock, nonce and turn checks). Use: \(helper.command("talk say | resolve | block | normalize")), or \(helper.command("doctor --fix"))."
        }
    }

    /// Text (inline code, a script, an edit's content) that names a guarded folder, even split by quotes or `+`.
    func mentionsGuarded(_ text: String) -> Bool {
        let squeezed = String(text.unicodeScalars.filter { !"'\"`+ \t\n\r,\\".unicodeScalars.contains($0) }.map(Character.init))
        for t in [text, squeezed] {
            if guardTalks && t.contains(".talks") { return true }
            if t.contains("session-bridge") || t.contains("session_bridge") || t.contains("SESSION_BRIDGE") { return true }
            if protected.contains(where: { ($0.area == .store || guardTalks) && t.contains($0.path) }) { return true }
        }
        return false
    }
}

/// Heuristics for code in languages the guard does not parse: whether it can build a path at run time (decoding,
/// character codes, reversal, the home folder or the environment, directory walks) and also write.
enum ScriptScan {
    static let writers = ["write", "unlink", "remove", "rmtree", "rename", "replace(", "mkdir", "makedirs", "rmdir", "copy", "move",
                          "chmod", "chown", "symlink", "truncate", "system", "popen", "subprocess", "exec", "spawn", "rmsync", "rm_rf", "rm_r",
                          "appendfile", "sysopen", "utime", "touch", "shutil", "fileutils", "rm(", "delete", "io.open", "fopen", "file_put_contents",
                          "dump(", ">", "attach", "vacuum", ".backup", ".save", ".once", ".output", "tofile", "save(", "'w", "\"w", "'a", "\"a",
                          "'x'", "\"x\"", "mode=", "`", "qx", "link(", "outfile", "print >", "printf >", "mkfifo", "os.open", "creat"]
    static let builders = ["chr(", "fromcharcode", "\\x", "\\u00", "\\0", "base64", "b64decode", "atob", "decode(", "fromhex", "unhexlify",
                           "[::-1]", "reverse", "rot13", "codecs", "pack(", "eval(", "exec(", "compile(", "new function(", "__import__",
                           "getattr(", "expanduser", "path.home", "homedir", "environ", "getenv", "env[", "process.env", "$env", "walk(", "listdir",
                           "scandir", "readdir", "opendir", "glob(", "\u{2}", "\u{3}"]

    /// Whether the code has any way to create, change or remove a file (or to run a command that could). A writer's
    /// name split by quotes and `+` (`'writ'+'eFile'`) counts as that name; a concatenation alone does not.
    static func mayWrite(_ text: String, language: String = "") -> Bool {
        if language == "sh" { return true }
        let lower = text.lowercased()
        if writers.contains(where: { lower.contains($0) }) { return true }
        guard lower.contains("+'") || lower.contains("+\"") || lower.contains("+`") else { return false }
        let squeezed = String(lower.unicodeScalars.filter { !"'\"`+ \t\n".unicodeScalars.contains($0) }.map(Character.init))
        return writers.contains(where: { $0.first?.isLetter == true && squeezed.contains($0) })
    }

    static func mayConstructPath(_ text: String, language: String) -> Bool {
        let lower = text.lowercased()
        if language == "awk" || language == "sed" || language == "vim" { return text.contains("\u{2}") || lower.contains("environ") || lower.contains("system") && lower.contains("$") }
        return builders.contains { lower.contains($0) }
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

    /// Reads a hook input with `JSONReader` (the hot path), field by field as the synthesized `Decodable` does;
    /// nil when it is not such an object.
    static func decode(_ bytes: [UInt8]) -> PreToolUseInput? {
        guard let node = JSONReader.node(bytes), let f = JSONFields(node),
              case .some(let toolName) = f.optionalString("tool_name"), case .some(let cwd) = f.optionalString("cwd") else { return nil }
        var input: [String: JSONValue]?
        switch f.first("tool_input") {
        case nil, .null?: input = nil
        case .object(let members)?:
            var d: [String: JSONValue] = [:]
            d.reserveCapacity(members.count)
            for (k, v) in members where d[k] == nil { d[k] = JSONValue(v) }
            input = d
        default: return nil
        }
        return PreToolUseInput(toolName: toolName, toolInput: input, cwd: cwd)
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

    /// The same reading of a parsed value.
    init(_ node: JSONNode) {
        switch node {
        case .string(let s): self = .string(s)
        case .array(let items):
            var out: [String] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard case .string(let s) = item else { self = .other; return }
                out.append(s)
            }
            self = .strings(out)
        default: self = .other
        }
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var list: [String]? { if case .strings(let a) = self { return a }; return nil }
}
