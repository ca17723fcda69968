import Foundation
import Testing
@testable import SessionBridge

/// The watcher's wait on the Redis engine: it wakes for a message on Redis and for a turn written into a local talk
/// folder (a file-engine talk beside messages on Redis); the wait covering both ends well before its timeout.
@Suite(.enabled(if: RedisTestServer.enabled, RedisTestServer.skipReason), .serialized)
struct WatcherSignalTests {
    struct NoTerminal: Injector {
        func check(_ target: WatchTarget) -> TargetHealth { .dead("no terminal in this test") }
        func inject(_ text: String, into target: WatchTarget) throws(BridgeError) -> Injection { throw .io(.tmuxEnter(pane: target.pane)) }
    }

    /// Waits (at most 20 s) on `signal` while `change` runs 100 ms later on another thread: whether it woke.
    static func wakes(_ signal: any ChangeSignal, after change: @escaping @Sendable () -> Void) -> Bool {
        let t = Thread { usleep(100_000); change() }
        t.start()
        return signal.wait(timeoutMilliseconds: 20_000)
    }

    @Test func onRedisTheWatcherWakesForLocalTalkFoldersAndForMessages() throws {
        let server = try RedisTestServer()
        let root = makeTempDir("sb-watch-redis")
        let env = Environment(["SESSION_BRIDGE_STORE": server.url + "?prefix=w", "SESSION_BRIDGE_HOME": root + "/home", "HOME": root + "/home"])
        let stores = try StoreFactory.open(environment: env)
        #expect(stores.messages is RedisStore)
        let talks = root + "/proj/.talks"
        try FileManager.default.createDirectory(atPath: talks + "/conversations", withIntermediateDirectories: true)
        let location = try TalkLocation.find(dir: talks, environment: env)
        let watcher = Watcher(stores: stores, talks: [location], injector: NoTerminal(), settings: .init(), log: { _ in })
        try stores.messages.createSession(RedisStoreTests.manifest("a"))
        try stores.messages.createSession(RedisStoreTests.manifest("b"))
        #expect(watcher.localFolders().contains(location.conversations))

        let signal = try watcher.makeSignal()
        #expect(signal.pollingReason == nil)
        #expect(signal.wait(timeoutMilliseconds: 200) == false, "nothing changed yet")

        // A turn written into the local talk folder, with nothing sent to Redis.
        let file = location.conversations + "/t-1.md"
        #expect(Self.wakes(signal) { try? "turn\n".write(toFile: file, atomically: true, encoding: .utf8) },
                "the talk folder's change woke the watcher")

        // A message on Redis, with no local file touched.
        let store = stores.messages
        // What the file write queued besides is taken first: then the wait ends only for the delivery.
        while signal.wait(timeoutMilliseconds: 300) {}
        #expect(Self.wakes(signal) { try? store.deliver(RedisStoreTests.message(from: "a", to: "b")) }, "the delivery woke the watcher")
    }
}
