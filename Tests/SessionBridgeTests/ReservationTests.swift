import Foundation
import Testing
@testable import SessionBridge

/// A home with the default store, a git project (with a remote) holding src/api/client.swift, a symlink into
/// src/api, and two live sessions A and B of that project.
final class ReservationWorld {
    let base: String, home: String, store: String, project: String, outside: String
    let a: Bridge, b: Bridge

    init(remote: String? = "git@github.com:acme/proj.git") throws {
        base = FileSystem.realPath(makeTempDir("resv")) ?? makeTempDir("resv")
        home = base + "/home"
        store = home + "/.claude/session-bridge"
        project = home + "/work/proj"
        outside = home + "/work/other"
        let fm = FileManager.default
        for d in [store, project + "/.git", project + "/src/api", project + "/src/ui", project + "/docs", outside] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: store)
        var config = "[core]\n\tbare = false\n"
        if let remote { config += "[remote \"origin\"]\n\turl = \(remote)\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n" }
        try config.write(toFile: project + "/.git/config", atomically: true, encoding: .utf8)
        try "let x = 1\n".write(toFile: project + "/src/api/client.swift", atomically: true, encoding: .utf8)
        try "ui\n".write(toFile: project + "/src/ui/view.swift", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: project + "/api-link", withDestinationPath: project + "/src/api")
        a = try Bridge.open(environment: Environment(["HOME": home, "SESSION_BRIDGE_HOME": store, "SESSION_BRIDGE_SESSION": "key-a"]))
        b = try Bridge.open(environment: Environment(["HOME": home, "SESSION_BRIDGE_HOME": store, "SESSION_BRIDGE_SESSION": "key-b"]))
        _ = try a.sessions.start(name: "alice", projectPath: project)
        _ = try b.sessions.start(name: "bob", projectPath: project)
    }

    var aID: String { a.sessions.currentSession()!.id }
    var bID: String { b.sessions.currentSession()!.id }

    func environment(as key: String) -> Environment {
        Environment(["HOME": home, "SESSION_BRIDGE_HOME": store, "SESSION_BRIDGE_SESSION": key, "USER": "dev"])
    }

    func hook(_ tool: String, _ input: [String: Any], cwd: String? = nil) throws -> [UInt8] {
        let object: [String: Any] = ["session_id": "s-1", "cwd": cwd ?? project, "hook_event_name": "PreToolUse",
                                     "tool_name": tool, "tool_input": input]
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    func verdict(_ tool: String, _ input: [String: Any], as key: String = "key-b", cwd: String? = nil) throws -> Guard.Verdict {
        Guard.evaluate(input: try hook(tool, input, cwd: cwd), environment: environment(as: key))
    }

    func bash(_ command: String, as key: String = "key-b", cwd: String? = nil) throws -> Guard.Verdict {
        try verdict("Bash", ["command": command], as: key, cwd: cwd)
    }

    @discardableResult
    func reserve(_ bridge: Bridge, _ paths: [String], shared: Bool = false, ttl: Int = 1800, reason: String? = nil) throws -> Reservations.ReserveResult {
        try bridge.reservations.reserve(paths, request: Reservations.Request(ttlSeconds: ttl, reason: reason, shared: shared), cwd: project)
    }

    /// Makes a session look stale: its process gone and not seen for ten minutes.
    func makeStale(_ id: String) throws {
        let layout = StoreLayout(root: store)
        let data = try Data(contentsOf: URL(fileURLWithPath: layout.manifest(id)))
        var m = try JSONDecoder().decode(SessionManifest.self, from: data)
        m.pid = 999_999_999
        m.pidStartTime = 1
        try Data(JSONCoding.encode(m)).write(to: URL(fileURLWithPath: layout.manifest(id)))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -600)], ofItemAtPath: layout.heartbeat(id))
    }
}

func isReservationDeny(_ v: Guard.Verdict) -> Bool {
    if case .deny(let r) = v { return r.hasPrefix("session-bridge reservation:") }
    return false
}

@Suite struct ReservationGlobTests {
    @Test func coversPathsAndEverythingBeneath() {
        let cases: [(String, String, Bool)] = [
            ("src/api", "src/api", true), ("src/api", "src/api/client.swift", true), ("src/api", "src/api/deep/x/y", true),
            ("src/api", "src/apix", false), ("src/api", "src", false), ("src/api", "other/src/api", false),
            ("src/*.swift", "src/a.swift", true), ("src/*.swift", "src/sub/a.swift", false), ("src/*.swift", "src/a.py", false),
            ("src/**/*.swift", "src/a.swift", true), ("src/**/*.swift", "src/x/y/z/a.swift", true), ("src/**/*.swift", "lib/a.swift", false),
            ("**/*.md", "README.md", true), ("**/*.md", "docs/a/b.md", true), ("**/*.md", "docs/a/b.txt", false),
            ("**", "", true), ("**", "anything/at/all", true), ("src/**", "src", true), ("src/**", "srcx", false),
            ("src/*", "src/.env", true), ("src/?.c", "src/a.c", true), ("src/?.c", "src/ab.c", false),
            ("src/[ab].c", "src/b.c", true), ("src/[ab].c", "src/c.c", false), ("a/**/b/**/c", "a/x/b/y/c/d", true),
            ("a/**/b/**/c", "a/x/c", false),
        ]
        for (pattern, path, expected) in cases {
            #expect(ReservationGlob(pattern).covers(path) == expected, "\(pattern) covers \(path)")
        }
    }

    @Test func literalPathsAreNames() {
        // A written path with glob characters is a name, not a pattern.
        #expect(ReservationGlob("src/a*").covers("src/a*"))
        #expect(!ReservationGlob("src/ab").overlaps(ReservationGlob(path: "src/a*")))
        #expect(ReservationGlob("src/a*").overlaps(ReservationGlob(path: "src/ab")))
    }

    @Test func overlapIsSymmetricAndMatchesCoverage() {
        let cases: [(String, String, Bool)] = [
            ("src/api", "src/api/client.swift", true), ("src/api", "src", true), ("src/api", "src/ui", false),
            ("src/**/*.swift", "src/api", true), ("src/*.swift", "src/*.py", false), ("src/*.swift", "src/main*", true),
            ("**", "x", true), ("docs/**", "src/**", false), ("a*/b", "ab/c", false), ("*/b", "a/b/c", true),
            ("src/**/test_*.py", "src/**/*.py", true), ("src/**/test_*.py", "docs/**/*.swift", false),
            // A folder named x.swift may hold test_a.py: both cover src/x.swift/test_a.py.
            ("src/**/test_*.py", "src/**/*.swift", true),
        ]
        for (x, y, expected) in cases {
            #expect(ReservationGlob(x).overlaps(ReservationGlob(y)) == expected, "\(x) overlaps \(y)")
            #expect(ReservationGlob(y).overlaps(ReservationGlob(x)) == expected, "\(y) overlaps \(x)")
        }
    }

    /// Property: whenever some path is covered by both patterns, they overlap (overlap is never too optimistic).
    @Test func overlapNeverMissesASharedPath() {
        let patterns = ["src", "src/api", "src/*", "src/**/*.swift", "**/*.md", "*.swift", "src/a*", "src/*i", "docs/**", "**", "s*/api"]
        let paths = ["src", "src/api", "src/api/c.swift", "src/a.swift", "README.md", "src/x.md", "docs/a.md", "a.swift", "src/ai", "sx/api"]
        for x in patterns {
            for y in patterns {
                let shared = paths.contains { ReservationGlob(x).covers($0) && ReservationGlob(y).covers($0) }
                if shared { #expect(ReservationGlob(x).overlaps(ReservationGlob(y)), "\(x) / \(y)") }
            }
        }
    }

    @Test func remoteURLsOfOneRepositoryAgree() {
        let spellings = ["git@github.com:acme/proj.git", "https://github.com/acme/proj", "https://user@GitHub.com/acme/proj.git/",
                         "ssh://git@github.com:22/acme/proj.git", "ssh://github.com/acme/proj", "git://github.com/acme/proj.git"]
        for s in spellings { #expect(ReservationProject.normalizedRemote(s) == "github.com/acme/proj", "\(s)") }
        #expect(ReservationProject.normalizedRemote("git@github.com:acme/other.git") != "github.com/acme/proj")
        #expect(ReservationProject.normalizedRemote("/srv/git/proj.git") == "/srv/git/proj")
    }
}

@Suite struct ReservationModelTests {
    @Test func targetsAreRealPathsRelativeToTheRoot() throws {
        let w = try ReservationWorld()
        func t(_ arg: String, cwd: String? = nil) throws -> String {
            try Reservations.target(arg, cwd: cwd ?? w.project, home: w.home, host: "h").pattern
        }
        #expect(try t("src/api/") == "src/api")
        #expect(try t("./src//api") == "src/api")
        #expect(try t("api-link") == "src/api")                       // a symlink is reserved where it points
        #expect(try t("api-link/client.swift") == "src/api/client.swift")
        #expect(try t("docs/../src/api") == "src/api")
        #expect(try t("api", cwd: w.project + "/src") == "src/api")    // from a subfolder
        #expect(try t("../src/api", cwd: w.project + "/docs") == "src/api")
        #expect(try t(w.project + "/src/api") == "src/api")
        #expect(try t("~/work/proj/src/api") == "src/api")
        #expect(try t("src/**/*.swift") == "src/**/*.swift")
        #expect(try t("src/**/**/x") == "src/**/x")
        #expect(try t("src/**") == "src")
        #expect(try t(".") == "**")
        #expect(try t("not/yet/there.swift") == "not/yet/there.swift")
        let project = try Reservations.target("src", cwd: w.project, home: w.home, host: "h").project
        #expect(project.id == "git:github.com/acme/proj")
        #expect(project.root == w.project)
        for bad in ["", "src/*/../x", "a\u{1}b", String(repeating: "x", count: 2000)] {
            #expect(throws: BridgeError.self) { try t(bad) }
        }
    }

    @Test func withoutARemoteTheProjectIsTheRootOnThisHost() throws {
        let w = try ReservationWorld(remote: nil)
        let p = try Reservations.target("src", cwd: w.project, home: w.home, host: "hostx").project
        #expect(p.id == "dir:hostx:\(w.project)")
        // Outside git: the folder reserved from.
        let o = try Reservations.target("x/y", cwd: w.outside, home: w.home, host: "hostx")
        #expect(o.project.root == w.outside && o.pattern == "x/y")
    }

    @Test func exclusiveConflictsAndSharedCoexist() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api"], reason: "refactor")
        #expect(throws: BridgeError.self) { try w.reserve(w.b, ["src/api/client.swift"]) }
        #expect(throws: BridgeError.self) { try w.reserve(w.b, ["src"], shared: true) }
        #expect(throws: BridgeError.self) { try w.reserve(w.b, ["src/**/*.swift"]) }
        do {
            try w.reserve(w.b, ["src/api/x"])
            Issue.record("expected a conflict")
        } catch let error as BridgeError {
            #expect(error.exitCode == 12)
            #expect(error.message.contains("alice") && error.message.contains(w.aID) && error.message.contains("refactor"))
            #expect(error.message.contains("ask \(w.aID) "))
        }
        try w.reserve(w.b, ["src/ui", "docs"])                     // disjoint: fine
        try w.reserve(w.a, ["src/api/client.swift"])                // the holder itself: fine
        try w.reserve(w.a, ["lib"], shared: true)
        try w.reserve(w.b, ["lib/**"], shared: true)                // shared coexist
        #expect(throws: BridgeError.self) { try w.reserve(w.b, ["lib/x"]) }   // exclusive against shared
        let rows = w.b.reservations.listReservations(all: false, cwd: w.project)
        #expect(Set(rows.map(\.pattern)) == ["src/api", "src/api/client.swift", "src/ui", "docs", "lib"])
        #expect(rows.filter(\.you).count == 3)
    }

    @Test func aFailedReserveTakesNothing() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api"])
        #expect(throws: BridgeError.self) { try w.reserve(w.b, ["docs", "src/api/x"]) }
        #expect(!w.b.reservations.listReservations(all: true).contains { $0.holder == w.bID })
    }

    @Test func releaseByPatternByPathAndAll() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api", "src/ui/view.swift", "docs", "src/**/*.md"])
        #expect(try w.a.reservations.release(["src/api/"], everywhere: false, cwd: w.project).map(\.pattern) == ["src/api"])
        #expect(try w.b.reservations.release(["docs"], everywhere: false, cwd: w.project).isEmpty)       // not B's
        #expect(try w.a.reservations.release(["src"], everywhere: false, cwd: w.project).map(\.pattern).sorted() == ["src/**/*.md", "src/ui/view.swift"])
        #expect(try w.a.reservations.release([], everywhere: false, cwd: w.project + "/docs").map(\.pattern) == ["docs"])
        #expect(w.a.reservations.listReservations(all: true).isEmpty)
        #expect(!FileSystem.exists(w.store + "/reservations/" + ReservationProject.key("git:github.com/acme/proj") + ".json"))
    }

    @Test func stopReleasesEverything() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api"])
        _ = try w.a.reservations.reserve(["x"], request: .init(), cwd: w.outside)
        _ = try w.a.sessions.stop()
        #expect(w.b.reservations.listReservations(all: true).isEmpty)
        try w.reserve(w.b, ["src/api"])
    }

    @Test func expiredAndStaleHoldersNoLongerHold() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api"], ttl: 1)
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try w.bash("echo x > src/api/client.swift") == .allow)
        #expect(w.b.reservations.listReservations(all: false, cwd: w.project).isEmpty)
        #expect(w.b.reservations.listReservations(all: true).first?.state == "expired")
        try w.reserve(w.b, ["src/api"])                                   // takes over the expired one
        #expect(w.b.reservations.listReservations(all: true).map(\.holder) == [w.bID])

        try w.reserve(w.a, ["docs"])
        try w.makeStale(w.aID)
        #expect(try w.bash("echo x > docs/a.md") == .allow)
        #expect(w.b.reservations.listReservations(all: true).first { $0.pattern == "docs" }?.state == "stale")
        let report = Doctor.checkReservations(try FileStore(root: w.store), fix: false)
        #expect(report.contains { $0.subject.hasSuffix("docs") && $0.problem.contains("process is gone") && !$0.repaired })
        let fixed = Doctor.checkReservations(try FileStore(root: w.store), fix: true)
        #expect(fixed.allSatisfy(\.repaired) && !fixed.isEmpty)
        #expect(Doctor.checkReservations(try FileStore(root: w.store), fix: false).isEmpty)
        #expect(w.b.reservations.listReservations(all: true).map(\.pattern) == ["src/api"])
    }

    @Test func doctorRemovesADamagedRecord() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api"])
        let file = w.store + "/reservations/" + ReservationProject.key("git:github.com/acme/proj") + ".json"
        try "{not json".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: BridgeError.self) { try w.reserve(w.b, ["docs"]) }
        #expect(try w.bash("echo x > src/api/client.swift") == .allow)      // cannot be enforced; doctor says so
        #expect(Doctor.checkReservations(try FileStore(root: w.store), fix: false).contains { $0.problem.contains("cannot be read") })
        _ = Doctor.checkReservations(try FileStore(root: w.store), fix: true)
        try w.reserve(w.b, ["docs"])
    }
}

@Suite struct ReservationGuardTests {
    @Test func fileToolsOnReservedPathsAreDeniedWithTheHolderAndTheAskCommand() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api/"], reason: "reworking the client")
        let inputs: [(String, [String: Any])] = [
            ("Write", ["file_path": "src/api/client.swift", "content": "x"]),
            ("Edit", ["file_path": w.project + "/src/api/client.swift", "old_string": "1", "new_string": "2"]),
            ("MultiEdit", ["file_path": "src/api/new.swift", "edits": []]),
            ("NotebookEdit", ["notebook_path": "src/api/n.ipynb", "new_source": "x"]),
            ("Write", ["file_path": "api-link/client.swift", "content": "x"]),
            ("Write", ["file_path": "docs/../src/api/client.swift", "content": "x"]),
            ("Write", ["file_path": "~/work/proj/src/api/z.swift", "content": "x"]),
            ("apply_patch", ["command": "*** Begin Patch\n*** Update File: src/api/client.swift\n@@\n-a\n+b\n*** End Patch\n"]),
            ("apply_patch", ["command": "*** Begin Patch\n*** Add File: docs/a.md\n+x\n*** Add File: src/api/b.swift\n+x\n*** End Patch\n"]),
        ]
        for (tool, input) in inputs {
            let v = try w.verdict(tool, input)
            #expect(isReservationDeny(v), "\(tool) \(input)")
            guard case .deny(let reason) = v else { continue }
            #expect(reason.contains("alice") && reason.contains(w.aID) && reason.contains("claude-code") == false)
            #expect(reason.contains("reworking the client") && reason.contains(" until ") && reason.contains(" since "))
            #expect(reason.contains("session-bridge ask \(w.aID) '"), "\(reason)")
        }
        // The holder is never blocked; unreserved paths and reads are free.
        for (tool, input) in inputs { #expect(try w.verdict(tool, input, as: "key-a") == .allow) }
        #expect(try w.verdict("Write", ["file_path": "src/ui/view.swift", "content": "x"]) == .allow)
        #expect(try w.verdict("Write", ["file_path": "src/apix/x", "content": "x"]) == .allow)
        #expect(try w.bash("cat src/api/client.swift; grep -r x src/api; ls api-link") == .allow)
        // A session with no bridge session at all is another session too.
        #expect(isReservationDeny(try w.bash("touch src/api/x", as: "no-such-session")))
    }

    @Test func sharedReservationsStopNoEdit() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api"], shared: true)
        #expect(try w.bash("echo x > src/api/client.swift") == .allow)
    }

    @Test func treeWritesAboveAReservationAreDenied() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api/*.swift"])
        for c in ["rm -rf src", "mv src /tmp/old", "find src -delete", "rsync -a --delete /tmp/x/ src/", "tar -xf /tmp/a.tar -C src"] {
            #expect(isReservationDeny(try w.bash(c)), "\(c)")
        }
        // Removing the project itself: denied (the store guard already stops it, for the talks folder it holds).
        for c in ["rm -r " + w.project, "cd .. && rm -rf proj"] { #expect(try w.bash(c) != .allow, "\(c)") }
        #expect(try w.bash("rm -rf src/ui docs") == .allow)
        #expect(try w.bash("echo x > src/api/readme.md") == .allow)    // not matched by *.swift
    }

    /// The class test: every write the store guard denies when aimed at a talks folder, the reservation guard
    /// denies when aimed at a reserved folder (by path, through a symlink, after `cd`, in `sh -c`, in inline code …);
    /// every read it allows stays allowed; the same command aimed at an unreserved folder is not stopped.
    @Test func everyWriterClassOfTheGuardCorpus() throws {
        let w = try ReservationWorld()
        try FileManager.default.createDirectory(atPath: w.project + "/free", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: w.project + "/notes-link", withDestinationPath: w.project + "/src/api")
        try w.reserve(w.a, ["src/api"])
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/guard-corpus.json")
        let corpus = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
        var checked = (deny: 0, allow: 0)
        for entry in corpus where (entry["tool"] as? String) == "Bash" && entry["cwd"] == nil {
            guard let command = (entry["input"] as? [String: Any])?["command"] as? String, command.contains(".talks"),
                  !command.contains("session-bridge"), !command.contains("{OTHER}"), !command.contains(".talks/config.yaml") else { continue }
            func aimed(_ folder: String) -> String {
                command.replacing(".talks/conversations", with: folder).replacing(".talks", with: folder).replacing("{PROJECT}", with: w.project)
            }
            let reserved = aimed("src/api"), free = aimed("free")
            if entry["expect"] as? String == "deny" {
                #expect(isReservationDeny(try w.bash(reserved)), "\(reserved)")
                #expect(!isReservationDeny(try w.bash(free)), "\(free)")
                #expect(try w.bash(reserved, as: "key-a") == w.bash(free, as: "key-a"), "holder: \(reserved)")
                checked.deny += 1
            } else {
                #expect(!isReservationDeny(try w.bash(reserved)), "\(reserved)")
                checked.allow += 1
            }
        }
        #expect(checked.deny >= 50 && checked.allow >= 15, "\(checked)")
    }

    @Test func gitRestoringTrackedReservedFilesIsDenied() throws {
        let w = try ReservationWorld()
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.currentDirectoryURL = URL(fileURLWithPath: w.project)
        git.arguments = ["-c", "user.email=t@t", "-c", "user.name=t", "add", "-A"]
        git.standardOutput = FileHandle.nullDevice
        git.standardError = FileHandle.nullDevice
        try? FileManager.default.removeItem(atPath: w.project + "/.git")
        let initGit = Process()
        initGit.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        initGit.currentDirectoryURL = URL(fileURLWithPath: w.project)
        initGit.arguments = ["init", "-q"]
        try initGit.run(); initGit.waitUntilExit()
        try git.run(); git.waitUntilExit()
        try w.reserve(w.a, ["src/api"])
        for c in ["git checkout -- .", "git restore .", "git stash", "git reset --hard", "git checkout -- src"] {
            #expect(isReservationDeny(try w.bash(c)), "\(c)")
        }
        #expect(try w.bash("git status && git diff") == .allow)
    }

    @Test func theHolderRenewsByWorkingThere() throws {
        let w = try ReservationWorld()
        try w.reserve(w.a, ["src/api"], ttl: 120)
        let before = try #require(w.a.reservations.listReservations(all: true).first?.until)
        // Within the first minute nothing is rewritten; after it, an edit there renews to a full TTL.
        #expect(try w.bash("echo x > src/api/client.swift", as: "key-a") == .allow)
        #expect(w.a.reservations.listReservations(all: true).first?.until == before)
        let file = w.store + "/reservations/" + ReservationProject.key("git:github.com/acme/proj") + ".json"
        var text = try String(contentsOfFile: file, encoding: .utf8)
        let earlier = Clock.iso8601(nanoseconds: Clock.nowNanoseconds() + 30 * 1_000_000_000)
        text = text.replacing(before, with: earlier)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try w.verdict("Edit", ["file_path": "src/api/client.swift"], as: "key-a") == .allow)
        let after = try #require(Clock.parseISO8601(w.a.reservations.listReservations(all: true).first?.until ?? ""))
        #expect(after > Clock.nowNanoseconds() + 100 * 1_000_000_000)
        // Another session's denied attempts renew nothing.
        #expect(isReservationDeny(try w.verdict("Edit", ["file_path": "src/api/client.swift"])))
    }

    @Test func folderProjectsOutsideGit() throws {
        let w = try ReservationWorld()
        try FileManager.default.createDirectory(atPath: w.outside + "/lib/core", withIntermediateDirectories: true)
        _ = try w.a.reservations.reserve(["lib/core"], request: .init(), cwd: w.outside)
        #expect(isReservationDeny(try w.bash("touch lib/core/x", cwd: w.outside)))
        #expect(isReservationDeny(try w.bash("touch core/x", cwd: w.outside + "/lib")))
        #expect(isReservationDeny(try w.bash("touch " + w.outside + "/lib/core/x")))   // from another project
        #expect(try w.bash("touch lib/x", cwd: w.outside) == .allow)
        #expect(w.b.reservations.listReservations(all: false, cwd: w.outside + "/lib").count == 1)
    }

    @Test func anotherCloneOfTheSameRepositoryIsTheSameProject() throws {
        let w = try ReservationWorld()
        let clone = w.home + "/elsewhere/proj-clone"
        try FileManager.default.createDirectory(atPath: clone + "/.git", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: clone + "/src/api", withIntermediateDirectories: true)
        try "[remote \"origin\"]\n\turl = https://github.com/acme/proj.git\n".write(toFile: clone + "/.git/config", atomically: true, encoding: .utf8)
        try w.reserve(w.a, ["src/api"])
        #expect(isReservationDeny(try w.bash("echo x > src/api/client.swift", cwd: clone)))
        #expect(try w.bash("echo x > src/ui/a.swift", cwd: clone) == .allow)
    }
}

/// Random and hostile input for every parser of this feature: globs, remote URLs, git config files, stored records.
@Suite struct ReservationFuzzTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }
    }

    static let pieces = ["src", "api", "*", "**", "?", "[a-c]", "[", "]", "\\", ".", "..", "x.swift", "*.swift", "a*b", "", "é", "\u{0}", "\n"]

    func randomPattern(_ r: inout Rng) -> String {
        (0..<Int(r.next() % 7)).map { _ in r.pick(Self.pieces) }.joined(separator: "/")
    }

    /// Coverage implies overlap with the path, and overlap is symmetric, for any patterns.
    @Test func globPropertiesHoldForRandomPatterns() {
        var r = Rng(state: 16)
        for _ in 0..<3000 {
            let x = randomPattern(&r), y = randomPattern(&r)
            let path = (0..<Int(r.next() % 6)).map { _ in r.pick(["src", "api", "x.swift", "ab", "a-b", ".env", "é"]) }.joined(separator: "/")
            let gx = ReservationGlob(x), gy = ReservationGlob(y)
            if gx.covers(path) { #expect(gx.overlaps(ReservationGlob(path: path)), "\(x) covers \(path)") }
            #expect(gx.overlaps(gy) == gy.overlaps(gx), "\(x) / \(y)")
            if gx.covers(path) && gy.covers(path) { #expect(gx.overlaps(gy), "\(x) / \(y) share \(path)") }
        }
        // Many ** stay fast (memoized).
        let deep = ReservationGlob(Array(repeating: "**", count: 60).joined(separator: "/") + "/x")
        #expect(!deep.covers(Array(repeating: "a", count: 200).joined(separator: "/")))
        #expect(deep.overlaps(ReservationGlob(Array(repeating: "**/a", count: 60).joined(separator: "/"))))
    }

    @Test func remoteURLsAndGitConfigsNeverTrap() throws {
        var r = Rng(state: 7)
        let parts = ["git@", "https://", "ssh://", "host", ":", "/", "22", "owner", "repo", ".git", "@", " ", "\"", "\\", "é", "::", "//"]
        for _ in 0..<2000 { _ = ReservationProject.normalizedRemote((0..<Int(r.next() % 9)).map { _ in r.pick(parts) }.joined()) }
        let dir = makeTempDir("gitcfg")
        try FileManager.default.createDirectory(atPath: dir + "/.git", withIntermediateDirectories: true)
        let lines = ["[remote \"origin\"]", "[remote", "url", "url =", "url = x", "\turl = \"q\"", "[core]", "=", "url=\"", "[remote \"a\"]\nurl = b"]
        for _ in 0..<300 {
            try (0..<Int(r.next() % 6)).map { _ in r.pick(lines) }.joined(separator: "\n").write(toFile: dir + "/.git/config", atomically: true, encoding: .utf8)
            _ = ReservationProject.of(dir, fallbackRoot: dir, host: "h")
        }
        // A .git file pointing anywhere, or at itself.
        try FileManager.default.removeItem(atPath: dir + "/.git")
        for target in ["gitdir: /nonexistent", "gitdir: .", "gitdir:", "nonsense", "gitdir: ../../../../../../etc"] {
            try target.write(toFile: dir + "/.git", atomically: true, encoding: .utf8)
            _ = ReservationProject.of(dir, fallbackRoot: dir, host: "h")
        }
    }

    /// A record written by hand (the guard stops that, but a store may be damaged): the guard and the listing
    /// never trap, and what they print has no control characters.
    @Test func hostileRecordsNeverTrap() throws {
        let w = try ReservationWorld()
        let id = "git:github.com/acme/proj"
        let folder = w.store + "/reservations"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = folder + "/" + ReservationProject.key(id) + ".json"
        var r = Rng(state: 99)
        let hostile = ["\u{1b}[2J", "\n", String(repeating: "x", count: 5000), "", "../../etc", "**", "*", "src/api", "\u{0}"]
        for round in 0..<60 {
            var list: [Reservation] = []
            for _ in 0..<Int(r.next() % 5 + 1) {
                list.append(Reservation(pattern: r.pick(hostile), shared: r.next() % 2 == 0, holder: r.pick([w.aID, "nonexist", "../x", ""]),
                                        holderName: r.pick(hostile), agent: r.pick(hostile), host: r.pick(["vm", ""]), root: r.pick([w.project, "/", ""]),
                                        reason: r.pick(hostile), since: r.pick(["", "2026-01-01T00:00:00.000Z", "junk"]),
                                        until: r.pick(["", "2999-01-01T00:00:00.000Z", "junk"]), ttlSeconds: r.pick([0, -1, Int.max, 60])))
            }
            let project = round % 7 == 0 ? "another project" : id
            try Data(JSONCoding.encode(ReservationRecord(project: project, reservations: list))).write(to: URL(fileURLWithPath: file))
            for command in ["echo x > src/api/client.swift", "rm -rf src", "python3 -c \"open('src/api/x','w')\""] {
                if case .deny(let reason) = try w.bash(command) {
                    #expect(!reason.unicodeScalars.contains { $0.value < 32 }, "\(reason)")
                }
                _ = try w.bash(command, as: "key-a")
            }
            for row in w.b.reservations.listReservations(all: true) { #expect(!ReservationText.table([row], all: true).unicodeScalars.contains { $0.value < 32 && $0 != "\n" }) }
        }
        for junk in ["", "{", "[]", "{\"schema\":2,\"project\":\"x\",\"reservations\":[]}", String(repeating: "[", count: 100_000)] {
            try junk.write(toFile: file, atomically: true, encoding: .utf8)
            _ = try w.bash("echo x > src/api/client.swift")
            _ = w.b.reservations.listReservations(all: true)
        }
    }
}
