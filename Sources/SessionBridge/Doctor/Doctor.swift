#if canImport(Glibc)
import Glibc
#endif

/// Finds (and with `fix`, repairs) what can go wrong in the message store and the talks: malformed or leftover
/// files, expired claims, dangling bindings; torn or unparsable talks, missing or duplicate nonces, hand edits
/// (checksum mismatches), header drift, leftover temp files and stale locks. Every change is reported.
package struct Doctor {
    package struct Finding: Codable, Sendable, Equatable {
        /// "messages" or "talks".
        package var area: String
        package var subject: String
        package var problem: String
        /// What --fix did, or nil when nothing was done.
        package var repair: String?
        package var repaired: Bool
    }

    package struct Report: Codable, Sendable {
        package var findings: [Finding]
        /// True when nothing is wrong, or everything found was repaired.
        package var healthy: Bool { findings.allSatisfy { $0.repaired } }
    }

    /// Temp files younger than this may belong to a writer at work: left alone.
    static let tempGraceNanoseconds: Int64 = 60 * 1_000_000_000

    /// The message store checks itself (each engine knows its own representation); then the reservations (the
    /// engine's, `Stores.reservations`, else those kept in `localRoot`) and the talks are checked.
    package static func run(store: (any BridgeStore)?, localRoot: String? = nil, reservations: (any ReservationStore)? = nil,
                           talks: Talks?, fix: Bool, config: BridgeConfig) -> Report {
        var findings: [Finding] = []
        if let store {
            findings += store.check(fix: fix, policy: config.lease)
            if let kept = reservations ?? localRoot.map({ FileReservationStore(storeRoot: $0) }) {
                findings += checkReservations(Reservations(store: kept, sessions: store), fix: fix)
            }
        }
        if let talks { findings += checkTalks(talks, fix: fix) }
        return Report(findings: findings)
    }
}
