#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser

/// The commands agents run most (`ask`, `reply`, `listen`, `talk say`) in their plain forms, read without
/// swift-argument-parser: building its argument sets costs 1 to 2 ms of every call (perf: about 40% of an `ask`).
///
/// Only input that is fully understood is taken: known `--option value` pairs, known flags, and the right number of
/// positionals. Anything else (help, an unknown or repeated option, `--option=value`, `--`, a value that starts with
/// `-`, a bad number) is left to the argument parser, which stays the definition of the command line and the source of
/// its errors. Both paths call the same `execute` function. `SESSION_BRIDGE_NO_FAST_PATH=1` turns this off (the
/// tests compare both paths).
enum FastPath {
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

    /// Splits `args`; nil when anything falls outside the plain forms.
    static func split(_ args: ArraySlice<String>, options: [String], flags: [String], positionals: ClosedRange<Int>) -> Arguments? {
        var parsed = Arguments()
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            if a.hasPrefix("-") && a != "-" {
                if options.contains(a) {
                    let next = args.index(after: i)
                    guard next < args.endIndex, parsed.value(a) == nil, !args[next].hasPrefix("-") else { return nil }
                    parsed.values.append((a, args[next]))
                    i = args.index(after: next)
                    continue
                }
                guard flags.contains(a), !parsed.flags.contains(a) else { return nil }
                parsed.flags.append(a)
            } else {
                guard a != "help" else { return nil }
                parsed.positionals.append(a)
            }
            i = args.index(after: i)
        }
        return positionals.contains(parsed.positionals.count) ? parsed : nil
    }

    /// Runs the command and exits when `arguments` (the full argv) is one of the plain forms; returns otherwise.
    static func runIfPlain(_ arguments: [String]) {
        guard arguments.count >= 2, getenv("SESSION_BRIDGE_NO_FAST_PATH").map({ String(cString: $0) }) != "1" else { return }
        let rest = arguments.dropFirst(2)
        let work: (() throws -> Void)?
        switch arguments[1] {
        case "ask": work = ask(rest)
        case "reply": work = reply(rest)
        case "listen": work = listen(rest)
        case "talk" where arguments.count >= 3 && arguments[2] == "say": work = say(arguments.dropFirst(3))
        default: work = nil
        }
        guard let work else { return }
        do {
            try work()
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            SessionBridgeCommand.exit(withError: error)
        }
    }

    static func ask(_ args: ArraySlice<String>) -> (() throws -> Void)? {
        guard let a = split(args, options: ["--session", "--file", "--wait"], flags: ["--json"], positionals: 1...2),
              let wait = a.number("--wait") else { return nil }
        return {
            try AskCommand.execute(session: a.value("--session"), peer: a.positionals[0], text: a.positionals.dropFirst().first,
                                   file: a.value("--file"), wait: wait, json: a.flags.contains("--json"))
        }
    }

    static func reply(_ args: ArraySlice<String>) -> (() throws -> Void)? {
        guard let a = split(args, options: ["--session", "--file"], flags: ["--json"], positionals: 1...2) else { return nil }
        return {
            try ReplyCommand.execute(session: a.value("--session"), messageID: a.positionals[0], text: a.positionals.dropFirst().first,
                                     file: a.value("--file"), json: a.flags.contains("--json"))
        }
    }

    static func listen(_ args: ArraySlice<String>) -> (() throws -> Void)? {
        guard let a = split(args, options: ["--session", "--timeout", "--filter"], flags: ["--json", "--foreground", "--background", "--off"],
                            positionals: 0...0),
              let timeout = a.number("--timeout") else { return nil }
        return {
            try ListenCommand.execute(session: a.value("--session"), timeout: timeout ?? ListenCommand.defaultTimeout,
                                      filter: a.value("--filter"), json: a.flags.contains("--json"),
                                      foreground: a.flags.contains("--foreground"), background: a.flags.contains("--background"),
                                      off: a.flags.contains("--off"))
        }
    }

    static func say(_ args: ArraySlice<String>) -> (() throws -> Void)? {
        guard let a = split(args, options: ["--dir", "--session", "--file", "--as", "--next"], flags: ["--json"], positionals: 1...2) else {
            return nil
        }
        return {
            try TalkSay.execute(dir: a.value("--dir"), session: a.value("--session"), conversation: a.positionals[0],
                                text: a.positionals.dropFirst().first, file: a.value("--file"), asName: a.value("--as"),
                                next: a.value("--next"), json: a.flags.contains("--json"))
        }
    }
}
