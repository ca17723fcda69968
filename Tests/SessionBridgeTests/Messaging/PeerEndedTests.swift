import Foundation
import Testing
@testable import SessionBridge

/// `ask --wait` and `await` stop waiting with exit 5 as soon as the peer ends its session (`stop`), or is gone
/// (its process dead and its heartbeat old: stale, as `peers` says), instead of waiting out the timeout.
@Suite struct PeerEndedTests {
    func setUp(libPID: String? = nil) throws -> String {
        let root = makeTempDir("sbend")
        let extra = libPID.map { ["SESSION_BRIDGE_PID": $0] } ?? [:]
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key", extra: extra).status == 0)
        #expect(try CLI.run(["start", "--name", "app"], root: root, key: "app-key").status == 0)
        return root
    }

    @Test func askWaitReturnsFiveWhenThePeerStops() throws {
        let root = try setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let started = Date()
        let waiter = try CLI.start(["ask", "lib", "question", "--wait", "60"], root: root, key: "app-key")
        // The question arrives; lib hears it and ends its session without answering.
        #expect(try CLI.run(["listen", "--timeout", "10"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["stop"], root: root, key: "lib-key").status == 0)
        let r = CLI.finish(waiter)
        #expect(r.status == 5, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("ended"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 15, "waited \(Date().timeIntervalSince(started)) s")
    }

    @Test func awaitReturnsFiveAtOnceForAnEndedPeerAndTheAnswerIfItCameFirst() throws {
        let root = try setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let unanswered = try CLI.run(["ask", "lib", "q1"], root: root, key: "app-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let answered = try CLI.run(["ask", "lib", "q2"], root: root, key: "app-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try CLI.run(["reply", answered, "a2"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["stop"], root: root, key: "lib-key").status == 0)
        let started = Date()
        let r = try CLI.run(["await", unanswered, "--timeout", "60"], root: root, key: "app-key")
        #expect(r.status == 5, "\(r.status) \(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
        // An answer given before the stop is still delivered.
        let a = try CLI.run(["await", answered, "--timeout", "60", "--json"], root: root, key: "app-key")
        #expect(a.status == 0 && a.stdout.contains("a2"), "\(a.status) \(a.stderr)")
    }

    @Test func awaitReturnsFiveWhileWaitingWhenThePeerStopsLater() throws {
        let root = try setUp()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let q = try CLI.run(["ask", "lib", "q"], root: root, key: "app-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let started = Date()
        let waiter = try CLI.start(["await", q, "--timeout", "60"], root: root, key: "app-key")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try CLI.run(["stop"], root: root, key: "lib-key").status == 0)
        let r = CLI.finish(waiter)
        #expect(r.status == 5, "\(r.status) \(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func askWaitReturnsFiveForADeadPeer() throws {
        // lib's process is gone (a pid that does not exist) and it has not been seen for ten minutes: stale.
        let root = try setUp(libPID: "999999")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hb = root + "/sessions/lib-key/heartbeat"
        var times = [timespec(tv_sec: time(nil) - 600, tv_nsec: 0), timespec(tv_sec: time(nil) - 600, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, hb, &times, 0) == 0)
        let started = Date()
        let r = try CLI.run(["ask", "lib", "question", "--wait", "60"], root: root, key: "app-key")
        #expect(r.status == 5, "\(r.status) \(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
