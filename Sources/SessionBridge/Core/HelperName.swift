#if canImport(Glibc)
import Glibc
#endif

/// How the helper is named in every command it shows to a model or a person (reply commands, hints, errors, prompts):
/// the one place that decides, so that each printed command runs verbatim where it is shown.
///
/// - `SESSION_BRIDGE_CLI` set: that shell text, verbatim (an explicit choice).
/// - In an agent session (Claude Code, Codex, or a hook of theirs): the full launcher path, always quoted. Hooks do not
///   get the plugin's `bin/` on PATH, and a same-named program earlier on a Bash call's PATH would win, so the bare name
///   is never proven to reach this installation there.
/// - In a terminal: `session-bridge` when that name on PATH is this installation; otherwise the path as the person typed
///   it (quoted only when the shell needs it).
package struct HelperName: Sendable, Equatable {
    /// Shell text that runs the helper, quoted as needed.
    package let text: String

    package init(text: String) { self.text = text }

    /// The bare name, for text where a reader fills in the helper (usage lines).
    package static let bareName = "session-bridge"

    /// A runnable command line: the helper followed by `arguments` (already shell text).
    package func command(_ arguments: String) -> String { text + " " + arguments }

    /// The helper as this process should name it, from its own environment and argv[0]. Computed once, on first use:
    /// nothing on a hook's quiet path reads it.
    package static let current: HelperName = HelperName(
        environment: .current(), argv0: CommandLine.arguments.first ?? bareName, executable: Processes.executablePath())

    /// The helper as an agent session runs it, for text that a process outside the session hands to it (the
    /// watcher's typed prompts): the full launcher path, quoted.
    package static let forAgents: HelperName = {
        let environment = Environment.current()
        if let explicit = environment["SESSION_BRIDGE_CLI"] { return HelperName(text: explicit) }
        return HelperName(text: quoteAlways(launcherPath(environment: environment, executable: { Processes.executablePath() }) ?? bareName))
    }()

    /// The helper as a session on another machine runs its own installation, for text handed to peers wherever they
    /// are (the join line of a talk kept on the store's server): the bare name, never a path of this machine, which
    /// would not exist there and which the peer's guard does not trust. Claude Code's Bash calls and a terminal with
    /// the helper on PATH run the bare name as their own installation; where it is not on PATH (Codex), the reader
    /// puts its own helper in its place, as the skills say. `SESSION_BRIDGE_CLI` names this machine's helper, so it
    /// does not apply.
    package static let forPeersElsewhere = HelperName(text: bareName)

    /// - Parameters:
    ///   - argv0: how this process was started, when no launcher said (`SESSION_BRIDGE_INVOKED_AS`).
    ///   - executable: this binary's resolved path (`/proc/self/exe`).
    package init(environment: Environment, argv0: String, executable: @autoclosure () -> String?) {
        if let explicit = environment["SESSION_BRIDGE_CLI"] {
            text = explicit
        } else if Self.isAgentSession(environment) {
            text = Self.quoteAlways(Self.launcherPath(environment: environment, executable: executable) ?? Self.bareName)
        } else {
            text = Self.terminalName(environment: environment, argv0: argv0, executable: executable)
        }
    }

    /// True inside an agent session or one of its hooks: the runtime's markers are in the environment.
    package static func isAgentSession(_ environment: Environment) -> Bool {
        for key in ["CLAUDE_CODE_SESSION_ID", "CLAUDECODE", "CLAUDE_PLUGIN_ROOT", "PLUGIN_ROOT", "CODEX_THREAD_ID", "CODEX_SESSION_ID"]
        where environment[key] != nil {
            return true
        }
        return false
    }

    /// The launcher (`scripts/session-bridge`) of this installation, absolute: the one the launcher itself recorded,
    /// else the plugin root's, else the one next to this binary's build folder, else the binary itself.
    static func launcherPath(environment: Environment, executable: () -> String?) -> String? {
        if let recorded = environment["SESSION_BRIDGE_LAUNCHER"], recorded.hasPrefix("/"), isExecutable(recorded) { return recorded }
        for key in ["CLAUDE_PLUGIN_ROOT", "PLUGIN_ROOT"] {
            if let root = environment[key], root.hasPrefix("/") {
                let candidate = trimmedSlashes(root) + "/scripts/session-bridge"
                if isExecutable(candidate) { return candidate }
            }
        }
        guard let executable = executable(), executable.hasPrefix("/") else { return nil }
        if let root = packageRoot(ofBinary: executable) {
            let candidate = root + "/scripts/session-bridge"
            if isExecutable(candidate) { return candidate }
        }
        return FileSystem.lastComponent(of: executable) == bareName ? executable : nil
    }

    /// `<root>` of a binary at `<root>/.build/…/session-bridge`, the layout `swift build` makes.
    static func packageRoot(ofBinary path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard let build = parts.lastIndex(of: ".build"), build > 1 else { return nil }
        return parts[..<build].joined(separator: "/")
    }

    /// In a terminal: the bare name when PATH's `session-bridge` is the program that ran, else the path as typed. A
    /// process that is not the helper (a program using the library) names this installation's launcher.
    static func terminalName(environment: Environment, argv0: String, executable: () -> String?) -> String {
        let typed = environment["SESSION_BRIDGE_INVOKED_AS"] ?? argv0
        if !typed.contains("/") { return quoteIfNeeded(typed.isEmpty ? bareName : typed) }
        if FileSystem.lastComponent(of: typed) != bareName {
            return quoteIfNeeded(launcherPath(environment: environment, executable: executable) ?? bareName)
        }
        if let onPath = firstOnPath(bareName, environment: environment), sameFile(onPath, typed) {
            return bareName
        }
        return quoteIfNeeded(typed)
    }

    /// The first executable `name` on `$PATH`, as a shell's lookup finds it.
    static func firstOnPath(_ name: String, environment: Environment) -> String? {
        guard let path = environment["PATH"] else { return nil }
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let folder = dir.isEmpty ? "." : String(dir)
            let candidate = folder + "/" + name
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    static func isExecutable(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    static func trimmedSlashes(_ s: String) -> String {
        var s = Substring(s)
        while s.count > 1 && s.last == "/" { s.removeLast() }
        return String(s)
    }

    // MARK: Quoting

    /// Characters a POSIX shell takes literally in a word.
    static func isPlain(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == 0x2F || c == 0x2E || c == 0x5F || c == 0x2D || c == 0x2B || c == 0x2C || c == 0x3A || c == 0x40
        } && !s.hasPrefix("~")
    }

    /// Double quotes when nothing inside needs escaping there (so the text matches `"${CLAUDE_PLUGIN_ROOT}/…"`-style
    /// permission rules), else single quotes.
    package static func quoteAlways(_ s: String) -> String {
        let special: Set<UInt8> = [0x22, 0x24, 0x60, 0x5C, 0x21, 0x0A]   // " $ ` \ ! newline
        if !s.utf8.contains(where: { special.contains($0) }) { return "\"" + s + "\"" }
        return singleQuoted(s)
    }

    package static func quoteIfNeeded(_ s: String) -> String { isPlain(s) ? s : singleQuoted(s) }

    static func singleQuoted(_ s: String) -> String {
        "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
