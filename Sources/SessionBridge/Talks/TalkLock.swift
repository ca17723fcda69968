#if canImport(Glibc)
import Glibc
#endif

/// The lock around one talk's read-modify-write.
package final class TalkLock {
    /// The open lock file of the flock strategy (-1 otherwise).
    private var fd: Int32
    private var lockFilePath: String?

    private init(fd: Int32, lockFile: String?) {
        self.fd = fd
        self.lockFilePath = lockFile
    }

    deinit { release() }

    /// What a lock file records.
    struct Owner: Codable {
        var owner: String
        var pid: Int32
        var host: String
        var at: String
    }

    /// Takes the lock, waiting up to `timeoutSeconds`. `owner` names the speaker for lock files and doctor.
    package static func acquire(_ path: String, strategy: TalkConfig.LockStrategy, owner: String, staleSeconds: Int,
                               timeoutSeconds: Double = 30) throws(BridgeError) -> TalkLock {
        switch strategy {
        case .flock:
            let fd = try FileSystem.openRegular(path, flags: O_RDWR | O_CREAT)
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR {
                    let e = errno
                    close(fd)
                    throw FileSystem.failure(.lock, path, e)
                }
            }
            return TalkLock(fd: fd, lockFile: nil)
        case .lockfile:
            let deadline = Clock.monotonicNanoseconds() + Int64(timeoutSeconds * 1e9)
            let record = Array(JSONCoding.string(Owner(owner: owner, pid: getpid(), host: Processes.hostName(), at: Clock.nowISO8601())).utf8)
            var pause = 1
            while true {
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                if fd >= 0 {
                    defer { close(fd) }
                    try FileSystem.writeAll(fd, record, path: path)
                    _ = fsync(fd)
                    return TalkLock(fd: -1, lockFile: path)
                }
                guard errno == EEXIST else { throw FileSystem.failure(.createLockFile, path) }
                if isStale(path, staleSeconds: staleSeconds) {
                    // Break it by renaming it away: only one breaker wins the rename.
                    _ = try? FileSystem.move(path, path + ".stale-\(getpid())")
                    FileSystem.remove(path + ".stale-\(getpid())")
                    continue
                }
                if Clock.monotonicNanoseconds() > deadline {
                    throw .conflict(.talkLocked(lock: path))
                }
                Clock.sleep(milliseconds: pause)
                pause = min(pause * 2, 50)
            }
        }
    }

    /// A lock file whose process is gone (same host) or that is older than `staleSeconds`.
    package static func isStale(_ path: String, staleSeconds: Int) -> Bool {
        // Anything but a regular file (a planted symlink or FIFO) is no lock this program made.
        if let kind = TalkStorage.kind(path), kind != "file" { return kind != "folder" }
        guard let bytes = try? FileSystem.read(path, limit: 4096) else { return false }
        if let owner = JSONCoding.decode(Owner.self, from: bytes) {
            if owner.host == Processes.hostName() && !Processes.isAlive(owner.pid) { return true }
            if let at = Clock.parseISO8601(owner.at) { return Clock.nowNanoseconds() - at > Int64(staleSeconds) * 1_000_000_000 }
        }
        // Unreadable record (torn write of the lock itself): judge by age.
        guard let mtime = FileSystem.modificationTime(path) else { return false }
        return Clock.nowNanoseconds() - mtime > Int64(staleSeconds) * 1_000_000_000
    }

    /// A regular file that holds a lock record of this program (or the start of one, cut by a crash).
    package static func isOwnRecord(_ path: String) -> Bool {
        guard let bytes = try? FileSystem.read(path, limit: 4096) else { return false }
        let start = Array(#"{"owner":"#.utf8)
        return JSONCoding.decode(Owner.self, from: bytes) != nil || bytes.starts(with: start) || start.starts(with: bytes)
    }

    /// The last turn acknowledged under this lock (flock strategy: the lock file, which stays, records it), so a
    /// `say` notices a talk file that lost it (a stale copy saved over the talk) instead of building on it.
    package var acknowledged: (number: Int, nonce: String)? {
        guard fd >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { return nil }
        return TalkLock.parseAcknowledged(Array(buffer[0..<n]))
    }

    /// The record of the last acknowledged turn in a lock file's bytes (`acknowledged <number> <nonce>`), or nil.
    static func parseAcknowledged(_ bytes: [UInt8]) -> (number: Int, nonce: String)? {
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 3, fields[0] == "acknowledged", let number = Int(fields[1]), Identifiers.isValidID(String(fields[2])) else {
            return nil
        }
        return (number, String(fields[2]))
    }

    /// Records the turn just acknowledged (best effort: the talk file and audit.log hold the turn itself).
    package func recordAcknowledged(number: Int, nonce: String) {
        guard fd >= 0 else { return }
        let line = Array("acknowledged \(number) \(nonce)\n".utf8)
        let n = line.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        if n == line.count { _ = ftruncate(fd, off_t(line.count)) }
    }

    /// Forgets the record (doctor, after it reported a turn it could not bring back).
    package func clearAcknowledged() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
    }

    package func release() {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
        if let p = lockFilePath { FileSystem.remove(p) }
        lockFilePath = nil
    }
}
