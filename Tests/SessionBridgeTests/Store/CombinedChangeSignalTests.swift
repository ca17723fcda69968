import Foundation
import Testing
@testable import SessionBridge

/// Either of two signals wakes one wait; wake-ups raised before a wait are taken by it, once; a timeout says false.
struct CombinedChangeSignalTests {
    @Test func eitherSignalWakesTheWait() throws {
        let dir = makeTempDir("sb-combined")
        for sub in ["engine", "local"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true) }
        let signal = CombinedChangeSignal(primary: DirectoryWatcher(paths: [dir + "/engine"]), folders: DirectoryWatcher(paths: [dir + "/local"]),
                                          primaryRoundMilliseconds: 1000)
        #expect(signal.mechanism == "inotify and inotify")
        #expect(signal.pollingReason == nil)
        #expect(signal.wait(timeoutMilliseconds: 150) == false)
        for sub in ["engine", "local"] {
            let writer = Thread { usleep(100_000); FileManager.default.createFile(atPath: "\(dir)/\(sub)/f", contents: Data("x".utf8)) }
            writer.start()
            #expect(signal.wait(timeoutMilliseconds: 20_000), "a change in \(sub) woke the wait")
            while signal.wait(timeoutMilliseconds: 300) {}    // the same write's further events
        }
    }

    @Test func raisedWakeUpsAreTakenOnce() {
        let shared = Monitor(CombinedChangeSignal.Flag())
        #expect(shared.take(timeoutMilliseconds: 0) == false)
        shared.raise()
        shared.raise()
        #expect(shared.take(timeoutMilliseconds: 1000))
        #expect(shared.take(timeoutMilliseconds: 50) == false)
    }
}
