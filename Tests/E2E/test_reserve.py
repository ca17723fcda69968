"""Issue 16: edit reservations between two real Claude Code sessions in one folder."""
import json
import os
import unittest

from harness import E2ETestCase


class ReserveTest(E2ETestCase):
    runtimes = frozenset({"claude"})

    def test_a_reservation_stops_the_other_sessions_edit_until_released(self):
        """A reserves src/api/; B's Edit of src/api/client.swift is denied and B's model sees A's name and the ask
        command; B asks A through the bridge; A releases and answers; B's Edit then goes through."""
        self.install_plugin()
        proj = self.project("shared")
        os.makedirs(os.path.join(proj, "src", "api"))
        target = os.path.join(proj, "src", "api", "client.swift")
        with open(target, "w") as f:
            f.write("let endpoint = \"v1\"\n")

        holder_model = self.model("holder", "reserve-holder", path="src/api/", reason="reworking the API client")
        holder = self.start_claude("holder", proj, holder_model, "/bridge reserve src/api/ --reason reworking the API client")
        rows = self.wait_for(lambda: [r for r in self.reservations() if r["pattern"] == "src/api"], 90, "A's reservation")
        a = rows[0]
        self.assertEqual(a["agent"], "claude-code")
        self.assertFalse(a["shared"])

        editor_model = self.model("editor", "reserved-editor", path=target, old='"v1"', new='"v2"')
        editor = self.start_claude("editor", proj, editor_model, "Change the endpoint in src/api/client.swift to v2.")
        self.assertEqual(editor.wait(240), 0, editor.describe())
        self.assertEqual(holder.wait(240), 0, holder.describe())

        results = editor_model.claude_tool_results()
        denials = [r for r in results if "session-bridge reservation:" in r]
        self.assertTrue(denials, results)
        denial = denials[0]
        # B's model saw who holds it, why, until when, and the exact command to ask them.
        self.assertIn(a["holderName"], denial)
        self.assertIn(a["holder"], denial)
        self.assertIn("reworking the API client", denial)
        self.assertIn(" until ", denial)
        self.assertIn(f"session-bridge\" ask {a['holder']} '", denial)
        # B asked A through the bridge, and got A's answer.
        self.assertTrue(any("Released src/api/" in r for r in results), results)
        # A ran release (its tool results say so), and the edit went through afterwards.
        self.assertTrue(any("released src/api" in r for r in holder_model.claude_tool_results()))
        self.assertEqual(open(target).read(), "let endpoint = \"v2\"\n")
        self.assertEqual(self.reservations(), [])
        peers = {p["id"]: p for p in self.peers()}
        self.assertEqual(peers[a["holder"]]["projectPath"], proj)
        self.assertEqual(len([p for p in peers.values() if p["projectPath"] == proj]), 2)

    def reservations(self):
        r = self.bridge("reservations", "--all", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return [row for row in json.loads(r.stdout) if row["state"] == "live"]


if __name__ == "__main__":
    unittest.main()
