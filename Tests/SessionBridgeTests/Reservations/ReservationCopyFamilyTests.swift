import Foundation
import Testing
@testable import SessionBridge

/// A recursive copy, sync, move or extraction into a folder writes whatever its source holds beneath that folder,
/// which the guard cannot list: every such command is a write to each path beneath the folder that a reservation's
/// glob could match. Checked over the family of commands, against glob reservations, both ways.
@Suite struct ReservationCopyFamilyTests {
    /// A world where A holds `pattern`, with a source folder outside the project holding a file and a folder.
    func world(reserving pattern: String) throws -> (ReservationWorld, String) {
        let w = try ReservationWorld()
        let source = w.outside
        try FileManager.default.createDirectory(atPath: source + "/nested", withIntermediateDirectories: true)
        try "x\n".write(toFile: source + "/a.swift", atomically: true, encoding: .utf8)
        try "notes\n".write(toFile: source + "/notes.txt", atomically: true, encoding: .utf8)
        #expect(isReserved(try w.reserve(w.a, [pattern])))
        return (w, source)
    }

    func isReserved(_ r: Reservations.ReserveResult) -> Bool {
        if case .reserved = r.outcome { return true }
        return false
    }

    @Test func copiesSyncsAndExtractionsIntoAFolderAGlobCouldMatchBeneathAreDenied() throws {
        let (w, src) = try world(reserving: "src/api/*.swift")
        let denied = [
            "cp -r \(src)/. src/api", "cp -a \(src)/. src/api/", "cp -R \(src)/. src", "cp -rT \(src) src/api",
            "cp -r \(src)/. .", "cd src && cp -a \(src)/. api", "cp --recursive \(src)/nested src/api/x.swift",
            "rsync -a \(src)/ src/api/", "rsync -av \(src)/ src/", "rsync -r \(src)/. src",
            "tar -C src/api -xf /tmp/a.tar", "tar -xzf /tmp/a.tgz -C src", "tar --directory=src -x -f /tmp/a.tar",
            "unzip /tmp/a.zip -d src/api", "cd src/api && tar xf /tmp/a.tar",
            "cp \(src)/a.swift src/api/", "mv \(src)/a.swift src/api/b.swift",
        ]
        for command in denied {
            let v = try w.bash(command)
            #expect(isReservationDeny(v), "\(command): \(v)")
            if case .deny(let reason) = v { #expect(reason.contains("alice") && reason.contains(w.aID), "\(command)") }
        }
        // The holder itself is never blocked.
        for command in denied { #expect(try w.bash(command, as: "key-a") == .allow, "\(command)") }
    }

    @Test func theSameCommandsElsewhereOrWithFilesTheGlobCannotMatchGoThrough() throws {
        let (w, src) = try world(reserving: "src/api/*.swift")
        let allowed = [
            "cp -r \(src)/. docs", "cp -a \(src)/. src/ui", "rsync -a \(src)/ docs/", "tar -C docs -xf /tmp/a.tar",
            "unzip /tmp/a.zip -d src/ui",
            // A folder copied into src lands in src/other, which src/api/*.swift cannot reach.
            "cp -r \(src) src", "mv \(src)/nested src/ui",
            // Known plain files whose names the glob does not match.
            "cp \(src)/notes.txt src/api/", "cp -r \(src)/notes.txt src/api/", "mv \(src)/notes.txt src/api/",
        ]
        for command in allowed { #expect(try w.bash(command) == .allow, "\(command)") }
    }

    @Test func aMoveOrCopyOfAFolderUnderADeepGlobIsDenied() throws {
        let (w, src) = try world(reserving: "src/**/*.swift")
        for command in ["mv \(src)/nested src/new", "mv \(src) src/", "cp -r \(src)/nested src/ui", "rsync -a \(src) src/ui/",
                        "cp -a \(src)/. src/ui/deeper", "tar -C src/ui -x -f /tmp/a.tar"] {
            #expect(isReservationDeny(try w.bash(command)), "\(command)")
        }
        for command in ["cp -r \(src)/. docs", "cp \(src)/notes.txt src/ui/", "mv \(src)/notes.txt src/ui/n.txt"] {
            #expect(try w.bash(command) == .allow, "\(command)")
        }
    }

    @Test func theStoreGuardStillJudgesACopyIntoAFolderByWhatTheSourceHolds() throws {
        let w = try ReservationWorld()
        // Copying a folder's contents into the home folder reaches the store only when the source holds its path.
        try FileManager.default.createDirectory(atPath: w.outside + "/plain", withIntermediateDirectories: true)
        #expect(try w.bash("cp -r \(w.outside)/plain/. \(w.home)") == .allow)
        try FileManager.default.createDirectory(atPath: w.outside + "/evil/.claude/session-bridge", withIntermediateDirectories: true)
        if case .deny = try w.bash("cp -r \(w.outside)/evil/. \(w.home)") {} else { Issue.record("a copy over the store was allowed") }
    }
}
