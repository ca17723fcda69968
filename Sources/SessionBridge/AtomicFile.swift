#if canImport(Glibc)
import Glibc
#endif
import CSys

/// Crash-safe publication of a whole file: write a temp file, fsync it, rename it into place, fsync the folder.
/// A reader sees either the old file or the new one, never a partial one; a failed write leaves no temp file behind.
public enum AtomicFile {
    /// - Parameters:
    ///   - tempDirectory: where the temp file goes (same file system as `path`); the target's folder by default.
    ///     Using a separate folder keeps watchers of the target folder from seeing temp files.
    ///   - noClobber: refuse to replace an existing file (returns false instead).
    @discardableResult
    public static func write(
        _ bytes: [UInt8], to path: String, tempDirectory: String? = nil, mode: mode_t = 0o600,
        noClobber: Bool = false, syncDirectory: Bool = true
    ) throws(BridgeError) -> Bool {
        let folder = FileSystem.parentDirectory(of: path)
        let tempFolder = tempDirectory ?? folder
        var template = Array("\(tempFolder)/.\(FileSystem.lastComponent(of: path)).XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { csys_mkostemp_cloexec($0.baseAddress!) }
        if fd < 0 { throw FileSystem.failure("cannot create a temp file in", tempFolder) }
        let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var published = false
        defer { if !published { unlink(tempPath) } }
        do throws(BridgeError) {
            if fchmod(fd, mode) != 0 { throw FileSystem.failure("cannot set mode of", tempPath) }
            try FileSystem.writeAll(fd, bytes, path: tempPath)
            if fsync(fd) != 0 { throw FileSystem.failure("cannot flush", tempPath) }
        } catch {
            close(fd)
            throw error
        }
        if close(fd) != 0 { throw FileSystem.failure("cannot close", tempPath) }
        if noClobber {
            if !(try FileSystem.moveNoReplace(tempPath, path)) { return false }
        } else if rename(tempPath, path) != 0 {
            throw FileSystem.failure("cannot publish", path)
        }
        published = true
        if syncDirectory { FileSystem.syncDirectory(folder) }
        return true
    }

    public static func write(_ text: String, to path: String, tempDirectory: String? = nil, mode: mode_t = 0o600) throws(BridgeError) {
        try write(Array(text.utf8), to: path, tempDirectory: tempDirectory, mode: mode)
    }
}
