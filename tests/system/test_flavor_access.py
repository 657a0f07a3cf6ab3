"""Private flavors (issue 13, item 13): hidden from projects without access
(absent from lists, 404 on show, 400 on boot), os-flavor-access to list,
add and remove a project's access (admin), and the is_public filter of the
flavor list as Nova reads it."""
import uuid

import pytest

A = "alice:proj-a"   # noauth2 tokens "user:project": members, not admins
B = "bob:proj-b"
ADMIN = "admin:admin"


def make_flavor(cloud, is_public):
    name = "f-" + uuid.uuid4().hex[:8]
    r = cloud.post("/v2.1/flavors", {"flavor": {
        "name": name, "ram": 64, "vcpus": 1, "disk": 0,
        "os-flavor-access:is_public": is_public}})
    assert r.status == 200, r
    return r.json["flavor"]["id"]


def ids(cloud, token, query=""):
    r = cloud.get("/v2.1/flavors" + query, token=token)
    assert r.status == 200, r
    return {f["id"] for f in r.json["flavors"]}


def action(cloud, fid, name, tenant, token=ADMIN, **kw):
    return cloud.post("/v2.1/flavors/%s/action" % fid,
                      {name: {"tenant": tenant}}, token=token, **kw)


def boot(cloud, token, image, flavor):
    return cloud.post("/v2.1/servers", {"server": {
        "name": "s", "imageRef": image, "flavorRef": flavor}}, token=token)


@pytest.fixture(scope="module")
def public_image(cloud):
    r = cloud.post("/v2/images", {"name": "pub", "visibility": "public"})
    assert r.status == 201, r
    return r.json["id"]


def test_private_flavor_hidden_without_access(cloud, public_image):
    fid = make_flavor(cloud, False)
    for token in (A, B):
        assert fid not in ids(cloud, token)
        assert fid not in ids(cloud, token, "?is_public=none")
        assert fid not in ids(cloud, token, "?is_public=false")
        for path in ("/v2.1/flavors/%s", "/v2.1/flavors/%s/os-extra_specs"):
            r = cloud.get(path % fid, token=token)
            assert r.status == 404, r
            assert r.json["itemNotFound"]["message"] == "Flavor %s could not be found." % fid
        r = boot(cloud, token, public_image, fid)
        assert r.status == 400, r
        assert r.json["badRequest"]["message"] == "Flavor %s could not be found." % fid
    r = cloud.get("/v2.1/flavors/detail", token=A)
    assert fid not in {f["id"] for f in r.json["flavors"]}


def test_access_granted_and_removed(cloud, public_image):
    fid = make_flavor(cloud, False)
    r = action(cloud, fid, "addTenantAccess", "proj-a")
    assert r.status == 200, r
    assert r.json == {"flavor_access": [{"flavor_id": fid, "tenant_id": "proj-a"}]}
    # A sees it (listed among the public ones, whatever is_public says), B not
    assert fid in ids(cloud, A)
    assert fid in ids(cloud, A, "?is_public=false")
    assert fid not in ids(cloud, B)
    assert cloud.get("/v2.1/flavors/%s" % fid, token=A).status == 200
    assert cloud.get("/v2.1/flavors/%s" % fid, token=B).status == 404
    r = boot(cloud, A, public_image, fid)
    assert r.status == 202, r
    cloud.wait_status(r.json["server"]["id"], "ACTIVE")
    assert boot(cloud, B, public_image, fid).status == 400
    # a second project, then the list
    assert action(cloud, fid, "addTenantAccess", "proj-c").status == 200
    r = cloud.get("/v2.1/flavors/%s/os-flavor-access" % fid)
    assert r.status == 200, r
    assert r.json == {"flavor_access": [
        {"flavor_id": fid, "tenant_id": "proj-a"},
        {"flavor_id": fid, "tenant_id": "proj-c"}]}
    # duplicate: 409
    r = action(cloud, fid, "addTenantAccess", "proj-a")
    assert r.status == 409, r
    assert r.json["conflictingRequest"]["message"] == (
        "Flavor access already exists for flavor %s and project proj-a combination." % fid)
    # removed: hidden again
    r = action(cloud, fid, "removeTenantAccess", "proj-a")
    assert r.status == 200, r
    assert r.json == {"flavor_access": [{"flavor_id": fid, "tenant_id": "proj-c"}]}
    assert fid not in ids(cloud, A)
    assert cloud.get("/v2.1/flavors/%s" % fid, token=A).status == 404
    r = action(cloud, fid, "removeTenantAccess", "proj-a")
    assert r.status == 404, r
    assert r.json["itemNotFound"]["message"] == (
        "Flavor access not found for %s / proj-a combination." % fid)


def test_access_deleted_with_its_flavor(cloud):
    fid = make_flavor(cloud, False)
    assert action(cloud, fid, "addTenantAccess", "proj-a").status == 200
    assert cloud.delete("/v2.1/flavors/%s" % fid).status == 202
    r = cloud.get("/v2.1/flavors/%s/os-flavor-access" % fid)
    assert r.status == 404, r
    assert fid not in ids(cloud, A)


def test_flavor_access_errors(cloud):
    private, public = make_flavor(cloud, False), make_flavor(cloud, True)
    # only admins
    for name in ("addTenantAccess", "removeTenantAccess"):
        r = action(cloud, private, name, "proj-a", token=A)
        assert r.status == 403, r
    r = cloud.get("/v2.1/flavors/%s/os-flavor-access" % private, token=A)
    assert r.status == 403, r
    # unknown flavor
    missing = "no-such-flavor"
    assert cloud.get("/v2.1/flavors/%s/os-flavor-access" % missing).status == 404
    r = action(cloud, missing, "addTenantAccess", "proj-a")
    assert r.status == 404, r
    assert r.json["itemNotFound"]["message"] == "Flavor %s could not be found." % missing
    # public flavors have no access list
    r = cloud.get("/v2.1/flavors/%s/os-flavor-access" % public)
    assert r.status == 404, r
    assert r.json["itemNotFound"]["message"] == "Access list not available for public flavors."
    r = action(cloud, public, "addTenantAccess", "proj-a",
               headers={"OpenStack-API-Version": "compute 2.7"})
    assert r.status == 409, r
    assert r.json["conflictingRequest"]["message"] == "Can not add access to a public flavor."
    # bodies as Nova's schema says
    for body in ({"addTenantAccess": {}}, {"addTenantAccess": {"tenant": ""}},
                 {"addTenantAccess": {"tenant": "x" * 256}},
                 {"addTenantAccess": {"tenant": 5}},
                 {"addTenantAccess": {"tenant": "p", "extra": 1}},
                 {"addTenantAccess": "p"}, {"removeTenantAccess": []},
                 {"noSuchAction": {}}, {}):
        r = cloud.post("/v2.1/flavors/%s/action" % private, body)
        assert r.status == 400, (body, r)
    assert cloud.get("/v2.1/flavors/%s/os-flavor-access" % private).json == {
        "flavor_access": []}


def test_is_public_filter(cloud):
    private, public = make_flavor(cloud, False), make_flavor(cloud, True)
    everything = ids(cloud, ADMIN, "?is_public=none")
    assert {private, public} <= everything
    assert public in ids(cloud, ADMIN) and private not in ids(cloud, ADMIN)
    assert public in ids(cloud, ADMIN, "?is_public=true")
    assert private not in ids(cloud, ADMIN, "?is_public=true")
    assert private in ids(cloud, ADMIN, "?is_public=false")
    assert public not in ids(cloud, ADMIN, "?is_public=false")
    # admins see and boot any flavor
    assert cloud.get("/v2.1/flavors/%s" % private).status == 200
    r = cloud.get("/v2.1/flavors?is_public=maybe")
    assert r.status == 400, r
    assert r.json["badRequest"]["message"] == "Invalid is_public filter [maybe]"
    # a non-admin's filter changes nothing
    assert ids(cloud, A, "?is_public=none") == ids(cloud, A)


def test_tenant_is_a_project_of_kumos_identity(make_cloud):
    """With kumo's own identity service, a tenant it does not know is 400
    (Nova's verify_project_id); noauth2 clouds take any id (above)."""
    c = make_cloud(computes=0, auth="keystone")
    r = c.post("/identity/v3/projects", {"project": {"name": "fa-proj",
                                                     "domain_id": "default"}})
    assert r.status == 201, r
    pid = r.json["project"]["id"]
    fid = make_flavor(c, False)
    for name in ("addTenantAccess", "removeTenantAccess"):
        r = action(c, fid, name, "no-such-project")
        assert r.status == 400, r
        assert r.json["badRequest"]["message"] == \
            "Project ID no-such-project is not a valid project."
    r = action(c, fid, "addTenantAccess", pid)
    assert r.status == 200, r
    assert r.json == {"flavor_access": [{"flavor_id": fid, "tenant_id": pid}]}
