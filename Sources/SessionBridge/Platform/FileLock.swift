#if canImport(Glibc)
import Glibc
#endif

/// An exclusive flock(2) on a lock file (a regular file, never a followed symlink), released explicitly or when the process ends (also by SIGKILL).
package final class FileLock: HeldLock {
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { release() }

    /// Blocks until the lock is held.
    package static func exclusive(_ path: String) throws(BridgeError) -> FileLock {
        let fd = try FileSystem.openRegular(path, flags: O_RDWR | O_CREAT)
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR {
                let e = errno
                close(fd)
                throw FileSystem.failure(.lock, path, e)
            }
        }
        return FileLock(fd: fd)
    }

    /// The lock if nobody holds it, nil otherwise.
    package static func tryExclusive(_ path: String) -> FileLock? {
        (try? attempt(path)) ?? nil
    }

    /// The lock if nobody holds it, nil when another holds it; an error when the lock file cannot be opened.
    package static func attempt(_ path: String) throws(BridgeError) -> FileLock? {
        let fd = try FileSystem.openRegular(path, flags: O_RDWR | O_CREAT)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let e = errno
            close(fd)
            if e == EWOULDBLOCK { return nil }
            throw FileSystem.failure(.lock, path, e)
        }
        return FileLock(fd: fd)
    }

    /// A flock lasts as long as its descriptor: nothing to extend.
    package func renew() throws(StoreError) -> Bool { fd >= 0 }

    package func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
}
