/// Every failure a user can meet, each with a one-line message they can act on and a documented exit code.
///
/// Exit codes (also in the README):
/// 0 success · 1 unexpected failure · 3 no identity · 4 not found · 5 peer ended ·
/// 6 invalid input · 7 bad jq filter · 8 insecure store · 9 storage failure ·
/// 10 timed out, nothing arrived / not seen · 11 timed out, seen but not answered · 12 conflict ·
/// 13 doctor found problems · 14 the talk is closed · 15 store unreachable · 64 usage.
public enum BridgeError: Error, Equatable, Sendable {
    case noIdentity
    case unknownPeer(String)
    case ambiguousPeer(String, candidates: [String])
    case peerEnded(String)
    case unknownMessage(String)
    case invalidID(String)
    case invalidName(String)
    case emptyMessage
    case messageTooLarge(size: Int, limit: Int)
    case binaryContent(String)
    case cannotMessageSelf
    case badFilter(String)
    case insecureStore(String)
    case storage(String)
    case timedOut(String)
    case seenNotAnswered(String)
    case conflict(String)
    /// `doctor` found problems that are not (or could not be) repaired.
    case problemsFound(String)
    /// `talk wait`: the talk is RESOLVED or BLOCKED, so no turn will come.
    case talkClosed(String)
    case invalidInput(String)
    case io(String)
    /// The store cannot be reached (a network engine's server is down or refuses the connection).
    case storeUnreachable(String)

    public var exitCode: Int32 {
        switch self {
        case .io: return 1
        case .noIdentity: return 3
        case .unknownPeer, .ambiguousPeer, .unknownMessage: return 4
        case .peerEnded: return 5
        case .invalidID, .invalidName, .emptyMessage, .messageTooLarge, .binaryContent, .cannotMessageSelf, .invalidInput:
            return 6
        case .badFilter: return 7
        case .insecureStore: return 8
        case .storage: return 9
        case .timedOut: return 10
        case .seenNotAnswered: return 11
        case .conflict: return 12
        case .problemsFound: return 13
        case .talkClosed: return 14
        case .storeUnreachable: return 15
        }
    }

    /// The message, naming the helper as this process is run (`HelperName.current`).
    public var message: String { message(helper: .current) }

    /// The message with its commands spelled with `helper`, so that each runs where it is shown.
    public func message(helper: HelperName) -> String {
        switch self {
        case .noIdentity:
            return Identity.noSessionAdvice(Identity.situation(environment: .current()), helper: helper)
        case .unknownPeer(let p):
            return "unknown peer '\(p)': run `\(helper.command("peers"))` to see the sessions you can reach"
        case .ambiguousPeer(let p, let c):
            return "peer '\(p)' is ambiguous (\(c.joined(separator: ", "))): use the id"
        case .peerEnded(let p):
            return "peer '\(p)' has ended its session: run `\(helper.command("peers"))` to see who is live"
        case .unknownMessage(let m):
            return "unknown message '\(m)': run `\(helper.command("inbox --all"))` to see message ids"
        case .invalidID(let s):
            return "invalid id '\(s)': ids contain only letters, digits and '-'"
        case .invalidName(let s):
            return "invalid name '\(s)': use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
        case .emptyMessage:
            return "empty message: give the text as an argument, on stdin with '-', or with --file PATH"
        case .messageTooLarge(let size, let limit):
            return "message is \(size) bytes, over the \(limit)-byte cap (raise it with SESSION_BRIDGE_MAX_MESSAGE_BYTES)"
        case .binaryContent(let why):
            return "message is not text (\(why)): send UTF-8 text; encode binary data (e.g. base64) first"
        case .cannotMessageSelf:
            return "that peer is this session: a session cannot message itself"
        case .badFilter(let m):
            return "bad jq filter: \(m)"
        case .insecureStore(let m):
            return "insecure store: \(m)"
        case .storage(let m):
            return "storage failure: \(m)"
        case .storeUnreachable(let m):
            return "store unreachable: \(m)"
        case .timedOut(let m), .seenNotAnswered(let m), .conflict(let m), .invalidInput(let m), .io(let m),
             .problemsFound(let m), .talkClosed(let m):
            return m
        }
    }
}

extension BridgeError: CustomStringConvertible {
    public var description: String { message }
}
