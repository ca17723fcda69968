import Foundation
import Testing
@testable import SessionBridge

/// The watcher against a real tmux server: panes run a stand-in agent that records every line typed into it.
@Suite(.serialized) struct WatchProcessTests {
    static var hasTmux: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

    struct World {
        let dir: String, store: String, socket: String, talks: String
        var out: [String: String] = [:]

        init() throws {
            dir = makeTempDir("watch")
            store = dir + "/store"
            socket = dir + "/tmux.sock"
            talks = dir + "/proj/.talks"
            try FileManager.default.createDirectory(atPath: dir + "/proj", withIntermediateDirectories: true)
            // The stand-in agent: appends every line typed into its pane to the file named by its argument.
            try "import sys\nf = open(sys.argv[1], 'a')\nfor line in sys.stdin:\n    f.write(line); f.flush()\n"
                .write(toFile: dir + "/recorder.py", atomically: false, encoding: .utf8)
        }

        /// tmux through the library's posix_spawn runner: Foundation's Process never reaped the client that forks the
        /// tmux server, and hung the test.
        func tmux(_ args: [String]) -> Run {
            let r = ChildProcess.run(["tmux", "-S", socket, "-f", "/dev/null"] + args, environment: CLI.environment(root: store, key: nil))
            return Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
        }

        /// A pane running `launch --alias NAME -- python3 recorder FILE`.
        mutating func pane(_ alias: String, first: Bool) throws {
            let file = dir + "/\(alias).typed"
            out[alias] = file
            let command = "'\(CLI.binary)' launch --alias \(alias) -- python3 '\(dir)/recorder.py' '\(file)'"
            let env = ["-e", "SESSION_BRIDGE_HOME=\(store)"]
            let r = first ? tmux(["new-session", "-d", "-s", "w", "-x", "200", "-y", "60"] + env + [command])
                          : tmux(["split-window", "-t", "w"] + env + [command])
            #expect(r.status == 0, "\(r.stderr)")
            var waited = 0
            while !FileManager.default.fileExists(atPath: store + "/targets/\(alias).json") && waited < 300 { usleep(10_000); waited += 1 }
            #expect(waited < 300, "launch never bound \(alias)")
            usleep(200_000)   // let python start reading
        }

        func lines(_ alias: String) -> [String] {
            ((try? String(contentsOfFile: out[alias] ?? "", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func cli(_ args: [String], key: String? = nil) throws -> Run {
            try CLI.run(args, root: store, key: key, cwd: dir + "/proj")
        }

        func waitFor(_ alias: String, count: Int, seconds: Double = 5) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if lines(alias).count >= count { return true }
                usleep(20_000)
            }
            return false
        }
    }

    @Test(.enabled(if: hasTmux, "needs tmux")) func onePromptPerEventInTheRightPaneAcrossRestarts() throws {
        var w = try World()
        defer { _ = w.tmux(["kill-server"]) }
        for name in ["lib", "app", "ops", "asker"] {
            #expect(try w.cli(["start", "--name", name], key: "\(name)-key").status == 0)
        }
        try w.pane("lib", first: true)
        try w.pane("app", first: false)
        try w.pane("ops", first: false)
        // A message for lib, and app's turn in a talk with ops.
        #expect(try w.cli(["ask", "lib", "what changed?"], key: "asker-key").status == 0)
        let opened = try w.cli(["talk", "new", "Contract", "--with", "ops", "--as", "app", "--dir", w.talks])
        #expect(opened.status == 0)
        let talk = opened.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let once = try w.cli(["watch", "--once", "--dir", w.talks])
        #expect(once.status == 0, "\(once.stderr)")
        #expect(w.waitFor("lib", count: 1) && w.waitFor("app", count: 1))
        usleep(300_000)
        #expect(w.lines("lib").count == 1 && w.lines("lib")[0].contains("A message from asker is waiting"))
        #expect(w.lines("app").count == 1 && w.lines("app")[0].contains("you are 'app'"), "\(w.lines("app")) \(once.stdout)")
        #expect(w.lines("ops").isEmpty)
        // Run again: nothing new, nothing typed twice.
        #expect(try w.cli(["watch", "--once", "--dir", w.talks]).stdout.contains("0 prompt(s)"))
        // Continuous watcher: a new event is typed once; after SIGKILL and restart, old events are not typed again.
        let (p, _, _) = try CLI.start(["watch", "--debounce-ms", "0", "--dir", w.talks], root: w.store, key: nil, cwd: w.dir + "/proj")
        usleep(500_000)
        #expect(try w.cli(["ask", "lib", "and now?"], key: "asker-key").status == 0)
        #expect(w.waitFor("lib", count: 2))
        kill(p.processIdentifier, SIGKILL); p.waitUntilExit()
        let (p2, _, _) = try CLI.start(["watch", "--debounce-ms", "0", "--dir", w.talks], root: w.store, key: nil, cwd: w.dir + "/proj")
        usleep(800_000)
        #expect(w.lines("lib").count == 2 && w.lines("app").count == 1)
        // One watcher per store.
        #expect(try w.cli(["watch", "--once"]).status == 12)
        kill(p2.processIdentifier, SIGKILL); p2.waitUntilExit()
        // The polling fallback sees a new event too (interval 1 s while active).
        let (p3, _, _) = try CLI.start(["watch", "--poll", "--debounce-ms", "0", "--dir", w.talks], root: w.store, key: nil, cwd: w.dir + "/proj")
        defer { kill(p3.processIdentifier, SIGKILL); p3.waitUntilExit() }
        usleep(300_000)
        #expect(try w.cli(["talk", "say", talk, "--as", "app", "--dir", w.talks, "Proposal: v2"]).status == 0)
        #expect(w.waitFor("ops", count: 1), "polling watcher did not type ops's turn")
        #expect(w.lines("ops").first?.contains("you are 'ops'") == true && w.lines("app").count == 1 && w.lines("lib").count == 2)
    }

    @Test(.enabled(if: hasTmux, "needs tmux")) func deadPanesAreReportedNotRetried() throws {
        var w = try World()
        defer { _ = w.tmux(["kill-server"]) }
        for name in ["lib", "asker"] { _ = try w.cli(["start", "--name", name], key: "\(name)-key") }
        try w.pane("lib", first: true)
        try w.pane("spare", first: false)   // keeps the tmux session alive
        let pane = try #require(TargetRegistry(storeRoot: w.store).target("lib")?.pane)
        #expect(w.tmux(["kill-pane", "-t", pane]).status == 0)
        #expect(try w.cli(["ask", "lib", "anyone?"], key: "asker-key").status == 0)
        let r = try w.cli(["watch", "--once"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("dead target lib"), "\(r.stdout)")
        #expect(r.stdout.contains("0 prompt(s)"))
    }

    @Test(.enabled(if: hasTmux, "needs tmux")) func neverTypesWhereTheAgentIsNotInTheForeground() throws {
        var w = try World()
        defer { _ = w.tmux(["kill-server"]) }
        for name in ["bg", "asker"] { _ = try w.cli(["start", "--name", name], key: "\(name)-key") }
        // An interactive shell whose job control puts the launched agent in the background: the shell owns the
        // terminal's foreground, so a prompt typed there would run as a shell command.
        try w.pane("spare", first: true)
        #expect(w.tmux(["new-window", "-t", "w", "-e", "SESSION_BRIDGE_HOME=\(w.store)", "bash --norc --noprofile -i"]).status == 0)
        // (A background job that reads the terminal is stopped or ended by the kernel: the stand-in agent sleeps.)
        let line = "'\(CLI.binary)' launch --alias bg -- sleep 600 &"
        #expect(w.tmux(["send-keys", "-t", "w:1", "-l", line]).status == 0)
        #expect(w.tmux(["send-keys", "-t", "w:1", "Enter"]).status == 0)
        var waited = 0
        while TargetRegistry(storeRoot: w.store).target("bg") == nil && waited < 300 { usleep(10_000); waited += 1 }
        #expect(waited < 300, "launch never bound bg")
        usleep(300_000)
        #expect(try w.cli(["ask", "bg", "are you there?"], key: "asker-key").status == 0)
        let r = try w.cli(["watch", "--once"])
        #expect(r.stdout.contains("not typing into bg: pane") && r.stdout.contains("runs 'bash' in the foreground"), "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("0 prompt(s)"))
    }

    @Test(.enabled(if: hasTmux, "needs tmux")) func launchInANewWindowBindsThatPane() throws {
        var w = try World()
        defer { _ = w.tmux(["kill-server"]) }
        for name in ["nw", "asker"] { _ = try w.cli(["start", "--name", name], key: "\(name)-key") }
        try w.pane("spare", first: true)
        let file = w.dir + "/nw.typed"
        w.out["nw"] = file
        let spare = try #require(TargetRegistry(storeRoot: w.store).target("spare"))
        // Run by a person from the spare pane's tmux server.
        let r = try CLI.run(["launch", "--new-window", "--alias", "nw", "--", "python3", w.dir + "/recorder.py", file], root: w.store, key: nil,
                            extra: ["TMUX": "\(w.socket),1,0", "TMUX_PANE": spare.pane], cwd: w.dir)
        #expect(r.status == 0, "\(r.stderr)")
        let pane = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").last.map(String.init)
        var waited = 0
        while TargetRegistry(storeRoot: w.store).target("nw") == nil && waited < 300 { usleep(10_000); waited += 1 }
        let target = try #require(TargetRegistry(storeRoot: w.store).target("nw"))
        #expect(target.pane == pane && target.pane != spare.pane && target.command == "python3")
        usleep(300_000)
        #expect(try w.cli(["ask", "nw", "hello?"], key: "asker-key").status == 0)
        #expect(try w.cli(["watch", "--once"]).stdout.contains("1 prompt(s)"))
        #expect(w.waitFor("nw", count: 1) && w.lines("spare").isEmpty)
    }

    @Test(.enabled(if: hasTmux, "needs tmux")) func aSessionRenamedBecauseItsAliasWasTakenIsFoundByItsProcess() throws {
        var w = try World()
        defer { _ = w.tmux(["kill-server"]) }
        for name in ["dup", "asker"] { _ = try w.cli(["start", "--name", name], key: "\(name)-key") }
        // The launched agent registers itself (as the SessionStart hook does) under the launch alias, which another
        // live session holds: it becomes "dup-2", and its pid is the one launch recorded.
        let file = w.dir + "/dup.typed"
        w.out["dup"] = file
        let agent = "SESSION_BRIDGE_SESSION=dup-agent-key '\(CLI.binary)' start >/dev/null; exec python3 '\(w.dir)/recorder.py' '\(file)'"
        let command = "'\(CLI.binary)' launch --alias dup -- sh -c \"\(agent)\""
        #expect(w.tmux(["new-session", "-d", "-s", "w", "-e", "SESSION_BRIDGE_HOME=\(w.store)", command]).status == 0)
        var waited = 0
        while try w.cli(["peers", "--json"], key: "asker-key").stdout.contains("dup-2") == false && waited < 300 { usleep(10_000); waited += 1 }
        #expect(waited < 300, "the launched agent never registered")
        usleep(300_000)
        #expect(try w.cli(["ask", "dup-2", "found you?"], key: "asker-key").status == 0)
        #expect(try w.cli(["watch", "--once"]).stdout.contains("1 prompt(s)"))
        #expect(w.waitFor("dup", count: 1))
    }

    /// A stand-in for a terminal interface that is slow to start: it takes the terminal at once (raw mode, its own
    /// input line), but drops every Enter in its first DEAF seconds, and an Enter read in the same burst as text (a
    /// paste). An empty Enter does nothing; a submitted line is recorded and moved above the input line.
    static let slowInterface = """
        import os, sys, time, tty
        out, deaf = open(sys.argv[1], 'a'), float(sys.argv[2])
        start, line = time.time(), ''
        tty.setraw(0)
        def draw(): os.write(1, ('\\r\\x1b[K> ' + line).encode())
        draw()
        while True:
            chunk = os.read(0, 4096).decode(errors='replace')
            for ch in chunk:
                if ch in '\\r\\n':
                    if time.time() - start < deaf or len(chunk) > 1 or not line: continue
                    out.write(line + '\\n'); out.flush()
                    os.write(1, ('\\r\\x1b[Ksent: ' + line + '\\r\\n').encode())
                    line = ''
                else:
                    line += ch
            draw()
        """

    @Test(.enabled(if: hasTmux, "needs tmux")) func aPromptIsSubmittedOnceEvenWhenTheInterfaceDropsEarlyEnters() throws {
        var w = try World()
        defer { _ = w.tmux(["kill-server"]) }
        try Self.slowInterface.write(toFile: w.dir + "/slow.py", atomically: false, encoding: .utf8)
        for name in ["slow", "asker"] { _ = try w.cli(["start", "--name", name], key: "\(name)-key") }
        let file = w.dir + "/slow.typed"
        w.out["slow"] = file
        let command = "'\(CLI.binary)' launch --alias slow -- python3 '\(w.dir)/slow.py' '\(file)' 2.5"
        #expect(w.tmux(["new-session", "-d", "-s", "w", "-x", "120", "-y", "40", "-e", "SESSION_BRIDGE_HOME=\(w.store)", command]).status == 0)
        var waited = 0
        while TargetRegistry(storeRoot: w.store).target("slow") == nil && waited < 300 { usleep(10_000); waited += 1 }
        #expect(waited < 300, "launch never bound slow")
        usleep(300_000)
        #expect(try w.cli(["ask", "slow", "are you up?"], key: "asker-key").status == 0)
        // No settle time: the watcher types while the interface still drops Enter.
        let r = try w.cli(["watch", "--once", "--settle-ms", "0"])
        #expect(r.stdout.contains("1 prompt(s)"), "\(r.stdout) \(r.stderr)")
        #expect(w.waitFor("slow", count: 1, seconds: 8), "the prompt was typed but never submitted")
        usleep(500_000)
        #expect(w.lines("slow").count == 1 && w.lines("slow").first?.hasPrefix("A message from asker is waiting") == true, "\(w.lines("slow"))")
        #expect(r.stdout.contains("shown before Enter") && !r.stdout.contains(" 9 Enters"), "\(r.stdout)")
        #expect(try w.cli(["watch", "--once", "--settle-ms", "0"]).stdout.contains("0 prompt(s)"))
        #expect(w.lines("slow").count == 1)
    }

    @Test(.enabled(if: hasTmux, "needs tmux")) func aPromptTheInterfaceNeverShowsIsStillSubmittedOnce() throws {
        var w = try World()
        defer { _ = w.tmux(["kill-server"]) }
        for name in ["mute", "asker"] { _ = try w.cli(["start", "--name", name], key: "\(name)-key") }
        let file = w.dir + "/mute.typed"
        w.out["mute"] = file
        // No echo: the pane never shows what is typed, so Enter goes in after the bounded wait, once.
        let command = "'\(CLI.binary)' launch --alias mute -- sh -c \"stty -echo; exec python3 '\(w.dir)/recorder.py' '\(file)'\""
        #expect(w.tmux(["new-session", "-d", "-s", "w", "-e", "SESSION_BRIDGE_HOME=\(w.store)", command]).status == 0)
        var waited = 0
        while TargetRegistry(storeRoot: w.store).target("mute") == nil && waited < 300 { usleep(10_000); waited += 1 }
        usleep(300_000)
        #expect(try w.cli(["ask", "mute", "quiet?"], key: "asker-key").status == 0)
        let r = try w.cli(["watch", "--once", "--settle-ms", "0"])
        #expect(r.stdout.contains("not seen before Enter, 1 Enter)") && r.stdout.contains("1 prompt(s)"), "\(r.stdout)")
        #expect(w.waitFor("mute", count: 1))
        usleep(300_000)
        #expect(w.lines("mute").count == 1)
    }

    @Test func paneTextFindsTheTypedTextOnTheCursorLineOnly() {
        let text = "A message from asker is waiting (session-bridge): answer it; if it is not shown to you, run x listen --timeout 5"
        let probe = PaneText.probe(text)
        // Wrapped inside a frame, cursor on its last line: still in the input.
        let boxed = PaneText.Screen(lines: ["│ > A message from asker is waiting (session-bridge): answer it; if it is │",
                                            "│ not shown to you, run x listen --timeout 5                              │", ""], cursorRow: 1)
        #expect(PaneText.onCursorLine(probe, boxed))
        #expect(PaneText.occurrences(of: probe, in: boxed.lines) == 1)
        // Submitted: the text is above, the cursor on an empty or fresh input line.
        #expect(!PaneText.onCursorLine(probe, PaneText.Screen(lines: ["sent: " + text, "> "], cursorRow: 1)))
        #expect(!PaneText.onCursorLine(probe, PaneText.Screen(lines: [text, ""], cursorRow: 1)))
        #expect(!PaneText.onCursorLine(probe, PaneText.Screen(lines: [], cursorRow: 3)))
        #expect(PaneText.probe("") == "" && !PaneText.onCursorLine("", boxed))
    }

    @Test func launchRefusesAgentsAndNeedsTmux() throws {
        let dir = makeTempDir("launch")
        let agent = try CLI.run(["launch", "--alias", "x", "--", "true"], root: dir + "/store", key: nil, extra: ["CLAUDECODE": "1", "TMUX": "/tmp/s,1,0", "TMUX_PANE": "%1"])
        #expect(agent.status == 12 && agent.stderr.contains("agent session"))
        let noTmux = try CLI.run(["launch", "--alias", "x", "--", "true"], root: dir + "/store", key: nil)
        #expect(noTmux.status == 6 && noTmux.stderr.contains("tmux"))
    }

    @Test func serviceUnitRestartsTheWatcher() throws {
        let dir = makeTempDir("unit")
        let r = try CLI.run(["watch", "--install-service", "--dir", dir + "/shared talks"], root: dir + "/store", key: nil,
                            extra: ["XDG_CONFIG_HOME": dir + "/config"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let unit = try String(contentsOfFile: dir + "/config/systemd/user/session-bridge-watch.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/") && unit.contains(" watch --dir \"\(dir)/shared talks\"\n") && unit.contains("Restart=on-failure"))
        #expect(unit.contains("WorkingDirectory=\(FileSystem.realPath(dir) ?? dir)\n") && unit.contains("Environment=SESSION_BRIDGE_HOME=\(dir)/store\n"))
        #expect(r.stdout.contains("systemctl --user enable --now session-bridge-watch"))
    }
}
