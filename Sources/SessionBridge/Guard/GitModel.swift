/// What a git command may write in the working tree. Git's own directory is not guarded; what matters is whether a
/// command can delete or replace files in a guarded folder:
/// - named paths (`checkout -- P`, `restore P`, `rm P`, `mv A B`, `clean P`, `apply`/`am` patches, `worktree add P`);
/// - untracked files under the current folder (`clean -f`, `stash -u`), ignored ones too with `clean -x/-X`, `stash -a`;
/// - tracked files of the whole work tree (`reset --hard`, `checkout BRANCH`, `stash`, `merge`, `pull` …), which
///   reach a guarded folder only when it is not ignored (then it may be tracked).
enum GitModel {
    typealias State = ShellAnalyzer.State

    static let readOnly: Set<String> = [
        "status", "log", "diff", "show", "blame", "annotate", "grep", "ls-files", "ls-tree", "ls-remote", "rev-parse", "rev-list",
        "describe", "shortlog", "reflog", "cat-file", "show-ref", "for-each-ref", "name-rev", "merge-base", "cherry", "whatchanged",
        "version", "help", "fetch", "push", "remote", "branch", "tag", "commit", "add", "config", "init", "gc", "prune", "fsck",
        "count-objects", "verify-commit", "verify-tag", "check-ignore", "check-attr", "check-ref-format", "var", "diff-tree",
        "diff-files", "diff-index", "range-diff", "notes", "repack", "pack-refs", "update-ref", "symbolic-ref", "hash-object",
        "write-tree", "commit-tree", "mktag", "mktree", "bisect", "maintenance", "credential", "send-email", "request-pull",
        "bugreport", "instaweb", "column", "interpret-trailers", "stripspace", "fast-export", "bundle-verify", "lfs", "update-index",
    ]

    static func run(_ args: [String], _ a: ShellAnalyzer, _ state: inout State, _ stdin: ShellAnalyzer.Stream) {
        var k = 0
        var inner = state
        while k < args.count {
            let w = args[k]
            if w == "-C", k + 1 < args.count { inner.cwd = GuardPaths.join(inner.cwd, args[k + 1]); k += 2; continue }
            if w == "-c", k + 1 < args.count {
                // `-c alias.x='!cmd'` defines a shell alias for this very call.
                let setting = args[k + 1]
                if setting.lowercased().hasPrefix("alias."), let eq = setting.firstIndex(of: "=") {
                    let value = String(setting[setting.index(after: eq)...])
                    if value.hasPrefix("!") { a.runScript(String(value.dropFirst()), &inner, positional: nil, stdin: stdin) }
                }
                if setting.lowercased().hasPrefix("core.") || setting.lowercased().contains("hookspath") || setting.lowercased().contains(".command") || setting.lowercased().contains("sshcommand") || setting.lowercased().contains("editor") || setting.lowercased().contains("pager") {
                    ProgramModels.opaque("git", [String(setting.split(separator: "=", maxSplits: 1).last ?? "")], a, inner)
                }
                k += 2
                continue
            }
            if w.hasPrefix("--work-tree=") { inner.cwd = GuardPaths.join(inner.cwd, String(w.dropFirst(12))); k += 1; continue }
            if w == "--work-tree" || w == "--git-dir" || w == "--namespace" || w == "--exec-path" { if w == "--work-tree", k + 1 < args.count { inner.cwd = GuardPaths.join(inner.cwd, args[k + 1]) }; k += 2; continue }
            if w.hasPrefix("-") { k += 1; continue }
            break
        }
        guard k < args.count else { return }
        let sub = args[k]
        let rest = Array(args[(k + 1)...])
        func write(_ w: String, _ scope: ToolEffects.Scope, follow: Bool = false) {
            a.record(.write(a.place(w, inner, follow: follow), scope, by: "git \(sub)"))
        }
        /// Paths after `--`, or operands that exist as paths.
        func pathspecs(_ operands: [String], afterDashOnly: Bool) -> [String] {
            if let dd = rest.firstIndex(of: "--") { return Array(rest[(dd + 1)...]) }
            if afterDashOnly { return [] }
            return operands.filter { op in
                guard Marker.isPlain(op) else { return true }
                return op == "." || op.contains("/") || FileSystem.exists(a.absolute(op, inner)) || op.contains("*") || op.hasPrefix(":")
            }.map { $0.hasPrefix(":/") ? String($0.dropFirst(2)) : $0 }
        }
        let o = ProgramOptions(rest.prefix { $0 != "--" }.map { $0 }, shortWithValue: "bBmnCeSUxXo", longWithValue: ["--message", "--source", "--exclude", "--onto", "--strategy", "--pathspec-from-file"])
        let root = repositoryRoot(inner)
        /// A path restored from the index or a commit: tracked files in it are replaced.
        func restore(_ p: String) {
            let place = a.place(p, inner, follow: false)
            a.record(.write(place, .node, by: "git \(sub)"))
            guard case .exact(let e) = place, let guarded = a.guardedRoots?() else { return }
            for g in guarded where g != e && GuardPaths.isInside(g, e) && indexMentions(g, root: root ?? e) {
                a.record(.write(.exact(g), .tree, by: "git \(sub)"))
            }
        }
        // Options that name a file git writes, whatever the subcommand: `diff --output=F`, `config -f F` ….
        var k2 = 0
        while k2 < rest.count, rest[k2] != "--" {
            let w = rest[k2]
            k2 += 1
            let named = ["--output", "--output-directory"] + (sub == "config" ? ["-f", "--file"] : [])
            if let eq = w.firstIndex(of: "="), named.contains(String(w[..<eq])) {
                write(String(w[w.index(after: eq)...]), .tree, follow: true)
            } else if named.contains(w), k2 < rest.count {
                write(rest[k2], .tree, follow: true)
                k2 += 1
            }
        }
        switch sub {
        case _ where readOnly.contains(sub):
            if sub == "init" || sub == "clone", let dir = o.operands.last { write(dir, .node, follow: true) }
            // `git init` with no folder makes the repository in the working folder.
            if sub == "init" && o.operands.isEmpty { write(o.has("--bare") ? "." : ".git", .node, follow: true) }
            return
        case "clone":
            if o.operands.count >= 2, let dir = o.operands.last { write(dir, .tree, follow: true) }
        case "archive", "bundle", "format-patch":
            for f in o.values("-o", "--output", "--output-directory") { write(f, .tree, follow: true) }
            if sub == "bundle", rest.first == "create", rest.count > 1 { write(rest[1], .node, follow: true) }
        case "clean":
            if o.has("-n", "--dry-run") { return }
            let ignoredToo = o.has("-x", "-X")
            let specs = pathspecs(o.operands, afterDashOnly: false)
            guard let root else { for p in specs { restore(p) }; return }
            for p in specs.isEmpty ? ["."] : specs { untracked(p, ignored: ignoredToo, a, inner, root, sub) }
        case "stash":
            let action = o.operands.first ?? "push"
            switch action {
            case "list", "show", "branch", "drop", "clear", "create", "store": return
            default:
                let specs = pathspecs(Array(o.operands.dropFirst()), afterDashOnly: true)
                for p in specs { restore(p) }
                guard let root else { return }
                tracked(root, a, inner, sub)
                if o.has("-u", "--include-untracked") { untracked(root, ignored: false, a, inner, root, sub) }
                if o.has("-a", "--all") { untracked(root, ignored: true, a, inner, root, sub) }
            }
        case "checkout", "restore", "switch", "reset", "rm", "mv", "read-tree", "checkout-index", "merge", "pull", "rebase",
             "cherry-pick", "revert", "am", "apply", "sparse-checkout", "submodule", "filter-branch", "filter-repo", "worktree":
            switch sub {
            case "rm":
                if o.has("--cached") { return }
                for p in pathspecs(o.operands, afterDashOnly: false) { restore(p) }
            case "mv":
                for p in o.operands { write(p, .tree) }
            case "restore":
                if o.has("--staged") && !o.has("--worktree", "-W") { return }
                for p in pathspecs(o.operands, afterDashOnly: false) { restore(p) }
                if o.has("--staged") && !o.has("--worktree", "-W") { return }
            case "checkout":
                let specs = pathspecs(Array(o.operands.dropFirst(rest.contains("--") ? 0 : 0)), afterDashOnly: false)
                if rest.contains("--") || !specs.isEmpty {
                    for p in specs { restore(p) }
                } else if !o.has("-b", "-B", "--orphan") || o.has("-f", "--force") || !o.operands.isEmpty {
                    if o.has("-b", "-B") && o.operands.count <= 1 && !o.has("-f", "--force") { return }
                    if let root { tracked(root, a, inner, sub) }
                }
            case "switch":
                if o.has("-c", "-C", "--create") && !o.has("-f", "--force", "--discard-changes") { return }
                if let root { tracked(root, a, inner, sub) }
            case "reset":
                if o.has("--hard", "--merge", "--keep"), let root { tracked(root, a, inner, sub) }
            case "apply", "am":
                if o.has("--check", "--stat", "--numstat", "--summary", "--cached") && !o.has("--index") { return }
                var any = false
                for f in o.operands {
                    if case .text(let t) = a.fileStream(f, inner), Marker.isPlain(t) {
                        for p in UnifiedDiff.paths(in: t) { write(p, .node, follow: true) }
                        any = true
                    } else {
                        write(".", .tree)
                    }
                }
                if !any && o.operands.isEmpty {
                    if case .text(let t) = stdin, Marker.isPlain(t) { for p in UnifiedDiff.paths(in: t) { write(p, .node, follow: true) } }
                    else if let root { tracked(root, a, inner, sub) }
                }
            case "worktree":
                let action = o.operands.first ?? ""
                if ["add", "move", "remove"].contains(action) { for p in o.operands.dropFirst() { write(p, .tree, follow: true) } }
                if action == "move", o.operands.count >= 3 { write(o.operands[1], .tree) }
            default:
                if let root { tracked(root, a, inner, sub) }
            }
        default:
            // An alias or an extension (git-foo): unknown.
            ProgramModels.opaque("git-\(sub)", rest, a, inner)
        }
    }

    /// Tracked files of the work tree may be replaced: a guarded folder counts when git's index tracks a file in it.
    static func tracked(_ root: String, _ a: ShellAnalyzer, _ state: State, _ sub: String) {
        guard let guarded = a.guardedRoots?(), Marker.isPlain(root) else { return }
        for g in guarded where GuardPaths.isInside(g, root) && indexMentions(g, root: root) {
            a.record(.write(.exact(g), .tree, by: "git \(sub)"))
        }
    }

    /// Untracked files under `path` are removed; ignored ones too when `ignored`.
    static func untracked(_ path: String, ignored: Bool, _ a: ShellAnalyzer, _ state: State, _ root: String, _ sub: String) {
        let place = a.place(path, state, follow: true)
        guard case .exact(let p) = place else { a.record(.write(place, .tree, by: "git \(sub)")); return }
        if ignored {
            a.record(.write(place, .tree, by: "git \(sub)"))
            return
        }
        // Without -x, an ignored guarded folder survives.
        if let guarded = a.guardedRoots?() {
            for g in guarded where GuardPaths.isInside(g, p) || GuardPaths.isInside(p, g) {
                if !isIgnored(g, root: root) || GuardPaths.isInside(p, g) && !isIgnored(g, root: root) { a.record(.write(.exact(g), .tree, by: "git \(sub)")) }
            }
        }
        if FileSystem.isDirectory(p + "/.talks") && !isIgnored(p + "/.talks", root: root) { a.record(.write(.exact(p + "/.talks"), .tree, by: "git \(sub)")) }
    }

    /// Whether git's index lists a file inside the folder (a forced `git add` tracks files of an ignored folder).
    static func indexMentions(_ path: String, root: String) -> Bool {
        guard GuardPaths.isInside(path, root), path != root,
              let bytes = try? FileSystem.read(root + "/.git/index", limit: 64 << 20) else { return false }
        let needle = Array((String(path.dropFirst(root == "/" ? 1 : root.count + 1)) + "/").utf8)
        guard let first = needle.first, bytes.count >= needle.count else { return false }
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var k = 1
                while k < needle.count && bytes[i + k] == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    /// The work tree's root: the nearest folder upwards with a `.git`.
    static func repositoryRoot(_ state: State) -> String? {
        guard Marker.isPlain(state.cwd) else { return nil }
        var p = GuardPaths.collapse(state.cwd)
        while true {
            if FileSystem.exists(p + "/.git") { return p }
            let parent = FileSystem.parentDirectory(of: p)
            if parent == p || p == "/" { return nil }
            p = parent
        }
    }

    /// Whether a .gitignore between the root and the folder (or .git/info/exclude) names the folder or an ancestor
    /// of it by a plain pattern (`.talks`, `.talks/`, `/.talks/`, `name/`).
    static func isIgnored(_ path: String, root: String) -> Bool {
        guard GuardPaths.isInside(path, root), path != root else { return false }
        let relative = String(path.dropFirst(root == "/" ? 1 : root.count + 1))
        let components = relative.split(separator: "/").map(String.init)
        var files = [root + "/.git/info/exclude"]
        var dir = root
        for c in components.dropLast() { files.append(dir + "/.gitignore"); dir += "/" + c }
        files.append(dir + "/.gitignore")
        for file in files {
            guard let text = GuardPaths.readSmallFile(file, limit: 1 << 20) else { continue }
            let base = FileSystem.parentDirectory(of: file).hasSuffix("/.git/info") ? root : FileSystem.parentDirectory(of: file)
            for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
                var line = raw.trimmingCharacters(in: " \t")
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
                if line.hasSuffix("/") { line.removeLast() }
                let anchored = line.hasPrefix("/")
                if anchored { line.removeFirst() }
                // Each ancestor-or-self of the folder below this file's directory.
                guard GuardPaths.isInside(path, base) else { continue }
                let below = String(path.dropFirst(base == "/" ? 1 : base.count + 1)).split(separator: "/").map(String.init)
                for n in 1...max(1, below.count) where n <= below.count {
                    let candidate = below.prefix(n).joined(separator: "/")
                    if line.contains("/") || anchored {
                        if fnmatch(line, candidate, 0) == 0 { return true }
                    } else if fnmatch(line, below[n - 1], 0) == 0 {
                        return true
                    }
                }
            }
        }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#endif
