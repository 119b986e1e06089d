"""Plumbing shared by the load scripts in bench/ (nginx-bench, growth).

Processes started by PID and stopped by PID, free loopback ports, Debian
packages installed when missing, the nginx worker found under its master,
its memory and descriptors read from /proc, a minimal memcached client, and
wrk's summary parsed. Nothing here measures or decides: the scripts do.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
MODULE = os.environ.get("MODULE", os.path.join(ROOT, "build/nginx/ngx_http_auth_jwt_module.so"))


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, timeout=60, **kw):
    """Runs cmd to completion (killed after timeout); returns stdout."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if p.returncode != 0:
        raise BenchError("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.strip()))
    return p.stdout


def apt_install(packages):
    """Installs the Debian packages given (those already there are skipped by
    the caller), as root or through sudo."""
    if not packages:
        return
    log("installing: " + " ".join(packages))
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq"] + packages):
        if subprocess.run(sudo + cmd, env=env, timeout=600).returncode != 0:
            raise BenchError("apt-get failed: " + " ".join(cmd))


def require(files, tools):
    """files: (path, hint) pairs that must be readable; tools: commands on PATH."""
    for path, hint in files:
        if not os.access(path, os.R_OK):
            raise BenchError("%s missing: %s" % (path, hint))
    for tool in tools:
        if not shutil.which(tool):
            raise BenchError(tool + " not found")


class Procs:
    """The processes this run started, stopped by PID in reverse order."""

    def __init__(self):
        self.started = []   # (name, Popen, stop signal)

    def start(self, name, cmd, stop_sig=signal.SIGTERM, **kw):
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        self.started.append((name, p, stop_sig))
        return p

    def stop_all(self):
        while self.started:
            name, p, sig = self.started.pop()
            if p.poll() is not None:
                continue
            try:
                p.send_signal(sig)
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log("%s (pid %d) did not stop, killing it" % (name, p.pid))
                p.kill()
                p.wait(timeout=5)
            except ProcessLookupError:
                pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """n distinct free loopback ports."""
    ports = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


def wait_port(port, proc, name, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise BenchError("%s exited with %d at start" % (name, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise BenchError("%s does not listen on 127.0.0.1:%d" % (name, port))


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def single_worker(master_pid, timeout=5):
    """The PID of the only worker of an nginx master (waits for it to fork)."""
    deadline = time.time() + timeout
    while True:
        workers = children(master_pid)
        if len(workers) == 1 or time.time() > deadline:
            break
        time.sleep(0.05)
    if len(workers) != 1:
        raise BenchError("expected 1 nginx worker, found %r" % workers)
    return workers[0]


def cpu_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # fields 14 and 15 of stat(5)


def proc_status(pid, field):
    """A kB or count field of /proc/<pid>/status (VmRSS, RssAnon, Threads, ...)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def vm_rss_kb(pid):
    return proc_status(pid, "VmRSS")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def tcp_connections(pid, local_port=None, remote_port=None):
    """The number of a process's connected TCP sockets (IPv4) with that
    local or remote port, from /proc/net/tcp and /proc/<pid>/fd."""
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == "0A":   # LISTEN
                continue
            if (local_port is not None and int(local.split(":")[1], 16) == local_port
                    or remote_port is not None and int(remote.split(":")[1], 16) == remote_port):
                inodes.add("socket:[%s]" % inode)
    fd_dir = "/proc/%d/fd" % pid
    n = 0
    for fd in os.listdir(fd_dir):
        try:
            n += os.readlink(os.path.join(fd_dir, fd)) in inodes
        except OSError:
            pass
    return n


def memcached_request(port, data, done=lambda buf: buf.endswith(b"END\r\n"), timeout=5):
    """Sends text-protocol commands; returns the answer once done(answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        buf = b""
        while not done(buf):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return buf


def memcached_set(port, items):
    """Stores {key: value} (str or bytes values, no expiry) in one exchange."""
    req = b"".join(b"set %s 0 0 %d\r\n%s\r\n" % (k.encode(), len(v), v)
                   for k, v in ((k, v.encode() if isinstance(v, str) else v)
                                for k, v in items.items()))
    answer = memcached_request(port, req, lambda buf: buf.count(b"\r\n") >= len(items))
    if answer != b"STORED\r\n" * len(items):
        raise BenchError("memcached set failed: %r" % answer[:200])


def memcached_stats(port, names):
    """The named counters of memcached's `stats`."""
    buf = memcached_request(port, b"stats\r\n")
    stats = dict(l.split()[1:3] for l in buf.decode().splitlines() if l.startswith("STAT "))
    return {k: int(stats.get(k, 0)) for k in names}


def parse_wrk(out):
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m or not rps:
        raise BenchError("cannot parse wrk output:\n" + out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    latency = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        latency[pct] = float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    return {
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "requests": int(m.group(1)),
        "rps": float(rps.group(1)),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
    }


def log_problems(path):
    """Lines of an nginx error log that mean a crash or a fault: [alert],
    [crit], [emerg], or a worker that exited on a signal."""
    try:
        with open(path, errors="replace") as f:
            return [l.rstrip() for l in f
                    if re.search(r"\[(alert|crit|emerg)\]|exited on signal", l)]
    except OSError:
        return []
