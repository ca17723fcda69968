#if canImport(Glibc)
import Glibc
#endif

/// Where the store lives and whether it is safe to use: `$SESSION_BRIDGE_HOME`, default `~/.claude/session-bridge`.
/// Folders are created 0700 and files 0600. A root that is a symlink, owned by another user, or writable by group or
/// others is refused, because anyone who can write there can inject messages into an agent's context.
package enum StoreLocation {
    /// The file store's folder when `SESSION_BRIDGE_STORE` names one (a path or `file:///path`), else
    /// `SESSION_BRIDGE_HOME`, else the default. With another engine this is the local folder of host-local state.
    package static func rootPath(environment: Environment) -> String {
        if let setting = environment["SESSION_BRIDGE_STORE"], let path = filePath(setting) { return normalized(path) }
        if let explicit = environment["SESSION_BRIDGE_HOME"] { return normalized(explicit) }
        let home = environment["HOME"] ?? "/tmp"
        return home + "/.claude/session-bridge"
    }

    static func normalized(_ path: String) -> String {
        var p = FileSystem.absolute(path)
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }

    /// The folder a store setting names: a plain path, `file:///path` or `file://localhost/path` (percent-encoded
    /// bytes decoded); nil for an empty setting, another scheme, or a file URL naming another host.
    package static func filePath(_ setting: String) -> String? {
        if setting.isEmpty { return nil }
        if setting.hasPrefix("/") || setting.hasPrefix(".") || !setting.contains(":") { return setting }
        guard setting.lowercased().hasPrefix("file:") else { return nil }
        var rest = Substring(setting.dropFirst(5))
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            if rest.lowercased().hasPrefix("localhost/") { rest = rest.dropFirst(9) }
        }
        guard rest.hasPrefix("/"), let decoded = percentDecoded(rest), !decoded.utf8.contains(0) else { return nil }
        return decoded
    }

    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var it = Array(text.utf8)[...]
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 48...57: return b - 48
            case 65...70: return b - 55
            case 97...102: return b - 87
            default: return nil
            }
        }
        while let b = it.popFirst() {
            if b == 37 {
                guard let h = it.popFirst().flatMap(hex), let l = it.popFirst().flatMap(hex) else { return nil }
                bytes.append(h << 4 | l)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Creates the root if missing and checks that it is safe.
    package static func prepare(_ root: String) throws(BridgeError) {
        var st = stat()
        if lstat(root, &st) != 0 {
            guard errno == ENOENT else { throw FileSystem.failure(.inspectStoreRoot, root) }
            try FileSystem.makeDirectories(FileSystem.parentDirectory(of: root))
            if mkdir(root, 0o700) != 0 && errno != EEXIST { throw FileSystem.failure(.createStoreRoot, root) }
            guard lstat(root, &st) == 0 else { throw FileSystem.failure(.inspectStoreRoot, root) }
        }
        try check(root, st)
    }

    static func check(_ root: String, _ st: stat) throws(BridgeError) {
        let type = st.st_mode & S_IFMT
        if type == S_IFLNK {
            throw .insecureStore(.symlink(root: root))
        }
        if type != S_IFDIR { throw .insecureStore(.notAFolder(root: root)) }
        if st.st_uid != getuid() {
            throw .insecureStore(.ownedByAnotherUser(root: root, owner: UInt32(st.st_uid), user: UInt32(getuid())))
        }
        if st.st_mode & 0o022 != 0 {
            throw .insecureStore(.writableByOthers(root: root, mode: UInt32(st.st_mode & 0o777)))
        }
    }
}
