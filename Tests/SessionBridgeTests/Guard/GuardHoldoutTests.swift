import Foundation
import Testing
@testable import SessionBridge

/// The held-out corpus: tool calls written from the README's guard section and issue 12 only, without reading the
/// guard's code, in both hosts' shapes. It is judged in the same sandbox as the adversarial corpus, and every
/// must-block entry is run for real there to show that it would have changed a guarded folder.
@Suite(.serialized) struct GuardHoldoutTests {
    static let corpusName = "guard-corpus-holdout.json"

    @Test func holdoutCorpusIsLargeAndCoversBothHostsAndEveryTool() throws {
        let c = try GuardCorpus.load(Self.corpusName)
        #expect(c.filter { $0.expect == "deny" }.count >= 150)
        #expect(c.filter { $0.expect == "allow" }.count >= 100)
        for host in ["claude", "codex"] { #expect(c.contains { $0.host == host && $0.expect == "deny" } && c.contains { $0.host == host && $0.expect == "allow" }) }
        for tool in ["Bash", "Write", "Edit", "MultiEdit", "NotebookEdit", "apply_patch"] {
            #expect(c.contains { $0.tool == tool && $0.expect == "deny" } && c.contains { $0.tool == tool && $0.expect == "allow" })
        }
        #expect(c.contains { ($0.input as? [String: Any])?["command"] is [String] })
        #expect(c.allSatisfy { $0.expect == "deny" || $0.expect == "allow" })
    }

    /// Blocked share of the must-block entries and allowed share of the must-allow ones, with every miss listed.
    @Test func holdoutCorpusAccuracy() throws {
        let world = try SandboxWorld()
        defer { world.remove() }
        var falseAllows: [String] = [], falseDenies: [String] = [], reasons: [String] = []
        let corpus = try GuardCorpus.load(Self.corpusName)
        for e in corpus {
            switch Guard.evaluate(input: try world.hookInput(e), environment: world.environment) {
            case .allow:
                if e.expect == "deny" { falseAllows.append(e.text) }
            case .deny(let reason):
                if e.expect == "allow" { falseDenies.append(e.text + "\n    reason: " + reason) }
                if !reason.contains("session-bridge") { reasons.append(e.text) }
            }
        }
        let denies = corpus.filter { $0.expect == "deny" }.count, allows = corpus.count - denies
        let blocked = Double(denies - falseAllows.count) / Double(denies), allowed = Double(allows - falseDenies.count) / Double(allows)
        let report = String(format: "held-out guard corpus: blocked %d/%d (%.1f %%), allowed %d/%d (%.1f %%)",
                            denies - falseAllows.count, denies, blocked * 100, allows - falseDenies.count, allows, allowed * 100)
        print(report)
        let misses = "\(report)\nfalse allows:\n" + falseAllows.joined(separator: "\n") + "\nfalse denies:\n" + falseDenies.joined(separator: "\n")
        withKnownIssue("the guard before the held-out corpus's fixes") {
            #expect(blocked >= 0.95 && allowed >= 0.95, "\(misses)")
        }
        #expect(reasons.isEmpty, "denials whose reason names no command to use:\n\(reasons.joined(separator: "\n"))")
    }

    /// Each must-block entry, run for real in a fresh copy of the sandbox, changes something in a guarded folder.
    @Test func everyHoldoutMustBlockEntryReallyChangesAGuardedFolder() throws {
        let template = try SandboxWorld()
        defer { template.remove() }
        var inert: [String] = []
        for e in try GuardCorpus.load(Self.corpusName) where e.expect == "deny" {
            let world = try SandboxWorld(copying: template)
            defer { world.remove() }
            let before = try world.snapshot()
            try world.execute(e)
            if try world.snapshot() == before { inert.append(e.text) }
        }
        #expect(inert.isEmpty, "\(inert.count) must-block entries changed nothing:\n\(inert.joined(separator: "\n"))")
    }
}

extension SandboxWorld {
    /// A fresh sandbox copied from one already built (the layout holds only relative links), far cheaper than
    /// running the setup script again.
    init(copying template: SandboxWorld) throws {
        base = GuardPaths.collapse(makeTempDir("guard-holdout"))
        home = base + "/home"
        store = home + "/.claude/session-bridge"
        project = home + "/work/proj"
        other = home + "/work/other"
        let r = try SandboxWorld.run(["cp", "-a", template.home, base + "/"], cwd: "/", environment: ["PATH": SandboxWorld.path])
        if r.status != 0 { throw SandboxError.setup(r.output) }
    }
}
