#!/usr/bin/env bash
# Builds the guard sandbox: guard-sandbox-setup.sh BASE FIXTURES_BIN (see GuardSandboxTests.swift).
set -e
B="$1"; H="$B/home"; S="$H/.claude/session-bridge"; P="$H/work/proj"; O="$H/work/other"
mkdir -p "$S/sessions/abc/inbox/new" "$S/bindings" "$P/.talks/conversations" "$P/.talks/locks" "$P/.talks/registry" "$P/src" \
  "$P/Sources/App" "$P/build" "$P/vendor" "$P/scripts" "$P/docs" "$P/fixtures/empty" "$P/fixtures/talks-src/.talks/conversations" "$O/.talks/conversations"
echo '{"a": 1}' > "$S/sessions/abc/manifest.json"; echo '{}' > "$S/sessions/abc/inbox/new/m1.json"; echo abc > "$S/bindings/k"
printf 'a\n' > "$P/.talks/conversations/api.md"; printf 'x\n' > "$P/.talks/audit.log"; echo z > "$O/.talks/conversations/z.md"
printf 'readme\na\n' > "$P/README.md"; printf 'a\n' > "$P/src/app.js"; echo data > "$P/fixtures/data.txt"
printf '#!/bin/sh\necho run\n' > "$P/scripts/run.sh"; printf 'notes\n' > "$P/notes.md"
printf 'old\n' | gzip > "$P/.talks/conversations/log.md.gz"
ln -s .talks/conversations "$P/notes-link"; ln -s .talks/conversations/api.md "$P/talks-file-link"
printf 'evil\n' > "$P/fixtures/talks-src/.talks/conversations/api.md"
cd "$P/fixtures/talks-src"
tar cf ../talks.tar .talks; tar czf ../talks.tgz .talks; zip -qr ../talks.zip .talks; 7z a -bd -y ../talks.7z .talks >/dev/null
find .talks | cpio -o --quiet > ../talks.cpio
cd "$P/fixtures"; mkdir -p s; echo s > s/s.txt; tar czf src.tgz s; zip -qr other.zip s
printf -- '--- a/.talks/conversations/api.md\n+++ b/.talks/conversations/api.md\n@@ -1 +1 @@\n-a\n+patched\n' > fix.patch
printf -- '--- api.md\n+++ api.md\n@@ -1 +1 @@\n-a\n+plain\n' > plain.patch
printf -- '--- /dev/null\n+++ b/.talks/conversations/added.md\n@@ -0,0 +1 @@\n+added\n' > add.patch
printf 'export PATH="%s:$PATH"\n' "$2" > "$H/.bash_profile"
cd "$P"; printf '.talks/\n' > .gitignore
git init -q; git add -A; git add -f .talks/conversations/api.md
git -c user.email=t@example.com -c user.name=t commit -qm init
printf 'a\nlocal edit\n' > .talks/conversations/api.md
