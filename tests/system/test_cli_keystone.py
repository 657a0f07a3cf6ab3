"""kumo's CLI logging in as openstackclient does, against a keystone cloud
(kumo-api with auth_strategy = keystone, its /identity/v3, one fake compute):
OS_* variables, a clouds.yaml with --os-cloud, flags over both, the token
cache (0600, one login for several commands, refused when open to others,
dropped on a 401), a wrong password (exit 6, the password nowhere), and
`token issue`. The noauth2 path is test_cli.py's."""
import json
import os
import stat
import subprocess
import uuid

import pytest

from kumocloud import BUILD, Cloud

KUMO = os.path.join(BUILD, "kumo")
KS_401 = "authentication failed (401): The request you have made requires authentication."


@pytest.fixture(scope="module")
def ks():
    c = Cloud(computes=1, auth="keystone").start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def member(ks):
    """A project, a member user with a password, a public image."""
    suffix = uuid.uuid4().hex[:8]
    proj = ks.post("/identity/v3/projects", {"project": {
        "name": "cli-" + suffix, "domain_id": "default"}})
    assert proj.status == 201, proj
    pw = "pw-" + uuid.uuid4().hex
    user = ks.post("/identity/v3/users", {"user": {
        "name": "cliuser-" + suffix, "password": pw, "domain_id": "default"}})
    assert user.status == 201, user
    role = [x["id"] for x in ks.get("/identity/v3/roles?name=member").json["roles"]][0]
    r = ks.request("PUT", "/identity/v3/projects/%s/users/%s/roles/%s" % (
        proj.json["project"]["id"], user.json["user"]["id"], role))
    assert r.status == 204, r
    img = ks.post("/v2/images", {"name": "cli-ks-img", "disk_format": "qcow2",
                                 "container_format": "bare", "visibility": "public"})
    assert img.status == 201, img
    return {"project": proj.json["project"]["name"],
            "project_id": proj.json["project"]["id"],
            "user": user.json["user"]["name"], "user_id": user.json["user"]["id"],
            "password": pw}


def base_env(ks, home):
    """The cloud's environment without KUMO_* or OS_*, HOME in a temp dir."""
    env = {k: v for k, v in ks.env.items()
           if not k.startswith(("KUMO_", "OS_", "XDG_"))}
    env["HOME"] = str(home)
    return env


def os_env(ks, member, home, **extra):
    env = base_env(ks, home)
    env.update({"OS_AUTH_URL": ks.url + "/identity/v3", "OS_USERNAME": member["user"],
                "OS_PASSWORD": member["password"], "OS_PROJECT_NAME": member["project"],
                "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"})
    env.update(extra)
    return env


def kumo(env, *args, check=True):
    p = subprocess.run([KUMO, "-f", "json", *args], capture_output=True, text=True,
                       timeout=120, env=env)
    if check:
        assert p.returncode == 0, "kumo %s: rc %d\n%s" % (" ".join(args), p.returncode, p.stderr)
    return p


def logins(ks, user_id):
    return ks.logs()["api"].count("token issued to user %s " % user_id)


def cache_files(home):
    d = home / ".cache" / "kumo"
    return sorted(d.glob("token-*.json")) if d.exists() else []


def server_cycle(ks, env, name):
    s = json.loads(kumo(env, "server", "create", "--flavor", "1", "--image", "cli-ks-img",
                        "--wait", name).stdout)
    assert s["status"] == "ACTIVE" and s["name"] == name
    assert name in [x["name"] for x in json.loads(kumo(env, "server", "list").stdout)]
    kumo(env, "server", "delete", name, "--wait")
    ks.wait_gone(s["id"])
    return s


def test_os_variables(ks, member, tmp_path):
    env = os_env(ks, member, tmp_path)
    before = logins(ks, member["user_id"])
    assert json.loads(kumo(env, "server", "list").stdout) == []
    s = server_cycle(ks, env, "ks-env-1")
    assert s["tenant_id"] == member["project_id"]
    # one login for all of it: the token came from the cache after the first
    assert logins(ks, member["user_id"]) == before + 1
    files = cache_files(tmp_path)
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700
    # images come from the catalog's image endpoint
    names = [i["name"] for i in json.loads(kumo(env, "image", "list").stdout)]
    assert "cli-ks-img" in names
    assert logins(ks, member["user_id"]) == before + 1


def test_clouds_yaml(ks, member, tmp_path):
    yaml = tmp_path / "clouds.yaml"
    yaml.write_text("""# as openstackclient reads it
clouds:
  other:
    auth: {auth_url: http://127.0.0.1:1/v3, username: x, password: y, project_name: z}
  kumo-test:
    auth:
      auth_url: %s/identity/v3
      username: %s
      password: "%s"
      project_name: %s
      user_domain_name: Default
      project_domain_id: default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
""" % (ks.url, member["user"], member["password"], member["project"]))
    env = base_env(ks, tmp_path)
    env["OS_CLIENT_CONFIG_FILE"] = str(yaml)
    before = logins(ks, member["user_id"])
    assert json.loads(kumo(env, "--os-cloud", "kumo-test", "server", "list").stdout) == []
    # OS_CLOUD names it too; the same login, from the cache
    s = server_cycle(ks, dict(env, OS_CLOUD="kumo-test"), "ks-yaml-1")
    assert s["tenant_id"] == member["project_id"]
    assert logins(ks, member["user_id"]) == before + 1
    [f] = cache_files(tmp_path)
    assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_clouds_yaml_flag_and_precedence(ks, member, tmp_path):
    yaml = tmp_path / "clouds.yaml"
    yaml.write_text("clouds:\n  c1:\n    auth:\n      auth_url: %s/identity/v3\n"
                    "      username: %s\n      password: wrong-in-file\n"
                    "      project_name: %s\n" % (ks.url, member["user"], member["project"]))
    env = base_env(ks, tmp_path)
    env["OS_CLIENT_CONFIG_FILE"] = str(yaml)
    # the file's password is wrong: the variable wins over it, the flag over both
    p = kumo(env, "--os-cloud", "c1", "server", "list", check=False)
    assert p.returncode == 6 and KS_401 in p.stderr
    kumo(dict(env, OS_PASSWORD=member["password"]), "--os-cloud", "c1", "server", "list")
    p = kumo(dict(env, OS_PASSWORD="wrong-env"), "--os-cloud", "c1", "--os-interface",
             "internal", "--os-password", member["password"], "server", "list")
    assert p.returncode == 0, p.stderr
    # a region the catalog does not have
    p = kumo(dict(env, OS_PASSWORD=member["password"]), "--os-cloud", "c1",
             "--os-region-name", "Nowhere", "server", "list", check=False)
    assert p.returncode == 1 and "no public endpoint of type compute in region Nowhere" in p.stderr


def test_clouds_yaml_errors(ks, member, tmp_path):
    env = base_env(ks, tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("clouds:\n  c1: [unclosed\n")
    p = kumo(dict(env, OS_CLIENT_CONFIG_FILE=str(bad)), "--os-cloud", "c1", "server", "list",
             check=False)
    assert p.returncode == 1 and p.stderr.startswith("kumo: %s: line " % bad), p.stderr
    p = kumo(dict(env, OS_CLIENT_CONFIG_FILE=str(bad), OS_CLOUD="c1"), "server", "list",
             check=False)
    assert p.returncode == 1 and str(bad) in p.stderr
    missing = tmp_path / "missing.yaml"
    p = kumo(dict(env, OS_CLIENT_CONFIG_FILE=str(missing)), "--os-cloud", "c1",
             "server", "list", check=False)
    assert p.returncode == 1
    assert p.stderr.strip() == "kumo: %s: No such file or directory" % missing
    good = tmp_path / "good.yaml"
    good.write_text("clouds:\n  c1:\n    auth: {auth_url: http://x}\n")
    p = kumo(dict(env, OS_CLIENT_CONFIG_FILE=str(good)), "--os-cloud", "c2",
             "server", "list", check=False)
    assert p.returncode == 1
    assert p.stderr.strip() == "kumo: %s: no cloud named 'c2'" % good
    # ./clouds.yaml when OS_CLIENT_CONFIG_FILE is not set
    (tmp_path / "clouds.yaml").write_text("clouds:\n  c1:\n    auth: [1, 2]\n")
    p = subprocess.run([KUMO, "--os-cloud", "c1", "server", "list"], capture_output=True,
                       text=True, timeout=60, env=env, cwd=str(tmp_path))
    assert p.returncode == 1
    assert p.stderr.strip() == "kumo: clouds.yaml: line 3: 'auth' is not a mapping"


def test_wrong_password(ks, member, tmp_path):
    secret = "Wrong-" + uuid.uuid4().hex
    env = os_env(ks, member, tmp_path, OS_PASSWORD=secret)
    p = kumo(env, "server", "list", check=False)
    assert p.returncode == 6
    assert p.stderr.strip() == "kumo: " + KS_401
    p2 = kumo(os_env(ks, member, tmp_path / "h2"), "--os-password", secret,
              "server", "list", check=False)
    assert p2.returncode == 6
    for out in (p.stdout, p.stderr, p2.stdout, p2.stderr):
        assert secret not in out and member["password"] not in out
    assert cache_files(tmp_path) == [] and cache_files(tmp_path / "h2") == []
    for text in ks.logs().values():
        assert secret not in text
    # nothing to log in with
    env = os_env(ks, member, tmp_path)
    del env["OS_PASSWORD"]
    p = kumo(env, "server", "list", check=False)
    assert p.returncode == 2 and "a login needs a user name, a password" in p.stderr


def test_cache_open_to_others_refused(ks, member, tmp_path):
    env = os_env(ks, member, tmp_path)
    kumo(env, "server", "list")
    [f] = cache_files(tmp_path)
    os.chmod(f, 0o644)
    before = logins(ks, member["user_id"])
    p = kumo(env, "server", "list")
    assert "token cache %s is open to others (mode 0644); not used" % f in p.stderr
    assert logins(ks, member["user_id"]) == before + 1
    # the new token replaced the file, private again
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert "open to others" not in kumo(env, "server", "list").stderr
    assert logins(ks, member["user_id"]) == before + 1


def test_stale_cached_token_logs_in_again(ks, member, tmp_path):
    env = os_env(ks, member, tmp_path)
    tok = json.loads(kumo(env, "token", "issue").stdout)["id"]
    # revoke the cached token behind the CLI's back
    r = ks.delete("/identity/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status == 204, r
    before = logins(ks, member["user_id"])
    p = kumo(env, "server", "list")
    assert p.stderr == ""
    assert logins(ks, member["user_id"]) == before + 1
    assert json.loads(kumo(env, "token", "issue").stdout)["id"] != tok


def test_token_issue(ks, member, tmp_path):
    env = os_env(ks, member, tmp_path)
    t = json.loads(kumo(env, "token", "issue").stdout)
    assert sorted(t) == ["expires", "id", "project_id", "user_id"]
    assert t["project_id"] == member["project_id"] and t["user_id"] == member["user_id"]
    assert t["id"].startswith("gAAAAA") and t["expires"].endswith("+0000")
    v = ks.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": t["id"]})
    assert v.status == 200 and v.json["token"]["user"]["id"] == member["user_id"]
    table = subprocess.run([KUMO, "token", "issue"], capture_output=True, text=True,
                           timeout=60, env=env).stdout
    for field in ("expires", "id", "project_id", "user_id"):
        assert "| %s " % field in table
    # no login, no token to show
    p = kumo(base_env(ks, tmp_path), "--token", "admin:admin", "token", "issue", check=False)
    assert p.returncode == 2


def test_token_flag_wins(ks, member, tmp_path):
    """--token with --url is token auth, even with OS_* set."""
    env = os_env(ks, member, tmp_path, OS_PASSWORD="not-used")
    tok, _ = ks.login(member["user"], member["password"], member["project"])
    p = kumo(env, "--url", ks.url, "--token", tok, "server", "list")
    assert json.loads(p.stdout) == [] and cache_files(tmp_path) == []
    p = kumo(env, "--url", ks.url, "--token", "admin:admin", "server", "list", check=False)
    assert p.returncode == 6
