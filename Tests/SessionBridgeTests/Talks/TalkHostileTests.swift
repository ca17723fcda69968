import Foundation
import Testing
@testable import SessionBridge

/// Hostile entries planted in a talks folder (which may be shared): FIFOs and symlinks where the talk, its .bak,
/// audit.log or its lock belong. Nothing hangs, nothing is followed, nothing is written through a link.
@Suite(.serialized) struct TalkHostileTests {
    struct Setup {
        var dir: String
        var tdir: String
        var id: String
        var conversations: String { tdir + "/conversations" }
    }

    func setUp(_ label: String, config: String? = nil) throws -> Setup {
        let dir = makeTempDir(label)
        let tdir = dir + "/.talks"
        if let config {
            try FileManager.default.createDirectory(atPath: tdir, withIntermediateDirectories: true)
            try config.write(toFile: tdir + "/config.yaml", atomically: false, encoding: .utf8)
        }
        let new = try CLI.run(["talk", "new", "Hostile", "--with", "b", "--as", "a", "--dir", tdir], root: dir + "/store", key: nil)
        #expect(new.status == 0, "\(new.stderr)")
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        #expect(try CLI.run(["talk", "say", id, "one", "--as", "a", "--dir", tdir], root: dir + "/store", key: nil).status == 0)
        return Setup(dir: dir, tdir: tdir, id: id)
    }

    /// Runs the binary and kills it past `seconds`: nil means it hung.
    func bounded(_ s: Setup, _ args: [String], seconds: Double = 10) throws -> Run? {
        let handle = try CLI.start(args + ["--dir", s.tdir], root: s.dir + "/store", key: nil)
        let deadline = Date().addingTimeInterval(seconds)
        while handle.0.isRunning && Date() < deadline { usleep(10_000) }
        if handle.0.isRunning {
            kill(handle.0.processIdentifier, SIGKILL)
            _ = CLI.finish(handle)
            return nil
        }
        return CLI.finish(handle)
    }

    /// A victim file outside the talks folder that a planted link points at.
    func victim(_ s: Setup) throws -> (path: String, content: String) {
        let path = s.dir + "/victim.txt"
        let content = "the user's file\n"
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        return (path, content)
    }

    @Test func fifoNamedLikeATalkNeverHangsAnyCommand() throws {
        let s = try setUp("hostfifo")
        let fifo = s.conversations + "/fifo-talk-1.md"
        #expect(mkfifo(fifo, 0o600) == 0)
        let list = try #require(try bounded(s, ["talk", "list"]))
        #expect(list.status == 0 && list.stdout.contains(s.id) && list.stderr.contains("fifo-talk-1"), "\(list)")
        for args in [["talk", "show", "fifo-talk-1"], ["talk", "say", "fifo-talk-1", "x", "--as", "a"], ["talk", "normalize", "fifo-talk-1"],
                     ["talk", "resolve", "fifo-talk-1", "--as", "a"]] {
            let r = try #require(try bounded(s, args), "\(args) hung")
            #expect(r.status != 0 && r.stderr.contains("not a regular file"), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
        let wait = try #require(try bounded(s, ["talk", "wait", "fifo-talk-1", "--as", "a", "--timeout", "1"]))
        #expect(wait.status == 10, "\(wait.stderr)")
        for fix in [false, true] {
            let r = try #require(try bounded(s, ["doctor"] + (fix ? ["--fix"] : [])), "doctor hung")
            #expect(r.status == 13 && r.stdout.contains("fifo-talk-1.md is a FIFO"), "\(r.stdout)")
        }
        #expect(TalkStorage.kind(fifo) == "FIFO")   // not ours: left alone
        #expect(try CLI.run(["talk", "say", s.id, "two", "--as", "b", "--dir", s.tdir], root: s.dir + "/store", key: nil).status == 0)
    }

    @Test func fifoAsBakOrAuditLogNeverHangs() throws {
        let s = try setUp("hostfifo2")
        let bak = s.conversations + "/\(s.id).md.bak"
        let audit = s.tdir + "/audit.log"
        try FileManager.default.removeItem(atPath: bak)
        try FileManager.default.removeItem(atPath: audit)
        #expect(mkfifo(bak, 0o600) == 0 && mkfifo(audit, 0o600) == 0)
        for fix in [false, true] {
            let r = try #require(try bounded(s, ["doctor"] + (fix ? ["--fix"] : [])), "doctor hung")
            #expect(r.status == 13 && r.stdout.contains("audit.log: is a FIFO") && r.stdout.contains(".md.bak is a FIFO"), "\(r.stdout)")
        }
        for args in [["talk", "show", s.id], ["talk", "list"], ["talk", "wait", s.id, "--as", "b", "--timeout", "1"],
                     ["talk", "say", s.id, "two", "--as", "b"], ["talk", "normalize", s.id]] {
            let r = try #require(try bounded(s, args), "\(args) hung")
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        #expect(TalkStorage.kind(audit) == "FIFO")
        #expect(TalkStorage.kind(bak) == "file")   // the next backup replaced the FIFO (rename, never an open)
    }

    @Test func plantedSymlinksAreNeverFollowedOrWrittenThrough() throws {
        let s = try setUp("hostlink")
        let v = try victim(s)
        let audit = s.tdir + "/audit.log"
        let bak = s.conversations + "/\(s.id).md.bak"
        try FileManager.default.removeItem(atPath: audit)
        try FileManager.default.removeItem(atPath: bak)
        try FileManager.default.createSymbolicLink(atPath: audit, withDestinationPath: v.path)
        try FileManager.default.createSymbolicLink(atPath: bak, withDestinationPath: v.path)
        let say = try #require(try bounded(s, ["talk", "say", s.id, "two", "--as", "b"]))
        #expect(say.status == 0, "\(say.stderr)")
        #expect(try String(contentsOfFile: v.path, encoding: .utf8) == v.content)
        #expect(TalkStorage.kind(audit) == "symlink")
        let doctor = try #require(try bounded(s, ["doctor", "--fix"]))
        #expect(doctor.status == 13 && doctor.stdout.contains("audit.log: is a symlink"), "\(doctor.stdout)")
        #expect(try String(contentsOfFile: v.path, encoding: .utf8) == v.content)

        // A link where the lock belongs: the say is refused, the victim untouched.
        let lock = s.tdir + "/locks/\(s.id).lock"
        try? FileManager.default.removeItem(atPath: lock)
        try FileManager.default.createSymbolicLink(atPath: lock, withDestinationPath: v.path)
        let locked = try #require(try bounded(s, ["talk", "say", s.id, "three", "--as", "a"]))
        #expect(locked.status != 0 && locked.stderr.contains("symlink"), "\(locked.stderr)")
        #expect(try String(contentsOfFile: v.path, encoding: .utf8) == v.content)
        let lockDoctor = try #require(try bounded(s, ["doctor", "--fix"]))
        #expect(lockDoctor.stdout.contains("lock \(s.id).lock: is a symlink"), "\(lockDoctor.stdout)")

        // A link in place of the talk itself: never read through, never replaced by a write through it.
        try FileManager.default.removeItem(atPath: lock)
        let talk = s.conversations + "/\(s.id).md"
        try FileManager.default.moveItem(atPath: talk, toPath: s.dir + "/moved.md")
        try FileManager.default.createSymbolicLink(atPath: talk, withDestinationPath: s.dir + "/moved.md")
        let moved = try String(contentsOfFile: s.dir + "/moved.md", encoding: .utf8)
        for args in [["talk", "say", s.id, "three", "--as", "a"], ["talk", "show", s.id], ["doctor", "--fix"]] {
            let r = try #require(try bounded(s, args), "\(args) hung")
            #expect(r.status != 0, "\(args)")
        }
        #expect(try String(contentsOfFile: s.dir + "/moved.md", encoding: .utf8) == moved)
    }

    /// With lock files (`lock_strategy: lockfile`), a planted link or FIFO at the lock path is broken as a stale
    /// lock (renamed away, never opened) and the say goes on; the victim is untouched.
    @Test func lockFileStrategyBreaksPlantedEntriesWithoutFollowing() throws {
        let s = try setUp("hostlockfile", config: "lock_strategy: lockfile\n")
        let v = try victim(s)
        let lock = s.tdir + "/locks/\(s.id).lock"
        try FileManager.default.createSymbolicLink(atPath: lock, withDestinationPath: v.path)
        let r = try #require(try bounded(s, ["talk", "say", s.id, "two", "--as", "b"]))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: v.path, encoding: .utf8) == v.content)
        #expect(mkfifo(lock, 0o600) == 0)
        let r2 = try #require(try bounded(s, ["talk", "say", s.id, "three", "--as", "a"]))
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(TalkStorage.kind(lock) == nil)
    }

    /// `talk init` never replaces a .gitignore it cannot read as a file (a symlink into a dotfiles repository).
    @Test func initLeavesASymlinkedGitignoreAlone() throws {
        let dir = makeTempDir("hostignore")
        try "node_modules/\n".write(toFile: dir + "/real-gitignore", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/.gitignore", withDestinationPath: dir + "/real-gitignore")
        let r = try CLI.run(["talk", "init", "--dir", dir + "/.talks"], root: dir + "/store", key: nil)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(TalkStorage.kind(dir + "/.gitignore") == "symlink")
        #expect(try String(contentsOfFile: dir + "/real-gitignore", encoding: .utf8) == "node_modules/\n")
    }
}
