/// The dashboard's only style sheet and script, served by the dashboard itself: nothing external is loaded (only
/// loopback is reachable, and the content security policy allows nothing else).
package enum Assets {
    package static let css = """
        :root{--bg:#f6f7f9;--fg:#1d2330;--dim:#6b7385;--card:#fff;--line:#e2e5ea;--accent:#2f6fde;--ok:#1f8a4c;--warn:#b7791f;--bad:#c53030;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
        @media (prefers-color-scheme:dark){:root{--bg:#12151b;--fg:#e4e7ee;--dim:#8d95a8;--card:#1b2028;--line:#2b313c;--accent:#6ea0ff;--ok:#4cc38a;--warn:#e0a84a;--bad:#f07171}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
        code,pre,.path{font-family:var(--mono);font-size:.88em}
        .top{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem;padding:.6rem 1.2rem;background:var(--card);border-bottom:1px solid var(--line)}
        .brand{font-weight:700;color:var(--fg)}
        nav{display:flex;gap:.3rem}nav a{padding:.3rem .7rem;border-radius:6px;color:var(--fg)}nav a.on{background:var(--accent);color:#fff}
        .live{margin-left:auto;font-size:.8rem;color:var(--dim)}.live.on::before{content:"● ";color:var(--ok)}.live.off::before{content:"● ";color:var(--bad)}
        main{max-width:1200px;margin:0 auto;padding:1rem 1.2rem 3rem}
        h1{font-size:1.45rem;margin:.6rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}h3{font-size:1rem;margin:0 0 .4rem}
        .summary,.crumbs{color:var(--dim);margin:.2rem 0 .8rem}.empty{color:var(--dim);padding:1rem;background:var(--card);border:1px dashed var(--line);border-radius:8px}
        .warn{color:var(--warn)}.dim{color:var(--dim)}.small{font-size:.7em;color:var(--dim)}
        .grid{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
        .grid th,.grid td{padding:.45rem .6rem;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
        .grid th{font-size:.78rem;text-transform:uppercase;letter-spacing:.03em;color:var(--dim);background:var(--bg)}
        .grid .num{text-align:right}.grid tr:last-child td{border-bottom:0}.path{word-break:break-all}
        .badge{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.75rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
        .state-active,.st-answered,.talk-resolved{color:var(--ok)}.state-idle,.st-claimed,.listen{color:var(--accent)}
        .state-stale,.st-pending,.talk-blocked,.st-expired{color:var(--warn)}.state-ended,.st-done,.st-unknown{color:var(--dim)}
        .st-quarantined,.badge.warn{color:var(--bad)}.talk-active{color:var(--accent)}.type-query,.type-response,.type-ping,.type-pong,.type-session-ended{color:var(--dim)}
        .messages{display:grid;gap:.6rem}
        .msg{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--line);border-radius:8px;padding:.6rem .8rem}
        .msg.st-pending{border-left-color:var(--warn)}.msg.st-claimed{border-left-color:var(--accent)}.msg.st-answered{border-left-color:var(--ok)}.msg.st-expired,.msg.st-quarantined{border-left-color:var(--bad)}
        .msg-head{display:flex;flex-wrap:wrap;gap:.35rem;align-items:center}.msg-head time{margin-left:auto;color:var(--dim);font-size:.85rem}
        .msg-body{display:block;margin:.35rem 0;color:var(--fg);overflow-wrap:anywhere}
        .content{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);padding:.7rem;border-radius:6px;border:1px solid var(--line)}
        .timeline{list-style:none;display:flex;flex-wrap:wrap;gap:.3rem;margin:.3rem 0 0;padding:0;font-size:.82rem}
        .ev{padding:.1rem .5rem;border-radius:6px;background:var(--bg);border:1px solid var(--line)}.ev time{color:var(--dim)}
        .ev-claimed{border-color:var(--accent)}.ev-answered{border-color:var(--ok)}.ev-redelivered,.ev-lease{border-color:var(--warn)}.ev-expired,.ev-quarantined{border-color:var(--bad)}
        .facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.5rem;margin:0 0 1rem}
        .facts div{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.45rem .6rem}
        .facts dt{font-size:.75rem;color:var(--dim);text-transform:uppercase}.facts dd{margin:0;overflow-wrap:anywhere}
        .turn,.resolution{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.7rem .9rem;margin:.6rem 0}
        .turn h3 time{color:var(--dim);font-weight:400;font-size:.85rem}.resolution{border-color:var(--ok)}.resolution.blocked{border-color:var(--warn)}
        .md{overflow-wrap:anywhere}.md pre{background:var(--bg);padding:.6rem;border-radius:6px;overflow-x:auto}.md p{margin:.4rem 0}
        .md blockquote{margin:.4rem 0;padding-left:.8rem;border-left:3px solid var(--line);color:var(--dim)}
        .ctl{font-family:var(--mono);font-size:.75em;color:var(--bad);border:1px solid var(--bad);border-radius:3px;padding:0 .15em}
        @media (max-width:760px){
          .top{padding:.5rem .8rem}main{padding:.6rem .7rem 2rem}
          .grid,.grid tbody,.grid tr,.grid td{display:block;width:100%}.grid thead{display:none}
          .grid{border:0;background:none}.grid tr{background:var(--card);border:1px solid var(--line);border-radius:8px;margin-bottom:.6rem;padding:.3rem 0}
          .grid td{border:0;padding:.2rem .7rem;display:flex;gap:.6rem;justify-content:space-between;text-align:right}
          .grid td::before{content:attr(data-label);color:var(--dim);font-size:.78rem;text-transform:uppercase;text-align:left}
          .grid .num{text-align:right}.msg-head time{margin-left:0}
        }

        """

    /// Keeps the page live: an EventSource on /events; on each change the page's own URL is fetched again as a
    /// fragment and swapped into <main>. Relative times ("5 s ago") are computed here, from each <time>'s datetime.
    package static let js = """
        "use strict";
        (function () {
          var live = document.getElementById("live");
          function ago(t) {
            var iso = t.getAttribute("datetime"), d = Date.parse(iso);
            if (isNaN(d)) return;
            var s = Math.max(0, Math.round((Date.now() - d) / 1000));
            t.title = iso;
            t.textContent = s < 60 ? s + " s ago" : s < 3600 ? Math.floor(s / 60) + " min ago" : s < 86400 ? Math.floor(s / 3600) + " h ago" : iso.slice(0, 16).replace("T", " ");
          }
          function times() { document.querySelectorAll("time[datetime]").forEach(ago); }
          var busy = false, again = false;
          function refresh() {
            if (busy) { again = true; return; }
            busy = true;
            var u = new URL(location.href);
            u.searchParams.set("fragment", "1");
            fetch(u.toString(), { credentials: "same-origin", cache: "no-store" }).then(function (r) {
              return r.ok ? r.text() : null;
            }).then(function (html) {
              if (html !== null) {
                var main = document.getElementById("main");
                main.innerHTML = html;
                main.setAttribute("data-refreshed", String(Date.now()));
                times();
              }
            }).catch(function () {}).then(function () {
              busy = false;
              if (again) { again = false; refresh(); }
            });
          }
          function connect() {
            var es = new EventSource("/events");
            es.addEventListener("change", refresh);
            // On every (re)connection: whatever changed before the stream was open is fetched once.
            es.onopen = function () { live.className = "live on"; live.textContent = "live"; refresh(); };
            es.onerror = function () { live.className = "live off"; live.textContent = "reconnecting…"; };
          }
          times();
          setInterval(times, 1000);
          if (window.EventSource) connect(); else live.textContent = "reload to update";
        })();

        """
}
