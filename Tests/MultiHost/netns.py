"""Two "hosts" and a Redis host in network namespaces, shared by the multi-host suite (Tests/MultiHost/run) and the
end-to-end test across hosts (Tests/E2E/test_multihost.py).

Three namespaces (host a, host b, redis) are joined by veth pairs on a bridge in the redis namespace, with private
addresses; a command on a host runs in its namespace with its own host name (a UTS namespace per command) and, when
asked, with other hosts' folders hidden from it (a mount namespace with an empty tmpfs over each), as on separate
machines. Everything made is removed by `cleanup`.
"""
import os
import shutil
import signal
import subprocess
import time

HOSTNAME = {"a": "sb-host-a", "b": "sb-host-b"}


def unavailable(tools=("redis-server", "redis-cli", "unshare")):
    """Why this machine cannot build the network (not root, no `ip netns`, a tool missing), or None."""
    if os.geteuid() != 0:
        return "not root (network namespaces need root)"
    if not shutil.which("ip") or subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        return "`ip netns` is unavailable (iproute2)"
    for tool in tools:
        if not shutil.which(tool):
            return f"{tool} is not installed"
    probe = f"sbprobe{os.getpid() % 100000}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class NetworkError(Exception):
    pass


class Network:
    """The namespaces, their addresses, and every process started in them."""

    def __init__(self, tag):
        n = os.getpid()
        self.tag = f"{tag}{n % 100000}"
        net = f"10.{200 + n % 50}.{n % 250}"
        self.addr = {"a": f"{net}.2", "b": f"{net}.3", "r": f"{net}.1"}
        self.ns = {"a": self.tag + "a", "b": self.tag + "b", "r": self.tag + "r"}
        self.namespaces = []      # made by this network
        self.started = []         # Popen objects started in it

    def ip(self, *args, ns=None):
        cmd = ["ip"] + (["-n", ns] if ns else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise NetworkError(f"{' '.join(cmd)}: {r.stderr.strip()}")

    def build(self):
        for ns in self.ns.values():
            self.ip("netns", "add", ns)
            self.namespaces.append(ns)
            self.ip("link", "set", "lo", "up", ns=ns)
        r = self.ns["r"]
        self.ip("link", "add", "br0", "type", "bridge", ns=r)
        self.ip("link", "set", "br0", "up", ns=r)
        self.ip("addr", "add", self.addr["r"] + "/24", "dev", "br0", ns=r)
        for h in ("a", "b"):
            self.ip("link", "add", "eth0", "netns", self.ns[h], "type", "veth", "peer", "name", "port" + h, "netns", r)
            self.ip("link", "set", "port" + h, "master", "br0", "up", ns=r)
            self.ip("addr", "add", self.addr[h] + "/24", "dev", "eth0", ns=self.ns[h])
            self.ip("link", "set", "eth0", "up", ns=self.ns[h])

    def link(self, host, up):
        """The host's own interface down (its connections see no route) or up again."""
        self.ip("link", "set", "eth0", "up" if up else "down", ns=self.ns[host])

    def switch_port(self, host, up):
        """The host's port on the bridge down: its packets go nowhere and nothing answers (connects time out)."""
        self.ip("link", "set", "port" + host, "up" if up else "down", ns=self.ns["r"])

    def on_host(self, host, argv, hidden=()):
        """argv run on the host: in its namespace, under its host name, with the folders `hidden` out of its sight."""
        mounts = "".join(f"mount -t tmpfs -o mode=0755 sb-elsewhere '{d}' && " for d in hidden)
        return (["ip", "netns", "exec", self.ns[host], "unshare", "--uts"] + (["--mount"] if hidden else [])
                + ["--", "sh", "-c", f'{mounts}hostname {HOSTNAME[host]} && exec "$@"', "sh"] + list(argv))

    def in_namespace(self, key, argv):
        """argv in the namespace `key` (a, b or r) with nothing else changed (a model server on the host's loopback)."""
        return ["ip", "netns", "exec", self.ns[key]] + list(argv)

    def spawn(self, key, argv, **kw):
        p = subprocess.Popen(self.in_namespace(key, argv), start_new_session=True, **kw)
        self.started.append(p)
        return p

    def cleanup(self):
        for p in self.started:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.namespaces = []


class Redis:
    """redis-server on the redis host (AOF on, appendfsync always), reached by the hosts at its address."""

    def __init__(self, network, folder, port=6390):
        self.network = network
        self.dir = folder
        self.port = port
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    def start(self):
        addr = self.network.addr["r"]
        self.proc = self.network.spawn("r", ["redis-server", "--port", str(self.port), "--bind", addr, "--dir", self.dir,
                                             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                                             "--protected-mode", "no", "--daemonize", "no",
                                             "--logfile", os.path.join(self.dir, "redis.log")])
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.cli("PING").strip() == "PONG":
                return
            time.sleep(0.05)
        raise NetworkError("redis-server did not answer: " + open(os.path.join(self.dir, "redis.log")).read()[-2000:])

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def cli(self, *args):
        r = subprocess.run(self.network.in_namespace("r", ["redis-cli", "-h", self.network.addr["r"], "-p", str(self.port), *args]),
                           capture_output=True, text=True)
        return r.stdout

    def url(self, prefix):
        return f"redis://{self.network.addr['r']}:{self.port}/0?prefix={prefix}"
