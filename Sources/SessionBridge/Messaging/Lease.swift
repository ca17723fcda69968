/// A claim of a query, recorded in the claimed file's own name (`<id>.<claimedAtNs>.<delivery>.json`), so the claim
/// time and the delivery count change in the same rename(2) that makes the claim: no reader can see a claim without
/// its time, and no mtime is ever consulted. The same triple maps onto a stream's pending entry (id, delivery time,
/// delivery count) in a networked store.
package struct ClaimRecord: Sendable, Equatable {
    package var messageID: String
    /// Wall-clock nanoseconds since the epoch when this delivery was claimed.
    package var claimedAt: Int64
    /// 1 for the first claim, n for the n-th delivery.
    package var delivery: Int

    package init(messageID: String, claimedAt: Int64, delivery: Int) {
        self.messageID = messageID
        self.claimedAt = claimedAt
        self.delivery = delivery
    }

    package var fileName: String { "\(messageID).\(claimedAt).\(delivery).json" }

    /// Parses a claimed file name; nil for anything else (which is quarantined).
    package init?(fileName: String) {
        guard fileName.hasSuffix(".json") else { return nil }
        let parts = fileName.dropLast(5).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, Identifiers.isValidID(String(parts[0])),
              parts[1].utf8.count <= 19, parts[2].utf8.count <= 9,
              parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), parts[2].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let at = Int64(parts[1]), let n = Int(parts[2]), at > 0, n >= 1 else { return nil }
        self.init(messageID: String(parts[0]), claimedAt: at, delivery: n)
    }
}

/// The one place that decides what happens to a claimed, unanswered query as time passes.
package struct LeasePolicy: Sendable, Equatable {
    package var leaseNanoseconds: Int64
    /// Claims without an answer after which the query is given up (expired) rather than delivered again.
    package var maxDeliveries: Int

    package init(leaseSeconds: Int, maxDeliveries: Int) {
        self.leaseNanoseconds = Int64(max(1, leaseSeconds)) * 1_000_000_000
        self.maxDeliveries = max(1, maxDeliveries)
    }

    package enum Decision: Sendable, Equatable {
        /// The lease still runs until this time (nanoseconds since the epoch).
        case held(until: Int64)
        /// The lease ran out: the next listener may take the query over (a new claim, delivery + 1).
        case redeliver
        /// The lease ran out on the last allowed delivery: the query is marked expired.
        case expire
    }

    package func leaseEnd(_ claim: ClaimRecord) -> Int64 { claim.claimedAt &+ leaseNanoseconds }

    package func decide(_ claim: ClaimRecord, now: Int64) -> Decision {
        let end = leaseEnd(claim)
        if now < end { return .held(until: end) }
        return claim.delivery >= maxDeliveries ? .expire : .redeliver
    }
}
