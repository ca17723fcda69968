import Foundation
import Testing
@testable import SessionBridge

/// `ask`, `reply`, `listen` and `talk say` skip the argument parser in their plain forms (Sources/SessionBridgeCLI/
/// FastPath.swift). Every case here runs twice, with the fast path and with SESSION_BRIDGE_NO_FAST_PATH=1, and both
/// runs must print the same (ids and times aside) and exit with the same code.
@Suite(.serialized) struct FastPathTests {
    struct Case {
        var args: [String]
        var key: String?
        var stdin: String? = nil
        var status: Int32
    }

    /// Ids, times and nonces differ between two runs; everything else must match.
    static func normalized(_ text: String) -> String {
        var t = text
        let patterns = [#"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, #"\d{4}-\d\d-\d\dT[0-9:.]+Z"#,
                        #"nonce [0-9a-zA-Z]+"#, #""nonce" *: *"[^"]*""#, #""(sha256|checksum)" *: *"[0-9a-f]*""#,
                        #"turn \d+ recorded"#, #""number" *: *\d+"#, #"next: \w+"#, #"--as \w+"#]
        for p in patterns { t = t.replacingOccurrences(of: p, with: "<x>", options: .regularExpression) }
        return t
    }

    func both(_ c: Case, root: String, cwd: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fast = try CLI.run(c.args, root: root, key: c.key, stdin: c.stdin.map { Data($0.utf8) }, cwd: cwd)
        let slow = try CLI.run(c.args, root: root, key: c.key, stdin: c.stdin.map { Data($0.utf8) },
                               extra: ["SESSION_BRIDGE_NO_FAST_PATH": "1"], cwd: cwd)
        #expect(fast.status == c.status, "\(c.args): \(fast.stderr)", sourceLocation: sourceLocation)
        #expect(slow.status == fast.status, "\(c.args): fast \(fast.status), parser \(slow.status): \(slow.stderr)", sourceLocation: sourceLocation)
        #expect(Self.normalized(slow.stdout) == Self.normalized(fast.stdout), "\(c.args)", sourceLocation: sourceLocation)
        #expect(Self.normalized(slow.stderr) == Self.normalized(fast.stderr), "\(c.args)", sourceLocation: sourceLocation)
    }

    @Test func bothPathsAgree() throws {
        let dir = makeTempDir("fast")
        let root = dir + "/store"
        let cwd = dir + "/proj"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["start", "--name", "app"], root: root, key: "app-key").status == 0)
        let cases: [Case] = [
            Case(args: ["ask", "lib", "what is new?"], key: "app-key", status: 0),
            Case(args: ["ask", "--json", "lib", "as json"], key: "app-key", status: 0),
            Case(args: ["ask", "lib"], key: "app-key", stdin: "from stdin\n", status: 0),
            Case(args: ["ask", "lib", "-"], key: "app-key", stdin: "dash\n", status: 0),
            Case(args: ["ask", "lib", "--file", cwd + "/missing.txt"], key: "app-key", status: 6),
            Case(args: ["ask", "nobody", "hi"], key: "app-key", status: 4),
            Case(args: ["ask", "lib", "hi"], key: nil, status: 3),
            Case(args: ["ask", "--session", "app-key", "lib", "via --session"], key: nil, status: 0),
            Case(args: ["ask", "lib", "--wait", "0.2", "never answered"], key: "app-key", status: 10),
            // Not plain: left to the parser on both runs, so the same usage errors.
            Case(args: ["ask", "lib", "--wait", "soon", "x"], key: "app-key", status: 64),
            Case(args: ["ask", "lib", "--wait=0.1", "x"], key: "app-key", status: 10),
            Case(args: ["ask"], key: "app-key", status: 64),
            Case(args: ["ask", "lib", "a", "b"], key: "app-key", status: 64),
            Case(args: ["ask", "lib", "--bogus"], key: "app-key", status: 64),
            Case(args: ["ask", "--help"], key: "app-key", status: 0),
            Case(args: ["listen", "--timeout", "0.2"], key: "app-key", status: 10),
            Case(args: ["listen", "--timeout", "x"], key: "lib-key", status: 64),
            Case(args: ["listen", "--foreground", "--off"], key: "lib-key", status: 6),
            Case(args: ["listen", "extra"], key: "lib-key", status: 64),
            Case(args: ["reply", "not-a-message", "x"], key: "lib-key", status: 4),
            Case(args: ["reply", "01a1ffac-963e-779d-8f4f-e5e4b451ff6a", "x"], key: "lib-key", status: 4),
            Case(args: ["reply"], key: "lib-key", status: 64),
        ]
        for c in cases { try both(c, root: root, cwd: cwd) }
        // listen takes one pending question per run (lib has several); each path answers the one it took.
        for _ in 0..<2 {
            let fast = try CLI.run(["listen", "--timeout", "1", "--json"], root: root, key: "lib-key")
            let slow = try CLI.run(["listen", "--timeout", "1", "--json"], root: root, key: "lib-key", extra: ["SESSION_BRIDGE_NO_FAST_PATH": "1"])
            #expect(fast.status == 0 && slow.status == 0, "\(fast.stderr) \(slow.stderr)")
            #expect(Self.normalized(fast.stdout).count > 100 && Self.normalized(fast.stdout).replacingOccurrences(of: #""content" *: *"[^"]*""#, with: "", options: .regularExpression)
                    == Self.normalized(slow.stdout).replacingOccurrences(of: #""content" *: *"[^"]*""#, with: "", options: .regularExpression))
            let ids = try [fast, slow].map { r in
                try #require((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["id"] as? String)
            }
            let replyFast = try CLI.run(["reply", ids[0], "answered"], root: root, key: "lib-key")
            let replySlow = try CLI.run(["reply", ids[1], "answered"], root: root, key: "lib-key", extra: ["SESSION_BRIDGE_NO_FAST_PATH": "1"])
            #expect(replyFast.status == 0 && replySlow.status == 0 && Self.normalized(replyFast.stdout) == Self.normalized(replySlow.stdout))
            try both(Case(args: ["reply", ids[0], "again"], key: "lib-key", status: 12), root: root, cwd: cwd)
        }
        try both(Case(args: ["listen", "--timeout", "1"], key: "lib-key", status: 0), root: root, cwd: cwd)
        // talk say changes the talk, so the two paths take consecutive turns (lib, then app) and must say the same.
        let talks = dir + "/talks"
        let opened = try CLI.run(["talk", "new", "Plan", "--with", "app", "--as", "lib", "--dir", talks], root: root, key: nil)
        let id = try #require(opened.stdout.split(separator: "\n").last.map(String.init))
        try "from a file\n".write(toFile: dir + "/turn.txt", atomically: true, encoding: .utf8)
        let pairs: [([String], [String], Int32)] = [
            (["talk", "say", id, "--as", "lib", "--dir", talks, "first"], ["talk", "say", id, "--as", "app", "--dir", talks, "first"], 0),
            (["talk", "say", id, "--dir", talks, "--as", "app", "not yours"], ["talk", "say", id, "--dir", talks, "--as", "app", "not yours"], 12),
            (["talk", "say", id, "--dir", talks, "--as", "lib", "--file", dir + "/turn.txt", "--json"],
             ["talk", "say", id, "--dir", talks, "--as", "app", "--file", dir + "/turn.txt", "--json"], 0),
            (["talk", "say", "nope", "--dir", talks, "--as", "app", "x"], ["talk", "say", "nope", "--dir", talks, "--as", "app", "x"], 4),
            (["talk", "say", "--dir", talks], ["talk", "say", "--dir", talks], 64),
        ]
        for (fastArgs, slowArgs, status) in pairs {
            let fast = try CLI.run(fastArgs, root: root, key: nil, cwd: cwd)
            let slow = try CLI.run(slowArgs, root: root, key: nil, extra: ["SESSION_BRIDGE_NO_FAST_PATH": "1"], cwd: cwd)
            #expect(fast.status == status && slow.status == status, "\(fastArgs): \(fast.status) \(fast.stderr) / \(slow.status) \(slow.stderr)")
            let speakers = #""speaker" *: *"\w+""#
            #expect(Self.normalized(fast.stdout).replacingOccurrences(of: speakers, with: "", options: .regularExpression)
                    == Self.normalized(slow.stdout).replacingOccurrences(of: speakers, with: "", options: .regularExpression), "\(fastArgs)")
            #expect(Self.normalized(fast.stderr) == Self.normalized(slow.stderr), "\(fastArgs)")
        }
    }
}
