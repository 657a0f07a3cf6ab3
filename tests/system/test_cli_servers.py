"""`kumo server ...` shows what a user needs to reach a server, against a real
cloud on the fake driver: server list's Networks, Image and Flavor names;
server show as openstackclient formats it; server ssh's argv (a fake ssh
that records it, through $KUMO_SSH); server create --nic, --user-data,
--config-drive, --property; network list; messages in the singular."""
import base64
import json
import os
import subprocess

import pytest

from kumocloud import BUILD
from test_cli import Kumo

FAKE_SSH = """#!/usr/bin/python3
import json, os, sys
with open(os.environ["SSH_ARGV_FILE"], "w") as f:
    json.dump(sys.argv[1:], f)
"""


@pytest.fixture(scope="module")
def kumo(cloud):
    return Kumo(cloud)


def table(text):
    """A table's rows as lists of cells (the header first)."""
    return [[c.strip() for c in ln.split("|")[1:-1]]
            for ln in text.splitlines() if ln.startswith("|")]


def fields(text):
    """server show's Field/Value table as a dict."""
    return {r[0]: r[1] for r in table(text)[1:]}


def addrs(server):
    return {label: [a["addr"] for a in lst] for label, lst in server["addresses"].items()}


def boot(kumo, name, *args):
    s = kumo("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
             "--wait", *args, name)
    assert s["status"] == "ACTIVE", s
    return s


@pytest.fixture(scope="module")
def web(kumo, cloud, image):
    s = boot(kumo, "cli-web", "--property", "role=web", "--property", "empty=")
    yield cloud.server(s["id"])
    cloud.delete("/v2.1/servers/%s" % s["id"])
    cloud.wait_gone(s["id"])


def test_server_list_networks_image_flavor(kumo, cloud, web):
    (addr,) = addrs(web)["private"]
    rows = table(kumo("server", "list", fmt="table"))
    assert rows[0] == ["ID", "Name", "Status", "Networks", "Image", "Flavor", "Host"]
    (row,) = [r for r in rows if r[0] == web["id"]]
    assert row[1:6] == ["cli-web", "ACTIVE", "private=" + addr, "cirros", "m1.tiny"]
    assert row[6] == web["OS-EXT-SRV-ATTR:host"]
    # -f json: the API's rows as they are
    (raw,) = [r for r in kumo("server", "list") if r["id"] == web["id"]]
    assert raw["addresses"] == web["addresses"] and raw["flavor"]["id"] == "1"
    # a non-admin's list has no Host column
    assert table(kumo("server", "list", fmt="table", token="u:cli-nohost"))[0] == [
        "ID", "Name", "Status", "Networks", "Image", "Flavor"]


def test_server_list_private_flavor_by_name(kumo, cloud, image):
    r = cloud.post("/v2.1/flavors", {"flavor": {
        "name": "cli.private", "ram": 64, "disk": 1, "vcpus": 1, "id": "cli-priv",
        "os-flavor-access:is_public": False}})
    assert r.status == 200, r
    sid = cloud.boot("cli-priv-vm", image, flavor="cli-priv")
    cloud.wait_status(sid, "ACTIVE")
    (row,) = [r for r in table(kumo("server", "list", fmt="table")) if r[0] == sid]
    assert row[5] == "cli.private"
    assert fields(kumo("server", "show", sid, fmt="table"))["flavor"] == "cli.private (cli-priv)"
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)


def test_server_show_formatted(kumo, web, image):
    (addr,) = addrs(web)["private"]
    f = fields(kumo("server", "show", "cli-web", fmt="table"))
    assert "links" not in f
    assert f["addresses"] == "private=" + addr
    assert f["flavor"] == "m1.tiny (1)"
    assert f["image"] == "cirros (%s)" % image
    assert f["metadata"] == "empty='', role='web'"
    # kumo's views have no security_groups yet; when present, osc's format
    assert f.get("security_groups", "name='default'") == "name='default'"
    assert not any(v.startswith(("{", "[")) for k, v in f.items()
                   if k in ("addresses", "flavor", "image", "metadata"))
    # -f json unchanged
    j = kumo("server", "show", "cli-web")
    assert j["links"] and j["metadata"] == {"role": "web", "empty": ""}
    assert j["flavor"]["id"] == "1" and j["addresses"] == web["addresses"]


def test_hostile_text_stays_escaped(kumo, cloud, image):
    """Metadata and an image name with terminal escapes (the name written
    into the database, as the API refuses it) are shown escaped."""
    sid = cloud.boot("cli-hostile", image, metadata={"k": "a\x1b[2Jb\u202e"})
    cloud.wait_status(sid, "ACTIVE")
    iid = cloud.create_image("placeholder")
    bad = "x\x1b[1Ay\u202ez"
    sid2 = cloud.boot("cli-hostile-img", iid)
    cloud.wait_status(sid2, "ACTIVE")
    subprocess.run(["sqlite3", os.path.join(cloud.dir, "kumo.db"),
                    "UPDATE images SET name = '%s' WHERE id = '%s'" % (bad, iid)],
                   check=True)
    text = kumo("server", "show", sid, fmt="table")
    assert fields(text)["metadata"] == "k='a\\x1b[2Jb\\u202e'"
    listing = kumo("server", "list", fmt="table")
    text2 = kumo("server", "show", sid2, fmt="table")
    assert fields(text2)["image"] == "x\\x1b[1Ay\\u202ez (%s)" % iid
    (row,) = [r for r in table(listing) if r[0] == sid2]
    assert row[4] == "x\\x1b[1Ay\\u202ez"
    for t in (text, text2, listing):
        assert not any(ch in t for ch in "\x1b\u202e")
    for s in (sid, sid2):
        cloud.delete("/v2.1/servers/%s" % s)
        cloud.wait_gone(s)


def test_not_found_singular(kumo, image):
    assert kumo.rc("server", "show", "nope") == (3, "kumo: server 'nope' not found\n")
    assert kumo.rc("image", "show", "nope") == (3, "kumo: image 'nope' not found\n")
    assert kumo.rc("flavor", "show", "nope") == (3, "kumo: flavor 'nope' not found\n")
    rc, err = kumo.rc("server", "create", "--flavor", "nope", "--image", "cirros", "x")
    assert (rc, err) == (3, "kumo: flavor 'nope' not found\n")


class Ssh:
    """kumo server ssh with $KUMO_SSH a script that records its argv."""

    def __init__(self, cloud, tmp_path):
        self.cloud = cloud
        self.script = tmp_path / "fake-ssh"
        self.script.write_text(FAKE_SSH)
        self.script.chmod(0o755)
        self.out = tmp_path / "argv.json"

    def __call__(self, *args):
        if self.out.exists():
            self.out.unlink()
        env = dict(self.cloud.env, KUMO_SSH=str(self.script), SSH_ARGV_FILE=str(self.out))
        p = subprocess.run([os.path.join(BUILD, "kumo"), "--url", self.cloud.url,
                            "--token", "admin:admin", "server", "ssh", *args],
                           capture_output=True, text=True, timeout=60, env=env)
        argv = json.loads(self.out.read_text()) if self.out.exists() else None
        return p.returncode, p.stderr, argv


def test_server_ssh(cloud, web, tmp_path):
    ssh = Ssh(cloud, tmp_path)
    (addr,) = addrs(web)["private"]
    assert ssh("-i", "/k/id", "cli-web") == (0, "", ["-l", "root", "-i", "/k/id", addr])
    assert ssh(web["id"]) == (0, "", ["-l", "root", addr])
    assert ssh("--login", "cirros", "--network", "private", "cli-web", "--",
               "-p", "2222") == (0, "", ["-l", "cirros", "-p", "2222", addr])
    assert ssh("nope") == (3, "kumo: server 'nope' not found\n", None)
    rc, err, argv = ssh("--network", "other", "cli-web")
    assert (rc, argv) == (1, None)
    assert err == "kumo: server 'cli-web' has no fixed IPv4 address on network 'other'\n"
    for bad in ("-oProxyCommand=x", "a b", "", "r\x1b"):
        rc, err, argv = ssh("-l", bad, "cli-web")
        assert (rc, argv) == (2, None), bad
    assert ssh("cli-web", "extra")[0] == 2
    env = dict(cloud.env, KUMO_SSH=str(tmp_path / "missing"))
    p = subprocess.run([os.path.join(BUILD, "kumo"), "--url", cloud.url, "server", "ssh",
                        "cli-web"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1 and "No such file or directory" in p.stderr


def test_nic_none_and_ssh_refused(kumo, cloud, image, tmp_path):
    s = boot(kumo, "cli-nonet", "--nic", "none")
    assert s["addresses"] == {} and cloud.server(s["id"])["addresses"] == {}
    f = fields(kumo("server", "show", s["id"], fmt="table"))
    assert f["addresses"] == ""
    rc, err, argv = Ssh(cloud, tmp_path)("cli-nonet")
    assert (rc, err, argv) == (1, "kumo: server 'cli-nonet' has no fixed IPv4 address\n", None)
    assert kumo("server", "delete", "cli-nonet", "--wait") == ""


def test_nic_net_id_and_fixed_ip(kumo, cloud, image):
    (net,) = kumo("network", "list")
    assert (net["label"], net["cidr"]) == ("private", "10.99.0.0/24")
    rows = table(kumo("network", "list", fmt="table"))
    assert rows == [["ID", "Label", "CIDR"], [net["id"], "private", "10.99.0.0/24"]]
    s = boot(kumo, "cli-fixed", "--nic", "net-id=%s,v4-fixed-ip=10.99.0.77" % net["id"])
    assert addrs(cloud.server(s["id"])) == {"private": ["10.99.0.77"]}
    s2 = boot(kumo, "cli-auto", "--nic", "auto")
    assert list(addrs(cloud.server(s2["id"]))) == ["private"]
    for sid in (s["id"], s2["id"]):
        assert kumo("server", "delete", sid, "--wait") == ""


@pytest.mark.parametrize("nics", [
    ["bogus"], ["net-id=not-a-uuid"], ["v4-fixed-ip=10.99.0.077"], ["v4-fixed-ip=-x"],
    ["none", "auto"], ["none", "v4-fixed-ip=10.99.0.9"], ["net-id="], [","],
])
def test_nic_refused(kumo, image, nics):
    args = [a for n in nics for a in ("--nic", n)]
    rc, err = kumo.rc("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                      *args, "cli-bad-nic")
    assert rc == 2, err
    assert "--nic" in err


def test_user_data_config_drive_property(kumo, cloud, image, tmp_path):
    ud = tmp_path / "ud.sh"
    ud.write_bytes(b"#!/bin/sh\necho hi \xff\n")
    s = boot(kumo, "cli-ud", "--user-data", str(ud), "--config-drive",
             "--property", "a=1", "--property", "b=x=y")
    r = cloud.get("/v2.1/servers/%s" % s["id"], headers={"OpenStack-API-Version": "compute 2.3"})
    srv = r.json["server"]
    assert srv["OS-EXT-SRV-ATTR:user_data"] == base64.b64encode(ud.read_bytes()).decode()
    assert srv["config_drive"] == "True"
    assert srv["metadata"] == {"a": "1", "b": "x=y"}
    assert fields(kumo("server", "show", "cli-ud", fmt="table"))["metadata"] == "a='1', b='x=y'"
    assert kumo("server", "delete", "cli-ud", "--wait") == ""

    big = tmp_path / "big"
    big.write_bytes(b"x" * 49150)   # 65536 characters in base64
    rc, err = kumo.rc("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                      "--user-data", str(big), "cli-big")
    assert rc == 2 and "over 65535 characters once base64-encoded" in err
    big.write_bytes(b"x" * 49149)   # 65532: accepted
    s = boot(kumo, "cli-big", "--user-data", str(big))
    assert kumo("server", "delete", s["id"], "--wait") == ""
    rc, err = kumo.rc("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                      "--user-data", str(tmp_path / "missing"), "cli-x")
    assert rc == 2 and "No such file or directory" in err
    rc, err = kumo.rc("server", "create", "--flavor", "m1.tiny", "--image", "cirros",
                      "--property", "=v", "cli-x")
    assert rc == 2 and "--property takes KEY=VALUE" in err
