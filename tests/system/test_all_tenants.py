"""all_tenants on the server list (issue 13, item 14), as Nova reads it: a
non-admin's request for every project is refused (403, the list's
get_all_tenants rule), not quietly narrowed to its own project; present
and empty means true (Nova's is_all_tenants); a value that is no boolean
is 400."""
import pytest

A = "alice:proj-a"   # noauth2 tokens "user:project": members, not admins
B = "bob:proj-b"
ADMIN = "admin:admin"


@pytest.fixture(scope="module")
def servers(cloud):
    r = cloud.post("/v2/images", {"name": "pub", "visibility": "public"})
    assert r.status == 201, r
    image, ids = r.json["id"], {}
    for token in (A, B):
        r = cloud.post("/v2.1/servers", {"server": {
            "name": "s", "imageRef": image, "flavorRef": "1"}}, token=token)
        assert r.status == 202, r
        ids[token] = r.json["server"]["id"]
    for sid in ids.values():
        cloud.wait_status(sid, "ACTIVE")
    return ids


def listed(cloud, token, query, detail=False):
    r = cloud.get("/v2.1/servers%s%s" % ("/detail" if detail else "", query), token=token)
    assert r.status == 200, r
    return {s["id"] for s in r.json["servers"]}


@pytest.mark.parametrize("detail", [False, True])
@pytest.mark.parametrize("value", ["1", "true", "True", "yes", "on", ""])
def test_non_admin_all_tenants_refused(cloud, servers, detail, value):
    r = cloud.get("/v2.1/servers%s?all_tenants=%s" % ("/detail" if detail else "", value),
                  token=A)
    assert r.status == 403, r
    rule = "os_compute_api:servers:%s:get_all_tenants" % ("detail" if detail else "index")
    assert r.json["forbidden"]["message"] == "Policy doesn't allow %s to be performed." % rule


@pytest.mark.parametrize("value", ["0", "false", "no", "off"])
def test_all_tenants_false_is_own_project(cloud, servers, value):
    assert listed(cloud, A, "?all_tenants=" + value) == {servers[A]}
    assert servers[B] not in listed(cloud, ADMIN, "?all_tenants=" + value)


@pytest.mark.parametrize("detail", [False, True])
@pytest.mark.parametrize("value", ["", "1", "t", "TRUE", " yes "])
def test_admin_all_tenants(cloud, servers, detail, value):
    got = listed(cloud, ADMIN, "?all_tenants=" + value.replace(" ", "%20"), detail)
    assert {servers[A], servers[B]} <= got


def test_all_tenants_not_a_boolean(cloud, servers):
    for token in (A, ADMIN):
        r = cloud.get("/v2.1/servers?all_tenants=maybe", token=token)
        assert r.status == 400, r
        assert "Unrecognized value 'maybe'" in r.json["badRequest"]["message"]
