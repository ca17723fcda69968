/// `.talks/audit.log`: one JSON line per operation (who, what, which talk and turn, nonce, result), appended with
/// a single write so concurrent writers never interleave.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var at: String
    public var who: String
    public var op: String
    public var talk: String
    public var turn: Int?
    public var nonce: String?
    public var result: String
    public var detail: String?

    public init(who: String, op: String, talk: String, turn: Int? = nil, nonce: String? = nil, result: String, detail: String? = nil) {
        self.at = Clock.nowISO8601()
        self.who = who
        self.op = op
        self.talk = talk
        self.turn = turn
        self.nonce = nonce
        self.result = result
        self.detail = detail
    }

    /// The JSON line, keys sorted, absent fields left out: the same text JSONCoding would write, without the
    /// encoder's start-up cost on every turn.
    public var line: String {
        var fields = ["\"at\":" + JSONCoding.quoted(at)]
        if let detail { fields.append("\"detail\":" + JSONCoding.quoted(detail)) }
        if let nonce { fields.append("\"nonce\":" + JSONCoding.quoted(nonce)) }
        fields += ["\"op\":" + JSONCoding.quoted(op), "\"result\":" + JSONCoding.quoted(result), "\"talk\":" + JSONCoding.quoted(talk)]
        if let turn { fields.append("\"turn\":\(turn)") }
        fields.append("\"who\":" + JSONCoding.quoted(who))
        return "{" + fields.joined(separator: ",") + "}"
    }
}
