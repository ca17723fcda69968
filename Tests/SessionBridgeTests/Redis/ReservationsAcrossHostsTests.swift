import Foundation
import Testing
@testable import SessionBridge

/// Reservations on the Redis engine through the real binary: two "hosts" (each its own SESSION_BRIDGE_HOME and
/// HOME) share one Redis server, and each works in its own clone of one repository (one remote, spelled two ways).
@Suite(.serialized) struct ReservationsAcrossHostsTests {
    final class Hosts {
        let server: RedisTestServer
        let base: String
        let url: String

        init() throws {
            guard RedisTestServer.enabled else { try Test.cancel(RedisTestServer.skipReason) }
            server = try RedisTestServer()
            base = FileSystem.realPath(makeTempDir("resv-hosts")) ?? makeTempDir("resv-hosts")
            url = server.url + "?prefix=hosts"
            try clone("a", remote: "git@github.com:acme/shared.git")
            try clone("b", remote: "https://github.com/acme/shared")
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(atPath: base)
        }

        func home(_ host: String) -> String { base + "/" + host + "/home" }
        func clone(_ host: String) -> String { home(host) + "/work/shared" }

        func clone(_ host: String, remote: String) throws {
            let dir = clone(host)
            for d in [dir + "/.git", dir + "/src/api", dir + "/docs", home(host) + "/.claude"] {
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            try "[remote \"origin\"]\n\turl = \(remote)\n".write(toFile: dir + "/.git/config", atomically: true, encoding: .utf8)
            try "let x = 1\n".write(toFile: dir + "/src/api/client.swift", atomically: true, encoding: .utf8)
        }

        func run(_ args: [String], on host: String, as key: String, stdin: String? = nil) throws -> Run {
            try CLI.run(args, root: home(host) + "/.claude/session-bridge", key: key, stdin: stdin.map { Data($0.utf8) },
                        extra: ["SESSION_BRIDGE_STORE": url, "HOME": home(host)], cwd: clone(host))
        }

        /// The PreToolUse hook as Claude Code runs it; nil when it allows, else the deny reason.
        func hook(_ tool: String, _ input: [String: Any], on host: String, as key: String) throws -> String? {
            let object: [String: Any] = ["session_id": "s-\(key)", "cwd": clone(host), "hook_event_name": "PreToolUse",
                                         "tool_name": tool, "tool_input": input]
            let r = try run(["hook", "pre-tool-use"], on: host, as: key, stdin: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
            #expect(r.status == 0, "\(r.stderr)")
            if r.stdout.isEmpty { return nil }
            let out = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let specific = try #require(out["hookSpecificOutput"] as? [String: Any])
            #expect(specific["permissionDecision"] as? String == "deny")
            return specific["permissionDecisionReason"] as? String
        }
    }

    @Test func aReservationOnOneHostDeniesAnotherHostsEditOfItsCloneNamingTheHolder() throws {
        let h = try Hosts()
        #expect(try h.run(["start", "--name", "alice"], on: "a", as: "ka").status == 0)
        #expect(try h.run(["start", "--name", "bob"], on: "b", as: "kb").status == 0)
        let r = try h.run(["reserve", "src/api", "--reason", "moving the client"], on: "a", as: "ka")
        #expect(r.status == 0 && r.stdout.contains("reserved src/api (exclusive)"), "\(r.stdout)\(r.stderr)")
        // Nothing of it is in either host's folder: the reservation lives on the server.
        #expect(!FileSystem.exists(h.home("a") + "/.claude/session-bridge/reservations/"
                                   + ReservationProject.key("git:github.com/acme/shared") + ".json"))

        let edit: [String: Any] = ["file_path": h.clone("b") + "/src/api/client.swift", "old_string": "1", "new_string": "2"]
        let reason = try #require(try h.hook("Edit", edit, on: "b", as: "kb"))
        #expect(reason.hasPrefix("session-bridge reservation:") && reason.contains("alice") && reason.contains("moving the client"), "\(reason)")
        let rows = try #require(JSONSerialization.jsonObject(with: Data(try h.run(["reservations", "--json"], on: "b", as: "kb").stdout.utf8)) as? [[String: Any]])
        let holder = try #require(rows.first?["holder"] as? String)
        #expect(rows.count == 1 && rows[0]["project"] as? String == "git:github.com/acme/shared" && rows[0]["you"] as? Bool == false)
        #expect(reason.contains("ask \(holder) '"), "\(reason)")
        // A shell write there is denied too; elsewhere in the clone, and the holder's own edits on its host, go through.
        #expect(try h.hook("Bash", ["command": "cp -r /tmp/x/. src/api"], on: "b", as: "kb") != nil)
        #expect(try h.hook("Bash", ["command": "echo x > docs/a.md"], on: "b", as: "kb") == nil)
        let ownEdit: [String: Any] = ["file_path": h.clone("a") + "/src/api/client.swift", "old_string": "1", "new_string": "2"]
        #expect(try h.hook("Edit", ownEdit, on: "a", as: "ka") == nil)
        // A conflicting reserve from the other host names the holder and exits 12.
        let conflict = try h.run(["reserve", "src/api/client.swift"], on: "b", as: "kb")
        #expect(conflict.status == 12 && conflict.stderr.contains("alice"), "\(conflict.stderr)")

        #expect(try h.run(["release", "src/api"], on: "a", as: "ka").stdout.contains("released src/api"))
        #expect(try h.hook("Edit", edit, on: "b", as: "kb") == nil)
        #expect(try h.run(["reserve", "src/api/client.swift"], on: "b", as: "kb").status == 0)
        #expect(try h.hook("Edit", ownEdit, on: "a", as: "ka") != nil)
    }

    @Test func aHostThatCannotReachRedisDeniesWritesWithAClearReasonAndLetsReadsThrough() throws {
        let h = try Hosts()
        #expect(try h.run(["start", "--name", "bob"], on: "b", as: "kb").status == 0)
        let edit: [String: Any] = ["file_path": h.clone("b") + "/src/api/client.swift", "old_string": "1", "new_string": "2"]
        #expect(try h.hook("Edit", edit, on: "b", as: "kb") == nil)
        h.server.stop()
        let reason = try #require(try h.hook("Edit", edit, on: "b", as: "kb"))
        #expect(reason.contains("cannot be read") && reason.contains("unreachable"), "\(reason)")
        #expect(try h.hook("Bash", ["command": "sed -i s/1/2/ src/api/client.swift"], on: "b", as: "kb") != nil)
        #expect(try h.hook("Read", ["file_path": h.clone("b") + "/src/api/client.swift"], on: "b", as: "kb") == nil)
        #expect(try h.hook("Bash", ["command": "ls src/api && cat src/api/client.swift"], on: "b", as: "kb") == nil)
        try h.server.start()
        #expect(try h.hook("Edit", edit, on: "b", as: "kb") == nil)
    }
}
