"""POST /v2.1/os-keypairs without a public key: kumo generates an RSA key pair
as Nova does (below 2.92), with Nova's shapes and status codes per
microversion, its errors, the key_pairs quota, and the bound on generations
running at once."""
import base64
import concurrent.futures
import os
import subprocess

PUBKEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWYOKgQWdjz4kjtLXl/rfxc6xfj/"
          "dZVe8je96Pcxtue kumo-test")


def mv(v):
    return {"OpenStack-API-Version": "compute %s" % v}


def create(cloud, body, version="2.1", token="admin:admin"):
    return cloud.post("/v2.1/os-keypairs", {"keypair": body}, headers=mv(version),
                      token=token)


def assert_fault(r, status, kind, text):
    assert r.status == status, r
    assert list(r.json) == [kind], r
    assert r.json[kind]["code"] == status
    assert text in r.json[kind]["message"], r


def check_pair(kp, tmp_path):
    """The private key is a PKCS#1 PEM whose public half and MD5 fingerprint
    are the ones answered."""
    assert kp["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    kind, blob, comment = kp["public_key"].split(" ")
    assert (kind, comment) == ("ssh-rsa", "Generated-by-Nova")
    if not os.path.exists("/usr/bin/ssh-keygen"):
        return
    pem = tmp_path / ("%s.pem" % kp["name"])
    pem.write_text(kp["private_key"])
    pem.chmod(0o600)
    out = subprocess.run(["ssh-keygen", "-y", "-f", str(pem)], capture_output=True,
                         text=True, check=True).stdout
    assert out.split()[:2] == [kind, blob]
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(pem)],
                         capture_output=True, text=True, check=True).stdout
    assert out.split()[:2] == ["2048", "MD5:" + kp["fingerprint"]]


def test_generate_by_microversion(cloud, tmp_path):
    r = create(cloud, {"name": "gen-21"})
    assert r.status == 200, r           # 2.1: 200 and no type
    kp = r.json["keypair"]
    assert sorted(kp) == ["fingerprint", "name", "private_key", "public_key", "user_id"]
    assert (kp["name"], kp["user_id"]) == ("gen-21", "admin")
    check_pair(kp, tmp_path)

    r = create(cloud, {"name": "gen-22", "type": "ssh"}, "2.2")
    assert r.status == 201, r           # 2.2: 201 and type
    kp2 = r.json["keypair"]
    assert sorted(kp2) == ["fingerprint", "name", "private_key", "public_key", "type",
                           "user_id"]
    assert kp2["type"] == "ssh"
    check_pair(kp2, tmp_path)
    assert kp2["public_key"] != kp["public_key"]

    r = create(cloud, {"name": "gen-291"}, "2.91")
    assert r.status == 201, r
    # the private key is answered once, never kept
    r = cloud.get("/v2.1/os-keypairs/gen-291", headers=mv("2.91"))
    assert r.status == 200 and "private_key" not in r.json["keypair"], r
    assert r.json["keypair"]["public_key"].endswith(" Generated-by-Nova")

    # 2.10: an admin generates a key pair for another user
    r = create(cloud, {"name": "gen-other", "user_id": "someone"}, "2.10")
    assert r.status == 201 and r.json["keypair"]["user_id"] == "someone", r
    r = cloud.get("/v2.1/os-keypairs/gen-other?user_id=someone", headers=mv("2.10"))
    assert r.status == 200, r
    r = create(cloud, {"name": "gen-x", "user_id": "admin"}, "2.10", token="u1:p1")
    assert_fault(r, 403, "forbidden", "os_compute_api:os-keypairs:create")

    for name, v in (("gen-21", "2.1"), ("gen-22", "2.2"), ("gen-291", "2.91")):
        assert cloud.delete("/v2.1/os-keypairs/" + name, headers=mv(v)).status in (202, 204)
    assert cloud.delete("/v2.1/os-keypairs/gen-other?user_id=someone",
                        headers=mv("2.10")).status == 204


def test_generate_refused(cloud):
    # 2.92 and later: Nova no longer generates
    r = create(cloud, {"name": "gen-292"}, "2.92")
    assert_fault(r, 400, "badRequest", "'public_key' is a required property")
    r = create(cloud, {"name": "gen-293", "public_key": PUBKEY}, "2.93")
    assert r.status == 201 and "private_key" not in r.json["keypair"], r
    assert cloud.delete("/v2.1/os-keypairs/gen-293", headers=mv("2.93")).status == 204
    # a public_key that is there but empty is an import, and a bad one
    r = create(cloud, {"name": "gen-empty", "public_key": ""})
    assert_fault(r, 400, "badRequest",
                 "Keypair data is invalid: failed to generate fingerprint")
    r = create(cloud, {"name": "gen-bad name!"})
    assert_fault(r, 400, "badRequest", "Keypair name contains unsafe characters")
    # a taken name is refused before generating
    assert create(cloud, {"name": "gen-dup"}).status == 200
    r = create(cloud, {"name": "gen-dup"})
    assert_fault(r, 409, "conflictingRequest", "Key pair 'gen-dup' already exists.")
    assert cloud.delete("/v2.1/os-keypairs/gen-dup").status == 202
    assert cloud.get("/v2.1/os-keypairs", token="u1:p1").json == {"keypairs": []}


def openssl(*args, data=None):
    p = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode()


def test_x509(cloud, tmp_path):
    """Type x509 (2.2+): Nova's WinRM certificate. Generated: a self-signed
    certificate for CN=<user>, client authentication, the UPN
    <user>@localhost; the private key is the base64 PKCS#12 (password "");
    the fingerprint the certificate's SHA-1. Imported: a PEM certificate."""
    r = create(cloud, {"name": "x509-gen", "type": "x509"}, "2.2")
    assert r.status == 201, r
    kp = r.json["keypair"]
    assert (kp["type"], kp["user_id"]) == ("x509", "admin")
    assert kp["public_key"].startswith("-----BEGIN CERTIFICATE-----\n")
    assert len(kp["fingerprint"]) == 59 and kp["fingerprint"] == kp["fingerprint"].lower()
    cert = tmp_path / "cert.pem"
    cert.write_text(kp["public_key"])
    out = openssl("x509", "-in", str(cert), "-noout", "-subject", "-fingerprint", "-sha1",
                  "-ext", "subjectAltName,extendedKeyUsage")
    assert "subject=CN = admin" in out
    assert "Fingerprint=" + kp["fingerprint"].upper() in out
    assert "TLS Web Client Authentication" in out and "UPN::admin@localhost" in out
    bundle = tmp_path / "key.p12"
    bundle.write_bytes(base64.b64decode(kp["private_key"], validate=True))
    pem = openssl("pkcs12", "-in", str(bundle), "-passin", "pass:", "-nodes")
    assert "-----BEGIN PRIVATE KEY-----" in pem
    assert kp["public_key"].split("-----")[2].strip() in pem.replace("\r", "")
    shown = cloud.get("/v2.1/os-keypairs/x509-gen", headers=mv("2.2")).json["keypair"]
    assert "private_key" not in shown and shown["public_key"] == kp["public_key"]

    # import: the fingerprint of a PEM certificate
    r = create(cloud, {"name": "x509-imp", "type": "x509", "public_key": kp["public_key"]},
               "2.2")
    assert r.status == 201 and r.json["keypair"]["fingerprint"] == kp["fingerprint"], r
    r = create(cloud, {"name": "x509-bad", "type": "x509", "public_key": PUBKEY}, "2.2")
    assert_fault(r, 400, "badRequest", "failed to generate X509 fingerprint")
    # the user id is the common name: at most 64 characters
    r = create(cloud, {"name": "x509-long", "type": "x509", "user_id": "u" * 65}, "2.10")
    assert_fault(r, 400, "badRequest", "user_id of at most 64 bytes")
    # below 2.2 there is no type
    r = create(cloud, {"name": "x509-21", "type": "x509"}, "2.1")
    assert_fault(r, 400, "badRequest", "Additional properties are not allowed")
    r = create(cloud, {"name": "x509-22", "user_id": "admin"}, "2.2")   # user_id: 2.10
    assert_fault(r, 400, "badRequest", "Additional properties are not allowed")
    for name in ("x509-gen", "x509-imp"):
        assert cloud.delete("/v2.1/os-keypairs/" + name, headers=mv("2.2")).status == 204


def test_generate_quota(cloud):
    token = "kq-user:kq-project"
    r = cloud.request("PUT", "/v2.1/os-quota-sets/kq-project",
                      body={"quota_set": {"key_pairs": 1}})
    assert r.status == 200, r
    assert create(cloud, {"name": "kq-1"}, token=token).status == 200
    r = create(cloud, {"name": "kq-2"}, token=token)
    assert_fault(r, 403, "forbidden", "Quota exceeded, too many key pairs.")
    assert cloud.delete("/v2.1/os-keypairs/kq-1", token=token).status == 202
    assert create(cloud, {"name": "kq-2"}, token=token).status == 200
    assert cloud.delete("/v2.1/os-keypairs/kq-2", token=token).status == 202
    assert cloud.delete("/v2.1/os-quota-sets/kq-project").status == 202


def test_generations_bounded(make_cloud):
    """Two HTTP workers: one generation at a time. A burst of generations is
    either served or refused with 429 (Retry-After), never queued on the
    workers; other requests are still answered meanwhile; the slot is given
    back, whatever happened."""
    c = make_cloud(extra_default={"osapi_compute_workers": 2})

    def gen(i):
        return create(c, {"name": "burst-%d" % i}, "2.2")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(gen, i) for i in range(16)]
        flavors = c.get("/v2.1/flavors")
        answers = [f.result() for f in futures]
    assert flavors.status == 200, flavors
    ok = [r for r in answers if r.status == 201]
    busy = [r for r in answers if r.status == 429]
    assert len(ok) + len(busy) == len(answers), answers
    assert ok, answers
    for r in busy:
        assert_fault(r, 429, "overLimit", "Too many key pairs are being generated")
        assert r.header("Retry-After") == "1"
    assert len({r.json["keypair"]["fingerprint"] for r in ok}) == len(ok)
    # every slot is free again: a lone generation is served
    assert create(c, {"name": "after-burst"}, "2.2").status == 201
    listed = c.get("/v2.1/os-keypairs").json["keypairs"]
    assert len(listed) == len(ok) + 1
