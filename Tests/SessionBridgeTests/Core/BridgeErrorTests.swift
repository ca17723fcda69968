import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SessionBridge

/// Every failure renders as one line, has its own code and the exit code the README documents.
@Suite struct BridgeErrorTests {
    /// One of each case, with the exit code the README's table gives it.
    static let documented: [(BridgeError, Int32)] = [
        (.io(.file(FileFailure(.read, path: "/s/x", errno: EIO))), 1), (.io(.store(StoreError(.io, "x"))), 1),
        (.io(.notRegularFile(path: "/s/x", symlink: true)), 1), (.io(.jqPipes(errno: EMFILE)), 1), (.io(.jqUnavailable), 1),
        (.io(.dashboardMissing(path: "/x/ui", explicit: false, version: "0.1.0")), 1),
        (.io(.cannotStart(program: "/x/ui", errno: ENOENT)), 1), (.io(.tmuxNewWindow(stderr: "no server")), 1),
        (.io(.tmuxSendKeys(pane: "%1", stderr: "no pane")), 1), (.io(.tmuxEnter(pane: "%1")), 1),
        (.io(.watcherCannotUseInotify(reason: nil)), 1), (.io(.talkChangeNotRecorded(.turn)), 1),
        (.io(.unexpectedRedisReply(to: .creation)), 1), (.io(.mirrorOutOfStep(talk: "t", held: 2)), 1),
        (.io(.normalizeWouldChangeContent(talk: "t")), 1),
        (.noIdentity, 3),
        (.unknownPeer("p"), 4), (.ambiguousPeer("p", candidates: ["p = a1", "p = b2"]), 4), (.unknownMessage("m"), 4),
        (.peerEnded("p"), 5),
        (.invalidID("../x"), 6), (.invalidName(".x"), 6), (.emptyMessage, 6), (.messageTooLarge(size: 9, limit: 1), 6),
        (.binaryContent(.nulBytes), 6), (.binaryContent(.notUTF8), 6), (.cannotMessageSelf, 6), (.invalidInput("choose one"), 6),
        (.badFilter(.jq("syntax error")), 7), (.badFilter(.nulInProgram), 7), (.badFilter(.helperMissing(path: "/x/jq")), 7),
        (.badFilter(.helperStart(path: "/x/jq", errno: ENOENT)), 7), (.badFilter(.timedOut(limit: "2 s", program: "repeat(1)")), 7),
        (.badFilter(.killed(signal: 9, program: "a\nb")), 7), (.badFilter(.stopped(program: ".")), 7),
        (.insecureStore(.symlink(root: "/s")), 8), (.insecureStore(.notAFolder(root: "/s")), 8),
        (.insecureStore(.ownedByAnotherUser(root: "/s", owner: 7, user: 8)), 8), (.insecureStore(.writableByOthers(root: "/s", mode: 0o775)), 8),
        (.insecureStore(.store(StoreError(.insecure, "Redis at h:1 accepts connections without a password"))), 8),
        (.storage(.file(FileFailure(.move(from: "/s/a"), path: "/s/b", errno: ENOSPC))), 9),
        (.storage(.store(StoreError(.corrupt, "x"))), 9), (.storage(.reservationsOfAnotherProject(record: "k", inRedis: true)), 9),
        (.storage(.reservationsDamaged(record: "/r/k.json", inRedis: false)), 9),
        (.storage(.reservationsUnreadable(record: "/r/k.json", .io(.notRegularFile(path: "/r/k.json", symlink: false)))), 9),
        (.storage(.reservationsKeptChanging(project: "p\u{1b}")), 9), (.storage(.talkUnverified(talk: "t", problem: "checksum")), 9),
        (.conflict(.alreadyAnswered(id: "m")), 12), (.conflict(.store(StoreError(.conflict, "message m is being delivered"))), 12),
        (.conflict(.messageQuarantined(id: "m", reason: "checksum")), 12), (.conflict(.messageQuarantined(id: "m", reason: nil)), 12),
        (.conflict(.messageExpired(id: "m")), 12), (.conflict(.takesNoReply(id: "m", type: nil)), 12),
        (.conflict(.takesNoReply(id: "m", type: .ping)), 12),
        (.conflict(.watcherRunning(store: "/s")), 12), (.conflict(.watcherLostLock(store: "/s")), 12),
        (.conflict(.talkUnparsable(talk: "t", .noFrontmatter)), 12), (.conflict(.talkDamaged(talk: "t", .noFrontmatter)), 12),
        (.conflict(.turnChecksum(talk: "t", turn: 3)), 12),
        (.conflict(.talkRefused(talk: "t", .notParticipant("x", participants: ["a", "b"]), listingParticipants: true)), 12),
        (.conflict(.talkRefused(talk: "t", .closed(.blocked, reason: "later"), listingParticipants: false)), 12),
        (.conflict(.talkRefused(talk: "t", .turnTaken(expected: 2, actual: 3), listingParticipants: false)), 12),
        (.conflict(.talkLocked(lock: "/t/.locks/t.lock")), 12), (.conflict(.ambiguousTalkID("t", matches: ["t1", "t2"])), 12),
        (.conflict(.noFreeTalkID(topic: "x")), 12), (.conflict(.launchInsideAgent(marker: "CLAUDECODE")), 12),
        (.conflict(.reserved(requested: BridgeErrorTests.reservation("src/a"), held: BridgeErrorTests.reservation("src/**"))), 12),
        (.storeUnreachable("Redis at 10.0.0.1:6379: Connection refused"), 15),
    ]

    @Test func everyCaseHasItsDocumentedExitCode() {
        #expect(Set(Self.documented.map { $0.0.code }) == Set(BridgeError.Code.allCases), "a case is missing from the table")
        for (error, code) in Self.documented { #expect(error.exitCode == code, "\(error.code)") }
    }

    @Test func everyCaseRendersOneNonEmptyLine() {
        let helper = HelperName(text: "session-bridge")
        for (error, _) in Self.documented {
            let text = error.message(helper: helper)
            #expect(!text.isEmpty && !text.contains("\n"), "\(error.code): \(text)")
        }
    }

    /// The prefix is the error's own: an engine's detail never repeats it.
    @Test func storeUnreachableSaysSoOnce() {
        let e = BridgeError(RedisStore.storeError(.unreachable(endpoint: "10.0.0.1:6379", reason: "Connection refused")))
        #expect(e == .storeUnreachable("Redis at 10.0.0.1:6379: Connection refused"))
        #expect(e.message == "store unreachable: Redis at 10.0.0.1:6379: Connection refused")
        #expect(e.exitCode == 15)
    }

    /// A store error and back keeps the code for the cases the file engine's helpers report.
    @Test func storeErrorsMapToTheirCodes() {
        #expect(BridgeError(StoreError(.unreachable, "x")).code == .storeUnreachable)
        #expect(BridgeError(StoreError(.conflict, "x")).code == .conflict)
        #expect(BridgeError(StoreError(.corrupt, "x")).code == .storage)
        #expect(BridgeError(StoreError(.insecure, "x")).code == .insecureStore)
        #expect(BridgeError(StoreError(.notFound, "x")).code == .unknownPeer)
        #expect(BridgeError(StoreError(.unsupported, "x")).code == .invalidInput)
        #expect(BridgeError(StoreError(.io, "x")).code == .io)
        #expect(StoreError(BridgeError.storeUnreachable("x")).code == .unreachable)
    }
}

extension BridgeErrorTests {
    static func reservation(_ pattern: String) -> Reservation {
        Reservation(pattern: pattern, shared: false, holder: "s1", holderName: "lib", agent: "claude", host: "h", root: "/p",
                    reason: "refactor", since: "2026-01-01T00:00:00Z", until: "2026-01-01T01:00:00Z", ttlSeconds: 3600)
    }
}
