#if canImport(Glibc)
import Glibc
#endif

/// The lock around one talk's read-modify-write.
public final class TalkLock {
    private var flockHandle: FileLock?
    private var lockFilePath: String?

    private init(flock: FileLock?, lockFile: String?) {
        self.flockHandle = flock
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
    public static func acquire(_ path: String, strategy: TalkConfig.LockStrategy, owner: String, staleSeconds: Int,
                               timeoutSeconds: Double = 30) throws(BridgeError) -> TalkLock {
        switch strategy {
        case .flock:
            return TalkLock(flock: try FileLock.exclusive(path), lockFile: nil)
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
                    return TalkLock(flock: nil, lockFile: path)
                }
                guard errno == EEXIST else { throw FileSystem.failure("cannot create lock file", path) }
                if isStale(path, staleSeconds: staleSeconds) {
                    // Break it by renaming it away: only one breaker wins the rename.
                    _ = try? FileSystem.move(path, path + ".stale-\(getpid())")
                    FileSystem.remove(path + ".stale-\(getpid())")
                    continue
                }
                if Clock.monotonicNanoseconds() > deadline {
                    throw .conflict("the talk is locked by another writer (\(path)); try again, or run `\(HelperName.current.command("doctor"))`")
                }
                Clock.sleep(milliseconds: pause)
                pause = min(pause * 2, 50)
            }
        }
    }

    /// A lock file whose process is gone (same host) or that is older than `staleSeconds`.
    public static func isStale(_ path: String, staleSeconds: Int) -> Bool {
        guard let bytes = try? FileSystem.read(path, limit: 4096) else { return false }
        if let owner = JSONCoding.decode(Owner.self, from: bytes) {
            if owner.host == Processes.hostName() && !Processes.isAlive(owner.pid) { return true }
            if let at = Clock.parseISO8601(owner.at) { return Clock.nowNanoseconds() - at > Int64(staleSeconds) * 1_000_000_000 }
        }
        // Unreadable record (torn write of the lock itself): judge by age.
        guard let mtime = FileSystem.modificationTime(path) else { return false }
        return Clock.nowNanoseconds() - mtime > Int64(staleSeconds) * 1_000_000_000
    }

    public func release() {
        flockHandle?.release()
        flockHandle = nil
        if let p = lockFilePath { FileSystem.remove(p) }
        lockFilePath = nil
    }
}
