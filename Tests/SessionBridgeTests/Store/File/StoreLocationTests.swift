import Foundation
import Testing
@testable import SessionBridge

@Suite struct StoreLocationTests {
    @Test func createsPrivateFolders() throws {
        let base = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = base + "/deep/store"
        _ = try FileStore(root: root)
        let mode = try #require(FileManager.default.attributesOfItem(atPath: root)[.posixPermissions] as? Int)
        #expect(mode & 0o777 == 0o700)
    }

    @Test func refusesSymlinkRoot() throws {
        let base = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/real", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: base + "/link", withDestinationPath: base + "/real")
        #expect(throws: BridgeError.self) { try FileStore(root: base + "/link") }
    }

    @Test func refusesGroupOrWorldWritableRoot() throws {
        let base = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/open", withIntermediateDirectories: true)
        chmod(base + "/open", 0o777)
        do {
            _ = try FileStore(root: base + "/open")
            Issue.record("expected an insecure-store error")
        } catch {
            #expect(error.exitCode == 8)
            #expect(error.message.contains("chmod 700"))
        }
    }

    @Test func refusesRootOwnedByAnotherUser() throws {
        // Only root can create a folder owned by someone else.
        guard getuid() == 0 else { return }
        let base = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = base + "/theirs"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chown(root, 65534, 65534)
        #expect(throws: BridgeError.insecureStore(.ownedByAnotherUser(root: root, owner: 65534, user: 0))) { try FileStore(root: root) }
    }

    @Test func defaultRootIsUnderClaudeFolder() {
        #expect(StoreLocation.rootPath(environment: Environment(["HOME": "/home/u"])) == "/home/u/.claude/session-bridge")
        #expect(StoreLocation.rootPath(environment: Environment(["HOME": "/home/u", "SESSION_BRIDGE_HOME": "/x/y/"])) == "/x/y")
    }
}
