import Foundation
import Testing
@testable import JQ
@testable import SessionBridge

/// Programs that never give a first output, each a different way of running forever or growing without end.
let runawayPrograms = [
    "last(repeat(.))",
    "[range(1e9)] | length > 0",
    "def f: f; f",
    "until(false; .)",
    "reduce range(1e12) as $i (0; . + 1)",
    "[limit(1e9; repeat(\"abcdefghij\"))] | add | length > 0",
    "\"x\" * 1e9 | length > 0",
    "[1 | recurse(. + 1)] | length > 0",
    "repeat(.) | select(false)",
    "def f: [f, f]; f",
]

/// The largest value seen by a watcher thread.
final class Peak: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    var kb: Int { lock.withLock { value } }
    func record(_ kb: Int) { lock.withLock { value = max(value, kb) } }
}

func processExists(_ pid: pid_t) -> Bool {
    // A zombie (exited, not yet reaped) counts as gone.
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// Waits up to `seconds` for `condition`.
func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

@Suite struct JQFirstOutputTests {
    @Test func onlyTheFirstOutputIsComputed() throws {
        // The first output decides; the program is never asked for a second one.
        #expect(try JQFilter("repeat(.)").matches(json: "{}"))
        #expect(try !JQFilter("repeat(.) | false").matches(json: "{}"))
        #expect(try JQFilter("repeat(1)").run(json: "{}", limit: 3) == ["1", "1", "1"])
        #expect(try JQFilter("range(5)").run(json: "null") == ["0", "1", "2", "3", "4"])
        #expect(try !JQFilter("empty").matches(json: "{}"))
    }

    @Test func longErrorTextIsCut() {
        do {
            _ = try JQFilter(#"error("x" * 100000)"#).matches(json: "{}")
            Issue.record("expected a runtime error")
        } catch {
            #expect(error.message.count < 300)
        }
    }
}

@Suite(.serialized) struct JQBoundsTests {
    var helper: String { URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("session-bridge-jq").path }

    func limits(_ seconds: Double) -> JQProgram.Limits {
        JQProgram.Limits(deadline: Clock.monotonicNanoseconds() + Int64(seconds * 1e9), label: "\(seconds) s")
    }

    @Test(arguments: runawayPrograms)
    func runawayProgramsStopAtTheDeadline(_ program: String) throws {
        // Compiling is not what is measured here: the machine may be loaded.
        let p = try JQProgram(program, limits: limits(30), helper: helper)
        p.limits = limits(1.5)
        let started = Date()
        do {
            _ = try p.matches(json: #"{"type":"query","n":1}"#)
            Issue.record("\(program) returned")
        } catch {
            #expect(error.exitCode == 7)
            #expect(!error.message.contains("\n"))
            // Either the deadline or the memory cap stopped it; either way it says why.
            #expect(error.message.contains("did not finish within") || error.message.contains("memory"), "\(error.message)")
        }
        #expect(Date().timeIntervalSince(started) < 4, "\(program) ran past its deadline")
        // The helper is gone, and the program stays failed rather than hanging on a dead helper.
        #expect(eventually(1) { !processExists(p.pid) })
        #expect(throws: BridgeError.self) { try p.matches(json: "{}") }
    }

    @Test func memoryIsCapped() throws {
        // Doubles a string: 2^40 bytes if nothing stopped it. The cap ends it long before the deadline.
        let p = try JQProgram(#""x" | last(limit(40; recurse(. + .))) | length > 0"#, limits: limits(60), helper: helper)
        let peak = Peak()
        let done = DispatchSemaphore(value: 0)
        let pid = p.pid
        let watcher = Thread {
            while done.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
                if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                   let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                   let kb = Int(line.split(separator: " ").dropFirst().first ?? "") {
                    peak.record(kb)
                }
            }
        }
        watcher.start()
        let started = Date()
        do {
            _ = try p.matches(json: "{}")
            Issue.record("the program returned")
        } catch {
            #expect(error.exitCode == 7)
            #expect(error.message.contains("memory"), "\(error.message)")
        }
        done.signal()
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(peak.kb < 700 * 1024, "the helper grew to \(peak.kb) kB")
    }

    @Test func aNormalProgramStillWorksOnALargeInput() throws {
        let p = try JQProgram(".content | length > 10", limits: limits(10), helper: helper)
        let big = String(repeating: "x", count: 4 << 20)
        #expect(try p.matches(json: #"{"content":"\#(big)"}"#))
        #expect(try !p.matches(json: #"{"content":"short"}"#))
    }

    @Test func aLargeInputToARunawayProgramStillStopsAtTheDeadline() throws {
        // The input is many pipe buffers long: it is written while the helper reads it, then the program loops.
        let big = #"{"n":1,"s":""# + String(repeating: "y", count: 8 << 20) + #""}"#
        let p = try JQProgram("last(repeat(.))", limits: limits(30), helper: helper)
        p.limits = limits(1.5)
        let started = Date()
        #expect(throws: BridgeError.self) { try p.matches(json: big) }
        #expect(Date().timeIntervalSince(started) < 3.5)
    }

    @Test func aProgramPastItsDeadlineFailsAtOnceAfterwards() throws {
        let p = try JQProgram("if .n == 1 then last(repeat(.)) else true end", limits: limits(30), helper: helper)
        p.limits = limits(1)
        #expect(throws: BridgeError.self) { try p.matches(json: #"{"n":1}"#) }
        let started = Date()
        #expect(throws: BridgeError.self) { try p.matches(json: #"{"n":2}"#) }
        #expect(Date().timeIntervalSince(started) < 0.5)
    }

    @Test func listingsGetAFewSecondsAndListenItsTimeout() {
        let now = Clock.monotonicNanoseconds()
        let listing = JQProgram.Limits.listing()
        #expect(abs(Double(listing.deadline - now) / 1e9 - JQProgram.listingSeconds) < 0.5)
        let listen = JQProgram.Limits.timeout(30, command: "listen --timeout")
        #expect(abs(Double(listen.deadline - now) / 1e9 - 30) < 0.5)
        // A zero (or negative, or NaN) timeout still gives a program the minimum.
        for t in [0, -5, Double.nan] {
            let l = JQProgram.Limits.timeout(t, command: "listen --timeout")
            #expect(abs(Double(l.deadline - now) / 1e9 - JQProgram.minimumSeconds) < 0.5)
        }
        #expect(JQProgram.Limits.timeout(.infinity, command: "listen --timeout").deadline > now)
    }

    @Test func helperTiedToAGoneParentExitsAtOnce() throws {
        // Started with --parent naming a process that is not its parent (the parent died before the helper set its
        // death signal): it exits rather than live on.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: helper)
        p.arguments = ["--parent", "999999", "last(repeat(.))"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        #expect(eventually(2) { !p.isRunning })
        try? input.fileHandleForWriting.close()
    }

    @Test func helperExitsWhenItsInputHangsUpMidProgram() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: helper)
        p.arguments = ["--parent", String(getpid()), "last(repeat(.))"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        _ = output.fileHandleForReading.availableData   // "ready"
        input.fileHandleForWriting.write(Data("{}\n".utf8))
        usleep(200_000)
        #expect(p.isRunning)
        try input.fileHandleForWriting.close()
        #expect(eventually(1) { !p.isRunning })
    }

    /// The children of a process, from /proc.
    func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0) }
    }

    @Test(arguments: ["inbox", "listen"])
    func helperDiesWithAKilledCommand(_ command: String) throws {
        let root = makeTempDir("jqkill")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try CLI.run(["start", "--name", "a"], root: root, key: "a")
        _ = try CLI.run(["start", "--name", "b"], root: root, key: "b")
        _ = try CLI.run(["ask", "a", "hello"], root: root, key: "b")
        let args = command == "inbox" ? ["inbox", "--filter", "last(repeat(.))"] : ["listen", "--timeout", "60", "--filter", "last(repeat(.))"]
        let handle = try CLI.start(args, root: root, key: "a")
        let parent = handle.0.processIdentifier
        var helpers: [pid_t] = []
        #expect(eventually(5) { helpers = children(of: parent); return !helpers.isEmpty })
        usleep(300_000)   // well into the program
        kill(parent, SIGKILL)
        _ = CLI.finish(handle)
        for h in helpers { #expect(eventually(1) { !processExists(h) }, "helper \(h) outlived its parent") }
    }

    @Test func listenGivesUpOnARunawayFilterWithinItsTimeoutAndLeavesTheMessagePending() throws {
        let root = makeTempDir("jqlisten")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try CLI.run(["start", "--name", "a"], root: root, key: "a")
        _ = try CLI.run(["start", "--name", "b"], root: root, key: "b")
        _ = try CLI.run(["ask", "a", "hello"], root: root, key: "b")
        let started = Date()
        let r = try CLI.run(["listen", "--timeout", "2", "--filter", "last(repeat(.))"], root: root, key: "a")
        #expect(r.status == 7)
        #expect(r.stderr.contains("bad jq filter") && r.stderr.contains("did not finish within"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(Date().timeIntervalSince(started) < 6)
        // Nothing was claimed: a good filter still gets the message.
        let next = try CLI.run(["listen", "--timeout", "2", "--filter", ".content == \"hello\""], root: root, key: "a")
        #expect(next.status == 0 && next.stdout.contains("hello"), "\(next.stderr)")
    }

    @Test(arguments: [["inbox"], ["peers"], ["talk", "list"]])
    func listingsStopARunawayFilterInAFewSeconds(_ command: [String]) throws {
        let root = makeTempDir("jqlist")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try CLI.run(["start", "--name", "a"], root: root, key: "a")
        _ = try CLI.run(["start", "--name", "b"], root: root, key: "b")
        _ = try CLI.run(["ask", "a", "hello"], root: root, key: "b")
        var extra: [String: String] = [:]
        if command.first == "talk" {
            let dir = root + "/talks"
            _ = try CLI.run(["talk", "init", "--dir", dir], root: root, key: "a")
            _ = try CLI.run(["talk", "new", "Plan", "--with", "b", "--as", "a", "--dir", dir], root: root, key: "a")
            extra["SESSION_BRIDGE_TALKS"] = dir
        }
        let started = Date()
        let r = try CLI.run(command + ["--filter", "last(repeat(.))"], root: root, key: "a", extra: extra)
        #expect(r.status == 7, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("did not finish within"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < JQProgram.listingSeconds + 4)
    }
}
