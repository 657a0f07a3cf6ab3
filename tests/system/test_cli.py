"""kumo's own CLI (build/kumo) against a live kumo-api: the same scenarios as
test_openstackclient, its -f json output checked field by field, and its
exit codes (0 ok, 2 usage, 3 not found, 4 conflict, 5 server error,
6 denied, 7 bad request)."""
import json
import os
import subprocess

import pytest

from kumocloud import BUILD

PUBKEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWYOKgQWdjz4kjtLXl/rfxc6xfj/"
          "dZVe8je96Pcxtue kumo-test")
PUBKEY_MD5 = "4f:23:e3:26:06:ce:42:c1:10:05:e4:da:1d:4f:a2:bf"
# More key types, with what `ssh-keygen -l -E md5` prints for them.
OTHER_KEYS = [
    ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDys6yd4GyCccjP/m4XoBDNk3tNyzLfmuYmBxq2"
     "+7uylR7YmH9KZJ9a+S47WVTea8OVMGgJr/uUWJ6qVI3heV4xszn2Erfvkm4nQUyu4nNtkOx+9a1x"
     "Yy2/qqI6SMuES0pORWOjdwxx0kVf/s+8gCXthzh72KXHesz3bc9aArN+pQ== rsa-test",
     "0a:81:67:49:11:b9:ca:a8:56:13:e6:bb:7a:cb:c3:6a"),
    ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA+8"
     "llyZd7YfKWGT2MkfHtX1YzWpbvGzQKY67MRP1FzJBlkcWx0AkG9vDJDTbm3T1iBNersporGLxF6N"
     "wzILw9k= ec-test",
     "0e:d4:2a:d9:fb:63:e6:e0:1f:4b:b7:f8:90:af:99:d5"),
]


class Kumo:
    def __init__(self, cloud):
        self.cloud = cloud

    def run(self, *args, token="admin:admin", fmt="json"):
        cmd = [os.path.join(BUILD, "kumo"), "--url", self.cloud.url, "--token", token,
               "-f", fmt, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env=self.cloud.env)

    def __call__(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, "kumo %s: rc %d\n%s" % (" ".join(args), p.returncode, p.stderr)
        return json.loads(p.stdout) if kw.get("fmt", "json") == "json" and p.stdout.strip() else p.stdout

    def rc(self, *args, **kw):
        p = self.run(*args, **kw)
        return p.returncode, p.stderr


@pytest.fixture(scope="module")
def kumo(cloud):
    return Kumo(cloud)


def by(rows, key, value):
    found = [r for r in rows if r[key] == value]
    assert len(found) == 1, (key, value, rows)
    return found[0]


def test_usage_and_errors(kumo):
    assert kumo.rc("server")[0] == 2
    assert kumo.rc("keypair", "create")[0] == 2
    assert kumo.rc("keypair", "create", "--public-key", "a", "--private-key", "b", "k")[0] == 2
    assert kumo.rc("flavor", "create", "--ram", "x", "f")[0] == 2
    rc, err = kumo.rc("server", "show", "no-such-server")
    assert rc == 3 and "not found" in err
    rc, err = kumo.rc("hypervisor", "list", token="demo:demo")
    assert rc == 6 and "os_compute_api:os-hypervisors:list-detail" in err
    rc, err = kumo.rc("keypair", "show", "nope")
    assert (rc, err.strip()) == (3, "kumo: Keypair nope not found for user admin (HTTP 404)")


def test_flavors(kumo):
    tiny = by(kumo("flavor", "list"), "name", "m1.tiny")
    assert (tiny["id"], tiny["ram"], tiny["disk"], tiny["vcpus"]) == ("1", 512, 1, 1)
    f = kumo("flavor", "create", "--ram", "1024", "--disk", "10", "--vcpus", "2",
             "--id", "cli-1", "m1.cli")
    assert (f["id"], f["name"], f["ram"], f["disk"], f["vcpus"]) == ("cli-1", "m1.cli", 1024, 10, 2)
    assert kumo("flavor", "show", "m1.cli")["id"] == "cli-1"
    rc, err = kumo.rc("flavor", "create", "--ram", "1", "--disk", "1", "--vcpus", "1", "m1.cli")
    assert rc == 4 and "Flavor with name m1.cli already exists." in err
    assert kumo("flavor", "delete", "m1.cli") == ""
    assert kumo.rc("flavor", "show", "m1.cli")[0] == 3


def test_hosts(kumo):
    hv = kumo("hypervisor", "list")
    assert sorted(h["hypervisor_hostname"] for h in hv) == ["compute1", "compute2"]
    assert {h["state"] for h in hv} == {"up"}
    svcs = kumo("service", "list")
    assert sorted(s["binary"] for s in svcs) == ["kumo-compute", "kumo-compute",
                                                 "kumo-conductor", "kumo-scheduler"]


def test_keypairs_and_limits(kumo, tmp_path):
    key = tmp_path / "k.pub"
    key.write_text(PUBKEY + "\n")
    k = kumo("keypair", "create", "--public-key", str(key), "cli-kp")
    assert (k["name"], k["fingerprint"], k["user_id"]) == ("cli-kp", PUBKEY_MD5, "admin")
    assert by(kumo("keypair", "list"), "name", "cli-kp")["fingerprint"] == PUBKEY_MD5
    k = kumo("keypair", "show", "cli-kp")
    assert (k["public_key"], k["deleted"]) == (PUBKEY + "\n", False)
    rc, err = kumo.rc("keypair", "create", "--public-key", str(key), "cli-kp")
    assert rc == 4 and "Key pair 'cli-kp' already exists." in err
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-ed25519 AAAAnotakey\n")
    rc, err = kumo.rc("keypair", "create", "--public-key", str(bad), "cli-bad")
    assert rc == 7 and "Keypair data is invalid: failed to generate fingerprint" in err
    assert kumo("keypair", "delete", "cli-kp") == ""
    assert kumo.rc("keypair", "delete", "cli-kp")[0] == 3
    for i, (pub, md5) in enumerate(OTHER_KEYS):
        key.write_text(pub)
        assert kumo("keypair", "create", "--public-key", str(key), "kt-%d" % i)["fingerprint"] == md5
        assert kumo("keypair", "delete", "kt-%d" % i) == ""

    lim = kumo("limits", "show", token="u:cli-limits")
    assert (lim["maxTotalInstances"], lim["maxTotalCores"], lim["maxTotalRAMSize"]) == (10, 20, 51200)
    assert (lim["totalInstancesUsed"], lim["totalCoresUsed"], lim["totalRAMUsed"]) == (0, 0, 0)


def ssh_keygen(*args):
    p = subprocess.run(["ssh-keygen", *args], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


@pytest.mark.skipif(not os.path.exists("/usr/bin/ssh-keygen"), reason="needs openssh-client")
def test_keypair_generated(kumo, tmp_path):
    """Without --public-key the server generates the pair: the private key is
    printed (PEM), or with -f json given in the object, or saved with
    --private-key to a new 0600 file; an existing file is never overwritten."""
    pem = kumo("keypair", "create", "cli-gen", fmt="table")
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    priv = tmp_path / "cli-gen.pem"
    priv.write_text(pem)
    priv.chmod(0o600)
    k = kumo("keypair", "show", "cli-gen")
    assert k["public_key"].endswith(" Generated-by-Nova")
    assert ssh_keygen("-y", "-f", str(priv))[:2] == k["public_key"].split()[:2]
    assert ssh_keygen("-l", "-E", "md5", "-f", str(priv))[1] == "MD5:" + k["fingerprint"]

    k = kumo("keypair", "create", "cli-gen-json")
    assert k["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert (k["name"], k["user_id"]) == ("cli-gen-json", "admin")

    saved = tmp_path / "saved.pem"
    k = kumo("keypair", "create", "--private-key", str(saved), "cli-gen-file")
    assert "private_key" not in k and k["name"] == "cli-gen-file"
    assert os.stat(saved).st_mode & 0o777 == 0o600
    assert ssh_keygen("-l", "-E", "md5", "-f", str(saved))[1] == "MD5:" + k["fingerprint"]
    # an existing file is kept, and nothing is created on the server
    rc, err = kumo.rc("keypair", "create", "--private-key", str(saved), "cli-gen-again")
    assert rc == 1 and "File exists" in err
    assert kumo.rc("keypair", "show", "cli-gen-again")[0] == 3
    # a refused request leaves no file behind
    new = tmp_path / "new.pem"
    rc, err = kumo.rc("keypair", "create", "--private-key", str(new), "cli-gen")
    assert rc == 4 and "Key pair 'cli-gen' already exists." in err
    assert not new.exists()
    for name in ("cli-gen", "cli-gen-json", "cli-gen-file"):
        assert kumo("keypair", "delete", name) == ""


def test_server_lifecycle(kumo, cloud, image, tmp_path):
    key = tmp_path / "k.pub"
    key.write_text(PUBKEY + "\n")
    kumo("keypair", "create", "--public-key", str(key), "cli-vm-key")
    s = kumo("server", "create", "--flavor", "m1.tiny", "--image", image,
             "--key-name", "cli-vm-key", "--wait", "cli-vm")
    sid = s["id"]
    assert (s["name"], s["status"], s["key_name"]) == ("cli-vm", "ACTIVE", "cli-vm-key")
    assert (s["flavor"]["id"], s["image"]["id"]) == ("1", image)
    row = by(kumo("server", "list"), "id", sid)
    assert row["OS-EXT-SRV-ATTR:host"] in ("compute1", "compute2")
    assert kumo("server", "show", "cli-vm")["id"] == sid

    assert kumo("server", "reboot", "cli-vm") == ""
    cloud.wait_status(sid, "ACTIVE")
    assert kumo("server", "stop", "cli-vm") == ""
    cloud.wait_status(sid, "SHUTOFF")
    rc, err = kumo.rc("server", "stop", "cli-vm")
    assert rc == 4 and "while it is in vm_state stopped" in err
    assert kumo("server", "start", sid) == ""
    cloud.wait_status(sid, "ACTIVE")
    assert sid in kumo("console", "log", "--lines", "5", "cli-vm", fmt="table")
    events = kumo("server", "events", "cli-vm")
    assert [e["action"] for e in events] == ["start", "stop", "reboot", "create"]
    assert all(e["request_id"].startswith("req-") for e in events)
    steps = kumo("server", "events", "cli-vm", events[-1]["request_id"])
    assert [(e["event"], e["result"], e["host"]) for e in steps] == [
        ("compute__do_build_and_run_instance", "Success", s["OS-EXT-SRV-ATTR:host"])]
    table = kumo("server", "events", sid, events[0]["request_id"], fmt="table")
    assert "compute_start_instance" in table and "Success" in table
    rc, err = kumo.rc("server", "events", "cli-vm", "req-nope")
    assert rc == 3 and "Action for request_id req-nope" in err

    assert kumo("server", "delete", "cli-vm", "--wait") == ""
    assert kumo.rc("server", "show", sid)[0] == 3


def test_quota_exceeded_is_denied(kumo, cloud):
    token = "u:cli-quota"
    r = cloud.post("/v2/images", {"name": "q", "disk_format": "qcow2",
                                  "container_format": "bare"}, token=token)
    assert r.status == 201, r
    r = cloud.request("PUT", "/v2.1/os-quota-sets/cli-quota",
                      body={"quota_set": {"cores": 1}})
    assert r.status == 200, r
    rc, err = kumo.rc("server", "create", "--flavor", "m1.medium", "--image", "q", "big",
                      token=token)
    assert rc == 6
    assert err.strip() == ("kumo: Quota exceeded for cores: Requested 2, but already "
                           "used 0 of 1 cores (HTTP 403)")
    qs = cloud.get("/v2.1/os-quota-sets/cli-quota").json["quota_set"]
    assert (qs["id"], qs["cores"], qs["instances"], qs["ram"], qs["key_pairs"]) == (
        "cli-quota", 1, 10, 51200, 100)
    qs = cloud.get("/v2.1/os-quota-sets/cli-quota/detail").json["quota_set"]
    assert qs["cores"] == {"in_use": 0, "limit": 1, "reserved": 0}
    qs = cloud.get("/v2.1/os-quota-sets/cli-quota/defaults").json["quota_set"]
    assert (qs["cores"], qs["instances"]) == (20, 10)
    r = cloud.get("/v2.1/os-quota-sets/admin", token=token)
    assert r.status == 403
    r = cloud.request("PUT", "/v2.1/os-quota-sets/cli-quota", token=token,
                      body={"quota_set": {"cores": 100}})
    assert r.status == 403
    r = cloud.request("PUT", "/v2.1/os-quota-sets/cli-quota",
                      body={"quota_set": {"cores": -2}})
    assert r.status == 400
    r = cloud.request("PUT", "/v2.1/os-quota-sets/cli-quota",
                      body={"quota_set": {"gpus": 1}})
    assert r.status == 400 and "'gpus' was unexpected" in r.json["badRequest"]["message"]
    assert cloud.delete("/v2.1/os-quota-sets/cli-quota").status == 202
    assert cloud.get("/v2.1/os-quota-sets/cli-quota").json["quota_set"]["cores"] == 20


def test_list_sort_and_links(kumo, cloud, image):
    """sort_key/sort_dir and the next link (the clients do not send these)."""
    ids = [cloud.boot(n, image) for n in ("sort-b", "sort-c", "sort-a")]
    q = "/v2.1/servers?name=%5Esort-&sort_key=display_name&sort_dir=asc"
    r = cloud.get(q)
    assert [s["name"] for s in r.json["servers"]] == ["sort-a", "sort-b", "sort-c"]
    r = cloud.get(q + "&limit=2")
    assert [s["name"] for s in r.json["servers"]] == ["sort-a", "sort-b"]
    nxt = r.json["servers_links"][0]["href"]
    assert nxt.startswith(cloud.url + "/v2.1/servers?limit=2&name=%5Esort-")
    assert "sort_key=display_name" in nxt and nxt.endswith("&marker=%s" % ids[0])
    r = cloud.get(nxt[len(cloud.url):])
    assert [s["name"] for s in r.json["servers"]] == ["sort-c"]
    assert "servers_links" not in r.json
    r = cloud.get("/v2.1/servers?name=%5Esort-&sort_key=display_name")  # desc
    assert [s["name"] for s in r.json["servers"]] == ["sort-c", "sort-b", "sort-a"]
    r = cloud.get("/v2.1/servers?sort_key=bogus")
    assert r.status == 400 and "sort_key. Value: bogus." in r.json["badRequest"]["message"]
    r = cloud.get("/v2.1/servers?sort_key=host", token="demo:demo")
    assert r.status == 403
    assert r.json["forbidden"]["message"] == "Only administrators can sort servers by host"
    r = cloud.get("/v2.1/servers?changes-since=yesterday")
    assert r.status == 400
    for sid in ids:
        assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    for sid in ids:
        cloud.wait_gone(sid)
