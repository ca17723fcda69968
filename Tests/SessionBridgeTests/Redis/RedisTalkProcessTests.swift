import Foundation
import Testing
@testable import SessionBridge

/// Talks on Redis through the real binary, between two "hosts": each its own SESSION_BRIDGE_HOME, HOME and
/// project `.talks/` folder, both on one redis-server.
@Suite(.enabled(if: RedisTestServer.enabled, RedisTestServer.skipReason), .serialized)
struct RedisTalkProcessTests {
    struct Host {
        let root: String
        let url: String
        var talks: String { root + "/project/.talks" }

        func environment() -> [String: String] { ["SESSION_BRIDGE_STORE": url, "HOME": root] }

        func talk(_ args: [String]) throws -> Run {
            try CLI.run(["talk"] + args + ["--dir", talks], root: root + "/home", key: nil, extra: environment())
        }

        func start(_ args: [String]) throws -> (Process, Pipe, Pipe) {
            try CLI.start(["talk"] + args + ["--dir", talks], root: root + "/home", key: nil, extra: environment())
        }

        func mirror(_ id: String) throws -> String { try String(contentsOfFile: talks + "/conversations/\(id).md", encoding: .utf8) }
    }

    func hosts(_ server: RedisTestServer, prefix: String) -> (Host, Host) {
        let url = server.url + "?prefix=" + prefix
        return (Host(root: makeTempDir("sb-host-a"), url: url), Host(root: makeTempDir("sb-host-b"), url: url))
    }

    /// alice on host A and bob on host B hold a three-turn talk with `talk new`, `wait`, `say` and `show`: each
    /// `wait` wakes for a turn said on the other host, the talk ends BLOCKED at max turns, each host's mirror reads
    /// the same bytes, which are the talk as the file engine writes it, and doctor finds nothing wrong on either.
    @Test func twoHostsHoldAThreeTurnTalk() throws {
        let server = try RedisTestServer()
        let (a, b) = hosts(server, prefix: "pair")
        let new = try a.talk(["new", "Across hosts", "--with", "bob", "--as", "alice", "--max-turns", "3"])
        #expect(new.status == 0, "\(new.stderr)")
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        #expect(FileManager.default.fileExists(atPath: a.talks + "/conversations/\(id).md"))

        let bobWaits = try b.start(["wait", id, "--as", "bob", "--timeout", "30"])
        usleep(300_000)
        let one = try a.talk(["say", id, "the plan, from A", "--as", "alice"])
        #expect(one.status == 0, "\(one.stderr)")
        let woke = CLI.finish(bobWaits)
        #expect(woke.status == 0, "\(woke.stdout) \(woke.stderr)")

        let aliceWaits = try a.start(["wait", id, "--as", "alice", "--timeout", "30"])
        usleep(300_000)
        let two = try b.talk(["say", id, "agreed, from B", "--as", "bob"])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(CLI.finish(aliceWaits).status == 0)
        let three = try a.talk(["say", id, "done, from A", "--as", "alice"])
        #expect(three.status == 0 && three.stdout.contains("BLOCKED"), "\(three.stdout) \(three.stderr)")
        let refused = try b.talk(["say", id, "one more", "--as", "bob"])
        #expect(refused.status == BridgeError.conflict(.alreadyAnswered(id: "")).exitCode, "\(refused.stderr)")

        for host in [a, b] {
            let show = try host.talk(["show", id, "--json"])
            #expect(show.status == 0, "\(show.stderr)")
            let object = try #require(JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
            let turns = try #require(object["turns"] as? [[String: Any]])
            #expect(turns.compactMap { $0["content"] as? String } == ["the plan, from A", "agreed, from B", "done, from A"])
            #expect(turns.compactMap { $0["speaker"] as? String } == ["alice", "bob", "alice"])
            #expect(object["status"] as? String == "BLOCKED")
        }
        let mirrorA = try a.mirror(id), mirrorB = try b.mirror(id)
        #expect(mirrorA == mirrorB)
        let onServer = try RedisTalkStore(configuration: server.configuration(prefix: "pair:")).read(id, since: nil)
        #expect(mirrorA == onServer.render())
        #expect(try Conversation.parse(mirrorB).0 == onServer)
        for host in [a, b] {
            let doctor = try CLI.run(["doctor", "--dir", host.talks], root: host.root + "/home", key: nil, extra: host.environment())
            #expect(doctor.status == 0, "\(doctor.stdout) \(doctor.stderr)")
        }
    }

    /// The join line `talk new` prints on host A names neither A's launcher nor A's talks folder, and runs as printed
    /// on host B with B's own helper on PATH, from B's own project: B's session, which speaks first, is told it is its
    /// turn, and B's mirror of the talk appears in B's folder.
    @Test func joinLinePrintedOnOneHostRunsOnTheOther() throws {
        let server = try RedisTestServer()
        let (a, b) = hosts(server, prefix: "join")
        let new = try a.talk(["new", "Across hosts", "--with", "bob", "--as", "alice", "--first", "bob"])
        #expect(new.status == 0, "\(new.stderr)")
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        let lead = "peers join with their own helper, from any host: "
        let line = try #require(new.stdout.split(separator: "\n").map(String.init).first { $0.hasPrefix(lead) }, "\(new.stdout)")
        let command = String(line.dropFirst(lead.count))
        #expect(command == "session-bridge talk wait \(id)")

        #expect(try CLI.run(["start", "--name", "bob"], root: b.root + "/home", key: "bob-key", extra: b.environment()).status == 0)
        let bin = b.root + "/bin", project = b.root + "/project"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin + "/session-bridge", withDestinationPath: CLI.binary)
        var environment = b.environment()
        environment["PATH"] = bin + ":/usr/bin:/bin"
        let joined = try CLI.shell(command + " --timeout 10", root: b.root + "/home", key: "bob-key", extra: environment, cwd: project)
        #expect(joined.status == 0 && joined.stdout.contains("your turn in talk \(id)"), "\(joined.stdout) \(joined.stderr)")
        #expect(FileManager.default.fileExists(atPath: b.talks + "/conversations/\(id).md"))
    }

    /// The same speaker's `say` started at once on both hosts, turn after turn: exactly one of each pair is
    /// recorded, the other refused as not its turn; the talk holds one turn per pair, in order.
    @Test func twoProcessesSayingAtOnceOneWins() throws {
        let server = try RedisTestServer()
        let (a, b) = hosts(server, prefix: "race")
        let new = try a.talk(["new", "Race", "--with", "bob", "--as", "alice", "--max-turns", "50"])
        let id = String(new.stdout.split(separator: "\n").last ?? "")
        let rounds = 8
        for round in 0..<rounds {
            let speaker = round % 2 == 0 ? "alice" : "bob"
            let fromA = try a.start(["say", id, "round \(round) from A", "--as", speaker])
            let fromB = try b.start(["say", id, "round \(round) from B", "--as", speaker])
            let results = [CLI.finish(fromA), CLI.finish(fromB)]
            #expect(results.filter { $0.status == 0 }.count == 1, "round \(round): \(results.map(\.stderr))")
            #expect(results.filter { $0.status == BridgeError.conflict(.alreadyAnswered(id: "")).exitCode }.count == 1, "round \(round)")
        }
        let talk = try RedisTalkStore(configuration: server.configuration(prefix: "race:")).read(id, since: nil)
        #expect(talk.turns.count == rounds && talk.turns.map(\.number) == Array(1...rounds))
        #expect(talk.turns.enumerated().allSatisfy { $0.element.content.hasPrefix("round \($0.offset) ") })
    }
}
