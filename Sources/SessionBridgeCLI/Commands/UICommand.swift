#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SessionBridge

/// `ui`: starts the dashboard server, a separate executable (`session-bridge-ui`, beside this binary's real path in
/// every layout: `.build/release`, an installed archive's `helper/`, the .deb's `/usr/lib/session-bridge/VERSION/`;
/// or `$SESSION_BRIDGE_UI`), so that this binary, which every hook runs, never links an HTTP stack.
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Serve a live dashboard of sessions, messages and talks on 127.0.0.1 (read-only).",
        discussion: "Prints an address with a random token; requests without the token get 401. Pages update as the store changes. Stop it with Ctrl-C.")

    @Option(name: .long, help: ArgumentHelp("Listen on this port (default: any free port).", valueName: "PORT"))
    var port: Int?

    @Flag(name: .long, help: "Open the address in a browser (xdg-open).")
    var open = false

    @Option(name: .customLong("dir"), help: ArgumentHelp("Also show the talks in this folder (repeatable; default: the nearest .talks/ and $SESSION_BRIDGE_TALKS).", valueName: "TALKS_DIR"))
    var dirs: [String] = []

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port takes a number from 0 to 65535") }
    }

    /// The dashboard helper's path, and whether `$SESSION_BRIDGE_UI` named it.
    static func helperPath() -> (path: String, explicit: Bool) {
        if let explicit = getenv("SESSION_BRIDGE_UI") { return (String(cString: explicit), true) }
        let exe = Processes.executablePath() ?? CommandLine.arguments[0]
        return (FileSystem.parentDirectory(of: exe) + "/session-bridge-ui", false)
    }

    /// What to do when the helper is missing, for the layout it was looked for in: a source build (a `.build`
    /// folder) builds it, with the rest in a release build; an installed release (the per-user install, the .deb) ships it beside the
    /// main binary, so only another install brings it back.
    /// The error for a dashboard helper that is not an executable file at `path`.
    static func missingHelper(path: String, explicit: Bool, version: String) -> BridgeError {
        .io(.dashboardMissing(path: path, explicit: explicit, version: version))
    }

    func run() throws {
        try reportingErrors { () throws(BridgeError) in
            let (helper, explicit) = Self.helperPath()
            guard access(helper, X_OK) == 0 else {
                throw Self.missingHelper(path: helper, explicit: explicit, version: SessionBridgeCommand.version)
            }
            var args = [helper, "--helper", HelperName.current.text]
            if let port { args += ["--port", String(port)] }
            if open { args.append("--open") }
            for d in dirs { args += ["--dir", d] }
            let argv = args.map { strdup($0) } + [nil]
            execv(helper, argv)
            throw .io(.cannotStart(program: helper, errno: errno))
        }
    }
}

struct UIRoot: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session-bridge", version: SessionBridgeCommand.version,
                                                    subcommands: [UICommand.self])
}
