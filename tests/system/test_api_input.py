"""Hostile and malformed requests: the right 4xx in Nova's error shape, and
kumo-api stays up (each test ends by checking it still answers)."""
import socket
import uuid

import pytest

BAD_SERVER_BODIES = [
    # (why, body or raw bytes, expected status)
    ("malformed json", b'{"server": {"name": ', 400),
    ("not an object", b'[1, 2, 3]', 400),
    ("server missing", {"foo": {}}, 400),
    ("server not an object", {"server": "x"}, 400),
    ("flavorRef missing", {"server": {"name": "a", "imageRef": "IMG"}}, 400),
    ("imageRef missing", {"server": {"name": "a", "flavorRef": "1"}}, 400),
    ("name missing", {"server": {"imageRef": "IMG", "flavorRef": "1"}}, 400),
    ("name wrong type", {"server": {"name": 5, "imageRef": "IMG", "flavorRef": "1"}}, 400),
    ("name empty", {"server": {"name": "", "imageRef": "IMG", "flavorRef": "1"}}, 400),
    ("name too long", {"server": {"name": "x" * 256, "imageRef": "IMG", "flavorRef": "1"}}, 400),
    ("name control chars", {"server": {"name": "a\x00b", "imageRef": "IMG", "flavorRef": "1"}}, 400),
    ("name only spaces", {"server": {"name": "   ", "imageRef": "IMG", "flavorRef": "1"}}, 400),
    ("unknown flavor", {"server": {"name": "a", "imageRef": "IMG", "flavorRef": "999"}}, 400),
    ("unknown image", {"server": {"name": "a", "imageRef": str(uuid.uuid4()), "flavorRef": "1"}}, 400),
    ("image not a uuid", {"server": {"name": "a", "imageRef": "not-a-uuid", "flavorRef": "1"}}, 400),
    ("flavorRef wrong type", {"server": {"name": "a", "imageRef": "IMG", "flavorRef": [1]}}, 400),
    ("min_count negative", {"server": {"name": "a", "imageRef": "IMG", "flavorRef": "1", "min_count": -1}}, 400),
    ("min_count absurd", {"server": {"name": "a", "imageRef": "IMG", "flavorRef": "1", "min_count": 10**30}}, 400),
]


def fill(body, image):
    if isinstance(body, bytes):
        return body
    import json
    return json.dumps(body).replace("IMG", image).encode()


def assert_error(r, status):
    assert r.status == status, r
    assert r.json is not None and len(r.json) == 1, r
    kind, inner = next(iter(r.json.items()))
    assert inner["code"] == status, r
    assert isinstance(inner["message"], str) and inner["message"], r
    return kind


@pytest.mark.parametrize("why,body,status", BAD_SERVER_BODIES, ids=[b[0] for b in BAD_SERVER_BODIES])
def test_bad_server_create(cloud, image, why, body, status):
    before = len(cloud.get("/v2.1/servers").json["servers"])
    r = cloud.request("POST", "/v2.1/servers", raw=fill(body, image),
                      headers={"Content-Type": "application/json"})
    assert assert_error(r, status) == "badRequest"
    # Nothing was created.
    assert len(cloud.get("/v2.1/servers").json["servers"]) == before


BAD_FLAVOR_BODIES = [
    ("ram missing", {"flavor": {"name": "f", "vcpus": 1, "disk": 1}}),
    ("ram negative", {"flavor": {"name": "f", "ram": -5, "vcpus": 1, "disk": 1}}),
    ("vcpus zero", {"flavor": {"name": "f", "ram": 512, "vcpus": 0, "disk": 1}}),
    ("vcpus absurd", {"flavor": {"name": "f", "ram": 512, "vcpus": 2**40, "disk": 1}}),
    ("disk wrong type", {"flavor": {"name": "f", "ram": 512, "vcpus": 1, "disk": "big"}}),
    ("name too long", {"flavor": {"name": "n" * 256, "ram": 512, "vcpus": 1, "disk": 1}}),
    ("name control chars", {"flavor": {"name": "a\nb", "ram": 512, "vcpus": 1, "disk": 1}}),
]


@pytest.mark.parametrize("why,body", BAD_FLAVOR_BODIES, ids=[b[0] for b in BAD_FLAVOR_BODIES])
def test_bad_flavor_create(cloud, why, body):
    r = cloud.post("/v2.1/flavors", body)
    assert assert_error(r, 400) == "badRequest"


def test_flavor_create_duplicate_conflicts(cloud):
    body = {"flavor": {"name": "dup-" + uuid.uuid4().hex[:6], "ram": 256, "vcpus": 1, "disk": 1}}
    r = cloud.post("/v2.1/flavors", body)
    assert r.status == 200, r
    fid = r.json["flavor"]["id"]
    assert assert_error(cloud.post("/v2.1/flavors", body), 409) == "conflictingRequest"
    assert cloud.delete("/v2.1/flavors/%s" % fid).status == 202
    assert cloud.get("/v2.1/flavors/%s" % fid).status == 404


def test_flavor_create_needs_admin(cloud):
    body = {"flavor": {"name": "nope", "ram": 256, "vcpus": 1, "disk": 1}}
    r = cloud.post("/v2.1/flavors", body, token="demo:demo")
    assert assert_error(r, 403) == "forbidden"


def test_invalid_uuid_in_path_is_404(cloud):
    for path in ("/v2.1/servers/not-a-uuid", "/v2.1/servers/%s" % uuid.uuid4(),
                 "/v2.1/servers/" + "a" * 5000):
        r = cloud.get(path)
        assert assert_error(r, 404) == "itemNotFound"


def test_unknown_route_404_and_method_405(cloud):
    r = cloud.get("/v2.1/no-such-thing")
    assert r.status == 404
    r = cloud.request("PATCH", "/v2.1/servers", raw=b"{}",
                      headers={"Content-Type": "application/json"})
    assert r.status == 405
    r = cloud.request("PUT", "/v2.1/flavors/1", raw=b"{}",
                      headers={"Content-Type": "application/json"})
    assert r.status == 405


def test_oversized_body_413(cloud, image):
    big = b'{"server": {"name": "' + b"x" * 200000 + b'"}}'
    r = cloud.request("POST", "/v2.1/servers", raw=big,
                      headers={"Content-Type": "application/json"})
    assert r.status == 413, r


def test_no_token_401_and_bad_token_401(cloud):
    assert cloud.get("/v2.1/servers", token=None).status == 401
    assert cloud.get("/v2.1/servers", token="garbage-without-colon").status == 401


def test_admin_only_routes_forbidden(cloud):
    for path in ("/v2.1/os-hypervisors", "/v2.1/os-services"):
        r = cloud.get(path, token="demo:demo")
        assert assert_error(r, 403) == "forbidden"


def test_microversions(cloud):
    r = cloud.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute 2.999"})
    assert assert_error(r, 406) == "computeFault"
    r = cloud.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute two"})
    assert assert_error(r, 400) == "badRequest"
    r = cloud.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute 2.37"})
    assert r.status == 200
    assert r.header("OpenStack-API-Version") == "compute 2.37"
    assert r.header("X-OpenStack-Nova-API-Version") == "2.37"
    r = cloud.get("/v2.1/flavors")
    assert r.header("OpenStack-API-Version") == "compute 2.1"


def test_networks_required_at_2_37(cloud, image):
    body = {"server": {"name": "a", "imageRef": image, "flavorRef": "1"}}
    r = cloud.post("/v2.1/servers", body, headers={"OpenStack-API-Version": "compute 2.37"})
    assert assert_error(r, 400) == "badRequest"
    body["server"]["networks"] = "none"
    r = cloud.post("/v2.1/servers", body, headers={"OpenStack-API-Version": "compute 2.37"})
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    cloud.wait_status(sid, "ACTIVE")
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid)


def test_garbage_on_the_socket_does_not_kill_the_api(cloud):
    for payload in (b"\x00\xff" * 1000 + b"\r\n\r\n",
                    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"POST /v2.1/servers HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                    b"POST /v2.1/servers HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"):
        s = socket.create_connection(("127.0.0.1", cloud.port), timeout=5)
        try:
            s.sendall(payload)
            try:
                s.recv(4096)
            except OSError:
                pass
        finally:
            s.close()
    assert cloud.get("/v2.1/flavors").status == 200


def test_version_documents(cloud):
    r = cloud.get("/", token=None)
    assert r.status == 200
    ids = {v["id"]: v["status"] for v in r.json["versions"]}
    assert ids == {"v2.0": "SUPPORTED", "v2.1": "CURRENT"}
    r = cloud.get("/v2.1/", token=None)
    assert r.status == 200
    v = r.json["version"]
    assert v["id"] == "v2.1" and v["min_version"] == "2.1"
    assert tuple(map(int, v["version"].split("."))) >= (2, 37)
