/// One step in a sent message's life, appended by whoever caused it to the sender's receipt log.
package struct DeliveryEvent: Codable, Sendable, Equatable {
    package enum Kind: String, Codable, Sendable {
        /// Taken by the recipient: printed by `listen` (a tool result) or injected by a hook. The model has seen it.
        case claimed
        /// A reply was sent (`replyId`).
        case answered
        /// The claim's lease ran out without a reply; the message is pending again.
        case redelivered
        /// Claimed and not answered too many times; given up.
        case expired
        /// The file was malformed or failed its checksum and was moved aside.
        case quarantined
    }

    package var event: Kind
    package var at: String
    package var by: String?
    package var byName: String?
    /// How it was seen: "listen", "hook", "ask" or "reply".
    package var via: String?
    package var replyId: String?
    package var leaseUntil: String?

    package init(event: Kind, at: String = Clock.nowISO8601(), by: String? = nil, byName: String? = nil,
                via: String? = nil, replyId: String? = nil, leaseUntil: String? = nil) {
        self.event = event
        self.at = at
        self.by = by
        self.byName = byName
        self.via = via
        self.replyId = replyId
        self.leaseUntil = leaseUntil
    }
}

/// Where a message is in the file store's delivery (the folder-shaped state `MessageStore` reports).
package enum FileDeliveryState: Sendable, Equatable {
    /// Not in the recipient's store at all.
    case absent
    /// Its publication was interrupted after the complete temp file was written (path of that file).
    case interrupted(String)
    /// Published; now in this box.
    case delivered(StoreLayout.Box)
}
