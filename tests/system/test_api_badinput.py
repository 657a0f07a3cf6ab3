"""kumo-api against bad input and the shapes of its answers (real daemons,
no computes): each rejection has the right status and Nova's error body,
and the daemon stays up and keeps connections alive."""
import http.client
import json
import re

import pytest


IMG_NONE = "00000000-0000-0000-0000-00000000dead"
REQID_RE = re.compile(r"req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def image(api):
    return api.create_image()


def fault(r, kind, code):
    assert r.status == code, r
    assert r.header("Content-Type") == "application/json; charset=UTF-8"
    assert list(r.json) == [kind], r.json
    assert r.json[kind]["code"] == code
    return r.json[kind]["message"]


def test_headers_on_success(api):
    r = api.get("/v2.1/flavors")
    assert r.status == 200
    assert r.header("Content-Type") == "application/json"
    assert r.header("OpenStack-API-Version") == "compute 2.1"
    assert r.header("X-OpenStack-Nova-API-Version") == "2.1"
    vary = [v for k, v in r.headers if k.lower() == "vary"]
    assert vary == ["OpenStack-API-Version", "X-OpenStack-Nova-API-Version"]
    rid = r.header("x-openstack-request-id")
    assert REQID_RE.match(rid)
    assert r.header("x-compute-request-id") == rid


def test_versions_without_token(api):
    r = api.get("/", token=None)
    assert r.status == 200
    assert [v["id"] for v in r.json["versions"]] == ["v2.0", "v2.1"]
    assert r.header("OpenStack-API-Version") is None
    for path in ("/v2.1", "/v2.1/"):
        r = api.get(path, token=None)
        assert r.status == 200
        v = r.json["version"]
        assert (v["id"], v["min_version"], v["status"]) == ("v2.1", "2.1", "CURRENT")
    r = api.get("/v2.1/", headers={"OpenStack-API-Version": "compute latest"})
    assert r.header("OpenStack-API-Version") == "compute " + r.json["version"]["version"]


def test_auth(api):
    fault(api.get("/v2.1/flavors", token=None), "unauthorized", 401)
    fault(api.get("/v2.1/flavors", token="garbage"), "unauthorized", 401)
    fault(api.get("/v2.1/flavors", token="a b:c"), "unauthorized", 401)
    msg = fault(api.get("/v2.1/os-hypervisors", token="demo:demo"), "forbidden", 403)
    assert msg == "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed."
    fault(api.post("/v2.1/flavors", {"flavor": {"name": "x", "ram": 1, "vcpus": 1,
                                                "disk": 1}}, token="demo:demo"),
          "forbidden", 403)
    assert api.get("/v2.1/servers", token="demo:demo").status == 200


def test_routes(api):
    assert fault(api.get("/v2.1/nonexistent-resource"), "itemNotFound", 404)
    r = api.request("PATCH", "/v2.1/flavors", body={})
    fault(r, "badMethod", 405)
    assert r.header("Allow") == "GET, POST"
    msg = fault(api.get("/v2.1/servers/not-a-uuid"), "itemNotFound", 404)
    assert msg == "Instance not-a-uuid could not be found."
    msg = fault(api.get("/v2.1/servers/00000000-0000-0000-0000-000000000000"),
                "itemNotFound", 404)
    assert msg == "Instance 00000000-0000-0000-0000-000000000000 could not be found."
    fault(api.delete("/v2.1/servers/00000000-0000-0000-0000-000000000000"),
          "itemNotFound", 404)
    msg = fault(api.get("/v2.1/flavors/nonexistent"), "itemNotFound", 404)
    assert msg == "Flavor nonexistent could not be found."


def test_microversions(api):
    r = api.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute 2.999",
                                          "X-OpenStack-Nova-API-Version": "2.999"})
    msg = fault(r, "computeFault", 406)
    assert msg.startswith("Version 2.999 is not supported by the API. Minimum is 2.1")
    r = api.get("/v2.1/flavors", headers={"OpenStack-API-Version": "compute two"})
    msg = fault(r, "badRequest", 400)
    assert msg == ("API Version String two is of invalid format. "
                   "Must be of format MajorNum.MinorNum.")
    assert r.header("OpenStack-API-Version") is None
    r = api.get("/v2.1/flavors", headers={"X-OpenStack-Nova-API-Version": "2.37"})
    assert r.header("OpenStack-API-Version") == "compute 2.37"


def test_bodies(api, image):
    base = {"name": "x", "imageRef": image, "flavorRef": "1"}
    r = api.post("/v2.1/servers", raw=b'{"server": {"name": ',
                 headers={"Content-Type": "application/json"})
    assert fault(r, "badRequest", 400) == "Malformed request body"
    r = api.post("/v2.1/servers", raw=b'<server/>', headers={"Content-Type": "application/xml"})
    fault(r, "badMediaType", 415)
    assert "is not of type 'object'" in fault(api.post("/v2.1/servers", [1]), "badRequest", 400)
    msg = fault(api.post("/v2.1/servers", {"server": {"name": "x", "imageRef": image}}),
                "badRequest", 400)
    assert msg.endswith("'flavorRef' is a required property")
    msg = fault(api.post("/v2.1/servers", {"server": base},
                         headers={"OpenStack-API-Version": "compute 2.37"}), "badRequest", 400)
    assert msg.endswith("'networks' is a required property")
    msg = fault(api.post("/v2.1/servers", {"server": dict(base, flavorRef="999")}),
                "badRequest", 400)
    assert msg == "Flavor 999 could not be found."
    msg = fault(api.post("/v2.1/servers", {"server": dict(base, imageRef=IMG_NONE)}),
                "badRequest", 400)
    assert msg == "Can not find requested image"
    for bad in ({"name": "a" * 256}, {"name": "a\x01b"}, {"name": "   "}, {"name": 5},
                {"min_count": -1}, {"max_count": 10 ** 12}, {"flavorRef": True},
                {"imageRef": "nope"}, {"unknown": 1}, {"networks": "none"}):
        fault(api.post("/v2.1/servers", {"server": dict(base, **bad)}), "badRequest", 400)
    for bad in ({"ram": -1}, {"ram": "abc"}, {"vcpus": 0}, {"disk": 2 ** 31},
                {"name": ""}, {"id": "a b!"}, {"rxtx_factor": 0}, {"extra": 1}):
        flavor = dict({"name": "f-bad", "ram": 1, "vcpus": 1, "disk": 1}, **bad)
        fault(api.post("/v2.1/flavors", {"flavor": flavor}), "badRequest", 400)
    # a body on GET is ignored
    r = api.request("GET", "/v2.1/flavors", raw=b"garbage",
                    headers={"Content-Type": "application/json"})
    assert r.status == 200


def test_oversized_bodies(api):
    big = b'{"server": {"name": "' + b"a" * 200000 + b'"}}'
    r = api.post("/v2.1/servers", raw=big, headers={"Content-Type": "application/json"})
    fault(r, "overLimit", 413)
    # streamed without a Content-Length: counted as it arrives
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    conn.putrequest("POST", "/v2.1/servers")
    conn.putheader("X-Auth-Token", "admin:admin")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for _ in range(40):
        chunk = b"a" * 8192
        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    conn.send(b"0\r\n\r\n")
    r = conn.getresponse()
    assert r.status == 413
    assert json.loads(r.read())["overLimit"]["code"] == 413
    conn.close()


def test_keep_alive_across_errors(api):
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    hdrs = {"X-Auth-Token": "admin:admin"}
    sock = None
    for path, status in (("/v2.1/flavors", 200), ("/v2.1/nope", 404),
                         ("/v2.1/servers/x", 404), ("/v2.1/flavors/detail", 200)):
        conn.request("GET", path, headers=hdrs)
        r = conn.getresponse()
        r.read()
        assert r.status == status
        assert r.getheader("Connection", "").lower() != "close"
        sock = sock or conn.sock
        assert conn.sock is sock, "connection was not kept alive"
    conn.close()


def test_request_id(api):
    rid = "req-0f6d2c53-52a5-4c1e-9a8e-3ae0c6c1e2b4"
    r = api.get("/v2.1/flavors", headers={"X-OpenStack-Request-ID": rid})
    assert r.header("x-openstack-request-id") == rid
    r = api.get("/v2.1/flavors", headers={"X-OpenStack-Request-ID": "req-nope"})
    assert r.header("x-openstack-request-id") != "req-nope"
    assert REQID_RE.match(r.header("x-openstack-request-id"))


def test_flavor_lifecycle(api):
    body = {"flavor": {"name": "t.tiny", "ram": 512, "vcpus": 1, "disk": 1, "id": "t1"}}
    r = api.post("/v2.1/flavors", body)
    assert r.status == 200, r
    f = r.json["flavor"]
    assert (f["id"], f["swap"], f["rxtx_factor"], f["OS-FLV-DISABLED:disabled"]) == \
        ("t1", "", 1.0, False)
    assert f["links"][0]["href"].endswith("/v2.1/flavors/t1")
    msg = fault(api.post("/v2.1/flavors", dict(body, flavor=dict(body["flavor"], id="t2"))),
                "conflictingRequest", 409)
    assert msg == "Flavor with name t.tiny already exists."
    r = api.get("/v2.1/flavors/t1", headers={"OpenStack-API-Version": "compute 2.75"})
    assert r.json["flavor"]["swap"] == 0 and r.json["flavor"]["description"] is None
    r = api.post("/v2.1/flavors", {"flavor": {"name": "t.uuid", "ram": 1, "vcpus": 1,
                                              "disk": 0}})
    assert re.match(r"[0-9a-f-]{36}$", r.json["flavor"]["id"])
    assert api.delete("/v2.1/flavors/t1").status == 202
    fault(api.delete("/v2.1/flavors/t1"), "itemNotFound", 404)
    assert api.post("/v2.1/flavors", body).status == 200


def test_image_in_use_and_server_delete(api, image):
    img = api.create_image("in-use")
    sid = api.boot("holder", img)
    r = api.get("/v2.1/servers/%s" % sid)
    s = r.json["server"]
    # no computes: the scheduler may already have put it in ERROR
    assert s["status"] in ("BUILD", "ERROR") and s["hostId"] == ""
    fault(api.delete("/v2/images/%s" % img), "conflictingRequest", 409)
    assert api.delete("/v2.1/servers/%s" % sid).status == 204
    api.wait_gone(sid)
    assert api.delete("/v2/images/%s" % img).status == 204
    fault(api.get("/v2/images/%s" % img), "itemNotFound", 404)


def test_all_tenants(api):
    """Nova's is_all_tenants and its get_all_tenants policies: a member's
    all_tenants=1 is a 403, not silently its own list; an admin's empty
    all_tenants means every project; other values are bool_from_string's."""
    mine = api.boot("admin-vm", api.create_image())
    r = api.post("/v2/images", {"name": "demo-img", "disk_format": "qcow2",
                                "container_format": "bare"}, token="demo:demo")
    assert r.status == 201, r
    r = api.post("/v2.1/servers", {"server": {"name": "demo-vm", "imageRef": r.json["id"],
                                              "flavorRef": "1"}}, token="demo:demo")
    assert r.status == 202, r
    theirs = r.json["server"]["id"]

    def ids(path, token="admin:admin"):
        r = api.get(path, token=token)
        assert r.status == 200, r
        return {s["id"] for s in r.json["servers"]}

    for path, rule in (("/v2.1/servers", "index"), ("/v2.1/servers/detail", "detail")):
        for q in ("?all_tenants=1", "?all_tenants=", "?all_tenants", "?all_tenants=True"):
            msg = fault(api.get(path + q, token="demo:demo"), "forbidden", 403)
            assert msg == ("Policy doesn't allow os_compute_api:servers:%s:get_all_tenants "
                           "to be performed." % rule)
        assert ids(path + "?all_tenants=0", "demo:demo") == {theirs}
        assert ids(path + "?all_tenants=off", "demo:demo") == {theirs}
        for q in ("?all_tenants=", "?all_tenants", "?all_tenants=1", "?all_tenants=%20YES%20"):
            assert {mine, theirs} <= ids(path + q), q
        assert theirs not in ids(path + "?all_tenants=false")
        assert mine in ids(path + "?all_tenants=false")
        msg = fault(api.get(path + "?all_tenants=maybe"), "badRequest", 400)
        assert msg.startswith("Invalid input received: Unrecognized value 'maybe'")
