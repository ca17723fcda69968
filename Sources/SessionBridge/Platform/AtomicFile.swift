#if canImport(Glibc)
import Glibc
#endif
import CSys

/// Crash-safe publication of a whole file: write a temp file, fsync it, rename it into place, fsync the folder.
/// A reader sees either the old file or the new one, never a partial one; a failed write leaves no temp file behind.
package enum AtomicFile {
    /// - Parameters:
    ///   - tempDirectory: where the temp file goes (same file system as `path`); the target's folder by default.
    ///     Using a separate folder keeps watchers of the target folder from seeing temp files.
    ///   - noClobber: refuse to replace an existing file (returns false instead).
    ///   - durable: fsync the file and its folder. Only records that can be rebuilt skip it.
    @discardableResult
    package static func write(
        _ bytes: [UInt8], to path: String, tempDirectory: String? = nil, mode: mode_t = 0o600,
        noClobber: Bool = false, durable: Bool = true
    ) throws(BridgeError) -> Bool {
        let folder = FileSystem.parentDirectory(of: path)
        let tempPath = try writeTemp(bytes, in: tempDirectory ?? folder, name: FileSystem.lastComponent(of: path),
                                     mode: mode, durable: durable)
        var published = false
        defer { if !published { unlink(tempPath) } }
        if noClobber {
            if !(try FileSystem.moveNoReplace(tempPath, path)) { return false }
        } else if rename(tempPath, path) != 0 {
            throw FileSystem.failure(.publish, path)
        }
        published = true
        if durable { FileSystem.syncDirectory(folder) }
        return true
    }

    /// Writes a complete hidden temp file (`.<name>.XXXXXX`) in `folder` and returns its path. On failure nothing
    /// is left behind. The caller publishes it with rename(2) (and may link(2) it elsewhere first).
    /// `crashPoint` names a `CrashPoint` step reached when half the bytes are written (a writer killed mid-write).
    package static func writeTemp(_ bytes: [UInt8], in folder: String, name: String, mode: mode_t = 0o600,
                                 durable: Bool = true, crashPoint: (String, Int)? = nil) throws(BridgeError) -> String {
        var template = Array("\(folder)/.\(name).XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { csys_mkostemp_cloexec($0.baseAddress!) }
        if fd < 0 { throw FileSystem.failure(.createTempFile, folder) }
        let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do throws(BridgeError) {
            // mkostemp creates the file 0600 already.
            if mode != 0o600 && fchmod(fd, mode) != 0 { throw FileSystem.failure(.setMode, tempPath) }
            if let (op, step) = crashPoint, CrashPoint.isArmed {
                try FileSystem.writeAll(fd, Array(bytes.prefix(bytes.count / 2)), path: tempPath)
                CrashPoint.reached(op, step)
                try FileSystem.writeAll(fd, Array(bytes.dropFirst(bytes.count / 2)), path: tempPath)
            } else {
                try FileSystem.writeAll(fd, bytes, path: tempPath)
            }
            if durable && fsync(fd) != 0 { throw FileSystem.failure(.flush, tempPath) }
        } catch {
            close(fd)
            unlink(tempPath)
            throw error
        }
        if close(fd) != 0 {
            unlink(tempPath)
            throw FileSystem.failure(.close, tempPath)
        }
        return tempPath
    }

    package static func write(_ text: String, to path: String, tempDirectory: String? = nil, mode: mode_t = 0o600) throws(BridgeError) {
        try write(Array(text.utf8), to: path, tempDirectory: tempDirectory, mode: mode)
    }
}
