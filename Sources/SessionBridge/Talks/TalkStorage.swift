#if canImport(Glibc)
import Glibc
#endif

/// File access for talks folders, which other people, tools and agents can write (they may be shared): files are
/// opened without following links and without blocking, regular files only, size checked; temp files carry a
/// name no one else uses, so `doctor --fix` removes only what this program made.
package enum TalkStorage {
    /// Every temp file this program writes in a conversations folder starts with this.
    package static let tempPrefix = ".session-bridge-tmp."

    /// The default largest talk a `say` may produce.
    package static let defaultMaxTalkBytes = 64 << 20

    /// Whether a file name is one of this program's temp files (`.session-bridge-tmp.<id>.md.XXXXXX`, or the
    /// backup link `.session-bridge-tmp.<id>.md.bak`), or the backup link that earlier versions named
    /// `<id>.md.bak.new`.
    package static func isOwnTemp(_ name: String) -> Bool {
        if name.hasPrefix(tempPrefix) {
            let rest = name.dropFirst(tempPrefix.count)
            guard let dot = rest.firstIndex(of: ".") else { return false }
            return Identifiers.isValidID(String(rest[..<dot])) && rest[dot...].hasPrefix(".md.")
        }
        if name.hasSuffix(".md.bak.new") { return Identifiers.isValidID(String(name.dropLast(11))) }
        return false
    }

    /// Publishes a whole file atomically: a temp file named `.session-bridge-tmp.<name>.XXXXXX` in the same folder,
    /// fsynced, renamed into place, the folder fsynced. With `noClobber`, returns false when the target exists.
    @discardableResult
    package static func publish(_ bytes: [UInt8], to path: String, noClobber: Bool = false) throws(BridgeError) -> Bool {
        let folder = FileSystem.parentDirectory(of: path)
        let temp = try AtomicFile.writeTemp(bytes, in: folder, name: String(tempPrefix.dropFirst()) + FileSystem.lastComponent(of: path))
        var published = false
        defer { if !published { unlink(temp) } }
        if noClobber {
            if !(try FileSystem.moveNoReplace(temp, path)) { return false }
        } else if rename(temp, path) != 0 {
            throw FileSystem.failure(.publish, path)
        }
        published = true
        FileSystem.syncDirectory(folder)
        return true
    }

    /// The first `limit` bytes of a regular file (all of it if shorter): never follows a symlink, never waits on a
    /// FIFO.
    package static func readHead(_ path: String, limit: Int) throws(BridgeError) -> [UInt8] {
        let fd = try FileSystem.openRegular(path, flags: O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            let n = buffer.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress! + total, limit - total) }
            if n < 0 { if errno == EINTR { continue }; throw FileSystem.failure(.read, path) }
            if n == 0 { break }
            total += n
        }
        return Array(buffer[0..<total])
    }

    /// What is at a path, without following a link: nil when nothing is.
    package static func kind(_ path: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return "file"
        case S_IFLNK: return "symlink"
        case S_IFIFO: return "FIFO"
        case S_IFSOCK: return "socket"
        case S_IFDIR: return "folder"
        case S_IFCHR, S_IFBLK: return "device"
        default: return "special file"
        }
    }

    /// Calls `line` for each line of a regular file (without its newline), reading in chunks, so a large audit
    /// log is never held whole. Lines longer than `maxLine` are skipped.
    package static func forEachLine(_ path: String, maxLine: Int, _ line: ([UInt8]) -> Void) throws(BridgeError) {
        let fd = try FileSystem.openRegular(path, flags: O_RDONLY)
        defer { close(fd) }
        var pending: [UInt8] = []
        var skipping = false
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress!, raw.count) }
            if n < 0 { if errno == EINTR { continue }; throw FileSystem.failure(.read, path) }
            if n == 0 { break }
            var start = 0
            while start < n {
                guard let nl = chunk[start..<n].firstIndex(of: 10) else {
                    if !skipping { pending.append(contentsOf: chunk[start..<n]) }
                    if pending.count > maxLine { pending.removeAll(); skipping = true }
                    break
                }
                if !skipping {
                    pending.append(contentsOf: chunk[start..<nl])
                    if pending.count <= maxLine { line(pending) }
                }
                pending.removeAll(keepingCapacity: true)
                skipping = false
                start = nl + 1
            }
        }
        if !skipping && !pending.isEmpty && pending.count <= maxLine { line(pending) }
    }
}

extension TalkStorage {
    /// The largest talk file a `say` may produce (`SESSION_BRIDGE_MAX_TALK_BYTES`, default 64 MiB). A `say` past
    /// it is refused before anything is written; the talk stays readable and can still be resolved.
    package static func maxTalkBytes(_ environment: Environment) -> Int {
        environment.integer("SESSION_BRIDGE_MAX_TALK_BYTES").map { max(1024, $0) } ?? defaultMaxTalkBytes
    }

    /// The largest talk file read: well past what `say` writes, so a talk that grew past the limit some other way
    /// stays readable.
    package static func readLimit(maxTalkBytes: Int) -> Int { max(4 * maxTalkBytes, 256 << 20) }
}

extension Talks {
    /// See `TalkStorage.maxTalkBytes`.
    package var maxTalkBytes: Int { TalkStorage.maxTalkBytes(environment) }

    /// See `TalkStorage.readLimit`.
    package var readLimit: Int { TalkStorage.readLimit(maxTalkBytes: maxTalkBytes) }
}
