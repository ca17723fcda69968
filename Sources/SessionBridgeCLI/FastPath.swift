#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SessionBridge

/// The commands agents run most (`ask`, `reply`, `listen`, `talk say`, `hook EVENT`) in their plain forms, read without
/// swift-argument-parser: building its argument sets costs 1 to 2 ms of every call (perf: about 40% of an `ask`).
///
/// Only input that is fully understood is taken: known `--option value` pairs, known flags, and the right number of
/// positionals. Anything else (help, an unknown or repeated option, `--option=value`, `--`, a value that starts with
/// `-`, a bad number) is left to the argument parser, which stays the definition of the command line and the source of
/// its errors. Both paths produce the same `Invocation` and run it the same way; FastPathGrammarTests checks, in process,
/// that every command line the fast path takes parses to the same invocation through the argument parser, and that
/// each form below names exactly the command's options. `SESSION_BRIDGE_NO_FAST_PATH=1` turns this off.
enum FastPath {
    /// What the fast path reads of one command: its `--option value` names, its flags, how many positionals.
    struct Form: Sendable {
        let command: [String]
        let options: [String]
        let flags: [String]
        let positionals: ClosedRange<Int>
    }

    static let ask = Form(command: ["ask"], options: ["--session", "--file", "--wait"], flags: ["--json"], positionals: 1...2)
    static let reply = Form(command: ["reply"], options: ["--session", "--file"], flags: ["--json"], positionals: 1...2)
    static let listen = Form(command: ["listen"], options: ["--session", "--timeout", "--filter"],
                                     flags: ["--json", "--foreground", "--background", "--off"], positionals: 0...0)
    static let say = Form(command: ["talk", "say"], options: ["--dir", "--session", "--file", "--as", "--next"],
                                  flags: ["--json"], positionals: 1...2)
    /// Every form, for the grammar tests.
    static let forms = [ask, reply, listen, say]

    /// A parsed command line: the command and the values its shared `execute` takes.
    enum Invocation: Sendable {
        case ask(session: String?, peer: String, text: String?, file: String?, wait: Double?, json: Bool)
        case reply(session: String?, messageID: String, text: String?, file: String?, json: Bool)
        case listen(session: String?, timeout: Double, filter: String?, json: Bool, foreground: Bool, background: Bool, off: Bool)
        case say(dir: String?, session: String?, conversation: String, text: String?, file: String?, asName: String?, next: String?,
                 json: Bool)
        case hook(HookEvent)

        /// Runs the command; failures are thrown as the argument parser's `ExitCode`.
        func run() throws {
            switch self {
            case let .ask(session, peer, text, file, wait, json):
                try AskCommand.execute(session: session, peer: peer, text: text, file: file, wait: wait, json: json)
            case let .reply(session, messageID, text, file, json):
                try ReplyCommand.execute(session: session, messageID: messageID, text: text, file: file, json: json)
            case let .listen(session, timeout, filter, json, foreground, background, off):
                try ListenCommand.execute(session: session, timeout: timeout, filter: filter, json: json,
                                          foreground: foreground, background: background, off: off)
            case let .say(dir, session, conversation, text, file, asName, next, json):
                try TalkSay.execute(dir: dir, session: session, conversation: conversation, text: text, file: file,
                                    asName: asName, next: next, json: json)
            case let .hook(event):
                let outcome = HookRunner.run(event)
                if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
            }
        }
    }

    struct Arguments {
        var positionals: [String] = []
        var values: [(String, String)] = []

        func value(_ name: String) -> String? { values.first { $0.0 == name }?.1 }
        var flags: [String] = []   // a handful: arrays spare the first use of hashing

        func number(_ name: String) -> Double?? {
            guard let v = value(name) else { return .some(nil) }
            guard let d = Double(v) else { return nil }   // a bad number: the parser words the error
            return .some(d)
        }
    }

    /// Splits `args` by `form`; nil when anything falls outside the plain forms.
    static func split(_ args: ArraySlice<String>, _ form: Form) -> Arguments? {
        var parsed = Arguments()
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            if a.hasPrefix("-") && a != "-" {
                if form.options.contains(a) {
                    let next = args.index(after: i)
                    guard next < args.endIndex, parsed.value(a) == nil, !args[next].hasPrefix("-") else { return nil }
                    parsed.values.append((a, args[next]))
                    i = args.index(after: next)
                    continue
                }
                guard form.flags.contains(a), !parsed.flags.contains(a) else { return nil }
                parsed.flags.append(a)
            } else {
                guard a != "help" else { return nil }
                parsed.positionals.append(a)
            }
            i = args.index(after: i)
        }
        return form.positionals.contains(parsed.positionals.count) ? parsed : nil
    }

    /// The invocation `arguments` (the full argv) stands for when it is one of the plain forms; nil otherwise.
    static func parse(_ arguments: [String]) -> Invocation? {
        guard arguments.count >= 2 else { return nil }
        switch arguments[1] {
        case "ask":
            guard let a = split(arguments.dropFirst(2), ask), let wait = a.number("--wait") else { return nil }
            return .ask(session: a.value("--session"), peer: a.positionals[0], text: a.positionals.dropFirst().first,
                        file: a.value("--file"), wait: wait, json: a.flags.contains("--json"))
        case "reply":
            guard let a = split(arguments.dropFirst(2), reply) else { return nil }
            return .reply(session: a.value("--session"), messageID: a.positionals[0], text: a.positionals.dropFirst().first,
                          file: a.value("--file"), json: a.flags.contains("--json"))
        case "listen":
            guard let a = split(arguments.dropFirst(2), listen), let timeout = a.number("--timeout") else { return nil }
            return .listen(session: a.value("--session"), timeout: timeout ?? ListenCommand.defaultTimeout, filter: a.value("--filter"),
                           json: a.flags.contains("--json"), foreground: a.flags.contains("--foreground"),
                           background: a.flags.contains("--background"), off: a.flags.contains("--off"))
        case "talk" where arguments.count >= 3 && arguments[2] == "say":
            guard let a = split(arguments.dropFirst(3), say) else { return nil }
            return .say(dir: a.value("--dir"), session: a.value("--session"), conversation: a.positionals[0],
                        text: a.positionals.dropFirst().first, file: a.value("--file"), asName: a.value("--as"),
                        next: a.value("--next"), json: a.flags.contains("--json"))
        case "hook" where arguments.count == 3:
            return HookEvent(rawValue: arguments[2]).map { .hook($0) }
        default:
            return nil
        }
    }

    /// Runs the command and exits when `arguments` (the full argv) is one of the plain forms; returns otherwise.
    static func runIfPlain(_ arguments: [String]) {
        guard let invocation = parse(arguments) else { return }
        // Hooks take the fast path always: they run on every tool call.
        if case .hook = invocation {} else if getenv("SESSION_BRIDGE_NO_FAST_PATH").map({ String(cString: $0) }) == "1" { return }
        do {
            try invocation.run()
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            SessionBridgeCommand.exit(withError: error)
        }
    }
}

/// A command the fast path also reads: the argument parser's result as the same invocation, so both paths run one way.
protocol FastPathCommand: ParsableCommand {
    var invocation: FastPath.Invocation { get }
}
