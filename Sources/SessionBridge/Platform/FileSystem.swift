#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSys

/// Thin, typed wrappers over the POSIX file calls the store uses. Errors that mean "the disk or folder cannot take
/// this write" (ENOSPC, EDQUOT, EROFS, EACCES, EPERM) become `.storage`; everything else `.io`.
package enum FileSystem {
    package static func errorText(_ code: Int32) -> String {
        guard let s = strerror(code) else { return "errno \(code)" }
        return String(cString: s)
    }

    static func failure(_ operation: FileFailure.Operation, _ path: String, _ code: Int32 = errno) -> BridgeError {
        let failure = FileFailure(operation, path: path, errno: code)
        switch code {
        case ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EFBIG: return .storage(.file(failure))
        default: return .io(.file(failure))
        }
    }

    package static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// What a directory entry is, from lstat(2) (a symlink is reported as one, never followed).
    package enum Kind: String, Sendable {
        case regular, directory, symlink, fifo, socket, device
    }

    package static func kind(_ path: String) -> Kind? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFIFO: return .fifo
        case S_IFSOCK: return .socket
        default: return .device
        }
    }

    /// Size in bytes of a path itself (lstat), or nil.
    package static func size(_ path: String) -> Int64? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return Int64(st.st_size)
    }

    /// A folder that is not a symlink to one: the store never follows links it did not make.
    package static func isRealDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates a folder and its missing parents with the given mode.
    package static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(BridgeError) {
        if isDirectory(path) { return }
        let parent = parentDirectory(of: path)
        if parent != path && !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw failure(.createFolder, path) }
    }

    package static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    package static func lastComponent(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return String(p) }
        return String(p[p.index(after: slash)...])
    }

    /// Names in a folder, without "." and "..". Hidden names (temp files) are skipped unless asked for.
    /// A final symlink is not followed (a planted link lists as empty), and nothing blocks.
    package static func list(_ path: String, includeHidden: Bool = false) -> [String] {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return [] }
        guard let dir = fdopendir(fd) else { close(fd); return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.bindMemory(to: UInt8.self)
                let len = bytes.firstIndex(of: 0) ?? bytes.count
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<len]), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if !includeHidden && name.hasPrefix(".") { continue }
            names.append(name)
        }
        return names
    }

    /// Number of visible entries in a folder, without building names.
    package static func count(_ path: String, suffix: String = ".json") -> Int {
        list(path).filter { $0.hasSuffix(suffix) }.count
    }

    /// Reads a whole regular file (not following a final symlink). Refuses files over `limit` bytes.
    package static func read(_ path: String, limit: Int = 64 << 20) throws(BridgeError) -> [UInt8] {
        let fd = csys_open_read_nofollow(path)
        if fd < 0 { throw failure(.read, path) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw failure(.stat, path) }
        if (st.st_mode & S_IFMT) != S_IFREG { throw .io(.notRegularFile(path: path, symlink: false)) }
        if Int(st.st_size) > limit { throw .invalidInput(.fileTooLarge(path: path, size: Int(st.st_size), limit: limit)) }
        var buffer = [UInt8](repeating: 0, count: max(Int(st.st_size), 0) + 1)
        var total = 0
        while true {
            if total == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: 4096)) }
            let n = buffer.withUnsafeMutableBytes { raw in SystemCall.read(fd, raw.baseAddress! + total, raw.count - total) }
            if n < 0 { throw failure(.read, path) }
            if n == 0 { break }
            total += n
            if total > limit { throw .invalidInput(.fileTooLarge(path: path, size: nil, limit: limit)) }
        }
        return Array(buffer[0..<total])
    }

    /// The first `limit` bytes of a regular file (all of it if shorter).
    package static func readPrefix(_ path: String, limit: Int) throws(BridgeError) -> [UInt8] {
        let fd = csys_open_read_nofollow(path)
        if fd < 0 { throw failure(.read, path) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw failure(.stat, path) }
        if (st.st_mode & S_IFMT) != S_IFREG { throw .io(.notRegularFile(path: path, symlink: false)) }
        var buffer = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            let n = buffer.withUnsafeMutableBytes { raw in SystemCall.read(fd, raw.baseAddress! + total, limit - total) }
            if n < 0 { throw failure(.read, path) }
            if n == 0 { break }
            total += n
        }
        return Array(buffer[0..<total])
    }

    package static func readString(_ path: String, limit: Int = 64 << 20) throws(BridgeError) -> String {
        String(decoding: try read(path, limit: limit), as: UTF8.self)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(BridgeError) {
        if !SystemCall.writeAll(fd, bytes) { throw failure(.write, path) }
    }

    package static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// rename(2): atomic on one file system. Returns false when the source is gone (someone else moved it).
    package static func move(_ from: String, _ to: String) throws(BridgeError) -> Bool {
        if rename(from, to) == 0 { return true }
        if errno == ENOENT { return false }
        throw failure(.move(from: from), to)
    }

    /// Like `move`, but never replaces an existing target. Returns false if the source is gone or the target exists.
    package static func moveNoReplace(_ from: String, _ to: String) throws(BridgeError) -> Bool {
        if csys_rename_noreplace(from, to) == 0 { return true }
        if errno == ENOENT || errno == EEXIST { return false }
        throw failure(.move(from: from), to)
    }

    package static func remove(_ path: String) { unlink(path) }

    /// Removes a folder tree (no symlink following). Used by `gc`.
    package static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in list(path, includeHidden: true) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Opens (creating if asked) a regular file without following a final symlink and without blocking; anything
    /// else there (a symlink, FIFO, socket, device, folder) is refused, never followed or waited on.
    package static func openRegular(_ path: String, flags: Int32, mode: mode_t = 0o600) throws(BridgeError) -> Int32 {
        let fd = csys_open_nofollow(path, flags, UInt32(mode))
        if fd < 0 {
            if errno == ELOOP { throw .io(.notRegularFile(path: path, symlink: true)) }
            throw failure(.open, path)
        }
        var st = stat()
        if fstat(fd, &st) != 0 { let e = errno; close(fd); throw failure(.stat, path, e) }
        if (st.st_mode & S_IFMT) != S_IFREG { close(fd); throw .io(.notRegularFile(path: path, symlink: false)) }
        return fd
    }

    /// Appends one line with a single write(2) on an O_APPEND descriptor, so concurrent appenders never interleave.
    /// Never appends through a symlink or into a FIFO or device.
    package static func appendLine(_ line: String, to path: String, mode: mode_t = 0o600) throws(BridgeError) {
        let fd = try openRegular(path, flags: O_WRONLY | O_CREAT | O_APPEND, mode: mode)
        defer { close(fd) }
        try writeAll(fd, Array((line + "\n").utf8), path: path)
    }

    /// Creates the file if missing and sets its mtime to now.
    package static func touch(_ path: String) {
        if csys_touch_path(path) != 0 && errno == ENOENT {
            if let fd = try? openRegular(path, flags: O_WRONLY | O_CREAT) { close(fd) }
        }
    }

    /// mtime in nanoseconds since the epoch, or nil.
    package static func modificationTime(_ path: String) -> Int64? {
        let t = csys_mtime_ns(path)
        return t < 0 ? nil : Int64(t)
    }

    /// Absolute form of a path against the current directory (no symlink resolution).
    package static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return currentDirectory() + "/" + path
    }

    package static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// realpath(3), or nil when the path does not exist.
    package static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
