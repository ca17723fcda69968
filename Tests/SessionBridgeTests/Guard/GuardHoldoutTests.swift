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
        let misses = "\(report)\nfalse allows:\n" + falseAllows.joined(separator: "\n") + "\nfalse denies:\n" + falseDenies.joined(separator: "\n")
        print(misses)
        #expect(blocked >= 0.95 && allowed >= 0.95, "\(misses)")
        #expect(reasons.isEmpty, "denials whose reason names no command to use:\n\(reasons.joined(separator: "\n"))")
    }

    /// The classes behind the held-out corpus's misses, each tried in forms the corpus does not hold, with the
    /// harmless form of each beside it.
    @Test func classesBehindTheMissesHoldInOtherForms() throws {
        let world = try SandboxWorld()
        defer { world.remove() }
        let fm = FileManager.default
        _ = fm.createFile(atPath: world.project + "/Makefile", contents: Data("build:\n\techo ok\nclean:\n\t@rm -rf .talks/locks\n".utf8))
        try fm.createDirectory(atPath: world.other + "/web", withIntermediateDirectories: true)
        _ = fm.createFile(atPath: world.other + "/web/package.json", contents: Data(#"{"scripts": {"test": "echo ok", "reset": "rm -rf ../.talks"}}"#.utf8))
        _ = fm.createFile(atPath: world.other + "/Makefile", contents: Data("all:\n\tswift build\n".utf8))
        let deny = [
            // A script read from a process substitution or from standard input by a path.
            "bash <(printf 'rm -rf %s' .talks)", "source <(echo 'truncate -s0 .talks/audit.log')", "sh <(cat <<'EOF'\nrm .talks/audit.log\nEOF\n)",
            "python3 /dev/stdin <<< \"import os; os.remove('.talks/audit.log')\"", "sh /dev/fd/0 <<< 'rm .talks/audit.log'",
            "echo 'rm -rf .talks' | bash /proc/self/fd/0", "node /dev/stdin <<< \"require('fs').rmSync('.talks',{recursive:true})\"",
            // Argument files.
            "xargs --arg-file=<(printf '%s\\n' .talks/audit.log) rm", "printf '.talks/audit.log\\n' > list.txt; xargs -a list.txt rm",
            // Values built with +=, or split with a custom IFS.
            "a=.ta; a+=lks; rm -r \"$a\"", "d=~; d+=/.claude/session-bridge; rm -rf $d", "IFS=:; c=rm:-rf:.talks; $c",
            "IFS=/; set -- x; w=\"rm .talks\"; IFS=' '; $w/audit.log",
            // Build files: written by the same call, or on disk naming a guarded folder.
            "printf 'x:\\n\\trm -rf .talks\\n' > build.mk && make -f build.mk x", "make clean", "make -C {PROJECT} clean",
            "printf '{\"scripts\":{\"test\":\"rm .talks/audit.log\"}}' > package.json; npm test", "cd {OTHER}/web && npm run reset",
            // Python's command-line modules.
            "python3 -m tarfile -e fixtures/talks.tgz", "python3 -m zipfile --extract fixtures/talks.zip .", "python3 -m zipfile -c .talks/z.zip README.md",
            "python3 -m json.tool README.json .talks/conversations/api.md", "python3 -m tarfile -c ~/.claude/session-bridge/x.tar README.md",
            // git writing a named file, or a repository inside a guarded folder.
            "cd .talks && git init", "git log --output .talks/audit.log", "git config --file=.talks/config a.b c",
            "git -C ~/.claude/session-bridge init --bare", "git show --output=../proj/.talks/x HEAD",
            // A local file fetched with curl is known text.
            "printf 'rm -rf .talks' > /tmp/w-$$.sh; curl -s file:///tmp/w-$$.sh | sh", "curl -s file://localhost{PROJECT}/fixtures/fix.patch | patch -p1",
            // Options read per program.
            "csplit -k -s -f .talks/part README.md 1", "csplit --prefix=.talks/p -s README.md 1", "cpio -id < fixtures/talks.cpio",
        ]
        let allow = [
            "bash <(echo 'echo hi')", "source <(printf 'X=1')", "diff <(sort README.md) <(sort notes.md)", "python3 /dev/stdin <<< 'print(1)'",
            "xargs -a <(printf '%s\\n' README.md) cat", "a=build; a+=/out; mkdir -p \"$a\"", "IFS=:; for p in $PATH; do ls \"$p\" >/dev/null; done",
            "make build", "make -n clean", "cd {OTHER} && make", "cd {OTHER}/web && npm test", "python3 -m json.tool {STORE}/sessions/abc/manifest.json",
            "python3 -m tarfile -l fixtures/talks.tar", "python3 -m zipfile -l fixtures/talks.zip", "python3 -m http.server --help",
            "git init ../new-repo", "git log --output=build.log", "git config --file=.git/config a.b c", "git diff --stat",
            "curl -s file://{PROJECT}/README.md | head", "csplit -s -f build/part README.md 1", "cpio -it < fixtures/talks.cpio",
            "cpio --extract --list < fixtures/talks.cpio",
            "python3 -c \"import os; print(open(os.environ['HOME']+'/.claude/session-bridge/sessions/abc/manifest.json').read())\"",
        ]
        var wrong: [String] = []
        for (commands, expect) in [(deny, "deny"), (allow, "allow")] {
            for c in commands {
                let e = GuardCorpus.Entry(host: "claude", tool: "Bash", input: ["command": c], expect: expect, cwd: nil)
                let got = Guard.evaluate(input: try world.hookInput(e), environment: world.environment) == .allow ? "allow" : "deny"
                if got != expect { wrong.append("expected \(expect), got \(got): \(c)") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) wrong:\n\(wrong.joined(separator: "\n"))")
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
