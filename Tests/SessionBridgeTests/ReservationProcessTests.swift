import Foundation
import Testing
@testable import SessionBridge

/// Reservations through the real binary, by several processes at once.
@Suite struct ReservationProcessTests {
    struct Project {
        let root: String, store: String, dir: String

        init() throws {
            root = FileSystem.realPath(makeTempDir("resvp")) ?? makeTempDir("resvp")
            store = root + "/store"
            dir = root + "/proj"
            for d in [dir + "/.git", dir + "/src/api", dir + "/docs"] {
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            }
            try "[remote \"origin\"]\n\turl = https://example.org/team/proj.git\n".write(toFile: dir + "/.git/config", atomically: true, encoding: .utf8)
        }

        func run(_ args: [String], as key: String, stdin: String? = nil) throws -> Run {
            try CLI.run(args, root: store, key: key, stdin: stdin.map { Data($0.utf8) }, cwd: dir)
        }

        func start(_ args: [String], as key: String) throws -> (Process, Pipe, Pipe) {
            try CLI.start(args, root: store, key: key, cwd: dir)
        }

        var records: [Reservation] {
            let folder = store + "/reservations"
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            return files.flatMap { name -> [Reservation] in
                guard let data = FileManager.default.contents(atPath: folder + "/" + name),
                      let r = JSONCoding.decode(ReservationRecord.self, from: Array(data)) else {
                    Issue.record("unreadable record \(name)")
                    return []
                }
                return r.reservations
            }
        }

        func hook(_ tool: String, _ input: [String: Any], as key: String) throws -> Run {
            let object: [String: Any] = ["session_id": "s", "cwd": dir, "hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": input]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            return try run(["hook", "pre-tool-use"], as: key, stdin: json)
        }
    }

    @Test func concurrentReservesOfOnePathHaveExactlyOneWinner() throws {
        let p = try Project()
        for round in 0..<3 {
            let handles = try (0..<8).map { try p.start(["reserve", "src/api", "--reason", "round \(round)"], as: "r\(round)-k\($0)") }
            let results = handles.map(CLI.finish)
            #expect(results.filter { $0.status == 0 }.count == 1, "\(results.map(\.status))")
            #expect(results.filter { $0.status == 12 }.count == 7, "\(results.map { $0.stderr })")
            for r in results where r.status == 12 { #expect(r.stderr.contains("held exclusively by") && r.stderr.contains(" ask ")) }
            #expect(p.records.count == 1)
            // The winner releases; the next round starts from nothing.
            let winner = try #require(p.records.first)
            #expect(try p.run(["release", "--session", winner.holder], as: "any").status == 0)
            #expect(p.records.isEmpty)
        }
    }

    /// Overlapping patterns reserved at once: whatever wins, no two conflicting reservations ever stand together.
    @Test func concurrentOverlappingReservesNeverBothStand() throws {
        let p = try Project()
        let patterns = ["src", "src/api", "src/api/client.swift", "src/**/*.swift", "**/*.md", "docs", "docs/a.md", "src/*"]
        for round in 0..<3 {
            let handles = try patterns.enumerated().map { i, pattern in
                try p.start(["reserve", pattern] + (i % 3 == 0 ? ["--shared"] : []), as: "o\(round)-k\(i)")
            }
            let results = handles.map(CLI.finish)
            #expect(results.allSatisfy { $0.status == 0 || $0.status == 12 }, "\(results.map(\.stderr))")
            let held = p.records
            #expect(held.count == results.filter { $0.status == 0 }.count)
            for x in held { for y in held where x != y { #expect(!x.conflicts(with: y), "\(x.pattern) / \(y.pattern)") } }
            for r in held { _ = try p.run(["release", "--session", r.holder, "--all"], as: "any") }
            #expect(p.records.isEmpty)
        }
    }

    /// A reserve killed at any instant leaves the record whole: the one before or the one after.
    @Test func aKilledReserveLeavesAWholeRecord() throws {
        let p = try Project()
        #expect(try p.run(["reserve", "docs"], as: "keeper").status == 0)
        for i in 0..<12 {
            let h = try p.start(["reserve", "src/api/f\(i).swift"], as: "killed-\(i)")
            usleep(useconds_t(500 * (i % 6) + 200))
            kill(h.0.processIdentifier, SIGKILL)
            _ = CLI.finish(h)
            let held = p.records
            #expect(held.contains { $0.pattern == "docs" })
            #expect(held.allSatisfy { $0.pattern == "docs" || $0.pattern.hasPrefix("src/api/f") })
        }
        #expect(try p.run(["reservations", "--json"], as: "keeper").status == 0)
    }

    @Test func theGuardHookDeniesOtherSessionsAndReleaseLetsThemThrough() throws {
        let p = try Project()
        let r = try p.run(["reserve", "src/api/", "--reason", "reworking the client", "--ttl", "1h"], as: "holder")
        #expect(r.status == 0 && r.stdout.contains("reserved src/api (exclusive)"), "\(r.stderr)")
        let holder = try #require(p.records.first)
        #expect(try p.run(["start", "--name", "other"], as: "other").status == 0)

        let edit: [String: Any] = ["file_path": p.dir + "/src/api/client.swift", "old_string": "a", "new_string": "b"]
        let denied = try p.hook("Edit", edit, as: "other")
        #expect(denied.status == 0)
        let out = try #require(JSONSerialization.jsonObject(with: Data(denied.stdout.utf8)) as? [String: Any])
        let specific = try #require(out["hookSpecificOutput"] as? [String: Any])
        #expect(specific["permissionDecision"] as? String == "deny")
        let reason = try #require(specific["permissionDecisionReason"] as? String)
        #expect(reason.contains(holder.holderName) && reason.contains(holder.holder) && reason.contains("reworking the client"))
        #expect(reason.contains("session-bridge ask \(holder.holder) '"), "\(reason)")
        #expect(try p.hook("Edit", edit, as: "holder").stdout.isEmpty)
        #expect(try p.hook("Bash", ["command": "sed -i s/a/b/ src/api/client.swift"], as: "other").stdout.contains("\"deny\""))
        #expect(try p.hook("Bash", ["command": "echo x > docs/a.md"], as: "other").stdout.isEmpty)

        let list = try p.run(["reservations"], as: "other")
        #expect(list.status == 0 && list.stdout.contains("src/api") && list.stdout.contains("reworking the client"))
        let json = try p.run(["reservations", "--json"], as: "holder")
        let rows = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["you"] as? Bool == true && rows[0]["project"] as? String == "git:example.org/team/proj")

        #expect(try p.run(["release", "src/api"], as: "holder").stdout.contains("released src/api"))
        #expect(try p.hook("Edit", edit, as: "other").stdout.isEmpty)
    }

    @Test func badInputHasDocumentedExitCodes() throws {
        let p = try Project()
        #expect(try p.run(["reserve"], as: "k").status == 6)
        #expect(try p.run(["reserve", "src", "--ttl", "soon"], as: "k").status == 6)
        #expect(try p.run(["reserve", "src", "--ttl", "0"], as: "k").status == 6)
        #expect(try p.run(["reserve", "src", "--ttl", "30d"], as: "k").status == 6)
        #expect(try p.run(["reserve", "src/*/../x"], as: "k").status == 6)
        #expect(try p.run(["reserve", "src", "--reason", "two\nlines"], as: "k").status == 6)
        #expect(try p.run(["release", "src", "--all"], as: "k").status == 6)
        #expect(try p.run(["reserve", "src", "--ttl", "1h30m"], as: "k").status == 0)
        #expect(try p.run(["reserve", "src/x"], as: "k2").status == 12)
        // A stop ends every reservation of the session.
        #expect(try p.run(["stop"], as: "k").status == 0)
        #expect(try p.run(["reserve", "src/x"], as: "k2").status == 0)
    }

    @Test func sessionEndReleases() throws {
        let p = try Project()
        let env = ["CLAUDE_CODE_SESSION_ID": "cc-end-1"]
        let reserve = try CLI.run(["reserve", "docs"], root: p.store, key: nil, extra: env, cwd: p.dir)
        #expect(reserve.status == 0, "\(reserve.stderr)")
        #expect(p.records.count == 1)
        let input = Data(#"{"session_id":"cc-end-1","hook_event_name":"SessionEnd","reason":"exit"}"#.utf8)
        _ = try CLI.run(["hook", "session-end"], root: p.store, key: nil, stdin: input, extra: env, cwd: p.dir)
        #expect(p.records.isEmpty)
    }
}
