import Foundation
import Testing
@testable import SessionBridge
@testable import SessionBridgeCLI

/// Every command the helper prints runs verbatim where it is shown: `HelperName` decides the name, and no text
/// names the helper any other way.
@Suite struct NamingTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The words a printed command can start with after the helper's name.
    static let subcommands = ["start", "connect", "peers", "ask", "await", "listen", "reply", "status", "inbox", "stop", "gc",
                              "talk", "doctor", "launch", "watch", "hook", "help", "--help"]

    /// Places in `text` where `session-bridge SUBCOMMAND` appears as a command of its own, not as the end of the
    /// helper's name (`…/scripts/session-bridge" reply`), nor a label (`session-bridge: …`) or a word in prose.
    static func bareCommands(in text: String, helper: HelperName? = nil) -> [String] {
        var t = text
        if let helper { t = t.replacing(helper.text + " ", with: "<HELPER> ") }
        var found: [String] = []
        var search = t.startIndex
        while let r = t[search...].range(of: "session-bridge ") {
            search = r.upperBound
            if r.lowerBound > t.startIndex {
                let before = t[t.index(before: r.lowerBound)]
                // Part of a path, a quoted path or another word: not a command of its own.
                if before == "/" || before == "-" || before == "\"" || before == "'" || before.isLetter || before.isNumber { continue }
            }
            let word = t[r.upperBound...].prefix { !$0.isWhitespace && $0 != "`" && $0 != ")" }
            if subcommands.contains(String(word)) {
                let start = t.index(r.lowerBound, offsetBy: -min(30, t.distance(from: t.startIndex, to: r.lowerBound)))
                found.append(String(t[start..<t.index(r.upperBound, offsetBy: word.count)]))
            }
        }
        return found
    }

    @Test func theScannerFindsBareCommandsAndOnlyThose() {
        #expect(Self.bareCommands(in: "run `session-bridge peers` now").count == 1)
        #expect(Self.bareCommands(in: "then session-bridge talk say X").count == 1)
        #expect(Self.bareCommands(in: "\"/x/scripts/session-bridge\" reply 1").isEmpty)
        #expect(Self.bareCommands(in: "/x/bin/session-bridge reply 1").isEmpty)
        #expect(Self.bareCommands(in: "session-bridge: a message from peer sessions").isEmpty)
        #expect(Self.bareCommands(in: "the session-bridge store is safe").isEmpty)
    }

    // MARK: HelperName

    func executable(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "#!/bin/sh\necho RAN \"$@\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    @Test func agentSessionsGetTheFullQuotedLauncherPath() throws {
        let root = makeTempDir("plugin root") + "/it's \"odd\" $HOME `x`"
        try executable(root + "/scripts/session-bridge")
        for markers in [["CLAUDE_CODE_SESSION_ID": "c"], ["CLAUDECODE": "1"], ["CODEX_THREAD_ID": "t"], ["CLAUDE_PLUGIN_ROOT": root]] {
            var env = markers
            env["CLAUDE_PLUGIN_ROOT"] = root
            env["PATH"] = "/usr/bin:/bin"
            let h = HelperName(environment: Environment(env), argv0: "session-bridge", executable: nil)
            #expect(h.text.hasPrefix("'/"), "\(markers): \(h.text)")
            // The shell runs exactly that file, with the arguments after it.
            let out = shell(h.command("reply abc -"))
            #expect(out == "RAN reply abc -\n", "\(markers): \(h.text) ran \(out)")
        }
        // The launcher's own record wins; a plain path gets double quotes, matching `"${CLAUDE_PLUGIN_ROOT}/…"` rules.
        let plain = makeTempDir("plain") + "/scripts/session-bridge"
        try executable(plain)
        let h = HelperName(environment: Environment(["CLAUDE_CODE_SESSION_ID": "c", "SESSION_BRIDGE_LAUNCHER": plain, "CLAUDE_PLUGIN_ROOT": root]),
                           argv0: "x", executable: nil)
        #expect(h.text == "\"\(plain)\"")
        // Without any record, the launcher next to the binary's build folder.
        let fromBinary = HelperName(environment: Environment(["CODEX_THREAD_ID": "t"]), argv0: "x",
                                    executable: Self.repoRoot + "/.build/x86_64-unknown-linux-gnu/release/session-bridge")
        #expect(fromBinary.text == "\"\(Self.repoRoot)/scripts/session-bridge\"")
        // An explicit SESSION_BRIDGE_CLI is used verbatim.
        #expect(HelperName(environment: Environment(["SESSION_BRIDGE_CLI": "sb", "CLAUDECODE": "1"]), argv0: "x", executable: nil).text == "sb")
    }

    @Test func terminalsGetTheNameTheUserRan() throws {
        let dir = makeTempDir("bin dir")
        try executable(dir + "/session-bridge")
        let other = makeTempDir("other")
        try executable(other + "/session-bridge")
        // Typed as a bare name: found on PATH, so the bare name.
        #expect(HelperName(environment: Environment(["PATH": dir]), argv0: "session-bridge", executable: nil).text == "session-bridge")
        // Typed as a path that PATH also finds first: the bare name.
        #expect(HelperName(environment: Environment(["PATH": "\(dir):/bin"]), argv0: dir + "/session-bridge", executable: nil).text == "session-bridge")
        // Typed as a path that PATH does not reach (another installation comes first): that path, quoted for the shell.
        let typed = HelperName(environment: Environment(["PATH": "\(other):\(dir)"]), argv0: dir + "/session-bridge", executable: nil)
        #expect(typed.text == "'\(dir)/session-bridge'")
        #expect(shell(typed.command("status"), path: other) == "RAN status\n")
        // A relative path stays as typed; a launcher tells how it was run.
        #expect(HelperName(environment: Environment(["PATH": "/bin"]), argv0: "./bin/session-bridge", executable: nil).text == "./bin/session-bridge")
        #expect(HelperName(environment: Environment(["PATH": "/bin", "SESSION_BRIDGE_INVOKED_AS": "scripts/session-bridge"]),
                           argv0: "/abs/.build/release/session-bridge", executable: nil).text == "scripts/session-bridge")
    }

    func shell(_ command: String, path: String = "/usr/bin:/bin") -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.environment = ["PATH": path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try? p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Every message-producing path

    /// Error hints name the helper as given, for every error.
    @Test func everyErrorNamesTheHelperAsGiven() {
        let helper = HelperName(text: "\"/opt/plugin/scripts/session-bridge\"")
        let all: [BridgeError] = [
            .noIdentity, .sessionEnded(id: "ab12cd34", name: "app"), .unknownPeer("p"), .ambiguousPeer("p", candidates: ["a", "b"]), .peerEnded("p"), .unknownMessage("m"),
            .invalidID("x"), .invalidName("x"), .emptyMessage, .messageTooLarge(size: 9, limit: 1), .binaryContent(.nulBytes),
            .cannotMessageSelf, .badFilter(.jq("x")), .insecureStore(.writableByOthers(root: "x", mode: 0o777)), .storage(.reservationsDamaged(record: "x", inRedis: false)), .conflict(.talkLocked(lock: "x")), .conflict(.talkUnparsable(talk: "t", .noFrontmatter)), .conflict(.turnChecksum(talk: "t", turn: 1)),
            .conflict(.reserved(requested: BridgeErrorTests.reservation("a"), held: BridgeErrorTests.reservation("a"))),
            .invalidInput(.noSpeaker), .invalidInput(.launchWithoutCommand), .io(.jqUnavailable), .storeUnreachable("x"),
        ]
        for e in all {
            #expect(Self.bareCommands(in: e.message(helper: helper), helper: helper).isEmpty, "\(e): \(e.message(helper: helper))")
        }
        for s in [Identity.Situation.agentSession, .terminal, .script] {
            let advice = Identity.noSessionAdvice(s, helper: helper)
            #expect(advice.contains(helper.command("start")) && Self.bareCommands(in: advice, helper: helper).isEmpty)
        }
    }

    /// Hook contexts, Stop-hook feedback, the asyncRewake text, listen output, peers and status hints, and the
    /// watcher's prompts: each command in them starts with the helper's full launcher path.
    @Test func hookAndListenTextsNameTheLauncher() throws {
        let root = makeTempDir()
        let plugin = makeTempDir("plugin")
        try executable(plugin + "/scripts/session-bridge")
        let helper = "\"\(plugin)/scripts/session-bridge\""
        func env(_ claude: String, _ extra: [String: String] = [:]) -> Environment {
            Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": claude, "CLAUDE_PLUGIN_ROOT": plugin,
                         "SESSION_BRIDGE_STOP_WAIT_SECONDS": "0", "SESSION_BRIDGE_BACKGROUND_CHECK_SECONDS": "1"].merging(extra) { $1 })
        }
        func input(_ id: String) -> [UInt8] { Array(#"{"session_id":"\#(id)","cwd":"/p/svc"}"#.utf8) }
        _ = Hooks.sessionStart(input: input("busy"), environment: env("busy"))
        let asker = try makeBridge(root: root, key: "asker-key")
        _ = try asker.sessions.start(name: "asker", projectPath: "/p/asker")
        var texts: [String] = []

        _ = try asker.messages.ask("svc", content: "one")
        let context = try #require(Hooks.deliverPending(event: "PostToolUse", input: input("busy"), environment: env("busy")).stdout)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(context.utf8)) as? [String: [String: String]])
        texts.append(try #require(decoded["hookSpecificOutput"]?["additionalContext"]))
        let busy = try Bridge.open(environment: env("busy"))
        _ = try busy.sessions.setListenMode(.foreground)
        texts.append(try #require(Hooks.stop(input: input("busy"), environment: env("busy")).stderr))   // no message: "still listening"
        _ = try asker.messages.ask("svc", content: "two")
        texts.append(try #require(Hooks.stop(input: input("busy"), environment: env("busy")).stderr))
        _ = try busy.sessions.setListenMode(.background)
        _ = try asker.messages.ask("svc", content: "three")
        texts.append(try #require(Hooks.stopBackground(input: input("busy"), environment: env("busy")).stderr))
        _ = try busy.sessions.setListenMode(nil)
        _ = try asker.messages.ask("svc", content: "four")
        let delivered = try busy.messages.listen(timeoutSeconds: 1)
        texts.append(Render.delivery(delivered.message, cli: busy.config.cliPath))
        guard case .timedOut = try busy.messages.nextMessage(timeoutSeconds: 0) else { Issue.record("nothing should be pending"); return }
        texts.append(try #require(Ending.nothingArrived.text(helper: busy.config.helper)))
        texts.append(Render.peers([], helper: busy.config.helper))
        texts.append(Render.status(StatusService.SessionStatus(session: nil, storeRoot: root, pending: 0, claimed: 0, answered: 0, peers: []),
                                   helper: busy.config.helper))
        texts.append(Watcher.talkPrompt(nil, path: "/p/.talks/conversations/t1.md", speaker: "svc", id: "t1", dir: "/p/.talks",
                                        helper: HelperName(text: helper)))

        for text in texts {
            #expect(Self.bareCommands(in: text, helper: HelperName(text: helper)).isEmpty, "bare command in: \(text)")
        }
        for text in texts.prefix(5) where text.contains("reply ") {
            #expect(text.contains("\(helper) reply "), "reply command not runnable: \(text)")
        }
        #expect(texts[1].contains("\(helper) listen --off"))
        #expect(texts[5].contains("\(helper) listen"))
        #expect(texts[8].contains("\(helper) talk say t1 --dir /p/.talks --as svc"))
    }

    /// Claude Code's SessionStart puts the plugin's bin/ first on later Bash calls' PATH, once, and never writes
    /// through a symlink.
    @Test func sessionStartExportsThePluginBinOnce() throws {
        let root = makeTempDir()
        let plugin = makeTempDir("plugin dir")
        try executable(plugin + "/bin/session-bridge")
        let envFile = root + "/sessionstart-hook-0.sh"
        let env = Environment(["SESSION_BRIDGE_HOME": root + "/store", "CLAUDE_CODE_SESSION_ID": "s-1", "CLAUDE_PLUGIN_ROOT": plugin,
                               "CLAUDE_ENV_FILE": envFile])
        let input = Array(#"{"session_id":"s-1","cwd":"/p/x"}"#.utf8)
        _ = Hooks.sessionStart(input: input, environment: env)
        _ = Hooks.sessionStart(input: input, environment: env)
        let written = try String(contentsOfFile: envFile, encoding: .utf8)
        #expect(written == "export PATH='\(plugin)/bin':\"$PATH\"\n")
        // Sourced by a shell, the bare name is then this plugin's, whatever came first before.
        let other = makeTempDir("other")
        try executable(other + "/session-bridge")
        let found = shell(". '\(envFile)'; command -v session-bridge", path: other + ":/usr/bin:/bin")
        #expect(found == plugin + "/bin/session-bridge\n")
        // A symlink in its place is not written through.
        let target = root + "/target"
        FileManager.default.createFile(atPath: target, contents: Data())
        let linked = root + "/linked.sh"
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: target)
        let envLinked = Environment(["SESSION_BRIDGE_HOME": root + "/store", "CLAUDE_CODE_SESSION_ID": "s-1", "CLAUDE_PLUGIN_ROOT": plugin,
                                     "CLAUDE_ENV_FILE": linked])
        _ = Hooks.sessionStart(input: input, environment: envLinked)
        #expect(try String(contentsOfFile: target, encoding: .utf8).isEmpty)
    }

    /// The sources hold no message with a bare `session-bridge SUBCOMMAND` (help usage lines aside, which
    /// argument-parser builds from the command names), and neither do the texts agents are given.
    @Test func noSourceOrInstructionHardCodesTheName() throws {
        var offenders: [String] = []
        let fm = FileManager.default
        let sources = Self.repoRoot + "/Sources"
        for rel in fm.enumerator(atPath: sources)?.compactMap({ $0 as? String }) ?? [] where rel.hasSuffix(".swift") {
            let text = try String(contentsOfFile: sources + "/" + rel, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                for hit in Self.bareCommands(in: String(line)) { offenders.append("Sources/\(rel):\(n + 1): \(hit)") }
            }
        }
        var docs = ["AGENTS.md"]
        docs += (try? fm.contentsOfDirectory(atPath: Self.repoRoot + "/commands"))?.map { "commands/" + $0 } ?? []
        docs += (try? fm.contentsOfDirectory(atPath: Self.repoRoot + "/skills"))?.map { "skills/\($0)/SKILL.md" } ?? []
        for rel in docs {
            guard let text = try? String(contentsOfFile: Self.repoRoot + "/" + rel, encoding: .utf8) else { continue }
            for hit in Self.bareCommands(in: text) { offenders.append("\(rel): \(hit)") }
        }
        #expect(offenders.isEmpty, "bare commands:\n\(offenders.joined(separator: "\n"))")
    }
}
