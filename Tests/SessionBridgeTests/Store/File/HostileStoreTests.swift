import Foundation
import Testing
@testable import SessionBridge

/// Hostile entries planted in every store folder (FIFOs, sockets, symlinks to elsewhere, folders, huge files):
/// no command blocks on them or follows them, nothing is written through a link, `doctor` lists each one and
/// `doctor --fix` moves it aside or removes it, after which the store is clean and messages flow again.
@Suite struct HostileStoreTests {
    enum Plant: String, CaseIterable {
        case fifo, socket, symlink, directory, huge
    }

    enum Place: String, CaseIterable {
        case new, claimed, done, tmp, sent, receipts, manifest, heartbeat, binding, inboxLock
    }

    struct Bounded {
        var status: Int32
        var stdout: String
        var hung: Bool
    }

    /// Runs the binary; kills it and reports a hang if it runs longer than `seconds`.
    static func run(_ args: [String], root: String, key: String, seconds: Double) throws -> Bounded {
        let handle = try CLI.start(args, root: root, key: key)
        let deadline = Date().addingTimeInterval(seconds)
        while handle.0.isRunning && Date() < deadline { usleep(10_000) }
        let hung = handle.0.isRunning
        if hung { kill(handle.0.processIdentifier, SIGKILL) }
        let r = CLI.finish(handle)
        return Bounded(status: r.status, stdout: r.stdout + r.stderr, hung: hung)
    }

    static func makeSocket(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// Puts `plant` at `path` (replacing what is there). Returns false when this system cannot make it.
    static func plant(_ plant: Plant, at path: String, outside: String) -> Bool {
        try? FileManager.default.removeItem(atPath: path)
        switch plant {
        case .fifo: return mkfifo(path, 0o600) == 0
        case .socket: return makeSocket(path)
        case .symlink: return symlink(outside, path) == 0
        case .directory: return mkdir(path, 0o700) == 0
        case .huge:
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            return ftruncate(fd, 100 << 20) == 0   // sparse: 100 MiB, over every read limit
        }
    }

    @Test(arguments: Place.allCases, Plant.allCases)
    func hostileEntryIsNeverFollowedOrWaitedOnAndDoctorClearsIt(_ place: Place, _ kind: Plant) throws {
        let root = makeTempDir("sbh")
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["start", "--name", "app"], root: root, key: "app-key").status == 0)
        let outside = root + "/../" + FileSystem.lastComponent(of: root) + "-outside.txt"
        let outsideText = "not the store's\n"
        try outsideText.write(toFile: outside, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        // A real question, claimed, so receipts/claimed/sent hold files of a live message.
        let q = try CLI.run(["ask", "lib", "question"], root: root, key: "app-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key").status == 0)
        let fake = Identifiers.messageID()
        let lib = root + "/sessions/lib-key", app = root + "/sessions/app-key"
        let path: String
        switch place {
        case .new: path = lib + "/inbox/new/\(fake).json"
        case .claimed: path = lib + "/inbox/claimed/\(fake).\(Clock.nowNanoseconds()).1.json"
        case .done: path = lib + "/inbox/done/\(fake).json"
        case .tmp: path = lib + "/inbox/tmp/.\(fake).json.AbCdEf"
        case .sent: path = app + "/sent/\(fake).json"
        case .receipts: path = app + "/receipts/\(q).log"   // the live question's receipt: the reply appends to it
        case .manifest: path = lib + "/manifest.json"
        case .heartbeat: path = lib + "/heartbeat"
        case .binding: path = root + "/bindings/" + String(SHA256.hex("explicit:zz").prefix(40))
        case .inboxLock: path = lib + "/inbox.lock"
        }
        guard Self.plant(kind, at: path, outside: outside) else { return }
        let context = "\(kind) in \(place)"

        // Nothing blocks, whatever reads the store.
        let commands: [([String], String)] = [
            (["listen", "--timeout", "1"], "lib-key"), (["inbox", "--all", "--json"], "lib-key"), (["status", "--json"], "lib-key"),
            (["status", q, "--json"], "app-key"), (["peers", "--json"], "app-key"), (["hook", "post-tool-use"], "lib-key"),
            (["hook", "user-prompt-submit"], "lib-key"), (["watch", "--once", "--inject", "none", "--settle-ms", "0"], "lib-key"),
            (["reply", q, "the answer"], "lib-key"), (["await", q, "--timeout", "1"], "app-key"),
        ]
        for (args, key) in commands {
            let r = try Self.run(args, root: root, key: key, seconds: 15)
            #expect(!r.hung, "\(context): `\(args.joined(separator: " "))` hung")
        }
        // Still there (no command moved it aside already): doctor lists it.
        let stillPlanted = FileSystem.kind(path).map { $0 != .regular || (FileSystem.size(path) ?? 0) > 1 << 20 } ?? false
        let report = try Self.run(["doctor", "--json"], root: root, key: "app-key", seconds: 15)
        #expect(!report.hung, "\(context): doctor hung")
        if stillPlanted {
            #expect(report.status == 13, "\(context): doctor: \(report.status) \(report.stdout)")
            #expect(report.stdout.contains(FileSystem.lastComponent(of: path)) || report.stdout.contains("binding"),
                    "\(context): doctor does not list it: \(report.stdout)")
        }
        let fixed = try Self.run(["doctor", "--fix", "--json"], root: root, key: "app-key", seconds: 15)
        #expect(!fixed.hung, "\(context): doctor --fix hung")
        if place != .manifest {
            #expect(fixed.status == 0, "\(context): doctor --fix: \(fixed.status) \(fixed.stdout)")
            let clean = try Self.run(["doctor", "--json"], root: root, key: "app-key", seconds: 15)
            #expect(clean.status == 0, "\(context): not clean after --fix: \(clean.stdout)")
        }
        // Nothing was written through a link, and the target still exists.
        #expect((try? String(contentsOfFile: outside, encoding: .utf8)) == outsideText, "\(context): written through a symlink")
        #expect(FileSystem.kind(path) == nil || (FileSystem.kind(path) == .regular && (FileSystem.size(path) ?? 0) < 1 << 20),
                "\(context): still there after --fix: \(String(describing: FileSystem.kind(path)))")
        // Messages flow again.
        if place != .manifest {
            let q2 = try CLI.run(["ask", "lib", "again"], root: root, key: "app-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            var heard = false
            for _ in 0..<3 {
                let l = try Self.run(["listen", "--timeout", "1", "--json"], root: root, key: "lib-key", seconds: 10)
                if l.stdout.contains(q2) { heard = true; break }
            }
            #expect(heard, "\(context): a new question is not delivered after the repair")
            #expect(try CLI.run(["reply", q2, "ok"], root: root, key: "lib-key").status == 0)
            let a = try Self.run(["await", q2, "--timeout", "5"], root: root, key: "app-key", seconds: 10)
            #expect(a.status == 0, "\(context): \(a.stdout)")
        }
    }

    /// A session folder replaced by a link to a complete copy of itself elsewhere: no command reads, writes, moves or
    /// locks anything there (the session does not exist until `doctor --fix` removes the link), whichever session
    /// runs it, and the store works again after the repair.
    @Test func symlinkedSessionFolderIsNeverFollowed() throws {
        let root = makeTempDir("sbh")
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["start", "--name", "app"], root: root, key: "app-key").status == 0)
        let q = try CLI.run(["ask", "lib", "question"], root: root, key: "app-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let p = try CLI.run(["ask", "lib", "pending one"], root: root, key: "app-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try CLI.run(["listen", "--timeout", "2"], root: root, key: "lib-key").status == 0)
        let elsewhere = makeTempDir("sbh-elsewhere")
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let lib = root + "/sessions/lib-key"
        #expect(rename(lib, elsewhere + "/lib-key") == 0)
        #expect(symlink(elsewhere + "/lib-key", lib) == 0)
        func snapshot() -> String {
            var lines: [String] = []
            let e = FileManager.default.enumerator(atPath: elsewhere)
            while let rel = e?.nextObject() as? String {
                var st = stat()
                guard lstat(elsewhere + "/" + rel, &st) == 0 else { continue }
                let body = (st.st_mode & S_IFMT) == S_IFREG ? (FileManager.default.contents(atPath: elsewhere + "/" + rel) ?? Data()).base64EncodedString() : ""
                lines.append("\(rel) \(st.st_mode) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(body)")
            }
            return lines.sorted().joined(separator: "\n")
        }
        let before = snapshot()
        let commands: [([String], String)] = [
            (["status", "--json"], "lib-key"), (["listen", "--timeout", "0.3"], "lib-key"), (["inbox", "--all", "--json"], "lib-key"),
            (["reply", q, "the answer"], "lib-key"), (["reply", p, "the answer"], "lib-key"), (["hook", "post-tool-use"], "lib-key"),
            (["hook", "user-prompt-submit"], "lib-key"), (["hook", "session-start"], "lib-key"), (["listen", "--background"], "lib-key"),
            (["start", "--name", "lib"], "lib-key"), (["stop"], "lib-key"),
            (["ask", "lib", "hi"], "app-key"), (["ask", "lib-key", "hi"], "app-key"), (["status", q, "--json"], "app-key"),
            (["status", p, "--json"], "app-key"), (["await", q, "--timeout", "0.3"], "app-key"), (["peers", "--json"], "app-key"),
            (["connect", "lib"], "app-key"), (["watch", "--once", "--inject", "none", "--settle-ms", "0"], "app-key"),
            (["gc", "--older-than", "0"], "app-key"), (["doctor", "--json"], "app-key"),
        ]
        for (args, key) in commands {
            let r = try Self.run(args, root: root, key: key, seconds: 15)
            #expect(!r.hung, "`\(args.joined(separator: " "))` hung")
            #expect(snapshot() == before, "`\(args.joined(separator: " "))` as \(key) changed the folder the link points to: \(r.stdout)")
        }
        let report = try Self.run(["doctor", "--json"], root: root, key: "app-key", seconds: 15)
        #expect(report.status == 13 && report.stdout.contains("lib-key"), "doctor does not list the link: \(report.stdout)")
        let fixed = try Self.run(["doctor", "--fix", "--json"], root: root, key: "app-key", seconds: 15)
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(snapshot() == before, "doctor --fix changed the folder the link points to")
        #expect(FileSystem.kind(lib) == nil)
        // A session started under the same key again is a real folder, and messages flow.
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key").status == 0)
        #expect(FileSystem.isRealDirectory(lib))
        let q2 = try CLI.run(["ask", "lib", "again"], root: root, key: "app-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let heard = try Self.run(["listen", "--timeout", "5", "--json"], root: root, key: "lib-key", seconds: 10)
        #expect(heard.stdout.contains(q2), "\(heard.stdout)")
    }

    /// A symlinked inbox folder is never followed: a message for it is refused, nothing lands in the target.
    @Test func symlinkedInboxFolderIsNotFollowed() throws {
        let root = makeTempDir("sbh")
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try CLI.run(["start", "--name", "lib"], root: root, key: "lib-key").status == 0)
        #expect(try CLI.run(["start", "--name", "app"], root: root, key: "app-key").status == 0)
        let elsewhere = makeTempDir("sbh-elsewhere")
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let box = root + "/sessions/lib-key/inbox/new"
        try FileManager.default.removeItem(atPath: box)
        #expect(symlink(elsewhere, box) == 0)
        let r = try CLI.run(["ask", "lib", "hi"], root: root, key: "app-key")
        #expect(r.status != 0)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: elsewhere)) ?? []).isEmpty)
        let fixed = try CLI.run(["doctor", "--fix", "--json"], root: root, key: "app-key")
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(FileSystem.isRealDirectory(box))
        #expect(try CLI.run(["ask", "lib", "hi"], root: root, key: "app-key").status == 0)
    }
}
