import Foundation
import Testing
import SessionBridge
@testable import SessionBridgeCLI

/// The fast path (Sources/SessionBridgeCLI/FastPath.swift) is a second reader of the hottest command lines. These tests
/// hold it to the argument parser's definitions in process: each form names exactly the options, flags and positionals
/// the parser defines, every plain command line built from those definitions takes the fast path, and no command line
/// (generated from every spelling, near misses and awkward values) takes the fast path unless the parser reads it as
/// the same invocation. A renamed, added or removed option fails here, not in an agent's session.
@Suite struct FastPathGrammarTests {
    /// What the argument parser defines for one command, read from its `--experimental-dump-help` JSON.
    struct Definition {
        var options: Set<String> = [], flags: Set<String> = [], spellings: Set<String> = []
        var required = 0, positionals = 0
    }

    static func definition(_ form: FastPath.Form) throws -> Definition {
        let argv = ["session-bridge"] + form.command + ["--experimental-dump-help"]
        let root = SessionBridgeCLI.CLI.root(for: argv)
        var dump = ""
        do { _ = try root.parseAsRoot(Array(argv.dropFirst())) } catch { dump = root.fullMessage(for: error) }
        let object = try #require(JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any])
        let command = try #require(object["command"] as? [String: Any])
        #expect(command["commandName"] as? String == form.command.last)
        var d = Definition()
        for argument in command["arguments"] as? [[String: Any]] ?? [] {
            let names = (argument["names"] as? [[String: Any]] ?? []).compactMap { n -> String? in
                guard let name = n["name"] as? String else { return nil }
                return (n["kind"] as? String == "long" ? "--" : "-") + name
            }
            if names.contains("--help") || names.contains("--version") { continue }
            #expect(argument["isRepeating"] as? Bool != true, "\(form.command) \(names): a repeating argument")
            d.spellings.formUnion(names)
            switch argument["kind"] as? String {
            case "option": d.options.formUnion(names.filter { $0.hasPrefix("--") })
            case "flag": d.flags.formUnion(names.filter { $0.hasPrefix("--") })
            default:
                d.positionals += 1
                if argument["isOptional"] as? Bool != true { d.required += 1 }
            }
        }
        return d
    }

    /// The argument parser's reading of `argv` (the full argv, through the same dispatch as the binary), or nil when
    /// it refuses it.
    static func parsed(_ argv: [String]) -> String? {
        let root = SessionBridgeCLI.CLI.root(for: argv)
        guard let command = try? root.parseAsRoot(Array(argv.dropFirst())) else { return nil }
        guard let plain = command as? FastPathCommand else { return "not a fast-path command: \(type(of: command))" }
        return "\(plain.invocation)"
    }

    /// The fast path's reading of `argv`, described the same way (a description, so NaN compares equal to itself).
    static func fast(_ argv: [String]) -> String? { FastPath.parse(argv).map { "\($0)" } }

    @Test(arguments: FastPath.forms.map(\.command))
    func formNamesExactlyWhatTheParserDefines(_ command: [String]) throws {
        let form = try #require(FastPath.forms.first { $0.command == command })
        let d = try Self.definition(form)
        #expect(Set(form.options) == d.options, "options of \(command)")
        #expect(Set(form.flags) == d.flags, "flags of \(command)")
        #expect(form.positionals == d.required...d.positionals, "positionals of \(command)")
    }

    /// Every combination of the defined options and flags, with each allowed number of positionals, in three orders.
    @Test(arguments: FastPath.forms.map(\.command))
    func everyPlainFormTakesTheFastPathAsTheParserReadsIt(_ command: [String]) throws {
        let form = try #require(FastPath.forms.first { $0.command == command })
        let d = try Self.definition(form)
        // Distinct numbers as values: every option takes one (some only numbers), and a swapped value shows.
        let named = d.options.sorted().enumerated().map { [$1, "\($0 + 1)"] } + d.flags.sorted().map { [$0] }
        var checked = 0
        for mask in 0..<(1 << named.count) {
            let chosen = named.indices.filter { mask & (1 << $0) != 0 }.map { named[$0] }
            for count in d.required...d.positionals {
                let positionals = (0..<count).map { "positional \($0)" }
                for argv in [positionals + chosen.flatMap { $0 }, chosen.flatMap { $0 } + positionals,
                             Array(positionals.prefix(1)) + chosen.reversed().flatMap { $0 } + positionals.dropFirst()] {
                    let full = ["session-bridge"] + command + argv
                    let parser = Self.parsed(full)
                    #expect(parser != nil, "the parser refuses \(full)")
                    #expect(Self.fast(full) == parser, "\(full)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 3 << named.count)
    }

    /// Awkward values: dashes, numbers the two readers could disagree on, words the parser treats specially.
    static let values = ["x", "peer", "two words", "-", "--", "-x", "-1", "5", "0.5", "1e2", "0x1p3", "nan", "inf", "-inf", " 5",
                         "", "help", "-h", "--help", "--version", "a=b", "=", "ask", "say", "talk", "é", "--json=true",
                         "--experimental-dump-help", "\n"]

    /// Random command lines from every spelling the parser defines, every name the fast path knows, near misses of
    /// each, and the awkward values: whatever the fast path takes, the parser must read the same way.
    @Test(arguments: FastPath.forms.map(\.command))
    func fastPathTakesNothingTheParserReadsDifferently(_ command: [String]) throws {
        let form = try #require(FastPath.forms.first { $0.command == command })
        let d = try Self.definition(form)
        let names = Set(form.options + form.flags).union(d.spellings).sorted()
        let nearMisses = names.flatMap { [$0 + "=x", $0.uppercased(), String($0.dropLast()), $0 + "s", String($0.dropFirst())] }
        var rng = SplitMix(state: 0x5EED_0000 ^ UInt64(command.joined().utf8.count))
        var taken = 0, refused = 0
        for _ in 0..<1500 {
            var argv: [String] = []
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<4: argv += [names.randomElement(using: &rng)!, Self.values.randomElement(using: &rng)!]
                case 4..<6: argv.append(names.randomElement(using: &rng)!)
                case 6..<9: argv.append(["x", "peer", "text", "-"].randomElement(using: &rng)!)
                default: argv.append((Self.values + nearMisses).randomElement(using: &rng)!)
                }
            }
            let full = ["session-bridge"] + command + argv
            guard let fast = Self.fast(full) else { refused += 1; continue }
            taken += 1
            #expect(Self.parsed(full) == fast, "\(full)")
        }
        // Both outcomes are exercised, so the property is not vacuous.
        #expect(taken > 100 && refused > 100, "taken \(taken), refused \(refused)")
    }

    /// `hook EVENT` skips parsing for every event the parser knows, as the same invocation, and for nothing else.
    @Test func hookEventsMatchTheParser() {
        for event in HookEvent.allCases {
            let argv = ["session-bridge", "hook", event.rawValue]
            #expect(Self.fast(argv) != nil && Self.fast(argv) == Self.parsed(argv), "\(argv)")
        }
        for word in Self.values + ["Stop", "pre_tool_use", "session-start "] {
            let argv = ["session-bridge", "hook", word]
            if Self.fast(argv) != nil { #expect(Self.fast(argv) == Self.parsed(argv), "\(argv)") }
        }
        #expect(Self.fast(["session-bridge", "hook", "stop", "extra"]) == nil)
    }
}
