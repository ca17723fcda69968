#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SessionBridge

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Type a short prompt into the right tmux pane when a launched session has a message waiting or its turn comes in a talk.",
        discussion: "One watcher per machine and store. Panes are bound with `\(HelperName.current.command("launch"))`. Windows Terminal is not supported yet.")

    @Option(name: .customLong("dir"), help: ArgumentHelp("Also watch this talks folder (repeatable).", valueName: "TALKS_DIR"))
    var dirs: [String] = []

    @Flag(name: .long, help: "Inject what is pending now, then exit (for scripts).")
    var once = false

    @Option(name: .long, help: ArgumentHelp("Debounce bursts (default: config watcher.debounce_ms, 500).", valueName: "MS"))
    var debounceMs: Int?

    @Option(name: .long, help: ArgumentHelp("auto, tmux or none (default: config watcher.inject_method).", valueName: "METHOD"))
    var inject: String?

    @Option(name: .long, help: ArgumentHelp("Do not type into an agent launched less than this long ago (default 3000): its interface may not have taken the terminal yet.", valueName: "MS"))
    var settleMs: Int?

    @Flag(name: .long, help: "Poll instead of using inotify.")
    var poll = false

    @Flag(name: .long, help: "Write a systemd user unit that runs the watcher (restarts on failure) and print how to enable it.")
    var installService = false

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let env = Environment.current()
            let stores = try StoreFactory.openForCommand(environment: env)
            if installService {
                Output.line(try WatchService.install(environment: env, cli: env["SESSION_BRIDGE_CLI"] ?? Processes.executablePath() ?? CommandLine.arguments[0], dirs: dirs))
                return
            }
            var locations: [TalkLocation] = []
            if let here = try? TalkLocation.find(dir: nil, environment: env) { locations.append(here) }
            for d in dirs { locations.append(try TalkLocation.find(dir: d, environment: env)) }
            let config = locations.first?.config ?? TalkConfig()
            let method = inject ?? config.watcherInjectMethod
            let methods = ["auto", "tmux", "none"]
            guard methods.contains(method) else { throw BridgeError.invalidInput(.notOneOf(option: "--inject", allowed: methods)) }
            let injector: any Injector = method == "none" ? NoInjector() : TmuxInjector()
            var settings = Watcher.Settings(debounceMilliseconds: debounceMs ?? config.watcherDebounceMs, talkPrompt: config.watcherPrompt,
                                            forcePolling: poll || env["SESSION_BRIDGE_POLL"] == "1",
                                            settleMilliseconds: max(0, settleMs ?? 3000))
            let lockName = StoreLockName.watcher(host: Processes.hostName())
            guard let lock = try bridged({ () throws(StoreError) in try stores.messages.acquire(lockName, ttlMilliseconds: 120_000, wait: false) }) else {
                throw BridgeError.conflict(.watcherRunning(store: stores.messages.location))
            }
            settings.pollingFallback = config.watcherPollingFallback
            let watcher = Watcher(stores: stores, lock: lock, talks: locations, injector: injector, settings: settings) { Output.line("watch: " + $0) }
            if once {
                let typed = watcher.runOnce()
                Output.line("watch: \(typed) prompt(s) typed")
                lock.release()
                return
            }
            try withExtendedLifetime(lock) { () throws(BridgeError) in try watcher.run() }
        }
    }
}

struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start an agent CLI in this tmux pane and bind it to an alias, so the watcher can wake it.",
        discussion: "Run by a person, not by an agent: it refuses inside an agent session. Example: \(HelperName.current.command("launch --alias lib -- claude"))")

    @Option(name: .long, help: ArgumentHelp("The alias: the session's bridge name and talk participant name.", valueName: "NAME"))
    var alias: String

    @Flag(name: .long, help: "Start the agent in a new tmux window instead of this pane.")
    var newWindow = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The agent command and its arguments.", valueName: "COMMAND"))
    var command: [String] = []

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let argv = command.first == "--" ? Array(command.dropFirst()) : command
            let env = Environment.current()
            if newWindow {
                let executable = Processes.executablePath() ?? CommandLine.arguments[0]
                let pane = try Launcher.openWindow(alias: alias, command: argv, environment: env, executable: executable)
                Output.line("launched \(alias) in tmux pane \(pane)")
                return
            }
            let target = try Launcher.bind(alias: alias, command: argv, environment: env)
            // Mark the window title (OSC 2) so the window can be found where there is no tmux.
            Output.write(1, "\u{1b}]2;\(target.title)\u{07}")
            setenv("SESSION_BRIDGE_NAME", alias, 1)
            let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
            execvp(argv[0], cargs)
            throw BridgeError.invalidInput(.cannotRun(program: argv[0], errno: errno))
        }
    }
}
