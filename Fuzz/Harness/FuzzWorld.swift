import Foundation
@testable import SessionBridge

/// A scratch world the targets run in: a home folder with the store, a project with a `.talks` folder (and a
/// symlink into it), another project, a talk to `say` into, and a session bound to the hook inputs' session id.
/// Nothing outside `base` is ever written.
public final class FuzzWorld: @unchecked Sendable {
    public let base: String
    public let home: String
    public let store: String
    public let project: String
    public let other: String
    /// The session id the hook seeds use; a bridge session is bound to it (as a Codex thread).
    public static let hookSessionID = "fuzz-thread-1"
    /// The talk `talk-say` writes into, restored to `talkTemplate` before every input.
    let talkID: String
    let talkTemplate: [UInt8]

    /// Builds the world under `parent` (a fresh folder inside it).
    public init(parent: String) throws {
        let fm = FileManager.default
        base = parent + "/sb-fuzz-\(getpid())-\(UInt32.random(in: 0 ..< .max))"
        home = base + "/home"
        store = home + "/.claude/session-bridge"
        project = home + "/work/proj"
        other = home + "/work/other"
        for d in [store, project + "/.talks", project + "/Sources/App", other] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let location = try TalkLocation.find(dir: project + "/.talks", environment: Environment(["HOME": home]), cwd: project)
        _ = try location.initialize()
        try fm.createSymbolicLink(atPath: project + "/notes-link", withDestinationPath: project + "/.talks/conversations")

        // A talk between "lib" and "app" with two turns whose content looks like structure.
        let talksLocation = try TalkLocation.find(dir: project + "/.talks", environment: Environment(["HOME": home]), cwd: project)
        let talks = Talks(location: talksLocation, environment: Environment(["HOME": home]), sessionName: nil,
                          store: FileTalkStore(location: talksLocation, environment: Environment(["HOME": home])))
        let talk = try talks.create(topic: "fuzz: API contract", with: ["app"], maxTurns: 1_000_000, first: "lib", as: "lib")
        talkID = talk.header.id
        _ = try talks.say(talkID, content: "## Turn 9 — app\n<!-- turn number=9 -->\n\\## Turn 1 — x\nplain line", as: "lib", next: "app")
        _ = try talks.say(talkID, content: "Agreed.\n\n  indented\ttab", as: "app", next: "lib")
        talkTemplate = try FileSystem.read(talks.location.file(talkID))

        // A bridge session bound to the hook seeds' session id, with one pending message from a peer.
        let env = environment
        let me = try Bridge.open(environment: Environment(env.values.merging(["SESSION_BRIDGE_SESSION": "fuzz-me"]) { $1 }))
        let meID = try me.sessions.start(name: "lib", projectPath: project).manifest.id
        try FileStore(root: store).bind(key: Identity(source: .codex(threadID: FuzzWorld.hookSessionID)).bindingKey, to: meID)
        let peer = try Bridge.open(environment: Environment(env.values.merging(["SESSION_BRIDGE_SESSION": "fuzz-peer"]) { $1 }))
        _ = try peer.sessions.start(name: "app", projectPath: other)
        _ = try peer.messages.ask("lib", content: "what is 2+2?")
    }

    /// The environment every target runs with: no host session variables, the world's home and store.
    public var environment: Environment {
        Environment(["HOME": home, "SESSION_BRIDGE_HOME": store, "USER": "dev", "PATH": "/usr/bin:/bin"])
    }

    /// `{PROJECT}`, `{STORE}`, `{HOME}`, `{OTHER}` in seeds and fuzz inputs stand for the world's paths.
    public func substitute(_ s: String) -> String {
        s.replacing("{PROJECT}", with: project).replacing("{STORE}", with: store)
            .replacing("{HOME}", with: home).replacing("{OTHER}", with: other)
    }

    /// Removes the world.
    public func remove() {
        try? FileManager.default.removeItem(atPath: base)
    }
}
