/// The one place a `BridgeError` (and each of its sub-errors) becomes the one-line text a person reads. The library
/// keeps errors as values; every edge that shows one (the CLI, hook decisions, the talk audit log, doctor findings)
/// renders it here, naming the helper as it is run where the text is shown.
extension BridgeError: CustomStringConvertible {
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
            return "message is not text (\(why.text)): send UTF-8 text; encode binary data (e.g. base64) first"
        case .cannotMessageSelf:
            return "that peer is this session: a session cannot message itself"
        case .badFilter(let failure):
            return "bad jq filter: \(failure.text)"
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

    public var description: String { message }
}

extension BridgeError.BinaryContent {
    var text: String {
        switch self {
        case .nulBytes: return "it contains NUL bytes"
        case .notUTF8: return "it is not valid UTF-8"
        }
    }
}

extension BridgeError.FilterFailure {
    var text: String {
        switch self {
        case .nulInProgram: return "the program contains a NUL byte"
        case .helperMissing(let path): return "the jq helper is missing at \(path): build it with `swift build -c release`"
        case .helperStart(let path, let code): return "cannot start the jq helper \(path): \(FileSystem.errorText(code))"
        case .jq(let diagnostic): return diagnostic
        case .timedOut(let limit, let program):
            return "the program did not finish within \(limit): does it loop forever, e.g. repeat, range or recurse? (in '\(Identifiers.printable(program))')"
        case .killed(let signal, let program):
            return "the jq helper was killed by signal \(signal) (out of memory?) (in '\(Identifiers.printable(program))')"
        case .stopped(let program): return "the jq helper stopped unexpectedly (in '\(Identifiers.printable(program))')"
        }
    }
}
