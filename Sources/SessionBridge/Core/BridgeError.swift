/// Every failure a user can meet, each with a one-line message they can act on and a documented exit code.
///
/// Exit codes (also in the README):
/// 0 success · 1 unexpected failure · 3 no identity (or this session has ended) · 4 not found · 5 peer ended ·
/// 6 invalid input · 7 bad jq filter · 8 insecure store · 9 storage failure · 12 conflict · 15 store unreachable ·
/// 64 usage. Expected outcomes that are not success (10 and 11 timed out, 13 doctor found problems, 14 the talk is
/// closed) are results, not errors: the CLI gives them their codes (`Ending` in SessionBridgeCLI).
public enum BridgeError: Error, Equatable, Sendable {
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
    case binaryContent(String)
    case cannotMessageSelf
    case badFilter(String)
    case insecureStore(String)
    case storage(String)
    case conflict(String)
    case invalidInput(String)
    case io(String)
    /// The store cannot be reached (a network engine's server is down or refuses the connection); the payload says
    /// which store and why, without the "store unreachable" prefix the message adds.
    case storeUnreachable(String)

    /// What kind of failure this is, stable for scripts and tests (`--json` output, logs).
    public enum Code: String, Sendable, CaseIterable {
        case noIdentity, sessionEnded, unknownPeer, ambiguousPeer, peerEnded, unknownMessage, invalidID, invalidName, emptyMessage
        case messageTooLarge, binaryContent, cannotMessageSelf, badFilter, insecureStore, storage, conflict
        case invalidInput, io, storeUnreachable
    }

    public var code: Code {
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

    public var exitCode: Int32 {
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

    /// The message, naming the helper as this process is run (`HelperName.current`).
    public var message: String { message(helper: .current) }

    /// The message with its commands spelled with `helper`, so that each runs where it is shown.
    public func message(helper: HelperName) -> String {
        switch self {
        case .noIdentity:
            return Identity.noSessionAdvice(Identity.situation(environment: .current()), helper: helper)
        case .sessionEnded(let id, let name):
            return "session '\(name)' (\(id)) has ended, so no command can act as it any more: start a new session with "
                + "`\(helper.command("start --name NAME"))` and use the id it prints (`\(helper.command("peers --all"))` "
                + "lists every session, ended ones too)"
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
        case .conflict(let m), .invalidInput(let m), .io(let m):
            return m
        }
    }
}

extension BridgeError: CustomStringConvertible {
    public var description: String { message }
}
