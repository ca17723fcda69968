import Foundation
import Testing
@testable import SessionBridge

/// A sandbox for the adversarial corpus: a temp HOME with a populated store, a git project whose `.talks/` is
/// ignored (one talk force-added and edited since), fixtures (archives, patches, a source tree holding `.talks`),
/// relative symlinks into the talks folder, and another project with its own `.talks/`.
struct SandboxWorld {
    let base: String, home: String, store: String, project: String, other: String
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// The sandbox layout, shared with scripts/bench.
    static var setupScript: String { (try? String(contentsOfFile: fixtures + "/guard-sandbox-setup.sh", encoding: .utf8)) ?? "exit 1" }

    init() throws {
        base = GuardPaths.collapse(makeTempDir("guard-sandbox"))
        home = base + "/home"
        store = home + "/.claude/session-bridge"
        project = home + "/work/proj"
        other = home + "/work/other"
        let r = try SandboxWorld.shell(SandboxWorld.setupScript, args: [base, SandboxWorld.fixtures + "/bin"], cwd: base, environment: ["HOME": base, "PATH": SandboxWorld.path])
        if r.status != 0 { throw SandboxError.setup(r.output) }
    }

    enum SandboxError: Error { case setup(String) }

    static var path: String { fixtures + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") }

    var environmentValues: [String: String] {
        ["HOME": home, "SESSION_BRIDGE_HOME": store, "USER": "dev", "PATH": SandboxWorld.path, "LANG": "C"]
    }
    var environment: Environment { Environment(environmentValues) }

    func substitute(_ s: String) -> String {
        s.replacing("{PROJECT}", with: project).replacing("{STORE}", with: store).replacing("{HOME}", with: home).replacing("{OTHER}", with: other)
    }

    func substitute(_ value: Any) -> Any {
        if let s = value as? String { return substitute(s) }
        if let a = value as? [Any] { return a.map { substitute($0) } }
        if let d = value as? [String: Any] { return d.mapValues { substitute($0) } }
        return value
    }

    func hookInput(_ e: GuardCorpus.Entry) throws -> [UInt8] {
        var object: [String: Any] = ["session_id": "s-1", "cwd": e.cwd.map(substitute) ?? project, "hook_event_name": "PreToolUse",
                                     "tool_name": e.tool, "tool_input": substitute(e.input)]
        if e.host == "codex" { object["turn_id"] = "t-1" } else { object["transcript_path"] = home + "/.claude/projects/p/s-1.jsonl" }
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    /// Everything about the guarded folders that a write could change: names, types, modes, owners, sizes, times,
    /// link targets and contents.
    func snapshot() throws -> String {
        let script = #"""
        for r in "$@"; do
          if [ -e "$r" ] || [ -L "$r" ]; then
            find "$r" -printf '%p|%y|%m|%U|%G|%s|%T@|%l\n' 2>/dev/null
            find "$r" -type f -exec md5sum {} + 2>/dev/null
          else
            echo "missing $r"
          fi
        done | sort
        """#
        return try SandboxWorld.shell(script, args: [store, project + "/.talks", other + "/.talks"], cwd: base, environment: ["PATH": SandboxWorld.path]).output
    }

    /// Runs the entry for real, as its host would.
    func execute(_ e: GuardCorpus.Entry) throws {
        let input = substitute(e.input) as? [String: Any] ?? [:]
        let cwd = e.cwd.map(substitute) ?? project
        func path(_ p: String) -> String {
            let t = p == "~" || p.hasPrefix("~/") ? home + p.dropFirst() : p
            return t.hasPrefix("/") ? t : cwd + "/" + t
        }
        switch e.tool {
        case "Bash":
            var dir = cwd
            if let w = input["workdir"] as? String { dir = w.hasPrefix("/") ? w : cwd + "/" + w }
            if let argv = input["command"] as? [String] {
                _ = try SandboxWorld.run(argv, cwd: dir, environment: environmentValues)
            } else if let command = input["command"] as? String {
                _ = try SandboxWorld.shell(command, args: [], cwd: dir, environment: environmentValues)
            }
        case "apply_patch":
            _ = try SandboxWorld.run(["apply_patch", input["command"] as? String ?? ""], cwd: cwd, environment: environmentValues)
        case "Write":
            let p = path(input["file_path"] as? String ?? "")
            try? FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? (input["content"] as? String ?? "").write(toFile: p, atomically: false, encoding: .utf8)
        case "Edit", "MultiEdit":
            let p = path(input["file_path"] as? String ?? "")
            guard var text = try? String(contentsOfFile: p, encoding: .utf8) else { return }
            let edits = (input["edits"] as? [[String: Any]]) ?? [input]
            for edit in edits {
                text = text.replacing(edit["old_string"] as? String ?? "", with: edit["new_string"] as? String ?? "")
            }
            try? text.write(toFile: p, atomically: false, encoding: .utf8)
        case "NotebookEdit":
            let p = path(input["notebook_path"] as? String ?? "")
            try? "{\"cells\": [{\"source\": \(input["new_source"] as? String ?? "")}]}".write(toFile: p, atomically: false, encoding: .utf8)
        default:
            break
        }
    }

    func remove() {
        _ = try? SandboxWorld.run(["chmod", "-R", "u+rwx", base], cwd: "/", environment: ["PATH": SandboxWorld.path])
        try? FileManager.default.removeItem(atPath: base)
    }

    static func shell(_ script: String, args: [String], cwd: String, environment: [String: String]) throws -> (status: Int32, output: String) {
        try run(["/bin/bash", "-c", script, "bash"] + args, cwd: cwd, environment: environment)
    }

    /// Runs a program with a time limit; stdin is empty, output is collected.
    static func run(_ argv: [String], cwd: String, environment: [String: String], timeout: Double = 20) throws -> (status: Int32, output: String) {
        let p = Process()
        if argv[0].contains("/") {
            p.executableURL = URL(fileURLWithPath: argv[0])
            p.arguments = Array(argv.dropFirst())
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = argv
        }
        p.currentDirectoryURL = URL(fileURLWithPath: FileManager.default.fileExists(atPath: cwd) ? cwd : "/")
        p.environment = environment
        let outPath = NSTemporaryDirectory() + "/sandbox-out-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(2_000) }
        if p.isRunning { p.terminate(); usleep(100_000); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        p.waitUntilExit()
        try? out.close()
        let data = FileManager.default.contents(atPath: outPath) ?? Data()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

enum GuardCorpus {
    struct Entry {
        var host: String, tool: String, input: Any, expect: String, cwd: String?
        var text: String {
            let i = input as? [String: Any]
            let v = i?["command"] ?? i?["file_path"] ?? i?["notebook_path"] ?? input
            return "\(host) \(tool): \(v)"
        }
    }

    static func load(_ name: String) throws -> [Entry] {
        let url = URL(fileURLWithPath: SandboxWorld.fixtures).appendingPathComponent(name)
        let array = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
        return array.map { Entry(host: $0["host"] as? String ?? "", tool: $0["tool"] as? String ?? "", input: $0["input"] ?? [:],
                                 expect: $0["expect"] as? String ?? "", cwd: $0["cwd"] as? String) }
    }
}

@Suite(.serialized) struct GuardSandboxTests {
    static let corpusName = "guard-corpus-adversarial.json"

    @Test func adversarialCorpusIsLargeAndCoversBothHosts() throws {
        let c = try GuardCorpus.load(Self.corpusName)
        #expect(c.filter { $0.expect == "deny" }.count >= 150)
        #expect(c.filter { $0.expect == "allow" }.count >= 100)
        for host in ["claude", "codex"] { #expect(c.contains { $0.host == host && $0.expect == "deny" } && c.contains { $0.host == host && $0.expect == "allow" }) }
        for tool in ["Bash", "Write", "Edit", "MultiEdit", "NotebookEdit", "apply_patch"] { #expect(c.contains { $0.tool == tool }) }
        #expect(c.contains { ($0.input as? [String: Any])?["command"] is [String] })
    }

    @Test func adversarialCorpusGetsItsVerdicts() throws {
        let world = try SandboxWorld()
        defer { world.remove() }
        var wrong: [String] = []
        for e in try GuardCorpus.load(Self.corpusName) {
            let verdict = Guard.evaluate(input: try world.hookInput(e), environment: world.environment)
            let got: String
            switch verdict {
            case .allow: got = "allow"
            case .deny(let reason):
                got = "deny"
                if !reason.contains("session-bridge") { wrong.append("reason without the command to use: \(reason)") }
            }
            if got != e.expect { wrong.append("expected \(e.expect), got \(got): \(e.text)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) wrong:\n\(wrong.joined(separator: "\n"))")
    }

    /// Each must-block entry, run for real in a fresh sandbox, changes something in a guarded folder: the corpus
    /// holds no entry the guard could block without cause.
    @Test func everyMustBlockEntryReallyChangesAGuardedFolder() throws {
        var inert: [String] = []
        for e in try GuardCorpus.load(Self.corpusName) where e.expect == "deny" {
            let world = try SandboxWorld()
            defer { world.remove() }
            let before = try world.snapshot()
            try world.execute(e)
            let after = try world.snapshot()
            if before == after { inert.append(e.text) }
        }
        #expect(inert.isEmpty, "\(inert.count) must-block entries changed nothing:\n\(inert.joined(separator: "\n"))")
    }
}
