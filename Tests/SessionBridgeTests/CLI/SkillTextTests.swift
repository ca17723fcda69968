import Foundation
import Testing
@testable import SessionBridge

/// What a model reads in the skills and in `listen`'s output must be runnable as written, in Claude Code and in Codex.
struct SkillTextTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func skills() -> [(String, String)] {
        let folder = repoRoot + "/skills"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().compactMap { name in
            (try? String(contentsOfFile: "\(folder)/\(name)/SKILL.md", encoding: .utf8)).map { (name, $0) }
        }
    }

    @Test func everySkillNamesTheHelperAsAPathACodexModelCanFillIn() {
        let skills = Self.skills()
        #expect(!skills.isEmpty)
        for (name, text) in skills where text.contains("BRIDGE") {
            #expect(text.contains("`<this skill's folder>/../../scripts/session-bridge`"), "skills/\(name) leaves Codex without a path")
        }
    }

    @Test func aCodexSessionCanTurnOnListeningBetweenTurnsFromItsSkills() {
        let all = Self.skills().map(\.1).joined(separator: "\n")
        for form in ["`BRIDGE listen --foreground`", "`BRIDGE listen --background`", "`BRIDGE listen --off`"] {
            #expect(all.contains(form), "no skill shows \(form)")
        }
    }

    @Test func listenBetweenTurnsPrintsARunnableOffCommand() throws {
        let root = makeTempDir("listen-off")
        #expect(try CLI.run(["start", "--name", "svc"], root: root, key: "svc-key").status == 0)
        for mode in ["--foreground", "--background"] {
            let r = try CLI.run(["listen", mode], root: root, key: "svc-key")
            #expect(r.status == 0, "\(r.stderr)")
            let off = r.stdout.components(separatedBy: "(off: `").last?.components(separatedBy: "`").first ?? ""
            #expect(off.hasSuffix(" listen --off") && !off.hasPrefix("listen") && off.contains("session-bridge"), "\(r.stdout)")
        }
    }
}
