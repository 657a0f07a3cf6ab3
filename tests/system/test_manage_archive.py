"""kumo-manage db archive_deleted_rows and db purge (issue 13 item 9):
deleted servers and theirs move to the shadow tables and are purged from
there, by date, in batches, and nothing live is touched; nova-manage's
flags and exit statuses."""
import os
import sqlite3
import uuid

import pytest

from kumocloud import Cloud

OLD = 30     # servers deleted in 2020, each with an action, an event, a fault


def db(cloud):
    return sqlite3.connect(os.path.join(cloud.dir, "kumo.db"), timeout=30)


def count(cloud, table, where="1"):
    c = db(cloud)
    try:
        return c.execute("SELECT count(*) FROM %s WHERE %s" % (table, where)).fetchone()[0]
    finally:
        c.close()


def add_old(cloud, n):
    ids = []
    c = db(cloud)
    with c:
        for i in range(n):
            sid, t = str(uuid.uuid4()), "2020-03-%02dT10:00:00Z" % (i % 28 + 1)
            ids.append(sid)
            c.execute("INSERT INTO instances (uuid, name, project_id, user_id, vcpus,"
                      " memory_mb, root_gb, vm_state, created_at, updated_at, deleted_at,"
                      " deleted) VALUES (?, 'old', 'p1', 'u1', 1, 512, 1, 'deleted', ?, ?,"
                      " ?, 1)", (sid, t, t, t))
            aid = c.execute("INSERT INTO instance_actions (action, instance_uuid,"
                            " start_time) VALUES ('create', ?, ?)", (sid, t)).lastrowid
            c.execute("INSERT INTO instance_actions_events (action_id, event, start_time)"
                      " VALUES (?, 'compute_build_and_run_instance', ?)", (aid, t))
            c.execute("INSERT INTO instance_faults (instance_uuid, code, message,"
                      " created_at) VALUES (?, 500, 'boom', ?)", (sid, t))
    c.close()
    return ids


def manage(cloud, *args):
    return cloud.manage("db", *args, check=False)


@pytest.fixture(scope="module")
def cloud():
    c = Cloud(computes=1).start()
    img = c.create_image()
    c.live = c.boot("live", img)
    c.gone = [c.boot("gone-%d" % i, img) for i in range(2)]
    for sid in [c.live] + c.gone:
        c.wait_status(sid, "ACTIVE")
    for sid in c.gone:
        assert c.delete("/v2.1/servers/%s" % sid).status == 204
        c.wait_gone(sid)
    c.old = add_old(c, OLD)
    yield c
    c.stop()


def live_rows(cloud):
    """What belongs to the live server: never archived."""
    where = "instance_uuid = '%s'" % cloud.live
    return (count(cloud, "instances", "uuid = '%s' AND deleted = 0" % cloud.live),
            count(cloud, "instance_actions", where))


def test_archive_by_date_in_batches(cloud):
    before = live_rows(cloud)
    assert before[0] == 1 and before[1] >= 1
    r = manage(cloud, "archive_deleted_rows", "--before", "2021-01-01", "--max_rows", "10")
    assert r.returncode == 1, r
    assert count(cloud, "shadow_instances") == 10
    assert count(cloud, "instances", "deleted = 1") == OLD - 10 + 2
    r = manage(cloud, "archive_deleted_rows", "--before", "2021-01-01 00:00:00",
               "--max_rows", "7", "--until-complete", "--verbose")
    assert r.returncode == 1, r
    assert "instances" in r.stdout and " 20\n" in r.stdout, r.stdout
    # every old one moved with its action, event and fault; none recent
    assert count(cloud, "shadow_instances") == OLD
    assert count(cloud, "shadow_instance_actions") == OLD
    assert count(cloud, "shadow_instance_actions_events") == OLD
    assert count(cloud, "shadow_instance_faults") == OLD
    assert count(cloud, "instances", "deleted = 1") == 2
    assert count(cloud, "instance_faults", "instance_uuid IN ('%s')" % "','".join(cloud.old)) == 0
    r = manage(cloud, "archive_deleted_rows", "--before", "2021-01-01")
    assert r.returncode == 0, r
    assert live_rows(cloud) == before
    # the API lists the recent deletions still, and the live server
    r = cloud.get("/v2.1/servers?changes-since=2000-01-01T00:00:00Z")
    assert sorted(s["id"] for s in r.json["servers"]) == sorted([cloud.live] + cloud.gone)


def test_archive_everything_deleted_then_purge_by_date(cloud):
    before = live_rows(cloud)
    r = manage(cloud, "archive_deleted_rows")
    assert r.returncode == 1, r
    assert count(cloud, "instances", "deleted = 1") == 0
    assert count(cloud, "shadow_instances") == OLD + 2
    # the real deletions' actions and events went with them
    gone = "instance_uuid IN ('%s')" % "','".join(cloud.gone)
    assert count(cloud, "instance_actions", gone) == 0
    assert count(cloud, "shadow_instance_actions", gone) >= 4   # create, delete
    assert live_rows(cloud) == before
    r = cloud.get("/v2.1/servers/%s/os-instance-actions" % cloud.live)
    assert r.status == 200 and r.json["instanceActions"], r
    r = cloud.get("/v2.1/servers?changes-since=2000-01-01T00:00:00Z")
    assert [s["id"] for s in r.json["servers"]] == [cloud.live]
    # purge what was deleted before 2021: the old, not the recent
    r = manage(cloud, "purge", "--before", "2021-01-01", "--verbose")
    assert r.returncode == 0, r
    assert count(cloud, "shadow_instances") == 2
    assert count(cloud, "shadow_instance_actions", gone) >= 4
    assert count(cloud, "shadow_instance_faults") == 0
    assert count(cloud, "shadow_instance_actions_events",
                 "action_id NOT IN (SELECT id FROM shadow_instance_actions)") == 0
    r = manage(cloud, "purge", "--before", "2021-01-01")
    assert r.returncode == 3, r
    r = manage(cloud, "purge", "--all")
    assert r.returncode == 0, r
    for t in ("instances", "instance_actions", "instance_actions_events", "instance_faults"):
        assert count(cloud, "shadow_" + t) == 0, t
    assert live_rows(cloud) == before


def test_archive_with_purge_and_bad_arguments(cloud):
    img = cloud.create_image()
    sid = cloud.boot("once", img)
    cloud.wait_status(sid, "ACTIVE")
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid)
    r = manage(cloud, "archive_deleted_rows", "--purge")
    assert r.returncode == 1, r
    assert count(cloud, "instances", "uuid = '%s'" % sid) == 0
    assert count(cloud, "shadow_instances") == 0
    assert manage(cloud, "archive_deleted_rows", "--max_rows", "-1").returncode == 2
    assert manage(cloud, "archive_deleted_rows", "--before", "someday").returncode == 4
    assert manage(cloud, "purge").returncode == 1
    assert manage(cloud, "purge", "--before", "someday").returncode == 2
    assert cloud.server(cloud.live)["status"] == "ACTIVE"
