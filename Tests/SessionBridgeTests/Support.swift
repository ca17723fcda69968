import Foundation
import Testing
@testable import SessionBridge

/// A fresh store root in a temp folder, removed by the caller (or left for inspection on failure).
func makeTempDir(_ label: String = "sb") -> String {
    let path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return path
}

/// An in-process bridge acting as session `key` on store `root`.
func makeBridge(root: String, key: String, extra: [String: String] = [:]) throws -> Bridge {
    var env = ["SESSION_BRIDGE_HOME": root, "HOME": root, "SESSION_BRIDGE_SESSION": key]
    env.merge(extra) { _, new in new }
    return try Bridge.open(environment: Environment(env))
}

/// Result of running the real binary.
struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built `session-bridge` binary (it sits beside the test bundle).
enum CLI {
    static var binary: String {
        if let explicit = ProcessInfo.processInfo.environment["SESSION_BRIDGE_BIN"] { return explicit }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("session-bridge").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/session-bridge").path
    }

    static func environment(root: String, key: String?, extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for k in ["CLAUDE_CODE_SESSION_ID", "CLAUDE_PID", "SESSION_BRIDGE_SESSION", "CODEX_THREAD_ID", "CODEX_SESSION_ID"] {
            env.removeValue(forKey: k)
        }
        env["SESSION_BRIDGE_HOME"] = root
        if let key { env["SESSION_BRIDGE_SESSION"] = key }
        env.merge(extra) { _, new in new }
        return env
    }

    static func start(_ args: [String], root: String, key: String?, extra: [String: String] = [:], cwd: String? = nil) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.environment = environment(root: root, key: key, extra: extra)
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }

    @discardableResult
    static func run(_ args: [String], root: String, key: String?, stdin: Data? = nil, extra: [String: String] = [:], cwd: String? = nil) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.environment = environment(root: root, key: key, extra: extra)
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = stdin == nil ? FileHandle.nullDevice : inp
        try p.run()
        if let stdin {
            // Write on another thread: a large input must not deadlock against the child's output.
            let writer = Thread {
                try? inp.fileHandleForWriting.write(contentsOf: stdin)
                try? inp.fileHandleForWriting.close()
            }
            writer.start()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Runs `command` through /bin/sh, as a person or a model runs a printed command line, in the environment
    /// `run` gives the binary.
    static func shell(_ command: String, root: String, key: String?, extra: [String: String] = [:], cwd: String) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.environment = environment(root: root, key: key, extra: extra)
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func finish(_ handle: (Process, Pipe, Pipe)) -> Run {
        let o = handle.1.fileHandleForReading.readDataToEndOfFile()
        let e = handle.2.fileHandleForReading.readDataToEndOfFile()
        handle.0.waitUntilExit()
        return Run(status: handle.0.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Every file under a folder, recursively (relative paths), for "nothing was written" checks.
func allFiles(_ root: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
    var out: [String] = []
    while let p = e.nextObject() as? String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: root + "/" + p, isDirectory: &isDir), !isDir.boolValue { out.append(p) }
    }
    return out.sorted()
}

/// Tiny file systems for full-disk and read-only tests (root only: they mount a tmpfs).
enum TinyFileSystem {
    static var available: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount") }

    @discardableResult
    static func tool(_ path: String, _ args: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Mounts a tmpfs of `size` (e.g. "256k") on a new temp folder; nil if that fails.
    static func mount(size: String, label: String) -> String? {
        let point = makeTempDir(label)
        return tool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", point]) ? point : nil
    }

    static func unmount(_ point: String) { tool("/bin/umount", [point]) }

    /// Fills the file system until a write fails with ENOSPC.
    static func fill(_ point: String) { tool("/bin/dd", ["if=/dev/zero", "of=\(point)/filler", "bs=4096"]) }

    static func remountReadOnly(_ point: String) -> Bool { tool("/bin/mount", ["-o", "remount,ro", point]) }
}

/// How a test's wait ended without the result it wanted. The library returns these as outcomes; the CLI reports
/// them as endings (`Ending`), not errors.
enum WaitEnded: Error, Equatable {
    case nothingArrived
    case replyTimedOut(seen: Bool)
    case peerEnded(String)
    case turnNotYet
}

extension MessageService {
    /// `nextMessage` for a test that expects a delivery.
    func listen(timeoutSeconds: Double, filter: JQProgram? = nil, via: String = "listen") throws -> Delivery {
        switch try nextMessage(timeoutSeconds: timeoutSeconds, filter: filter, via: via) {
        case .delivered(let d): return d
        case .timedOut: throw WaitEnded.nothingArrived
        }
    }

    /// `waitForReply` for a test that expects the answer.
    func awaitReply(to messageID: String, timeoutSeconds: Double) throws -> Message {
        switch try waitForReply(to: messageID, timeoutSeconds: timeoutSeconds) {
        case .answered(let m): return m
        case .peerEnded(let name): throw WaitEnded.peerEnded(name)
        case .timedOut(_, let seen, _): throw WaitEnded.replyTimedOut(seen: seen)
        }
    }
}

extension Talks {
    enum WaitResult {
        case yourTurn(TalkHeader)
        case closed(TalkHeader)
    }

    /// `waitForTurn` for a test that expects the turn or the talk's end.
    func wait(_ idText: String, as explicit: String?, timeoutSeconds: Double) throws -> WaitResult {
        let found = try waitForTurn(idText, as: explicit, timeoutSeconds: timeoutSeconds)
        switch found.outcome {
        case .turnArrived(let h): return .yourTurn(h)
        case .closed(let h): return .closed(h)
        case .timedOut: throw WaitEnded.turnNotYet
        case .refused(let refusal): throw refusal.bridgeError(talk: found.id)
        }
    }
}
