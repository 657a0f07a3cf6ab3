"""Server lists page in the database (issue 13 item 9): a project's
deleted history is read a page at a time, changes-since included, in
every order and with the filters SQL cannot apply; Nova's next links."""
import os
import sqlite3
import urllib.parse
import uuid

import pytest

from kumocloud import Cloud

MAX_LIMIT = 50
HISTORY = 1200       # deleted servers of project p1


def db_path(cloud):
    return os.path.join(cloud.dir, "kumo.db")


def add_history(cloud, project, n, name="old"):
    """n deleted servers of project, as the API leaves them: uuids in the
    order they were made, one a second from 2020-01-01."""
    rows = []
    for i in range(n):
        t = "2020-01-01T%02d:%02d:%02dZ" % (i // 3600, i // 60 % 60, i % 60)
        rows.append((str(uuid.uuid4()), "%s-%05d" % (name, i), project, "u1", 1, 512, 1,
                     "deleted", t, t, t, t))
    db = sqlite3.connect(db_path(cloud), timeout=30)
    with db:
        db.executemany(
            "INSERT INTO instances (uuid, name, project_id, user_id, vcpus, memory_mb,"
            " root_gb, vm_state, created_at, updated_at, deleted_at, terminated_at,"
            " deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", rows)
    db.close()
    return [r[0] for r in rows]


@pytest.fixture(scope="module")
def cloud():
    c = Cloud(computes=1, extra_conf={"api": {"max_limit": str(MAX_LIMIT)}}).start()
    c.history = add_history(c, "p1", HISTORY)
    yield c
    c.stop()


def walk(cloud, path, token="u1:p1"):
    """Every page from path on: (the servers in order, the page sizes)."""
    servers, sizes = [], []
    while path is not None:
        r = cloud.get(path, token=token)
        assert r.status == 200, r
        servers += r.json["servers"]
        sizes.append(len(r.json["servers"]))
        links = r.json.get("servers_links", [])
        path = None
        if links:
            assert [l["rel"] for l in links] == ["next"]
            u = urllib.parse.urlsplit(links[0]["href"])
            assert u.path.startswith("/v2.1/servers")
            path = u.path + "?" + u.query
    return servers, sizes


def test_changes_since_pages_the_deleted_history(cloud):
    servers, sizes = walk(cloud, "/v2.1/servers/detail?changes-since=2000-01-01T00:00:00Z")
    ids = [s["id"] for s in servers]
    # every page is at most max_limit, newest first, nothing twice or missed
    assert max(sizes) == MAX_LIMIT and all(n <= MAX_LIMIT for n in sizes)
    assert len(sizes) >= HISTORY // MAX_LIMIT
    assert ids == list(reversed(cloud.history))
    assert all(s["status"] == "DELETED" for s in servers)
    # without changes-since the deleted ones stay hidden
    r = cloud.get("/v2.1/servers", token="u1:p1")
    assert r.status == 200 and r.json == {"servers": []}, r


def test_limit_and_next_link_as_nova(cloud):
    r = cloud.get("/v2.1/servers?changes-since=2000-01-01T00:00:00Z&limit=7", token="u1:p1")
    assert len(r.json["servers"]) == 7
    nxt = r.json["servers_links"][0]["href"]
    assert "limit=7" in nxt and "changes-since=2000-01-01T00%3A00%3A00Z" in nxt
    assert nxt.endswith("marker=%s" % r.json["servers"][-1]["id"])
    # a limit over max_limit is cut to it, and a full page links on
    r = cloud.get("/v2.1/servers/detail?changes-since=2000-01-01T00:00:00Z&limit=100000",
                  token="u1:p1")
    assert len(r.json["servers"]) == MAX_LIMIT and "servers_links" in r.json
    # a page that is not full has no next link
    r = cloud.get("/v2.1/servers?changes-since=2000-01-01T00:00:00Z&marker=%s" % cloud.history[3],
                  token="u1:p1")
    assert [s["id"] for s in r.json["servers"]] == list(reversed(cloud.history[:3]))
    assert "servers_links" not in r.json
    r = cloud.get("/v2.1/servers?marker=%s" % uuid.uuid4(), token="u1:p1")
    assert r.status == 400 and "not found" in r.json["badRequest"]["message"]


def test_sorted_and_filtered_lists_page_too(cloud):
    # an order SQL keeps, through every page
    servers, _ = walk(cloud, "/v2.1/servers?changes-since=2000-01-01T00:00:00Z&sort_key="
                      "display_name&sort_dir=asc&limit=40")
    assert [s["name"] for s in servers] == sorted("old-%05d" % i for i in range(HISTORY))
    # a filter applied past SQL (the name's regular expression) finds its
    # few rows among batches of others
    servers, sizes = walk(cloud, "/v2.1/servers?changes-since=2000-01-01T00:00:00Z&name="
                          "%5Eold-0%5B0-9%5D%5B0-9%5D77%24&limit=3")
    assert [s["name"] for s in servers] == ["old-0%02d77" % i for i in range(11, -1, -1)]
    assert sizes[:4] == [3, 3, 3, 3]
    # status, then another project's view of the same history
    servers, _ = walk(cloud, "/v2.1/servers?changes-since=2000-01-01T00:00:00Z&status=DELETED"
                      "&sort_key=uuid&limit=500")
    assert [s["id"] for s in servers] == sorted(cloud.history, reverse=True)
    r = cloud.get("/v2.1/servers?changes-since=2000-01-01T00:00:00Z", token="u2:p2")
    assert r.json == {"servers": []}, r
