"""kumo's CLI, the parts that are not a plain REST call: `image create --file`
(the upload streamed from disk, then checked), `completion bash` (generated
from the command table) and the config file (flags > environment > file)."""
import hashlib
import json
import os
import subprocess

import pytest

from kumocloud import BUILD

KUMO = os.path.join(BUILD, "kumo")
NOUNS = ["server", "console", "flavor", "keypair", "limits", "image", "network",
         "hypervisor", "service", "token", "completion"]


def env_for(cloud, tmp_path, **extra):
    """The cloud's environment without KUMO_*, a HOME of its own, plus extra."""
    env = {k: v for k, v in cloud.env.items() if not k.startswith("KUMO_")}
    env.pop("XDG_CONFIG_HOME", None)
    env["HOME"] = str(tmp_path)
    env.update(extra)
    return env


def run(env, *args):
    return subprocess.run([KUMO, *args], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.fixture
def kumo(cloud, tmp_path):
    env = env_for(cloud, tmp_path)

    def k(*args):
        return run(env, "--url", cloud.url, "-f", "json", *args)
    return k


def test_image_upload(kumo, cloud, tmp_path):
    data = os.urandom(5 * 1024 * 1024 + 17)
    f = tmp_path / "disk.img"
    f.write_bytes(data)
    p = kumo("image", "create", "cli-up", "--file", str(f), "--disk-format", "raw",
             "--property", "os_distro=cirros", "--property", "note=a=b")
    assert p.returncode == 0, p.stderr
    img = json.loads(p.stdout)
    assert (img["name"], img["status"], img["size"]) == ("cli-up", "active", len(data))
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    assert img["os_hash_value"] == hashlib.sha256(data).hexdigest()
    assert (img["disk_format"], img["os_distro"], img["note"]) == ("raw", "cirros", "a=b")
    # stderr is not a terminal: no bar, one summary line
    assert "\r" not in p.stderr
    assert p.stderr.startswith("%s: uploaded 5.0 MiB in " % f), p.stderr

    p = kumo("image", "show", "cli-up")
    assert p.returncode == 0, p.stderr
    shown = json.loads(p.stdout)
    for key in ("id", "name", "status", "size", "checksum", "disk_format",
                "container_format", "os_distro"):
        assert shown[key] == img[key], key
    assert cloud.get("/v2/images/%s/file" % img["id"]).raw == data

    p = run(env_for(cloud, tmp_path), "--url", cloud.url, "image", "show", "cli-up")
    assert p.returncode == 0 and "| status " in p.stdout and "| active " in p.stdout
    assert kumo("image", "delete", "cli-up").returncode == 0
    assert kumo("image", "show", "cli-up").returncode == 3


def test_image_create_metadata_only(kumo):
    p = kumo("image", "create", "cli-meta")
    assert p.returncode == 0, p.stderr
    img = json.loads(p.stdout)
    assert (img["status"], img["disk_format"], img["size"]) == ("queued", "qcow2", None)
    assert kumo("image", "delete", img["id"]).returncode == 0


def test_image_create_bad_arguments(kumo, tmp_path):
    f = tmp_path / "x.img"
    f.write_bytes(b"x" * 10)
    p = kumo("image", "create", "--file", str(f), "--disk-format", "vmdk", "cli-bad")
    assert p.returncode == 2 and "--disk-format takes raw or qcow2" in p.stderr
    p = kumo("image", "create", "--property", "novalue", "cli-bad")
    assert p.returncode == 2 and "--property takes KEY=VALUE" in p.stderr
    p = kumo("image", "create", "--property", "=v", "cli-bad")
    assert p.returncode == 2
    assert kumo("image", "create", "--bogus", "cli-bad").returncode == 2
    assert kumo("image", "create").returncode == 2
    p = kumo("image", "create", "--file", str(tmp_path / "missing.img"), "cli-bad")
    assert p.returncode == 1
    assert p.stderr.strip() == "kumo: %s: No such file or directory" % (tmp_path / "missing.img")
    p = kumo("image", "create", "--file", str(tmp_path), "cli-bad")
    assert p.returncode == 1 and "not a regular file" in p.stderr
    # none of these created an image
    names = [i["name"] for i in json.loads(kumo("image", "list").stdout)]
    assert "cli-bad" not in names


def test_completion_bash(cloud, tmp_path):
    env = env_for(cloud, tmp_path)
    p = run(env, "completion", "bash")
    assert p.returncode == 0, p.stderr
    script = p.stdout
    for noun in NOUNS:
        assert noun in script
    assert ('"server create") words="--flavor --image --key-name --nic --user-data '
            '--config-drive --property --wait"') in script
    assert '"server ssh") words="--login --identity --network"' in script
    assert '"image create") words="--file --disk-format --property"' in script
    (tmp_path / "kumo.bash").write_text(script)
    probe = r"""
source "$1"
t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _kumo
      echo "${COMPREPLY[*]}"; }
t kumo ""
t kumo -f json server ""
t kumo --url http://x server create --
t kumo image create n --p
"""
    out = subprocess.run(["bash", "-c", probe, "bash", str(tmp_path / "kumo.bash")],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.splitlines() == [
        " ".join(NOUNS),
        "list show create delete ssh reboot stop start events",
        "--flavor --image --key-name --nic --user-data --config-drive --property --wait",
        "--property",
    ]


def test_config_file_precedence(cloud, tmp_path):
    conf = tmp_path / "kumo.conf"
    conf.write_text("# kumo CLI\nurl = %s\n\ntoken = demo:demo  # not an admin\n" % cloud.url)
    env = env_for(cloud, tmp_path, KUMO_CONFIG=str(conf))
    bad_url = "http://127.0.0.1:1"

    # the file alone: its url and its (non-admin) token
    assert run(env, "flavor", "list").returncode == 0
    assert run(env, "hypervisor", "list").returncode == 6
    # the environment overrides the file ...
    env2 = dict(env, KUMO_TOKEN="admin:admin")
    assert run(env2, "hypervisor", "list").returncode == 0
    env3 = dict(env, KUMO_URL=bad_url)
    p = run(env3, "flavor", "list")
    assert p.returncode == 1 and bad_url in p.stderr
    # ... and flags override the environment
    assert run(env2, "--token", "demo:demo", "hypervisor", "list").returncode == 6
    assert run(env3, "--url", cloud.url, "flavor", "list").returncode == 0


def test_config_file_default_path_and_warnings(cloud, tmp_path):
    d = tmp_path / ".config" / "kumo"
    d.mkdir(parents=True)
    (d / "config").write_text("url = %s\ncolour = blue\nnonsense\ntoken =\n" % cloud.url)
    p = run(env_for(cloud, tmp_path), "-f", "json", "flavor", "list")
    assert p.returncode == 0, p.stderr
    path = d / "config"
    assert p.stderr.splitlines() == [
        "kumo: %s:2: unknown key 'colour' (known: url, token)" % path,
        "kumo: %s:3: expected 'key = value'" % path,
        "kumo: %s:4: empty value for 'token'" % path,
    ]
    p = run(env_for(cloud, tmp_path, KUMO_CONFIG=str(tmp_path / "nope")),
            "--url", cloud.url, "flavor", "list")
    assert p.returncode == 0
    assert p.stderr.strip() == "kumo: %s: No such file or directory (ignored)" % (tmp_path / "nope")
