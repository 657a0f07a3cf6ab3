"""Per-compute RabbitMQ users (issue 13, item 15), on a RabbitMQ node of the
module's own: kumo-manage rabbit-user create gives each compute host a user
that reads only its own queues and writes only to the conductor; RabbitMQ
refuses a message whose user_id is not its publisher's; the conductor takes
a compute's host from that user_id and refuses a report that speaks for
another host or about an instance on another host. Also kumo-manage's
checks of its arguments, before rabbitmqctl runs."""
import stat
import subprocess
import uuid

import amqp
import amqp.exceptions
import pytest

from kumocloud import Cloud, wait_for
from rpchelp import RabbitNode, envelope

HOSTS = ("compute1", "compute2")


@pytest.fixture(scope="module")
def node():
    n = RabbitNode()
    n.start()
    yield n
    n.stop()


def ctl_conf(node):
    return {"oslo_messaging_rabbit": {"rabbitmqctl": "/usr/sbin/rabbitmqctl",
                                      "rabbitmqctl_node": node.name}}


def create_user(cloud, host):
    """kumo-manage rabbit-user create host (generated password): the
    transport_url it prints."""
    r = cloud.manage("rabbit-user", "create", host)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("transport_url = ")]
    assert len(lines) == 1, r.stdout
    return lines[0].split(" = ", 1)[1]


@pytest.fixture(scope="module")
def cloud(node):
    """Two fake computes, each logged in as its own user."""
    c = Cloud(computes=0, rabbit=node, extra_conf=ctl_conf(node)).start()
    c.urls = {}
    try:
        for h in HOSTS:
            c.urls[h] = create_user(c, h)
            c.start_compute(h, extra_conf={"DEFAULT": {"transport_url": c.urls[h]}})
        c.wait_computes_up(2)
    except BaseException:
        c.stop()
        raise
    yield c
    c.stop()


def creds(url):
    """(user, password) of a transport_url kumo-manage printed."""
    from urllib.parse import unquote, urlsplit
    u = urlsplit(url)
    return unquote(u.username), unquote(u.password)


def connect(cloud, host=None):
    """A py-amqp connection to the cloud's vhost as host's user (None: the
    shared guest user kumo-api and kumo-scheduler use); each publish waits
    for the broker's confirm (or its refusal)."""
    user, pw = creds(cloud.urls[host]) if host else ("guest", "guest")
    c = amqp.Connection(host="127.0.0.1:%d" % cloud.rabbit.port, userid=user,
                        password=pw, virtual_host=cloud.vhost, connect_timeout=5,
                        confirm_publish=True)
    c.connect()
    return c


def cast(cloud, host, method, args, user_id=None):
    """A conductor cast as host's user, confirmed by the broker; its
    user_id property is the user's own unless user_id says otherwise."""
    c = connect(cloud, host)
    try:
        ch = c.channel()
        msg = {"method": method, "args": args, "version": "1.0",
               "_unique_id": uuid.uuid4().hex,
               "_context_request_id": "req-" + str(uuid.uuid4())}
        own = creds(cloud.urls[host])[0] if host else "guest"
        props = dict(content_type="application/json", content_encoding="utf-8",
                     delivery_mode=2, priority=0, user_id=user_id or own)
        ch.basic_publish(amqp.Message(envelope(msg), **props), exchange="kumo",
                         routing_key="conductor")
    finally:
        c.close()


def refused(cloud, host, action):
    """Runs action(channel) as host's user: the broker's error class."""
    c = connect(cloud, host)
    try:
        ch = c.channel()
        with pytest.raises(amqp.exceptions.AMQPError) as e:
            action(ch)
        return type(e.value)
    finally:
        try:
            c.close()
        except Exception:
            pass


def queues(cloud):
    r = subprocess.run(["/usr/sbin/rabbitmqctl", "-q", "-n", cloud.rabbit.name,
                        "list_queues", "-p", cloud.vhost, "--no-table-headers",
                        "name"], capture_output=True, text=True, timeout=60,
                       check=True)
    return r.stdout.split()


def scheduler_log_has(cloud, needle):
    return wait_for(lambda: needle in cloud.daemons["scheduler"].log_text(), 20,
                    what="the scheduler to log %r" % needle)


def boot_on(cloud, image, host):
    """A server ACTIVE on host (others booted meanwhile are deleted)."""
    extra = []
    for i in range(8):
        sid = cloud.boot("bus-%s-%d" % (host, i), image)
        s = cloud.wait_status(sid, "ACTIVE")
        if s["OS-EXT-SRV-ATTR:host"] == host:
            for other in extra:
                cloud.delete("/v2.1/servers/%s" % other)
            return sid
        extra.append(sid)
    raise AssertionError("no server landed on %s" % host)


@pytest.fixture(scope="module")
def image(cloud):
    return cloud.create_image()


def test_boot_and_delete_with_per_host_users(cloud, image):
    """Each compute builds and deletes with its own user; nothing of the
    computes' own traffic is refused."""
    a = boot_on(cloud, image, "compute1")
    b = boot_on(cloud, image, "compute2")
    for sid in (a, b):
        assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    for sid in (a, b):
        cloud.wait_gone(sid)
    assert "dropped: bus user" not in cloud.daemons["scheduler"].log_text()


def test_broker_refuses_a_forged_user_id(cloud):
    """A compute user's message that claims the shared user is refused by
    RabbitMQ (406 PRECONDITION_FAILED); its own user_id goes through."""
    user, _ = creds(cloud.urls["compute1"])

    def publish(user_id):
        def go(ch):
            ch.basic_publish(amqp.Message("{}", user_id=user_id), exchange="kumo",
                             routing_key="conductor")
        return go
    assert refused(cloud, "compute1", publish("guest")) is amqp.exceptions.PreconditionFailed
    c = connect(cloud, "compute1")
    try:
        publish(user)(c.channel())   # confirmed: no error
    finally:
        c.close()


def test_compute_user_reads_and_writes_only_its_own(cloud):
    """compute1's user cannot consume compute2's queue or the conductor's,
    cannot bind a queue to compute2's routing key, cannot publish a build
    to compute2 (topic permission) nor to the scheduler."""
    def consume(q):
        return lambda ch: ch.basic_consume(q, callback=lambda m: None)
    # compute2's reply queue (kumo-compute tags it with its host), and
    # the plain reply_<hex> queues of kumo-api and kumo-scheduler
    theirs = [q for q in queues(cloud) if q.startswith("reply_compute2_")]
    assert len(theirs) == 1, queues(cloud)
    for q in ("compute.compute2", "compute.compute3", "conductor", "scheduler",
              "compute.compute1x",
              theirs[0], "reply_" + uuid.uuid4().hex):
        assert refused(cloud, "compute1", consume(q)) is amqp.exceptions.AccessRefused, q

    def publish(key):
        def go(ch):
            ch.basic_publish(amqp.Message("{}"), exchange="kumo", routing_key=key)
        return go
    for key in ("compute.compute2", "scheduler", "compute"):
        assert refused(cloud, "compute1", publish(key)) is amqp.exceptions.AccessRefused, key

    def bind(ch):
        q = "compute_fanout_" + uuid.uuid4().hex
        ch.queue_declare(q, arguments={"x-expires": 60000})
        ch.queue_bind(q, "kumo", "compute.compute2")
    assert refused(cloud, "compute1", bind) is amqp.exceptions.AccessRefused


def test_update_for_another_host_is_refused(cloud, image):
    """compute1's user sets compute2's server to ERROR, deletes it, and
    registers compute2's node: all refused, logged, the server unchanged."""
    sid = boot_on(cloud, image, "compute2")
    update = {"instance_uuid": sid, "vm_state": "error", "task_state": "",
              "power_state": 0, "expected_task_state": None}
    # the payload names compute2: not compute1's user's to say
    cast(cloud, "compute1", "instance_update", dict(update, host="compute2"))
    scheduler_log_has(cloud, "conductor.instance_update dropped: bus user "
                      "kumo-compute-compute1 may not speak for host 'compute2'")
    # the payload names compute1: the instance is not there
    cast(cloud, "compute1", "instance_update", dict(update, host="compute1"))
    scheduler_log_has(cloud, "instance %s: an update from host compute1 dropped" % sid)
    cast(cloud, "compute1", "instance_deleted", {"host": "compute1", "instance_uuid": sid})
    scheduler_log_has(cloud, "instance %s: a deletion from host compute1 dropped" % sid)
    cast(cloud, "compute1", "service_heartbeat",
         {"host": "compute1", "binary": "kumo-scheduler", "topic": "scheduler"})
    scheduler_log_has(cloud, "conductor.service_heartbeat dropped: bus user "
                      "kumo-compute-compute1 may only report kumo-compute")
    s = cloud.server(sid)
    assert s["status"] == "ACTIVE" and "fault" not in s, s
    assert s["OS-EXT-SRV-ATTR:host"] == "compute2"
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid)


def by_default_exchange(cloud, host, queue, method, args):
    """A request as host's user straight into queue, through the default
    exchange."""
    c = connect(cloud, host)
    try:
        msg = {"method": method, "args": args, "version": "1.0",
               "_unique_id": uuid.uuid4().hex}
        c.channel().basic_publish(
            amqp.Message(envelope(msg), content_type="application/json",
                         user_id=creds(cloud.urls[host])[0]),
            exchange="", routing_key=queue)
    finally:
        c.close()


def test_request_to_another_compute_by_the_default_exchange_is_refused(cloud, image):
    """RabbitMQ lets a compute's user reply through the default exchange,
    which routes to any queue by name: compute1's user can put a
    terminate_instance into compute2's queue that way, or a build into the
    scheduler's. Both refuse a request from a compute's user (logged); the
    server stays."""
    sid = boot_on(cloud, image, "compute2")
    by_default_exchange(cloud, "compute1", "compute.compute2", "terminate_instance",
                        {"instance_uuid": sid})
    needle = ("compute.terminate_instance refused: a request from bus user "
              "kumo-compute-compute1: compute hosts send none (dropped)")
    wait_for(lambda: needle in cloud.daemons["compute2"].log_text(), 20,
             what="compute2 to refuse the request")
    by_default_exchange(cloud, "compute1", "scheduler", "build_instances",
                        {"instance_uuid": sid, "retry": None})
    scheduler_log_has(cloud, "scheduler.build_instances dropped: a request from "
                      "bus user kumo-compute-compute1")
    assert cloud.server(sid)["status"] == "ACTIVE"
    assert cloud.delete("/v2.1/servers/%s" % sid).status == 204
    cloud.wait_gone(sid)


def test_fake_compute_for_another_host_is_refused(cloud):
    """compute1's user registers a node and a service as compute3: refused,
    and os-hypervisors / os-services never list it."""
    res = {"vcpus": 512, "memory_mb": 1 << 24, "local_gb": 1 << 20,
           "hypervisor_type": "fake", "hypervisor_version": 1,
           "hypervisor_hostname": "compute3"}
    cast(cloud, "compute1", "compute_node_update", {"host": "compute3", "resources": res})
    cast(cloud, "compute1", "service_heartbeat",
         {"host": "compute3", "binary": "kumo-compute", "topic": "compute"})
    scheduler_log_has(cloud, "conductor.compute_node_update dropped: bus user "
                      "kumo-compute-compute1 may not speak for host 'compute3'")
    scheduler_log_has(cloud, "conductor.service_heartbeat dropped: bus user "
                      "kumo-compute-compute1 may not speak for host 'compute3'")
    hyp = cloud.get("/v2.1/os-hypervisors/detail").json["hypervisors"]
    assert sorted(h["hypervisor_hostname"] for h in hyp) == list(HOSTS)
    svc = cloud.get("/v2.1/os-services").json["services"]
    assert "compute3" not in [s["host"] for s in svc]


def test_shared_user_trusted_unless_required(cloud, image):
    """By default the shared user speaks for any host (kumo-api's and
    oslo peers' way); with [conductor] require_compute_users its compute
    reports are refused while the computes' own still work."""
    sid = boot_on(cloud, image, "compute2")
    cloud.stop_daemon("scheduler")
    conf = cloud.write_conf("controller", extra_conf={
        "conductor": {"require_compute_users": "true"}})
    cloud.start_daemon("scheduler", "kumo-scheduler", conf)
    update = {"host": "compute2", "instance_uuid": sid, "vm_state": "error",
              "task_state": "", "power_state": 0, "expected_task_state": None}
    cast(cloud, None, "instance_update", update)
    scheduler_log_has(cloud, "conductor.instance_update dropped: bus user 'guest' "
                      "is not a compute host's")
    assert cloud.server(sid)["status"] == "ACTIVE"
    # the computes' own reports still count: a boot and a delete
    other = boot_on(cloud, image, "compute1")
    for x in (sid, other):
        assert cloud.delete("/v2.1/servers/%s" % x).status == 204
        cloud.wait_gone(x)


def test_manage_list_and_delete(cloud):
    """list shows the compute users; a deleted one can no longer log in."""
    cloud.urls["compute9"] = create_user(cloud, "compute9")
    connect(cloud, "compute9").close()

    def listed():
        return set(cloud.manage("rabbit-user", "list").stdout.splitlines())
    assert listed() == {"compute%d\tkumo-compute-compute%d" % (i, i) for i in (1, 2, 9)}
    r = cloud.manage("rabbit-user", "delete", "compute9")
    assert r.stdout == "kumo-compute-compute9 deleted\n"
    assert listed() == {"compute%d\tkumo-compute-compute%d" % (i, i) for i in (1, 2)}
    with pytest.raises(amqp.exceptions.AccessRefused):
        connect(cloud, "compute9")


# ---- kumo-manage's argument checks (no broker needed) ------------------------

@pytest.fixture
def fake_ctl(tmp_path):
    """A stand-in rabbitmqctl that records its arguments and input."""
    script = tmp_path / "rabbitmqctl"
    record = tmp_path / "calls"
    script.write_text("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %s\ncat >> %s.stdin\n"
                      "exit 0\n" % (record, record))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record


def manage_with(tmp_path, script, *args):
    c = Cloud(computes=0, parent_dir=str(tmp_path),
              extra_conf={"oslo_messaging_rabbit": {"rabbitmqctl": str(script),
                                                    "rabbitmqctl_node": "n1@localhost"}})
    c.write_conf("controller")
    return c.manage(*args, check=False)


@pytest.mark.parametrize("host", ["", "-x", "a b", "x;id", "a.b", "../etc",
                                  "h" * 64, "compute1\n", "comp$(id)"])
def test_manage_refuses_bad_host_before_rabbitmqctl(tmp_path, fake_ctl, host):
    script, record = fake_ctl
    r = manage_with(tmp_path, script, "rabbit-user", "create", "--", host)
    assert r.returncode == 2, r
    assert "is not a host name" in r.stderr
    assert not record.exists()
    r = manage_with(tmp_path, script, "rabbit-user", "delete", host)
    assert r.returncode == 2 and not record.exists(), r


def test_manage_create_runs_rabbitmqctl(tmp_path, fake_ctl):
    """A good host: add_user (password on stdin, never in argv), then the
    permissions, on the node and vhost of the config."""
    script, record = fake_ctl
    pw = tmp_path / "pw"
    pw.write_text("s3cret-Pass\n")
    r = manage_with(tmp_path, script, "rabbit-user", "create", "node-7",
                    "--password-file", str(pw))
    assert r.returncode == 0, r
    calls = record.read_text().splitlines()
    assert calls[0] == "-n n1@localhost -q add_user kumo-compute-node-7"
    assert calls[1].startswith("-n n1@localhost -q set_permissions -p ")
    assert "compute\\.node-7" in calls[1]
    assert calls[2].startswith("-n n1@localhost -q set_topic_permissions -p ")
    assert calls[2].endswith("kumo ^conductor$ ^compute(\\.node-7)?$")
    assert "s3cret" not in record.read_text()
    assert (tmp_path / "calls.stdin").read_text() == "s3cret-Pass"
    assert ":s3cret-Pass@127.0.0.1:5672/kumo-test-" in r.stdout


@pytest.mark.parametrize("content", ["", "\n", "p" * 128 + "\n", "a\tb\n", "x\x7fy"])
def test_manage_refuses_bad_password_file(tmp_path, fake_ctl, content):
    script, record = fake_ctl
    pw = tmp_path / "pw"
    pw.write_text(content)
    r = manage_with(tmp_path, script, "rabbit-user", "create", "node-7",
                    "--password-file", str(pw))
    assert r.returncode == 2 and not record.exists(), r
    r = manage_with(tmp_path, script, "rabbit-user", "create", "node-7",
                    "--password-file", str(tmp_path / "absent"))
    assert r.returncode == 2 and not record.exists(), r


def test_manage_usage(tmp_path, fake_ctl):
    script, record = fake_ctl
    for args in (["rabbit-user", "create"], ["rabbit-user", "create", "a", "b"],
                 ["rabbit-user", "create", "a", "--bogus"], ["rabbit-user", "delete"]):
        r = manage_with(tmp_path, script, *args)
        assert r.returncode == 2, (args, r)
    assert not record.exists()
