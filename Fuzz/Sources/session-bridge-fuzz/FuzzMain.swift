import CFuzzDriver
import Foundation
import FuzzHarness

/// The state one fuzzing process runs with: the selected target and its scratch world.
enum FuzzState {
    nonisolated(unsafe) static var target: FuzzTarget = .guard
    nonisolated(unsafe) static var world: FuzzWorld?
    /// Known issues stop the fuzzer too (SESSION_BRIDGE_FUZZ_STRICT=1).
    nonisolated(unsafe) static var strict = false
    /// Known issues already noted in this process.
    nonisolated(unsafe) static var noted: Set<String> = []
}

/// libFuzzer's per-input callback. A property that does not hold aborts, so libFuzzer saves the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let world = FuzzState.world else { return 0 }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let failure = FuzzState.target.run(bytes, in: world) {
        if !FuzzState.strict, let known = FuzzKnownIssue.match(failure, bytes) {
            if FuzzState.noted.insert(known.property).inserted {
                FileHandle.standardError.write(Data("\nknown issue (not stopping): \(failure)\n  \(known.note)\n".utf8))
            }
            return 0
        }
        FileHandle.standardError.write(Data("\nproperty failed: \(failure)\n".utf8))
        abort()
    }
    return 0
}

func removeWorld() {
    FuzzState.world?.remove()
}

/// `session-bridge-fuzz TARGET [libFuzzer options and corpus folders or files]` fuzzes (or replays files);
/// `session-bridge-fuzz seed TARGET DIR [GUARD_CORPUS]` writes the target's seed inputs into DIR;
/// `session-bridge-fuzz explain TARGET FILE…` says what each input does (verdicts, the failing property);
/// `session-bridge-fuzz list` prints the targets.
@main
struct FuzzMain {
    static func main() {
        var args = CommandLine.arguments
        guard args.count >= 2 else { usage() }
        let command = args[1]
        if command == "list" {
            for t in FuzzTarget.allCases { print(t.rawValue + (FuzzTarget.standard.contains(t) ? "" : " (probe)")) }
            return
        }
        let parent = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        if command == "seed" {
            guard args.count >= 4, let target = FuzzTarget(rawValue: args[2]) else { usage() }
            let corpus = args.count >= 5 ? (try? Data(contentsOf: URL(fileURLWithPath: args[4]))).map { Array($0) } : nil
            do {
                let world = try FuzzWorld(parent: parent)
                defer { world.remove() }
                try FileManager.default.createDirectory(atPath: args[3], withIntermediateDirectories: true)
                let seeds = FuzzSeeds.seeds(for: target, world: world, guardCorpus: corpus)
                for seed in seeds {
                    try Data(seed.bytes).write(to: URL(fileURLWithPath: args[3] + "/seed-" + seed.name))
                }
                print("\(seeds.count) seeds for \(target.rawValue) in \(args[3])")
            } catch {
                fail("cannot write seeds: \(error)")
            }
            return
        }
        if command == "explain" {
            guard args.count >= 4, let target = FuzzTarget(rawValue: args[2]) else { usage() }
            do {
                let world = try FuzzWorld(parent: parent)
                defer { world.remove() }
                for path in args[3...] {
                    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
                    print("== \(path)\n" + target.explain(Array(data), in: world))
                }
            } catch {
                fail("cannot build the scratch world: \(error)")
            }
            return
        }
        guard let target = FuzzTarget(rawValue: command) else { usage() }
        FuzzState.target = target
        FuzzState.strict = ProcessInfo.processInfo.environment["SESSION_BRIDGE_FUZZ_STRICT"] == "1"
        do { FuzzState.world = try FuzzWorld(parent: parent) } catch { fail("cannot build the scratch world: \(error)") }
        atexit { removeWorld() }
        // libFuzzer sees the program name and its own options.
        args.remove(at: 1)
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var argc = CInt(args.count)
        let status = cArgs.withUnsafeMutableBufferPointer { buffer -> CInt in
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
        }
        removeWorld()
        exit(status)
    }

    static func usage() -> Never {
        fail("usage: session-bridge-fuzz TARGET [libFuzzer options] [CORPUS…] | seed TARGET DIR [GUARD_CORPUS] | explain TARGET FILE… | list")
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("session-bridge-fuzz: \(message)\n".utf8))
        exit(64)
    }
}
