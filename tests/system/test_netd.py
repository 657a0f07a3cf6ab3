"""kumo-netd, the compute host's network helper, for real: its bridge, its
nftables table and its dnsmasq, each inside a network namespace this test
makes and deletes (the machine's own network never changes: the root
namespace's links and nftables tables are compared before and after).

A second namespace plays a guest on the bridge (a veth pair): it must reach
DNS on the gateway and nothing else of the host, not a port bound to the
gateway's address (RabbitMQ's 5672), not one bound to every address (2222),
also through the host's address on another interface, not kumo-api's 8774.

Needs root, iproute2, nftables, dnsmasq (tools/install-deps), setpriv.
Binaries from $KUMO_BUILD; a sanitizer report in the daemon's log fails.
"""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kumocloud import BUILD, SANITIZER_RE, wait_for  # noqa: E402

BRIDGE = "kumotbr1"
TABLE = "kumo_" + BRIDGE
HELPER = "daemon"   # [network] helper_user: a uid other than root that may call

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("ip", "nft", "dnsmasq", "setpriv")),
                       reason="needs ip, nft, dnsmasq, setpriv (tools/install-deps)"),
]


def run(*argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=30)


def root_net_state():
    links = sorted(l["ifname"] for l in json.loads(run("ip", "-j", "link").stdout))
    tables = run("nft", "list", "tables").stdout.split("\n")
    return links, sorted(t for t in tables if t)


class Netns:
    def __init__(self, tag=""):
        self.name = "kumo-netd-%s%s" % (uuid.uuid4().hex[:8], tag)
        run("ip", "netns", "add", self.name)
        run("ip", "-n", self.name, "link", "set", "lo", "up")

    def exec(self, *argv, **kw):
        return run("ip", "netns", "exec", self.name, *argv, **kw)

    def popen(self, *argv, **kw):
        return subprocess.Popen(("ip", "netns", "exec", self.name) + argv, **kw)

    def pids(self):
        out = run("ip", "netns", "pids", self.name, check=False).stdout.split()
        return [int(p) for p in out]

    def comms(self):
        names = []
        for p in self.pids():
            try:
                with open("/proc/%d/comm" % p) as f:
                    names.append(f.read().strip())
            except OSError:
                pass
        return names

    def delete(self):
        for p in self.pids():
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        run("ip", "netns", "del", self.name, check=False)


class Netd:
    """kumo-netd in a namespace, with its own config, state and socket."""

    def __init__(self, ns, masquerade=False):
        self.ns = ns
        self.dir = tempfile.mkdtemp(prefix="kumo-netd-")
        os.chmod(self.dir, 0o755)   # the socket's own dir and mode decide who gets in
        self.sock = os.path.join(self.dir, "run", "netd.sock")
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.state)
        self.conf = os.path.join(self.dir, "kumo.conf")
        with open(self.conf, "w") as f:
            f.write("[DEFAULT]\nstate_path = %s\n[network]\ncidr = 10.98.0.0/24\n"
                    "dhcp_end = 10.98.0.200\nbridge = %s\nhelper_socket = %s\n"
                    "helper_user = %s\nmasquerade = %s\n"
                    % (self.state, BRIDGE, self.sock, HELPER, str(masquerade).lower()))
        self.log_path = os.path.join(self.dir, "kumo-netd.log")
        self.proc = None

    @property
    def hosts(self):
        with open(os.path.join(self.state, "netd", "dhcp-hosts")) as f:
            return f.read()

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = self.ns.popen(os.path.join(BUILD, "kumo-netd"), "-c", self.conf, "-d",
                                  stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        log.close()
        wait_for(lambda: self.proc.poll() is not None or self.status_or_none(), 15,
                 what="kumo-netd's socket")
        assert self.proc.poll() is None, "kumo-netd died:\n" + self.log_text()
        return self

    def status_or_none(self):
        try:
            return call(self.sock, {"op": "status"})
        except OSError:
            return None

    def stop(self):
        """SIGTERM; it must exit 0 with a clean log."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(20)
        self.check_log()
        assert rc == 0, "kumo-netd exited %r:\n%s" % (rc, self.log_text()[-3000:])

    def teardown(self):
        r = self.ns.exec(os.path.join(BUILD, "kumo-netd"), "-c", self.conf, "--teardown",
                         check=False)
        assert SANITIZER_RE.search(r.stderr) is None, r.stderr
        assert r.returncode == 0, r.stderr

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def check_log(self):
        text = self.log_text()
        m = SANITIZER_RE.search(text)
        assert m is None, "sanitizer report in kumo-netd's log:\n" + text[max(0, m.start() - 200):]

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not os.environ.get("KUMO_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def call(path, req, timeout=5):
    """One request packet, one reply (SOCK_SEQPACKET)."""
    data = req if isinstance(req, bytes) else json.dumps(req).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.send(data)
        return json.loads(s.recv(70000))
    finally:
        s.close()


def lease(mac, ip, host):
    return {"mac": mac, "ip": ip, "hostname": host}


def addrs(ns, dev):
    out = json.loads(run("ip", "-n", ns.name, "-j", "addr", "show", "dev", dev).stdout)
    return out[0]


def nft_table(ns):
    r = ns.exec("nft", "-j", "list", "table", "inet", TABLE, check=False)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)["nftables"]


@pytest.fixture(scope="module")
def root_before():
    before = root_net_state()
    yield before
    assert root_net_state() == before, "the root network namespace changed"


@pytest.fixture(scope="module")
def host(root_before):
    """A 'compute host' namespace with kumo-netd running in it."""
    ns = Netns()
    d = Netd(ns)
    try:
        d.start()
        yield d
        if d.proc.poll() is None:
            d.stop()
    finally:
        d.cleanup()
        ns.delete()


def test_bridge_address_and_up(host):
    a = addrs(host.ns, BRIDGE)
    assert "UP" in a["flags"]
    v4 = [(i["local"], i["prefixlen"]) for i in a["addr_info"] if i["family"] == "inet"]
    assert v4 == [("10.98.0.1", 24)]
    link = json.loads(run("ip", "-n", host.ns.name, "-j", "-d", "link", "show",
                          BRIDGE).stdout)[0]
    assert link["linkinfo"]["info_kind"] == "bridge"
    assert link.get("ifalias") == "kumo-netd"


def test_dnsmasq_runs_in_the_namespace(host):
    assert "dnsmasq" in host.ns.comms()
    st = call(host.sock, {"op": "status"})
    assert st["ok"] is True and st["managed"] is True and st["bridge"] == BRIDGE
    assert st["dnsmasq_pid"] in host.ns.pids()


def test_dnsmasq_restarted_when_it_dies(host):
    old = call(host.sock, {"op": "status"})["dnsmasq_pid"]
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: (call(host.sock, {"op": "status"})["dnsmasq_pid"] or None)
                   if call(host.sock, {"op": "status"})["dnsmasq_pid"] != old else None,
                   10, what="dnsmasq restarted")
    assert new in host.ns.pids()
    assert "killed by signal 9" in host.log_text()


def test_firewall_table(host):
    items = nft_table(host.ns)
    assert items is not None, "no table inet " + TABLE
    rules = {}
    for it in items:
        if "rule" in it:
            rules.setdefault(it["rule"]["chain"], []).append(json.dumps(it["rule"]["expr"]))
    assert set(rules) >= {"input", "forward"}
    inp = rules["input"]
    assert '"drop": null' in inp[-1] and BRIDGE in inp[-1]
    assert any('"dport"' in r and "53" in r and "10.98.0.1" in r and "tcp" in r for r in inp)
    assert any('"dport"' in r and "53" in r and "10.98.0.1" in r and "udp" in r for r in inp)
    assert any("67" in r and "68" in r for r in inp)
    assert '"drop": null' in rules["forward"][-1]
    assert not any("masquerade" in r for r in sum(rules.values(), []))


def test_leases_change_the_hosts_file(host):
    assert call(host.sock, {"op": "lease_add", **lease("fa:16:3e:00:00:12", "10.98.0.12",
                                                       "vm-1")}) == {"ok": True}
    assert host.hosts == "fa:16:3e:00:00:12,vm-1,10.98.0.12\n"
    # The same MAC again replaces its lease.
    assert call(host.sock, {"op": "lease_add", **lease("FA:16:3E:00:00:12", "10.98.0.13",
                                                       "vm-1")})["ok"]
    assert host.hosts == "fa:16:3e:00:00:12,vm-1,10.98.0.13\n"
    assert call(host.sock, {"op": "lease_del", "mac": "fa:16:3e:00:00:12"}) == {"ok": True}
    assert host.hosts == ""
    assert call(host.sock, {"op": "lease_del", "mac": "fa:16:3e:00:00:12"}) == {"ok": True}
    r = call(host.sock, {"op": "leases_sync", "leases": [
        lease("fa:16:3e:00:00:21", "10.98.0.21", "a"),
        lease("fa:16:3e:00:00:22", "10.98.0.22", "b")]})
    assert r == {"ok": True, "leases": 2}
    assert host.hosts == ("fa:16:3e:00:00:21,a,10.98.0.21\n"
                          "fa:16:3e:00:00:22,b,10.98.0.22\n")
    assert call(host.sock, {"op": "status"})["leases"] == 2
    wait_for(lambda: "read %s" % os.path.join(host.state, "netd", "dhcp-hosts")
             in host.log_text(), 5, what="dnsmasq re-reading its hosts file")


BAD = [
    (b"\x00\xffjunk", "not a JSON object"),
    (b"x" * 100000, "too large"),
    (b"[]", "not a JSON object"),
    ({"op": "format_disk"}, "unknown op"),
    ({"op": "status", "x": 1}, "unknown field"),
    ({"op": "lease_add", **lease("fa:16:3e:00:00:31", "10.98.0.250", "x")}, "DHCP range"),
    ({"op": "lease_add", **lease("fa:16:3e:00:00:31", "192.168.1.5", "x")}, "DHCP range"),
    ({"op": "lease_add", **lease("fa:16:3e:00:00:31", "10.98.0.1", "x")}, "DHCP range"),
    ({"op": "lease_add", **lease("fa:16:3e:00:00", "10.98.0.31", "x")}, "MAC"),
    ({"op": "lease_add", **lease("01:16:3e:00:00:31", "10.98.0.31", "x")}, "MAC"),
    ({"op": "lease_add", **lease("fa:16:3e:00:00:31", "10.98.0.31", "a/b")}, "hostname"),
    ({"op": "lease_add", **lease("fa:16:3e:00:00:31", "10.98.0.31", "a\nb")}, "hostname"),
    ({"op": "lease_add", **lease("fa:16:3e:00:00:31", "10.98.0.31", "x" * 64)}, "hostname"),
    ({"op": "lease_add", **lease("fa:16:3e:00:00:31", "10.98.0.21", "dup")}, "another mac"),
    ({"op": "lease_add", "mac": "fa:16:3e:00:00:31", "ip": 5, "hostname": "x"}, "string"),
    ({"op": "leases_sync", "leases": [lease("fa:16:3e:00:00:31", "10.98.0.31", "a"),
                                      lease("fa:16:3e:00:00:32", "10.98.0.31", "b")]},
     "another mac"),
    ({"op": "leases_sync", "leases": "all"}, "array"),
]


@pytest.mark.parametrize("req,why", BAD, ids=range(len(BAD)))
def test_bad_requests_get_an_error(host, req, why):
    before = host.hosts
    r = call(host.sock, req)
    assert set(r) == {"error"} and why in r["error"] and "\n" not in r["error"], r
    assert host.proc.poll() is None
    assert call(host.sock, {"op": "status"})["ok"] is True
    assert host.hosts == before


def as_user(user, groups, path, req):
    code = ("import json, socket, sys\n"
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(5)\n"
            "s.connect(sys.argv[1])\n"
            "try:\n    s.send(sys.argv[2].encode())\n"
            "except BrokenPipeError:\n    pass\n"
            "print(s.recv(70000).decode())\n")
    pw = pwd.getpwnam(user)
    r = run("setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--groups=" + groups,
            sys.executable, "-c", code, path, json.dumps(req))
    return json.loads(r.stdout)


def test_other_uid_refused(host):
    # nobody, given the socket's group so the file mode lets it connect: SO_PEERCRED refuses.
    for _ in range(2):
        r = as_user("nobody", HELPER, host.sock, {"op": "status"})
        assert r == {"error": "permission denied"}
    assert host.log_text().count("refused a client of uid 65534") == 1
    assert as_user(HELPER, HELPER, host.sock, {"op": "status"})["ok"] is True


def listen(ns, addr, port):
    code = ("import socket, sys, time\n"
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8); print('up', flush=True)\n"
            "while True:\n    c, _ = s.accept(); c.close()\n")
    p = ns.popen(sys.executable, "-c", code, addr, str(port), stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"up"
    return p


CONNECT = ("import socket, sys\n"
           "try:\n"
           "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()\n"
           "    print('open')\n"
           "except socket.timeout:\n    print('timeout')\n"
           "except OSError as e:\n    print('refused' if e.errno == 111 else 'error %d' % e.errno)\n")

DNS = ("import socket, struct, sys\n"
       "q = struct.pack('!HHHHHH', 0x4b4d, 0x0100, 1, 0, 0, 0)\n"
       "q += bytes([9]) + b'localhost' + b'\\0'\n"
       "q += struct.pack('!HH', 1, 1)\n"
       "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)\n"
       "s.sendto(q, (sys.argv[1], 53))\n"
       "try:\n    r = s.recv(512); print('answer' if r[:2] == q[:2] else 'other')\n"
       "except socket.timeout:\n    print('timeout')\n")


def connect(ns, addr, port):
    return ns.exec(sys.executable, "-c", CONNECT, addr, str(port)).stdout.strip()


def test_guest_reaches_dns_and_nothing_else(host):
    guest = Netns("-g")
    listeners = []
    try:
        h = host.ns.name
        run("ip", "-n", h, "link", "add", "kvg0", "type", "veth", "peer", "name", "kvg1")
        run("ip", "-n", h, "link", "set", "kvg0", "master", BRIDGE, "up")
        run("ip", "-n", h, "link", "set", "kvg1", "netns", guest.name)
        run("ip", "-n", guest.name, "addr", "add", "10.98.0.50/24", "dev", "kvg1")
        run("ip", "-n", guest.name, "link", "set", "kvg1", "up")
        run("ip", "-n", guest.name, "route", "add", "default", "via", "10.98.0.1")
        # The host's address on another interface (its "uplink").
        run("ip", "-n", h, "link", "add", "kd0", "type", "veth", "peer", "name", "kd1")
        run("ip", "-n", h, "addr", "add", "192.0.2.1/24", "dev", "kd0")
        run("ip", "-n", h, "link", "set", "kd1", "up")
        run("ip", "-n", h, "link", "set", "kd0", "up")
        listeners = [listen(host.ns, "10.98.0.1", 5672), listen(host.ns, "127.0.0.1", 8774),
                     listen(host.ns, "0.0.0.0", 2222)]
        # The listeners are there: the host itself reaches them.
        assert connect(host.ns, "10.98.0.1", 5672) == "open"
        assert connect(host.ns, "127.0.0.1", 8774) == "open"
        assert connect(host.ns, "10.98.0.1", 2222) == "open"
        # The guest is on the bridge (the host reaches a guest's port: replies pass).
        listeners.append(listen(guest, "10.98.0.50", 22))
        wait_for(lambda: connect(host.ns, "10.98.0.50", 22) == "open", 10,
                 what="the guest on the bridge")
        # Dropped, not refused: nothing of the host even answers.
        for port in (5672, 2222, 8774, 22):
            assert connect(guest, "10.98.0.1", port) == "timeout", port
        assert connect(host.ns, "192.0.2.1", 2222) == "open"
        assert connect(guest, "192.0.2.1", 2222) == "timeout"
        assert guest.exec(sys.executable, "-c", DNS, "10.98.0.1").stdout.strip() == "answer"
        assert host.proc.poll() is None
        # The table is what stops them: without it the guest gets in; a restart puts it back.
        host.ns.exec("nft", "delete", "table", "inet", TABLE)
        assert connect(guest, "10.98.0.1", 2222) == "open"
        host.stop()
        host.start()
        assert connect(guest, "10.98.0.1", 2222) == "timeout"
    finally:
        for p in listeners:
            p.kill()
            p.wait()
        guest.delete()
        run("ip", "-n", host.ns.name, "link", "del", "kvg0", check=False)
        run("ip", "-n", host.ns.name, "link", "del", "kd0", check=False)


def test_restart_keeps_leases_bridge_and_table(host):
    host.stop()
    # SIGTERM: dnsmasq goes, the bridge and the firewall stay.
    assert "dnsmasq" not in host.ns.comms()
    assert nft_table(host.ns) is not None
    assert addrs(host.ns, BRIDGE)["addr_info"]
    host.start()
    st = call(host.sock, {"op": "status"})
    assert st["managed"] is True and st["leases"] == 2
    assert "bridge %s adopted" % BRIDGE in host.log_text()
    v4 = [i["local"] for i in addrs(host.ns, BRIDGE)["addr_info"] if i["family"] == "inet"]
    assert v4 == ["10.98.0.1"]
    assert len([n for n in host.ns.comms() if n == "dnsmasq"]) == 1


def test_teardown_removes_what_it_made(host):
    host.stop()
    host.teardown()
    assert nft_table(host.ns) is None
    assert BRIDGE not in run("ip", "-n", host.ns.name, "-br", "link").stdout
    assert "dnsmasq" not in host.ns.comms()
    host.teardown()   # again: nothing to do, still 0


def test_masquerade_rules(root_before):
    ns = Netns()
    d = Netd(ns, masquerade=True)
    try:
        d.start()
        text = ns.exec("nft", "list", "table", "inet", TABLE).stdout
        assert 'oifname != "%s" ip saddr 10.98.0.0/24 masquerade' % BRIDGE in text
        assert 'iifname "%s" ip saddr 10.98.0.0/24 accept' % BRIDGE in text
        d.stop()
    finally:
        d.cleanup()
        ns.delete()


def test_foreign_bridge_left_alone(root_before):
    ns = Netns()
    d = Netd(ns)
    try:
        run("ip", "-n", ns.name, "link", "add", BRIDGE, "type", "bridge")
        d.start()
        st = call(d.sock, {"op": "status"})
        assert st["managed"] is False and st["dnsmasq_pid"] == 0
        assert call(d.sock, {"op": "lease_add", **lease("fa:16:3e:00:00:41", "10.98.0.41",
                                                        "x")}) == {"ok": True}
        a = addrs(ns, BRIDGE)
        assert [i for i in a["addr_info"] if i["family"] == "inet"] == []
        assert "UP" not in a["flags"]
        assert nft_table(ns) is None
        assert "dnsmasq" not in ns.comms()
        assert d.log_text().count("left alone") == 1
        d.stop()
        d.teardown()
        assert BRIDGE in run("ip", "-n", ns.name, "-br", "link").stdout
    finally:
        d.cleanup()
        ns.delete()


def test_check_config(tmp_path):
    conf = tmp_path / "kumo.conf"
    conf.write_text("[network]\nhelper_user = no-such-user-kumo\n")
    r = run(os.path.join(BUILD, "kumo-netd"), "-c", str(conf), "-n", check=False)
    assert r.returncode == 1 and "helper_user" in r.stderr
    conf.write_text("[network]\nhelper_user = %s\n" % HELPER)
    r = run(os.path.join(BUILD, "kumo-netd"), "-c", str(conf), "-n", check=False)
    assert r.returncode == 0 and "configuration" in r.stdout
