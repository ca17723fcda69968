import Foundation
import Testing
@testable import SessionBridge

/// A home folder with the default store, a project with a .talks folder (and a symlink into it), and another project.
struct GuardWorld {
    let base: String, home: String, store: String, project: String, other: String

    init() throws {
        base = makeTempDir("guard")
        home = base + "/home"
        store = home + "/.claude/session-bridge"
        project = home + "/work/proj"
        other = home + "/work/other"
        let fm = FileManager.default
        for d in [store + "/sessions", project + "/.talks/conversations", project + "/.talks/locks", project + "/Sources/App", other] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try fm.createSymbolicLink(atPath: project + "/notes-link", withDestinationPath: project + "/.talks/conversations")
    }

    var environment: Environment {
        Environment(["HOME": home, "SESSION_BRIDGE_HOME": store, "USER": "dev"])
    }

    func substitute(_ s: String) -> String {
        s.replacing("{PROJECT}", with: project).replacing("{STORE}", with: store).replacing("{HOME}", with: home).replacing("{OTHER}", with: other)
    }

    func substitute(_ value: Any) -> Any {
        if let s = value as? String { return substitute(s) }
        if let a = value as? [Any] { return a.map { substitute($0) } }
        if let d = value as? [String: Any] { return d.mapValues { substitute($0) } }
        return value
    }

    func hookInput(host: String, tool: String, input: Any, cwd: String? = nil) throws -> [UInt8] {
        var object: [String: Any] = ["session_id": "s-1", "cwd": cwd.map(substitute) ?? project, "hook_event_name": "PreToolUse",
                                     "tool_name": tool, "tool_input": substitute(input)]
        if host == "codex" { object["turn_id"] = "t-1" } else { object["transcript_path"] = home + "/.claude/projects/p/s-1.jsonl" }
        return Array(try JSONSerialization.data(withJSONObject: object))
    }
}

@Suite struct GuardTests {
    struct Entry {
        var host: String, tool: String, input: Any, expect: String, cwd: String?
    }

    static func corpus() throws -> [Entry] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/guard-corpus.json")
        let array = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
        return array.map { Entry(host: $0["host"] as? String ?? "", tool: $0["tool"] as? String ?? "", input: $0["input"] ?? [:],
                                 expect: $0["expect"] as? String ?? "", cwd: $0["cwd"] as? String) }
    }

    @Test func corpusHasEnoughOfBoth() throws {
        let c = try Self.corpus()
        #expect(c.filter { $0.expect == "allow" }.count >= 200)
        #expect(c.filter { $0.expect == "deny" }.count >= 100)
        #expect(Set(c.map(\.host)) == ["claude", "codex"])
    }

    @Test func everyCorpusEntryGetsItsVerdict() throws {
        let world = try GuardWorld()
        var wrong: [String] = []
        for e in try Self.corpus() {
            let verdict = Guard.evaluate(input: try world.hookInput(host: e.host, tool: e.tool, input: e.input, cwd: e.cwd), environment: world.environment)
            let got: String
            switch verdict {
            case .allow: got = "allow"
            case .deny(let reason):
                got = "deny"
                if !reason.contains("session-bridge") { wrong.append("reason without the command to use: \(reason)") }
            }
            if got != e.expect {
                let text = (e.input as? [String: Any]).flatMap { $0["command"] ?? $0["file_path"] ?? $0["notebook_path"] } ?? e.input
                wrong.append("\(e.host) \(e.tool) expected \(e.expect), got \(got): \(text)")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) wrong:\n\(wrong.joined(separator: "\n"))")
    }

    @Test func reasonsNameTheRightCommands() throws {
        let world = try GuardWorld()
        let talk = Guard.evaluate(input: try world.hookInput(host: "claude", tool: "Write", input: ["file_path": "{PROJECT}/.talks/conversations/a.md"]), environment: world.environment)
        guard case .deny(let r1) = talk else { Issue.record("not denied"); return }
        #expect(r1.contains("session-bridge\" talk say | resolve") || r1.contains("session-bridge talk say | resolve"))
        let store = Guard.evaluate(input: try world.hookInput(host: "claude", tool: "Edit", input: ["file_path": "{STORE}/sessions/a/manifest.json"]), environment: world.environment)
        guard case .deny(let r2) = store else { Issue.record("not denied"); return }
        #expect(r2.contains("session-bridge\" ask | reply") || r2.contains("session-bridge ask | reply"))
    }

    @Test func malformedInputFailsClosedOnlyWhenItLooksGuarded() throws {
        let world = try GuardWorld()
        #expect(Guard.evaluate(input: Array("{not json .talks/conversations/a.md".utf8), environment: world.environment) != .allow)
        #expect(Guard.evaluate(input: Array("{\"tool_name\": \"Write\", \"tool_input\": ".utf8) + Array(world.store.utf8), environment: world.environment) != .allow)
        #expect(Guard.evaluate(input: Array("garbage".utf8), environment: world.environment) == .allow)
        #expect(Guard.evaluate(input: [], environment: world.environment) == .allow)
        #expect(Guard.evaluate(input: [0xff, 0xfe, 0x00], environment: world.environment) == .allow)
        // A Write without file_path whose content names a talks file is denied; one that does not is allowed.
        let odd = try world.hookInput(host: "claude", tool: "Write", input: ["content": "see .talks/conversations/a.md"])
        #expect(Guard.evaluate(input: odd, environment: world.environment) != .allow)
        let plain = try world.hookInput(host: "claude", tool: "Write", input: ["content": "x"])
        #expect(Guard.evaluate(input: plain, environment: world.environment) == .allow)
    }

    @Test func blockDirectEditsFalseLetsTalksBeEdited() throws {
        let world = try GuardWorld()
        try "security:\n  block_direct_edits: false\n".write(toFile: world.project + "/.talks/config.yaml", atomically: false, encoding: .utf8)
        let talk = try world.hookInput(host: "claude", tool: "Write", input: ["file_path": "{PROJECT}/.talks/conversations/a.md"])
        #expect(Guard.evaluate(input: talk, environment: world.environment) == .allow)
        // The message store stays guarded.
        let store = try world.hookInput(host: "claude", tool: "Write", input: ["file_path": "{STORE}/sessions/a/manifest.json"])
        #expect(Guard.evaluate(input: store, environment: world.environment) != .allow)
    }

    @Test func configuredConversationDirIsGuarded() throws {
        let world = try GuardWorld()
        let shared = world.base + "/shared-talks"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try "conversation_dir: \(shared)\n".write(toFile: world.project + "/.talks/config.yaml", atomically: false, encoding: .utf8)
        let input = try world.hookInput(host: "codex", tool: "Bash", input: ["command": "echo x > \(shared)/t.md"])
        #expect(Guard.evaluate(input: input, environment: world.environment) != .allow)
    }

    @Test func analyzerFollowsVariablesCdAndHereDocuments() throws {
        let world = try GuardWorld()
        let g = Guard(cwd: world.project, environment: world.environment, trustedHelpers: [])
        let effects = g.effects(ofShell: "A=x; cd sub && echo \"$A\" > '$A'.txt <<EOF\nrm -rf / > /etc/x\nEOF\nls ~/y | tee out", cwd: world.project)
        let places = effects.writtenPlaces?.map(\.0) ?? []
        let project = GuardPaths.collapse(world.project)
        #expect(places == [.exact(project + "/sub/$A.txt"), .exact(project + "/sub/out")])
    }
}

/// The guard through the real binary, as the hook runs it.
@Suite(.serialized) struct GuardProcessTests {
    @Test func hookPrintsTheDenyDecisionAndStaysSilentOtherwise() throws {
        let world = try GuardWorld()
        let deny = try CLI.run(["hook", "pre-tool-use"], root: world.store, key: nil,
                               stdin: Data(try world.hookInput(host: "claude", tool: "Bash", input: ["command": "echo x > .talks/conversations/a.md"])),
                               extra: ["HOME": world.home], cwd: world.project)
        #expect(deny.status == 0)
        let object = try #require(JSONSerialization.jsonObject(with: Data(deny.stdout.utf8)) as? [String: Any])
        let specific = try #require(object["hookSpecificOutput"] as? [String: Any])
        #expect(specific["hookEventName"] as? String == "PreToolUse" && specific["permissionDecision"] as? String == "deny")
        #expect((specific["permissionDecisionReason"] as? String)?.contains("talk say") == true)
        let allow = try CLI.run(["hook", "pre-tool-use"], root: world.store, key: nil,
                                stdin: Data(try world.hookInput(host: "codex", tool: "Bash", input: ["command": "ls -la"])),
                                extra: ["HOME": world.home], cwd: world.project)
        #expect(allow.status == 0 && allow.stdout.isEmpty)
    }

    /// A command string with a lone surrogate escape (JSON.stringify writes one for a lone UTF-16 half) or invalid
    /// UTF-8 is still analysed, not only text-searched: this one names the store only through a variable, so a text
    /// search of the raw input finds nothing, and only the analysis denies it.
    @Test func commandsWithLoneSurrogatesOrInvalidUTF8AreStillAnalysed() throws {
        let world = try GuardWorld()
        let command = Array(#"X=.cl; rm -rf ~/${X}aude/session-bridge # "#.utf8)
        for tail in [Array(#"\ud800"#.utf8), Array(#"\udfff x \ud83d"#.utf8), [0xFF, 0xC3], [0xED, 0xA0, 0x80]] {
            let head = #"{"session_id":"s-1","cwd":"\#(world.project)","hook_event_name":"PreToolUse","transcript_path":"\#(world.home)/.claude/projects/p/s-1.jsonl","tool_name":"Bash","tool_input":{"command":""#
            let input = Array(head.utf8) + command + tail + Array(#""}}"#.utf8)
            let text = String(decoding: input, as: UTF8.self)
            #expect(!text.contains(world.store) && !text.contains(".claude/session-bridge") && !text.contains(".talks"))
            let run = try CLI.run(["hook", "pre-tool-use"], root: world.store, key: nil, stdin: Data(input), extra: ["HOME": world.home], cwd: world.project)
            #expect(run.status == 0)
            #expect(run.stdout.contains("\"permissionDecision\":\"deny\""), "\(text.debugDescription): \(run.stdout)")
        }
    }
}
