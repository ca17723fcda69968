import ArgumentParser
import SessionBridge

/// How a command ended when it did what it was asked but not what was hoped: an expected outcome (a timeout, a
/// closed talk, problems `doctor` found), never a failure. The CLI prints it as a notice and exits with its code.
enum Ending: Equatable, Sendable {
    /// The command succeeded.
    case success
    /// `ask --wait` / `await`: no reply, and the peer has not seen the question yet (exit 10).
    case replyNotSeen(peer: String, messageID: String, seconds: Int)
    /// `ask --wait` / `await`: the peer has seen the question (at `seenAt`, when known) but not answered (exit 11).
    case seenNotAnswered(peer: String, messageID: String, seconds: Int, seenAt: String?)
    /// `listen`: nothing arrived in time (exit 10).
    case nothingArrived
    /// `talk wait`: it did not become `speaker`'s turn in time (exit 10).
    case turnNotYet(talk: String, speaker: String, seconds: Int)
    /// `doctor`: problems are left, `count` of them, after a repair when `afterFix` (exit 13).
    case problemsFound(count: Int, afterFix: Bool)
    /// `talk wait`: the talk is RESOLVED or BLOCKED, so no turn will come (exit 14).
    case talkClosed(talk: String, status: String, reason: String)

    /// The documented exit code (README, "Exit codes").
    var exitCode: Int32 {
        switch self {
        case .success: return 0
        case .replyNotSeen, .nothingArrived, .turnNotYet: return 10
        case .seenNotAnswered: return 11
        case .problemsFound: return 13
        case .talkClosed: return 14
        }
    }

    /// The one-line notice, its commands spelled with `helper`; nil for success.
    func text(helper: HelperName) -> String? {
        switch self {
        case .success:
            return nil
        case .replyNotSeen(let peer, let id, let seconds):
            return "no reply from \(peer) within \(seconds) s: the message has not been seen yet (is \(peer) listening?); "
                + "it stays queued, wait again with `\(helper.command("await \(id)"))`"
        case .seenNotAnswered(let peer, let id, let seconds, let seenAt):
            return "\(peer) saw the message\(seenAt.map { " at \($0)" } ?? "") but has not answered within \(seconds) s; "
                + "wait again with `\(helper.command("await \(id)"))`"
        case .nothingArrived:
            return "nothing yet, listen again: `\(helper.command("listen"))`"
        case .turnNotYet(let talk, let speaker, let seconds):
            return "not \(speaker)'s turn yet in talk \(talk) (waited \(seconds) s): wait again"
        case .problemsFound(let count, let afterFix):
            return "\(count) problem(s)" + (afterFix ? " could not be repaired" : " found; `\(helper.command("doctor --fix"))` repairs what it can")
        case .talkClosed(let talk, let status, let reason):
            return "talk \(talk) is \(status): \(reason)"
        }
    }

    /// The ending of a wait for a reply that ran out.
    static func replyTimedOut(peer: String, messageID: String, seen: Bool, seenAt: String?, seconds: Double) -> Ending {
        let whole = Int(seconds.rounded())
        return seen ? .seenNotAnswered(peer: peer, messageID: messageID, seconds: whole, seenAt: seenAt)
            : .replyNotSeen(peer: peer, messageID: messageID, seconds: whole)
    }
}

/// Runs a command body; a `BridgeError` becomes its one-line message and documented exit code.
func reportingErrors(_ body: () throws(BridgeError) -> Void) throws {
    try reportingOutcome { () throws(BridgeError) -> Ending in
        try body()
        return .success
    }
}

/// Runs a command body that may end in an expected outcome: the one place failures and endings become text and
/// exit codes.
func reportingOutcome(_ body: () throws(BridgeError) -> Ending) throws {
    let ending: Ending
    do {
        ending = try body()
    } catch {
        Output.error(error.message(helper: .current))
        throw ExitCode(error.exitCode)
    }
    if let text = ending.text(helper: .current) { Output.notice(text) }
    if ending.exitCode != 0 { throw ExitCode(ending.exitCode) }
}
