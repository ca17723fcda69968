import Testing
import Glibc
@testable import SessionBridge

@Suite struct IdentityTests {
    @Test func precedence() {
        let env = Environment(["CLAUDE_CODE_SESSION_ID": "c1", "CODEX_THREAD_ID": "t1", "SESSION_BRIDGE_SESSION": "k1"])
        #expect(Identity.resolve(override: "o1", environment: env)?.source == .explicit("o1"))
        #expect(Identity.resolve(override: nil, environment: env)?.source == .explicit("k1"))
        #expect(Identity.resolve(override: nil, environment: Environment(["CLAUDE_CODE_SESSION_ID": "c1", "CODEX_THREAD_ID": "t1"]))?.source
                == .claudeCode(sessionID: "c1"))
        #expect(Identity.resolve(override: nil, environment: Environment(["CODEX_THREAD_ID": "t1"]))?.source == .codex(threadID: "t1"))
        #expect(Identity.resolve(override: nil, environment: Environment([:])) == nil)
    }

    @Test func twoClaudeSessionsInOneFolderAreDistinct() throws {
        let root = makeTempDir()
        let a = try Bridge.open(environment: Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": "11111111-aaaa"]))
        let b = try Bridge.open(environment: Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": "22222222-bbbb"]))
        let ma = try a.sessions.start(name: nil, projectPath: "/work/proj").manifest
        let mb = try b.sessions.start(name: nil, projectPath: "/work/proj").manifest
        #expect(ma.id != mb.id)
        #expect(ma.name == "proj")
        #expect(mb.name == "proj-2")
        #expect(ma.claudeSessionId == "11111111-aaaa")
        #expect(ma.agent == "claude-code")
        // Re-running start re-uses the bound session.
        let again = try Bridge.open(environment: Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": "11111111-aaaa"]))
        let r = try again.sessions.start(name: nil, projectPath: "/work/proj")
        #expect(r.reused && r.manifest.id == ma.id)
    }

    @Test func noIdentityExplainsHowToGetOne() throws {
        let root = makeTempDir()
        let b = try Bridge.open(environment: Environment(["SESSION_BRIDGE_HOME": root]))
        do {
            _ = try b.sessions.requireSession()
            Issue.record("expected noIdentity")
        } catch {
            #expect(error == .noIdentity)
            #expect(error.message.contains("start"))
        }
    }

    /// The advice fits where the command runs, and names the helper as given.
    @Test func noSessionAdviceFitsTheSituation() {
        let helper = HelperName(text: "'/opt/sb/scripts/session-bridge'")
        let agent = Identity.noSessionAdvice(.agentSession, helper: helper)
        let terminal = Identity.noSessionAdvice(.terminal, helper: helper)
        let script = Identity.noSessionAdvice(.script, helper: helper)
        #expect(agent.contains("`'/opt/sb/scripts/session-bridge' start"))
        #expect(terminal.contains("this terminal") && terminal.contains("`'/opt/sb/scripts/session-bridge' start --name NAME`"))
        #expect(script.contains("export SESSION_BRIDGE_SESSION=ID") && script.contains("--session ID"))
        #expect(Identity.situation(environment: Environment(["CLAUDE_CODE_SESSION_ID": "x"])) == .agentSession)
        #expect(Identity.situation(environment: Environment(["CODEX_THREAD_ID": "x"])) == .agentSession)
        // A given environment is not the process's: its terminal is unknown, so it is a script.
        #expect(Identity.situation(environment: Environment([:])) == .script)
    }

    /// A terminal binds through `start` only, and later commands from it act as that session.
    @Test func aTerminalBindsOnlyThroughStart() throws {
        let root = makeTempDir()
        let store = try FileStore(root: root + "/store")
        let tty = Identity(source: .terminal(TerminalID(device: 34816, leader: getpid(), leaderStart: Processes.startTime(getpid()) ?? 1)))
        let env = Environment(["SESSION_BRIDGE_HOME": root + "/store"])
        let before = Bridge(store: store, environment: env, identity: tty)
        #expect(throws: BridgeError.noIdentity) { try before.sessions.requireSession() }
        let started = try before.sessions.start(name: "me", projectPath: "/work/x")
        #expect(started.manifest.agent == "terminal" && started.manifest.pid == getpid() && !started.needsKey)
        let later = Bridge(store: store, environment: env, identity: tty)
        #expect(try later.sessions.requireSession().id == started.manifest.id)
        // Another terminal (another leader) is another session.
        let other = Identity(source: .terminal(TerminalID(device: 34816, leader: 1, leaderStart: 7)))
        #expect(Bridge(store: store, environment: env, identity: other).sessions.currentSession() == nil)
        // A closed terminal (its leader gone) is stale at once, though seen a moment ago.
        var closed = started.manifest
        closed.pid = Int32.max
        let now = Clock.nowNanoseconds()
        #expect(PeerState.of(closed, lastSeenNanoseconds: now, now: now, localHost: closed.host) == .stale)
        #expect(PeerState.of(started.manifest, lastSeenNanoseconds: now, now: now, localHost: closed.host) == .active)
    }

    /// With nothing to identify it, `start` still registers, under an id the caller must pass on.
    @Test func startWithoutIdentityGivesAKey() throws {
        let root = makeTempDir()
        let env = Environment(["SESSION_BRIDGE_HOME": root + "/store"])
        let b = try Bridge.open(environment: env)
        let r = try b.sessions.start(name: "job", projectPath: "/work/x")
        #expect(r.needsKey && r.manifest.name == "job")
        let again = try Bridge.open(environment: env, sessionOverride: r.manifest.id)
        #expect(try again.sessions.requireSession().id == r.manifest.id)
    }
}
