"""Helpers for the RPC system and interop tests: start rpc-echo, run
rpc-call, talk raw AMQP with py-amqp (Debian's python3-amqp, a dependency of
python3-oslo.messaging). Every wait is bounded."""
import json
import os
import select
import subprocess
import time
import uuid

BUILD = os.environ.get('KUMO_BUILD', '/work/main/build')
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
URL = os.environ.get('KUMO_TRANSPORT_URL', 'rabbit://guest:guest@127.0.0.1:5672/')
RABBITMQ = os.path.join(ROOT, 'tools', 'rabbitmq')


def topic():
    return 't-' + uuid.uuid4().hex[:12]


class Procs:
    """Processes started by a test; all killed in teardown."""

    def __init__(self):
        self.procs = []

    def echo(self, topic_, server, *extra, exchange=None, url=None, wait=True):
        args = [os.path.join(BUILD, 'rpc-echo'), '--transport-url', url or URL]
        if exchange:
            args += ['--exchange', exchange]
        args += list(extra) + [topic_, server]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(p)
        if wait:
            wait_line(p, 'rpc-echo: consuming', 20)
        return p

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def wait_line(p, needle, timeout):
    """Reads p's stdout until a line contains needle; fails after timeout."""
    deadline = time.time() + timeout
    buf = b''
    while time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            if needle.encode() in buf:
                return buf.decode()
        elif p.poll() is not None:
            break
    raise AssertionError('no %r from %s within %ss (rc=%s, got %r)' %
                         (needle, p.args, timeout, p.poll(), buf))


def rpc_call(topic_, method, args=None, *opts, timeout=60, exchange=None,
             url=None, check=False):
    """Runs build/rpc-call; returns its JSON lines as a list of dicts."""
    cmd = [os.path.join(BUILD, 'rpc-call'), '--transport-url', url or URL]
    if exchange:
        cmd += ['--exchange', exchange]
    # args: a dict, or '@FILE' (a file holding the JSON object)
    cmd += list(opts) + [topic_, method,
                         args if isinstance(args, str) else json.dumps(args or {})]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    lines = [json.loads(x) for x in r.stdout.decode().splitlines() if x.strip()]
    if check:
        assert r.returncode == 0, (cmd, lines, r.stderr.decode()[-2000:])
    return lines


def call1(topic_, method, args=None, *opts, **kw):
    lines = rpc_call(topic_, method, args, *opts, **kw)
    assert len(lines) == 1, lines
    return lines[0]


def wait_for(fn, timeout, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError('condition not met within %ss (last=%r)' % (timeout, last))


def amqp_conn():
    import amqp
    c = amqp.Connection(host='127.0.0.1:5672', userid='guest', password='guest',
                        virtual_host='/', connect_timeout=5)
    c.connect()
    return c


def envelope(msg):
    return json.dumps({'oslo.version': '2.0', 'oslo.message': json.dumps(msg)})


def publish_raw(ch, exchange, key, body, **props):
    import amqp
    base = dict(content_type='application/json', content_encoding='utf-8',
                delivery_mode=2, priority=0)
    base.update(props)
    ch.basic_publish(amqp.Message(body, **base), exchange=exchange, routing_key=key)


class AmqpProxy:
    """A TCP proxy in front of the broker that a test can cut (down/up) and
    that can withhold publisher confirms (basic.ack frames from the broker),
    so that outages hit one client only, not the shared broker."""

    def __init__(self, target=('127.0.0.1', 5672)):
        import socket
        import threading
        self.socket, self.threading = socket, threading
        self.target = target
        self.drop_acks = False
        self.acks_dropped = 0
        self.lock = threading.Lock()
        self.conns = []
        self.lsock = None
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        self.port = s.getsockname()[1]
        s.close()

    @property
    def url(self):
        return 'rabbit://guest:guest@127.0.0.1:%d/' % self.port

    def up(self):
        s = self.socket.socket()
        s.setsockopt(self.socket.SOL_SOCKET, self.socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', self.port))
        s.listen(16)
        self.lsock = s
        self.threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def down(self):
        """Refuses new connections and cuts the open ones."""
        if self.lsock is not None:
            self.lsock.close()
            self.lsock = None
        self.cut()

    def cut(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            for s in c:
                try:
                    s.shutdown(self.socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _accept(self, lsock):
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            b = self.socket.create_connection(self.target)
            with self.lock:
                self.conns.append((c, b))
            self.threading.Thread(target=self._pump, args=(c, b, False), daemon=True).start()
            self.threading.Thread(target=self._pump, args=(b, c, True), daemon=True).start()

    def _pump(self, src, dst, from_broker):
        buf = b''
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not from_broker:
                    dst.sendall(data)
                    continue
                buf += data
                # Whole frames: type(1) channel(2) size(4) payload end(1).
                while len(buf) >= 7:
                    size = int.from_bytes(buf[3:7], 'big')
                    if len(buf) < size + 8:
                        break
                    frame, buf = buf[:size + 8], buf[size + 8:]
                    if self.drop_acks and frame[0] == 1 and frame[7:11] == b'\x00\x3c\x00\x50':
                        self.acks_dropped += 1
                        continue
                    dst.sendall(frame)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(self.socket.SHUT_RDWR)
            except OSError:
                pass


def list_queues(*names, node=None):
    """{name: {"durable": bool, "type": str, "messages": int}} of the named
    queues on the broker's "/" vhost (absent ones left out); node: the
    name of another RabbitMQ node (RabbitNode.name)."""
    cmd = ['/usr/sbin/rabbitmqctl', '-q'] + (['-n', node] if node else [])
    r = subprocess.run(cmd + ['list_queues', '-p', '/', '--formatter', 'json',
                              'name', 'durable', 'type', 'messages'],
                       capture_output=True, timeout=60, check=True)
    return {q['name']: q for q in json.loads(r.stdout.decode() or '[]')
            if q['name'] in names}


def delete_entities(queues=(), exchanges=()):
    """Removes what a test declared to last (durable queues, exchanges)."""
    c = amqp_conn()
    try:
        ch = c.channel()
        for q in queues:
            ch.queue_delete(q)
        for x in exchanges:
            ch.exchange_delete(x)
    finally:
        c.close()


def _free_port():
    import socket
    with socket.socket() as sk:
        sk.bind(('127.0.0.1', 0))
        return sk.getsockname()[1]


class RabbitNode:
    """A RabbitMQ node of the test's own, on loopback: its own node name,
    AMQP and distribution ports and data directory, so that a test can
    kill -9 and restart it without touching the shared broker. Its data
    survives a restart (durable queues and persistent messages do)."""

    def __init__(self):
        import tempfile
        # not under pytest's tmp_path: its parents are 0700, and the
        # server runs as the rabbitmq user
        self.dir = tempfile.mkdtemp(prefix='kumo-rabbit-')
        os.chmod(self.dir, 0o777)
        self.name = 'kumotest%s@localhost' % uuid.uuid4().hex[:8]
        self.port, self.dist = _free_port(), _free_port()
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        self.proc = None

    def start(self, timeout=90):
        env = dict(os.environ, RABBITMQ_NODENAME=self.name,
                   RABBITMQ_NODE_IP_ADDRESS='127.0.0.1',
                   RABBITMQ_NODE_PORT=str(self.port),
                   RABBITMQ_DIST_PORT=str(self.dist),
                   RABBITMQ_MNESIA_BASE=os.path.join(self.dir, 'mnesia'),
                   RABBITMQ_LOG_BASE=os.path.join(self.dir, 'log'),
                   RABBITMQ_PID_FILE=os.path.join(self.dir, 'pid'),
                   RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.dir, 'plugins'))
        self.proc = subprocess.Popen(['/usr/sbin/rabbitmq-server'], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        # await_startup needs the node registered with epmd first
        deadline = time.time() + timeout
        while subprocess.run(['/usr/sbin/rabbitmqctl', '-q', '-n', self.name, 'ping'],
                             capture_output=True, timeout=60).returncode != 0:
            assert self.proc.poll() is None, 'rabbitmq-server %s exited' % self.name
            assert time.time() < deadline, 'rabbitmq-server %s did not start' % self.name
            time.sleep(0.5)
        subprocess.run(['/usr/sbin/rabbitmqctl', '-q', '-n', self.name, 'await_startup',
                        '--timeout', str(timeout)], check=True, timeout=timeout + 30,
                       capture_output=True)

    def kill9(self):
        """The node's Erlang VM, at once (the rabbitmq-server script runs it
        in a session of its own: its pid is in the node's pid file)."""
        import signal
        try:
            with open(os.path.join(self.dir, 'pid')) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
        if self.proc is not None:
            self.proc.wait(30)   # the script ends with its VM
        self.proc = None

    def stop(self):
        import shutil
        if self.proc is not None:
            subprocess.run(['/usr/sbin/rabbitmqctl', '-q', '-n', self.name, 'stop'],
                           timeout=60, capture_output=True)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
            self.kill9()
        shutil.rmtree(self.dir, ignore_errors=True)


class RabbitCluster:
    """Three RabbitMQ nodes of the test's own on loopback (their own node
    names, ports and data), clustered: what an operator runs for a broker
    that survives the loss of a node, with quorum queues replicated on all
    three. `name` is the first node's, for rabbitmqctl; `ports` the AMQP
    ports a transport_url lists."""

    def __init__(self, n=3):
        self.nodes = [RabbitNode() for _ in range(n)]
        self.name = self.nodes[0].name
        self.ports = [x.port for x in self.nodes]

    def ctl(self, node, *args, timeout=120):
        subprocess.run(['/usr/sbin/rabbitmqctl', '-q', '-n', node.name] + list(args),
                       check=True, timeout=timeout, capture_output=True)

    def start(self):
        for x in self.nodes:
            x.start()
        for x in self.nodes[1:]:
            self.ctl(x, 'stop_app')
            self.ctl(x, 'reset')
            self.ctl(x, 'join_cluster', self.name)
            self.ctl(x, 'start_app')
        out = subprocess.run(['/usr/sbin/rabbitmqctl', '-n', self.name,
                              'cluster_status', '--formatter', 'json'],
                             check=True, timeout=60, capture_output=True, text=True)
        running = json.loads(out.stdout)['running_nodes']
        assert sorted(running) == sorted(x.name for x in self.nodes), running

    def stop(self):
        for x in self.nodes:
            x.stop()
