/// `.talks/config.yaml`, parsed with a strict YAML-subset parser and validated: unknown keys, wrong types and values
/// out of range are errors that name the key and the line. The file arrives with a repository, so it is hostile
/// input: size-capped, no anchors or aliases, bounded nesting, and `conversation_dir` checked (TalkLocation).
package struct TalkConfig: Codable, Sendable, Equatable {
    package enum LockStrategy: String, Codable, Sendable, CaseIterable {
        /// flock(2): the default; released by the kernel when the holder dies.
        case flock
        /// A lock file created exclusively, recording owner, pid, host and time; for file systems where flock
        /// does not hold across machines. Stale locks (dead pid on this host, or older than `staleLockSeconds`)
        /// are broken.
        case lockfile
    }

    /// Where talk files live, relative to the `.talks` folder's parent (or absolute). Default `.talks/conversations`.
    package var conversationDir: String?
    package var lockStrategy = LockStrategy.flock
    package var staleLockSeconds = 30
    package var maxTurns = 20
    package var watcherDebounceMs = 500
    package var watcherPollingFallback = true
    package var watcherInjectMethod = "auto"
    package var watcherPrompt: String?
    package var blockDirectEdits = true
    package var requireNonceVerification = true
    package var auditLog = true

    package init() {}

    package static let template = """
    # session-bridge talks configuration
    schema_version: 1
    # conversation_dir: .talks/conversations   # or a shared folder, e.g. /mnt/shared/talks/conversations
    lock_strategy: flock                       # flock | lockfile (for file systems where flock does not hold)
    stale_lock_seconds: 30
    max_turns: 20
    watcher:
      debounce_ms: 500
      polling_fallback: true
      inject_method: auto                      # auto | tmux | none
    security:
      block_direct_edits: true
      require_nonce_verification: true
      audit_log: true

    """

    /// config.yaml over this size is refused unread: settings fit in a few hundred bytes.
    package static let maxBytes = 64 << 10
    /// watcher.prompt is typed into a terminal: one line of printable text, at most this long.
    package static let maxPromptBytes = 1024

    /// Parses config.yaml's text, or throws `.invalidInput` naming the file, the line and the problem.
    package static func parse(_ text: String, path: String) throws(BridgeError) -> TalkConfig {
        switch parse(bytes: Array(text.utf8)) {
        case .success(let c): return c
        case .failure(let e): throw .invalidInput(.config(path: path, e))
        }
    }

    /// Parses and validates config.yaml's bytes: a strict YAML subset (StrictYAML), then the settings. Never traps,
    /// whatever the input; work is linear in its size, which is capped at `maxBytes`.
    package static func parse(bytes: [UInt8]) -> Result<TalkConfig, ConfigError> {
        if bytes.count > maxBytes { return .failure(ConfigError(line: nil, problem: .tooLarge(size: bytes.count))) }
        let root: StrictYAML.Node?
        switch StrictYAML.parse(bytes) {
        case .success(let n): root = n
        case .failure(let f): return .failure(ConfigError(line: f.line, problem: .syntax(f.reason)))
        }
        do {
            return .success(try settings(root))
        } catch {
            return .failure(error)
        }
    }

    static func settings(_ root: StrictYAML.Node?) throws(ConfigError) -> TalkConfig {
        var c = TalkConfig()
        guard let root, !root.isNull else { return c }
        guard case .mapping(let entries, _) = root else { throw ConfigError(line: root.line, problem: .notAMapping) }
        for e in entries {
            let key = e.key
            let v = e.value
            switch key {
            case "schema_version":
                // 1, or "1" / 1.0 as other tools write it.
                guard case .scalar(let s, _, _) = v, s.split(separator: ".", omittingEmptySubsequences: false).first == "1",
                      s.split(separator: ".", omittingEmptySubsequences: false).count <= 2 else {
                    throw ConfigError(line: v.line, problem: .invalid(key: key, expected: .schemaOne))
                }
            case "conversation_dir":
                let dir = try text(v, key, expected: .folder)
                guard !dir.hasPrefix("~") else { throw ConfigError(line: v.line, problem: .invalid(key: key, expected: .folder)) }
                c.conversationDir = dir
            case "lock_strategy":
                let s = try text(v, key, expected: .oneOf(LockStrategy.allCases.map(\.rawValue)))
                guard let l = LockStrategy(rawValue: s) else {
                    throw ConfigError(line: v.line, problem: .invalid(key: key, expected: .oneOf(LockStrategy.allCases.map(\.rawValue))))
                }
                c.lockStrategy = l
            case "stale_lock_seconds": c.staleLockSeconds = try number(v, key, 1...86_400)
            case "max_turns": c.maxTurns = try number(v, key, 1...1_000_000)
            case "watcher":
                for w in try mapping(v, key) {
                    let k = "watcher." + w.key
                    switch w.key {
                    case "debounce_ms": c.watcherDebounceMs = try number(w.value, k, 0...60_000)
                    case "polling_fallback": c.watcherPollingFallback = try flag(w.value, k)
                    case "inject_method":
                        let methods = ["auto", "tmux", "none"]
                        let s = try text(w.value, k, expected: .oneOf(methods))
                        guard methods.contains(s) else { throw ConfigError(line: w.value.line, problem: .invalid(key: k, expected: .oneOf(methods))) }
                        c.watcherInjectMethod = s
                    case "prompt":
                        let s = try text(w.value, k, expected: .promptText)
                        guard s.utf8.count <= maxPromptBytes else {
                            throw ConfigError(line: w.value.line, problem: .invalid(key: k, expected: .promptText))
                        }
                        c.watcherPrompt = s
                    default: throw ConfigError(line: w.line, problem: .unknownSetting(k))
                    }
                }
            case "security":
                for s in try mapping(v, key) {
                    let k = "security." + s.key
                    switch s.key {
                    case "block_direct_edits": c.blockDirectEdits = try flag(s.value, k)
                    case "require_nonce_verification": c.requireNonceVerification = try flag(s.value, k)
                    case "audit_log":
                        // true/false, or a path (the historical form): a path means "on".
                        if case .scalar(let b, true, _) = s.value, let on = boolean(b) { c.auditLog = on } else {
                            _ = try text(s.value, k, expected: .flagOrPath)
                            c.auditLog = true
                        }
                    default: throw ConfigError(line: s.line, problem: .unknownSetting(k))
                    }
                }
            default:
                throw ConfigError(line: e.line, problem: .unknownSetting(key))
            }
        }
        return c
    }

    /// YAML 1.2 core-schema booleans.
    static func boolean(_ s: String) -> Bool? {
        switch s {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    static func number(_ v: StrictYAML.Node, _ key: String, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .scalar(let s, true, _) = v, let n = Int(s.hasPrefix("+") ? String(s.dropFirst()) : s), range.contains(n) else {
            throw ConfigError(line: v.line, problem: .invalid(key: key, expected: .wholeNumber(range)))
        }
        return n
    }

    static func flag(_ v: StrictYAML.Node, _ key: String) throws(ConfigError) -> Bool {
        guard case .scalar(let s, true, _) = v, let b = boolean(s) else {
            throw ConfigError(line: v.line, problem: .invalid(key: key, expected: .boolean))
        }
        return b
    }

    /// Non-empty text without control characters (a NUL would cut a path short; a newline would be typed as Enter).
    static func text(_ v: StrictYAML.Node, _ key: String, expected: ConfigError.Expected = .text) throws(ConfigError) -> String {
        guard case .scalar(let s, let plain, _) = v, !s.isEmpty, !(plain && v.isNull),
              !s.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else {
            throw ConfigError(line: v.line, problem: .invalid(key: key, expected: expected))
        }
        return s
    }

    static func mapping(_ v: StrictYAML.Node, _ key: String) throws(ConfigError) -> [StrictYAML.Entry] {
        if v.isNull { return [] }
        guard case .mapping(let entries, _) = v else { throw ConfigError(line: v.line, problem: .invalid(key: key, expected: .mapping)) }
        return entries
    }
}

/// Why config.yaml was refused: a structured problem and the 1-based line it is on (when it has one).
package struct ConfigError: Error, Equatable, Sendable {
    package enum Expected: Equatable, Sendable {
        case schemaOne
        case wholeNumber(ClosedRange<Int>)
        case boolean
        case text
        case promptText
        case flagOrPath
        case folder
        case oneOf([String])
        case mapping
    }

    /// Why a conversation_dir is refused.
    package enum UnsafeLocation: Equatable, Sendable {
        case root
        case topLevel
        case homeOrAncestor
        case projectOrAncestor
        case store
        case storeAncestor

        package var reason: String {
            switch self {
            case .root: return "it is the root folder"
            case .topLevel: return "it is a top-level system folder"
            case .homeOrAncestor: return "it is the home folder or contains it"
            case .projectOrAncestor: return "it is the project folder or contains it"
            case .store: return "it is inside the session-bridge message store"
            case .storeAncestor: return "it contains the session-bridge message store"
            }
        }
    }

    package enum Problem: Equatable, Sendable {
        case tooLarge(size: Int)
        case syntax(StrictYAML.Failure.Reason)
        case notAMapping
        case unknownSetting(String)
        case invalid(key: String, expected: Expected)
        /// conversation_dir resolves to a folder the guard must not claim: `resolved` is where it points.
        case unsafeConversationDir(resolved: String, why: UnsafeLocation)
    }

    package var line: Int?
    package var problem: Problem

    package init(line: Int?, problem: Problem) {
        self.line = line
        self.problem = problem
    }

    /// One line for the user, without the file name.
    package var message: String {
        let at = line.map { "line \($0): " } ?? ""
        switch problem {
        case .tooLarge(let size):
            return "\(size) bytes, over the \(TalkConfig.maxBytes)-byte limit for config.yaml"
        case .syntax(let reason):
            return StrictYAML.Failure(line: line ?? 0, reason: reason).message
        case .notAMapping:
            return at + "must be a mapping of settings (key: value lines)"
        case .unknownSetting(let key):
            return at + "unknown setting \(Identifiers.printable(key))"
        case .invalid(let key, let expected):
            let what: String
            switch expected {
            case .schemaOne: what = "must be 1"
            case .wholeNumber(let r): what = "must be a whole number >= \(r.lowerBound) and <= \(r.upperBound)"
            case .boolean: what = "must be true or false"
            case .text: what = "must be a non-empty string without control characters"
            case .promptText: what = "must be one line of text, at most \(TalkConfig.maxPromptBytes) bytes, without control characters"
            case .flagOrPath: what = "must be true, false or a path"
            case .folder: what = "must be an absolute path or one relative to the project (without ~ or control characters)"
            case .oneOf(let options): what = "must be " + options.dropLast().joined(separator: ", ") + (options.count > 1 ? " or " : "") + (options.last ?? "")
            case .mapping: what = "must be a mapping"
            }
            return at + "\(key) \(what)"
        case .unsafeConversationDir(let resolved, let why):
            return at + "conversation_dir resolves to \(Identifiers.printable(resolved)), which is refused: \(why.reason) "
                + "(use a folder inside the project, such as .talks/conversations, or a dedicated shared folder)"
        }
    }
}
