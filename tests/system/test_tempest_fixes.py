"""Answers tempest found to differ from Nova's (issue 15), each checked here
through the whole stack, not only by the tempest run (tools/tempest)."""
import pytest

from kumocloud import wait_for


def action(cloud, sid, body):
    return cloud.post("/v2.1/servers/%s/action" % sid, body)


@pytest.fixture(scope="module")
def server(cloud, image):
    sid = cloud.boot("vm-tempest-fixes", image)
    cloud.wait_status(sid, "ACTIVE")
    yield sid
    cloud.delete("/v2.1/servers/%s" % sid)
    cloud.wait_gone(sid)


def wait_settled(cloud, sid, status):
    return wait_for(lambda: (lambda s: s if s["status"] == status and
                             s["OS-EXT-STS:task_state"] is None else None)(cloud.server(sid)),
                    20, what="%s with no task" % status)


# Nova reads no schema for os-stop and os-start: tempest sends {}, novaclient
# null, and any other value is taken alike.
@pytest.mark.parametrize("value", [None, {}, {"force": True}, "now"])
def test_stop_start_take_any_body(cloud, server, value):
    r = action(cloud, server, {"os-stop": value})
    assert r.status == 202, r
    wait_settled(cloud, server, "SHUTOFF")
    r = action(cloud, server, {"os-start": value})
    assert r.status == 202, r
    wait_settled(cloud, server, "ACTIVE")


def services(cloud, query):
    r = cloud.get("/v2.1/os-services" + query)
    assert r.status == 200, r
    return r.json["services"]


def test_services_nova_binary_names(cloud):
    """binary=nova-compute selects kumo's computes, and names them as asked
    (tempest compares the two); kumo's own names still work."""
    kumo = services(cloud, "?binary=kumo-compute")
    assert len(kumo) == 2 and {s["binary"] for s in kumo} == {"kumo-compute"}
    nova = services(cloud, "?binary=nova-compute")
    assert sorted(s["host"] for s in nova) == sorted(s["host"] for s in kumo)
    assert {s["binary"] for s in nova} == {"nova-compute"}
    sched = services(cloud, "?binary=nova-scheduler")
    assert [s["binary"] for s in sched] == ["nova-scheduler"]
    both = services(cloud, "?binary=nova-compute&host=%s" % kumo[0]["host"])
    assert [s["host"] for s in both] == [kumo[0]["host"]]
    assert services(cloud, "?binary=nova-xxx") == []
    assert services(cloud, "?binary=xxx") == []
    # an unknown filter is ignored, as Nova does
    assert len(services(cloud, "?xxx=nova-compute")) == len(services(cloud, ""))


def flavor_ids(cloud, query, detail=False):
    r = cloud.get("/v2.1/flavors%s%s" % ("/detail" if detail else "", query))
    assert r.status == 200, r
    return [f["id"] for f in r.json["flavors"]], r.json.get("flavors_links")


@pytest.mark.parametrize("detail", [False, True])
def test_flavors_limit_and_marker(cloud, detail):
    every, links = flavor_ids(cloud, "", detail)
    assert every == sorted(every) and len(every) >= 5 and links is None
    page, links = flavor_ids(cloud, "?limit=2", detail)
    assert page == every[:2]
    assert len(links) == 1 and links[0]["rel"] == "next"
    assert links[0]["href"].endswith("/v2.1/flavors%s?limit=2&marker=%s" % (
        "/detail" if detail else "", every[1]))
    page, _ = flavor_ids(cloud, "?marker=%s" % every[0], detail)
    assert page == every[1:]
    page, links = flavor_ids(cloud, "?limit=2&marker=%s" % every[1], detail)
    assert page == every[2:4]
    page, links = flavor_ids(cloud, "?marker=%s" % every[-1], detail)
    assert page == [] and links is None
    page, _ = flavor_ids(cloud, "?limit=0", detail)
    assert page == []


@pytest.mark.parametrize("query,message", [
    ("?limit=x", "limit param must be an integer"),
    ("?limit=-1", "limit param must be positive"),
    ("?marker=no-such-flavor", "Marker no-such-flavor could not be found."),
])
def test_flavors_paging_errors(cloud, query, message):
    r = cloud.get("/v2.1/flavors" + query)
    assert r.status == 400, r
    assert r.json["badRequest"]["message"] == message
