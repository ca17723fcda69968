/// The talks side of the store seam: where talks are kept, and the one place each change to a talk is decided.
///
/// An engine keeps talks (a header and numbered turns) and applies every change as ONE atomic step against the
/// talk's current state, deciding it with `TalkRules` (the turn-taking check, max turns, who may close a talk):
/// two speakers racing for a turn can never both win it, and an engine never decides from a copy it read earlier.
/// Expected outcomes are returned (a turn refused because it is not the speaker's, a talk closed, a timeout);
/// only failures of the engine itself are thrown, as a `TalkError`.
///
/// The markdown file `.talks/conversations/<id>.md` (schema v1, see README) is the file engine's representation:
/// the talk IS the file, changed under a lock with a verified atomic write, a `.bak` and the audit log.
/// A networked engine keeps the talk on its server and runs the check there (for instance one script executed
/// atomically by the server); it says `keepsMirror`, and `Talks` renders what the server ACCEPTED into the same
/// file with `TalkMirror` after each command: the header rewritten, each accepted turn appended in order, byte for
/// byte as the file engine writes it. The
/// mirror is never read to decide a change, so a mirror that is behind, edited or deleted can cost an audit
/// trail but never a turn, and every host can `show`, `wait` and `say` whatever state its mirror is in.
package protocol TalkStore: Sendable {
    /// Ids of every talk, sorted.
    func ids() throws(TalkError) -> [String]

    /// Whether a talk with exactly this id exists.
    func exists(_ id: String) throws(TalkError) -> Bool

    /// Creates a talk with this header and no turns; `.idTaken` when the id is in use (nothing is changed).
    func create(_ header: TalkHeader) throws(TalkError) -> TalkCreation

    /// Appends one turn after checking, atomically with the write, that the talk is ACTIVE, that the speaker is
    /// a participant whose turn it is, that `next` is a participant and (when given) that the turn gets the
    /// expected number. At max turns the talk becomes BLOCKED ("max turns reached") in the same step. The nonce
    /// identifies the turn: an engine that retries after an unverified write or a lost reply first looks for it,
    /// so a retried request is the turn already stored, never a second one.
    func append(_ request: TurnRequest, to id: String) throws(TalkError) -> TurnOutcome

    /// Resolves or blocks a talk, checked atomically like `append`.
    func close(_ id: String, _ closing: TalkClosing) throws(TalkError) -> ClosingOutcome

    /// The talk's header alone (cheap: what `list`, `wait` and the watcher read).
    func header(_ id: String) throws(TalkError) -> TalkHeader

    /// The header and the turns numbered above `since` (nil: every turn).
    func read(_ id: String, since: Int?) throws(TalkError) -> Conversation

    /// Headers of every talk with the given status (all when nil), newest change first; talks that cannot be
    /// read are listed as damaged rather than failing the whole list.
    func list(status: TalkStatus?) throws(TalkError) -> TalkListing

    /// A signal that wakes when the talk may have changed (a turn, a closing); `waitForTurn` blocks on it.
    func changeSignal(_ id: String) throws(TalkError) -> any TalkChangeSignal

    /// Rewrites a talk in its canonical form without changing any turn's content. An engine whose
    /// representation is always canonical reports it unchanged.
    func normalize(_ id: String, by who: String) throws(TalkError) -> TalkNormalization

    /// Whether the talks live away from the talks folder (on a server), so `Talks` keeps each one's markdown
    /// there as a local mirror (`TalkMirror`). False for the file engine, whose files are the talks.
    var keepsMirror: Bool { get }

    /// Whether the talks folder holds the talks themselves (the file engine), so a peer reaches a talk only through
    /// that folder (`--dir`) on the machine that has it. False when they live elsewhere (a server reached from any
    /// host, or this process), where any talks folder, or none, reaches them.
    var keepsTalksInFolder: Bool { get }
}

extension TalkStore {
    package var keepsMirror: Bool { false }
    package var keepsTalksInFolder: Bool { false }
}

/// Wakes a waiter when a talk may have changed. Spurious wake-ups are allowed: the waiter reads the talk again.
package protocol TalkChangeSignal {
    /// Blocks until a change may have happened or the timeout passes. Returns false on timeout.
    func wait(timeoutMilliseconds: Int) -> Bool
}

/// One turn to append: who speaks, the content (stored byte for byte), and the nonce and time it carries.
package struct TurnRequest: Sendable, Equatable {
    package var speaker: String
    package var content: String
    package var nonce: String
    package var at: String
    /// Who speaks next; nil: the following participant.
    package var next: String?
    /// The number the turn must get; nil: whatever is next. A speaker that waited for turn N sets N, so a
    /// second process speaking for it cannot add a turn it did not see.
    package var expectedNumber: Int?

    package init(speaker: String, content: String, nonce: String, at: String, next: String? = nil, expectedNumber: Int? = nil) {
        self.speaker = speaker
        self.content = content
        self.nonce = nonce
        self.at = at
        self.next = next
        self.expectedNumber = expectedNumber
    }
}

/// Resolving or blocking a talk.
package struct TalkClosing: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// RESOLVED, from ACTIVE or BLOCKED; nil summary: "resolved by <who>".
        case resolve(summary: String?)
        /// BLOCKED, from ACTIVE only.
        case block(reason: String)
    }

    package var kind: Kind
    package var by: String
    package var at: String

    package init(_ kind: Kind, by: String, at: String) {
        self.kind = kind
        self.by = by
        self.at = at
    }
}

package enum TalkCreation: Sendable, Equatable {
    case created(Conversation)
    case idTaken
}

package enum TurnOutcome: Sendable, Equatable {
    /// The turn as stored and the header after it.
    case appended(Turn, TalkHeader)
    case refused(TalkRefusal)
}

package enum ClosingOutcome: Sendable, Equatable {
    case closed(TalkHeader)
    case refused(TalkRefusal)
}

/// Why the rules refused a change: an expected outcome, not a failure of the store.
package enum TalkRefusal: Sendable, Equatable {
    /// The talk is RESOLVED or BLOCKED: it accepts no turn.
    case closed(TalkStatus, reason: String?)
    case notParticipant(String, participants: [String])
    case notYourTurn(speaker: String, next: String)
    /// `--next` names someone outside the talk.
    case nextNotParticipant(String, participants: [String])
    /// The turn would get another number than the speaker expected (someone spoke in between).
    case turnTaken(expected: Int, actual: Int)
    case alreadyResolved
    /// Blocking needs an ACTIVE talk.
    case notActive(TalkStatus)
}

/// What `waitForTurn` returns.
package enum TalkWaitOutcome: Sendable, Equatable {
    /// It is the waiter's turn.
    case turnArrived(TalkHeader)
    /// The talk is RESOLVED or BLOCKED: no turn will come.
    case closed(TalkHeader)
    case timedOut
    /// The waiter is not in the talk.
    case refused(TalkRefusal)
}

package struct TalkListing: Sendable, Equatable {
    package var headers: [TalkHeader]
    package var damaged: [String]

    package init(headers: [TalkHeader], damaged: [String]) {
        self.headers = headers
        self.damaged = damaged
    }
}

package struct TalkNormalization: Codable, Sendable, Equatable {
    package var id: String
    package var changed: Bool
    package var strayLinesRemoved: Int

    package init(id: String, changed: Bool, strayLinesRemoved: Int) {
        self.id = id
        self.changed = changed
        self.strayLinesRemoved = strayLinesRemoved
    }
}

/// A failure of a talk engine (never an expected outcome such as a refused turn).
package enum TalkError: Error, Sendable, Equatable {
    case unknownTalk(String)
    /// The talk cannot be read as a talk; `doctor --fix` repairs it.
    case damaged(String, Conversation.ParseError)
    /// The change would take the talk past the engine's size limit; nothing was written.
    case tooLarge(String, size: Int, limit: Int)
    /// The change cannot be stored so that it reads back unchanged; nothing was written.
    case unrepresentable(Part)
    /// The write could not be verified after every retry.
    case unverified(String, problem: String)
    /// The engine's server cannot be reached.
    case unreachable(String)
    /// A failure of the storage below the engine (a file system call), already a user-facing error.
    case storage(BridgeError)

    package enum Part: String, Sendable {
        case turnHeader = "header"
        case turnContent = "content"
        case talkHeader
    }
}

extension TalkStore {
    /// Blocks (on the engine's change signal, never by polling a healthy engine) until it is `who`'s turn or the
    /// talk is no longer ACTIVE. A talk that cannot be read for a moment (damaged, missing, not a file) is waited
    /// on, as someone may repair it; an unreachable engine fails at once.
    package func waitForTurn(_ id: String, as who: String, timeoutMilliseconds: Int) throws(TalkError) -> TalkWaitOutcome {
        let signal = try changeSignal(id)
        let deadline = Clock.monotonicNanoseconds() + Int64(max(0, timeoutMilliseconds)) * 1_000_000
        while true {
            do throws(TalkError) {
                let h = try header(id)
                guard h.participants.contains(who) else { return .refused(.notParticipant(who, participants: h.participants)) }
                if h.status != .active { return .closed(h) }
                if h.nextSpeaker == who { return .turnArrived(h) }
            } catch {
                if case .unreachable = error { throw error }
            }
            let remaining = deadline - Clock.monotonicNanoseconds()
            if remaining <= 0 { return .timedOut }
            _ = signal.wait(timeoutMilliseconds: Int(remaining / 1_000_000) + 1)
        }
    }
}

extension TalkError {
    /// The user-facing error (exit codes as documented in BridgeError).
    package var bridgeError: BridgeError {
        switch self {
        case .unknownTalk(let id):
            return .unknownMessage("talk '\(id)'")
        case .damaged(let id, let problem):
            return .conflict(.talkDamaged(talk: id, problem))
        case .tooLarge(let id, let size, let limit):
            return .invalidInput(.talkTooLarge(talk: id, size: size, limit: limit))
        case .unrepresentable(let part):
            return .invalidInput(.unrepresentable(part))
        case .unverified(let id, let problem):
            return .storage(.talkUnverified(talk: id, problem: problem))
        case .unreachable(let what):
            return .storeUnreachable(what)
        case .storage(let error):
            return error
        }
    }
}

extension TalkRefusal {
    /// The user-facing error for a refusal in talk `id`. `listingParticipants`: name the participants when the
    /// speaker is not one (as `say` does).
    package func bridgeError(talk id: String, listingParticipants: Bool = false) -> BridgeError {
        switch self {
        case .nextNotParticipant(let next, let participants):
            return .invalidInput(.notAParticipant(option: "--next", name: next, participants: participants))
        default:
            return .conflict(.talkRefused(talk: id, self, listingParticipants: listingParticipants))
        }
    }
}
