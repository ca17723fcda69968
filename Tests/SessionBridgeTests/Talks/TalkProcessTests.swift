import Foundation
import Testing
@testable import SessionBridge

/// Talks driven by the real binary in concurrent processes.
@Suite(.serialized) struct TalkProcessTests {
    func talk(_ dir: String, _ args: [String], stdin: Data? = nil) throws -> Run {
        try CLI.run(["talk"] + args + ["--dir", dir + "/.talks"], root: dir + "/store", key: nil, stdin: stdin)
    }

    /// 4 processes × 15 turns, each waiting its turn with `talk wait`: no lost or duplicated turn, doctor clean.
    @Test func concurrentSpeakersTakeTurns() throws {
        let dir = makeTempDir("talkproc")
        let speakers = ["s0", "s1", "s2", "s3"], perSpeaker = 15
        let new = try talk(dir, ["new", "Race", "--with", "s1,s2,s3", "--as", "s0", "--max-turns", "100"])
        #expect(new.status == 0, "\(new.stderr)")
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        var procs: [(Process, Pipe, Pipe)] = []
        for s in speakers {
            let script = """
            for i in $(seq 1 \(perSpeaker)); do
              "$BIN" talk wait \(id) --as \(s) --timeout 30 --dir "\(dir)/.talks" >/dev/null || exit 1
              "$BIN" talk say \(id) "\(s) turn $i" --as \(s) --dir "\(dir)/.talks" >/dev/null || exit 2
            done
            """
            procs.append(try Shell.start(script, root: dir + "/store", key: "unused-\(s)"))
        }
        for p in procs { #expect(CLI.finish(p).status == 0) }
        let show = try talk(dir, ["show", id, "--json"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        let turns = try #require(object["turns"] as? [[String: Any]])
        #expect(turns.count == speakers.count * perSpeaker)
        #expect(turns.enumerated().allSatisfy { $0.element["number"] as? Int == $0.offset + 1 })
        #expect(Set(turns.compactMap { $0["content"] as? String }).count == turns.count)
        #expect(Set(turns.compactMap { $0["nonce"] as? String }).count == turns.count)
        // Strict rotation s0, s1, s2, s3, s0, …
        #expect(turns.enumerated().allSatisfy { $0.element["speaker"] as? String == speakers[$0.offset % 4] })
        let doctor = try CLI.run(["doctor", "--dir", dir + "/.talks"], root: dir + "/store", key: nil)
        #expect(doctor.status == 0, "\(doctor.stdout)")
    }

    /// SIGKILL at random moments during `say`: the file is always the old or the new version, and doctor
    /// repairs everything left behind.
    @Test func killDuringSayNeverTearsTheTalk() throws {
        let dir = makeTempDir("talkkill")
        let id = String(try talk(dir, ["new", "Kill", "--with", "b", "--as", "a", "--max-turns", "1000"]).stdout.split(separator: "\n").last ?? "")
        let path = dir + "/.talks/conversations/\(id).md"
        var acknowledged = 0
        for trial in 0..<25 {
            let speaker = acknowledged % 2 == 0 ? "a" : "b"
            let before = try String(contentsOfFile: path, encoding: .utf8)
            let (p, out, _) = try CLI.start(["talk", "say", id, "trial \(trial)", "--as", speaker, "--dir", dir + "/.talks"], root: dir + "/store", key: nil)
            usleep(UInt32.random(in: 0...6000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            _ = out.fileHandleForReading.readDataToEndOfFile()
            let after = try String(contentsOfFile: path, encoding: .utf8)
            let parsed = try Conversation.parse(after).0
            if after != before {
                #expect(parsed.turns.count == acknowledged + 1, "trial \(trial)")
                acknowledged += 1
            } else {
                #expect(parsed.turns.count == acknowledged)
            }
        }
        let fix = try CLI.run(["doctor", "--fix", "--dir", dir + "/.talks"], root: dir + "/store", key: nil)
        #expect(fix.status == 0, "\(fix.stdout)\(fix.stderr)")
    }

    /// A read-only folder during `say`: as root, permissions do not stop writes, so the test remounts a tmpfs
    /// read-only (EROFS); as another user it drops the folder's write permission (EACCES).
    @Test func readOnlyFolderLeavesThePreviousVersion() throws {
        let root = getuid() == 0
        guard let dir = root ? TinyFileSystem.mount(size: "1m", label: "talkro") : makeTempDir("talkro") else {
            Issue.record("mount failed"); return
        }
        defer { if root { TinyFileSystem.unmount(dir) } }
        let id = String(try talk(dir, ["new", "RO", "--with", "b", "--as", "a"]).stdout.split(separator: "\n").last ?? "")
        let path = dir + "/.talks/conversations/\(id).md"
        let before = try String(contentsOfFile: path, encoding: .utf8)
        if root { #expect(TinyFileSystem.remountReadOnly(dir)) } else { chmod(dir + "/.talks/conversations", 0o500) }
        defer { if !root { chmod(dir + "/.talks/conversations", 0o700) } }
        let r = try talk(dir, ["say", id, "blocked write", "--as", "a"])
        #expect(r.status == 9, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("Read-only file system") || r.stderr.contains("Permission denied"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
    }

    @Test(.enabled(if: TinyFileSystem.available, "needs root to mount a tiny tmpfs")) func fullDiskDuringSayLeavesThePreviousVersion() throws {
        guard let mountPoint = TinyFileSystem.mount(size: "128k", label: "talkfull") else { Issue.record("mount failed"); return }
        defer { TinyFileSystem.unmount(mountPoint) }
        let id = String(try talk(mountPoint, ["new", "Full", "--with", "b", "--as", "a"]).stdout.split(separator: "\n").last ?? "")
        let path = mountPoint + "/.talks/conversations/\(id).md"
        let before = try String(contentsOfFile: path, encoding: .utf8)
        TinyFileSystem.fill(mountPoint)
        let r = try talk(mountPoint, ["say", id, "-", "--as", "a"], stdin: Data(String(repeating: "z", count: 60_000).utf8))
        #expect(r.status == 9, "\(r.stderr)")
        #expect(r.stderr.contains("No space left on device"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: mountPoint + "/.talks/conversations").filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    /// On the file engine the join line `talk new` prints names this machine's helper and the talks folder, and runs
    /// as printed for the peer, from any folder of this machine: the peer who speaks first is told it is its turn.
    @Test func joinLineOfAFileTalkRunsAsPrinted() throws {
        let dir = makeTempDir("talkjoin")
        let helper = HelperName.quoteAlways(CLI.binary)
        #expect(try CLI.run(["start", "--name", "b"], root: dir + "/store", key: "b-key").status == 0)
        let new = try CLI.run(["talk", "new", "Join", "--with", "b", "--as", "a", "--first", "b", "--dir", dir + "/.talks"],
                              root: dir + "/store", key: nil, extra: ["SESSION_BRIDGE_CLI": helper])
        #expect(new.status == 0, "\(new.stderr)")
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        let lead = "peers join with: "
        let line = try #require(new.stdout.split(separator: "\n").map(String.init).first { $0.hasPrefix(lead) }, "\(new.stdout)")
        let command = String(line.dropFirst(lead.count))
        #expect(command.hasPrefix(helper + " talk wait \(id) --dir ") && command.hasSuffix("/.talks"), "\(command)")
        let joined = try CLI.shell(command + " --timeout 5", root: dir + "/store", key: "b-key", cwd: "/")
        #expect(joined.status == 0 && joined.stdout.contains("your turn in talk \(id)"), "\(joined.stdout) \(joined.stderr)")
    }

    /// A talk kept outside the talks folder (here the in-memory engine) is not reached through this machine's folder
    /// or launcher: the join line names neither, only the helper as the peer names its own.
    @Test func joinLineOfATalkKeptElsewhereNamesNoFolderNorPath() throws {
        let dir = makeTempDir("talkjoin-memory")
        let new = try CLI.run(["talk", "new", "Join", "--with", "b", "--as", "a", "--dir", dir + "/.talks"], root: dir + "/store", key: nil,
                              extra: ["SESSION_BRIDGE_STORE": "memory:join", "SESSION_BRIDGE_CLI": "'/this/machine/session-bridge'"])
        #expect(new.status == 0, "\(new.stderr)")
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        #expect(new.stdout.contains("\npeers join with their own helper: session-bridge talk wait \(id)\n"), "\(new.stdout)")
        #expect(!new.stdout.contains("--dir") && !new.stdout.contains("/this/machine"), "\(new.stdout)")
    }

    @Test func talkCommandsPrintIdsAndExitCodes() throws {
        let dir = makeTempDir("talkcli")
        let new = try talk(dir, ["new", "Exit codes", "--with", "b", "--as", "a"])
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        #expect(Identifiers.isValidID(id))
        #expect(try talk(dir, ["say", id, "x", "--as", "b"]).status == 12)
        #expect(try talk(dir, ["say", "nope-123", "x", "--as", "a"]).status == 4)
        #expect(try talk(dir, ["say", "../etc", "x", "--as", "a"]).status == 6)
        #expect(try talk(dir, ["wait", id, "--as", "b", "--timeout", "0.2"]).status == 10)
        #expect(try talk(dir, ["resolve", id, "--summary", "done", "--as", "a"]).status == 0)
        #expect(try talk(dir, ["wait", id, "--as", "b", "--timeout", "5"]).status == 14)
        #expect(try talk(dir, ["list", "--status", "RESOLVED", "--json"]).stdout.contains(id))
        #expect(try talk(dir, ["list", "--filter", ".status == \"ACTIVE\"", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]"
                || (try talk(dir, ["list", "--filter", ".status == \"ACTIVE\"", "--json"]).stdout.contains(id)) == false)
        #expect(try talk(dir, ["new", "No identity", "--with", "b"]).status == 6)
    }
}
