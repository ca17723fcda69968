import Dashboard
import Dispatch
import HTTPTypes
import Hummingbird
import SessionBridge
import Synchronization

/// The subscribers of /events: each gets the change notices as server-sent events.
final class ChangeHub: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<String>.Continuation]>([:])
    private let nextID = Mutex(0)

    func subscribe() -> (id: Int, events: AsyncStream<String>) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let id = nextID.withLock { n in n += 1; return n }
        subscribers.withLock { $0[id] = continuation }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        subscribers.withLock { $0.removeValue(forKey: id) }?.finish()
    }

    func broadcast(_ event: String) {
        for c in subscribers.withLock({ Array($0.values) }) { c.yield(event) }
    }

    /// Watches the store on a thread of its own (the wait blocks in poll(2)): a change notice per burst of
    /// changes, and a comment line every 15 s so proxies and browsers keep the stream open.
    /// The feed is made on that thread and stays there.
    func start(feed makeFeed: @escaping @Sendable () -> ChangeFeed) {
        let thread = DispatchQueue(label: "session-bridge-ui.changes")
        thread.async { [self] in
            let feed = makeFeed()
            var generation = 0
            var quiet = 0
            while true {
                if feed.wait(timeoutMilliseconds: 1000) {
                    generation += 1
                    quiet = 0
                    broadcast("event: change\ndata: \(generation)\n\n")
                } else {
                    quiet += 1
                    if quiet >= 15 { quiet = 0; broadcast(": keep-alive\n\n") }
                }
            }
        }
    }
}

/// The Host header values the server answers to, known once it listens.
final class AllowedHosts: Sendable {
    private let values = Mutex<Set<String>>([])
    func set(_ hosts: Set<String>) { values.withLock { $0 = hosts } }
    func contains(_ host: String) -> Bool { values.withLock { $0.contains(host) } }
}

/// Answers every request: the token check, the pages, the assets and the event stream.
struct DashboardResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let dashboard: Dashboard
    let token: AccessToken
    let hub: ChangeHub
    /// Host headers accepted (127.0.0.1:PORT, localhost:PORT): a page of another site that rebinds its name to
    /// 127.0.0.1 is refused even before the token is checked.
    let hosts: AllowedHosts

    static let security: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cache-Control", "no-store"),
    ]

    static func response(_ status: HTTPResponse.Status, type: String, _ body: String, extra: [(String, String)] = []) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = type
        for (k, v) in security + extra { if let name = HTTPField.Name(k) { fields[name] = v } }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        response(status, type: "text/plain; charset=utf-8", text + "\n")
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        guard let authority = request.head.authority, hosts.contains(authority.lowercased()) else {
            return Self.plain(.forbidden, "session-bridge ui: this dashboard answers only at the address it printed")
        }
        guard request.method == .get || request.method == .head else { return Self.plain(.methodNotAllowed, "read-only") }
        var query: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
        let path = request.uri.path
        if let given = query["token"] {
            guard token.matches(given) else { return unauthorized() }
            // Keep the token out of the address bar and history: a cookie carries it from now on.
            var rest = query
            rest["token"] = nil
            let tail = rest.sorted { $0.key < $1.key }.map { HTML.urlComponent($0.key) + "=" + HTML.urlComponent($0.value) }.joined(separator: "&")
            // Only a path of this server: never "//host" or "/\\host", which browsers read as another site.
            let safePath = path.hasPrefix("/") && !path.hasPrefix("//") && !path.contains("\\") ? path : "/"
            return Self.response(.seeOther, type: "text/plain; charset=utf-8", "", extra: [
                ("Location", safePath + (tail.isEmpty ? "" : "?" + tail)),
                ("Set-Cookie", "\(AccessToken.cookieName)=\(token.value); Path=/; HttpOnly; SameSite=Strict"),
            ])
        }
        guard token.matches(AccessToken.cookie(AccessToken.cookieName, in: request.headers[.cookie])) else { return unauthorized() }
        switch path {
        case "/static/app.css": return Self.response(.ok, type: "text/css; charset=utf-8", Assets.css)
        case "/static/app.js": return Self.response(.ok, type: "text/javascript; charset=utf-8", Assets.js)
        case "/events": return events()
        case "/favicon.ico": return Self.plain(.noContent, "")
        default: break
        }
        guard let page = Dashboard.page(path: path, query: query) else { return Self.plain(.notFound, "no such page") }
        let dashboard = self.dashboard
        let fragment = query["fragment"] == "1"
        let (status, html) = dashboard.render(page, fragment: fragment)
        return Self.response(HTTPResponse.Status(code: status), type: "text/html; charset=utf-8", html)
    }

    func unauthorized() -> Response {
        Self.response(.unauthorized, type: "text/html; charset=utf-8", """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>401 · session-bridge</title></head>
            <body><h1>401: token required</h1><p>Open the address that <code>session-bridge ui</code> printed (it carries the token).</p></body></html>

            """)
    }

    func events() -> Response {
        let hub = self.hub
        var fields = HTTPFields()
        fields[.contentType] = "text/event-stream"
        for (k, v) in Self.security { if let name = HTTPField.Name(k) { fields[name] = v } }
        return Response(status: .ok, headers: fields, body: ResponseBody { writer in
            let (id, stream) = hub.subscribe()
            defer { hub.unsubscribe(id) }
            try await writer.write(ByteBuffer(string: "retry: 1000\n: connected\n\n"))
            for await event in stream { try await writer.write(ByteBuffer(string: event)) }
            try await writer.finish(nil)
        })
    }
}
