"""The README's first command: tools/all-in-one on this machine, in its background
mode (the daemons as supervised processes; the mode where PID 1 is not systemd,
forced so that a systemd host is not installed into: tests/systemd/test_all_in_one
covers the systemd mode) boots a real VM as the user demo and prints its console
marker; the cloud is one people log in to (KUMO_AIO_VIF=user: a test must not
change this machine's network, so no kumo-netd and no bridge kumobr0 here, the guest
on QEMU's user-mode NIC and no SSH into it: tests/systemd/test_all_in_one logs in): the clouds.yaml (in a HOME of the test's
own, beside a cloud of the user's that must survive) logs demo in, and demo's server
list shows the server; the daemons use RabbitMQ's user kumo, not guest; no password
is printed. `--down` deletes its servers and leaves nothing of its own running
(daemons, domains, the RabbitMQ user it made, and libvirt when the script was the
one to start it), and takes its clouds out of the clouds.yaml."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import urllib.request

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AIO = os.path.join(REPO, "tools", "all-in-one")
sys.path.insert(0, os.path.join(REPO, "tests", "system"))
from kumocloud import free_port  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installs packages, runs libvirt")


def domains():
    r = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"],
                       capture_output=True, text=True)
    return [d for d in r.stdout.split() if d.startswith("kumo-")] if r.returncode == 0 else []


def rabbit_users():
    r = subprocess.run(["rabbitmqctl", "-q", "list_users"], capture_output=True,
                       text=True, check=True)
    return [ln.split()[0] for ln in r.stdout.splitlines()[1:] if ln.strip()]


def log_in(cloud):
    """A password login with a clouds.yaml entry, as keystoneauth does it:
    (token, the token's body)."""
    a = cloud["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": a["username"], "password": a["password"],
        "domain": {"name": a["user_domain_name"]}}}},
        "scope": {"project": {"name": a["project_name"],
                              "domain": {"name": a["project_domain_name"]}}}}}
    req = urllib.request.Request(a["auth_url"] + "/auth/tokens", method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.headers["X-Subject-Token"], json.load(resp)


def get(url, token):
    req = urllib.request.Request(url, headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def test_all_in_one_boots_a_vm_and_down_cleans_up():
    d = tempfile.mkdtemp(prefix="kumo-aio-", dir="/var/tmp")
    home = os.path.join(d, "home")
    clouds_yaml = os.path.join(home, ".config", "openstack", "clouds.yaml")
    os.makedirs(os.path.dirname(clouds_yaml))
    theirs = {"clouds": {"theirs": {"auth": {"auth_url": "http://192.0.2.1/v3"}}}}
    with open(clouds_yaml, "w") as f:
        yaml.safe_dump(theirs, f)
    env = dict(os.environ, KUMO_AIO_DIR=d, KUMO_AIO_PORT=str(free_port()),
               KUMO_AIO_MODE="background", KUMO_AIO_VIF="user", HOME=home)
    env.pop("SUDO_USER", None)
    env.setdefault("KUMO_TEST_IMAGE_DIR", "/var/tmp/kumo-test-image")
    libvirt_was_up = subprocess.run([os.path.join(REPO, "tools", "libvirt"), "status"],
                                    capture_output=True).returncode == 0
    assert "kumo" not in rabbit_users(), "a RabbitMQ user kumo exists already"
    try:
        r = subprocess.run([AIO], env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        m = re.search(r"^server \S+: ([0-9a-f-]{36})$", r.stdout, re.M)
        assert m, r.stdout[-2000:]
        sid = m.group(1)
        assert "KUMO-GUEST-UP %s" % sid in r.stdout
        pids = [int(open(os.path.join(d, f)).read()) for f in os.listdir(d)
                if f.endswith(".pid")]
        assert len(pids) == 3
        # No kumo-netd, so no bridge; the key pair made all the same, and why there is
        # no ssh command said.
        assert not os.path.exists(os.path.join(d, "kumo-netd.log"))
        assert "no SSH" in r.stdout and "ssh -i" not in r.stdout
        key = os.path.join(d, "demo-key")
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        assert open(key + ".pub").read().startswith("ssh-ed25519 ")
        assert "kumo-%s" % sid in domains()

        # The clouds.yaml: 0600, the user's cloud kept, demo and admin beside it.
        assert stat.S_IMODE(os.stat(clouds_yaml).st_mode) == 0o600
        with open(clouds_yaml) as f:
            clouds = yaml.safe_load(f)["clouds"]
        assert sorted(clouds) == ["kumo", "kumo-admin", "theirs"]
        for name, user in (("kumo", "demo"), ("kumo-admin", "admin")):
            c = clouds[name]
            assert c["auth"]["auth_url"] == "http://127.0.0.1:%s/identity/v3" % \
                env["KUMO_AIO_PORT"]
            assert (c["auth"]["username"], c["auth"]["project_name"]) == (user, user)
            assert (c["region_name"], c["identity_api_version"]) == ("RegionOne", 3)
        # demo logs in with it, and the catalog's compute lists demo's server.
        token, body = log_in(clouds["kumo"])
        roles = [r["name"] for r in body["token"]["roles"]]
        assert "member" in roles and "admin" not in roles, roles
        compute = [e["url"] for s in body["token"]["catalog"] if s["type"] == "compute"
                   for e in s["endpoints"] if e["interface"] == "public"][0]
        servers = get(compute + "/servers/detail", token)["servers"]
        assert [(s["id"], s["tenant_id"]) for s in servers if s["id"] == sid] == \
            [(sid, body["token"]["project"]["id"])]
        assert body["token"]["project"]["name"] == "demo"

        # The compute fetched the image with its service user's token.
        assert "service user kumo-compute: logged in" in \
            open(os.path.join(d, "kumo-compute.log")).read()

        # RabbitMQ's user kumo, not guest; kumo.conf the only place of its password.
        conf = os.path.join(d, "kumo.conf")
        assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
        text = open(conf).read()
        url = re.search(r"^transport_url = (\S+)$", text, re.M).group(1)
        assert url.startswith("rabbit://kumo:") and "guest" not in url
        assert re.search(r"^auth_strategy = keystone$", text, re.M)
        assert "kumo" in rabbit_users()
        # The passwords: in the 0600 secrets file, never printed or logged.
        secrets = os.path.join(d, "secrets")
        assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o600
        passwords = [ln.split("=", 1)[1] for ln in open(secrets).read().split()]
        assert len(passwords) == 4 and all(len(p) >= 24 for p in passwords)
        logs = [open(os.path.join(d, f)).read() for f in os.listdir(d)
                if f.endswith(".log")]
        for p in passwords:
            assert p not in r.stdout and p not in r.stderr
            assert not [t for t in logs if p in t]
    finally:
        down = subprocess.run([AIO, "--down"], env=env, capture_output=True, text=True,
                              timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "kumo" not in rabbit_users()
    with open(clouds_yaml) as f:
        assert yaml.safe_load(f) == theirs
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or \
            "zombie" in open("/proc/%d/status" % pid).read().lower()
    assert not [f for f in os.listdir(d) if f.endswith(".pid")]
    if libvirt_was_up:
        assert not domains()
    else:
        assert subprocess.run([os.path.join(REPO, "tools", "libvirt"), "status"],
                              capture_output=True).returncode != 0
    shutil.rmtree(d, ignore_errors=True)
