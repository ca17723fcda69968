import Foundation
import Testing
@testable import SessionBridge

/// A private `redis-server` for one test: a free loopback port, its own temp folder, AOF with fsync on every write
/// and no RDB snapshots (what the engine's durability rests on). Stop, kill, restart on the same port and folder.
final class RedisTestServer: @unchecked Sendable {
    /// Where redis-server is, or nil. Tests are enabled when it exists, and also under CI (where its absence is a
    /// failed install step, so starting it fails loudly instead of skipping).
    static let executable: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") + ["/usr/sbin", "/usr/bin"] {
            let p = "\(dir)/redis-server"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    static var enabled: Bool { executable != nil || ProcessInfo.processInfo.environment["CI"] != nil }
    static let skipReason: Comment = "redis-server is not installed (scripts/prerequisites installs it)"

    let directory: String
    private(set) var port: Int32
    let password: String?
    let extraArguments: [String]
    private var pid: pid_t?
    private var everStarted = false

    init(password: String? = nil, extraArguments: [String] = []) throws {
        directory = makeTempDir("sb-redis")
        self.password = password
        self.extraArguments = extraArguments
        port = 0
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var isRunning: Bool { pid.map { Foundation.kill($0, 0) == 0 } ?? false }

    /// A configuration reaching this server (as the default user, with its password if any).
    func configuration(user: String? = nil, password: String? = nil, prefix: String = RedisConfiguration.defaultPrefix) -> RedisConfiguration {
        var c = RedisConfiguration(host: "127.0.0.1", port: port, user: user, password: password ?? (user == nil ? self.password : nil), prefix: prefix)
        c.connectTimeoutMilliseconds = 1000
        c.commandTimeoutMilliseconds = 5000
        return c
    }

    var url: String {
        (password.map { "redis://:\($0)@127.0.0.1:\(port)" }) ?? "redis://127.0.0.1:\(port)"
    }

    /// Starts the server (on a new free port the first time, the same port after), and waits until it answers.
    func start() throws {
        guard let executable = Self.executable else { throw TestServerError.notInstalled }
        if port == 0 { port = Self.freePort() }
        for _ in 0..<5 {
            var args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", directory,
                        "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                        "--daemonize", "no", "--logfile", "\(directory)/redis.log", "--protected-mode", "no"]
            if let password { args += ["--requirepass", password] }
            args += extraArguments
            pid = try Self.spawn([executable] + args)
            if waitUntilAnswering(deadline: Date().addingTimeInterval(10)) {
                everStarted = true
                return
            }
            kill()
            if everStarted { break }   // a restart keeps its port (clients reconnect to it)
            port = Self.freePort()     // the port was taken between choosing and binding it
        }
        throw TestServerError.didNotStart(log: (try? String(contentsOfFile: "\(directory)/redis.log", encoding: .utf8)) ?? "")
    }

    /// SIGTERM: the server fsyncs its AOF and exits.
    func stop() { signalAndReap(SIGTERM) }

    /// SIGKILL: no shutdown work at all.
    func kill() { signalAndReap(SIGKILL) }

    /// SIGSTOP / SIGCONT: a server that accepts nothing and answers nothing (a hung host).
    func pause() { if let pid { Foundation.kill(pid, SIGSTOP) } }
    func resume() { if let pid { Foundation.kill(pid, SIGCONT) } }

    private func signalAndReap(_ signal: Int32) {
        guard let p = pid else { return }
        Foundation.kill(p, signal)
        Foundation.kill(p, SIGCONT)
        var status: Int32 = 0
        while waitpid(p, &status, 0) < 0 && errno == EINTR {}
        LiveServers.remove(p)
        pid = nil
    }

    /// posix_spawn with an empty signal mask and default dispositions: a test thread may block SIGTERM (dispatch
    /// workers do), and a server inheriting that would never stop on it.
    private static func spawn(_ argv: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cargs, environ)
        guard rc == 0 else { throw TestServerError.didNotStart(log: "posix_spawn: \(String(cString: strerror(rc)))") }
        LiveServers.add(pid)
        return pid
    }

    func restart(kill hard: Bool = false) throws {
        if hard { kill() } else { stop() }
        try start()
    }


    private func waitUntilAnswering(deadline: Date) -> Bool {
        let c = RedisConnection(configuration(), connectTimeoutMilliseconds: 100, commandTimeoutMilliseconds: 1000)
        while Date() < deadline {
            guard let pid else { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                self.pid = nil
                return false
            }
            if let r = try? c.call(["PING"]), r == .status("PONG") { return true }
            c.close()
            usleep(10_000)
        }
        return false
    }

    /// A loopback port nobody listens on now (bound to port 0, read, closed).
    static func freePort() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int32(UInt16(bigEndian: addr.sin_port))
    }

    /// Runs one command as the default user and returns its reply (test set-up: ACL users, inspection).
    @discardableResult
    func admin(_ args: [String]) throws -> RedisReply {
        let c = RedisConnection(configuration(), connectTimeoutMilliseconds: 1000, commandTimeoutMilliseconds: 5000)
        return try c.send(args)
    }
}

enum TestServerError: Error, CustomStringConvertible {
    case notInstalled
    case didNotStart(log: String)

    var description: String {
        switch self {
        case .notInstalled: return "redis-server is not installed: run scripts/prerequisites"
        case .didNotStart(let log): return "redis-server did not start:\n\(log.suffix(2000))"
        }
    }
}

/// Every server still running, killed when the test process exits (a server whose owner was never released, or a
/// test that failed before stopping it, must not outlive the run).
private enum LiveServers {
    nonisolated(unsafe) static var pids: Set<pid_t> = []
    static let lock = NSLock()
    nonisolated(unsafe) static var registered = false

    static func add(_ pid: pid_t) {
        lock.lock()
        defer { lock.unlock() }
        pids.insert(pid)
        if !registered {
            registered = true
            atexit { LiveServers.killAll() }
        }
    }

    static func remove(_ pid: pid_t) {
        lock.lock()
        pids.remove(pid)
        lock.unlock()
    }

    static func killAll() {
        lock.lock()
        let all = pids
        pids = []
        lock.unlock()
        for p in all { Foundation.kill(p, SIGKILL) }
    }
}
