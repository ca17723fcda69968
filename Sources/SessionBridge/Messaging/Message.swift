/// The kinds of message sessions exchange.
package enum MessageType: String, Codable, Sendable, CaseIterable {
    /// A question that expects a `response`.
    case query
    /// The answer to a query (`inReplyTo` names it).
    case response
    /// Sent by `connect`; answered automatically with `pong`.
    case ping
    case pong
    /// Sent to connected peers by `stop`.
    case sessionEnded = "session-ended"

    /// Whether a claimed message of this type stays in flight until a reply.
    package var expectsReply: Bool { self == .query }
}

/// One message. Stored as a UUID-named JSON file; the stable JSON shape is documented in the README.
package struct Message: Codable, Sendable, Equatable {
    package var schema: Int
    package var id: String
    package var from: String
    package var fromName: String
    package var to: String
    package var toName: String
    package var type: MessageType
    package var inReplyTo: String?
    package var createdAt: String
    package var content: String
    /// SHA-256 (hex) of `content`'s UTF-8 bytes.
    package var sha256: String

    package init(id: String = Identifiers.messageID(), from: String, fromName: String, to: String, toName: String,
                type: MessageType, inReplyTo: String? = nil, createdAt: String = Clock.nowISO8601(), content: String) {
        self.schema = 1
        self.id = id
        self.from = from
        self.fromName = fromName
        self.to = to
        self.toName = toName
        self.type = type
        self.inReplyTo = inReplyTo
        self.createdAt = createdAt
        self.content = content
        self.sha256 = SHA256.hex(content)
    }

    enum CodingKeys: String, CodingKey {
        case schema, id, from, fromName, to, toName, type, inReplyTo, createdAt, content, sha256
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(id, forKey: .id)
        try c.encode(from, forKey: .from)
        try c.encode(fromName, forKey: .fromName)
        try c.encode(to, forKey: .to)
        try c.encode(toName, forKey: .toName)
        try c.encode(type, forKey: .type)
        try c.encode(inReplyTo, forKey: .inReplyTo)   // always present, null when not a reply
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(content, forKey: .content)
        try c.encode(sha256, forKey: .sha256)
    }

    /// The checksum matches the content and the ids are well-formed.
    package var isIntact: Bool {
        sha256 == SHA256.hex(content) && Identifiers.isValidID(id) && Identifiers.isValidID(from) && Identifiers.isValidID(to)
    }
}

/// Validation of message text coming from a user or an agent.
package enum MessageContent {
    package static let defaultLimit = 4 << 20

    /// Accepts valid UTF-8 text without NUL bytes, not blank, within the limit. Invalid UTF-8 is refused rather
    /// than silently repaired, so what arrives is exactly what was sent.
    package static func validate(_ bytes: [UInt8], limit: Int) throws(BridgeError) -> String {
        if bytes.count > limit { throw .messageTooLarge(size: bytes.count, limit: limit) }
        if bytes.contains(0) { throw .binaryContent(.nulBytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .binaryContent(.notUTF8)
        }
        if text.allSatisfy({ $0.isWhitespace }) { throw .emptyMessage }
        return text
    }
}
