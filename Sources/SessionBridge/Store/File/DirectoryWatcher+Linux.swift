#if os(Linux)
import Glibc
import CSys

/// inotify on Linux: one descriptor watching every folder for files renamed in, written, or appended to.
final class InotifyBackend {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 16384)

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    enum Creation { case success(InotifyBackend), failure(String) }

    static func make(paths: [String], includeRemovals: Bool = false) -> Creation {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd < 0 { return .failure("inotify unavailable (\(FileSystem.errorText(errno)))") }
        var mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF)
        if includeRemovals { mask |= UInt32(IN_DELETE | IN_MOVED_FROM) }
        for path in paths where inotify_add_watch(fd, path, mask) < 0 {
            let reason = "cannot watch \(path) (\(FileSystem.errorText(errno)))"
            close(fd)
            return .failure(reason)
        }
        return .success(InotifyBackend(fd: fd))
    }

    func wait(timeoutMilliseconds: Int) -> Bool {
        let deadline = Clock.monotonicNanoseconds() + Int64(timeoutMilliseconds) * 1_000_000
        while true {
            let remaining = max(0, Int((deadline - Clock.monotonicNanoseconds()) / 1_000_000))
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, Int32(min(remaining, Int(Int32.max))))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return false }
            // Drain everything queued: the caller rescans, so the details do not matter.
            var sawEvent = false
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                if n <= 0 { break }
                sawEvent = true
            }
            if sawEvent { return true }
            if remaining == 0 { return false }
        }
    }
}

/// Network and FUSE file systems on which inotify misses other machines' writes.
enum NetworkFileSystem {
    static func kind(of path: String) -> String? {
        switch UInt(bitPattern: csys_fs_type(path)) & 0xffff_ffff {
        case 0x6969: return "NFS"
        case 0x517B: return "SMB"
        case 0xFF53_4D42: return "CIFS"
        case 0xFE53_4D42: return "SMB2"
        case 0x6573_5546: return "FUSE (e.g. sshfs)"
        case 0x0102_1997: return "9p"
        case 0x00C3_6400: return "Ceph"
        case 0x5346_414F: return "AFS"
        case 0x0BD0_0BD0: return "Lustre"
        case 0x4750_4653: return "GPFS"
        default: return nil
        }
    }
}
#endif
