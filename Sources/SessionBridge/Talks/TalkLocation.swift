#if canImport(Glibc)
import Glibc
#endif

/// Where the talks are: a `.talks/` folder (conversations/, locks/, registry/, config.yaml, audit.log). By default the
/// nearest `.talks/` from the current folder upwards, else `./.talks`; `--dir` or `$SESSION_BRIDGE_TALKS` name one
/// (a shared or network folder lets sessions of other projects and machines join); config.yaml's
/// `conversation_dir` may move the conversations themselves.
package struct TalkLocation: Sendable, Equatable {
    package let root: String
    package let config: TalkConfig

    package var conversations: String {
        guard let dir = config.conversationDir else { return root + "/conversations" }
        if dir.hasPrefix("/") { return dir }
        return FileSystem.parentDirectory(of: root) + "/" + dir
    }
    package var locks: String { root + "/locks" }
    package var registry: String { root + "/registry" }
    package var configFile: String { root + "/config.yaml" }
    package var auditLog: String { root + "/audit.log" }

    package func file(_ id: String) -> String { conversations + "/" + id + ".md" }
    package func backup(_ id: String) -> String { conversations + "/" + id + ".md.bak" }
    package func lock(_ id: String) -> String { locks + "/" + id + ".lock" }

    /// Keeps the current version of a talk as `<id>.md.bak`: a hard link to its inode, which the atomic rename
    /// of the next version leaves intact. Best effort: a failure here never blocks a write.
    package func keepBackup(_ id: String) {
        let temp = conversations + "/" + TalkStorage.tempPrefix + id + ".md.bak"
        FileSystem.remove(temp)
        if link(file(id), temp) == 0 { _ = try? FileSystem.move(temp, backup(id)) }
    }

    /// Finds (without creating) the talks folder for a command.
    package static func find(dir: String?, environment: Environment, cwd: String = FileSystem.currentDirectory()) throws(BridgeError) -> TalkLocation {
        try open(root: rootPath(dir: dir, environment: environment, cwd: cwd), environment: environment)
    }

    /// The talks folder's path: `dir`, else `$SESSION_BRIDGE_TALKS`, else the nearest `.talks/` upwards from `cwd`,
    /// else `cwd/.talks`.
    static func rootPath(dir: String?, environment: Environment, cwd: String) -> String {
        if let dir = dir ?? environment["SESSION_BRIDGE_TALKS"] { return normalizedRoot(FileSystem.absolute(dir)) }
        var probe = cwd
        while true {
            if FileSystem.isDirectory(probe + "/.talks") { return probe + "/.talks" }
            let parent = FileSystem.parentDirectory(of: probe)
            if parent == probe || probe.isEmpty { break }
            probe = parent
        }
        return cwd == "/" ? "/.talks" : cwd + "/.talks"
    }

    /// The talks folder at `root` with its config, checked: config.yaml must parse, and neither the folder nor its
    /// conversations may resolve to a place the guard must not claim (see `checkPlaces`).
    static func open(root: String, environment: Environment) throws(BridgeError) -> TalkLocation {
        let location = TalkLocation(root: root, config: try loadConfig(root))
        try location.checkPlaces(environment: environment)
        return location
    }

    static func normalizedRoot(_ p: String) -> String {
        var p = p
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    /// The parsed config.yaml, or the defaults when there is none. It is parsed on every use (a strict parser
    /// takes microseconds on it), so nothing a repository ships can stand in for a parse: no cache is trusted.
    static func loadConfig(_ root: String) throws(BridgeError) -> TalkConfig {
        let path = root + "/config.yaml"
        var st = stat()
        guard lstat(path, &st) == 0 else { return TalkConfig() }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .invalidInput(.configNotRegularFile(path: path))
        }
        if Int(st.st_size) > TalkConfig.maxBytes {
            throw .invalidInput(.config(path: path, ConfigError(line: nil, problem: .tooLarge(size: Int(st.st_size)))))
        }
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(path, limit: TalkConfig.maxBytes) } catch {
            throw .invalidInput(.configUnreadable(path: path, error))
        }
        switch TalkConfig.parse(bytes: bytes) {
        case .success(let c): return c
        case .failure(let e): throw .invalidInput(.config(path: path, e))
        }
    }

    /// Refuses a talks folder or conversations folder that resolves to `/`, a top-level folder, the home folder or
    /// one of its ancestors, the project (the folder holding `.talks`) or one of its ancestors, the message store or
    /// anything inside it or containing it: the guard denies every write in these folders, so a hostile
    /// config.yaml or a planted symlink would otherwise make it deny writes everywhere.
    func checkPlaces(environment: Environment) throws(BridgeError) {
        let places = TalkLocation.Places(environment: environment, root: root)
        let realRoot = TalkLocation.resolve(root)
        var st = stat()
        if lstat(root, &st) == 0, let why = places.unsafe(realRoot, configured: false) {
            throw .invalidInput(.unsafeTalksFolder(folder: root, resolved: realRoot, why))
        }
        let resolved = TalkLocation.resolve(conversations)
        if let why = places.unsafe(resolved, configured: config.conversationDir != nil) {
            if config.conversationDir != nil {
                let problem = ConfigError.Problem.unsafeConversationDir(resolved: resolved, why: why)
                throw .invalidInput(.config(path: configFile, ConfigError(line: configLine(), problem: problem)))
            }
            throw .invalidInput(.unsafeConversationsFolder(folder: conversations, resolved: resolved, why))
        }
    }

    /// The line of conversation_dir in config.yaml, for the error.
    func configLine() -> Int? {
        guard let bytes = try? FileSystem.read(configFile, limit: TalkConfig.maxBytes),
              case .success(let root?) = StrictYAML.parse(bytes), case .mapping(let entries, _) = root else { return nil }
        return entries.first { $0.key == "conversation_dir" }?.value.line
    }

    /// The folders a guard must never claim, resolved once.
    struct Places {
        var home: [String]
        var project: [String]
        var store: [String]

        init(environment: Environment, root: String) {
            func both(_ p: String) -> [String] {
                let lexical = TalkLocation.collapse(p)
                let real = TalkLocation.resolve(p)
                return lexical == real ? [real] : [lexical, real]
            }
            home = environment["HOME"].map { both(FileSystem.absolute($0)) } ?? []
            project = both(FileSystem.parentDirectory(of: FileSystem.absolute(root)))
            store = both(StoreLocation.rootPath(environment: environment))
        }

        /// Why `resolved` (an absolute, resolved path) may not hold talks; nil when it may. The store rules apply
        /// to a `conversation_dir` (`configured`), the one place a repository's file chooses; a talks folder the
        /// user names (`--dir`, `$SESSION_BRIDGE_TALKS`) may sit anywhere but the places that would make the
        /// guard claim everything.
        func unsafe(_ resolved: String, configured: Bool) -> ConfigError.UnsafeLocation? {
            if resolved == "/" { return .root }
            if resolved.split(separator: "/").count < 2 { return .topLevel }
            if home.contains(where: { TalkLocation.isInside($0, resolved) }) { return .homeOrAncestor }
            if project.contains(where: { TalkLocation.isInside($0, resolved) }) { return .projectOrAncestor }
            guard configured else { return nil }
            if store.contains(where: { TalkLocation.isInside(resolved, $0) }) { return .store }
            if store.contains(where: { TalkLocation.isInside($0, resolved) }) { return .storeAncestor }
            return nil
        }
    }

    /// What the PreToolUse guard protects for talks, in every state config.yaml can be in. It never throws and never
    /// takes long: an invalid config.yaml keeps the default folders guarded (and cannot turn the guard off), and a
    /// folder that resolves to an unsafe place (see `checkPlaces`) is left to the guard's `.talks` name rule.
    package struct Guarded: Sendable, Equatable {
        /// Resolved folders to protect.
        package var folders: [String]
        /// `security.block_direct_edits` of a valid config; true otherwise.
        package var blockDirectEdits: Bool
    }

    /// The talks folders the guard protects from `cwd` (the nearest `.talks/` upwards, or `$SESSION_BRIDGE_TALKS`).
    package static func guarded(environment: Environment, cwd: String) -> Guarded {
        let root = rootPath(dir: nil, environment: environment, cwd: cwd)
        let places = Places(environment: environment, root: root)
        var folders: [String] = []
        func add(_ path: String, configured: Bool) {
            let resolved = resolve(path)
            if places.unsafe(resolved, configured: configured) == nil && !folders.contains(resolved) { folders.append(resolved) }
        }
        add(root, configured: false)
        add(root + "/conversations", configured: false)
        guard let config = try? loadConfig(root) else { return Guarded(folders: folders, blockDirectEdits: true) }
        if config.conversationDir != nil {
            let conversations = resolve(TalkLocation(root: root, config: config).conversations)
            // A config the talk commands refuse is refused here too: it cannot turn the guard off.
            guard places.unsafe(conversations, configured: true) == nil else { return Guarded(folders: folders, blockDirectEdits: true) }
            add(conversations, configured: true)
        }
        return Guarded(folders: folders, blockDirectEdits: config.blockDirectEdits)
    }

    // MARK: Paths

    /// `/a/./b/../c` → `/a/c` (lexically).
    static func collapse(_ path: String) -> String { GuardPaths.collapse(path) }

    /// The real location of a path that may not exist yet: realpath of its longest existing prefix, plus the rest.
    static func resolve(_ path: String) -> String {
        let lexical = collapse(FileSystem.absolute(path))
        var prefix = lexical
        var rest: [String] = []
        while true {
            if let real = FileSystem.realPath(prefix) {
                return collapse(([real] + rest.reversed()).joined(separator: "/"))
            }
            if prefix == "/" { return lexical }
            rest.append(FileSystem.lastComponent(of: prefix))
            prefix = FileSystem.parentDirectory(of: prefix)
        }
    }

    static func isInside(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    /// Creates the folders and a default config.yaml, and adds `.talks/` to the project's .gitignore when the
    /// folder is a project's `.talks`. Returns what it did.
    @discardableResult
    package func initialize() throws(BridgeError) -> [String] {
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
