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
        (.noIdentity, 3), (.sessionEnded(id: "ab12cd34", name: "app"), 3),
        (.unknownPeer("p"), 4), (.ambiguousPeer("p", candidates: ["p = a1", "p = b2"]), 4), (.unknownMessage("m"), 4),
        (.peerEnded("p"), 5),
        (.invalidID("../x"), 6), (.invalidName(".x"), 6), (.emptyMessage, 6), (.messageTooLarge(size: 9, limit: 1), 6),
        (.binaryContent(.nulBytes), 6), (.binaryContent(.notUTF8), 6), (.cannotMessageSelf, 6),
        (.invalidInput(.store(StoreError(.unsupported, "ftp://x"))), 6), (.invalidInput(.notOneOf(option: "--inject", allowed: ["auto", "none"])), 6),
        (.invalidInput(.listenModes), 6), (.invalidInput(.textTwice), 6), (.invalidInput(.noSuchFile(path: "/x")), 6),
        (.invalidInput(.fileTooLarge(path: "/x", size: 9, limit: 1)), 6), (.invalidInput(.fileTooLarge(path: "/x", size: nil, limit: 1)), 6),
        (.invalidInput(.hookInputNotObject), 6), (.invalidInput(.homeNotSet), 6), (.invalidInput(.cannotRun(program: "claude", errno: ENOENT)), 6),
        (.invalidInput(.launchWithoutCommand), 6), (.invalidInput(.launchOutsideTmux), 6), (.invalidInput(.tmuxSocket(tmux: "x")), 6),
        (.invalidInput(.invalidTTL("1\ny")), 6), (.invalidInput(.pathsAndAll), 6), (.invalidInput(.noReservationPaths), 6),
        (.invalidInput(.reservationPath("a\nb")), 6), (.invalidInput(.reservationPattern("*/..")), 6),
        (.invalidInput(.outsideProject(path: "/etc", root: "/p")), 6), (.invalidInput(.reservationTTLRange), 6),
        (.invalidInput(.reservationReason), 6), (.invalidInput(.projectsDiffer(pattern: "a", root: "/p", firstPattern: "b", firstRoot: "/q")), 6),
        (.invalidInput(.tooManyReservations(limit: 3)), 6), (.invalidInput(.noSpeaker), 6), (.invalidInput(.topicNotOneLine), 6),
        (.invalidInput(.noOtherParticipant), 6), (.invalidInput(.maxTurnsBelowOne), 6),
        (.invalidInput(.notAParticipant(option: "--first", name: "x", participants: ["a", "b"])), 6), (.invalidInput(.emptyReason), 6),
        (.invalidInput(.config(path: "/t/config.yaml", ConfigError(line: 2, problem: .notAMapping))), 6),
        (.invalidInput(.configNotRegularFile(path: "/t/config.yaml")), 6),
        (.invalidInput(.configUnreadable(path: "/t/config.yaml", .io(.file(FileFailure(.read, path: "/t/config.yaml", errno: EIO))))), 6),
        (.invalidInput(.unsafeTalksFolder(folder: "/t", resolved: "/", .root)), 6),
        (.invalidInput(.unsafeConversationsFolder(folder: "/t/c", resolved: "/home", .homeOrAncestor)), 6),
        (.invalidInput(.talkTooLarge(talk: "t", size: 9, limit: 1)), 6), (.invalidInput(.unrepresentable(.talkHeader)), 6),
        (.invalidInput(.unrepresentable(.turnContent)), 6),
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

    /// The texts scripts, tests and E2E models match on read as they always have.
    @Test func textsKeepTheirWording() {
        let helper = HelperName(text: "sb")
        let cases: [(BridgeError, String)] = [
            (.io(.file(FileFailure(.read, path: "/s/x", errno: ENOENT))), "cannot read /s/x: No such file or directory"),
            (.storage(.file(FileFailure(.move(from: "/s/a"), path: "/s/b", errno: ENOSPC))),
             "storage failure: cannot move /s/a to /s/b: No space left on device"),
            (.io(.notRegularFile(path: "/s/x", symlink: true)), "not a regular file (a symlink): /s/x"),
            (.insecureStore(.writableByOthers(root: "/s", mode: 0o775)),
             "insecure store: /s is writable by group or others (mode 775); run `chmod 700 /s`"),
            (.insecureStore(.ownedByAnotherUser(root: "/s", owner: 65534, user: 0)), "insecure store: /s is owned by uid 65534, not by you (uid 0)"),
            (.conflict(.alreadyAnswered(id: "m1")), "message m1 was already answered"),
            (.conflict(.messageQuarantined(id: "m1", reason: "bad json")), "message m1 is malformed (bad json) and was quarantined"),
            (.conflict(.takesNoReply(id: "m1", type: .ping)), "message m1 is a ping and takes no reply"),
            (.conflict(.talkRefused(talk: "t", .notYourTurn(speaker: "app", next: "lib"), listingParticipants: false)),
             "it is lib's turn in talk t, not app's"),
            (.conflict(.talkLocked(lock: "/l")), "the talk is locked by another writer (/l); try again, or run `sb doctor`"),
            (.invalidInput(.notOneOf(option: "--status", allowed: TalkStatus.allCases.map(\.rawValue))),
             "--status must be ACTIVE, RESOLVED or BLOCKED"),
            (.invalidInput(.notAParticipant(option: "--next", name: "x", participants: ["lib", "app"])), "--next x is not a participant (lib, app)"),
            (.invalidInput(.fileTooLarge(path: "/f", size: 9, limit: 4)), "file /f is 9 bytes, over the 4-byte limit"),
            (.invalidInput(.noSpeaker),
             "who is speaking? pass --as NAME, or join the bridge first with `sb start --name NAME` (in an agent session or this terminal)"),
            (.storage(.reservationsDamaged(record: "k", inRedis: true)), "storage failure: the reservations record k in Redis is damaged: run `sb doctor --fix`"),
            (.badFilter(.jq("syntax error")), "bad jq filter: syntax error"),
            (.binaryContent(.notUTF8), "message is not text (it is not valid UTF-8): send UTF-8 text; encode binary data (e.g. base64) first"),
        ]
        for (error, text) in cases { #expect(error.message(helper: helper) == text) }
    }

    /// A file engine failure keeps its meaning as a store error: permission errnos are `.permission`, the rest of a
    /// storage failure `.full`; an engine's own error comes back unchanged.
    @Test func storageFailuresBecomeTheRightStoreErrors() {
        let denied = BridgeError.storage(.file(FileFailure(.write, path: "/s/x", errno: EACCES)))
        #expect(StoreError(denied) == StoreError(.permission, "cannot write /s/x: Permission denied"))
        #expect(StoreError(BridgeError.storage(.file(FileFailure(.write, path: "/s/x", errno: ENOSPC)))).code == .full)
        #expect(StoreError(BridgeError.storage(.reservationsUnreadable(record: "/r", denied))).code == .permission)
        for original in [StoreError(.corrupt, "d"), StoreError(.io, "d"), StoreError(.conflict, "d"), StoreError(.insecure, "d")] {
            #expect(StoreError(BridgeError(original)) == original)
        }
        #expect(StoreError(BridgeError.io(.notRegularFile(path: "/x", symlink: false))) == StoreError(.io, "not a regular file: /x"))
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
