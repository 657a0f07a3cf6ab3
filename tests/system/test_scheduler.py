"""kumo-scheduler and kumo-compute over the real broker and a real SQLite
file, without kumo-api: instances are inserted as the API would insert them
(building/scheduling plus a "create" action) and scheduler.build_instances
is cast with build/rpc-call. Covers placement, claims, reschedules, faults,
terminate, reports, bad input from the wire and clean shutdown.
"""
import json
import os
import sqlite3
import subprocess
import tempfile
import uuid

import pytest

from kumocloud import BUILD, SANITIZER_RE, Daemon, rabbitmqctl, wait_for


class Plane:
    """A scheduler and some computes (fake driver) on a vhost of their own."""

    def __init__(self, scheduler_opts=None, max_attempts=3):
        self.dir = tempfile.mkdtemp(prefix="kumo-sched-test-")
        self.vhost = "kumo-sched-" + uuid.uuid4().hex[:12]
        self.url = "rabbit://guest:guest@127.0.0.1:5672/" + self.vhost
        self.db_path = os.path.join(self.dir, "kumo.db")
        self.scheduler_opts = scheduler_opts or {}
        self.max_attempts = max_attempts
        self.daemons = {}
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1")

    def write_conf(self, host, fake=None):
        lines = ["[DEFAULT]", "host = %s" % host, "transport_url = %s" % self.url,
                 "control_exchange = kumo", "compute_driver = fake",
                 "state_path = %s" % self.dir, "rpc_response_timeout = 10",
                 "report_interval = 1", "service_down_time = 4",
                 "[database]", "connection = sqlite:///%s" % self.db_path,
                 "[scheduler]", "max_attempts = %d" % self.max_attempts,
                 "[filter_scheduler]"]
        lines += ["%s = %s" % kv for kv in self.scheduler_opts.items()]
        lines += ["[fake]"] + ["%s = %s" % kv for kv in (fake or {}).items()]
        path = os.path.join(self.dir, host + ".conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, computes=(), **fakes):
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        ctl = self.write_conf("controller")
        subprocess.run([os.path.join(BUILD, "kumo-manage"), "-c", ctl, "db", "sync"],
                       check=True, capture_output=True, env=self.env, timeout=60)
        self.start_daemon("scheduler", "kumo-scheduler", ctl)
        for host in computes:
            self.start_compute(host, fakes.get(host))
        self.wait_computes(len(computes))
        return self

    def start_daemon(self, name, binary, conf):
        self.daemons[name] = Daemon(name, [os.path.join(BUILD, binary), "-c", conf],
                                    os.path.join(self.dir, name + ".log"), self.env)

    def start_compute(self, host, fake=None):
        self.start_daemon(host, "kumo-compute", self.write_conf(host, fake))

    def wait_computes(self, n):
        wait_for(lambda: len(self.rows(
            "SELECT n.host FROM compute_nodes n JOIN services s ON s.host = n.host"
            " AND s.binary = 'kumo-compute'")) >= n, 30, what="%d compute nodes" % n)

    def stop(self):
        failures = []
        # Computes first, the scheduler (their conductor) last.
        for name in sorted(self.daemons, key=lambda n: n == "scheduler"):
            d = self.daemons[name]
            rc = d.stop()
            text = d.log_text()
            if rc != 0:
                failures.append("%s exited %r:\n%s" % (name, rc, text[-2000:]))
            m = SANITIZER_RE.search(text)
            if m:
                failures.append("%s: sanitizer report:\n%s" % (name, text[m.start():][:3000]))
        self.daemons = {}
        try:
            rabbitmqctl("delete_vhost", self.vhost)
        except subprocess.SubprocessError:
            pass
        assert not failures, "\n\n".join(failures)

    def log(self, name):
        return self.daemons[name].log_text()

    # -- the database, read and written as kumo-api would ----------------------
    def rows(self, sql, *args):
        db = sqlite3.connect(self.db_path, timeout=10)
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()

    def instance(self, uid):
        db = sqlite3.connect(self.db_path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            r = db.execute("SELECT * FROM instances WHERE uuid = ?", (uid,)).fetchone()
            return dict(r) if r else None
        finally:
            db.close()

    def cast(self, topic, method, args, server=None, request_id=None):
        argv = [os.path.join(BUILD, "rpc-call"), "--transport-url", self.url,
                "--exchange", "kumo", "--cast"]
        if server:
            argv += ["--server", server]
        if request_id:
            argv += ["--request-id", request_id]
        argv += [topic, method, args if isinstance(args, str) else json.dumps(args)]
        subprocess.run(argv, check=True, capture_output=True, env=self.env, timeout=30)

    def boot(self, vcpus=1, memory_mb=512, root_gb=1, az=""):
        uid, rid = str(uuid.uuid4()), "req-" + str(uuid.uuid4())
        image = str(uuid.uuid4())
        db = sqlite3.connect(self.db_path, timeout=10)
        with db:
            # the project's own image, without data: the conductor checks
            # that the build's project may read it
            db.execute("INSERT INTO images (id, name, status, owner, visibility,"
                       " created_at) VALUES (?, 'img', 'queued', 'p1', 'private',"
                       " '2026-01-01T00:00:00Z')", (image,))
            db.execute("INSERT INTO instances (uuid, name, project_id, user_id, image_ref,"
                       " flavorid, flavor_name, vcpus, memory_mb, root_gb, vm_state,"
                       " task_state, availability_zone, request_id, created_at)"
                       " VALUES (?, ?, 'p1', 'u1', ?, '1', 'm1.tiny', ?, ?, ?, 'building',"
                       " 'scheduling', ?, ?, '2026-01-01T00:00:00Z')",
                       (uid, "vm-" + uid[:8], image, vcpus, memory_mb, root_gb,
                        az, rid))
            db.execute("INSERT INTO instance_actions (action, instance_uuid, request_id,"
                       " start_time) VALUES ('create', ?, ?, '2026-01-01T00:00:00Z')",
                       (uid, rid))
        db.close()
        self.cast("scheduler", "build_instances", {"instance_uuid": uid, "retry": None},
                  request_id=rid)
        return uid, rid

    def wait_state(self, uid, vm_state, timeout=30):
        def check():
            i = self.instance(uid)
            return i if i and i["vm_state"] == vm_state and not i["task_state"] else None
        return wait_for(check, timeout, what="%s to be %s" % (uid, vm_state))

    def terminate(self, uid):
        host = self.instance(uid)["host"]
        db = sqlite3.connect(self.db_path, timeout=10)
        with db:
            db.execute("UPDATE instances SET task_state = 'deleting' WHERE uuid = ?", (uid,))
        db.close()
        self.cast("compute", "terminate_instance", {"instance_uuid": uid}, server=host)
        wait_for(lambda: self.instance(uid)["deleted"], 30, what="%s deleted" % uid)

    def allocations(self):
        return dict(self.rows("SELECT n.host, sum(a.memory_mb) FROM allocations a"
                              " JOIN compute_nodes n ON n.id = a.compute_node_id"
                              " GROUP BY n.host"))

    def fault(self, uid):
        r = self.rows("SELECT code, message FROM instance_faults WHERE instance_uuid = ?"
                      " ORDER BY id DESC LIMIT 1", uid)
        return r[0] if r else None

    def action(self, uid):
        return self.rows("SELECT finish_time, message FROM instance_actions"
                         " WHERE instance_uuid = ?", uid)[0]


@pytest.fixture
def plane():
    made = []

    def make(computes=(), scheduler_opts=None, max_attempts=3, **fakes):
        p = Plane(scheduler_opts, max_attempts)
        made.append(p)
        return p.start(computes, **fakes)
    yield make
    for p in made:
        p.stop()


def test_reports_appear(plane):
    p = plane(["c1", "c2"], c1={"vcpus": 8, "memory_mb": 2048, "local_gb": 30})
    nodes = {r[0]: r[1:] for r in p.rows(
        "SELECT host, hypervisor_type, vcpus, memory_mb, local_gb, cpu_allocation_ratio"
        " FROM compute_nodes")}
    assert nodes["c1"] == ("fake", 8, 2048, 30, 4.0)
    assert set(nodes) == {"c1", "c2"}
    svcs = {(r[0], r[1]) for r in p.rows("SELECT host, binary FROM services")}
    assert {("controller", "kumo-scheduler"), ("controller", "kumo-conductor"),
            ("c1", "kumo-compute"), ("c2", "kumo-compute")} <= svcs
    before = p.rows("SELECT report_count FROM services WHERE host = 'c1'")[0][0]
    wait_for(lambda: p.rows("SELECT report_count FROM services WHERE host = 'c1'")[0][0]
             > before, 10, what="a second heartbeat")


def test_boot_spreads_claims_and_terminates(plane):
    p = plane(["c1", "c2"])
    booted = [p.boot(memory_mb=1024) for _ in range(6)]
    for uid, rid in booted:
        i = p.wait_state(uid, "active")
        assert i["power_state"] == 1 and i["host"] in ("c1", "c2")
        assert p.action(uid)[0]
    assert p.allocations() == {"c1": 3072, "c2": 3072}
    uid, rid = booted[0]
    host = p.instance(uid)["host"]
    assert rid in p.log("scheduler") and rid in p.log(host)
    for uid, _ in booted:
        p.terminate(uid)
    wait_for(lambda: p.allocations() == {}, 10, what="claims to be freed")


def test_stacking_with_negative_multiplier(plane):
    p = plane(["c1", "c2"], scheduler_opts={"ram_weight_multiplier": "-1.0"})
    first, _ = p.boot()
    host = p.wait_state(first, "active")["host"]
    for _ in range(3):
        uid, _ = p.boot()
        assert p.wait_state(uid, "active")["host"] == host


def test_no_valid_host_sets_error_and_fault(plane):
    p = plane(["c1"], scheduler_opts={"cpu_allocation_ratio": "1.0"},
              c1={"vcpus": 2, "memory_mb": 4096, "local_gb": 10})
    ok, _ = p.boot(vcpus=2)
    p.wait_state(ok, "active")
    bad, _ = p.boot(vcpus=1)
    p.wait_state(bad, "error")
    code, msg = p.fault(bad)
    assert code == 500 and msg.startswith("No valid host was found.")
    assert p.action(bad)[1] == "Error"
    assert "CoreFilter: (start: 1, end: 0)" in p.log("scheduler")
    zone, _ = p.boot(az="elsewhere")
    p.wait_state(zone, "error")
    assert p.allocations() == {"c1": 512}


def test_failed_spawn_rescheduled_then_error(plane):
    p = plane(["bad", "good"], bad={"spawn_fail": "true", "memory_mb": 999999})
    for _ in range(3):
        uid, _ = p.boot()
        assert p.wait_state(uid, "active")["host"] == "good"
    assert "spawn_fail" in p.log("scheduler")
    q = plane(["bad1", "bad2"], bad1={"spawn_fail": "true"}, bad2={"spawn_fail": "true"},
              max_attempts=2)
    uid, _ = q.boot()
    q.wait_state(uid, "error")
    code, msg = q.fault(uid)
    assert code == 500 and "Exceeded maximum number of retries" in msg
    assert q.allocations() == {}


def test_delete_while_spawning(plane):
    p = plane(["c1"], c1={"spawn_delay_ms": "1500"})
    uid, _ = p.boot()
    wait_for(lambda: p.instance(uid)["task_state"] == "spawning", 10, what="spawning")
    p.terminate(uid)
    wait_for(lambda: "update to active dropped" in p.log("scheduler"), 10,
             what="the late update to be dropped")
    assert p.allocations() == {}
    # the compute destroys it once the build lets go of the instance's lock:
    # its log line may come after the scheduler's
    wait_for(lambda: "instance %s: destroyed" % uid in p.log("c1"), 10,
             what="the compute to destroy it")


def test_bad_input_from_the_wire(plane):
    p = plane(["c1"])
    good = str(uuid.uuid4())
    bad = [("scheduler", "build_instances", {"instance_uuid": "x"}, None),
           ("scheduler", "build_instances", {"instance_uuid": good, "retry": 3}, None),
           ("scheduler", "build_instances", {"instance_uuid": good,
                                             "retry": {"num_attempts": 1, "hosts": [7]}}, None),
           ("conductor", "instance_update", {"instance_uuid": good, "vm_state": "zombie",
                                             "task_state": "", "power_state": 1}, None),
           ("conductor", "instance_update", {"instance_uuid": good, "vm_state": "active",
                                             "task_state": "", "power_state": 2}, None),
           ("conductor", "compute_node_update", {"host": "c9", "resources": []}, None),
           ("conductor", "service_heartbeat", {"host": "h" * 300, "binary": "b",
                                               "topic": "t"}, None),
           ("conductor", "build_failed", {"instance_uuid": good, "host": "c1"}, None),
           ("conductor", "no_such_method", {}, None),
           ("compute", "build_and_run_instance", {"instance": {"uuid": "nope"}}, "c1"),
           ("compute", "terminate_instance", {"instance_uuid": None}, "c1")]
    for topic, method, args, server in bad:
        p.cast(topic, method, args, server=server)
    wait_for(lambda: p.log("scheduler").count("InvalidParameterValue") >= 8, 10,
             what="every bad scheduler message to be refused")
    wait_for(lambda: p.log("c1").count("InvalidParameterValue") >= 2, 10,
             what="every bad compute message to be refused")
    assert not p.rows("SELECT * FROM compute_nodes WHERE host = 'c9'")
    uid, _ = p.boot()          # still serving
    p.wait_state(uid, "active")


def test_start_up_refusals(plane):
    p = plane([])
    conf = p.write_conf("lv")
    with open(conf) as f:
        text = f.read().replace("compute_driver = fake", "compute_driver = xen")
    with open(conf, "w") as f:
        f.write(text)
    r = subprocess.run([os.path.join(BUILD, "kumo-compute"), "-c", conf, "-n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "compute_driver = xen" in r.stderr
    p.scheduler_opts = {"enabled_filters": "RamFilter,NoSuchFilter"}
    r = subprocess.run([os.path.join(BUILD, "kumo-scheduler"), "-c",
                        p.write_conf("ctl2"), "-n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "'NoSuchFilter'" in r.stderr


def test_reports_only_from_the_instances_own_host(plane):
    """A compute's reports about an instance placed on another host are
    dropped: it cannot stop, fail or delete someone else's instance."""
    p = plane(["c1"])
    uid, _ = p.boot()
    p.wait_state(uid, "active")
    p.cast("conductor", "instance_update", {
        "host": "c2", "instance_uuid": uid, "vm_state": "stopped", "task_state": "",
        "power_state": 4, "expected_task_state": None})
    p.cast("conductor", "action_failed", {
        "host": "c2", "instance_uuid": uid, "action": "stop", "reason": "evil",
        "expected_task_state": ""})
    p.cast("conductor", "instance_deleted", {"host": "c2", "instance_uuid": uid})
    wait_for(lambda: p.log("scheduler").count("from host c2 dropped") >= 3, 10,
             what="the three reports from c2 to be dropped")
    row = p.instance(uid)
    assert (row["vm_state"], row["power_state"], row["deleted"]) == ("active", 1, 0)
    # The instance's own host is still heard.
    p.cast("conductor", "instance_update", {
        "host": "c1", "instance_uuid": uid, "vm_state": "stopped", "task_state": "",
        "power_state": 4, "expected_task_state": None})
    wait_for(lambda: p.instance(uid)["vm_state"] == "stopped", 10, what="c1's update")


def events(p, uid):
    return p.rows("SELECT e.event, e.result, e.host, e.traceback, e.details"
                  " FROM instance_actions_events e JOIN instance_actions a"
                  " ON a.id = e.action_id WHERE a.instance_uuid = ? ORDER BY e.id", uid)


def test_build_events_across_a_reschedule(plane):
    """Each attempt's compute reports its build step: the failed host's
    event is Error with the driver's reason, the next host's Success; all
    on the create action of the request."""
    p = plane(["bad", "good"], bad={"spawn_fail": "true", "memory_mb": 999999})
    uid, _ = p.boot()
    assert p.wait_state(uid, "active")["host"] == "good"
    wait_for(lambda: len(events(p, uid)) == 2, 10, what="both events")
    (e1, r1, h1, tb1, d1), (e2, r2, h2, tb2, d2) = events(p, uid)
    assert (e1, r1, h1) == ("compute__do_build_and_run_instance", "Error", "bad")
    assert "spawn_fail" in tb1 and "spawn_fail" in d1
    assert (e2, r2, h2, tb2, d2) == ("compute__do_build_and_run_instance", "Success",
                                     "good", None, None)


def test_events_only_from_the_instances_own_host_and_well_formed(plane):
    p = plane(["c1"])
    uid, rid = p.boot()
    p.wait_state(uid, "active")
    wait_for(lambda: len(events(p, uid)) == 1, 10, what="the build event")
    ev = {"event": "compute_stop_instance", "start_time": "2026-01-01T00:00:00Z",
          "finish_time": "2026-01-01T00:00:01Z", "result": "Success", "traceback": None}
    p.cast("conductor", "instance_update", {
        "host": "c2", "instance_uuid": uid, "vm_state": "active", "task_state": "",
        "power_state": 1, "expected_task_state": None, "event": ev}, request_id=rid)
    bad = [dict(ev, start_time="2026-02-30T00:00:00Z"),
           dict(ev, finish_time="2025-12-31T23:59:59Z"),    # before its start
           dict(ev, result="Maybe"),
           dict(ev, event=""),
           dict(ev, event="x" * 64),
           dict(ev, traceback="t" * 4096),
           dict(ev, start_time=12),
           "not an object"]
    for e in bad:
        p.cast("conductor", "instance_update", {
            "host": "c1", "instance_uuid": uid, "vm_state": "active", "task_state": "",
            "power_state": 1, "expected_task_state": None, "event": e}, request_id=rid)
    wait_for(lambda: p.log("scheduler").count("bad argument 'event'") >= len(bad), 10,
             what="every bad event to be refused")
    assert "from host c2 dropped" in p.log("scheduler")
    assert len(events(p, uid)) == 1
    # a good one from the instance's host is recorded
    p.cast("conductor", "instance_update", {
        "host": "c1", "instance_uuid": uid, "vm_state": "active", "task_state": "",
        "power_state": 1, "expected_task_state": None, "event": ev}, request_id=rid)
    wait_for(lambda: len(events(p, uid)) == 2, 10, what="the good event")
    assert events(p, uid)[1][:3] == ("compute_stop_instance", "Success", "c1")
