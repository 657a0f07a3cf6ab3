"""GET /v2/images filtered and paged in SQL (issue 13, item 4): visibility
as db_image_readable reads it, Glance's default leaving other projects'
community images out, limit/marker/next links, Glance's filters and sort
arguments, and Glance's 400s for bad values; the kumo CLI follows the
pages."""
import http.client
import json
import os
import subprocess
import urllib.parse

import pytest

from kumocloud import BUILD, Cloud

A = "alice:proj-a"
B = "bob:proj-b"
C = "carol:proj-c"
ADMIN = "admin:admin"
MANY = 2000


def create_many(cloud, token, n, prefix):
    """n images of token's project over one kept-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=60)
    ids = []
    for i in range(n):
        body = json.dumps({"name": "%s-%05d" % (prefix, i), "disk_format": "raw",
                           "container_format": "bare"})
        conn.request("POST", "/v2/images", body=body, headers={
            "X-Auth-Token": token, "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        assert r.status == 201, data
        ids.append(json.loads(data)["id"])
    conn.close()
    return ids


@pytest.fixture(scope="module")
def many():
    c = Cloud(computes=0, extra_conf={"glance": {"image_count_total": "5000"}}).start()
    a_ids = create_many(c, A, MANY, "a")
    yield c, a_ids
    assert c.daemons["api"].proc.poll() is None, "kumo-api died"
    c.stop()


def walk_images(cloud, token, path):
    """Every page through the next links: the images in order, the pages."""
    images, pages = [], 0
    while path is not None:
        r = cloud.get(path, token=token)
        assert r.status == 200, r
        images += r.json["images"]
        pages += 1
        path = r.json.get("next")
        assert pages <= MANY, "paging does not end"
    return images, pages


def walk(cloud, token, path="/v2/images?limit=100"):
    images, pages = walk_images(cloud, token, path)
    return [i["id"] for i in images], pages


def make(cloud, token, name, **extra):
    body = {"name": name, "disk_format": "qcow2", "container_format": "bare"}
    body.update(extra)
    r = cloud.post("/v2/images", body, token=token)
    assert r.status == 201, r
    return r.json["id"]


def names(cloud, token, query=""):
    r = cloud.get("/v2/images" + query, token=token)
    assert r.status == 200, r
    return [i["name"] for i in r.json["images"]]


def test_another_projects_images_stay_out(many):
    c, a_ids = many
    r = c.get("/v2/images", token=B)
    assert r.status == 200, r
    assert r.json["images"] == [] and "next" not in r.json
    assert r.json["first"] == "/v2/images"
    assert walk(c, B, "/v2/images?visibility=all")[0] == []
    # the default page, Glance's 25, of the newest first
    r = c.get("/v2/images", token=A)
    page = [i["id"] for i in r.json["images"]]
    assert page == walk(c, A)[0][:25]
    assert r.json["next"] == "/v2/images?marker=%s" % page[-1]


def test_paging_walks_each_image_once(many):
    c, a_ids = many
    images, pages = walk_images(c, A, "/v2/images?limit=100")
    ids = [i["id"] for i in images]
    assert len(ids) == MANY and set(ids) == set(a_ids)
    # newest first: created_at (to the second), then id, descending
    keys = [(i["created_at"], i["id"]) for i in images]
    assert keys == sorted(keys, reverse=True)
    assert pages == MANY // 100 + 1   # Glance: a full last page links on
    # in name order, ascending, with a filter kept in the links
    ids, _ = walk(c, A, "/v2/images?limit=333&sort=name:asc&status=queued")
    assert ids == a_ids
    # an admin reads them all; api_limit_max bounds a page
    r = c.get("/v2/images?limit=100000", token=ADMIN)
    assert len(r.json["images"]) == 1000


def test_cli_lists_every_page(many, tmp_path):
    c, a_ids = many
    env = {k: v for k, v in c.env.items() if not k.startswith("KUMO_")}
    env["HOME"] = str(tmp_path)
    out = subprocess.run([os.path.join(BUILD, "kumo"), "--url", c.url, "--token",
                          A, "-f", "json", "image", "list"], capture_output=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = [i["ID"] if "ID" in i else i["id"] for i in json.loads(out.stdout)]
    assert sorted(listed) == sorted(a_ids)
    # and a name past the first page resolves
    out = subprocess.run([os.path.join(BUILD, "kumo"), "--url", c.url, "--token",
                          A, "image", "show", "a-00003"], capture_output=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert a_ids[3] in out.stdout.decode()


def test_visibility(api):
    mine = make(api, C, "c-private", visibility="private")
    make(api, C, "c-shared")
    make(api, C, "c-community", visibility="community")
    make(api, B, "b-community", visibility="community")
    make(api, B, "b-private", visibility="private")
    make(api, ADMIN, "public-one", visibility="public")
    # Glance's default: others' community images left out
    assert sorted(names(api, C)) == ["c-community", "c-private", "c-shared", "public-one"]
    assert sorted(names(api, C, "?visibility=community")) == ["b-community", "c-community"]
    assert sorted(names(api, C, "?visibility=all")) == [
        "b-community", "c-community", "c-private", "c-shared", "public-one"]
    assert names(api, C, "?visibility=private") == ["c-private"]
    assert names(api, C, "?visibility=shared") == ["c-shared"]
    assert names(api, C, "?visibility=public") == ["public-one"]
    assert "b-private" in names(api, ADMIN, "?visibility=all")
    assert "b-private" not in names(api, C, "?visibility=all")
    # a marker the reader may not read is unknown
    b_private = [i["id"] for i in api.get("/v2/images?visibility=private",
                                          token=B).json["images"]]
    r = api.get("/v2/images?marker=%s" % b_private[0], token=C)
    assert r.status == 400, r
    assert api.get("/v2/images?marker=%s" % mine, token=C).status == 200


def test_filters_and_sorting(api):
    """In one project's images (owner=: the module's public image left out)."""
    t = "dave:proj-d"
    for name, fmt, data in (("d1", "raw", b"x" * 10), ("d2", "qcow2", b"y" * 300),
                            ("d3", "raw", None), ("d1", "qcow2", b"z" * 20)):
        iid = make(api, t, name, disk_format=fmt)
        if data is not None:
            r = api.request("PUT", "/v2/images/%s/file" % iid, raw=data, token=t,
                            headers={"Content-Type": "application/octet-stream"})
            assert r.status == 204, r
    assert sorted(names(api, t, "?owner=proj-d&name=d1")) == ["d1", "d1"]
    assert names(api, t, "?owner=proj-d&status=queued") == ["d3"]
    assert sorted(names(api, t, "?owner=proj-d&disk_format=qcow2")) == ["d1", "d2"]
    assert len(names(api, t, "?owner=proj-d&container_format=bare")) == 4
    assert names(api, t, "?owner=proj-d&container_format=ovf") == []
    assert sorted(names(api, t, "?owner=proj-d&size_min=20")) == ["d1", "d2"]
    assert names(api, t, "?owner=proj-d&size_max=15") == ["d1"]
    assert names(api, t, "?owner=proj-d&tag=x86") == []
    assert len(names(api, t, "?owner=proj-d")) == 4
    assert names(api, t, "?owner=proj-b") == []
    assert len(names(api, t, "?owner=proj-d&member_status=all")) == 4
    r = api.get("/v2/images?owner=proj-d&sort_key=size&sort_dir=asc", token=t).json["images"]
    assert [i["size"] for i in r] == [None, 10, 20, 300]
    expect = ["d3", "d2", "d1", "d1"]
    assert names(api, t, "?owner=proj-d&sort_key=name") == expect
    assert names(api, t, "?owner=proj-d&sort=name:desc,size:asc")[:2] == ["d3", "d2"]
    r = api.get("/v2/images?owner=proj-d&sort=name:asc,size:desc", token=t).json["images"]
    assert [(i["name"], i["size"]) for i in r] == [
        ("d1", 20), ("d1", 10), ("d2", 300), ("d3", None)]
    r = api.get("/v2/images?owner=proj-d&sort_key=name,disk_format&sort_dir=asc,desc",
                token=t).json["images"]
    assert [(i["name"], i["disk_format"]) for i in r] == [
        ("d1", "raw"), ("d1", "qcow2"), ("d2", "qcow2"), ("d3", "raw")]
    # paging with a compound order walks each once
    ids, path = [], "/v2/images?owner=proj-d&limit=1&sort=name:asc,size:desc"
    while path:
        page = api.get(path, token=t).json
        ids += [i["id"] for i in page["images"]]
        path = page.get("next")
    assert [i["id"] for i in r] != [] and len(ids) == 4 and len(set(ids)) == 4


@pytest.mark.parametrize("query,words", [
    ("limit=abc", "limit param must be an integer"),
    ("limit=-1", "limit param must be positive"),
    ("limit=1.5", "limit param must be an integer"),
    ("sort_key=checksum", "Invalid sort key: checksum. It must be one of the "
     "following: name, status, container_format, disk_format, size, id, "
     "created_at, updated_at."),
    ("sort_dir=up", "Invalid sort direction: up"),
    ("sort=name:sideways", "Invalid sort direction: sideways"),
    ("sort=owner:asc", "Invalid sort key: owner."),
    ("sort=name&sort_key=size", "Old and new sorting syntax cannot be combined"),
    ("sort_key=name,size&sort_dir=asc,desc,asc",
     "Number of sort dirs does not match the number of sort keys"),
    ("marker=00000000-0000-4000-8000-000000000000",
     "No image found with ID 00000000-0000-4000-8000-000000000000"),
    ("visibility=everyone", "Invalid visibility value: everyone"),
    ("member_status=maybe", "Invalid status: maybe"),
    ("size_min=big", "Unable to filter on a range with a non-numeric value."),
    ("changes-since=2026-01-01T00:00:00Z", "is no longer available on v2"),
    ("sort_key=" + ",".join(["name"] * 20), "Too many sort keys."),
    ("sort_key=" + "n" * 300, "Invalid sort key: " + "n" * 255 + "."),
    ("sort_key=" + "n" * 5000, "The sort arguments are too long."),
])
def test_bad_arguments(api, query, words):
    r = api.get("/v2/images?" + query, token=A)
    assert r.status == 400, r
    assert words in r.json["badRequest"]["message"], r.json


def test_links_keep_the_query(api):
    t = "erin:proj-e"
    for i in range(3):
        make(api, t, "e%d" % i)
    r = api.get("/v2/images?limit=2&name=e1&sort_key=name&sort_dir=asc&"
                "disk_format=qcow2", token=t).json
    assert r["first"] == ("/v2/images?limit=2&name=e1&disk_format=qcow2&"
                          "sort_key=name&sort_dir=asc")
    assert "next" not in r          # a page that is not full is the last
    r = api.get("/v2/images?limit=2&sort=name:asc&name=" +
                urllib.parse.quote("a b&c"), token=t).json
    assert r["first"] == "/v2/images?limit=2&name=a%20b%26c&sort=name%3Aasc"
    r = api.get("/v2/images?limit=2&sort=name:asc&owner=proj-e", token=t).json
    assert [i["name"] for i in r["images"]] == ["e0", "e1"]
    assert r["next"] == ("/v2/images?limit=2&owner=proj-e&sort=name%%3Aasc&"
                         "marker=%s" % r["images"][1]["id"])
    r = api.get(r["next"], token=t).json
    assert [i["name"] for i in r["images"]] == ["e2"]
    # limit=0: an empty page, no next
    r = api.get("/v2/images?limit=0", token=t).json
    assert r["images"] == [] and "next" not in r
