import Testing
@testable import SessionBridge
@testable import SessionBridgeCLI

/// Expected outcomes that are not success: each one line, naming the helper as given, with its documented code.
@Suite struct EndingTests {
    static let helper = HelperName(text: "\"/opt/plugin/scripts/session-bridge\"")

    static let documented: [(Ending, Int32)] = [
        (.success, 0),
        (.replyNotSeen(peer: "lib", messageID: "m1", seconds: 90), 10),
        (.nothingArrived, 10),
        (.turnNotYet(talk: "t1", speaker: "app", seconds: 90), 10),
        (.seenNotAnswered(peer: "lib", messageID: "m1", seconds: 90, seenAt: "2026-12-02T12:00:00Z"), 11),
        (.seenNotAnswered(peer: "lib", messageID: "m1", seconds: 90, seenAt: nil), 11),
        (.problemsFound(count: 2, afterFix: false), 13),
        (.problemsFound(count: 1, afterFix: true), 13),
        (.talkClosed(talk: "t1", status: "RESOLVED", reason: "done"), 14),
    ]

    @Test func everyEndingHasItsDocumentedExitCode() {
        for (ending, code) in Self.documented { #expect(ending.exitCode == code, "\(ending)") }
    }

    @Test func everyEndingButSuccessIsOneLineNamingTheHelperAsGiven() {
        for (ending, _) in Self.documented {
            guard let text = ending.text(helper: Self.helper) else { #expect(ending == .success); continue }
            #expect(!text.isEmpty && !text.contains("\n"), "\(ending): \(text)")
            #expect(NamingTests.bareCommands(in: text, helper: Self.helper).isEmpty, "\(ending): \(text)")
        }
    }

    /// The texts scripts and skills rely on.
    @Test func textsSayWhatToDoNext() {
        #expect(Ending.nothingArrived.text(helper: Self.helper) == "nothing yet, listen again: `\(Self.helper.command("listen"))`")
        let notSeen = Ending.replyTimedOut(peer: "lib", messageID: "m1", seen: false, seenAt: nil, seconds: 89.6)
        #expect(notSeen == .replyNotSeen(peer: "lib", messageID: "m1", seconds: 90))
        #expect(notSeen.text(helper: Self.helper)?.hasSuffix("wait again with `\(Self.helper.command("await m1"))`") == true)
        let seen = Ending.replyTimedOut(peer: "lib", messageID: "m1", seen: true, seenAt: "T", seconds: 5)
        #expect(seen.text(helper: Self.helper)?.hasPrefix("lib saw the message at T but has not answered within 5 s") == true)
        #expect(Ending.talkClosed(talk: "t1", status: "BLOCKED", reason: "no access").text(helper: Self.helper)
            == "talk t1 is BLOCKED: no access")
    }
}
