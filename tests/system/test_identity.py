"""kumo's identity service and keystone authentication, against a real
kumo-api (auth_strategy = keystone), kumo-scheduler, one fake compute, a real
SQLite file and RabbitMQ. Shapes, statuses and messages are Keystone 22's
(research/keystone-anchor.md)."""
import json
import os
import subprocess
import time
import uuid

import pytest

from kumocloud import BUILD, ROOT, Cloud

KS_401 = ('{"error":{"code":401,"message":"The request you have made requires '
          'authentication.","title":"Unauthorized"}}\n')


@pytest.fixture(scope="module")
def ks():
    c = Cloud(computes=1, auth="keystone").start()
    yield c
    c.stop()


def admin_post(ks, path, body):
    r = ks.post("/identity/v3" + path, body)
    assert r.status == 201, r
    return r.json


def make_user(ks, project_id, role, name=None, password="pw-" + uuid.uuid4().hex[:6]):
    name = name or "u-" + uuid.uuid4().hex[:8]
    u = admin_post(ks, "/users", {"user": {"name": name, "password": password,
                                           "domain_id": "default"}})["user"]
    role_id = [x["id"] for x in ks.get("/identity/v3/roles?name=%s" % role).json["roles"]][0]
    r = ks.request("PUT", "/identity/v3/projects/%s/users/%s/roles/%s"
                   % (project_id, u["id"], role_id))
    assert r.status == 204, r
    return name, password, u["id"]


@pytest.fixture(scope="module")
def tenants(ks):
    """Two projects, each with a member and a reader, and their tokens."""
    out = {}
    for p in ("A", "B"):
        proj = admin_post(ks, "/projects", {"project": {
            "name": "proj%s-%s" % (p, uuid.uuid4().hex[:6]), "domain_id": "default"}})["project"]
        for role in ("member", "reader"):
            name, pw, uid = make_user(ks, proj["id"], role)
            tok, _ = ks.login(name, pw, proj["name"])
            out[p + role] = {"token": tok, "user": uid, "name": name, "password": pw}
        out[p] = proj
    return out


def test_version_discovery(ks):
    r = ks.get("/identity", token=None)
    assert r.status == 300, r
    assert r.header("Location") == ks.url + "/identity/v3/"
    v = r.json["versions"]["values"][0]
    assert v["id"] == "v3.14" and v["links"][0]["href"] == ks.url + "/identity/v3/"
    r = ks.get("/identity/v3", token=None)
    assert r.status == 200 and r.json["version"]["id"] == "v3.14"


def test_token_issue_shape(ks):
    r = ks.post("/identity/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": ks.admin_password}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}, token=None)
    assert r.status == 201, r
    tok = r.header("X-Subject-Token")
    assert tok and len(tok) <= 255 and tok.startswith("gAAAAA")
    t = r.json["token"]
    assert t["methods"] == ["password"]
    assert t["user"]["name"] == "admin" and t["user"]["domain"] == {"id": "default", "name": "Default"}
    assert t["project"]["name"] == "admin" and t["is_domain"] is False
    assert sorted(x["name"] for x in t["roles"]) == ["admin", "member", "reader"]
    assert len(t["audit_ids"]) == 1 and len(t["audit_ids"][0]) == 22
    assert t["expires_at"].endswith(".000000Z")
    types = {s["type"]: s for s in t["catalog"]}
    assert set(types) == {"identity", "compute", "image"}
    for s in types.values():
        assert sorted(e["interface"] for e in s["endpoints"]) == ["admin", "internal", "public"]
    assert types["compute"]["endpoints"][0]["url"].endswith("/v2.1")
    assert types["identity"]["endpoints"][0]["url"].endswith("/identity/v3")
    # ?nocatalog drops the catalog; validation answers the issue body
    r2 = ks.post("/identity/v3/auth/tokens?nocatalog", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": ks.admin_password}}}}},
        token=None)
    assert r2.status == 201 and "catalog" not in r2.json["token"]
    v = ks.get("/identity/v3/auth/tokens", token=tok, headers={"X-Subject-Token": tok})
    assert v.status == 200 and v.json == r.json and v.header("X-Subject-Token") == tok


def test_auth_failures_tell_nothing(ks):
    def attempt(user, pw, domain="Default"):
        return ks.post("/identity/v3/auth/tokens", {"auth": {"identity": {
            "methods": ["password"], "password": {"user": {
                "name": user, "domain": {"name": domain}, "password": pw}}}}}, token=None)
    for r in (attempt("admin", "wrong"), attempt("nosuchuser", "x"),
              attempt("admin", ks.admin_password, domain="NoDomain")):
        assert r.status == 401, r
        assert r.raw.decode() == KS_401
        assert r.header("WWW-Authenticate") == 'Keystone uri="%s/identity/v3"' % ks.url
    # the wrong password never shows up in a log
    for text in ks.logs().values():
        assert "wrong" not in text and ks.admin_password not in text


@pytest.mark.parametrize("body,status,words", [
    ("{\"auth\": {", 400, "Expecting to find valid JSON in request body."),
    ("{}", 400, "Expecting to find auth in request body."),
    ('{"auth": {"identity": {"methods": ["totp"]}}}', 401,
     "Attempted to authenticate with an unsupported method."),
    ('{"auth": {"identity": {"methods": ["password"]}}}', 400,
     "Expecting to find password in identity."),
    ('{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "x", "password": "y"}}}}}',
     400, "Expecting to find domain in user."),
    ('{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": 7, "password": "y"}}}}}',
     400, "Invalid input for field 'id'"),
    ('{"auth": {"identity": {}}}', 400, "'methods' is a required property"),
    ('[1, 2]', 400, "Expecting to find auth in request body."),
])
def test_malformed_token_requests(ks, body, status, words):
    r = ks.request("POST", "/identity/v3/auth/tokens", raw=body.encode(), token=None,
                   headers={"Content-Type": "application/json"})
    assert r.status == status, r
    assert words in r.json["error"]["message"]
    assert r.json["error"]["code"] == status and r.raw.endswith(b"\n")


def test_validate_revoke(ks, tenants):
    tok, _ = ks.login(tenants["Amember"]["name"], tenants["Amember"]["password"],
                      tenants["A"]["name"])
    own = {"X-Subject-Token": tok}
    assert ks.request("HEAD", "/identity/v3/auth/tokens", token=tok, headers=own).status == 200
    # a reader may not validate someone else's token; an admin may
    r = ks.get("/identity/v3/auth/tokens", token=tenants["Areader"]["token"], headers=own)
    assert r.status == 403, r
    assert r.json["error"]["message"].endswith("identity:validate_token.")
    assert ks.get("/identity/v3/auth/tokens", headers=own).status == 200
    # garbage, Fernet-looking garbage, a cut token, nothing
    for bad in ("garbage", "gAAAAAB" + "A" * 176, tok[:-4]):
        r = ks.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": bad})
        assert r.status == 404 and r.json["error"]["message"] == "Could not recognize Fernet token", r
    r = ks.get("/identity/v3/auth/tokens")
    assert r.status == 404 and r.json["error"]["message"] == "No token in the request"
    # self-revoke, then the token is dead everywhere
    assert ks.delete("/identity/v3/auth/tokens", token=tok, headers=own).status == 204
    r = ks.get("/identity/v3/auth/tokens", headers=own)
    assert r.status == 404 and r.json["error"]["message"] == "Failed to validate token"
    r = ks.get("/v2.1/servers", token=tok)
    assert r.status == 401, r
    assert r.json == {"error": {"code": 401, "title": "Unauthorized",
                                "message": "The request you have made requires authentication."}}
    assert ks.delete("/identity/v3/auth/tokens", headers=own).status == 404


def test_rescope_keeps_expiry(ks):
    # no scope: the user's default project, as Keystone does
    _, body = ks.login("admin", ks.admin_password)
    assert body["token"]["project"]["name"] == "admin"
    r = ks.post("/identity/v3/auth/tokens", {"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": ks.admin_password}}},
        "scope": "unscoped"}}, token=None)
    assert r.status == 201, r
    tok, body = r.header("X-Subject-Token"), r.json
    assert "project" not in body["token"] and "roles" not in body["token"]
    assert "catalog" not in body["token"]
    r = ks.post("/identity/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["token"], "token": {"id": tok}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}, token=None)
    assert r.status == 201, r
    t = r.json["token"]
    assert t["methods"] == ["token", "password"]
    assert t["expires_at"] == body["token"]["expires_at"]
    assert t["audit_ids"][1] == body["token"]["audit_ids"][0]
    # an unscoped token cannot reach the compute API's projects
    r = ks.get("/v2.1/servers", token=tok)
    assert r.status == 403, r


def test_tenants_kept_apart(ks, tenants):
    # the admin's image, public: another project's private one is not bootable
    r = ks.post("/v2/images", {"name": "tenant-img", "visibility": "public"})
    assert r.status == 201, r
    image = r.json["id"]
    a, b = tenants["Amember"]["token"], tenants["Bmember"]["token"]
    ra, rb = tenants["Areader"]["token"], tenants["Breader"]["token"]
    r = ks.post("/v2.1/servers", {"server": {"name": "a1", "imageRef": image,
                                             "flavorRef": "1"}}, token=a)
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    assert ks.wait_status(sid, "ACTIVE")["tenant_id"] == tenants["A"]["id"]
    # the other project sees nothing, reads nothing, deletes nothing
    for tok in (b, rb):
        assert ks.get("/v2.1/servers/%s" % sid, token=tok).status == 404
        assert ks.get("/v2.1/servers/detail", token=tok).json["servers"] == []
    assert ks.delete("/v2.1/servers/%s" % sid, token=b).status == 404
    r = ks.post("/v2.1/servers/%s/action" % sid, {"os-stop": None}, token=b)
    assert r.status == 404, r
    # A's reader reads and may not change anything
    assert ks.get("/v2.1/servers/%s" % sid, token=ra).status == 200
    r = ks.delete("/v2.1/servers/%s" % sid, token=ra)
    assert r.status == 403 and "os_compute_api:servers:delete" in r.json["forbidden"]["message"]
    r = ks.post("/v2.1/servers", {"server": {"name": "r1", "imageRef": image,
                                             "flavorRef": "1"}}, token=ra)
    assert r.status == 403, r
    r = ks.post("/v2.1/os-keypairs", {"keypair": {"name": "k1"}}, token=ra)
    assert r.status == 403, r
    # members are not admins
    for path in ("/v2.1/os-hypervisors", "/v2.1/os-services"):
        assert ks.get(path, token=a).status == 403
    # all_tenants is the admin's (Nova's get_all_tenants policies): a 403
    for tok in (a, b):
        r = ks.get("/v2.1/servers/detail?all_tenants=1", token=tok)
        assert r.status == 403 and "servers:detail:get_all_tenants" in \
            r.json["forbidden"]["message"], r
    # identity administration is the admin's
    for path in ("/identity/v3/users", "/identity/v3/projects", "/identity/v3/roles",
                 "/identity/v3/role_assignments"):
        r = ks.get(path, token=a)
        assert r.status == 403 and r.json["error"]["title"] == "Forbidden", (path, r)
    r = ks.post("/identity/v3/projects", {"project": {"name": "evil"}}, token=a)
    assert r.status == 403, r
    uid = tenants["Amember"]["user"]
    assert ks.get("/identity/v3/users/%s" % uid, token=a).status == 200
    assert ks.get("/identity/v3/users/%s" % tenants["Bmember"]["user"], token=a).status == 403
    projs = ks.get("/identity/v3/auth/projects", token=a).json["projects"]
    assert [p["id"] for p in projs] == [tenants["A"]["id"]]
    assert ks.delete("/v2.1/servers/%s" % sid, token=a).status == 204
    ks.wait_gone(sid)


def test_no_or_bad_token_is_401(ks):
    for tok in (None, "admin:demo", "garbage", "gAAAAAB" + "A" * 176):
        r = ks.get("/v2.1/servers", token=tok)
        assert r.status == 401, (tok, r)
        assert r.header("WWW-Authenticate") == 'Keystone uri="%s/identity"' % ks.url
    # version documents need none
    assert ks.get("/", token=None).status == 200


def test_disable_and_password_change_end_tokens(ks, tenants):
    name, pw, uid = make_user(ks, tenants["A"]["id"], "member")
    tok, _ = ks.login(name, pw, tenants["A"]["name"])
    assert ks.get("/v2.1/servers", token=tok).status == 200
    r = ks.request("PATCH", "/identity/v3/users/%s" % uid, body={"user": {"enabled": False}})
    assert r.status == 200 and r.json["user"]["enabled"] is False
    assert ks.get("/v2.1/servers", token=tok).status == 401
    r = ks.post("/identity/v3/auth/tokens", {"auth": {"identity": {
        "methods": ["password"], "password": {"user": {"id": uid, "password": pw}}}}}, token=None)
    assert r.status == 401 and r.raw.decode() == KS_401
    ks.request("PATCH", "/identity/v3/users/%s" % uid, body={"user": {"enabled": True}})
    time.sleep(1.1)   # revocation events have one-second resolution
    tok, _ = ks.login(name, pw, tenants["A"]["name"])
    r = ks.post("/identity/v3/users/%s/password" % uid, {"user": {
        "password": "new-pw", "original_password": pw}}, token=tok)
    assert r.status == 204, r
    time.sleep(1.1)
    assert ks.get("/v2.1/servers", token=tok).status == 401
    tok2, _ = ks.login(name, "new-pw", tenants["A"]["name"])
    assert ks.get("/v2.1/servers", token=tok2).status == 200
    # a removed role ends the token's use of the project at once
    member = ks.get("/identity/v3/roles?name=member").json["roles"][0]["id"]
    r = ks.delete("/identity/v3/projects/%s/users/%s/roles/%s" % (tenants["A"]["id"], uid, member))
    assert r.status == 204, r
    assert ks.get("/v2.1/servers", token=tok2).status == 401


def test_failed_logins_throttled(ks, tenants):
    name, pw, uid = make_user(ks, tenants["B"]["id"], "member")
    for _ in range(10):
        r = ks.post("/identity/v3/auth/tokens", {"auth": {"identity": {
            "methods": ["password"], "password": {"user": {"id": uid, "password": "bad"}}}}},
            token=None)
        assert r.status == 401, r
    r = ks.post("/identity/v3/auth/tokens", {"auth": {"identity": {
        "methods": ["password"], "password": {"user": {"id": uid, "password": pw}}}}}, token=None)
    assert r.status == 429, r
    assert 0 < int(r.header("Retry-After")) <= 300
    # other users are not held back
    ks.login("admin", ks.admin_password, "admin")


def test_key_rotation_keeps_tokens(ks, tenants):
    tok = tenants["Breader"]["token"]
    assert ks.get("/v2.1/servers", token=tok).status == 200
    ks.manage("token_rotate")
    time.sleep(1.2)   # kumo-api looks at the key repository once a second
    new, _ = ks.login(tenants["Breader"]["name"], tenants["Breader"]["password"],
                      tenants["B"]["name"])
    assert ks.get("/v2.1/servers", token=tok).status == 200
    assert ks.get("/v2.1/servers", token=new).status == 200
    assert "token keys reloaded" in ks.logs()["api"]


def test_noauth2_refused_off_loopback(tmp_path):
    conf = tmp_path / "kumo.conf"
    pipeline = os.path.join(ROOT, "etc", "kumo", "api-pipeline.ini")
    conf.write_text("[DEFAULT]\nosapi_compute_listen = 0.0.0.0\n[database]\n"
                    "connection = sqlite:///%s\n[api]\napi_paste_config = %s\n"
                    "auth_strategy = noauth2\n" % (tmp_path / "kumo.db", pipeline))
    r = subprocess.run([os.path.join(BUILD, "kumo-api"), "-c", str(conf), "-n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "allow_insecure_noauth" in r.stderr, r
    conf.write_text(conf.read_text() + "allow_insecure_noauth = true\n")
    r = subprocess.run([os.path.join(BUILD, "kumo-api"), "-c", str(conf), "-n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "OK" in r.stdout + r.stderr, r


def test_application_credentials(ks, tenants):
    who = tenants["Amember"]
    tok, _ = ks.login(who["name"], who["password"], tenants["A"]["name"])
    base = "/identity/v3/users/%s/application_credentials" % who["user"]
    r = ks.post(base, {"application_credential": {"name": "ci", "description": "for CI"}},
                token=tok)
    assert r.status == 201, r
    cred = r.json["application_credential"]
    assert len(cred["secret"]) == 86 and cred["project_id"] == tenants["A"]["id"]
    assert sorted(x["name"] for x in cred["roles"]) == ["member", "reader"]
    assert ks.post(base, {"application_credential": {"name": "ci"}}, token=tok).status == 409
    r = ks.post(base, {"application_credential": {"name": "up", "roles": [{"name": "admin"}]}},
                token=tok)
    assert r.status == 400 and "unassigned role" in r.json["error"]["message"], r
    listed = ks.get(base, token=tok).json["application_credentials"]
    assert [c["name"] for c in listed] == ["ci"] and "secret" not in listed[0]
    # another user may not read them
    r = ks.get(base, token=tenants["Bmember"]["token"])
    assert r.status == 403, r
    # logging in with it: the credential's project and roles
    body = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": cred["id"],
                                                             "secret": cred["secret"]}}}}
    r = ks.post("/identity/v3/auth/tokens", body, token=None)
    assert r.status == 201, r
    t = r.json["token"]
    assert t["methods"] == ["application_credential"]
    assert t["project"]["id"] == tenants["A"]["id"]
    assert t["application_credential"]["id"] == cred["id"]
    actok = r.header("X-Subject-Token")
    assert ks.get("/v2.1/servers", token=actok).status == 200
    # by name and user, and a wrong secret
    by_name = {"auth": {"identity": {"methods": ["application_credential"],
               "application_credential": {"name": "ci", "secret": cred["secret"],
                                          "user": {"id": who["user"]}}}}}
    assert ks.post("/identity/v3/auth/tokens", by_name, token=None).status == 201
    body["auth"]["identity"]["application_credential"]["secret"] = "nope"
    assert ks.post("/identity/v3/auth/tokens", body, token=None).status == 401
    # a delegated token makes no more credentials and no other token
    r = ks.post(base, {"application_credential": {"name": "more"}}, token=actok)
    assert r.status == 403, r
    r = ks.post("/identity/v3/auth/tokens", {"auth": {"identity": {
        "methods": ["token"], "token": {"id": actok}}}}, token=None)
    assert r.status == 403, r
    # deleted: its tokens and its secret are dead
    assert ks.delete(base + "/" + cred["id"], token=tok).status == 204
    assert ks.get("/v2.1/servers", token=actok).status == 401
    body["auth"]["identity"]["application_credential"]["secret"] = cred["secret"]
    assert ks.post("/identity/v3/auth/tokens", body, token=None).status == 401
    assert ks.get(base + "/" + cred["id"], token=tok).status == 404


def test_policy_file_overrides():
    c = Cloud(computes=0, auth="keystone")
    with open(os.path.join(c.dir, "policy.yaml"), "w") as f:
        f.write('# operators only create servers\n'
                '"os_compute_api:servers:create": "role:admin"\n'
                '"os_compute_api:os-hypervisors:list": "role:admin or role:reader"\n')
    c.start()
    try:
        proj = c.post("/identity/v3/projects", {"project": {"name": "pol"}}).json["project"]
        tokens = {}
        for role in ("member", "reader"):
            name, pw, _ = make_user(c, proj["id"], role)
            tokens[role], _ = c.login(name, pw, "pol")
        image = c.create_image("pol-img")
        body = {"server": {"name": "p1", "imageRef": image, "flavorRef": "1"}}
        r = c.post("/v2.1/servers", body, token=tokens["member"])
        assert r.status == 403, r
        assert r.json["forbidden"]["message"] == \
            "Policy doesn't allow os_compute_api:servers:create to be performed."
        assert c.post("/v2.1/servers", body).status == 202
        assert c.get("/v2.1/os-hypervisors", token=tokens["reader"]).status == 200
        assert c.get("/v2.1/os-hypervisors", token=tokens["member"]).status == 200
        assert c.get("/v2.1/os-services", token=tokens["reader"]).status == 403
    finally:
        c.stop()
    # an unknown rule or a check that does not parse stops kumo-api, naming the line
    with open(os.path.join(c.dir if os.path.isdir(c.dir) else "/tmp", "bad-policy.yaml"), "w") as f:
        path = f.name
        f.write('"os_compute_api:servers:create": "role:admin"\n'
                '"os_compute_api:servers:fly": "@"\n')
    conf = path + ".conf"
    with open(conf, "w") as f:
        f.write("[api]\napi_paste_config = %s\n[oslo_policy]\npolicy_file = %s\n"
                % (os.path.join(ROOT, "etc", "kumo", "api-pipeline.ini"), path))
    r = subprocess.run([os.path.join(BUILD, "kumo-api"), "-c", conf, "-n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "%s:2: unknown rule 'os_compute_api:servers:fly'" % path \
        in r.stderr, r
    os.unlink(path)
    os.unlink(conf)


def test_logins_do_not_hold_the_api():
    """Password checks (bcrypt, here at cost 15: about a second of CPU each)
    run off the HTTP workers: while eight logins are being checked, other
    requests are answered before any login is."""
    import threading
    c = Cloud(computes=0, auth="keystone",
              extra_conf={"identity": {"password_hash_rounds": "15"}})
    c.start()
    try:
        done = []

        def login():
            c.login("admin", c.admin_password, "admin")
            done.append(1)
        threads = [threading.Thread(target=login) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.3)   # let them reach kumo-api
        for _ in range(20):
            assert c.get("/v2.1/servers").status == 200
            assert c.get("/identity/v3/auth/tokens",
                         headers={"X-Subject-Token": c.admin_token}).status == 200
        answered_during = len(done)
        for t in threads:
            t.join(120)
        assert answered_during == 0 and len(done) == 8, (answered_during, len(done))
    finally:
        c.stop()


def test_route_matrix(ks, tenants):
    """Every route, as an anonymous client, another project's member and a
    reader: 401 without a token; the identity service's admin calls 403 to
    members and readers; compute and image changes 403 to readers."""
    a, b = tenants["A"], tenants["B"]
    am, ar, bm = (tenants[k]["token"] for k in ("Amember", "Areader", "Bmember"))
    ua, ub = tenants["Amember"]["user"], tenants["Breader"]["user"]
    role = ks.get("/identity/v3/roles?name=reader").json["roles"][0]["id"]
    svc = ks.get("/identity/v3/services").json["services"][0]["id"]
    # a project none of the three callers belongs to
    c = admin_post(ks, "/projects", {"project": {"name": "projC-" + uuid.uuid4().hex[:6]}})["project"]
    grant = "/identity/v3/projects/%s/users/%s/roles/%s" % (a["id"], ua, role)
    admin_only = [
        ("GET", "/identity/v3/users", None),
        ("POST", "/identity/v3/users", {"user": {"name": "x1"}}),
        ("GET", "/identity/v3/users/%s" % ub, None),
        ("PATCH", "/identity/v3/users/%s" % ub, {"user": {"enabled": False}}),
        ("DELETE", "/identity/v3/users/%s" % ub, None),
        ("GET", "/identity/v3/users/%s/projects" % ub, None),
        ("GET", "/identity/v3/users/%s/application_credentials" % ub, None),
        ("GET", "/identity/v3/projects", None),
        ("POST", "/identity/v3/projects", {"project": {"name": "x2"}}),
        ("GET", "/identity/v3/projects/%s" % c["id"], None),
        ("PATCH", "/identity/v3/projects/%s" % a["id"], {"project": {"enabled": False}}),
        ("DELETE", "/identity/v3/projects/%s" % a["id"], None),
        ("GET", "/identity/v3/projects/%s/users/%s/roles" % (a["id"], ua), None),
        ("PUT", grant, None), ("HEAD", grant, None), ("GET", grant, None),
        ("DELETE", grant, None),
        ("PUT", "/identity/v3/domains/default/users/%s/roles/%s" % (ua, role), None),
        ("GET", "/identity/v3/role_assignments", None),
        ("GET", "/identity/v3/roles", None),
        ("POST", "/identity/v3/roles", {"role": {"name": "x3"}}),
        ("GET", "/identity/v3/roles/%s" % role, None),
        ("DELETE", "/identity/v3/roles/%s" % role, None),
        ("GET", "/identity/v3/domains", None),
        ("POST", "/identity/v3/services", {"service": {"type": "x4"}}),
        ("POST", "/identity/v3/endpoints", {"endpoint": {
            "service_id": svc, "interface": "public", "url": "http://x"}}),
        ("POST", "/identity/v3/regions", {"region": {"id": "x5"}}),
    ]
    for method, path, body in admin_only:
        assert ks.request(method, path, body=body, token=None).status == 401, (method, path)
        for tok in (ar, am, bm):
            r = ks.request(method, path, body=body, token=tok)
            assert r.status == 403, (method, path, r)
    # what any valid token may read
    for path in ("/identity/v3/services", "/identity/v3/endpoints", "/identity/v3/regions",
                 "/identity/v3/auth/catalog", "/identity/v3/auth/projects",
                 "/identity/v3/auth/domains", "/identity/v3/domains/default",
                 "/identity/v3/users/%s" % tenants["Areader"]["user"],
                 "/identity/v3/projects/%s" % a["id"]):
        assert ks.get(path, token=None).status == 401, path
        assert ks.get(path, token=ar).status == 200, path
    # compute and image: anonymous 401 everywhere, readers change nothing
    sid = "00000000-0000-4000-8000-000000000000"
    routes = [
        ("GET", "/v2.1/flavors"), ("GET", "/v2.1/flavors/detail"), ("GET", "/v2.1/flavors/1"),
        ("GET", "/v2.1/flavors/1/os-extra_specs"), ("POST", "/v2.1/flavors"),
        ("DELETE", "/v2.1/flavors/1"), ("GET", "/v2.1/servers"), ("POST", "/v2.1/servers"),
        ("GET", "/v2.1/servers/detail"), ("GET", "/v2.1/servers/" + sid),
        ("DELETE", "/v2.1/servers/" + sid), ("POST", "/v2.1/servers/%s/action" % sid),
        ("GET", "/v2.1/servers/%s/os-instance-actions" % sid),
        ("GET", "/v2.1/servers/%s/os-instance-actions/req-1" % sid),
        ("GET", "/v2.1/os-keypairs"), ("POST", "/v2.1/os-keypairs"),
        ("GET", "/v2.1/os-keypairs/k"), ("DELETE", "/v2.1/os-keypairs/k"),
        ("GET", "/v2.1/os-hypervisors"), ("GET", "/v2.1/os-hypervisors/detail"),
        ("GET", "/v2.1/os-hypervisors/1"), ("GET", "/v2.1/os-hypervisors/1/uptime"),
        ("GET", "/v2.1/os-services"), ("GET", "/v2.1/os-aggregates"), ("GET", "/v2.1/limits"),
        ("GET", "/v2.1/os-quota-sets/%s" % a["id"]),
        ("GET", "/v2.1/os-quota-sets/%s/detail" % a["id"]),
        ("GET", "/v2.1/os-quota-sets/%s/defaults" % a["id"]),
        ("PUT", "/v2.1/os-quota-sets/%s" % a["id"]), ("DELETE", "/v2.1/os-quota-sets/%s" % a["id"]),
        ("GET", "/v2.1/os-availability-zone"), ("GET", "/v2.1/images"),
        ("GET", "/v2.1/images/detail"), ("GET", "/v2.1/images/" + sid),
        ("POST", "/v2/images"), ("GET", "/v2/images"), ("GET", "/v2/images/" + sid),
        ("DELETE", "/v2/images/" + sid), ("PUT", "/v2/images/%s/file" % sid),
        ("GET", "/v2/images/%s/file" % sid), ("GET", "/image/v2/images"),
        ("GET", "/v2.1/servers/%s/ips" % sid), ("GET", "/v2.1/servers/%s/ips/private" % sid),
        ("GET", "/v2.1/os-networks"), ("GET", "/v2.1/os-networks/" + sid),
        ("PUT", "/v2.1/servers/" + sid), ("GET", "/v2.1/servers/%s/os-server-password" % sid),
        ("DELETE", "/v2.1/servers/%s/os-server-password" % sid),
        ("GET", "/v2.1/os-hosts"), ("GET", "/v2.1/os-hosts/compute1"),
        ("PUT", "/v2.1/os-hosts/compute1"), ("GET", "/v2.1/os-hosts/compute1/reboot"),
        ("GET", "/v2.1/os-hypervisors/statistics"), ("GET", "/v2.1/os-hypervisors/c/search"),
        ("GET", "/v2.1/os-hypervisors/c/servers"), ("GET", "/v2.1/os-simple-tenant-usage"),
        ("GET", "/v2.1/os-simple-tenant-usage/%s" % a["id"]),
        ("GET", "/v2.1/os-instance_usage_audit_log"), ("GET", "/v2.1/os-migrations"),
    ]
    for method, path in routes:
        body = {} if method in ("POST", "PUT") and "/file" not in path else None
        assert ks.request(method, path, body=body, token=None).status == 401, (method, path)
        if method != "GET":
            r = ks.request(method, path, body=body, token=ar)
            assert r.status == 403, (method, path, r)
    # the networks are readable to a reader (clients resolve them by name)
    assert ks.get("/v2.1/os-networks", token=ar).status == 200
    # os-flavor-access: admin only, the list included; real bodies, so
    # that the answer is the policy's and not the body check's
    for method, path, body in (
            ("GET", "/v2.1/flavors/1/os-flavor-access", None),
            ("POST", "/v2.1/flavors/1/action", {"addTenantAccess": {"tenant": a["id"]}}),
            ("POST", "/v2.1/flavors/1/action",
             {"removeTenantAccess": {"tenant": a["id"]}})):
        assert ks.request(method, path, body=body, token=None).status == 401, (method, path)
        for tok in (ar, am, bm):
            r = ks.request(method, path, body=body, token=tok)
            assert r.status == 403, (method, path, r)


def test_expired_and_foreign_tokens(ks, tenants):
    """A token whose expiry has passed (re-sealed with the cloud's own key,
    as an attacker holding an old token cannot, but a clock can) and a token
    of another cloud's keys: 401 to the API, 404 to validation."""
    from calendar import timegm
    from cryptography.fernet import Fernet
    tok, body = ks.login(tenants["Amember"]["name"], tenants["Amember"]["password"],
                         tenants["A"]["name"])
    keydir = os.path.join(ks.dir, "fernet-keys")
    primary = max(int(f) for f in os.listdir(keydir) if f.isdigit())
    f = Fernet(open(os.path.join(keydir, str(primary)), "rb").read().strip())
    plain = f.decrypt(tok.encode() + b"=" * (-len(tok) % 4))
    exp = timegm(time.strptime(body["token"]["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    old = exp.to_bytes(8, "big")
    assert plain.count(old) == 1
    past = plain.replace(old, (int(time.time()) - 10).to_bytes(8, "big"))
    expired = f.encrypt_at_time(past, int(time.time()) - 3700).decode().rstrip("=")
    assert ks.get("/v2.1/servers", token=expired).status == 401
    r = ks.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": expired})
    assert r.status == 404 and r.json["error"]["message"] == "Failed to validate token"
    # the untouched token still works: the re-sealing was right
    resealed = f.encrypt_at_time(plain, int(time.time())).decode().rstrip("=")
    assert ks.get("/v2.1/servers", token=resealed).status == 200
    other = Cloud(computes=0, auth="keystone").start()
    try:
        foreign = other.admin_token
        assert ks.get("/v2.1/servers", token=foreign).status == 401
        r = ks.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": foreign})
        assert r.status == 404 and r.json["error"]["message"] == "Could not recognize Fernet token"
    finally:
        other.stop()
