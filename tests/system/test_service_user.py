"""kumo-compute's own calls to kumo-api under keystone: the compute logs in
as its [service_user] (a user in project "service" with the admin role, as
Nova's services do) and downloads image data with that token. Real
kumo-api (auth_strategy = keystone), kumo-scheduler, fake computes, a real
SQLite file and RabbitMQ."""
import hashlib
import os
import re
import subprocess
import time
import uuid

import pytest

from kumocloud import BUILD, Cloud

SVC_USER = "kumo-compute"
SVC_PW = "svc-" + uuid.uuid4().hex
WRONG_PW = "wrong-" + uuid.uuid4().hex


def service_user_conf(cloud, password):
    return {"service_user": {
        "auth_url": cloud.url + "/identity/v3", "username": SVC_USER,
        "password": password, "project_name": "service",
        "user_domain_name": "Default", "project_domain_name": "Default"}}


def role_id(cloud, name):
    return cloud.get("/identity/v3/roles?name=%s" % name).json["roles"][0]["id"]


def make_user(cloud, name, password, project_id, role):
    r = cloud.post("/identity/v3/users", {"user": {
        "name": name, "password": password, "domain_id": "default"}})
    assert r.status == 201, r
    uid = r.json["user"]["id"]
    r = cloud.request("PUT", "/identity/v3/projects/%s/users/%s/roles/%s"
                      % (project_id, uid, role_id(cloud, role)))
    assert r.status == 204, r
    return uid


def service_project(cloud):
    projects = cloud.get("/identity/v3/projects").json["projects"]
    return [p for p in projects if p["name"] == "service"][0]


def start_cloud(compute_password, **kw):
    """A keystone cloud with the service user and one compute logging in
    with compute_password: (cloud, the service user's id)."""
    c = Cloud(computes=0, auth="keystone", **kw).start()
    try:
        uid = make_user(c, SVC_USER, SVC_PW, service_project(c)["id"], "admin")
        c.start_compute("compute1", extra_conf=service_user_conf(c, compute_password))
        c.wait_computes_up(1)
    except Exception:
        c.stop()
        raise
    return c, uid


@pytest.fixture(scope="module")
def ks():
    c, uid = start_cloud(SVC_PW)
    c.service_user_id = uid
    yield c
    c.stop()


@pytest.fixture(scope="module")
def member(ks):
    """A project and a member of it (not an admin), with its token."""
    r = ks.post("/identity/v3/projects", {"project": {
        "name": "proj-" + uuid.uuid4().hex[:6], "domain_id": "default"}})
    assert r.status == 201, r
    proj = r.json["project"]
    name, pw = "m-" + uuid.uuid4().hex[:8], "pw-" + uuid.uuid4().hex[:8]
    make_user(ks, name, pw, proj["id"], "member")
    tok, _ = ks.login(name, pw, proj["name"])
    return tok


def image_with_data(cloud, token, size=65536):
    """An image of the member's project with random data: (id, data)."""
    r = cloud.post("/v2/images", {"name": "img-" + uuid.uuid4().hex[:6],
                                  "disk_format": "raw", "container_format": "bare"},
                   token=token)
    assert r.status == 201, r
    image, data = r.json["id"], os.urandom(size)
    r = cloud.request("PUT", "/v2/images/%s/file" % image, raw=data, token=token,
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status == 204, r
    return image, data


def boot(cloud, token, image):
    r = cloud.post("/v2.1/servers", {"server": {
        "name": "s-" + uuid.uuid4().hex[:6], "imageRef": image, "flavorRef": "1"}},
        token=token)
    assert r.status == 202, r
    return r.json["server"]["id"]


def issued_to(cloud, uid):
    return len(re.findall(r"token issued to user %s\b" % uid, cloud.logs()["api"]))


def cached(cloud, host, data):
    """The compute's cache file of data (named by its sha256)."""
    return os.path.join(cloud.state_dir(host), "_base", hashlib.sha256(data).hexdigest())


def test_boot_downloads_with_service_token(ks, member):
    image, data = image_with_data(ks, member)
    sid = boot(ks, member, image)
    ks.wait_status(sid, "ACTIVE")
    # the fake driver booted the file the compute downloaded and checked
    with open(cached(ks, "compute1", data), "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()
    log = ks.logs()["compute1"]
    assert "image %s: 65536 bytes downloaded into the cache" % image in log
    assert "service user %s: logged in at %s/identity/v3/auth/tokens?nocatalog" % (
        SVC_USER, ks.url) in log


def test_token_reused(ks, member):
    for _ in range(2):
        image, _ = image_with_data(ks, member)
        ks.wait_status(boot(ks, member, image), "ACTIVE")
    # one login for every download of the module so far
    assert issued_to(ks, ks.service_user_id) == 1
    assert ks.logs()["compute1"].count("service user %s: logged in" % SVC_USER) == 1


def test_refused_token_renewed_once(ks, member):
    # disabling the user ends its tokens; enabled again, it can log in
    for enabled in (False, True):
        r = ks.request("PATCH", "/identity/v3/users/%s" % ks.service_user_id,
                       body={"user": {"enabled": enabled}})
        assert r.status == 200, r
    time.sleep(1.1)   # revocation events have one-second resolution
    before = issued_to(ks, ks.service_user_id)
    image, _ = image_with_data(ks, member)
    ks.wait_status(boot(ks, member, image), "ACTIVE")
    log = ks.logs()["compute1"]
    assert "image %s: the service token was refused, logging in again" % image in log
    assert issued_to(ks, ks.service_user_id) == before + 1
    # and the new token serves the next download
    image, _ = image_with_data(ks, member)
    ks.wait_status(boot(ks, member, image), "ACTIVE")
    assert issued_to(ks, ks.service_user_id) == before + 1


def test_no_secret_in_logs(ks):
    for name, text in ks.logs().items():
        assert SVC_PW not in text, name
    # Fernet tokens start with gAAAAA: the compute never logs one
    assert "gAAAAA" not in ks.logs()["compute1"]


def test_wrong_password_fails_the_build():
    # one attempt: no reschedule hides the compute's reason
    c, _ = start_cloud(WRONG_PW, extra_conf={"scheduler": {"max_attempts": 1}})
    try:
        image, data = image_with_data(c, c.admin_token)
        sid = boot(c, c.admin_token, image)
        s = c.wait_status(sid, "ERROR")
        fault = s["fault"]["message"]
        assert "image %s: service user %s: login failed: 401" % (image, SVC_USER) in fault
        log = c.logs()["compute1"]
        failed = "service user %s: login at %s/identity/v3/auth/tokens?nocatalog " \
                 "failed: 401 The request you have made requires authentication." % (
                     SVC_USER, c.url)
        assert log.count(failed) == 1, log
        assert not os.path.exists(cached(c, "compute1", data))
        for name, text in c.logs().items():
            assert WRONG_PW not in text and SVC_PW not in text, name
    finally:
        c.stop()


@pytest.mark.parametrize("keys,words", [
    ({"auth_url": "ftp://127.0.0.1/identity/v3", "username": "u", "password": "p"},
     "[service_user] auth_url must start with http:// or https://"),
    ({"auth_url": "http://127.0.0.1/identity/v3", "password": "p"},
     "[service_user] username must be set with auth_url"),
    ({"auth_url": "http://127.0.0.1/identity/v3", "username": "u"},
     "[service_user] password must be set with auth_url"),
])
def test_check_refuses_incomplete_service_user(tmp_path, keys, words):
    conf = tmp_path / "kumo.conf"
    conf.write_text("[DEFAULT]\ncompute_driver = fake\n[service_user]\n" +
                    "".join("%s = %s\n" % kv for kv in keys.items()))
    r = subprocess.run([os.path.join(BUILD, "kumo-compute"), "-c", str(conf), "-n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r
    assert r.stderr == "kumo-compute: %s: %s\n" % (conf, words)
    conf.write_text("[DEFAULT]\ncompute_driver = fake\n[service_user]\n"
                    "auth_url = https://127.0.0.1/identity/v3\nusername = u\npassword = p\n")
    r = subprocess.run([os.path.join(BUILD, "kumo-compute"), "-c", str(conf), "-n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "configuration %s OK" % conf in r.stdout, r
