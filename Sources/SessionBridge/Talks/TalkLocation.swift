#if canImport(Glibc)
import Glibc
#endif

/// Where the talks are: a `.talks/` folder (conversations/, locks/, registry/, config.yaml, audit.log). By default the
/// nearest `.talks/` from the current folder upwards, else `./.talks`; `--dir` or `$SESSION_BRIDGE_TALKS` name one
/// (a shared or network folder lets sessions of other projects and machines join); config.yaml's
/// `conversation_dir` may move the conversations themselves.
public struct TalkLocation: Sendable, Equatable {
    public let root: String
    public let config: TalkConfig

    public var conversations: String {
        guard let dir = config.conversationDir else { return root + "/conversations" }
        if dir.hasPrefix("/") { return dir }
        return FileSystem.parentDirectory(of: root) + "/" + dir
    }
    public var locks: String { root + "/locks" }
    public var registry: String { root + "/registry" }
    public var configFile: String { root + "/config.yaml" }
    public var auditLog: String { root + "/audit.log" }

    public func file(_ id: String) -> String { conversations + "/" + id + ".md" }
    public func backup(_ id: String) -> String { conversations + "/" + id + ".md.bak" }
    public func lock(_ id: String) -> String { locks + "/" + id + ".lock" }

    /// Keeps the current version of a talk as `<id>.md.bak`: a hard link to its inode, which the atomic rename
    /// of the next version leaves intact. Best effort: a failure here never blocks a write.
    public func keepBackup(_ id: String) {
        let temp = conversations + "/" + TalkStorage.tempPrefix + id + ".md.bak"
        FileSystem.remove(temp)
        if link(file(id), temp) == 0 { _ = try? FileSystem.move(temp, backup(id)) }
    }

    /// Finds (without creating) the talks folder for a command.
    public static func find(dir: String?, environment: Environment, cwd: String = FileSystem.currentDirectory()) throws(BridgeError) -> TalkLocation {
        let root: String
        if let dir = dir ?? environment["SESSION_BRIDGE_TALKS"] {
            root = normalizedRoot(FileSystem.absolute(dir))
        } else {
            var probe = cwd
            var found: String?
            while true {
                if FileSystem.isDirectory(probe + "/.talks") { found = probe + "/.talks"; break }
                let parent = FileSystem.parentDirectory(of: probe)
                if parent == probe || probe.isEmpty { break }
                probe = parent
            }
            root = found ?? (cwd == "/" ? "/.talks" : cwd + "/.talks")
        }
        return TalkLocation(root: root, config: try loadConfig(root))
    }

    static func normalizedRoot(_ p: String) -> String {
        var p = p
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    /// The parsed config, cached in registry/ and keyed by the SHA-256 of config.yaml's text: the YAML library (and
    /// the regular expressions it resolves tags with) runs only when the file changed.
    static func loadConfig(_ root: String) throws(BridgeError) -> TalkConfig {
        let path = root + "/config.yaml"
        guard FileSystem.exists(path) else { return TalkConfig() }
        let text = try FileSystem.readString(path, limit: 1 << 20)
        let key = SHA256.hex(text)
        let cachePath = root + "/registry/config.cache"
        if let cached = (try? FileSystem.readString(cachePath, limit: 1 << 20)).flatMap({ TalkConfig(cacheText: $0, source: key) }) {
            return cached
        }
        let config = try TalkConfig.parse(text, path: path)
        if FileSystem.isDirectory(root + "/registry") {
            _ = try? AtomicFile.write(Array(config.cacheText(source: key).utf8), to: cachePath, durable: false)
        }
        return config
    }

    /// Creates the folders and a default config.yaml, and adds `.talks/` to the project's .gitignore when the
    /// folder is a project's `.talks`. Returns what it did.
    @discardableResult
    public func initialize() throws(BridgeError) -> [String] {
        var done: [String] = []
        for dir in [root, conversations, locks, registry] where !FileSystem.isDirectory(dir) {
            try FileSystem.makeDirectories(dir, mode: 0o700)
            done.append("created \(dir)")
        }
        if !FileSystem.exists(configFile) {
            try AtomicFile.write(TalkConfig.template, to: configFile, mode: 0o600)
            done.append("wrote \(configFile)")
        }
        if FileSystem.lastComponent(of: root) == ".talks" {
            let gitignore = FileSystem.parentDirectory(of: root) + "/.gitignore"
            // A .gitignore that exists but cannot be read as a file (a symlink, a FIFO) is left alone.
            let existing: String
            if FileSystem.exists(gitignore) {
                guard let text = try? FileSystem.readString(gitignore, limit: 1 << 20) else { return done }
                existing = text
            } else {
                existing = ""
            }
            let lines = existing.split(separator: "\n").map { $0.trimmingSpaces() }
            if !lines.contains(".talks/") && !lines.contains(".talks") && !lines.contains("/.talks/") {
                let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + ".talks/\n"
                try AtomicFile.write(text, to: gitignore, mode: 0o644)
                done.append("added .talks/ to \(gitignore)")
            }
        }
        return done
    }
}
