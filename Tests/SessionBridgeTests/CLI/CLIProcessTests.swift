import Foundation
import Testing
@testable import SessionBridge

/// Tests that run the real binary in separate processes, as agents do.
@Suite(.serialized) struct CLIProcessTests {
    func setUp() throws -> String {
        let root = makeTempDir("sbcli")
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["start", "--name", "app"], root: root, key: "app-key").status == 0)
        return root
    }

    @Test func startPrintsIdAloneOnLastLine() throws {
        let root = makeTempDir("sbcli")
        let r = try CLI.run(["start", "--name", "solo"], root: root, key: nil, extra: ["CLAUDE_CODE_SESSION_ID": "5b7f0c9e-1111"])
        #expect(r.status == 0)
        let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(Identifiers.isValidID(last) && last.count == 8)
        let peers = try CLI.run(["peers", "--json"], root: root, key: nil, extra: ["CLAUDE_CODE_SESSION_ID": "5b7f0c9e-1111"])
        let rows = try #require(JSONSerialization.jsonObject(with: Data(peers.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows[0]["id"] as? String == last && rows[0]["you"] as? Bool == true && rows[0]["state"] as? String == "active")
        for key in ["id", "name", "projectPath", "lastSeen", "state", "you"] { #expect(rows[0][key] != nil) }
    }

    @Test func twoClaudeSessionsInOneFolderStayDistinct() throws {
        let root = makeTempDir("sbcli")
        let project = makeTempDir("proj")
        let a = try CLI.run(["start"], root: root, key: nil, extra: ["CLAUDE_CODE_SESSION_ID": "aaaa-1"], cwd: project)
        let b = try CLI.run(["start"], root: root, key: nil, extra: ["CLAUDE_CODE_SESSION_ID": "bbbb-2"], cwd: project)
        let idA = a.stdout.split(separator: "\n").last.map(String.init)
        let idB = b.stdout.split(separator: "\n").last.map(String.init)
        #expect(idA != nil && idA != idB)
        let ask = try CLI.run(["ask", try #require(idB), "hello from A"], root: root, key: nil, extra: ["CLAUDE_CODE_SESSION_ID": "aaaa-1"])
        #expect(ask.status == 0)
        let listen = try CLI.run(["listen", "--timeout", "2", "--json"], root: root, key: nil, extra: ["CLAUDE_CODE_SESSION_ID": "bbbb-2"])
        #expect(listen.status == 0 && listen.stdout.contains("hello from A"))
        // No echo: A gets nothing back from its own message.
        let own = try CLI.run(["listen", "--timeout", "0.2"], root: root, key: nil, extra: ["CLAUDE_CODE_SESSION_ID": "aaaa-1"])
        #expect(own.status == 10 && own.stderr.contains("nothing yet, listen again"))
    }

    @Test func askWaitGetsTheAnswerFromAnotherProcess() throws {
        let root = try setUp()
        let asker = try CLI.start(["ask", "lib", "what is the port?", "--wait", "10", "--json"], root: root, key: "app-key")
        let heard = try CLI.run(["listen", "--timeout", "5", "--json"], root: root, key: "lib-key")
        #expect(heard.status == 0)
        let q = try #require(JSONSerialization.jsonObject(with: Data(heard.stdout.utf8)) as? [String: Any])
        let id = try #require(q["id"] as? String)
        #expect(try CLI.run(["reply", id, "-"], root: root, key: "lib-key", stdin: Data("8080".utf8)).status == 0)
        let r = CLI.finish(asker)
        #expect(r.status == 0)
        let answer = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(answer["content"] as? String == "8080" && answer["inReplyTo"] as? String == id && answer["type"] as? String == "response")
    }

    @Test func askWaitTimesOutWithDocumentedCodeAndLeavesNothingHalfWritten() throws {
        let root = try setUp()
        let r = try CLI.run(["ask", "lib", "anyone?", "--wait", "0.3"], root: root, key: "app-key")
        #expect(r.status == 10)
        #expect(r.stderr.contains("not been seen yet"))
        #expect(!allFiles(root).contains { $0.contains("/tmp/") || FileSystem.lastComponent(of: $0).hasPrefix(".") })
    }

    /// 4 concurrent senders × 50 messages to one session, 3 concurrent listeners: every message exactly once.
    @Test func exactlyOnceWithConcurrentListeners() throws {
        let root = try setUp()
        let senders = 4, perSender = 50
        let script = """
        n=0; while "$BIN" listen --timeout 3 --json; do n=$((n+1)); done; exit 0
        """
        var listeners: [(Process, Pipe, Pipe)] = []
        for _ in 0..<3 {
            listeners.append(try Shell.start(script, root: root, key: "lib-key"))
        }
        var senderProcs: [(Process, Pipe, Pipe)] = []
        for s in 0..<senders {
            let loop = "for i in $(seq 1 \(perSender)); do \"$BIN\" ask lib \"m-\(s)-$i\" >/dev/null || exit 1; done"
            senderProcs.append(try Shell.start(loop, root: root, key: "app-key"))
        }
        for p in senderProcs { #expect(CLI.finish(p).status == 0) }
        var seen: [String: Int] = [:]
        for l in listeners {
            let out = CLI.finish(l).stdout
            for line in out.split(separator: "\n") where line.contains("\"content\"") {
                let value = line.split(separator: "\"")[3]
                seen[String(value), default: 0] += 1
            }
        }
        #expect(seen.count == senders * perSender, "lost \(senders * perSender - seen.count)")
        #expect(seen.values.allSatisfy { $0 == 1 }, "duplicates: \(seen.filter { $0.value > 1 })")
    }

    /// A listener killed with SIGKILL right after its claim: the message comes back after the lease.
    @Test func killedListenerMessageIsRedeliveredAfterLease() throws {
        let root = try setUp()
        let big = String(repeating: "x", count: 200_000)   // larger than a pipe buffer: the listener blocks printing it
        #expect(try CLI.run(["ask", "lib", "--file", "/dev/stdin"], root: root, key: "app-key", stdin: Data(big.utf8)).status == 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["listen", "--timeout", "5"]
        p.environment = CLI.environment(root: root, key: "lib-key", extra: ["SESSION_BRIDGE_LEASE_SECONDS": "1"])
        let out = Pipe()
        p.standardOutput = out   // never read: the write blocks after the claim
        try p.run()
        let claimed = root + "/sessions/lib-key/inbox/claimed"
        var waited = 0
        while (try? FileManager.default.contentsOfDirectory(atPath: claimed).count) ?? 0 == 0 && waited < 500 {
            Thread.sleep(forTimeInterval: 0.01); waited += 1
        }
        #expect(waited < 500, "the listener never claimed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let again = try CLI.run(["listen", "--timeout", "5", "--json"], root: root, key: "lib-key", extra: ["SESSION_BRIDGE_LEASE_SECONDS": "1"])
        #expect(again.status == 0 && again.stdout.contains(String(repeating: "x", count: 1000)))
        let status = try CLI.run(["inbox", "--all", "--json"], root: root, key: "lib-key")
        #expect(status.stdout.contains("\"claimed\""))
    }

    @Test func largeMessagesPassThroughStdinAndFiles() throws {
        let root = try setUp()
        let mib = String(repeating: "0123456789abcdef", count: 65536)   // 1 MiB
        let r = try CLI.run(["ask", "lib", "-"], root: root, key: "app-key", stdin: Data(mib.utf8))
        #expect(r.status == 0)
        let heard = try CLI.run(["listen", "--timeout", "2", "--json"], root: root, key: "lib-key")
        #expect(heard.status == 0)
        let m = try #require(JSONSerialization.jsonObject(with: Data(heard.stdout.utf8)) as? [String: Any])
        #expect((m["content"] as? String)?.utf8.count == 1 << 20)
    }

    @Test func badInputIsRefusedWithNothingWritten() throws {
        let root = try setUp()
        let before = allFiles(root)
        func expectRefused(_ args: [String], stdin: Data? = nil, extra: [String: String] = [:], code: Int32, _ fragment: String) throws {
            let r = try CLI.run(args, root: root, key: "app-key", stdin: stdin, extra: extra)
            #expect(r.status == code, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(fragment), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        }
        try expectRefused(["ask", "nobody", "hi"], code: 4, "unknown peer 'nobody'")
        try expectRefused(["ask", "../x", "hi"], code: 6, "invalid id")
        try expectRefused(["ask", "/", "hi"], code: 6, "invalid id")
        try expectRefused(["reply", "../../etc/passwd", "hi"], code: 6, "invalid id")
        try expectRefused(["status", "a/b"], code: 6, "invalid id")
        try expectRefused(["reply", "0190aaaa-0000-7000-8000-000000000000", "hi"], code: 4, "unknown message")
        try expectRefused(["ask", "lib", ""], code: 6, "empty message")
        try expectRefused(["ask", "lib", "-"], stdin: Data(), code: 6, "empty message")
        try expectRefused(["ask", "lib", "-"], stdin: Data([0x68, 0x69, 0xff, 0xfe]), code: 6, "not valid UTF-8")
        try expectRefused(["ask", "lib", "-"], stdin: Data([0x68, 0x00, 0x69]), code: 6, "NUL")
        try expectRefused(["ask", "lib", "-"], stdin: Data(String(repeating: "a", count: 2000).utf8),
                          extra: ["SESSION_BRIDGE_MAX_MESSAGE_BYTES": "1024"], code: 6, "over the 1024-byte cap")
        try expectRefused(["ask", "lib", "--file", root + "/does-not-exist"], code: 6, "no such file")
        try expectRefused(["inbox", "--filter", ".content |||"], code: 7, "bad jq filter")
        try expectRefused(["listen", "--filter", "{", "--timeout", "0.1"], code: 7, "bad jq filter")
        #expect(allFiles(root) == before, "refused input left files: \(Set(allFiles(root)).subtracting(before))")
    }

    @Test func refusedInputWritesNoFile() throws {
        let root = try setUp()
        let before = allFiles(root)
        for args in [["ask", "nobody", "hi"], ["ask", "lib", ""], ["ask", "lib", "-"]] {
            _ = try CLI.run(args, root: root, key: "app-key", stdin: Data([0xff]))
        }
        #expect(allFiles(root) == before)
    }

    @Test func noIdentityIsExplained() throws {
        let root = makeTempDir("sbcli")
        let r = try CLI.run(["listen", "--timeout", "0.1"], root: root, key: nil)
        #expect(r.status == 3)
        #expect(r.stderr.contains("SESSION_BRIDGE_SESSION"))
    }

    /// `status ID` acting as a session that has ended says that it ended and how to go on, with exit 3, rather than
    /// that the process has no session at all.
    @Test func statusAsAnEndedSessionSaysItEnded() throws {
        let root = try setUp()
        let asked = try CLI.run(["ask", "lib", "still there?", "--json"], root: root, key: "app-key")
        #expect(asked.status == 0, "\(asked.stderr)")
        let message = try #require(JSONSerialization.jsonObject(with: Data(asked.stdout.utf8)) as? [String: Any])
        let messageID = try #require(message["id"] as? String)
        let peers = try CLI.run(["peers", "--json", "--all"], root: root, key: "lib-key")
        let rows = try #require(JSONSerialization.jsonObject(with: Data(peers.stdout.utf8)) as? [[String: Any]])
        let app = try #require(rows.first { $0["name"] as? String == "app" }?["id"] as? String)
        #expect(try CLI.run(["status", messageID, "--session", app], root: root, key: nil).status == 0)
        #expect(try CLI.run(["stop"], root: root, key: "app-key").status == 0)

        for (args, key) in [(["status", messageID, "--session", app], nil as String?), (["status", messageID], "app-key")] {
            let r = try CLI.run(args, root: root, key: key)
            #expect(r.status == 3, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("session 'app' (\(app)) has ended"), "\(r.stderr)")
            #expect(r.stderr.contains("start --name NAME") && !r.stderr.contains("neither a terminal nor a session key"), "\(r.stderr)")
        }
        let overview = try CLI.run(["status", "--session", app], root: root, key: nil)
        #expect(overview.status == 0 && overview.stdout.contains("session: app (\(app)) has ended"), "\(overview.stdout)")
        // An id no session ever had is still "no session here".
        let none = try CLI.run(["status", messageID, "--session", "feedface"], root: root, key: nil)
        #expect(none.status == 3 && !none.stderr.contains("has ended"), "\(none.stderr)")
    }

    @Test func insecureRootIsRefused() throws {
        let base = makeTempDir("sbcli")
        let open = base + "/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
        chmod(open, 0o777)
        let r = try CLI.run(["peers"], root: open, key: nil)
        #expect(r.status == 8 && r.stderr.contains("writable by group or others"))
        try FileManager.default.createSymbolicLink(atPath: base + "/link", withDestinationPath: base)
        let s = try CLI.run(["peers"], root: base + "/link", key: nil)
        #expect(s.status == 8 && s.stderr.contains("symlink"))
    }

    @Test func malformedInboxFileIsQuarantinedAndReported() throws {
        let root = try setUp()
        try Data("{oops".utf8).write(to: URL(fileURLWithPath: root + "/sessions/lib-key/inbox/new/01900000-0000-7000-8000-000000000001.json"))
        _ = try CLI.run(["ask", "lib", "real question"], root: root, key: "app-key")
        let r = try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key")
        #expect(r.status == 0 && r.stdout.contains("real question"))
        #expect(r.stderr.contains("quarantined malformed message"))
        #expect(FileManager.default.fileExists(atPath: root + "/sessions/lib-key/inbox/quarantine/01900000-0000-7000-8000-000000000001.json"))
    }

    @Test func pollingFallbackDeliversToo() throws {
        let root = try setUp()
        let listener = try CLI.start(["listen", "--timeout", "5", "--json"], root: root, key: "lib-key", extra: ["SESSION_BRIDGE_POLL": "1"])
        Thread.sleep(forTimeInterval: 0.2)
        _ = try CLI.run(["ask", "lib", "via polling"], root: root, key: "app-key")
        let r = CLI.finish(listener)
        #expect(r.status == 0 && r.stdout.contains("via polling"))
        #expect(r.stderr.contains("watching by polling"))
    }

    /// ENOSPC: a clear error, exit 9, and no partial or temp file anywhere.
    @Test(.enabled(if: TinyFileSystem.available, "needs root to mount a tiny tmpfs")) func fullDiskFailsCleanly() throws {
        guard let mountPoint = TinyFileSystem.mount(size: "256k", label: "sbfull") else { Issue.record("mount failed"); return }
        defer { TinyFileSystem.unmount(mountPoint) }
        let root = mountPoint + "/store"
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["start", "--name", "app"], root: root, key: "app-key").status == 0)
        TinyFileSystem.fill(mountPoint)
        let before = allFiles(root)
        let r = try CLI.run(["ask", "lib", "-"], root: root, key: "app-key", stdin: Data(String(repeating: "y", count: 100_000).utf8))
        #expect(r.status == 9, "\(r.stderr)")
        #expect(r.stderr.contains("No space left on device"))
        #expect(allFiles(root) == before, "left behind: \(Set(allFiles(root)).subtracting(before))")
    }
}

/// Runs a bash script with $BIN set to the binary.
enum Shell {
    static func start(_ script: String, root: String, key: String) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        p.environment = CLI.environment(root: root, key: key, extra: ["BIN": CLI.binary])
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }
}
