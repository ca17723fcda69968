#if canImport(Glibc)
import Glibc
#endif

/// Path arithmetic for the guard: absolute, resolved the way the kernel would (symlinks first, then `..`), through
/// the longest existing prefix and through links the analysed command itself makes.
enum GuardPaths {
    static func join(_ base: String, _ path: String) -> String {
        path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base + path : base + "/" + path)
    }

    /// `/a/./b/../c` → `/a/c` (lexically).
    static func collapse(_ path: String) -> String {
        // Byte by byte: '/' and '.' are ASCII, so no component of valid UTF-8 equals "." or ".." but those bytes.
        let b = Array(path.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count + 1)
        var starts: [Int] = []
        var i = 0
        while i < b.count {
            if b[i] == 0x2F { i += 1; continue }
            var j = i
            while j < b.count && b[j] != 0x2F { j += 1 }
            if j - i == 1 && b[i] == 0x2E {
                // "." stays where it is.
            } else if j - i == 2 && b[i] == 0x2E && b[i + 1] == 0x2E {
                if let s = starts.popLast() { out.removeSubrange(s...) }
            } else {
                starts.append(out.count)
                out.append(0x2F)
                out.append(contentsOf: b[i..<j])
            }
            i = j
        }
        return out.isEmpty ? "/" : String(decoding: out, as: UTF8.self)
    }

    /// The real location of an absolute path that may not exist yet. `followFinal` false keeps a final symlink
    /// itself (rm, unlink and mv act on the link, not on what it points to). `links` are symlinks made earlier in
    /// the same command (absolute link path → absolute target).
    static func resolve(_ path: String, followFinal: Bool = true, links: [String: String] = [:]) -> String {
        if links.isEmpty, followFinal, let real = FileSystem.realPath(path) { return real }
        var pending = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        pending.reverse()
        var current: [String] = []
        var exists = true
        var hops = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                if !current.isEmpty { current.removeLast() }
                continue
            }
            current.append(component)
            let isFinal = pending.isEmpty
            if isFinal && !followFinal { break }
            let here = "/" + current.joined(separator: "/")
            var target: String?
            if let virtual = links[here] {
                target = virtual
            } else if exists {
                var st = stat()
                if lstat(here, &st) != 0 {
                    exists = false
                } else if (st.st_mode & S_IFMT) == S_IFLNK {
                    target = readLink(here)
                }
            }
            if let target, hops < 40 {
                hops += 1
                current.removeLast()
                let next = target.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
                if target.hasPrefix("/") { current = [] }
                pending += next.reversed()
                exists = true
            }
        }
        return "/" + current.joined(separator: "/")
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buffer, 4096)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    static func isInside(_ path: String, _ root: String) -> Bool {
        path == root || root == "/" || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    /// A small regular file's text (scripts run by name, `$(cat file)`, patch files), or nil.
    static func readSmallFile(_ path: String, limit: Int = 256 << 10) -> String? {
        guard let bytes = try? FileSystem.read(path, limit: limit) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first `limit` bytes of a regular file (a long script is scanned by its beginning).
    static func readPrefix(_ path: String, limit: Int) -> [UInt8]? {
        if let bytes = try? FileSystem.read(path, limit: limit) { return bytes }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return try? FileSystem.readPrefix(path, limit: limit)
    }
}
