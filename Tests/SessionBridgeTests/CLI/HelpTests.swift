import Foundation
import Testing
@testable import SessionBridge

/// Help as a person reads it: wrapped cleanly at the terminal's width, every command listed, the command groups
/// (talk, doctor, launch, watch) known to `help`, `--help` and shell completions.
@Suite struct HelpTests {
    static let everyCommand = ["start", "connect", "peers", "ask", "await", "listen", "reply", "status", "inbox", "stop", "gc",
                               "talk", "doctor", "launch", "watch", "ui", "hook", "reserve", "release", "reservations"]

    func help(_ args: [String], columns: Int = 80) throws -> Run {
        try CLI.run(args, root: makeTempDir("help"), key: nil, extra: ["COLUMNS": "\(columns)"])
    }

    @Test(arguments: [80, 100, 132])
    func topLevelHelpWrapsCleanlyAndListsEverything(columns: Int) throws {
        let r = try help(["--help"], columns: columns)
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for line in lines where !line.hasPrefix("USAGE:") { #expect(line.count <= columns, "over \(columns): \(line)") }
        // Prose lines end only where the next word would not fit: no hard-wrapped fragments.
        let prose = lines.prefix { !$0.hasPrefix("USAGE:") }
        for (a, b) in zip(prose, prose.dropFirst()) where !a.isEmpty && !b.isEmpty && !a.hasPrefix(" ") && !b.hasPrefix(" ") {
            let next = b.split(separator: " ").first.map(String.init) ?? ""
            // argument-parser keeps a line below the width (at most width - 1 characters).
            #expect(a.count + 1 + next.count >= columns, "fragment at \(columns) columns: '\(a)' / '\(b)'")
        }
        let listed = lines.drop { !$0.hasPrefix("SUBCOMMANDS:") }.compactMap { line -> String? in
            line.hasPrefix("  ") && !line.hasPrefix("   ") ? line.split(separator: " ").first.map(String.init) : nil
        }
        for command in Self.everyCommand { #expect(listed.contains(command), "\(command) not listed at \(columns) columns") }
    }

    @Test func theGroupsHaveHelpEveryWay() throws {
        for args in [["help", "talk"], ["talk", "--help"], ["talk", "-h"]] {
            let r = try help(args)
            #expect(r.status == 0 && r.stdout.contains("USAGE: session-bridge talk <subcommand>"), "\(args): \(r.stdout)\(r.stderr)")
            for sub in ["new", "say", "wait", "show", "resolve", "block"] { #expect(r.stdout.contains("  \(sub) "), "\(args) lacks \(sub)") }
        }
        for args in [["help", "talk", "say"], ["talk", "say", "--help"]] {
            let r = try help(args)
            #expect(r.status == 0 && r.stdout.contains("USAGE: session-bridge talk say"), "\(args): \(r.stdout)\(r.stderr)")
        }
        for group in ["doctor", "launch", "watch"] {
            for args in [["help", group], [group, "--help"]] {
                let r = try help(args)
                #expect(r.status == 0 && r.stdout.contains("USAGE: session-bridge \(group)"), "\(args): \(r.stdout)\(r.stderr)")
            }
        }
        let unknown = try help(["bogus"])
        #expect(unknown.status == 64)
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionsKnowEveryCommandAndTheGroupsOptions(shell: String) throws {
        let r = try help(["--generate-completion-script", shell])
        #expect(r.status == 0)
        for word in Self.everyCommand + ["say", "resolve", "--fix", "--alias", "--new-window", "--install-service"] {
            // fish spells long options as `-l name`.
            let spelled = shell == "fish" && word.hasPrefix("--") ? String(word.dropFirst(2)) : word
            #expect(r.stdout.contains(spelled), "\(shell) completion lacks \(word)")
        }
    }
}
