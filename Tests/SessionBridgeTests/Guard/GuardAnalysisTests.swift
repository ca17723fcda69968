import Foundation
import Testing
@testable import SessionBridge

/// The guard's parts one by one: hostile input, Codex's patch grammar, the trusted helper, tilde forms, and the
/// effects API that edit reservations will use.
@Suite struct GuardAnalysisTests {
    @Test func hostileCommandsNeverTrapAndStayFast() throws {
        let world = try GuardWorld()
        var hostile = [
            "", "$", "${", "$(", "`", "'", "\"", "\\", "$((", "<<", "<<EOF", "<<<", ">&", "&>", "(((((", ")))))", "{ { {", "}}}", ";;;", "|||", "&&&",
            "$'\\x", "$'\\u", "$'\\c", "${x/", "${x:", "${!", "${#", "${x%%", "case", "case x in", "for", "for x in", "if then fi", "while do done",
            "f() {", "function", "[[", "[[ x", "((", "a=(", "a=(b", "cat <<-'E'\n\tx", "echo \u{0}\u{1}\u{2}\u{3}\u{4}", "\u{FEFF}rm -rf .talks",
            String(repeating: "(", count: 5000), String(repeating: "$(", count: 3000), String(repeating: "`", count: 3001),
            String(repeating: "{a,b}", count: 40), "echo {1..1000000000}", "echo {a..z}{a..z}{a..z}{a..z}", String(repeating: "x;", count: 50_000),
            "eval " + String(repeating: "eval ", count: 500) + "x", "f() { f; }; f", "a() { b; }; b() { a; }; a",
            "x=$(x=$(x=$(x=$(x=$(echo .talks)))))); rm -rf $x", String(repeating: "${x:-", count: 2000) + "y" + String(repeating: "}", count: 2000),
            "cat " + String(repeating: "/*", count: 40), "echo " + String(repeating: "a", count: 1 << 20),
        ]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab .$(){}[]<>|&;'\"`\\\n\t*?~!#=%/-:,@^+0123456789talksx")
        for _ in 0..<1500 {
            let n = Int.random(in: 0..<80, using: &generator)
            hostile.append(String((0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }))
        }
        for command in hostile {
            let start = Date()
            _ = Guard.evaluate(command: command, cwd: world.project, environment: world.environment)
            #expect(Date().timeIntervalSince(start) < 5, "slow: \(command.prefix(80))")
        }
        // Hook input shapes: odd JSON types, argument lists with markers, huge inputs.
        for input in ["{\"tool_name\":\"Bash\",\"tool_input\":{\"command\":[1,2]}}", "{\"tool_name\":\"Bash\",\"tool_input\":{\"command\":[\"\u{2}\",\"-rf\"]}}",
                      "{\"tool_name\":\"apply_patch\",\"tool_input\":{\"command\":\"*** Add File:\"}}", "{\"tool_name\":7}", "[]", "null"] {
            _ = Guard.evaluate(input: Array(input.utf8), environment: world.environment)
        }
    }

    @Test func applyPatchReadsHeadersTheWayCodexDoes() {
        let patch = "<<'EOF'\r\n*** Begin Patch\r\n   *** Add File: a.md  \r\n+x\r\n\t*** Update File: b.md\r\n*** Move to: c.md\r\n@@\r\n-a\r\n+b\r\n*** Delete File: d.md\r\n*** End Patch\r\nEOF"
        let changes = ApplyPatch.paths(in: patch)
        #expect(changes == [.init(path: "a.md", removes: false), .init(path: "b.md", removes: true), .init(path: "c.md", removes: false), .init(path: "d.md", removes: true)])
    }

    @Test func onlyTheRealHelperMayWriteTheStore() throws {
        let world = try GuardWorld()
        let fake = world.base + "/bin/session-bridge"
        try FileManager.default.createDirectory(atPath: world.base + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: fake, atomically: false, encoding: .utf8)
        let real = world.base + "/real/scripts/session-bridge"
        try FileManager.default.createDirectory(atPath: world.base + "/real/scripts", withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: real, atomically: false, encoding: .utf8)
        let g = Guard(cwd: world.project, environment: world.environment, trustedHelpers: [GuardPaths.resolve(real)])
        let command = " talk normalize .talks/conversations/a.md"
        #expect(g.verdict(g.effects(ofShell: "\"\(real)\"" + command, cwd: world.project), tool: "Bash") == .allow)
        #expect(g.verdict(g.effects(ofShell: "\"\(fake)\"" + command, cwd: world.project), tool: "Bash") != .allow)
        #expect(g.verdict(g.effects(ofShell: "./session-bridge" + command, cwd: world.project), tool: "Bash") != .allow)
        // The trusted helper's own redirections are still the shell's writes.
        #expect(g.verdict(g.effects(ofShell: "\"\(real)\" peers > .talks/x", cwd: world.project), tool: "Bash") != .allow)
    }

    /// A session registered by another installation (Claude Code's plugin folder while this hook runs from Codex's
    /// plugin cache) records its helpers in its manifest; a command a peer printed with that launcher runs. A
    /// launcher no session registered is still just a program named session-bridge.
    @Test func helpersOfRegisteredInstallationsAreTrusted() throws {
        let world = try GuardWorld()
        let fm = FileManager.default
        for dir in ["/other/scripts", "/fake/scripts", "/store-session"] {
            try fm.createDirectory(atPath: world.base + dir, withIntermediateDirectories: true)
        }
        let other = world.base + "/other/scripts/session-bridge", fake = world.base + "/fake/scripts/session-bridge"
        for path in [other, fake] {
            try "#!/bin/sh\nexec \"$(dirname \"$0\")/../bin/helper\" \"$@\"\n".write(toFile: path, atomically: false, encoding: .utf8)
            chmod(path, 0o755)
        }
        let sessionDir = world.store + "/sessions/abcd1234"
        try fm.createDirectory(atPath: sessionDir, withIntermediateDirectories: true)
        var manifest = SessionManifest(id: "abcd1234", name: "lib", projectPath: world.project, host: "h", pid: 1, pidStartTime: nil,
                                       agent: "claude-code", claudeSessionId: nil, codexThreadId: nil, startedAt: "", lastSeen: "",
                                       state: "live", endedAt: nil)
        manifest.helpers = [GuardPaths.resolve(other)]
        try Data(JSONCoding.encode(manifest)).write(to: URL(fileURLWithPath: sessionDir + "/manifest.json"))
        let join = " talk wait t-1 --dir \(world.project)/.talks"
        #expect(Guard.evaluate(command: "\"\(other)\"" + join, cwd: world.project, environment: world.environment) == .allow)
        #expect(Guard.evaluate(command: "\"\(fake)\"" + join, cwd: world.project, environment: world.environment) != .allow)
    }

    @Test func tildeFormsExpandAsBashDoes() throws {
        let world = try GuardWorld()
        let g = Guard(cwd: world.project, environment: world.environment, trustedHelpers: [])
        func places(_ command: String) -> [ToolEffects.Place] { g.effects(ofShell: command, cwd: world.project).writtenPlaces?.map(\.0) ?? [] }
        let root = GuardPaths.resolve("/root")
        #expect(places("touch ~root/x") == [.exact(root + "/x")])
        #expect(places("touch ~+/x") == [.exact(GuardPaths.resolve(world.project) + "/x")])
        #expect(places("cd /tmp; touch ~-/x") == [.exact(GuardPaths.resolve(world.project) + "/x")])
        #expect(places("touch ~nosuchuser/x") == [.exact(GuardPaths.resolve(world.project) + "/~nosuchuser/x")])
        #expect(places("touch '~'/x") == [.exact(GuardPaths.resolve(world.project) + "/~/x")])
    }

    @Test func effectsNameWhatACallMayWrite() throws {
        let world = try GuardWorld()
        let g = Guard(cwd: world.project, environment: world.environment, trustedHelpers: [])
        let project = GuardPaths.resolve(world.project)
        let known = g.effects(ofShell: "mkdir -p build && cp a.txt build/ && rm -rf dist", cwd: world.project)
        let places = try #require(known.writtenPlaces)
        #expect(places.map(\.0) == [.exact(project + "/build"), .exact(project + "/build/a.txt"), .exact(project + "/dist")])
        #expect(places.last.map { $0.1 == .tree } == true)
        // An unmodelled program, or a write whose target is only known at run time, makes the set unknowable.
        #expect(g.effects(ofShell: "make install", cwd: world.project).writtenPlaces == nil)
        #expect(g.effects(ofShell: "find src | xargs rm", cwd: world.project).writtenPlaces?.map(\.0) == [.under(project + "/src")])
        #expect(g.effects(ofShell: "rm $(curl -s https://example.com/list)", cwd: world.project).writtenPlaces?.map(\.0) == [.anywhere])
        #expect(g.effects(ofShell: "cat README.md | grep x", cwd: world.project).writtenPlaces?.isEmpty == true)
    }

    @Test func removingALinkIntoAGuardedFolderIsAllowedButWritingThroughItIsNot() throws {
        let world = try GuardWorld()
        for allowed in ["rm notes-link", "rm -rf notes-link", "unlink notes-link", "mv notes-link x", "ln -sfn /tmp notes-link"] {
            #expect(Guard.evaluate(command: allowed, cwd: world.project, environment: world.environment) == .allow, "\(allowed)")
        }
        for denied in ["rm -rf notes-link/", "rm notes-link/x.md", "touch notes-link/x", "chmod 600 notes-link", "cp a notes-link"] {
            #expect(Guard.evaluate(command: denied, cwd: world.project, environment: world.environment) != .allow, "\(denied)")
        }
    }

    /// A project's own scripts already on disk (build, test, release scripts) run: paths only their run time knows
    /// do not make them writers into the store, or every build script would be denied. A script on disk that names a
    /// guarded folder, and a script this very call writes, are still judged in full.
    @Test func projectScriptsOnDiskRunButOnesThatNameAGuardedFolderDoNot() throws {
        let world = try GuardWorld()
        let fm = FileManager.default
        try fm.createDirectory(atPath: world.project + "/scripts", withIntermediateDirectories: true)
        func script(_ name: String, _ text: String) throws {
            let path = world.project + "/scripts/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        try script("build", "#!/usr/bin/env bash\nset -e\ncd \"$(dirname \"$0\")/..\"\nout=$(mktemp -d)\ncp -r src \"$out\"\nmv \"$out\" \"$1\"\nmake -C \"$PWD\" all\n")
        try script("gen.py", "#!/usr/bin/env python3\nimport os, sys\nopen(os.path.join(sys.argv[1], 'x'), 'w').write('y')\n")
        try script("wipe", "#!/bin/sh\nrm -rf .talks\n")
        try script("wipe-store", "#!/bin/sh\nrm -rf \"$HOME/.claude/session-bridge\"\n")
        for allowed in ["scripts/build", "./scripts/build dist", "bash scripts/build", "sh -c scripts/build", "scripts/gen.py out", "python3 scripts/gen.py out"] {
            #expect(Guard.evaluate(command: allowed, cwd: world.project, environment: world.environment) == .allow, "\(allowed)")
        }
        for denied in ["scripts/wipe", "bash scripts/wipe", "scripts/wipe-store", "scripts/build .talks",
                       "echo 'rm -rf .talks' > t.sh && bash t.sh", "printf 'rm -rf \\\"$1\\\"' > t.sh; sh t.sh $(echo .ta)lks", "echo 'cp x \"$HOME/.claude/session-bridge/\"' > t.sh; sh t.sh"] {
            #expect(Guard.evaluate(command: denied, cwd: world.project, environment: world.environment) != .allow, "\(denied)")
        }
    }
}
