"""Debian 12's openstackclient, novaclient and openstacksdk, unmodified,
logging in to kumo's own identity service: a clouds.yaml names the auth URL
and a user, the clients find compute and image in the catalog. The cloud
runs auth_strategy = keystone (kumo-api, the scheduler, one fake compute)."""
import json
import os
import subprocess
import uuid

import pytest

from kumocloud import Cloud

OPENSTACK = "/usr/bin/openstack"
PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(
    not os.path.exists(OPENSTACK),
    reason="needs python3-openstackclient (apt-get install)")


@pytest.fixture(scope="module")
def ks():
    c = Cloud(computes=1, auth="keystone").start()
    yield c
    c.stop()


class Clients:
    """The clients as a user runs them: clouds.yaml, no OS_* from outside."""

    def __init__(self, ks, tmp):
        self.ks = ks
        self.yaml = tmp / "clouds.yaml"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env.update(PATH="/usr/bin:/bin:" + os.environ.get("PATH", ""),
                        HOME=str(tmp), PYTHONWARNINGS="ignore",
                        OS_CLIENT_CONFIG_FILE=str(self.yaml))
        self.clouds = {}
        self.add("kumo-admin", "admin", ks.admin_password, "admin")

    def add(self, name, user, password, project):
        self.clouds[name] = {
            "auth": {"auth_url": self.ks.url + "/identity/v3", "username": user,
                     "password": password, "project_name": project,
                     "user_domain_name": "Default", "project_domain_name": "Default"},
            "region_name": "RegionOne", "identity_api_version": 3,
            "interface": "public"}
        # JSON is YAML: clouds.yaml is read with a YAML parser
        self.yaml.write_text(json.dumps({"clouds": self.clouds}, indent=2))
        os.chmod(self.yaml, 0o600)

    def run(self, cloud, *args, fmt=True):
        cmd = [OPENSTACK, "--os-cloud", cloud, *args] + (["-f", "json"] if fmt else [])
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=self.env)

    def __call__(self, cloud, *args, fmt=True):
        p = self.run(cloud, *args, fmt=fmt)
        assert p.returncode == 0, "openstack %s: rc %d\n%s" % (
            " ".join(args), p.returncode, p.stderr[-3000:])
        return json.loads(p.stdout) if fmt and p.stdout.strip() else p.stdout


@pytest.fixture(scope="module")
def osc(ks, tmp_path_factory):
    return Clients(ks, tmp_path_factory.mktemp("osc-ks"))


@pytest.fixture(scope="module")
def demo(ks, osc):
    """A project, a member and a reader made with openstackclient as admin."""
    proj = "demo-" + uuid.uuid4().hex[:6]
    pw = "pw-" + uuid.uuid4().hex[:8]
    p = osc("kumo-admin", "project", "create", "--domain", "default",
            "--description", "kumo demo", proj)
    assert p["name"] == proj and p["domain_id"] == "default" and p["enabled"] is True
    for user, role in ((proj + "-user", "member"), (proj + "-reader", "reader")):
        u = osc("kumo-admin", "user", "create", "--domain", "default", "--project", proj,
                "--password", pw, user)
        assert u["name"] == user and u["default_project_id"] == p["id"]
        osc("kumo-admin", "role", "add", "--project", proj, "--user", user, role, fmt=False)
    osc.add("kumo", proj + "-user", pw, proj)
    osc.add("kumo-reader", proj + "-reader", pw, proj)
    return {"project": p, "password": pw, "user": proj + "-user"}


def test_token_issue(osc, ks):
    t = osc("kumo-admin", "token", "issue")
    assert set(t) >= {"id", "expires", "project_id", "user_id"}
    v = ks.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": t["id"]})
    assert v.status == 200 and v.json["token"]["project"]["id"] == t["project_id"]


def test_identity_admin_commands(osc, demo):
    a = osc("kumo-admin", "role", "assignment", "list", "--project",
            demo["project"]["name"], "--names")
    assert sorted((x["User"].split("@")[0], x["Role"]) for x in a) == sorted(
        [(demo["user"], "member"), (demo["user"].replace("-user", "-reader"), "reader")])
    names = {r["Name"] for r in osc("kumo-admin", "role", "list")}
    assert {"admin", "member", "reader"} <= names
    cat = osc("kumo-admin", "catalog", "list")
    assert {c["Type"] for c in cat} == {"identity", "compute", "image"}
    # a member may not administer identity
    p = osc.run("kumo", "project", "create", "evil")
    assert p.returncode != 0 and "403" in p.stderr or "not authorized" in p.stderr


def test_member_server_and_image_lifecycle(osc, demo, ks):
    img = osc("kumo", "image", "create", "--disk-format", "qcow2",
              "--container-format", "bare", "--private", "osc-img")
    assert img["name"] == "osc-img" and img["owner"] == demo["project"]["id"]
    assert "osc-img" in [i["Name"] for i in osc("kumo", "image", "list")]
    # a metadata-only image (queued) boots on the fake driver without a
    # download; openstackclient's image above holds data
    member, _ = ks.login(demo["user"], demo["password"], demo["project"]["name"])
    r = ks.post("/v2/images", {"name": "meta-img", "disk_format": "qcow2",
                               "container_format": "bare"}, token=member)
    assert r.status == 201, r
    s = osc("kumo", "server", "create", "--flavor", "m1.tiny", "--image", r.json["id"],
            "--wait", "vm-osc")
    assert s["status"] == "ACTIVE" and s["project_id"] == demo["project"]["id"]
    assert [x["Name"] for x in osc("kumo", "server", "list")] == ["vm-osc"]
    # the reader sees it, may not delete it; the admin's own project has none
    assert [x["Name"] for x in osc("kumo-reader", "server", "list")] == ["vm-osc"]
    p = osc.run("kumo-reader", "server", "delete", "vm-osc", fmt=False)
    assert p.returncode != 0 and "403" in p.stderr, p.stderr
    assert osc("kumo-admin", "server", "list") == []
    osc("kumo", "server", "delete", "--wait", "vm-osc", fmt=False)
    assert osc("kumo", "server", "list") == []


def test_keypairs_are_the_users_own(osc, demo, tmp_path):
    pub = tmp_path / "k.pub"
    pub.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWYOKgQWdjz4kjtLXl/rfxc6xfj/"
                   "dZVe8je96Pcxtue kumo-test\n")
    k = osc("kumo", "keypair", "create", "--public-key", str(pub), "osc-key")
    assert k["name"] == "osc-key" and k["fingerprint"].count(":") == 15
    assert [x["Name"] for x in osc("kumo", "keypair", "list")] == ["osc-key"]
    # another user (the admin) has none of them; the reader may not add one
    assert "osc-key" not in [x["Name"] for x in osc("kumo-admin", "keypair", "list")]
    p = osc.run("kumo-reader", "keypair", "create", "--public-key", str(pub), "r-key")
    assert p.returncode != 0 and "403" in p.stderr, p.stderr
    osc("kumo", "keypair", "delete", "osc-key", fmt=False)
    assert osc("kumo", "keypair", "list") == []


def test_reader_lists_own_projects(osc, demo):
    # /v3/projects is admin-only: openstackclient falls back to the user's own
    projs = osc("kumo-reader", "project", "list")
    assert [p["Name"] for p in projs] == [demo["project"]["name"]]


def test_novaclient_and_sdk_with_a_session(ks, osc, demo):
    script = r'''
import json, sys
from keystoneauth1 import loading, session
from novaclient import client as nova
import openstack
a = json.loads(sys.argv[1])
auth = loading.get_plugin_loader("password").load_from_options(**a)
sess = session.Session(auth=auth)
nc = nova.Client("2.1", session=sess)
print(json.dumps({"flavors": sorted(f.name for f in nc.flavors.list()),
                  "servers": [s.name for s in nc.servers.list()]}))
conn = openstack.connect(cloud="kumo")
print(json.dumps({"sdk_servers": [s.name for s in conn.compute.servers()],
                  "sdk_project": conn.current_project_id}))
'''
    auth = dict(osc.clouds["kumo"]["auth"])
    p = subprocess.run([PYTHON, "-c", script, json.dumps(auth)], capture_output=True,
                       text=True, timeout=180, env=osc.env)
    assert p.returncode == 0, p.stderr[-3000:]
    first, second = [json.loads(x) for x in p.stdout.strip().splitlines()]
    assert "m1.tiny" in first["flavors"] and first["servers"] == []
    assert second == {"sdk_servers": [], "sdk_project": demo["project"]["id"]}
