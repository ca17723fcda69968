import Foundation
import Testing
@testable import SessionBridge

/// Replays, through the fuzz harness (FuzzHarness/, a link to Fuzz/Harness), every seed of each fuzz target and
/// every input the fuzzers have found (Fixtures/fuzz/<target>/): each property must hold, except the known
/// issues (FuzzKnownIssues.swift), which must still fail until their fix lands.
@Suite(.serialized) struct FuzzRegressionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// Seeds and saved inputs of one target, by name.
    static func inputs(_ target: FuzzTarget, world: FuzzWorld) -> [(name: String, bytes: [UInt8])] {
        let corpus = try? Array(Data(contentsOf: URL(fileURLWithPath: fixtures + "/guard-corpus.json")))
        var all = FuzzSeeds.seeds(for: target, world: world, guardCorpus: corpus).map { ("seed " + $0.name, $0.bytes) }
        let folder = fixtures + "/fuzz/" + target.rawValue
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
            if let data = FileManager.default.contents(atPath: folder + "/" + name) { all.append((name, Array(data))) }
        }
        return all
    }

    @Test(arguments: FuzzTarget.standard)
    func savedInputsKeepTheirProperties(_ target: FuzzTarget) throws {
        let world = try FuzzWorld(parent: NSTemporaryDirectory())
        defer { world.remove() }
        let inputs = Self.inputs(target, world: world)
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            guard let failure = target.run(bytes, in: world), FuzzKnownIssue.match(failure, bytes) == nil else { continue }
            Issue.record("\(name): \(failure)")
        }
    }

    /// Each known issue still shows on a saved input. Once its fix lands this test fails ("known issue was not
    /// recorded"): remove the entry from FuzzKnownIssues.swift and keep the input as a regression test.
    @Test(arguments: FuzzKnownIssue.all.indices)
    func knownIssuesStillReproduce(_ index: Int) throws {
        let issue = FuzzKnownIssue.all[index]
        let world = try FuzzWorld(parent: NSTemporaryDirectory())
        defer { world.remove() }
        let saved = Self.inputs(issue.target, world: world).filter { !$0.name.hasPrefix("seed ") }
        #expect(saved.contains { issue.applies($0.bytes) }, "no saved input for \(issue.target.rawValue)/\(issue.property)")
        withKnownIssue(Comment(rawValue: issue.note)) {
            for (name, bytes) in saved {
                if let failure = issue.target.run(bytes, in: world), failure.property == issue.property, issue.applies(bytes) {
                    Issue.record("\(name): \(failure)")
                }
            }
        }
    }
}
