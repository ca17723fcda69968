#if canImport(Foundation)
import Foundation
#endif
import Yams

/// `.talks/config.yaml`, parsed with a real YAML library and validated: unknown keys and wrong types are errors
/// that name the key.
public struct TalkConfig: Codable, Sendable, Equatable {
    public enum LockStrategy: String, Codable, Sendable, CaseIterable {
        /// flock(2): the default; released by the kernel when the holder dies.
        case flock
        /// A lock file created exclusively, recording owner, pid, host and time; for file systems where flock
        /// does not hold across machines. Stale locks (dead pid on this host, or older than `staleLockSeconds`)
        /// are broken.
        case lockfile
    }

    public var schemaVersion = 1
    /// Where talk files live, relative to the `.talks` folder's parent (or absolute). Default `.talks/conversations`.
    public var conversationDir: String?
    public var lockStrategy = LockStrategy.flock
    public var staleLockSeconds = 30
    public var maxTurns = 20
    public var watcherDebounceMs = 500
    public var watcherPollingFallback = true
    public var watcherInjectMethod = "auto"
    public var watcherPrompt: String?
    public var blockDirectEdits = true
    public var requireNonceVerification = true
    public var auditLog = true

    public init() {}

    public static let template = """
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

    public static func parse(_ text: String, path: String) throws(BridgeError) -> TalkConfig {
        func fail(_ m: String) -> BridgeError { .invalidInput("\(path): \(m)") }
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch {
            throw fail("not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        var c = TalkConfig()
        if loaded == nil { return c }
        guard let map = loaded as? [String: Any] else { throw fail("must be a mapping of settings") }
        func int(_ v: Any, _ key: String, min: Int) throws(BridgeError) -> Int {
            guard let i = v as? Int, !(v is Bool), i >= min else { throw fail("\(key) must be a whole number >= \(min)") }
            return i
        }
        func bool(_ v: Any, _ key: String) throws(BridgeError) -> Bool {
            guard let b = v as? Bool else { throw fail("\(key) must be true or false") }
            return b
        }
        func string(_ v: Any, _ key: String) throws(BridgeError) -> String {
            guard let s = v as? String, !s.isEmpty else { throw fail("\(key) must be a non-empty string") }
            return s
        }
        for (key, value) in map {
            switch key {
            case "schema_version":
                let v = (value as? Int) ?? (value as? String).flatMap { Int($0.split(separator: ".").first ?? "") }
                guard v == 1 else { throw fail("schema_version must be 1 (got \(value))") }
            case "conversation_dir": c.conversationDir = try string(value, key)
            case "lock_strategy":
                guard let s = value as? String, let l = LockStrategy(rawValue: s) else {
                    throw fail("lock_strategy must be flock or lockfile (got '\(value)')")
                }
                c.lockStrategy = l
            case "stale_lock_seconds": c.staleLockSeconds = try int(value, key, min: 1)
            case "max_turns": c.maxTurns = try int(value, key, min: 1)
            case "watcher":
                guard let w = value as? [String: Any] else { throw fail("watcher must be a mapping") }
                for (k, v) in w {
                    switch k {
                    case "debounce_ms": c.watcherDebounceMs = try int(v, "watcher.debounce_ms", min: 0)
                    case "polling_fallback": c.watcherPollingFallback = try bool(v, "watcher.polling_fallback")
                    case "inject_method":
                        let s = try string(v, "watcher.inject_method")
                        guard ["auto", "tmux", "none"].contains(s) else { throw fail("watcher.inject_method must be auto, tmux or none (got '\(s)')") }
                        c.watcherInjectMethod = s
                    case "prompt": c.watcherPrompt = try string(v, "watcher.prompt")
                    default: throw fail("unknown setting watcher.\(k)")
                    }
                }
            case "security":
                guard let s = value as? [String: Any] else { throw fail("security must be a mapping") }
                for (k, v) in s {
                    switch k {
                    case "block_direct_edits": c.blockDirectEdits = try bool(v, "security.block_direct_edits")
                    case "require_nonce_verification": c.requireNonceVerification = try bool(v, "security.require_nonce_verification")
                    case "audit_log":
                        // true/false, or a path (the historical form): a path means "on".
                        if let b = v as? Bool { c.auditLog = b } else { _ = try string(v, "security.audit_log"); c.auditLog = true }
                    default: throw fail("unknown setting security.\(k)")
                    }
                }
            default:
                throw fail("unknown setting \(key)")
            }
        }
        return c
    }
}
