"""The clients operators already use, unmodified, against kumo-api: Debian 12's
python3-openstackclient (the `openstack` command, run as a subprocess with
`-f json`) and python3-novaclient (as a library). Without Keystone they are
pointed at the endpoint with a token (nova-anchor.md section 7):

    openstack --os-auth-type admin_token --os-endpoint URL/v2.1 \\
        --os-token admin:admin ...

Each `openstack` run costs 1-2 s of Python start-up, so the scenarios are
few and each checks many fields.
"""
import json
import os
import subprocess

import pytest

from kumocloud import wait_for

OPENSTACK = "/usr/bin/openstack"
PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(
    not os.path.exists(OPENSTACK),
    reason="needs python3-openstackclient and python3-novaclient (apt-get install)")

# A fixed key: its fingerprint is what `ssh-keygen -l -E md5` prints.
PUBKEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWYOKgQWdjz4kjtLXl/rfxc6xfj/"
          "dZVe8je96Pcxtue kumo-test")
PUBKEY_MD5 = "4f:23:e3:26:06:ce:42:c1:10:05:e4:da:1d:4f:a2:bf"


def client_env(tmp):
    """No OS_* from the caller's shell; Debian's python first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PATH"] = "/usr/bin:/bin:" + env.get("PATH", "")
    env["HOME"] = str(tmp)
    env["PYTHONWARNINGS"] = "ignore"
    return env


class Osc:
    def __init__(self, cloud, tmp):
        self.cloud = cloud
        self.env = client_env(tmp)
        self.tmp = tmp

    def run(self, *args, mv=None, fmt=True, token="admin:admin", cloud_name=None):
        if cloud_name:
            cmd = [OPENSTACK, "--os-cloud", cloud_name]
        else:
            cmd = [OPENSTACK, "--os-auth-type", "admin_token",
                   "--os-endpoint", self.cloud.url + "/v2.1", "--os-token", token]
        if mv:
            cmd += ["--os-compute-api-version", mv]
        cmd += list(args)
        if fmt:
            cmd += ["-f", "json"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                              env=self.env)

    def __call__(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, "openstack %s: rc %d\n%s" % (
            " ".join(args), p.returncode, p.stderr[-3000:])
        if kw.get("fmt", True):
            return json.loads(p.stdout) if p.stdout.strip() else None
        return p.stdout

    def fails(self, *args, **kw):
        p = self.run(*args, fmt=False, **kw)
        assert p.returncode != 0, p.stdout
        return p.stderr


@pytest.fixture(scope="module")
def osc(cloud, tmp_path_factory):
    return Osc(cloud, tmp_path_factory.mktemp("osc"))


def by(rows, key, value):
    found = [r for r in rows if r[key] == value]
    assert len(found) == 1, (key, value, rows)
    return found[0]


def test_flavor_list_show_create_delete(osc):
    rows = osc("flavor", "list")
    tiny = by(rows, "Name", "m1.tiny")
    assert tiny == {"ID": "1", "Name": "m1.tiny", "RAM": 512, "Disk": 1,
                    "Ephemeral": 0, "VCPUs": 1, "Is Public": True}
    assert {r["Name"] for r in rows} >= {"m1.tiny", "m1.small", "m1.medium"}

    f = osc("flavor", "show", "m1.tiny")   # by name: 404, then the list
    assert (f["id"], f["name"], f["ram"], f["disk"], f["vcpus"]) == ("1", "m1.tiny", 512, 1, 1)
    assert f["OS-FLV-EXT-DATA:ephemeral"] == 0
    assert f["OS-FLV-DISABLED:disabled"] is False
    assert f["os-flavor-access:is_public"] is True
    assert f["properties"] == {}           # os-extra_specs
    assert f["rxtx_factor"] == 1.0

    f = osc("flavor", "create", "--ram", "1024", "--disk", "10", "--vcpus", "2",
            "--id", "osc-1", "--description", "from openstackclient", "m1.osc")
    assert (f["id"], f["name"], f["ram"], f["disk"], f["vcpus"]) == ("osc-1", "m1.osc", 1024, 10, 2)
    assert f["description"] == "from openstackclient"
    assert f["os-flavor-access:is_public"] is True
    assert osc("flavor", "show", "osc-1")["name"] == "m1.osc"
    assert osc("flavor", "delete", "m1.osc", fmt=False) == ""
    assert "m1.osc" not in {r["Name"] for r in osc("flavor", "list")}
    assert "No Flavor found for m1.osc" in osc.fails("flavor", "show", "m1.osc")


def test_hypervisors_and_services(osc):
    rows = osc("hypervisor", "list")
    assert sorted(r["Hypervisor Hostname"] for r in rows) == ["compute1", "compute2"]
    for r in rows:
        assert (r["Hypervisor Type"], r["State"]) == ("fake", "up")
        assert isinstance(r["ID"], int)

    h = osc("hypervisor", "show", "compute1")
    assert h["hypervisor_hostname"] == "compute1"
    assert h["service_host"] == "compute1"
    assert (h["vcpus"], h["memory_mb"], h["local_gb"]) == (64, 131072, 2000)
    assert h["state"] == "up" and h["status"] == "enabled"
    assert h["aggregates"] == []            # os-aggregates
    assert "uptime" not in h                # 501 from os-hypervisors/{id}/uptime
    assert h["free_ram_mb"] == h["memory_mb"] - h["memory_mb_used"]

    rows = osc("compute", "service", "list")
    assert sorted((r["Binary"], r["Host"], r["Zone"]) for r in rows) == [
        ("kumo-compute", "compute1", "nova"), ("kumo-compute", "compute2", "nova"),
        ("kumo-conductor", "controller", "internal"),
        ("kumo-scheduler", "controller", "internal")]
    for r in rows:
        assert (r["Status"], r["State"]) == ("enabled", "up")
        assert r["Updated At"].endswith(".000000")


def test_server_lifecycle(osc, cloud, image):
    key = osc.tmp / "key.pub"
    key.write_text(PUBKEY + "\n")
    osc("keypair", "create", "--public-key", str(key), "osc-key")

    s = osc("server", "create", "--flavor", "m1.tiny", "--image", image,
            "--nic", "none", "--key-name", "osc-key", "--wait", "osc-vm", mv="2.37")
    sid = s["id"]
    assert (s["name"], s["status"], s["key_name"]) == ("osc-vm", "ACTIVE", "osc-key")
    assert s["flavor"] == "m1.tiny (1)"
    assert s["image"].endswith("(%s)" % image)
    assert s["OS-EXT-STS:vm_state"] == "active"
    assert s["OS-EXT-STS:task_state"] is None
    assert s["OS-EXT-SRV-ATTR:host"] in ("compute1", "compute2")
    assert s["OS-EXT-AZ:availability_zone"] == "nova"
    assert s["project_id"] == "admin" and s["user_id"] == "admin"
    assert s["addresses"] == {} and s["properties"] == {}
    assert len(s["adminPass"]) == 12

    row = by(osc("server", "list"), "ID", sid)
    assert row == {"ID": sid, "Name": "osc-vm", "Status": "ACTIVE", "Networks": {},
                   "Image": "cirros", "Flavor": "m1.tiny"}
    row = by(osc("server", "list", "--long"), "ID", sid)
    assert (row["Image ID"], row["Image Name"], row["Flavor ID"], row["Flavor Name"]) == (
        image, "cirros", "1", "m1.tiny")
    assert (row["Availability Zone"], row["Host"]) == ("nova", s["OS-EXT-SRV-ATTR:host"])
    assert row["Task State"] is None and row["Power State"] == 1

    shown = osc("server", "show", "osc-vm")   # by name: 404, ?name=, then the id
    assert shown["id"] == sid and shown["hostId"] == s["hostId"]
    assert shown["OS-SRV-USG:launched_at"].endswith(".000000")

    events = osc("server", "event", "list", "osc-vm")
    assert [e["Action"] for e in events] == ["create"]
    assert events[0]["Server ID"] == sid
    assert events[0]["Request ID"].startswith("req-")
    ev = osc("server", "event", "show", "osc-vm", events[0]["Request ID"])
    assert (ev["action"], ev["instance_uuid"]) == ("create", sid)
    assert [(e["event"], e["result"]) for e in ev["events"]] == [
        ("compute__do_build_and_run_instance", "Success")]
    step = ev["events"][0]
    assert step["start_time"] <= step["finish_time"]
    assert step["finish_time"].endswith(".000000")
    ev = osc("server", "event", "show", "osc-vm", events[0]["Request ID"], mv="2.84")
    assert (ev["events"][0]["host"], ev["events"][0]["hostId"]) == (
        s["OS-EXT-SRV-ATTR:host"], s["hostId"])

    osc("server", "reboot", "--wait", "osc-vm", fmt=False)
    osc("server", "stop", "osc-vm", fmt=False)
    cloud.wait_status(sid, "SHUTOFF")
    osc("server", "start", "osc-vm", fmt=False)
    cloud.wait_status(sid, "ACTIVE")
    assert sid in osc("console", "log", "show", "osc-vm", fmt=False)
    events = osc("server", "event", "list", sid)
    assert [e["Action"] for e in events] == ["start", "stop", "reboot", "create"]
    for row, step in zip(events, ["compute_start_instance", "compute_stop_instance",
                                  "compute_reboot_instance"]):
        ev = osc("server", "event", "show", sid, row["Request ID"])
        assert [(e["event"], e["result"]) for e in ev["events"]] == [(step, "Success")]

    assert osc("server", "delete", "--wait", "osc-vm", fmt=False) == ""
    assert cloud.get("/v2.1/servers/%s" % sid).status == 404
    assert "No server with a name or ID of 'osc-vm' exists" in osc.fails("server", "show", "osc-vm")


def test_server_list_filters_and_paging(osc, cloud, image):
    ids = [cloud.boot("filt-%d" % i, image, flavor="1" if i < 2 else "2")
           for i in range(3)]
    for sid in ids:
        cloud.wait_status(sid, "ACTIVE")
    host0 = cloud.server(ids[0])["OS-EXT-SRV-ATTR:host"]

    def names(*args):
        return sorted(r["Name"] for r in osc("server", "list", "-n", *args))
    assert names("--name", "^filt-[01]$") == ["filt-0", "filt-1"]
    assert names("--name", "filt", "--flavor", "m1.small") == ["filt-2"]
    assert names("--name", "filt", "--image", image, "--status", "ACTIVE") == [
        "filt-0", "filt-1", "filt-2"]
    assert "filt-0" in names("--name", "filt", "--host", host0)
    assert names("--name", "filt", "--changes-since", "2000-01-01T00:00:00Z") == [
        "filt-0", "filt-1", "filt-2"]
    assert names("--name", "filt", "--changes-since", "2999-01-01T00:00:00Z") == []
    page = osc("server", "list", "-n", "--name", "filt", "--limit", "2")
    assert [r["Name"] for r in page] == ["filt-2", "filt-1"]   # newest first
    page = osc("server", "list", "-n", "--name", "filt", "--limit", "2",
               "--marker", ids[1])
    assert [r["Name"] for r in page] == ["filt-0"]
    for sid in ids:
        assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    for sid in ids:
        cloud.wait_gone(sid)


def test_keypairs(osc):
    key = osc.tmp / "kp.pub"
    key.write_text(PUBKEY + "\n")
    k = osc("keypair", "create", "--public-key", str(key), "osc-kp")
    assert (k["name"], k["fingerprint"], k["type"], k["user_id"]) == (
        "osc-kp", PUBKEY_MD5, "ssh", "admin")
    row = by(osc("keypair", "list"), "Name", "osc-kp")
    assert row == {"Name": "osc-kp", "Fingerprint": PUBKEY_MD5, "Type": "ssh"}
    k = osc("keypair", "show", "osc-kp")
    assert (k["name"], k["fingerprint"], k["user_id"]) == ("osc-kp", PUBKEY_MD5, "admin")
    assert k["created_at"].endswith(".000000")
    assert osc("keypair", "show", "--public-key", "osc-kp", fmt=False).strip() == PUBKEY
    err = osc.fails("keypair", "create", "--public-key", str(key), "osc-kp")
    assert "Key pair 'osc-kp' already exists." in err
    assert osc("keypair", "delete", "osc-kp", fmt=False) == ""
    assert "osc-kp" not in {r["Name"] for r in osc("keypair", "list")}


def ssh_keygen(*args):
    p = subprocess.run(["ssh-keygen", *args], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.skipif(not os.path.exists("/usr/bin/ssh-keygen"), reason="needs openssh-client")
def test_keypair_generated(osc):
    """Without --public-key kumo generates an RSA key pair, as Nova does below
    2.92: the client prints the private key (or saves it with --private-key),
    and ssh-keygen agrees with the public half and fingerprint kept."""
    pem = osc("keypair", "create", "osc-gen", fmt=False)
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert pem.rstrip().endswith("-----END RSA PRIVATE KEY-----")
    priv = osc.tmp / "osc-gen.pem"
    priv.write_text(pem)
    priv.chmod(0o600)
    k = osc("keypair", "show", "osc-gen")
    pub = osc("keypair", "show", "--public-key", "osc-gen", fmt=False).strip()
    kind, blob, comment = pub.split(" ")
    assert (kind, comment, k["type"]) == ("ssh-rsa", "Generated-by-Nova", "ssh")
    assert ssh_keygen("-y", "-f", str(priv)).split()[:2] == [kind, blob]
    bits, md5 = ssh_keygen("-l", "-E", "md5", "-f", str(priv)).split()[:2]
    assert (bits, md5) == ("2048", "MD5:" + k["fingerprint"])

    saved = osc.tmp / "osc-gen2.pem"
    k = osc("keypair", "create", "--private-key", str(saved), "osc-gen2")
    assert (k["name"], k["type"], k["user_id"]) == ("osc-gen2", "ssh", "admin")
    assert "private_key" not in k and "public_key" not in k
    saved.chmod(0o600)
    md5 = ssh_keygen("-l", "-E", "md5", "-f", str(saved)).split()[1]
    assert md5 == "MD5:" + k["fingerprint"]
    assert osc("keypair", "show", "osc-gen2")["fingerprint"] == k["fingerprint"]
    # two generations never give the same key
    assert k["fingerprint"] != osc("keypair", "show", "osc-gen")["fingerprint"]

    err = osc.fails("keypair", "create", "osc-gen")
    assert "Key pair 'osc-gen' already exists." in err
    # 2.92 and later: Nova generates no more, public_key is required
    err = osc.fails("keypair", "create", "osc-gen3", mv="2.92")
    assert "'public_key' is a required property" in err
    for name in ("osc-gen", "osc-gen2"):
        assert osc("keypair", "delete", name, fmt=False) == ""


def test_limits_and_quota(osc, cloud):
    demo = "user1:quota-demo"
    r = cloud.post("/v2/images", {"name": "demo-img", "disk_format": "qcow2",
                                  "container_format": "bare"}, token=demo)
    assert r.status == 201, r
    image = r.json["id"]
    lim = {r["Name"]: r["Value"] for r in osc("limits", "show", "--absolute", token=demo)}
    assert (lim["maxTotalInstances"], lim["maxTotalCores"], lim["maxTotalRAMSize"]) == (
        10, 20, 51200)
    assert lim["maxTotalKeypairs"] == 100
    assert (lim["totalInstancesUsed"], lim["totalCoresUsed"], lim["totalRAMUsed"]) == (0, 0, 0)

    r = cloud.request("PUT", "/v2.1/os-quota-sets/quota-demo",
                      body={"quota_set": {"instances": 1}})
    assert r.status == 200, r
    assert r.json["quota_set"]["instances"] == 1 and "id" not in r.json["quota_set"]
    sid = osc("server", "create", "--flavor", "m1.tiny", "--image", image,
              "--wait", "q-1", token=demo)["id"]
    lim = {r["Name"]: r["Value"] for r in osc("limits", "show", "--absolute", token=demo)}
    assert (lim["maxTotalInstances"], lim["totalInstancesUsed"]) == (1, 1)
    assert (lim["totalCoresUsed"], lim["totalRAMUsed"]) == (1, 512)
    err = osc.fails("server", "create", "--flavor", "m1.tiny", "--image", image, "q-2",
                    token=demo)
    assert ("Quota exceeded for instances: Requested 1, but already used 1 of 1 "
            "instances (HTTP 403)") in err
    assert cloud.delete("/v2.1/servers/%s" % sid, token=demo).status == 204
    cloud.wait_gone(sid)
    assert cloud.delete("/v2.1/os-quota-sets/quota-demo").status == 202


def test_image_commands(osc, cloud, image):
    """With admin_token every service is the one endpoint: image commands go
    to Nova's image proxy (/v2.1/images), whose list has no status. With
    image_endpoint_override (clouds.yaml) they reach kumo's Glance API."""
    row = by(osc("image", "list"), "ID", image)
    assert row["Name"] == "cirros"
    cfg = osc.tmp / "clouds.yaml"
    cfg.write_text("clouds:\n  kumo:\n    auth_type: admin_token\n"
                   "    auth:\n      token: admin:admin\n      endpoint: %s/v2.1\n"
                   "    image_endpoint_override: %s/v2/\n" % (cloud.url, cloud.url))
    osc.env["OS_CLIENT_CONFIG_FILE"] = str(cfg)
    try:
        row = by(osc("image", "list", cloud_name="kumo"), "ID", image)
        assert row == {"ID": image, "Name": "cirros", "Status": "queued"}
        img = osc("image", "show", "cirros", cloud_name="kumo")
        assert (img["id"], img["disk_format"], img["container_format"]) == (
            image, "qcow2", "bare")
        assert (img["owner"], img["protected"], img["min_ram"]) == ("admin", False, 0)
    finally:
        del osc.env["OS_CLIENT_CONFIG_FILE"]


NOVACLIENT = r"""
import json, sys, time
from keystoneauth1 import session
from keystoneauth1.token_endpoint import Token
from novaclient import client

ep, image = sys.argv[1], sys.argv[2]
nova = client.Client("2.37", session=session.Session(auth=Token(ep, "admin:admin")),
                     endpoint_override=ep)
out = {"flavors": sorted(f.name for f in nova.flavors.list()),
       "hypervisors": sorted(h.hypervisor_hostname for h in nova.hypervisors.list()),
       "services": sorted(s.binary for s in nova.services.list())}
s = nova.servers.create("novaclient-vm", image=image, flavor="1", nics="none")
for _ in range(300):
    s = nova.servers.get(s.id)
    if s.status in ("ACTIVE", "ERROR"):
        break
    time.sleep(0.1)
out["created"] = {"status": s.status, "name": s.name, "flavor": s.flavor["id"],
                  "image": s.image["id"]}
out["listed"] = [x.id for x in nova.servers.list(search_opts={"name": "^novaclient-"})]
out["id"] = s.id
nova.servers.delete(s.id)
kp = nova.keypairs.create("novaclient-kp")     # generated (below 2.92)
out["keypair"] = {"type": kp.type, "pem": kp.private_key.split("\n")[0],
                  "fingerprint": kp.fingerprint,
                  "listed": [k.name for k in nova.keypairs.list()]}
nova.keypairs.delete("novaclient-kp")
kp = nova.keypairs.create("novaclient-x509", key_type="x509")
out["x509"] = {"type": kp.type, "cert": kp.public_key.split("\n")[0],
               "fingerprint": kp.fingerprint, "p12": len(kp.private_key)}
nova.keypairs.delete("novaclient-x509")
print(json.dumps(out))
"""


def test_novaclient_library(osc, cloud, image):
    p = subprocess.run([PYTHON, "-c", NOVACLIENT, cloud.url + "/v2.1", image],
                       capture_output=True, text=True, timeout=120, env=osc.env)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout)
    assert "m1.tiny" in out["flavors"]
    assert out["hypervisors"] == ["compute1", "compute2"]
    assert out["services"] == ["kumo-compute", "kumo-compute", "kumo-conductor",
                               "kumo-scheduler"]
    assert out["created"] == {"status": "ACTIVE", "name": "novaclient-vm",
                              "flavor": "1", "image": image}
    assert out["listed"] == [out["id"]]
    kp = out["keypair"]
    assert (kp["type"], kp["pem"]) == ("ssh", "-----BEGIN RSA PRIVATE KEY-----")
    assert len(kp["fingerprint"]) == 47 and "novaclient-kp" in kp["listed"]
    x = out["x509"]
    assert (x["type"], x["cert"]) == ("x509", "-----BEGIN CERTIFICATE-----")
    assert len(x["fingerprint"]) == 59 and x["p12"] > 1000
    cloud.wait_gone(out["id"])
