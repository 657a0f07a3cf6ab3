"""A whole kumo cloud for system tests: real RabbitMQ (its own vhost), a real
SQLite file, and the real daemons (kumo-api, kumo-scheduler, one or more
kumo-compute on the fake driver), each with its own config file and log.

Binaries come from $KUMO_BUILD (default: build/ of this checkout).
At stop, every daemon must exit 0 on SIGTERM and its log must hold no
AddressSanitizer or UndefinedBehaviorSanitizer report.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("KUMO_BUILD", os.path.join(ROOT, "build"))
RABBITMQCTL = "/usr/sbin/rabbitmqctl"
SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a true value; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def rabbitmqctl(*args):
    subprocess.run([RABBITMQCTL, "-q", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.raw[:300])


class Daemon:
    def __init__(self, name, argv, log_path, env):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=30):
        """SIGTERM, wait; returns the exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                return None
        self.log.close()
        return self.proc.returncode


class Cloud:
    def __init__(self, computes=1, fake=None, scheduler_opts=None, extra_default=None,
                 driver="fake", parent_dir=None, auth="noauth2", extra_conf=None,
                 admin_token=None, admin_project=None, rabbit=None):
        self.dir = tempfile.mkdtemp(prefix="kumo-test-", dir=parent_dir)
        # rabbit: a rpchelp.RabbitNode or RabbitCluster of the test's own
        # (fault tests); by default a vhost on the shared broker at
        # 127.0.0.1:5672
        self.rabbit = rabbit
        if driver == "libvirt":
            # qemu runs as libvirt-qemu: it must reach the instance dirs
            os.chmod(self.dir, 0o755)
        self.driver = driver
        self.vhost = "kumo-test-" + uuid.uuid4().hex[:12]
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.daemons = {}
        self.n_computes = computes
        self.fake = fake or {}
        self.scheduler_opts = scheduler_opts or {}
        self.extra_default = extra_default or {}
        # {section: {key: value}} added to every daemon's file (after the
        # rest: a key given twice takes the later value)
        self.extra_conf = extra_conf or {}
        # "keystone": kumo's own identity service, bootstrapped with the
        # admin password below; request() then sends an admin token.
        # "keystone-external": an existing Keystone checks the tokens
        # (extra_conf's [keystone_authtoken]); kumo's identity is not
        # bootstrapped, and request() sends admin_token, a token of that
        # Keystone with the admin role on admin_project (its id: the
        # project whose quotas start() lifts; None = none lifted).
        self.auth = auth
        self.admin_password = "secret-" + uuid.uuid4().hex[:8]
        self.admin_token = admin_token
        self.admin_project = admin_project
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")

    # -- configuration ----------------------------------------------------
    def rabbit_ports(self):
        """The AMQP ports of the broker: a node, a cluster's nodes, or the
        shared broker's."""
        if self.rabbit is None:
            return [5672]
        return getattr(self.rabbit, "ports", None) or [self.rabbit.port]

    def conf_path(self, host):
        return os.path.join(self.dir, "%s.conf" % host)

    def write_conf(self, host, fake=None, driver=None, extra_conf=None):
        """The config file of host; extra_conf ({section: {key: value}})
        adds to the cloud's extra_conf for this file only."""
        pipeline = os.path.join(ROOT, "etc", "kumo", "api-pipeline.ini")
        lines = ["[DEFAULT]",
                 "host = %s" % host,
                 "transport_url = rabbit://%s/%s" % (",".join(
                     "guest:guest@127.0.0.1:%d" % p for p in self.rabbit_ports()),
                     self.vhost),
                 "control_exchange = kumo",
                 "state_path = %s" % os.path.join(self.dir, "state-" + host),
                 "osapi_compute_listen = 127.0.0.1",
                 "osapi_compute_listen_port = %d" % self.port,
                 "compute_driver = %s" % (driver or self.driver),
                 "rpc_response_timeout = 10",
                 "report_interval = 1",
                 "service_down_time = 4"]
        lines += ["%s = %s" % kv for kv in self.extra_default.items()]
        lines += ["[api]", "api_paste_config = %s" % pipeline,
                  "auth_strategy = %s" % ("keystone" if self.auth.startswith("keystone")
                                          else self.auth),
                  "[identity]", "password_hash_rounds = 4",
                  "[oslo_policy]",
                  # never the host's /etc/kumo/policy.yaml
                  "policy_file = %s" % os.path.join(self.dir, "policy.yaml"),
                  "[fernet_tokens]",
                  "key_repository = %s" % os.path.join(self.dir, "fernet-keys"),
                  "[database]",
                  "connection = sqlite:///%s" % os.path.join(self.dir, "kumo.db"),
                  "[glance]", "api_servers = %s" % self.url,
                  "[filter_scheduler]"]
        lines += ["%s = %s" % kv for kv in self.scheduler_opts.items()]
        merged = dict(self.fake)
        merged.update(fake or {})
        lines += ["[fake]"] + ["%s = %s" % kv for kv in merged.items()]
        lines += ["[libvirt]", "connection_uri = qemu:///system"]
        for extra in (self.extra_conf, extra_conf or {}):
            for section, keys in extra.items():
                lines += ["[%s]" % section] + ["%s = %s" % kv for kv in keys.items()]
        path = self.conf_path(host)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def manage(self, *args, check=True):
        return subprocess.run([os.path.join(BUILD, "kumo-manage"), "-c",
                               self.conf_path("controller"), *args],
                              capture_output=True, text=True, env=self.env,
                              timeout=60, check=check)

    # -- daemons ------------------------------------------------------------
    def start_daemon(self, name, binary, conf):
        d = Daemon(name, [os.path.join(BUILD, binary), "-c", conf],
                   os.path.join(self.dir, name + ".log"), self.env)
        self.daemons[name] = d
        return d

    def start_netd(self, netns):
        """kumo-netd inside network namespace netns (`ip netns exec` execs
        it: the daemon's pid is the process's), with the cloud's [network];
        stopped and its log checked with the other daemons. Returns once
        its socket ([network] helper_socket) is there."""
        conf = self.write_conf("netd")
        os.makedirs(self.state_dir("netd"), exist_ok=True)
        d = Daemon("netd", ["ip", "netns", "exec", netns,
                            os.path.join(BUILD, "kumo-netd"), "-c", conf],
                   os.path.join(self.dir, "netd.log"), self.env)
        self.daemons["netd"] = d
        sock = self.extra_conf["network"]["helper_socket"]
        wait_for(lambda: os.path.exists(sock) or d.proc.poll() is not None, 30,
                 what="kumo-netd's socket")
        assert d.proc.poll() is None, "kumo-netd exited:\n" + d.log_text()
        return d

    def start_compute(self, host, fake=None, driver=None, extra_conf=None):
        conf = self.write_conf(host, fake, driver, extra_conf)
        return self.start_daemon(host, "kumo-compute", conf)

    def stop_daemon(self, name):
        d = self.daemons.pop(name)
        rc = d.stop()
        self.check_log(d)
        return rc

    def ctl(self, *args):
        """rabbitmqctl on this cloud's broker node."""
        rabbitmqctl(*((["-n", self.rabbit.name] if self.rabbit else []) + list(args)))

    def start(self):
        self.ctl("add_vhost", self.vhost)
        self.ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        ctl = self.write_conf("controller")
        self.manage("db", "sync")
        self.manage("flavor", "create-defaults")
        if self.auth == "keystone":
            self.manage("token_setup")
            self.manage("bootstrap", "--bootstrap-password", self.admin_password)
        self.start_daemon("scheduler", "kumo-scheduler", ctl)
        for i in range(1, self.n_computes + 1):
            self.start_compute("compute%d" % i)
        self.start_daemon("api", "kumo-api", ctl)
        wait_for(self._api_up, 30, what="kumo-api to listen")
        admin_project = "admin"
        if self.auth == "keystone":
            self.admin_token, body = self.login("admin", self.admin_password, "admin")
            admin_project = body["token"]["project"]["id"]
        elif self.auth == "keystone-external":
            admin_project = self.admin_project
        # Tests boot many servers as admin: lift Nova's default quotas
        # (10 instances, 20 cores) for that project only.
        if admin_project is not None:
            r = self.request("PUT", "/v2.1/os-quota-sets/%s" % admin_project, body={
                "quota_set": {"instances": -1, "cores": -1, "ram": -1}})
            assert r.status == 200, r
        if self.n_computes:
            self.wait_computes_up(self.n_computes)
        return self

    def _api_up(self):
        try:
            return self.get("/", token=None).status == 200
        except OSError:
            for d in self.daemons.values():
                if d.proc.poll() is not None:
                    raise AssertionError("%s exited early:\n%s" % (d.name, d.log_text()[-3000:]))
            return False

    def wait_computes_up(self, n, timeout=30):
        """Until n computes can be scheduled to: each has reported its node
        (os-hypervisors) and its heartbeat (os-services, state up). The two
        casts are handled by different conductor workers, in either order."""
        def up():
            r = self.get("/v2.1/os-hypervisors/detail")
            if r.status != 200 or len(r.json["hypervisors"]) < n:
                return False
            r = self.get("/v2.1/os-services")
            return r.status == 200 and sum(
                1 for svc in r.json["services"]
                if svc["binary"] == "kumo-compute" and svc["state"] == "up"
                and svc["status"] == "enabled") >= n
        wait_for(up, timeout, what="%d computes up" % n)

    def check_log(self, d):
        text = d.log_text()
        m = SANITIZER_RE.search(text)
        assert m is None, "%s: sanitizer report in its log:\n%s" % (
            d.name, text[max(0, m.start() - 200):m.start() + 4000])

    def stop(self):
        failures = []
        # API first (it casts), computes next, the scheduler last.
        order = (["api"] + [n for n in self.daemons if n not in ("api", "scheduler")]
                 + ["scheduler"])
        for name in order:
            if name not in self.daemons:
                continue
            d = self.daemons.pop(name)
            rc = d.stop()
            if rc != 0:
                failures.append("%s exited %r on SIGTERM:\n%s" % (name, rc, d.log_text()[-3000:]))
            try:
                self.check_log(d)
            except AssertionError as e:
                failures.append(str(e))
        try:
            self.ctl("delete_vhost", self.vhost)
        except subprocess.SubprocessError:
            pass
        if not failures and not os.environ.get("KUMO_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        assert not failures, "\n\n".join(failures)

    def logs(self):
        return {n: d.log_text() for n, d in self.daemons.items()}

    # -- identity -----------------------------------------------------------
    def login(self, user, password, project=None, domain="Default"):
        """A password token of kumo's identity service: (token, body)."""
        ident = {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": domain}, "password": password}}}
        auth = {"identity": ident}
        if project is not None:
            auth["scope"] = {"project": {"name": project, "domain": {"name": domain}}}
        r = self.request("POST", "/identity/v3/auth/tokens", body={"auth": auth},
                         token=None)
        assert r.status == 201, r
        return r.header("X-Subject-Token"), r.json

    # -- HTTP ---------------------------------------------------------------
    def request(self, method, path, body=None, token="admin:admin", headers=None,
                raw=None, timeout=30):
        hdrs = {"Accept": "application/json"}
        if token == "admin:admin" and self.admin_token is not None:
            token = self.admin_token
        if token is not None:
            hdrs["X-Auth-Token"] = token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Response(r.status, r.getheaders(), r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers.items(), e.read())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- resources ------------------------------------------------------------
    def create_image(self, name="cirros", visibility=None):
        """An image of the admin's project (private unless visibility says
        otherwise: other projects may not boot it)."""
        body = {"name": name, "disk_format": "qcow2", "container_format": "bare"}
        if visibility:
            body["visibility"] = visibility
        r = self.post("/v2/images", body)
        assert r.status == 201, r
        return r.json["id"]

    def upload_image(self, image_id, data, content_type="application/octet-stream"):
        """PUT /v2/images/<id>/file with data (bytes); the Response."""
        return self.request("PUT", "/v2/images/%s/file" % image_id, raw=data,
                            headers={"Content-Type": content_type})

    def image_from_file(self, name, path, disk_format, **props):
        """An image with the data of file path (Glance's two calls), its
        properties from props; its id, once active."""
        body = {"name": name, "disk_format": disk_format, "container_format": "bare"}
        body.update(props)
        r = self.post("/v2/images", body)
        assert r.status == 201, r
        iid = r.json["id"]
        with open(path, "rb") as f:
            r = self.upload_image(iid, f.read())
        assert r.status == 204, r
        r = self.get("/v2/images/%s" % iid)
        assert r.json["status"] == "active", r
        return iid

    def state_dir(self, host="controller"):
        """The state_path of a daemon's config (the API's: "controller")."""
        return os.path.join(self.dir, "state-" + host)

    def pid(self, name):
        return self.daemons[name].proc.pid

    def boot(self, name, image, flavor="1", **extra):
        server = {"name": name, "imageRef": image, "flavorRef": flavor}
        server.update(extra)
        r = self.post("/v2.1/servers", {"server": server})
        assert r.status == 202, r
        return r.json["server"]["id"]

    def server(self, sid):
        r = self.get("/v2.1/servers/%s" % sid)
        return r.json["server"] if r.status == 200 else None

    def wait_status(self, sid, status, timeout=30):
        def check():
            s = self.server(sid)
            if s is not None and s["status"] == status:
                return s
            if s is not None and s["status"] == "ERROR" and status != "ERROR":
                raise AssertionError("server %s went to ERROR: %r" % (sid, s.get("fault")))
            return None
        return wait_for(check, timeout, what="server %s to be %s" % (sid, status))

    def wait_gone(self, sid, timeout=30):
        wait_for(lambda: self.get("/v2.1/servers/%s" % sid).status == 404, timeout,
                 what="server %s to be gone" % sid)
