"""tools/all-in-one where PID 1 is systemd: inside a systemd-nspawn container booted
from the all-in-one rootfs (KUMO_SD_AIO=1 tools/systemd-test rootfs: the base rootfs plus
`tools/install-deps --list --run`, so nothing is downloaded; --private-network).

The checkout (with its build/) and the cached test image are copied in; the all-in-one
then runs as a user would: `make install`, kumo-manage as the kumo user, `systemctl start`
of the Debian packages' rabbitmq-server, virtlogd and libvirtd, kumo.target enabled and
started, a real VM (QEMU TCG) booted through the API as the user demo, the guest's marker
printed, and then the `ssh` command that logs in to it, which works (as root, with the
generated key pair demo-key, to the fixed address on kumo-netd's bridge kumobr0: the
container's network is its own). The cloud is one people log in to: root's clouds.yaml logs demo in and demo's
server list shows the server; kumo-api authenticates with the identity service (keys
owned by kumo), the daemons use RabbitMQ's user kumo, not guest; no password is printed.
A second run reuses the passwords and boots one more server (idempotent). `--down`
deletes the servers (demo's, through the admin) and leaves the container as it found it:
the same active units, users, groups and files, no clouds.yaml, no RabbitMQ user kumo,
no key pair, and none of kumo-netd's bridge, firewall table or leases.

Run: tools/systemd-test (root). KUMO_TEST_IMAGE_DIR: where tools/make-test-image builds
the test image to copy in (default /var/tmp/kumo-test-image, as tests/e2e).
"""
import glob
import json
import os
import re
import shutil
import subprocess

import pytest

from test_units import BUILD, ROOT, TOOL, Container

IMAGE_DIR = os.environ.get("KUMO_TEST_IMAGE_DIR", "/var/tmp/kumo-test-image")
KERNEL_DEBS = "/var/cache/kumo/debs"
SRC = "/opt/kumo"              # the checkout, inside the container
CT_IMAGE_DIR = "/var/tmp/kumo-test-image"
AIO_ENV = dict(os.environ, KUMO_SD_AIO="1", KUMO_BUILD=BUILD)


def copy_tree(ct_root, src, dst, excludes=()):
    """tar, so that mtimes survive (make finds build/ up to date)."""
    os.makedirs(ct_root + dst, exist_ok=True)
    argv = ["tar", "-C", src, "-cf", "-"] + ["--exclude=" + e for e in excludes] + ["."]
    tar = subprocess.Popen(argv, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", ct_root + dst, "-xf", "-"], stdin=tar.stdout, check=True)
    tar.stdout.close()
    assert tar.wait() == 0


@pytest.fixture(scope="module")
def aio():
    if os.geteuid() != 0:
        pytest.skip("needs root (systemd-nspawn, nsenter)")
    if shutil.which("systemd-nspawn") is None:
        pytest.skip("no systemd-nspawn (Debian: systemd-container)")
    # Built here (cached: a second run does nothing), as tests/e2e does.
    subprocess.run([os.path.join(ROOT, "tools", "make-test-image"), IMAGE_DIR], check=True,
                   env=dict(os.environ, KUMO_CACHE_DIR=os.path.dirname(KERNEL_DEBS)))
    subprocess.run([TOOL, "rootfs"], check=True, env=AIO_ENV)
    c = Container("kumo-aio%d" % os.getpid())
    lead = subprocess.run([TOOL, "boot", c.name], check=True, capture_output=True,
                          text=True, env=AIO_ENV).stdout.strip()
    try:
        root = "/proc/%s/root" % lead
        copy_tree(root, ROOT, SRC, excludes=["./.git", "./build-san"])
        copy_tree(root, IMAGE_DIR, CT_IMAGE_DIR)
        copy_tree(root, KERNEL_DEBS, KERNEL_DEBS)
        yield c
    finally:
        c.save_journal_and_stop()


def snapshot(ct):
    """What --down must give back as it was. Left out: the mounts systemd makes
    under /run/credentials/ for a service while it runs with credentials (one for
    systemd-tmpfiles-setup.service appeared by itself between two snapshots)."""
    return {
        "units": ct.sh("systemctl list-units --all --plain --no-legend --state=active "
                       "| awk '{print $1}' | grep -v '^run-credentials-.*\\.mount$' | sort"),
        "enabled": ct.sh("systemctl list-unit-files --plain --no-legend --state=enabled "
                         "| awk '{print $1}' | sort"),
        "passwd": ct.sh("cut -d: -f1 /etc/passwd | sort"),
        "group": ct.sh("sort /etc/group"),
        "files": ct.sh("find /usr/local /etc/systemd/system /etc/kumo /var/lib/kumo "
                       "2>/dev/null | sort"),
        "domains": ct.sh("virsh -q -c qemu:///system list --all --name 2>/dev/null || true"),
    }


def all_in_one(ct, *args, env=()):
    # The kernel package the image was built from: the container's apt lists (no
    # network, maybe older) need not name it.
    deb = sorted(glob.glob(os.path.join(KERNEL_DEBS, "linux-image-*.deb")))[-1]
    r = ct.run("env", "KUMO_TEST_IMAGE_DIR=" + CT_IMAGE_DIR, "KUMO_KERNEL_DEB=" + deb, *env,
               SRC + "/tools/all-in-one", *args, check=False, timeout=900)
    if r.returncode != 0:
        print(r.stdout, r.stderr)   # pytest shortens the assertion's text
    assert r.returncode == 0, (r.stdout[-4000:], r.stderr[-4000:])
    print(r.stdout)
    return r.stdout


CLOUDS_YAML = "/root/.config/openstack/clouds.yaml"
SECRETS = "/var/lib/kumo-aio/secrets"
KEY = "/var/lib/kumo-aio/demo-key"
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]

# Inside the container (its network is its own): demo logs in with root's clouds.yaml,
# as keystoneauth does, and lists its servers at the catalog's compute endpoint.
DEMO_SERVERS = r"""
import json, urllib.request, yaml
a = yaml.safe_load(open("%s"))["clouds"]["kumo"]["auth"]
body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": a["username"], "password": a["password"],
    "domain": {"name": a["user_domain_name"]}}}},
    "scope": {"project": {"name": a["project_name"],
                          "domain": {"name": a["project_domain_name"]}}}}}
req = urllib.request.Request(a["auth_url"] + "/auth/tokens", data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req) as resp:
    token, tok = resp.headers["X-Subject-Token"], json.load(resp)["token"]
compute = [e["url"] for s in tok["catalog"] if s["type"] == "compute"
           for e in s["endpoints"] if e["interface"] == "public"][0]
req = urllib.request.Request(compute + "/servers", headers={"X-Auth-Token": token})
with urllib.request.urlopen(req) as resp:
    servers = json.load(resp)["servers"]
print(json.dumps({"project": tok["project"]["name"],
                  "roles": sorted(r["name"] for r in tok["roles"]),
                  "servers": sorted(s["id"] for s in servers)}))
""" % CLOUDS_YAML


def rabbit_users(ct):
    # As rabbitmq: as root, Debian's rabbitmqctl goes through su, whose PAM session
    # would start a user manager (user@.service) that outlives the call.
    return ct.sh("runuser -u rabbitmq -- rabbitmqctl -q list_users "
                 "| awk 'NR > 1 { print $1 }'").split()


def check_login_cloud(ct, out, sids):
    """The clouds.yaml, the keystone config, RabbitMQ's user and the passwords."""
    assert ct.sh("stat -c '%%a %%U' %s" % CLOUDS_YAML).split() == ["600", "root"]
    clouds = ct.sh("cat " + CLOUDS_YAML)
    assert re.findall(r"^  (\S+):$", clouds, re.M) == ["kumo", "kumo-admin"], clouds
    demo = json.loads(ct.run("/usr/bin/python3", "-c", DEMO_SERVERS).stdout)
    assert demo["project"] == "demo" and "admin" not in demo["roles"], demo
    assert demo["servers"] == sorted(sids), demo
    conf = ct.sh("cat /etc/kumo/kumo.conf")
    url = re.search(r"^transport_url = (\S+)$", conf, re.M).group(1)
    assert url.startswith("rabbit://kumo:") and "guest" not in url
    assert re.search(r"^auth_strategy = keystone$", conf, re.M)
    assert re.search(r"^username = kumo-compute$", conf, re.M)
    assert ct.sh("stat -c '%a %U:%G' /etc/kumo/kumo.conf").split() == ["640", "root:kumo"]
    assert ct.sh("stat -c '%a %U:%G' /etc/kumo/fernet-keys /etc/kumo/fernet-keys/*"
                 ).split() == ["700", "kumo:kumo", "600", "kumo:kumo", "600", "kumo:kumo"]
    assert "kumo" in rabbit_users(ct)
    assert "service user kumo-compute: logged in" in ct.journal("kumo-compute.service")
    assert ct.sh("stat -c %a " + SECRETS).strip() == "600"
    secrets = ct.sh("cat " + SECRETS)
    passwords = [ln.split("=", 1)[1] for ln in secrets.split()]
    assert len(passwords) == 4
    journal = ct.sh("journalctl -b --no-pager -o cat")
    for p in passwords:
        assert p not in out and p not in journal
    return secrets


def booted(ct, out, key=KEY, cli="kumo"):
    """The server's id, after logging in to it with the ssh command the output gives."""
    m = re.search(r"^server (\S+): ([0-9a-f-]{36})$", out, re.M)
    assert m, out[-3000:]
    name, sid = m.groups()
    assert re.search(r"^KUMO-GUEST-UP %s\s*$" % sid, out, re.M), out[-3000:]
    # The three ways in, printed; the first one used (inside the container).
    m = re.search(r"^  ssh -i %s root@(10\.99\.0\.\d+)$" % key, out, re.M)
    assert m, out[-3000:]
    addr = m.group(1)
    assert "  %s --os-cloud kumo server ssh --identity %s %s\n" % (cli, key, name) in out
    assert "  openstack --os-cloud kumo server ssh --private %s -- -i %s -l root\n" % \
        (name, key) in out
    r = ct.run("ssh", "-i", key, *SSH_OPTS, "root@" + addr, "hostname", timeout=60)
    assert r.stdout.strip() == name, (r.stdout, r.stderr)
    return sid


def test_all_in_one_under_systemd_boots_a_vm_and_down_restores(aio):
    ct = aio
    before = snapshot(ct)
    assert "kumo" not in before["passwd"].split()

    out = all_in_one(ct)
    assert "installing packages (systemd mode)" in out
    sid = booted(ct, out)
    # The daemons run as units, as the kumo user, and the guest's qemu as libvirt-qemu.
    kumo_uid = ct.sh("id -u kumo").strip()
    for d in ("kumo-api", "kumo-scheduler", "kumo-compute"):
        p = ct.show(d + ".service", "ActiveState", "SubState", "MainPID", "NRestarts")
        assert (p["ActiveState"], p["SubState"], p["NRestarts"]) == \
            ("active", "running", "0"), (d, p)
        assert ct.sh("stat -c %%u /proc/%s" % p["MainPID"]).strip() == kumo_uid
    for u in ("rabbitmq-server.service", "libvirtd.service", "virtlogd.service"):
        assert ct.state(u) == "active/running", u
    assert ct.sh("systemctl is-enabled kumo.target").strip() == "enabled"
    assert "kumo-" + sid in ct.sh("virsh -q -c qemu:///system list --name")
    qemu = ct.sh("ps -o user= -C qemu-system-x86_64").split()
    assert qemu and set(qemu) == {"libvirt-qemu"}, qemu
    assert sid in ct.journal("kumo-compute.service")
    # The user kumo may use libvirt (polkit, the group libvirt), kumo-api may not reach it.
    for d, rc in (("kumo-compute", 0), ("kumo-api", 1), ("kumo-scheduler", 1)):
        pid = ct.show(d + ".service", "MainPID")["MainPID"]
        r = ct.run("nsenter", "-t", pid, "-m", "setpriv", "--reuid=kumo", "--regid=kumo",
                   "--init-groups", "test", "-S", "/run/libvirt/libvirt-sock", check=False)
        assert r.returncode == rc, (d, r)

    secrets = check_login_cloud(ct, out, [sid])

    # Idempotent: a second run boots one more server beside the first, with the same
    # passwords.
    out = all_in_one(ct)
    sid2 = booted(ct, out)
    assert sid2 != sid
    assert sorted(ct.sh("virsh -q -c qemu:///system list --name").split()) == \
        sorted(["kumo-" + sid, "kumo-" + sid2])
    assert check_login_cloud(ct, out, [sid, sid2]) == secrets

    down = all_in_one(ct, "--down")
    assert "uninstalling kumo" in down
    assert "removed the RabbitMQ user kumo" in down
    assert ct.run("test", "-e", CLOUDS_YAML, check=False).returncode == 1
    assert ct.run("test", "-e", SECRETS, check=False).returncode == 1
    assert ct.run("test", "-e", KEY, check=False).returncode == 1
    netd_gone(ct, "/var/lib/kumo-netd")
    after = snapshot(ct)
    for k in before:
        b, a = before[k].splitlines(), after[k].splitlines()
        assert a == b, (k, "gone: %s" % sorted(set(b) - set(a)),
                        "new: %s" % sorted(set(a) - set(b)), down)
    # Idempotent: nothing left to undo.
    all_in_one(ct, "--down")
    assert snapshot(ct) == before
    # The broker (stopped by --down, as the all-in-one started it) has no user kumo.
    ct.run("systemctl", "start", "rabbitmq-server.service", timeout=180)
    assert "kumo" not in rabbit_users(ct)


def netd_gone(ct, state_dir):
    """kumo-netd --teardown ran: no bridge, no nftables table, no leases."""
    assert ct.run("test", "-e", "/sys/class/net/kumobr0", check=False).returncode == 1
    assert ct.run("nft", "list", "table", "inet", "kumo_kumobr0", check=False).returncode != 0
    assert ct.run("test", "-e", state_dir, check=False).returncode == 1


def test_all_in_one_in_background_mode_runs_kumo_netd(aio):
    """KUMO_AIO_MODE=background in the same container (its network is its own): kumo-netd
    runs as a supervised root process beside the three daemons, the guest answers SSH
    on the bridge, and --down stops kumo-netd and tears its bridge and firewall down."""
    ct = aio
    d = "/var/lib/kumo-aio-bg"
    env = ("KUMO_AIO_MODE=background", "KUMO_AIO_DIR=" + d)
    out = all_in_one(ct, env=env)
    assert "installing packages (background mode)" in out
    booted(ct, out, key=d + "/demo-key", cli=SRC + "/build/kumo")
    netd = ct.sh("cat %s/kumo-netd.pid" % d).strip()
    assert ct.sh("stat -c %%u /proc/%s" % netd).strip() == "0"
    assert ct.run("test", "-e", "/sys/class/net/kumobr0", check=False).returncode == 0
    all_in_one(ct, "--down", env=env)
    assert ct.run("test", "-e", "/proc/" + netd, check=False).returncode == 1
    netd_gone(ct, d + "/state/netd")
    all_in_one(ct, "--down", "--purge", env=env)
    assert ct.run("test", "-e", d, check=False).returncode == 1
