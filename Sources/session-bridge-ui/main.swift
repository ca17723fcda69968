#if canImport(Glibc)
import Glibc
#endif
import Dashboard
import Hummingbird
import Logging
import SessionBridge

/// session-bridge-ui: the dashboard server that `session-bridge ui` starts. A separate executable, so the main
/// binary (run by every hook) never links the HTTP stack.
///
///     session-bridge-ui [--port PORT] [--open] [--dir TALKS_DIR]...
///
/// Listens on 127.0.0.1 only. Prints the address with its token on one line, then serves until interrupted.
struct Options {
    var port = 0
    var open = false
    var dirs: [String] = []
    /// How the main binary is named in the commands the pages suggest (passed by `session-bridge ui`).
    var helper = HelperName.bareName

    static let usage = "usage: session-bridge ui [--port PORT] [--open] [--dir TALKS_DIR]..."

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "--port":
                guard let v = it.next(), let p = Int(v), (0...65535).contains(p) else { fail("--port takes a number from 0 to 65535 (0: any free port)", 64) }
                o.port = p
            case "--open": o.open = true
            case "--helper":
                guard let v = it.next(), !v.isEmpty else { fail("--helper takes the main binary's command text", 64) }
                o.helper = v
            case "--dir":
                guard let v = it.next() else { fail("--dir takes a talks folder", 64) }
                o.dirs.append(v)
            case "-h", "--help":
                print(usage + "\n\nA live dashboard of the bridge's sessions, messages and talks, on 127.0.0.1 with a random token in its address.\n  --port PORT   listen on this port (default: any free port)\n  --open        open the address in a browser (xdg-open)\n  --dir DIR     show the talks in this folder too (default: the nearest .talks/ and $SESSION_BRIDGE_TALKS)")
                exit(0)
            default: fail("unknown option '\(Identifiers.printable(a))'\n\(usage)", 64)
            }
        }
        return o
    }
}

func fail(_ message: String, _ code: Int32) -> Never {
    var text = "session-bridge: error: \(message)\n"
    _ = text.withUTF8 { write(2, $0.baseAddress, $0.count) }
    exit(code)
}

/// Opens `url` in the desktop's browser when xdg-open exists; says so when it does not.
func openInBrowser(_ url: String) {
    let candidates = ["/usr/bin/xdg-open", "/usr/local/bin/xdg-open", "/bin/xdg-open"]
    guard let opener = candidates.first(where: { access($0, X_OK) == 0 }) else {
        var text = "session-bridge: no xdg-open here: open the address above in a browser\n"
        _ = text.withUTF8 { write(2, $0.baseAddress, $0.count) }
        return
    }
    _ = Subprocess.spawn([opener, url], streams: [.inherited, .null(flags: O_WRONLY), .null(flags: O_WRONLY)])
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let environment = Environment.current()
let store: any BridgeStore
let talkEngine: StoreFactory.TalkEngine
var locations: [TalkLocation] = []
do {
    let stores = try StoreFactory.openForCommand(environment: environment)
    store = stores.messages
    talkEngine = stores.talks
    if let here = try? TalkLocation.find(dir: nil, environment: environment) { locations.append(here) }
    for d in options.dirs {
        let l = try TalkLocation.find(dir: d, environment: environment)
        if !locations.contains(l) { locations.append(l) }
    }
} catch {
    fail(error.message, error.exitCode)
}
// Interrupted: exit at once. The dashboard keeps no state, and open event streams would hold a graceful shutdown.
signal(SIGINT) { _ in _exit(0) }
signal(SIGTERM) { _ in _exit(0) }
signal(SIGPIPE, SIG_IGN)

let token = AccessToken.random()
let dashboard = Dashboard(store: store, environment: environment, talkLocations: locations, talkEngine: talkEngine, helper: HelperName(text: options.helper))
let hub = ChangeHub()
let polling = environment["SESSION_BRIDGE_POLL"].map { $0 != "0" } ?? false
let talkFolders = locations.map(\.conversations)
hub.start { ChangeFeed(store: store, talkFolders: talkFolders, forcePolling: polling) }
let hosts = AllowedHosts()
let responder = DashboardResponder(dashboard: dashboard, token: token, hub: hub, hosts: hosts)
var logger = Logger(label: "session-bridge-ui")
logger.logLevel = .error
let app = Application(
    responder: responder,
    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: options.port), serverName: "session-bridge-ui"),
    onServerRunning: { channel in
        let port = channel.localAddress?.port ?? options.port
        hosts.set(["127.0.0.1:\(port)", "localhost:\(port)"])
        let url = "http://127.0.0.1:\(port)/?token=\(token.value)"
        var line = "session-bridge dashboard: \(url)\n"
        _ = line.withUTF8 { write(1, $0.baseAddress, $0.count) }
        if options.open { openInBrowser(url) }
    },
    logger: logger
)
do {
    try await app.runService(gracefulShutdownSignals: [])
} catch {
    fail("the dashboard stopped: \(error)", 1)
}
