import Foundation
import Testing
@testable import SessionBridge
@testable import SessionBridgeCLI

/// `session-bridge ui` without its dashboard server: one line that says what to do in the layout it looked in.
@Suite struct UICommandTests {
    @Test func sourceReleaseBuildIsToldToRunTheBuildScript() {
        let text = UICommand.missingHelper(path: "/src/sb/.build/x86_64-unknown-linux-gnu/release/session-bridge-ui",
                                           explicit: false, version: "0.1.0").message
        #expect(text.contains("not built") && text.contains("scripts/build"))
        #expect(!text.contains("\n"))
    }

    @Test func debugBuildIsToldToBuildTheProduct() {
        let text = UICommand.missingHelper(path: "/src/sb/.build/x86_64-unknown-linux-gnu/debug/session-bridge-ui",
                                           explicit: false, version: "0.1.0").message
        #expect(text.contains("swift build --product session-bridge-ui"))
    }

    @Test func installedReleaseIsToldToReinstallNotToBuild() {
        for path in ["/home/u/.local/share/session-bridge/0.1.0/helper/session-bridge-ui",
                     "/usr/lib/session-bridge/0.1.0/session-bridge-ui"] {
            let text = UICommand.missingHelper(path: path, explicit: false, version: "0.1.0").message
            #expect(text.contains("not installed") && text.contains(path) && text.contains("reinstall"))
            #expect(text.contains("0.1.0"))
            #expect(!text.contains("swift build") && !text.contains("scripts/build"))
            #expect(!text.contains("\n"))
        }
    }

    @Test func explicitPathNamesTheVariable() {
        let text = UICommand.missingHelper(path: "/nowhere/ui", explicit: true, version: "0.1.0").message
        #expect(text.contains("SESSION_BRIDGE_UI") && text.contains("/nowhere/ui"))
    }

    /// The real binary: the error is one line on stderr, exit 1, nothing on stdout.
    @Test func missingHelperExitsOneWithOneLine() throws {
        let root = makeTempDir("sbui")
        let r = try CLI.run(["ui"], root: root, key: nil, extra: ["SESSION_BRIDGE_UI": root + "/no-such-ui"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains("the dashboard is not installed: SESSION_BRIDGE_UI names") == true)
    }
}
