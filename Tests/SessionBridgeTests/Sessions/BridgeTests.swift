import Foundation
import Testing
@testable import SessionBridge

@Suite struct BridgeTests {
    func pair() throws -> (root: String, lib: Bridge, app: Bridge) {
        let root = makeTempDir()
        let lib = try makeBridge(root: root, key: "lib-key")
        let app = try makeBridge(root: root, key: "app-key")
        _ = try lib.sessions.start(name: "lib", projectPath: "/p/lib")
        _ = try app.sessions.start(name: "app", projectPath: "/p/app")
        return (root, lib, app)
    }

    @Test func askListenReplyAwait() throws {
        let (_, lib, app) = try pair()
        let q = try app.messages.ask("lib", content: "What changed in v2?")
        let d = try lib.messages.listen(timeoutSeconds: 1)
        #expect(d.message.id == q.id && d.message.content == "What changed in v2?" && d.message.fromName == "app")
        let r = try lib.messages.reply(to: q.id, content: "The parse() signature.")
        let answer = try app.messages.awaitReply(to: q.id, timeoutSeconds: 1)
        #expect(answer.id == r.id && answer.inReplyTo == q.id && answer.content == "The parse() signature.")
        let s = try app.status.messageStatus(q.id)
        #expect(s.state == .answered && s.seen && s.claimedVia == "listen" && s.replyId == r.id)
    }

    @Test func replyingTwiceIsAConflict() throws {
        let (_, lib, app) = try pair()
        let q = try app.messages.ask("lib", content: "q")
        _ = try lib.messages.listen(timeoutSeconds: 1)
        _ = try lib.messages.reply(to: q.id, content: "a1")
        #expect(throws: BridgeError.conflict(.alreadyAnswered(id: q.id))) { try lib.messages.reply(to: q.id, content: "a2") }
    }

    /// A listen that gets nothing is an outcome, not an error (the CLI's `Ending.nothingArrived`, exit 10).
    @Test func listenTimesOutAsAnOutcome() throws {
        let (_, lib, _) = try pair()
        guard case .timedOut = try lib.messages.nextMessage(timeoutSeconds: 0.05) else { Issue.record("expected a timeout"); return }
    }

    /// The CLI's exit codes 10 and 11 (`EndingTests`) come from `seen`.
    @Test func awaitDistinguishesSeenFromNotSeen() throws {
        let (_, lib, app) = try pair()
        let q = try app.messages.ask("lib", content: "q")
        guard case .timedOut("lib", false, nil) = try app.messages.waitForReply(to: q.id, timeoutSeconds: 0.05) else {
            Issue.record("expected a timeout, not seen"); return
        }
        _ = try lib.messages.listen(timeoutSeconds: 1)
        guard case .timedOut("lib", true, _) = try app.messages.waitForReply(to: q.id, timeoutSeconds: 0.05) else {
            Issue.record("expected a timeout, seen"); return
        }
    }

    @Test func selfMessagesAreRefusedAndUnknownPeersNamed() throws {
        let (_, lib, _) = try pair()
        #expect(throws: BridgeError.cannotMessageSelf) { try lib.messages.ask("lib", content: "hi") }
        #expect(throws: BridgeError.unknownPeer("nobody")) { try lib.messages.ask("nobody", content: "hi") }
        #expect(throws: BridgeError.invalidID("../x")) { try lib.messages.ask("../x", content: "hi") }
    }

    @Test func endedPeersAreRefusedAndNotified() throws {
        let (_, lib, app) = try pair()
        _ = try app.sessions.connect("lib", waitSeconds: 0)
        let stopped = try lib.sessions.stop()
        #expect(stopped.notified == ["app"])
        #expect(throws: BridgeError.peerEnded("lib")) { try app.messages.ask("lib", content: "hi") }
        let d = try app.messages.listen(timeoutSeconds: 1)
        #expect(d.message.type == .sessionEnded && d.message.fromName == "lib")
    }

    @Test func connectPingIsAnsweredByAListener() throws {
        let (_, lib, app) = try pair()
        let ping = try app.messages.send(to: "lib", type: .ping, content: "ping")
        // The listener answers the ping by itself and keeps waiting; nothing reaches the model.
        #expect(throws: WaitEnded.nothingArrived) { try lib.messages.listen(timeoutSeconds: 0.1) }
        let pong = try app.messages.awaitReply(to: ping.id, timeoutSeconds: 1)
        #expect(pong.type == .pong)
        #expect(try lib.store.connections(lib.sessions.currentSession()!.id).contains(app.sessions.currentSession()!.id))
    }

    @Test func expiredLeaseRedeliversThenExpires() throws {
        let root = makeTempDir()
        let lib = try makeBridge(root: root, key: "lib-key", extra: ["SESSION_BRIDGE_LEASE_SECONDS": "1", "SESSION_BRIDGE_MAX_DELIVERIES": "2"])
        let app = try makeBridge(root: root, key: "app-key")
        _ = try lib.sessions.start(name: "lib", projectPath: "/p/lib")
        _ = try app.sessions.start(name: "app", projectPath: "/p/app")
        let q = try app.messages.ask("lib", content: "q")
        #expect(try lib.messages.listen(timeoutSeconds: 1).message.id == q.id)
        // Not answered: after the 1 s lease the same message is delivered again.
        let again = try lib.messages.listen(timeoutSeconds: 3)
        #expect(again.message.id == q.id)
        #expect(try app.status.messageStatus(q.id).redeliveries == 1)
        // Second lease runs out: with maxDeliveries 2 it is marked expired, not delivered a third time.
        Thread.sleep(forTimeInterval: 1.1)
        #expect(throws: WaitEnded.nothingArrived) { try lib.messages.listen(timeoutSeconds: 0.1) }
        #expect(try app.status.messageStatus(q.id).state == .expired)
    }

    @Test func malformedFilesAreQuarantinedAndListenGoesOn() throws {
        let (root, lib, app) = try pair()
        let libID = lib.sessions.currentSession()!.id
        let newBox = root + "/sessions/\(libID)/inbox/new/"
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: newBox + "01000000-0000-7000-8000-000000000000.json"))
        try Data("junk".utf8).write(to: URL(fileURLWithPath: newBox + "notes.txt"))
        // An id a second older, so it sorts before the good message (ids of one millisecond have no order).
        var tampered = Message(id: Identifiers.messageID(nowNanoseconds: Clock.nowNanoseconds() - 1_000_000_000),
                               from: app.sessions.currentSession()!.id, fromName: "app", to: libID, toName: "lib", type: .query, content: "x")
        tampered.content = "tampered"
        try Data(JSONCoding.encode(tampered)).write(to: URL(fileURLWithPath: newBox + tampered.id + ".json"))
        let good = try app.messages.ask("lib", content: "good one")
        let d = try lib.messages.listen(timeoutSeconds: 1)
        #expect(d.message.id == good.id)
        #expect(d.warnings.filter { $0.hasPrefix("quarantined") }.count == 2)
        #expect(FileManager.default.fileExists(atPath: root + "/sessions/\(libID)/inbox/quarantine/notes.txt"))
    }

    @Test func filterLeavesOtherMessagesPending() throws {
        let (_, lib, app) = try pair()
        _ = try app.messages.ask("lib", content: "first")
        let wanted = try app.messages.ask("lib", content: "urgent: second")
        let f = try JQProgram(#".content | startswith("urgent")"#)
        #expect(try lib.messages.listen(timeoutSeconds: 1, filter: f).message.id == wanted.id)
        #expect(try lib.messages.inbox(all: false, filter: nil).count == 1)
    }

    @Test func replyAwaitedByAskIsNotTakenByAListenerOfTheSameSession() throws {
        let (_, lib, app) = try pair()
        let q = try app.messages.ask("lib", content: "q", willAwait: true)
        _ = try lib.messages.listen(timeoutSeconds: 1)
        _ = try lib.messages.reply(to: q.id, content: "a")
        // app's own listener must leave the reply to the waiting ask.
        #expect(throws: WaitEnded.nothingArrived) { try app.messages.listen(timeoutSeconds: 0.1) }
        #expect(try app.messages.awaitReply(to: q.id, timeoutSeconds: 1).content == "a")
    }

    @Test func peersShowStatesAndYou() throws {
        let root = makeTempDir()
        let lib = try makeBridge(root: root, key: "lib-key")
        let gone = try makeBridge(root: root, key: "gone-key", extra: ["SESSION_BRIDGE_PID": "999999"])
        _ = try lib.sessions.start(name: "lib", projectPath: "/p/lib")
        let g = try gone.sessions.start(name: "gone", projectPath: "/p/gone").manifest
        // Age the dead session's heartbeat by 10 minutes: its process is gone, so it is stale.
        let hb = root + "/sessions/\(g.id)/heartbeat"
        var times = [timespec(tv_sec: time(nil) - 600, tv_nsec: 0), timespec(tv_sec: time(nil) - 600, tv_nsec: 0)]
        utimensat(AT_FDCWD, hb, &times, 0)
        let rows = try lib.sessions.peers()
        #expect(rows.first { $0.name == "lib" }?.you == true)
        #expect(rows.first { $0.name == "lib" }?.state == .active)
        #expect(rows.first { $0.name == "gone" }?.state == .stale)
        // A stale session's name can be taken.
        let other = try makeBridge(root: root, key: "other-key")
        #expect(try other.sessions.start(name: "gone", projectPath: "/p").manifest.name == "gone")
    }

    @Test func gcRemovesOnlyOldEndedSessions() throws {
        let (root, lib, app) = try pair()
        let libID = lib.sessions.currentSession()!.id
        _ = try lib.sessions.stop()
        #expect(try app.sessions.collectGarbage(olderThanSeconds: 3600).isEmpty)
        #expect(try app.sessions.collectGarbage(olderThanSeconds: 0) == [libID])
        #expect(!FileManager.default.fileExists(atPath: root + "/sessions/\(libID)"))
        #expect(app.sessions.currentSession() != nil)
    }
}
