import Foundation
import Testing
@testable import SessionBridge

/// A person's terminal is a session: a real tmux pane runs a login shell with no agent and no bridge variables; every
/// command is typed into it, as a person would, and the peer is another bridge session driven by the CLI.
@Suite(.serialized) struct TerminalProcessTests {
    static var hasTmux: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

    struct Pane {
        let dir: String, home: String, store: String, socket: String, bin: String, talks: String
        var typed = 0

        init() throws {
            dir = makeTempDir("term")
            home = dir + "/home"
            store = home + "/.claude/session-bridge"
            socket = dir + "/tmux.sock"
            bin = dir + "/bin"
            talks = dir + "/talks"
            for d in [home, bin, dir + "/proj"] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
            // The helper on the pane's PATH under its own name, as a person installs it.
            try FileManager.default.createSymbolicLink(atPath: bin + "/session-bridge", withDestinationPath: CLI.binary)
        }

        func tmux(_ args: [String]) -> Run {
            let r = ChildProcess.run(["tmux", "-S", socket, "-f", "/dev/null"] + args, environment: ["PATH": "/usr/bin:/bin", "HOME": home])
            return Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
        }

        /// A login shell started by tmux from an empty environment: no agent markers, no SESSION_BRIDGE_* variables.
        func open() {
            let r = tmux(["new-session", "-d", "-s", "t", "-x", "200", "-y", "50", "-c", dir + "/proj", Self.shell(home: home, bin: bin)])
            #expect(r.status == 0, "\(r.stderr)")
        }

        /// Another tab: a new tmux window with its own login shell.
        func openTab() {
            let r = tmux(["new-window", "-d", "-t", "t:9", "-c", dir + "/proj", Self.shell(home: home, bin: bin)])
            #expect(r.status == 0, "\(r.stderr)")
        }

        static func shell(home: String, bin: String) -> String {
            "env -i HOME='\(home)' PATH='\(bin):/usr/bin:/bin' TERM=xterm bash --login --noprofile --norc"
        }

        /// Types `line` into the pane with its output and exit status going to a file; returns what it printed.
        mutating func type(_ line: String, in target: String = "t:0", seconds: Double = 30) -> (status: Int32, output: String) {
            typed += 1
            let out = dir + "/out\(typed)"
            // The group closes on a line of its own, so a typed here-document ends where its terminator line is.
            _ = tmux(["send-keys", "-t", target, "-l", "{ \(line)\n} > '\(out)' 2>&1; echo \"rc=$?\" > '\(out).rc'"])
            _ = tmux(["send-keys", "-t", target, "Enter"])
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let rc = try? String(contentsOfFile: out + ".rc", encoding: .utf8), rc.hasSuffix("\n"),
                   let status = Int32(rc.dropFirst(3).dropLast()) {
                    return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
                }
                usleep(20_000)
            }
            Issue.record("no result for: \(line)")
            return (-1, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
        }

        func peer(_ args: [String]) throws -> Run { try CLI.run(args, root: store, key: "peer-key", extra: ["HOME": home], cwd: dir) }
    }

    /// Runs a command the helper printed, verbatim but for the placeholder, in a plain shell.
    static func runPrinted(_ command: String, placeholder: String, with value: String, key: String, pane: Pane) -> Run {
        let filled = command.replacing(placeholder, with: value)
        let r = ChildProcess.run(["/bin/sh", "-c", filled],
                                 environment: ["PATH": "\(pane.bin):/usr/bin:/bin", "HOME": pane.home, "SESSION_BRIDGE_SESSION": key])
        return Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    @Test(.enabled(if: hasTmux, "needs tmux")) func aPersonsTerminalAsksAndTalksWithNoVariable() throws {
        var p = try Pane()
        defer { _ = p.tmux(["kill-server"]) }
        p.open()
        #expect(try p.peer(["start", "--name", "peer"]).status == 0)

        // Before start, the terminal is told what to do, in its own words.
        let before = p.type("session-bridge ask peer hello")
        #expect(before.status == 3 && before.output.contains("this terminal has no bridge session yet")
                && before.output.contains("`session-bridge start --name NAME`"), "\(before)")

        let started = p.type("session-bridge start --name me")
        #expect(started.status == 0 && started.output.contains("bound to this terminal"), "\(started)")
        let id = started.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(Identifiers.isValidID(id))
        // The same terminal, from a subshell in another folder: still "me".
        let sub = p.type("(cd / && sh -c 'session-bridge status')")
        #expect(sub.status == 0 && sub.output.contains("session: me (\(id))"), "\(sub)")
        // A new tab is another terminal: no session until it starts one, and then another one.
        p.openTab()
        let tab = p.type("session-bridge status", in: "t:9")
        #expect(tab.status == 0 && tab.output.contains("session: none bound here"), "\(tab)")
        let tabStart = p.type("session-bridge start --name me", in: "t:9")
        #expect(tabStart.status == 0 && tabStart.output.contains("registered as me-2"), "\(tabStart)")
        #expect(p.type("session-bridge status").output.contains("session: me (\(id))"))

        // Ask the peer and wait; the peer answers with the exact command its listen printed.
        let listener = try CLI.start(["listen", "--timeout", "30"], root: p.store, key: "peer-key", extra: ["HOME": p.home])
        usleep(100_000)
        p.typed += 1
        let askOut = p.dir + "/ask.out"
        _ = p.tmux(["send-keys", "-t", "t", "-l", "session-bridge ask peer 'which port?' --wait 30 > '\(askOut)' 2>&1; echo \"rc=$?\" >> '\(askOut)'"])
        _ = p.tmux(["send-keys", "-t", "t", "Enter"])
        let heard = CLI.finish(listener)
        #expect(heard.status == 0 && heard.stdout.contains("which port?") && heard.stdout.contains("from: me (\(id))"), "\(heard)")
        let reply = heard.stdout.split(separator: "\n").first { $0.contains(" reply ") }.map(String.init) ?? ""
        let replied = Self.runPrinted(reply + "\n<your answer>\nSESSION_BRIDGE_REPLY\n", placeholder: "<your answer>", with: "8080",
                                      key: "peer-key", pane: p)
        #expect(replied.status == 0, "\(reply): \(replied.stderr)")
        let deadline = Date().addingTimeInterval(30)
        var answer = ""
        while Date() < deadline, !answer.contains("rc=") { answer = (try? String(contentsOfFile: askOut, encoding: .utf8)) ?? ""; usleep(20_000) }
        #expect(answer.contains("8080") && answer.contains("rc=0"), "\(answer)")

        // The peer asks the terminal; the terminal listens and answers with the reply command listen printed, as is.
        let asked = try CLI.start(["ask", "me", "your editor?", "--wait", "30"], root: p.store, key: "peer-key", extra: ["HOME": p.home])
        let delivered = p.type("session-bridge listen --timeout 20")
        #expect(delivered.status == 0 && delivered.output.contains("your editor?"), "\(delivered)")
        let lines = delivered.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let start = lines.firstIndex(where: { $0.hasPrefix("session-bridge reply ") }), start + 2 < lines.count {
            let printed = lines[start...(start + 2)].joined(separator: "\n").replacing("<your answer>", with: "vim, of course")
            let answered = p.type(printed)
            #expect(answered.status == 0, "\(printed): \(answered)")
        } else {
            Issue.record("no bare reply command in the terminal's listen output: \(delivered.output)")
        }
        let got = CLI.finish(asked)
        #expect(got.status == 0 && got.stdout.contains("vim, of course"), "\(got)")

        // A talk from the terminal: no --as anywhere on its side, its name is the speaker.
        let opened = p.type("session-bridge talk new 'port plan' --with peer --dir '\(p.talks)'")
        #expect(opened.status == 0 && opened.output.contains("me speaks first"), "\(opened)")
        let talk = opened.output.split(separator: "\n").last.map(String.init) ?? ""
        let first = p.type("session-bridge talk say \(talk) --dir '\(p.talks)' 'me: use 8080'")
        #expect(first.status == 0 && first.output.contains("next: peer"), "\(first)")
        let peerTurn = try p.peer(["talk", "wait", talk, "--dir", p.talks, "--timeout", "10"])
        #expect(peerTurn.status == 0 && peerTurn.stdout.contains("me: use 8080"), "\(peerTurn)")
        // The peer takes its turn with the command its wait printed.
        let say = peerTurn.stdout.split(separator: "\n").first { $0.contains(" talk say ") }.map(String.init) ?? ""
        let said = Self.runPrinted(say + "\n<your turn>\nSESSION_BRIDGE_TURN\n", placeholder: "<your turn>", with: "peer: agreed, 8080",
                                   key: "peer-key", pane: p)
        #expect(said.status == 0 && said.stdout.contains("next: me"), "\(said.stdout) \(said.stderr)")
        let back = p.type("session-bridge talk wait \(talk) --dir '\(p.talks)' --timeout 10")
        #expect(back.status == 0 && back.output.contains("peer: agreed, 8080") && back.output.contains("talk say \(talk)"), "\(back)")
        let second = p.type("session-bridge talk say \(talk) --dir '\(p.talks)' 'me: done'")
        #expect(second.status == 0, "\(second)")
        let shown = p.type("session-bridge talk show \(talk) --dir '\(p.talks)'")
        #expect(shown.output.contains("Turn 1 — me") && shown.output.contains("Turn 2 — peer") && shown.output.contains("Turn 3 — me"), "\(shown)")

        // Closing the terminal ends its shell: the session is stale at once.
        _ = p.tmux(["kill-server"])
        var me: [String: Any]?
        var peers = Run(status: 0, stdout: "", stderr: "")
        let closing = Date().addingTimeInterval(10)
        repeat {
            usleep(100_000)
            peers = try p.peer(["peers", "--json"])
            let rows = (try JSONSerialization.jsonObject(with: Data(peers.stdout.utf8)) as? [[String: Any]]) ?? []
            me = rows.first { $0["id"] as? String == id }
        } while me?["state"] as? String != "stale" && Date() < closing
        #expect(me?["state"] as? String == "stale" && me?["agent"] as? String == "terminal", "\(peers.stdout)")
    }

    /// A script with no terminal and no key gets an id and the exact line to export.
    @Test func aScriptGetsAnIdAndTheExportLine() throws {
        let root = makeTempDir("script")
        let r = try CLI.run(["start", "--name", "job"], root: root, key: nil)
        // The test runner may have a terminal; setsid would give the child none, but a runner without one is the case here.
        guard !r.stdout.contains("bound to this terminal") else { return }
        #expect(r.status == 0)
        let id = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(r.stdout.contains("export SESSION_BRIDGE_SESSION=\(id)\n"), "\(r.stdout)")
        let status = try CLI.run(["status"], root: root, key: id)
        #expect(status.stdout.contains("session: job (\(id))"))
        let lost = try CLI.run(["ask", "job", "x"], root: root, key: nil)
        #expect(lost.status == 3 && lost.stderr.contains("export SESSION_BRIDGE_SESSION=ID"), "\(lost.stderr)")
    }
}
