import SessionBridge

/// What the dashboard shows, read through the library (`Bridge`, `Talks`) on every request: the store is the only
/// state, so a page is never stale and the dashboard cannot disturb delivery (it writes nothing).
package struct Dashboard: Sendable {
    package let store: any BridgeStore
    package let environment: Environment
    package let talkLocations: [TalkLocation]
    /// The talk engine of the store (`Stores.talks`).
    package let talkEngine: StoreFactory.TalkEngine
    /// How the pages spell the commands they suggest: the main binary as the person runs it.
    package let helper: HelperName

    package init(store: any BridgeStore, environment: Environment, talkLocations: [TalkLocation], talkEngine: @escaping StoreFactory.TalkEngine,
                helper: HelperName = HelperName(text: HelperName.bareName)) {
        self.store = store
        self.environment = environment
        self.talkLocations = talkLocations
        self.talkEngine = talkEngine
        self.helper = helper
    }

    /// The pages, by URL.
    package enum Page: Sendable, Equatable {
        case sessions
        case session(String)
        case messages(session: String?, limit: Int)
        case message(String)
        case talks
        case talk(String)
    }

    /// Messages shown on one page unless `?limit=` asks for more (at most `maxLimit`).
    package static let defaultLimit = 100
    package static let maxLimit = 2000

    /// The page at `path` with its query, or nil (404). Ids in paths must be well-formed ids.
    package static func page(path: String, query: [String: String]) -> Page? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let limit = query["limit"].flatMap { Int($0) }.map { min(max(1, $0), maxLimit) } ?? defaultLimit
        switch parts.count {
        case 0: return .sessions
        case 1:
            switch parts[0] {
            case "sessions": return .sessions
            case "messages":
                let session = query["session"].flatMap { Identifiers.isValidID($0) ? $0.lowercased() : nil }
                return .messages(session: session, limit: limit)
            case "talks": return .talks
            default: return nil
            }
        case 2:
            guard Identifiers.isValidID(parts[1]) else { return nil }
            switch parts[0] {
            case "sessions": return .session(parts[1].lowercased())
            case "messages": return .message(parts[1].lowercased())
            case "talks": return .talk(parts[1])
            default: return nil
            }
        default: return nil
        }
    }

    /// A bridge for reading; it never acts as a session (no heartbeat, nothing settled).
    func bridge() -> Bridge { Bridge(store: store, environment: environment) }

    func talks() -> [Talks] { talkLocations.map { Talks(location: $0, environment: environment, sessionName: nil, store: talkEngine($0)) } }

    /// The rendered page: a whole document, or with `fragment` only the content of `<main>` (the live refresh).
    package func render(_ page: Page, fragment: Bool = false) -> (status: Int, html: String) {
        let view = PageRenderer(dashboard: self)
        let (status, title, section, body) = view.body(page)
        return (status, fragment ? body : PageRenderer.document(title: title, section: section, main: body))
    }
}
