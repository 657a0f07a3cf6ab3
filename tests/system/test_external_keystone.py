"""kumo-api in a cloud that already has Keystone: Debian's real Keystone
(the keystone package) runs from a state directory of the module's own
under uwsgi on a free loopback port; kumo-api, with [keystone_authtoken]
pointing at it, checks every token there as keystonemiddleware does in
front of Nova. Real kumo daemons, a real SQLite file and RabbitMQ.

Skipped when the keystone package is not installed (tools/install-deps
installs it)."""
import grp
import json
import os
import pwd
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest

from kumocloud import BUILD, Cloud, free_port, wait_for

WSGI = "/usr/bin/keystone-wsgi-public"
UWSGI = "/usr/bin/uwsgi"
MANAGE = "/usr/bin/keystone-manage"
NOVA_PW = "nova-" + uuid.uuid4().hex
USER_PW = "pw-" + uuid.uuid4().hex[:12]
PAYLOAD = b"external keystone image data\n" * 100


def http(method, url, body=None, headers=None, timeout=60):
    """(status, headers, parsed body or None)."""
    hdrs = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, h, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, h, raw = e.code, e.headers, e.read()
    return status, h, (json.loads(raw) if raw else None)


class Keystone:
    """Keystone 22 under uwsgi, state in a temporary directory: keystone.conf
    (SQLite in WAL mode, Fernet tokens), db_sync, fernet_setup,
    credential_setup, bootstrap with a random admin password."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kumo-keystone-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/v3" % self.port
        self.conf = os.path.join(self.dir, "keystone.conf")
        self.log = os.path.join(self.dir, "uwsgi.log")
        self.admin_pw = "admin-" + uuid.uuid4().hex
        self.proc = None

    def write_files(self):
        d = self.dir
        for sub in ("log", "fernet-keys", "credential-keys"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "[DEFAULT]", "log_dir = %s/log" % d, "log_file = keystone.log",
                "[database]", "connection = sqlite:///%s/keystone.db" % d,
                "[token]", "provider = fernet",
                "[fernet_tokens]", "key_repository = %s/fernet-keys" % d,
                "[credential]", "key_repository = %s/credential-keys" % d,
                "[cache]", "enabled = false", ""]))
        # uwsgi's http-socket closes every connection: say so, or clients
        # reuse a closed one
        with open(os.path.join(d, "uwsgi.ini"), "w") as f:
            f.write("\n".join([
                "[uwsgi]", "master = true", "plugins = python3",
                "lazy-apps = true", "no-orphans = true", "die-on-term = true",
                "enable-threads = true", "processes = 2", "threads = 1",
                "buffer-size = 65535", "chdir = %s" % d,
                "wsgi-file = %s" % WSGI,
                "http-socket = 127.0.0.1:%d" % self.port,
                "add-header = Connection: close",
                "env = OS_KEYSTONE_CONFIG_FILES=%s" % self.conf,
                "logto = %s" % self.log, ""]))

    def manage(self, *args):
        subprocess.run([MANAGE, "--config-file", self.conf, *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=300)

    def start(self):
        self.write_files()
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        self.manage("db_sync")
        self.manage("fernet_setup", "--keystone-user", user, "--keystone-group", group)
        self.manage("credential_setup", "--keystone-user", user, "--keystone-group", group)
        self.manage("bootstrap", "--bootstrap-password", self.admin_pw,
                    "--bootstrap-username", "admin", "--bootstrap-project-name", "admin",
                    "--bootstrap-role-name", "admin", "--bootstrap-service-name", "keystone",
                    "--bootstrap-region-id", "RegionOne",
                    *[a for i in ("admin", "internal", "public")
                      for a in ("--bootstrap-%s-url" % i, self.url + "/")])
        # two workers overlap reads and writes: rollback-journal SQLite
        # answers "database is locked"
        db = sqlite3.connect(os.path.join(self.dir, "keystone.db"))
        db.execute("PRAGMA journal_mode=WAL")
        db.close()
        self.proc = subprocess.Popen([UWSGI, "--ini", os.path.join(self.dir, "uwsgi.ini")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self._up, 120, interval=0.5, what="keystone to answer GET /v3")
        return self

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError("uwsgi exited %d" % self.proc.returncode)
        try:
            return http("GET", self.url, timeout=10)[0] == 200
        except OSError:
            return False

    def stop(self):
        """Stops the uwsgi master this object started (its workers exit with
        it, and anything left in its session is killed), then removes the
        state."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the identity API --------------------------------------------------
    def login(self, user, password, project=None):
        auth = {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}}}
        if project is not None:
            auth["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
        status, h, body = http("POST", self.url + "/auth/tokens", {"auth": auth})
        assert status == 201, (status, body)
        return h["X-Subject-Token"], body

    def call(self, method, path, body=None, headers=None):
        hdrs = {"X-Auth-Token": self.admin_token}
        hdrs.update(headers or {})
        return http(method, self.url + path, body, hdrs)

    def create(self, kind, obj):
        status, _, body = self.call("POST", "/%ss" % kind, {kind: obj})
        assert status == 201, (status, body)
        return body[kind]["id"]

    def grant(self, project, user, role):
        _, _, body = self.call("GET", "/roles?name=%s" % role)
        status, _, _ = self.call("PUT", "/projects/%s/users/%s/roles/%s" % (
            project, user, body["roles"][0]["id"]))
        assert status == 204

    def populate(self):
        self.admin_token, body = self.login("admin", self.admin_pw, "admin")
        self.admin_project = body["token"]["project"]["id"]
        self.demo = self.create("project", {"name": "demo", "domain_id": "default"})
        service = self.create("project", {"name": "service", "domain_id": "default"})
        for name, pw, project, role in (("demo", USER_PW, self.demo, "member"),
                                        ("reader1", USER_PW, self.demo, "reader"),
                                        ("nova", NOVA_PW, service, "admin")):
            uid = self.create("user", {"name": name, "password": pw,
                                       "domain_id": "default"})
            self.grant(project, uid, role)

    def validations(self):
        """How many GET /v3/auth/tokens uwsgi has logged."""
        with open(self.log, errors="replace") as f:
            return len(re.findall(r"\] GET /v3/auth/tokens", f.read()))


def installed():
    return all(os.path.exists(p) for p in (WSGI, UWSGI, MANAGE))


@pytest.fixture(scope="module")
def keystone():
    if not installed():
        pytest.skip("Debian's keystone package is not installed "
                    "(tools/install-deps installs it)")
    ks = Keystone()
    try:
        ks.start()
        ks.populate()
    except Exception:
        ks.stop()
        raise
    yield ks
    ks.stop()


def authtoken_conf(ks, password=NOVA_PW, **extra):
    conf = {"auth_url": ks.url, "username": "nova", "password": password,
            "project_name": "service", "user_domain_name": "Default",
            "project_domain_name": "Default"}
    conf.update(extra)
    # the computes download image data as nova, as Nova's services do
    return {"keystone_authtoken": conf, "identity": {"enabled": "false"},
            "service_user": {k: conf[k] for k in (
                "auth_url", "username", "password", "project_name",
                "user_domain_name", "project_domain_name")}}


def external_cloud(ks, computes=0, admin_project=None, **extra):
    return Cloud(computes=computes, auth="keystone-external",
                 admin_token=ks.admin_token, admin_project=admin_project,
                 extra_conf=authtoken_conf(ks, **extra)).start()


@pytest.fixture(scope="module")
def cloud(keystone):
    c = external_cloud(keystone, computes=1, admin_project=keystone.admin_project)
    yield c
    c.stop()


@pytest.fixture(scope="module")
def image(cloud):
    r = cloud.post("/v2/images", {"name": "ext", "disk_format": "raw",
                                  "container_format": "bare", "visibility": "public"})
    assert r.status == 201, r
    assert cloud.upload_image(r.json["id"], PAYLOAD).status == 204
    return r.json["id"]


def test_member_lists_and_creates(keystone, cloud, image):
    tok, body = keystone.login("demo", USER_PW, "demo")
    r = cloud.get("/v2.1/servers", token=tok)
    assert r.status == 200, r
    assert r.json == {"servers": []}
    r = cloud.post("/v2.1/servers", {"server": {
        "name": "ext-1", "imageRef": image, "flavorRef": "1"}}, token=tok)
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    # the compute fetched the image with nova's token of the same Keystone
    s = cloud.wait_status(sid, "ACTIVE", timeout=60)
    assert s["tenant_id"] == body["token"]["project"]["id"]
    assert s["user_id"] == body["token"]["user"]["id"]
    r = cloud.get("/v2.1/servers", token=tok)
    assert [x["id"] for x in r.json["servers"]] == [sid]


def test_reader_reads_but_cannot_create(keystone, cloud, image):
    tok, _ = keystone.login("reader1", USER_PW, "demo")
    assert cloud.get("/v2.1/servers/detail", token=tok).status == 200
    r = cloud.post("/v2.1/servers", {"server": {
        "name": "nope", "imageRef": image, "flavorRef": "1"}}, token=tok)
    assert r.status == 403, r
    assert "os_compute_api:servers:create" in r.json["forbidden"]["message"]


def test_unscoped_token_has_no_project(keystone, cloud):
    tok, _ = keystone.login("demo", USER_PW)
    assert cloud.get("/v2.1/servers", token=tok).status == 403


@pytest.mark.parametrize("token", [None, "garbage", "gAAAAAB" + "A" * 176])
def test_bad_tokens_401(keystone, cloud, token):
    r = cloud.get("/v2.1/servers", token=token)
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == 'Keystone uri="%s"' % keystone.url
    assert r.json == {"error": {"code": 401, "title": "Unauthorized", "message":
                                "The request you have made requires authentication."}}


def test_own_identity_routes_404(cloud):
    assert cloud.get("/identity/v3", token=None).status == 404
    r = cloud.post("/identity/v3/auth/tokens", {"auth": {}}, token=None)
    assert r.status == 404, r
    assert cloud.get("/identity/v3/users").status == 404


def count_settles(keystone, before, want):
    """uwsgi logs a request once its answer is out: wait for the count to
    reach want, then make sure no more come."""
    wait_for(lambda: keystone.validations() - before >= want, 10,
             what="%d validations in keystone's log" % want)
    time.sleep(0.5)
    return keystone.validations() - before


def test_one_validation_per_token(keystone, cloud):
    tok, _ = keystone.login("demo", USER_PW, "demo")
    before = keystone.validations()
    for _ in range(5):
        assert cloud.get("/v2.1/servers", token=tok).status == 200
    assert count_settles(keystone, before, 1) == 1
    # a refused token is asked about every time (never cached)
    for _ in range(2):
        assert cloud.get("/v2.1/servers", token="bad-" + tok[4:]).status == 401
    assert count_settles(keystone, before, 3) == 3


def test_revoked_token_works_until_cache_time(keystone):
    c = external_cloud(keystone, token_cache_time="6")
    try:
        tok, _ = keystone.login("demo", USER_PW, "demo")
        assert c.get("/v2.1/servers", token=tok).status == 200
        t0 = time.monotonic()   # the validation is cached from here on
        status, _, _ = keystone.call("DELETE", "/auth/tokens",
                                     headers={"X-Subject-Token": tok})
        assert status == 204
        r = c.get("/v2.1/servers", token=tok)
        assert time.monotonic() - t0 < 5, "the revocation took too long to test"
        assert r.status == 200, r
        assert keystone.call("GET", "/auth/tokens",
                             headers={"X-Subject-Token": tok})[0] == 404
        time.sleep(max(0, t0 + 7.5 - time.monotonic()))
        r = c.get("/v2.1/servers", token=tok)
        assert r.status == 401, r
    finally:
        c.stop()


def test_wrong_service_password(keystone):
    wrong = "wrong-" + uuid.uuid4().hex
    c = external_cloud(keystone, password=wrong)
    try:
        tok, _ = keystone.login("demo", USER_PW, "demo")
        r = c.get("/v2.1/servers", token=tok)
        assert r.status == 503, r
        assert r.json["serviceUnavailable"]["message"] == \
            "The Keystone service is temporarily unavailable."
        log = c.logs()["api"]
        assert re.search(r"service login as nova at \S+ failed: 401 ", log), log
        assert wrong not in log and tok not in log
    finally:
        c.stop()


def test_no_secret_in_logs(keystone, cloud):
    for name, text in cloud.logs().items():
        assert NOVA_PW not in text, name
        assert keystone.admin_token not in text, name


def test_check_config_names_the_key(tmp_path):
    conf = tmp_path / "kumo.conf"
    conf.write_text("[api]\nauth_strategy = keystone\n[keystone_authtoken]\n"
                    "auth_url = http://127.0.0.1:5000/v3\nusername = nova\n")
    p = subprocess.run([os.path.join(BUILD, "kumo-api"), "-n", "-c", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "[keystone_authtoken] password must be set with auth_url" in p.stderr
