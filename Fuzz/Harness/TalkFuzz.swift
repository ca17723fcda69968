import Foundation
@testable import SessionBridge

/// The talk targets.
///
/// `talk`: the input is a talk file. When it parses: the canonical rendering parses back to the same talk and
/// renders to the same bytes; the header-only read agrees; the canonical header fast path and the YAML library
/// agree on the same frontmatter. When the append path (`say`, `resolve`, `block`) accepts the file, the reader
/// accepts it too with the same header and number of turns, and the file that append writes parses with every
/// old turn unchanged plus the new one.
///
/// `talk-say`: the first byte picks a template talk (bit 0: LF or CRLF line endings), the rest is the content of
/// a real `talk say` into it; with bit 1 set the input brings its own talk file (FILE NUL CONTENT). Either the say is refused and the file is byte for byte as before, or the file reads
/// back with the old turns unchanged and the new turn exactly as `say` returned it, holding the content as
/// `say` stores it.
enum TalkFuzz {
    static func checkParse(_ bytes: [UInt8]) -> FuzzFailure? {
        let parsed = TalkAdapter.parse(bytes)
        if case .success(let talk) = parsed {
            let rendered = TalkAdapter.render(talk)
            guard case .success(let again) = TalkAdapter.parse(rendered) else {
                return FuzzFailure(.talk, "render-parses", "the canonical rendering does not parse: \(FuzzInput.show(String(decoding: rendered, as: UTF8.self)))")
            }
            if let diff = difference(talk, again) { return FuzzFailure(.talk, "round-trip", diff) }
            let twice = TalkAdapter.render(again)
            guard twice == rendered else { return FuzzFailure(.talk, "render-stable", "rendering the re-read talk gives other bytes") }
            guard let header = TalkAdapter.parseHeaderOnly(bytes), sameHeader(header, talk.header) else {
                return FuzzFailure(.talk, "header-only", "the header-only read disagrees with the full read")
            }
        }
        if let both = TalkAdapter.headerBothWays(bytes), let fast = both.fast, let yaml = both.yaml, !sameHeader(fast, yaml) {
            return FuzzFailure(.talk, "fast-header-is-yaml", "fast path \(show(fast)) · YAML \(show(yaml))")
        }
        if let view = TalkAdapter.appendView(bytes) {
            guard case .success(let talk) = parsed else {
                return FuzzFailure(.talk, "append-implies-readable", "append accepts a file the reader refuses (\(failureText(parsed)))")
            }
            guard sameHeader(view.header, talk.header), view.turnCount == talk.turns.count else {
                return FuzzFailure(.talk, "append-agrees", "append sees \(view.turnCount) turns, the reader \(talk.turns.count)")
            }
            let turn = Turn(number: view.turnCount + 1, speaker: "fuzz", content: "new\nturn", nonce: "0123456789ab",
                            checksum: SHA256.hex("new\nturn"), at: "2026-11-21T18:00:52.849Z")
            guard let written = TalkAdapter.appended(bytes, turn: turn) else { return nil }
            guard case .success(let after) = TalkAdapter.parse(written) else {
                return FuzzFailure(.talk, "append-keeps-readable", "after an append the talk does not parse (\(failureText(TalkAdapter.parse(written))))")
            }
            var expected = talk
            expected.turns.append(turn)
            expected.header = after.header
            if let diff = difference(expected, after) { return FuzzFailure(.talk, "append-keeps-turns", diff) }
        }
        return nil
    }

    static func checkSay(_ bytes: [UInt8], world: FuzzWorld) -> FuzzFailure? {
        guard let first = bytes.first else { return nil }
        let crlf = first & 1 == 1
        let ownFile = first & 2 == 2
        var contentBytes = bytes.dropFirst()
        var template = crlf ? crlfVersion(world.talkTemplate) : world.talkTemplate
        if ownFile {
            // The input brings the talk file too: FILE NUL CONTENT.
            guard let nul = contentBytes.firstIndex(of: 0) else { return nil }
            template = Array(contentBytes[..<nul])
            contentBytes = contentBytes[(nul + 1)...]
        }
        let content = String(decoding: contentBytes, as: UTF8.self)
        let env = world.environment
        guard let talks = try? TalkAdapter.talks(project: world.project, environment: env) else {
            return FuzzFailure(.talkSay, "world", "the scratch talks folder cannot be opened")
        }
        let path = talks.location.file(world.talkID)
        // Each input is a talk as it arrives: without the lock's record of an earlier input's acknowledged turn, which
        // the template does not hold (every say would be refused as a lost turn).
        try? FileManager.default.removeItem(atPath: talks.location.lock(world.talkID))
        guard (try? Data(template).write(to: URL(fileURLWithPath: path))) != nil else {
            return FuzzFailure(.talkSay, "world", "the talk cannot be written")
        }
        let oldRead = TalkAdapter.parse(template)
        if !ownFile, case .failure = oldRead { return FuzzFailure(.talkSay, "world", "the template talk cannot be read") }
        // Speak as whoever is next, so the say is not refused for that reason alone.
        let view = TalkAdapter.appendView(template)
        let speaker = view.map(\.header.nextSpeaker) ?? "lib"
        let next = view?.header.participants.first { $0 != speaker } ?? speaker
        let result = TalkAdapter.say(talks, id: world.talkID, content: content, as: speaker, next: next)
        let after = (try? FileSystem.read(path)) ?? []
        let what = "content \(FuzzInput.show(content)) (\(ownFile ? "the input's" : crlf ? "CRLF" : "LF") talk)"
        switch result {
        case .failure(let error):
            guard after == template else {
                return FuzzFailure(.talkSay, "refused-writes-nothing", "say failed (\(error.message)) but changed the file; \(what)")
            }
            return nil
        case .success(let turn):
            let stored = TalkAdapter.normalizeContent(content)
            guard FuzzInput.same(turn.content, stored) else {
                return FuzzFailure(.talkSay, "say-returns-content", "say returned \(FuzzInput.show(turn.content)); \(what)")
            }
            guard case .success(let old) = oldRead else {
                return FuzzFailure(.talkSay, "say-needs-readable", "say added a turn to a talk the reader refuses (\(failureText(oldRead))); \(what)")
            }
            guard case .success(let now) = TalkAdapter.read(talks, id: world.talkID) else {
                return FuzzFailure(.talkSay, "say-keeps-readable", "after the say the talk cannot be read; \(what)")
            }
            var expected = old
            expected.turns.append(turn)
            expected.header = now.header
            if let diff = difference(expected, now) { return FuzzFailure(.talkSay, "say-stores-exactly", diff + "; " + what) }
            guard now.turns.last?.isIntact == true else {
                return FuzzFailure(.talkSay, "say-checksum", "the new turn's checksum does not match its content; \(what)")
            }
            return nil
        }
    }

    static func crlfVersion(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(b.count + b.count / 16)
        for c in b {
            if c == 10 { out.append(13) }
            out.append(c)
        }
        return out
    }

    static func failureText<E: Error>(_ r: Result<Conversation, E>) -> String {
        if case .failure(let e) = r { return (e as? Conversation.ParseError)?.message ?? "\(e)" }
        return "ok"
    }

    /// The first byte-level difference between two talks, or nil when they are the same.
    static func difference(_ a: Conversation, _ b: Conversation) -> String? {
        if !sameHeader(a.header, b.header) { return "headers differ: \(show(a.header)) · \(show(b.header))" }
        if a.turns.count != b.turns.count { return "\(a.turns.count) turns, then \(b.turns.count)" }
        for (x, y) in zip(a.turns, b.turns) {
            guard x.number == y.number, FuzzInput.same(x.speaker, y.speaker), FuzzInput.same(x.content, y.content),
                  FuzzInput.same(x.nonce, y.nonce), FuzzInput.same(x.checksum, y.checksum), FuzzInput.same(x.at, y.at) else {
                return "turn \(x.number): speaker \(FuzzInput.show(x.speaker)) content \(FuzzInput.show(x.content)) nonce \(FuzzInput.show(x.nonce))"
                    + " · then turn \(y.number): speaker \(FuzzInput.show(y.speaker)) content \(FuzzInput.show(y.content)) nonce \(FuzzInput.show(y.nonce))"
            }
        }
        return nil
    }

    /// Header equality, byte for byte.
    static func sameHeader(_ a: TalkHeader, _ b: TalkHeader) -> Bool {
        a.schema == b.schema && FuzzInput.same(a.id, b.id) && FuzzInput.same(a.topic, b.topic) && FuzzInput.same(a.initiator, b.initiator)
            && a.participants.count == b.participants.count && zip(a.participants, b.participants).allSatisfy { FuzzInput.same($0, $1) }
            && a.status == b.status && a.turnCount == b.turnCount && a.maxTurns == b.maxTurns && FuzzInput.same(a.nextSpeaker, b.nextSpeaker)
            && FuzzInput.same(a.createdAt, b.createdAt) && FuzzInput.same(a.updatedAt, b.updatedAt)
            && FuzzInput.same(a.resolution, b.resolution) && FuzzInput.same(a.blockedReason, b.blockedReason)
    }

    static func show(_ h: TalkHeader) -> String {
        FuzzInput.show("{schema \(h.schema), id \(h.id), topic \(h.topic), initiator \(h.initiator), participants \(h.participants), "
            + "status \(h.status.rawValue), turnCount \(h.turnCount), maxTurns \(h.maxTurns), next \(h.nextSpeaker), created \(h.createdAt), "
            + "updated \(h.updatedAt), resolution \(h.resolution ?? "null"), blocked \(h.blockedReason ?? "null")}", limit: 600)
    }
}
