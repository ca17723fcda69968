import Foundation
import Testing
@testable import SessionBridge

@Suite struct HooksTests {
    func env(_ root: String, claude: String) -> Environment {
        Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": claude])
    }

    func input(_ sessionID: String, event: String = "PostToolUse") -> [UInt8] {
        Array(#"{"session_id":"\#(sessionID)","hook_event_name":"\#(event)","cwd":"/p/svc","tool_input":{"command":"ls"}}"#.utf8)
    }

    @Test func sessionIDIsFoundWithoutDecodingEverything() {
        let big = #"{"session_id": "abc-1", "tool_response": ""# + String(repeating: "x", count: 100_000) + #""}"#
        #expect(Hooks.topLevelString("session_id", in: Array(big.utf8)) == "abc-1")
        #expect(Hooks.topLevelString("session_id", in: Array(#"{"cwd":"/x","session_id":"late"}"#.utf8)) == "late")
        #expect(Hooks.topLevelString("session_id", in: Array("not json".utf8)) == nil)
    }

    @Test func codexHooksAreIdentifiedFromTheInput() {
        let id = Hooks.identity(input: input("thread-9"), environment: Environment([:]))
        #expect(id?.source == .codex(threadID: "thread-9"))
        let claude = Hooks.identity(input: input("x"), environment: Environment(["CLAUDE_CODE_SESSION_ID": "c-1"]))
        #expect(claude?.source == .claudeCode(sessionID: "c-1"))
    }

    @Test func sessionStartRegistersAndSpeaksOnlyWhenUseful() throws {
        let root = makeTempDir()
        let alone = Hooks.sessionStart(input: input("s-1", event: "SessionStart"), environment: env(root, claude: "s-1"))
        #expect(alone == .silent)
        let peers = try Bridge.open(environment: env(root, claude: "s-1")).sessions.peers()
        #expect(peers.count == 1 && peers[0].name == "svc" && peers[0].agent == "claude-code")
        let second = Hooks.sessionStart(input: input("s-2", event: "SessionStart"), environment: env(root, claude: "s-2"))
        let out = try #require(second.stdout)
        #expect(out.contains(#""hookEventName":"SessionStart""#) && out.contains("svc-2") && out.contains("live peers: svc"))
    }

    @Test func postToolUseIsSilentWithNothingPendingAndInjectsOnce() throws {
        let root = makeTempDir()
        _ = Hooks.sessionStart(input: input("w-1", event: "SessionStart"), environment: env(root, claude: "w-1"))
        #expect(Hooks.deliverPending(event: "PostToolUse", input: input("w-1"), environment: env(root, claude: "w-1")) == .silent)
        let asker = try makeBridge(root: root, key: "asker-key")
        _ = try asker.sessions.start(name: "asker", projectPath: "/p/asker")
        let q = try asker.messages.ask("svc", content: "Which port?")
        let first = Hooks.deliverPending(event: "PostToolUse", input: input("w-1"), environment: env(root, claude: "w-1"))
        let text = try #require(first.stdout)
        #expect(text.contains(#""hookEventName":"PostToolUse""#))
        #expect(text.contains("Which port?") && text.contains("reply \(q.id)"))
        // Claimed exactly once: the next tool call injects nothing.
        #expect(Hooks.deliverPending(event: "PostToolUse", input: input("w-1"), environment: env(root, claude: "w-1")) == .silent)
        let status = try asker.status.messageStatus(q.id)
        #expect(status.seen && status.claimedVia == "hook" && status.state == .claimed)
    }

    /// A reply shown by a hook stays claimed until the hook's output is written: a hook killed in between (its
    /// timeout, a SIGKILL) has the reply delivered again at the lease's end, and once acknowledged it is done.
    @Test func aReplyIsFinishedOnlyAfterTheHookOutputIsWritten() throws {
        let root = makeTempDir()
        let hookEnv = Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": "w-1", "SESSION_BRIDGE_LEASE_SECONDS": "1"])
        _ = Hooks.sessionStart(input: input("w-1", event: "SessionStart"), environment: hookEnv)
        let lib = try makeBridge(root: root, key: "lib-key")
        _ = try lib.sessions.start(name: "lib", projectPath: "/p/lib")
        let q = try Bridge.open(environment: hookEnv).messages.ask("lib", content: "Which port?")
        _ = try lib.messages.listen(timeoutSeconds: 5)
        _ = try lib.messages.reply(to: q.id, content: "8080")
        // The hook claims the reply and dies before writing its output: not acknowledged.
        let killed = Hooks.deliverPending(event: "PostToolUse", input: input("w-1"), environment: hookEnv)
        #expect(killed.stdout?.contains("8080") == true)
        #expect(killed.shown?.messages.map(\.inReplyTo) == [q.id])
        #expect(Hooks.deliverPending(event: "PostToolUse", input: input("w-1"), environment: hookEnv) == .silent)
        Thread.sleep(forTimeInterval: 1.3)
        let again = Hooks.deliverPending(event: "PostToolUse", input: input("w-1"), environment: hookEnv)
        #expect(again.stdout?.contains("8080") == true)
        Hooks.acknowledge(again, environment: hookEnv)
        Thread.sleep(forTimeInterval: 1.3)
        #expect(Hooks.deliverPending(event: "PostToolUse", input: input("w-1"), environment: hookEnv) == .silent)
        let store = try #require(Hooks.openStore(hookEnv))
        let me = try #require(Bridge.open(environment: hookEnv).sessions.currentSession())
        #expect(try store.claims(me.id).isEmpty)
    }

    @Test func unregisteredSessionsAreLeftAlone() {
        let root = makeTempDir()
        #expect(Hooks.deliverPending(event: "UserPromptSubmit", input: input("nobody"), environment: env(root, claude: "nobody")) == .silent)
        #expect(Hooks.stop(input: input("nobody"), environment: env(root, claude: "nobody")) == .silent)
    }

    @Test func stopReturnsAtOnceUnlessListeningAndDeliversWhenListening() throws {
        let root = makeTempDir()
        let e = Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": "l-1", "SESSION_BRIDGE_STOP_WAIT_SECONDS": "5"])
        _ = Hooks.sessionStart(input: input("l-1", event: "SessionStart"), environment: e)
        let t0 = Date()
        #expect(Hooks.stop(input: input("l-1", event: "Stop"), environment: e) == .silent)
        #expect(Hooks.stopBackground(input: input("l-1", event: "Stop"), environment: e) == .silent)
        #expect(Date().timeIntervalSince(t0) < 1)
        _ = try Bridge.open(environment: e).sessions.setListenMode(.foreground)
        let asker = try makeBridge(root: root, key: "asker-key")
        _ = try asker.sessions.start(name: "asker", projectPath: "/p/asker")
        _ = try asker.messages.ask("svc", content: "ping from a test")
        let out = Hooks.stop(input: input("l-1", event: "Stop"), environment: e)
        #expect(out.exitCode == 2 && (out.stderr ?? "").contains("ping from a test"))
    }

    @Test func aStopWaitUnderAMinuteIsSaidInSeconds() throws {
        #expect(Hooks.duration(seconds: 0) == "0 seconds" && Hooks.duration(seconds: 1) == "1 second" && Hooks.duration(seconds: 59.9) == "59 seconds")
        #expect(Hooks.duration(seconds: 60) == "1 minute" && Hooks.duration(seconds: 540) == "9 minutes" && Hooks.duration(seconds: 119) == "1 minute")
        let root = makeTempDir()
        let e = Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": "w-1", "SESSION_BRIDGE_STOP_WAIT_SECONDS": "1"])
        _ = Hooks.sessionStart(input: input("w-1", event: "SessionStart"), environment: e)
        _ = try Bridge.open(environment: e).sessions.setListenMode(.foreground)
        let out = Hooks.stop(input: input("w-1", event: "Stop"), environment: e)
        #expect(out.exitCode == 2 && (out.stderr ?? "").contains("no peer message in the last 1 second;"), "\(out.stderr ?? "")")
    }

    @Test func backgroundWaiterIsExclusivePerSession() throws {
        let root = makeTempDir()
        let e = Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": "b-1", "SESSION_BRIDGE_BACKGROUND_CHECK_SECONDS": "1"])
        _ = Hooks.sessionStart(input: input("b-1", event: "SessionStart"), environment: e)
        let bridge = try Bridge.open(environment: e)
        let me = try bridge.sessions.setListenMode(.background)
        let store = try FileStore(root: root)
        // Another waiter holds the lock: this one returns at once.
        let held = try #require(FileLock.tryExclusive(store.layout.listenLock(me.id)))
        let t0 = Date()
        #expect(Hooks.stopBackground(input: input("b-1", event: "Stop"), environment: e) == .silent)
        #expect(Date().timeIntervalSince(t0) < 1)
        held.release()
        // Turning listening off ends a waiting hook within one check interval.
        let done = DispatchSemaphore(value: 0)
        let waiter = Thread {
            _ = Hooks.stopBackground(input: self.input("b-1", event: "Stop"), environment: e)
            done.signal()
        }
        waiter.start()
        Thread.sleep(forTimeInterval: 0.3)
        _ = try bridge.sessions.setListenMode(nil)
        #expect(done.wait(timeout: .now() + 5) == .success)
    }
}
