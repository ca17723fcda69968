/// Every failure a user can meet, as a value: a code, the data naming what failed, and a documented exit code; its
/// one-line text is made in `ErrorText.swift`.
///
/// Exit codes (also in the README):
/// 0 success · 1 unexpected failure · 3 no identity (or this session has ended) · 4 not found · 5 peer ended ·
/// 6 invalid input · 7 bad jq filter · 8 insecure store · 9 storage failure · 12 conflict · 15 store unreachable ·
/// 64 usage. Expected outcomes that are not success (10 and 11 timed out, 13 doctor found problems, 14 the talk is
/// closed) are results, not errors: the CLI gives them their codes (`Ending` in SessionBridgeCLI).
package enum BridgeError: Error, Equatable, Sendable {
    case noIdentity
    /// The session a command would act as exists but has ended (`--session ID` of a session that stopped, or an
    /// agent session whose bridge session was stopped): nothing can act as it any more.
    case sessionEnded(id: String, name: String)
    case unknownPeer(String)
    case ambiguousPeer(String, candidates: [String])
    case peerEnded(String)
    case unknownMessage(String)
    case invalidID(String)
    case invalidName(String)
    case emptyMessage
    case messageTooLarge(size: Int, limit: Int)
    case binaryContent(BinaryContent)
    case cannotMessageSelf
    case badFilter(FilterFailure)
    case insecureStore(InsecureStore)
    case storage(StorageFailure)
    case conflict(Conflict)
    case invalidInput(InvalidInput)
    case io(IOFailure)
    /// The store cannot be reached (a network engine's server is down or refuses the connection); the payload says
    /// which store and why, without the "store unreachable" prefix the message adds.
    case storeUnreachable(String)

    /// What kind of failure this is, stable for scripts and tests (`--json` output, logs).
    package enum Code: String, Sendable, CaseIterable {
        case noIdentity, sessionEnded, unknownPeer, ambiguousPeer, peerEnded, unknownMessage, invalidID, invalidName, emptyMessage
        case messageTooLarge, binaryContent, cannotMessageSelf, badFilter, insecureStore, storage, conflict
        case invalidInput, io, storeUnreachable
    }

    package var code: Code {
        switch self {
        case .noIdentity: return .noIdentity
        case .sessionEnded: return .sessionEnded
        case .unknownPeer: return .unknownPeer
        case .ambiguousPeer: return .ambiguousPeer
        case .peerEnded: return .peerEnded
        case .unknownMessage: return .unknownMessage
        case .invalidID: return .invalidID
        case .invalidName: return .invalidName
        case .emptyMessage: return .emptyMessage
        case .messageTooLarge: return .messageTooLarge
        case .binaryContent: return .binaryContent
        case .cannotMessageSelf: return .cannotMessageSelf
        case .badFilter: return .badFilter
        case .insecureStore: return .insecureStore
        case .storage: return .storage
        case .conflict: return .conflict
        case .invalidInput: return .invalidInput
        case .io: return .io
        case .storeUnreachable: return .storeUnreachable
        }
    }

    package var exitCode: Int32 {
        switch self {
        case .io: return 1
        case .noIdentity, .sessionEnded: return 3
        case .unknownPeer, .ambiguousPeer, .unknownMessage: return 4
        case .peerEnded: return 5
        case .invalidID, .invalidName, .emptyMessage, .messageTooLarge, .binaryContent, .cannotMessageSelf, .invalidInput:
            return 6
        case .badFilter: return 7
        case .insecureStore: return 8
        case .storage: return 9
        case .conflict: return 12
        case .storeUnreachable: return 15
        }
    }
}

extension BridgeError {
    /// Why content offered as a message or a turn is not text.
    package enum BinaryContent: Equatable, Sendable {
        case nulBytes
        case notUTF8
    }
}

extension BridgeError {
    /// Why a `--filter` program cannot be used: rejected by jq, or its helper could not run it.
    package enum FilterFailure: Equatable, Sendable {
        case nulInProgram
        case helperMissing(path: String)
        case helperStart(path: String, errno: Int32)
        /// jq's own diagnostic, as the helper reports it.
        case jq(String)
        case timedOut(limit: String, program: String)
        case killed(signal: Int32, program: String)
        case stopped(program: String)
    }
}

/// A file system call that failed: what was being done, on which path, and the errno it gave.
package struct FileFailure: Equatable, Sendable {
    package enum Operation: Equatable, Sendable {
        case close, createTempFile, createFolder, createLockFile, createStoreRoot, flush, inspectStoreRoot, lock, open
        case publish, read, recordSentCopy, setMode, stat, write
        /// A rename from `from` to the failure's path.
        case move(from: String)
    }

    package var operation: Operation
    package var path: String
    package var errno: Int32

    package init(_ operation: Operation, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }
}

extension BridgeError {
    /// A change the disk, a folder or the store cannot take, or a stored record that cannot be used (exit code 9).
    package enum StorageFailure: Equatable, Sendable {
        /// A call failed with an errno meaning "no room or not allowed" (ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EFBIG).
        case file(FileFailure)
        /// A store engine's own failure (corrupt, full, permission).
        case store(StoreError)
        /// A project's reservations record is stored under another project's key (`inRedis`: on the Redis engine).
        case reservationsOfAnotherProject(record: String, inRedis: Bool)
        case reservationsDamaged(record: String, inRedis: Bool)
        indirect case reservationsUnreadable(record: String, BridgeError)
        /// Other writers changed the project's record on every attempt of a compare-and-set write.
        case reservationsKeptChanging(project: String)
        /// A talk write that could not be read back as written after every retry.
        case talkUnverified(talk: String, problem: String)
    }

    /// Any other input/output failure (exit code 1).
    package enum IOFailure: Equatable, Sendable {
        case file(FileFailure)
        /// A store engine's own input/output failure.
        case store(StoreError)
        /// The path is a symlink, FIFO, folder or device where a regular file is read.
        case notRegularFile(path: String, symlink: Bool)
        case jqPipes(errno: Int32)
        /// The jq helper cannot load libjq.
        case jqUnavailable
        /// The dashboard helper is not an executable file (`explicit`: named by SESSION_BRIDGE_UI).
        case dashboardMissing(path: String, explicit: Bool, version: String)
        case cannotStart(program: String, errno: Int32)
        case tmuxNewWindow(stderr: String)
        case tmuxSendKeys(pane: String, stderr: String)
        case tmuxEnter(pane: String)
        /// The watcher would have to poll (the change signal's reason, if any) but polling is turned off.
        case watcherCannotUseInotify(reason: String?)
        /// A talk write that returned without the change it made.
        case talkChangeNotRecorded(TalkChange)
        case unexpectedRedisReply(to: TalkChange)
        /// The engine's turns do not continue the local mirror of the talk, which holds `held` turns.
        case mirrorOutOfStep(talk: String, held: Int)
        case normalizeWouldChangeContent(talk: String)
    }

    /// A change to a talk, as a failure names it.
    package enum TalkChange: Equatable, Sendable {
        case creation, turn, resolution, block, closing, change
    }
}

extension BridgeError {
    /// Why the store is not safe to use: someone else could write to it and so inject messages into an agent.
    package enum InsecureStore: Equatable, Sendable {
        case symlink(root: String)
        case notAFolder(root: String)
        case ownedByAnotherUser(root: String, owner: UInt32, user: UInt32)
        /// `mode` is the folder's permission bits.
        case writableByOthers(root: String, mode: UInt32)
        /// A store engine's own finding.
        case store(StoreError)
    }
}

extension BridgeError {
    /// The operation contradicts the state it meets: an answered message, a turn out of order, a lock held elsewhere.
    package enum Conflict: Equatable, Sendable {
        /// A store engine's own conflict.
        case store(StoreError)
        /// The message cannot be read as one and was moved aside (`reason`: why, when known).
        case messageQuarantined(id: String, reason: String?)
        /// The query was delivered too many times without an answer and expired.
        case messageExpired(id: String)
        case alreadyAnswered(id: String)
        /// Only queries take replies (`type` nil: the message could not be read back).
        case takesNoReply(id: String, type: MessageType?)
        case watcherRunning(store: String)
        case watcherLostLock(store: String)
        case talkUnparsable(talk: String, Conversation.ParseError)
        case talkDamaged(talk: String, Conversation.ParseError)
        /// A turn's text does not match its checksum, which normalize cannot repair.
        case turnChecksum(talk: String, turn: Int)
        /// The talk's rules refuse the change (`listingParticipants`: name them when the speaker is not one).
        case talkRefused(talk: String, TalkRefusal, listingParticipants: Bool)
        case talkLocked(lock: String)
        case ambiguousTalkID(String, matches: [String])
        case noFreeTalkID(topic: String)
        /// `launch` run where one of the agents' environment markers is set.
        case launchInsideAgent(marker: String)
        case reserved(requested: Reservation, held: Reservation)
    }
}

extension BridgeError {
    /// An argument, option, setting or input file that cannot be used as given (exit code 6).
    package enum InvalidInput: Equatable, Sendable {
        /// A store setting this binary cannot use (an engine it does not have, or an unparsable URL).
        case store(StoreError)
        /// `option` takes one of `allowed`.
        case notOneOf(option: String, allowed: [String])
        /// More than one of `listen --foreground`, `--background`, `--off`.
        case listenModes
        case textTwice
        case noSuchFile(path: String)
        /// The file holds more than `limit` bytes (`size` when known before reading it).
        case fileTooLarge(path: String, size: Int?, limit: Int)
        case hookInputNotObject
        case homeNotSet
        case cannotRun(program: String, errno: Int32)
        case launchWithoutCommand
        case launchOutsideTmux
        case tmuxSocket(tmux: String)
        case invalidTTL(String)
        case pathsAndAll
        case noReservationPaths
        case reservationPath(String)
        /// A reservation glob with `..` after a wildcard.
        case reservationPattern(String)
        case outsideProject(path: String, root: String)
        case reservationTTLRange
        case reservationReason
        /// Reservation arguments that lie in two projects.
        case projectsDiffer(pattern: String, root: String, firstPattern: String, firstRoot: String)
        case tooManyReservations(limit: Int)
        case noSpeaker
        case topicNotOneLine
        case noOtherParticipant
        case maxTurnsBelowOne
        /// `option` (`--first`, `--next`) names someone outside the talk.
        case notAParticipant(option: String, name: String, participants: [String])
        case emptyReason
        /// The talk's config.yaml, or a file like it, refused.
        case config(path: String, ConfigError)
        case configNotRegularFile(path: String)
        indirect case configUnreadable(path: String, BridgeError)
        case unsafeTalksFolder(folder: String, resolved: String, ConfigError.UnsafeLocation)
        case unsafeConversationsFolder(folder: String, resolved: String, ConfigError.UnsafeLocation)
        case talkTooLarge(talk: String, size: Int, limit: Int)
        /// The change cannot be stored so that it reads back unchanged.
        case unrepresentable(TalkError.Part)
    }
}
