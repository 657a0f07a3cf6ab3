"""kumo's systemd units under a real systemd (252, PID 1 of a systemd-nspawn container).

Two parts:
  - without a container: `systemd-analyze verify` prints nothing for each unit, and
    `systemd-analyze security --offline=yes` rates kumo-api and kumo-scheduler <= 3.0;
  - in one container booted from the cached Debian 12 rootfs (tools/systemd-test rootfs),
    with kumo installed by `make install DESTDIR=/proc/<its PID 1>/root` and the
    container's own rabbitmq-server (private network: nothing reaches the host's):
    Type=notify readiness, the sandbox, a server booted and deleted through the API
    (fake driver) with its request id in the journal, SIGHUP, the watchdog, a clean stop.
The container tests run in file order and share the container.

Run: tools/systemd-test (root; packages systemd-container debootstrap).
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "systemd-test")
BUILD = os.environ.get("KUMO_BUILD", os.path.join(ROOT, "build"))
DAEMONS = ["kumo-api", "kumo-scheduler", "kumo-compute"]
UNITS = [d + ".service" for d in DAEMONS] + ["kumo-netd.service", "kumo.target"]
API = "http://127.0.0.1:8774"
# Test timings: a short watchdog so a hang is seen in seconds.
TEST_DROPIN = "[Service]\nWatchdogSec=3s\nRestartSec=1s\n"


def wait_for(pred, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def make_install(destdir):
    subprocess.run(["make", "-s", "-C", ROOT, "install-files", "DESTDIR=" + destdir,
                    "BUILD=" + BUILD], check=True, stdout=subprocess.DEVNULL)


# ---- without a container ------------------------------------------------------------

@pytest.fixture(scope="module")
def unitdir():
    """The installed units, ExecStart= pointing into a temporary root (verify checks
    that the binaries exist)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze")
    tmp = tempfile.mkdtemp(prefix="kumo-units-")
    make_install(tmp)
    out = os.path.join(tmp, "verify")
    os.mkdir(out)
    for u in UNITS:
        with open(os.path.join(tmp, "etc/systemd/system", u)) as f:
            text = f.read().replace("/usr/local/bin/", tmp + "/usr/local/bin/")
        with open(os.path.join(out, u), "w") as f:
            f.write(text)
    yield out
    shutil.rmtree(tmp, ignore_errors=True)


def about_kumo(line, unitdir):
    """verify also reads the host's units (Debian's keystone.service, when
    installed, draws a warning of its own): only what names kumo counts."""
    return "kumo" in line or unitdir in line


@pytest.mark.parametrize("unit", UNITS)
def test_verify_prints_nothing(unitdir, unit):
    # verify exits 0 on warnings: what counts is that it says nothing about
    # kumo's units at all.
    r = subprocess.run(["systemd-analyze", "verify", unit], cwd=unitdir,
                       capture_output=True, text=True)
    said = [l for l in (r.stdout + r.stderr).splitlines() if about_kumo(l, unitdir)]
    assert r.returncode == 0 and said == [], r


def security_score(unitdir, unit):
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit],
                       cwd=unitdir, capture_output=True, text=True)
    m = re.search(r"Overall exposure level for %s: ([0-9.]+)" % re.escape(unit), r.stdout)
    assert m, r
    return float(m.group(1))


@pytest.mark.parametrize("unit,limit", [("kumo-api.service", 3.0),
                                        ("kumo-scheduler.service", 3.0),
                                        ("kumo-compute.service", 3.0),
                                        ("kumo-netd.service", 3.0)])
def test_security_exposure(unitdir, unit, limit):
    score = security_score(unitdir, unit)
    print("%s: exposure %.1f" % (unit, score))
    assert score <= limit


# ---- in a container --------------------------------------------------------------------

class Container:
    def __init__(self, name):
        self.name = name

    def run(self, *argv, check=True, stdin=None, timeout=120):
        r = subprocess.run([TOOL, "exec", self.name, *argv], input=stdin,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("%s: rc=%d\n%s%s" % (" ".join(argv), r.returncode,
                                                       r.stdout, r.stderr))
        return r

    def sh(self, script, **kw):
        return self.run("sh", "-c", script, **kw).stdout

    def write(self, path, text):
        self.run("sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "-", path, stdin=text)

    def show(self, unit, *props):
        out = self.run("systemctl", "show", unit, *("-p" + p for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def state(self, unit):
        s = self.show(unit, "ActiveState", "SubState")
        return "%s/%s" % (s["ActiveState"], s["SubState"])

    def cursor(self):
        out = self.run("journalctl", "-n0", "--show-cursor").stdout
        return out.split("-- cursor: ", 1)[1].strip()

    def journal(self, unit, after=None):
        argv = ["journalctl", "--no-pager", "-o", "cat", "-u", unit]
        if after:
            argv.append("--after-cursor=" + after)
        return self.run(*argv).stdout

    def save_journal_and_stop(self):
        """Keeps the whole journal (KUMO_SD_LOGS, for a failure's post-mortem)
        and stops the container."""
        logdir = os.environ.get("KUMO_SD_LOGS", "/tmp/kumo-systemd-test")
        os.makedirs(logdir, exist_ok=True)
        with open(os.path.join(logdir, self.name + ".journal"), "w") as f:
            subprocess.run([TOOL, "exec", self.name, "journalctl", "-b", "--no-pager"],
                           stdout=f, stderr=subprocess.STDOUT, check=False)
        subprocess.run([TOOL, "stop", self.name], check=False)

    def http(self, method, path, body=None, headers=()):
        """curl inside the container: (status, headers dict (lower case), json or None)."""
        argv = ["curl", "-sS", "-i", "-X", method, "-H", "X-Auth-Token: admin:admin",
                "-H", "Accept: application/json"]
        for h in headers:
            argv += ["-H", h]
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        r = self.run(*argv, API + path, stdin=json.dumps(body) if body is not None else None)
        # Text mode: curl's CRLFs arrive as LFs.
        head, _, text = r.stdout.partition("\n\n")
        lines = head.split("\n")
        status = int(lines[0].split()[1])
        hdrs = {k.strip().lower(): v.strip()
                for k, _, v in (ln.partition(":") for ln in lines[1:])}
        return status, hdrs, json.loads(text) if text.strip() else None


@pytest.fixture(scope="module")
def ct():
    if os.geteuid() != 0:
        pytest.skip("needs root (systemd-nspawn, nsenter)")
    if shutil.which("systemd-nspawn") is None:
        pytest.skip("no systemd-nspawn (Debian: systemd-container)")
    subprocess.run([TOOL, "rootfs"], check=True)
    c = Container("kumo-sd%d" % os.getpid())
    subprocess.run([TOOL, "boot", c.name], check=True, stdout=subprocess.DEVNULL)
    try:
        subprocess.run([TOOL, "install", c.name], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, KUMO_BUILD=BUILD))
        # The installed sample config, on the fake driver.
        c.sh("sed -i 's/^compute_driver = .*/compute_driver = fake/' /etc/kumo/kumo.conf")
        for d in DAEMONS:
            c.write("/run/systemd/system/%s.service.d/test.conf" % d, TEST_DROPIN)
        c.run("systemctl", "daemon-reload")
        yield c
    finally:
        c.save_journal_and_stop()


def manage(ct, *args):
    # As the kumo user: the database must be the daemons' own.
    return ct.run("runuser", "-u", "kumo", "--", "/usr/local/bin/kumo-manage",
                  "--config-file", "/etc/kumo/kumo.conf", *args)


def test_install_post_made_user_and_modes(ct):
    assert ct.sh("id -u kumo").strip() != "0"
    assert ct.sh("stat -c '%U:%G %a' /etc/kumo/kumo.conf").strip() == "root:kumo 640"
    assert ct.sh("stat -c '%U:%G %a' /var/lib/kumo").strip() == "kumo:kumo 751"
    # No libvirt group in this rootfs: no SupplementaryGroups drop-in.
    assert ct.sh("ls /etc/systemd/system/kumo-compute.service.d 2>/dev/null || true") == ""
    manage(ct, "db", "sync")
    manage(ct, "flavor", "create-defaults")


def test_activating_until_ready(ct):
    """The RPC daemons wait for the broker before READY=1: with it down they stay
    activating (StatusText from the daemon, no READY); once it is up they become active."""
    ct.run("systemctl", "mask", "--runtime", "rabbitmq-server.service")
    ct.run("systemctl", "start", "--no-block", "kumo-scheduler.service", "kumo-compute.service")
    time.sleep(2.0)
    for u in ("kumo-scheduler.service", "kumo-compute.service"):
        assert ct.state(u) == "activating/start", u
        assert int(ct.show(u, "MainPID")["MainPID"]) > 0
    ct.run("systemctl", "unmask", "--runtime", "rabbitmq-server.service")
    ct.run("systemctl", "start", "rabbitmq-server.service", timeout=180)
    # The broker accepts connections a little before its own READY=1: compare with the
    # moment it began to start.
    rmq = int(ct.show("rabbitmq-server.service",
                      "InactiveExitTimestampMonotonic")["InactiveExitTimestampMonotonic"])
    for u, status in (("kumo-scheduler.service", "scheduling"),
                      ("kumo-compute.service", "serving")):
        wait_for(lambda: ct.state(u) == "active/running", 60, what=u + " active")
        p = ct.show(u, "StatusText", "ActiveEnterTimestampMonotonic", "NRestarts")
        assert p["StatusText"] == status
        assert int(p["ActiveEnterTimestampMonotonic"]) > rmq
        assert p["NRestarts"] == "0"
    # kumo-api: active once it listens; the port answers as soon as start returns.
    ct.run("systemctl", "start", "kumo.target")
    p = ct.show("kumo-api.service", "ActiveState", "SubState", "StatusText")
    assert (p["ActiveState"], p["SubState"], p["StatusText"]) == ("active", "running", "listening")
    status, _, body = ct.http("GET", "/")
    assert status == 200 and body, body
    assert ct.state("kumo.target") == "active/active"


def test_netd(ct):
    """kumo-netd, which kumo-compute wants: root with three capabilities and the
    sandbox, its bridge (made and marked by it), dnsmasq, and the socket for the
    group kumo. The container's private network is the one it changes."""
    unit = "kumo-netd.service"
    wait_for(lambda: ct.state(unit) == "active/running", 30, what=unit + " active")
    assert ct.show(unit, "StatusText")["StatusText"] == "serving"
    pid = ct.show(unit, "MainPID")["MainPID"]
    f = dict(re.findall(r"^(\w+):\s*(.*)$", ct.sh("cat /proc/%s/status" % pid), re.M))
    assert f["Uid"].split()[0] == "0" and f["NoNewPrivs"] == "1" and f["Seccomp"] == "2"
    caps = (1 << 10) | (1 << 12) | (1 << 13)   # NET_BIND_SERVICE, NET_ADMIN, NET_RAW
    assert int(f["CapBnd"], 16) == caps and int(f["CapEff"], 16) == caps
    assert ct.sh("cat /sys/class/net/kumobr0/ifalias").strip() == "kumo-netd"
    assert ct.sh("test -d /sys/class/net/kumobr0/bridge && echo bridge").strip() == "bridge"
    assert ct.sh("pgrep -x dnsmasq").strip()
    assert ct.sh("stat -c '%U:%G %a' /run/kumo /run/kumo/netd.sock").split() == [
        "root:kumo", "750", "root:kumo", "660"]
    # The leases: root's alone (Group=kumo gives the files that group, UMask=0077 no mode).
    assert ct.sh("stat -c '%U:%G %a' /var/lib/kumo-netd /var/lib/kumo-netd/dhcp-hosts"
                 ).split() == ["root:kumo", "700", "root:kumo", "600"]


@pytest.mark.parametrize("daemon", DAEMONS)
def test_sandbox(ct, daemon):
    pid = ct.show(daemon + ".service", "MainPID")["MainPID"]
    st = ct.sh("cat /proc/%s/status" % pid)
    f = dict(re.findall(r"^(\w+):\s*(.*)$", st, re.M))
    kumo_uid = ct.sh("id -u kumo").strip()
    assert f["Uid"].split()[0] == kumo_uid
    assert f["NoNewPrivs"] == "1"
    assert f["Seccomp"] == "2"
    assert int(f["CapBnd"], 16) == 0 and int(f["CapEff"], 16) == 0
    # ProtectSystem=strict: / is read-only in the service's namespace, the state dir is not.
    opts = {ln.split()[4]: ln.split()[5].split(",")
            for ln in ct.sh("cat /proc/%s/mountinfo" % pid).splitlines()}
    assert "ro" in opts["/"], opts["/"]
    assert "rw" in opts["/var/lib/kumo"], opts


def test_boot_and_delete_server(ct):
    # The compute's first report may precede the conductor's queue: wait for the next.
    wait_for(lambda: ct.http("GET", "/v2.1/os-hypervisors/detail")[2]["hypervisors"], 30,
             interval=0.5, what="the compute host in os-hypervisors")
    status, _, img = ct.http("POST", "/v2/images", {"name": "cirros", "disk_format": "qcow2",
                                                    "container_format": "bare"})
    assert status == 201, img
    rid = "req-" + str(uuid.uuid4())
    status, hdrs, body = ct.http(
        "POST", "/v2.1/servers",
        {"server": {"name": "under-systemd", "imageRef": img["id"], "flavorRef": "1"}},
        headers=["X-OpenStack-Request-ID: " + rid])
    assert status == 202, body
    assert hdrs.get("x-openstack-request-id") == rid
    sid = body["server"]["id"]

    def active():
        s = ct.http("GET", "/v2.1/servers/" + sid)[2]["server"]
        assert s["status"] != "ERROR", "fault: %r" % (s.get("fault"),)
        return s if s["status"] == "ACTIVE" else None
    s = wait_for(active, 30, interval=0.2, what="server ACTIVE")
    assert s["OS-EXT-STS:power_state"] == 1
    # The request id, followed through every daemon's journal.
    for d in DAEMONS:
        assert rid in ct.journal(d + ".service"), d
    assert ct.http("DELETE", "/v2.1/servers/" + sid)[0] == 204
    wait_for(lambda: ct.http("GET", "/v2.1/servers/" + sid)[0] == 404, 30,
             interval=0.2, what="server gone")


def test_sighup_reloads_log_level(ct):
    cur = ct.cursor()
    ct.sh("sed -i 's/^log_level = .*/log_level = debug/' /etc/kumo/kumo.conf")
    try:
        ct.run("systemctl", "reload", "kumo-api.service")
        wait_for(lambda: "SIGHUP: log level debug" in ct.journal("kumo-api.service", cur),
                 10, what="SIGHUP in the journal")
    finally:
        ct.sh("sed -i 's/^log_level = .*/log_level = info/' /etc/kumo/kumo.conf")
        ct.run("systemctl", "reload", "kumo-api.service")
    assert ct.state("kumo-api.service") == "active/running"


@pytest.mark.parametrize("daemon", ["kumo-scheduler", "kumo-compute", "kumo-api"])
def test_hung_daemon_killed_by_watchdog_and_restarted(ct, daemon):
    unit = daemon + ".service"
    p = ct.show(unit, "MainPID", "NRestarts")
    pid, n0 = p["MainPID"], int(p["NRestarts"])
    cur = ct.cursor()
    ct.run("kill", "-STOP", pid)     # every thread stops: no more WATCHDOG=1
    wait_for(lambda: int(ct.show(unit, "NRestarts")["NRestarts"]) > n0, 30,
             what=unit + " restarted")
    wait_for(lambda: ct.state(unit) == "active/running", 60, what=unit + " active again")
    assert ct.show(unit, "MainPID")["MainPID"] != pid
    log = ct.journal(unit, cur)
    assert "with signal SIGABRT" in log, log
    assert "Failed with result 'watchdog'" in log, log


def test_stop_is_clean(ct):
    cur = ct.cursor()
    # Stopping kumo.target alone returns before its services are down (stop order is
    # the reverse of start order): name them to wait for them.
    r = ct.run("systemctl", "stop", "kumo.target",
               *(d + ".service" for d in DAEMONS + ["kumo-netd"]), check=False)
    assert r.returncode == 0, r
    for d in DAEMONS + ["kumo-netd"]:
        unit = d + ".service"
        # Result=success: exited 0 (a non-zero exit is exit-code, a signal is signal,
        # a stop past TimeoutStopSec is timeout).
        p = ct.show(unit, "ActiveState", "Result")
        assert (p["ActiveState"], p["Result"]) == ("inactive", "success"), (unit, p)
        log = ct.journal(unit, cur)
        assert "SIGKILL" not in log and "timed out" not in log, log
        assert "Deactivated successfully" in log, log
