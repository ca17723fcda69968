import Testing
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
        let ma = try a.start(name: nil, projectPath: "/work/proj").manifest
        let mb = try b.start(name: nil, projectPath: "/work/proj").manifest
        #expect(ma.id != mb.id)
        #expect(ma.name == "proj")
        #expect(mb.name == "proj-2")
        #expect(ma.claudeSessionId == "11111111-aaaa")
        #expect(ma.agent == "claude-code")
        // Re-running start re-uses the bound session.
        let again = try Bridge.open(environment: Environment(["SESSION_BRIDGE_HOME": root, "CLAUDE_CODE_SESSION_ID": "11111111-aaaa"]))
        let r = try again.start(name: nil, projectPath: "/work/proj")
        #expect(r.reused && r.manifest.id == ma.id)
    }

    @Test func noIdentityExplainsHowToGetOne() throws {
        let root = makeTempDir()
        let b = try Bridge.open(environment: Environment(["SESSION_BRIDGE_HOME": root]))
        do {
            _ = try b.requireSession()
            Issue.record("expected noIdentity")
        } catch {
            #expect(error == .noIdentity)
            #expect(error.message.contains("--session"))
            #expect(error.message.contains("CLAUDE_CODE_SESSION_ID"))
        }
    }
}
