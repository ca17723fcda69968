#if canImport(Glibc)
import Glibc
#endif

/// Where the store lives and whether it is safe to use: `$SESSION_BRIDGE_HOME`, default `~/.claude/session-bridge`.
/// Folders are created 0700 and files 0600. A root that is a symlink, owned by another user, or writable by group or
/// others is refused, because anyone who can write there can inject messages into an agent's context.
public enum StoreLocation {
    public static func rootPath(environment: Environment) -> String {
        if let explicit = environment["SESSION_BRIDGE_HOME"] {
            var p = FileSystem.absolute(explicit)
            while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
            return p
        }
        let home = environment["HOME"] ?? "/tmp"
        return home + "/.claude/session-bridge"
    }

    /// Creates the root if missing and checks that it is safe.
    public static func prepare(_ root: String) throws(BridgeError) {
        var st = stat()
        if lstat(root, &st) != 0 {
            guard errno == ENOENT else { throw FileSystem.failure("cannot inspect store root", root) }
            try FileSystem.makeDirectories(FileSystem.parentDirectory(of: root))
            if mkdir(root, 0o700) != 0 && errno != EEXIST { throw FileSystem.failure("cannot create store root", root) }
            guard lstat(root, &st) == 0 else { throw FileSystem.failure("cannot inspect store root", root) }
        }
        try check(root, st)
    }

    static func check(_ root: String, _ st: stat) throws(BridgeError) {
        let type = st.st_mode & S_IFMT
        if type == S_IFLNK {
            throw .insecureStore("\(root) is a symlink; point SESSION_BRIDGE_HOME at the real folder")
        }
        if type != S_IFDIR { throw .insecureStore("\(root) is not a folder") }
        if st.st_uid != getuid() {
            throw .insecureStore("\(root) is owned by uid \(st.st_uid), not by you (uid \(getuid()))")
        }
        if st.st_mode & 0o022 != 0 {
            let mode = String(st.st_mode & 0o777, radix: 8)
            throw .insecureStore("\(root) is writable by group or others (mode \(mode)); run `chmod 700 \(root)`")
        }
    }
}
