/// Types a prompt into a session's terminal, as if a person typed it.
package protocol Injector {
    /// Whether the target can take input now: its pane exists and runs the bound agent.
    func check(_ target: WatchTarget) -> TargetHealth
    func inject(_ text: String, into target: WatchTarget) throws(BridgeError) -> Injection
}

/// How a prompt went in: whether the pane was seen showing it before Enter, and how many times Enter was pressed.
package struct Injection: Equatable, Sendable {
    package var shown: Bool
    package var enters: Int
    package init(shown: Bool, enters: Int) { self.shown = shown; self.enters = enters }
}

package enum TargetHealth: Equatable, Sendable {
    case ready
    /// The pane is gone (or the tmux server is).
    case dead(String)
    /// The pane exists but something else runs in the foreground: never type there.
    case busyWithOther(String)
}

/// tmux: types the text with `send-keys -l` into the exact pane (`%N`) on the recorded server socket, waits until the
/// pane shows it, then presses Enter, and presses Enter again (a bounded number of times) while the text is still on
/// the cursor's line. A terminal interface that is still starting, or that reads text and Enter in one burst as a
/// paste, drops an early Enter; an Enter is harmless on an empty input line, the text is never typed twice.
package struct TmuxInjector: Injector {
    /// How long to wait for the typed text to show, and how many more times Enter is pressed while it stays.
    package var showTimeoutMilliseconds = 3000
    package var enterRetries = 8

    package init() {}

    func tmux(_ target: WatchTarget, _ args: [String]) -> ChildProcess.Result {
        ChildProcess.run(["tmux", "-S", target.socket] + args)
    }

    package func check(_ target: WatchTarget) -> TargetHealth {
        let r = tmux(target, ["display-message", "-p", "-t", target.pane, "#{pane_id} #{pane_dead} #{pane_pid} #{pane_current_command}"])
        guard r.status == 0 else { return .dead("pane \(target.pane) does not exist on \(target.socket)") }
        let parts = r.stdout.trimmed(" \n").split(separator: " ", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == target.pane else { return .dead("pane \(target.pane) does not exist on \(target.socket)") }
        if parts[1] == "1" { return .dead("pane \(target.pane) is dead") }
        guard Processes.isSameProcessAlive(pid: target.pid, startTime: target.pidStartTime) else {
            return .dead("the agent bound to \(target.alias) (pid \(target.pid)) has exited")
        }
        // Typed keys go to the terminal's foreground process group: it must be the agent's (a suspended or
        // backgrounded agent, or a shell or pager in front of it, must not receive a prompt).
        let foreground = parts[3]
        switch Processes.ownsTerminalForeground(target.pid) {
        case .some(false):
            return .busyWithOther("pane \(target.pane) runs '\(foreground)' in the foreground, not the bound agent '\(target.command)'")
        case .none where foreground != target.command:
            return .busyWithOther("pane \(target.pane) runs '\(foreground)', not the bound agent '\(target.command)'")
        default: break
        }
        return .ready
    }

    package func inject(_ text: String, into target: WatchTarget) throws(BridgeError) -> Injection {
        let probe = PaneText.probe(text)
        let initial = screen(target)
        let before = initial.map { PaneText.occurrences(of: probe, in: $0.lines) } ?? 0
        let wasOnCursorLine = initial.map { PaneText.onCursorLine(probe, $0) } ?? false
        let typed = tmux(target, ["send-keys", "-t", target.pane, "-l", text])
        guard typed.status == 0 else { throw .io(.tmuxSendKeys(pane: target.pane, stderr: typed.stderr.trimmed(" \n"))) }
        // Enter only once the interface has drawn the text: sent with it, it is read as part of a paste.
        var waited = 0, shown = false
        while waited < showTimeoutMilliseconds, let s = screen(target) {
            // Counted on the screen, or found where the cursor is: once the screen is full of earlier copies of the
            // same prompt, one scrolls off as the new one appears and the count stays the same.
            if PaneText.occurrences(of: probe, in: s.lines) > before || (!wasOnCursorLine && PaneText.onCursorLine(probe, s)) {
                shown = true
                break
            }
            Clock.sleep(milliseconds: 50)
            waited += 50
        }
        try pressEnter(target)
        var enters = 1
        // Each Enter gets a growing while to be read (the text leaves the cursor's line); looked at every 25 ms, so
        // the watcher moves on as soon as it was, and presses again only when it was not.
        retries: for attempt in 0..<enterRetries {
            var left = min(250 << min(attempt, 2), 1000)
            while left > 0 {
                Clock.sleep(milliseconds: 25)
                left -= 25
                guard let s = screen(target), PaneText.onCursorLine(probe, s) else { break retries }
            }
            try pressEnter(target)
            enters += 1
        }
        return Injection(shown: shown, enters: enters)
    }

    func pressEnter(_ target: WatchTarget) throws(BridgeError) {
        let enter = tmux(target, ["send-keys", "-t", target.pane, "Enter"])
        guard enter.status == 0 else { throw .io(.tmuxEnter(pane: target.pane)) }
    }

    /// The visible screen and the cursor's row, or nil when tmux cannot tell.
    func screen(_ target: WatchTarget) -> PaneText.Screen? {
        let cursor = tmux(target, ["display-message", "-p", "-t", target.pane, "#{cursor_y}"])
        let shown = tmux(target, ["capture-pane", "-p", "-t", target.pane])
        guard cursor.status == 0, shown.status == 0, let row = Int(cursor.stdout.trimmed(" \n")) else { return nil }
        return PaneText.Screen(lines: shown.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init), cursorRow: row)
    }
}

/// Finding typed text on a terminal screen, where it may be wrapped, boxed or padded by the interface drawing it.
enum PaneText {
    struct Screen: Equatable { var lines: [String]; var cursorRow: Int }

    /// The text's last few visible characters, without blanks: what identifies it on screen after wrapping.
    static func probe(_ text: String) -> String { String(normalized(text).suffix(16)) }

    /// Blanks and box-drawing characters removed: a line wrapped inside a frame reads as one string.
    static func normalized(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.filter { !$0.properties.isWhitespace && !(0x2500...0x257F).contains($0.value) }))
    }

    static func occurrences(of probe: String, in lines: [String]) -> Int {
        guard !probe.isEmpty else { return 0 }
        return normalized(lines.joined()).components(separatedBy: probe).count - 1
    }

    /// Whether the text still ends on the cursor's line (joined with the line above, where it may have wrapped):
    /// an Enter that was read moves the cursor to a fresh line or clears the input.
    static func onCursorLine(_ probe: String, _ screen: Screen) -> Bool {
        guard !probe.isEmpty, screen.lines.indices.contains(screen.cursorRow) else { return false }
        let line = normalized(screen.lines[screen.cursorRow])
        guard !line.isEmpty else { return false }
        let above = screen.cursorRow > 0 ? normalized(screen.lines[screen.cursorRow - 1]) : ""
        let joined = Array((above + line).unicodeScalars), wanted = Array(probe.unicodeScalars)
        let aboveCount = above.unicodeScalars.count
        guard joined.count >= wanted.count else { return false }
        // An occurrence that ends on the cursor's line, not one wholly above it (the submitted text in a transcript).
        for start in 0...(joined.count - wanted.count) where start + wanted.count > aboveCount && joined[start..<start + wanted.count].elementsEqual(wanted) {
            return true
        }
        return false
    }
}

/// `inject_method: none`: the watcher only reports what it would type.
package struct NoInjector: Injector {
    package init() {}
    package func check(_ target: WatchTarget) -> TargetHealth { .ready }
    package func inject(_ text: String, into target: WatchTarget) throws(BridgeError) -> Injection { Injection(shown: false, enters: 0) }
}

// Windows Terminal (SendKeys to a window found by its OSC title marker) would be another Injector; it cannot be
// built or tested on Linux and is not supported yet.
