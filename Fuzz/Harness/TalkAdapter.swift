@testable import SessionBridge

/// The talk parser's entry points as the fuzzers see them. Re-point here when the parser's API changes.
enum TalkAdapter {
    /// Reads a whole talk file leniently, as `talk show` does.
    static func parse(_ bytes: [UInt8]) -> Result<Conversation, Conversation.ParseError> {
        do { return .success(try Conversation.parse(bytes: bytes, notes: true).0) } catch { return .failure(error) }
    }

    /// Reads only the frontmatter, as `talk list` does.
    static func parseHeaderOnly(_ bytes: [UInt8]) -> TalkHeader? {
        try? Conversation.parseHeaderOnly(bytes)
    }

    /// The canonical form.
    static func render(_ talk: Conversation) -> [UInt8] {
        Array(talk.render().utf8)
    }

    /// What an append (`say`, `resolve`, `block`) reads of a file before writing: the header and how many turns
    /// the body holds. nil when it refuses the file.
    static func appendView(_ bytes: [UInt8]) -> (header: TalkHeader, turnCount: Int)? {
        guard let parts = try? Talks.split(bytes) else { return nil }
        return (parts.header, parts.turnCount)
    }

    /// The file an append of `turn` writes (as `say` composes it: the header updated, the old body copied byte
    /// for byte, the new block, CRLF line endings when the file has them), or nil when append refuses the file.
    static func appended(_ bytes: [UInt8], turn: Turn) -> [UInt8]? {
        guard let parts = try? Talks.split(bytes) else { return nil }
        var header = parts.header
        header.turnCount = turn.number
        header.updatedAt = turn.at
        let written = Array(Conversation.renderHeader(header).utf8) + parts.body + Conversation.renderTurnBytes(turn)
        return TalkFile.usesCRLF(bytes) ? TalkFile.withCRLF(written) : written
    }

    /// The header through the canonical fast path and through the YAML library, for the same frontmatter.
    static func headerBothWays(_ bytes: [UInt8]) -> (fast: TalkHeader?, yaml: TalkHeader?)? {
        guard let (yaml, _) = try? TalkFile.frontmatter(bytes) else { return nil }
        return (TalkFile.canonicalHeader(yaml), try? Conversation.parseHeader(String(decoding: yaml, as: UTF8.self)))
    }

    /// Content as `say` stores it.
    static func normalizeContent(_ text: String) -> String {
        text
    }

    /// The talks folder of a project.
    static func talks(project: String, environment: Environment) throws -> Talks {
        let location = try TalkLocation.find(dir: project + "/.talks", environment: environment, cwd: project)
        return Talks(location: location, environment: environment, sessionName: nil,
                     store: try StoreFactory.openTalks(location: location, environment: environment))
    }

    /// `talk say` for real: the turn written, or the error that refused it.
    static func say(_ talks: Talks, id: String, content: String, as speaker: String, next: String) -> Result<Turn, BridgeError> {
        do { return .success(try talks.say(id, content: content, as: speaker, next: next)) } catch { return .failure(error) }
    }

    /// `talk show`.
    static func read(_ talks: Talks, id: String) -> Result<Conversation, BridgeError> {
        do { return .success(try talks.read(id)) } catch { return .failure(error) }
    }
}
