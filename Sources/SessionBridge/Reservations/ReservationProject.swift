/// The project a reservation belongs to. Its root is the git work tree holding the path (the folder with `.git`),
/// or, outside git, the folder it was reserved from. Its id is what sessions on other hosts (or other clones) agree
/// on: for a git work tree with a remote, the remote's URL normalized (`git:github.com/owner/repo`, whatever the
/// scheme, user or `.git` suffix), so every clone of one repository is one project and patterns are relative to
/// each clone's root; otherwise this host and the root's real path (`dir:HOST:/path`).
package struct ReservationProject: Sendable, Equatable {
    package var id: String
    /// The root on this host (a real path).
    package var root: String

    package init(id: String, root: String) {
        self.id = id
        self.root = root
    }

    /// The store's name for the project: a hash of its id (ids hold any characters).
    package var key: String { Self.key(id) }

    package static func key(_ id: String) -> String { String(SHA256.hex(id).prefix(32)) }

    /// The path relative to the root ("" for the root itself), or nil when it lies outside.
    package func relative(_ realPath: String) -> String? {
        if realPath == root { return "" }
        if root == "/" { return String(realPath.dropFirst()) }
        guard realPath.hasPrefix(root + "/") else { return nil }
        return String(realPath.dropFirst(root.count + 1))
    }

    /// The project of a path (a real, absolute path that may not exist yet): its git work tree, else `fallbackRoot`.
    package static func of(_ realPath: String, fallbackRoot: String, host: String) -> ReservationProject {
        if let git = gitRoot(containing: realPath) { return git.project(host: host) }
        return ReservationProject(id: "dir:\(host):\(fallbackRoot)", root: fallbackRoot)
    }

    /// The projects a path may be reserved in, nearest first: its git work tree (if any), and every folder above
    /// the work tree (or above the path) as a folder project, since a folder project's root is wherever it was
    /// reserved from.
    package static func candidates(for realPath: String, host: String) -> [ReservationProject] {
        var ancestors: [String] = []
        var dir = realPath
        while true {
            ancestors.append(dir)
            if dir == "/" { break }
            dir = FileSystem.parentDirectory(of: dir)
        }
        var out: [ReservationProject] = []
        var gitFound = false
        for (i, dir) in ancestors.enumerated() where !gitFound {
            if let git = GitWorkTree.at(dir) {
                out.append(git.project(host: host))
                // Folders from the work tree up may still be folder projects (reserved from outside it).
                out += ancestors[i...].map { ReservationProject(id: "dir:\(host):\($0)", root: $0) }
                gitFound = true
            }
        }
        if !gitFound { out = ancestors.map { ReservationProject(id: "dir:\(host):\($0)", root: $0) } }
        return out
    }

    static func gitRoot(containing path: String) -> GitWorkTree? {
        var dir = path
        while true {
            if let git = GitWorkTree.at(dir) { return git }
            if dir == "/" { return nil }
            dir = FileSystem.parentDirectory(of: dir)
        }
    }

    /// A remote URL in one spelling for every way of writing it: `https://user@Host/owner/repo.git`,
    /// `ssh://git@host:22/owner/repo`, `git@host:owner/repo.git` → `host/owner/repo`.
    package static func normalizedRemote(_ url: String) -> String {
        var s = url.trimmed(" \t\r\n")
        var host = ""
        var path = s
        let b = Array(s.utf8)
        if let i = (0..<max(0, b.count - 2)).first(where: { b[$0] == 58 && b[$0 + 1] == 47 && b[$0 + 2] == 47 }),
           !b[..<i].contains(47) {
            s = String(decoding: b[(i + 3)...], as: UTF8.self)
            let authority = String(s.prefix { $0 != "/" })
            path = String(s.dropFirst(authority.count))
            host = String(authority.split(separator: "@").last ?? "")
            if let colon = host.lastIndex(of: ":"), host[host.index(after: colon)...].allSatisfy(\.isNumber) { host = String(host[..<colon]) }
        } else if let colon = s.firstIndex(of: ":"), !s[..<colon].contains("/") {
            // scp-like: [user@]host:path
            let authority = String(s[..<colon])
            host = String(authority.split(separator: "@").last ?? "")
            path = String(s[s.index(after: colon)...])
        }
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix(".git") { path.removeLast(4) }
        while path.hasPrefix("/") && !host.isEmpty { path.removeFirst() }
        return host.isEmpty ? path : host.lowercased() + "/" + path
    }
}

/// A git work tree found by its `.git` entry: a folder, or a file pointing at the real one (worktrees, submodules).
struct GitWorkTree {
    var root: String
    var gitDir: String

    static func at(_ dir: String) -> GitWorkTree? {
        let dotGit = dir == "/" ? "/.git" : dir + "/.git"
        switch FileSystem.kind(dotGit) {
        case .directory:
            return GitWorkTree(root: dir, gitDir: dotGit)
        case .regular:
            guard let text = GuardPaths.readSmallFile(dotGit, limit: 4096), text.hasPrefix("gitdir:") else { return nil }
            let target = String(text.dropFirst(7)).trimmed(" \t\r\n")
            return GitWorkTree(root: dir, gitDir: GuardPaths.collapse(GuardPaths.join(dir, target)))
        default:
            return nil
        }
    }

    /// The configuration shared by every worktree of the repository (`commondir` of a linked worktree).
    var configPath: String {
        if let common = GuardPaths.readSmallFile(gitDir + "/commondir", limit: 4096)?.trimmed(" \t\r\n"), !common.isEmpty {
            return GuardPaths.collapse(GuardPaths.join(gitDir, common)) + "/config"
        }
        return gitDir + "/config"
    }

    /// The URL of `origin`, else of the first remote with one.
    var remoteURL: String? {
        guard let text = GuardPaths.readSmallFile(configPath, limit: 1 << 20) else { return nil }
        var section = ""
        var urls: [(String, String)] = []
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = String(raw).trimmed(" \t")
            if line.hasPrefix("[") {
                section = line
                continue
            }
            guard section.hasPrefix("[remote "), let eq = line.firstIndex(of: "=") else { continue }
            let name = String(line[..<eq]).trimmed(" \t").lowercased()
            guard name == "url" else { continue }
            var value = String(line[line.index(after: eq)...]).trimmed(" \t")
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            urls.append((section, value))
        }
        return urls.first(where: { $0.0 == "[remote \"origin\"]" })?.1 ?? urls.first?.1
    }

    func project(host: String) -> ReservationProject {
        if let url = remoteURL, !url.isEmpty {
            return ReservationProject(id: "git:" + ReservationProject.normalizedRemote(url), root: root)
        }
        return ReservationProject(id: "dir:\(host):\(root)", root: root)
    }
}
