"""A private Docker Engine (dockerd + the containerd it starts) for integration tests.

See /work/shared/TEST-INFRA.md ("Docker engine") for the recipe this follows. Everything
lives in one directory ``/tmp/vh-docker-XXXX`` (mode 0711, so the plain ``vhtest`` user
can reach the socket): data root, exec root (containerd's config, state and sockets go
under it), the API socket, the daemon config and key, the logs, the CLI config. Nothing
collides with the system's dockerd, the lead's experimental one or another test session:

* ``--config-file`` points at our own ``daemon.json`` (so ``/etc/docker/daemon.json`` is
  not read); it moves the trust key off ``/etc/docker/key.json`` (``deprecated-key-path``,
  there is no command-line flag for it in 20.10).
* dockerd starts its own containerd (``libcontainerd: started new containerd process``)
  with config, state and socket under ``<exec-root>/containerd`` and its root under
  ``<data-root>/containerd``, so ``--containerd`` is not passed. Its shims put their
  sockets in ``/run/containerd/s/<hash of address+namespace+id>``: unique per engine.
  A private containerd namespace (``vh-moby``) makes our shims recognisable in ``ps``.
* ``--iptables=false --ip6tables=false --bridge=none``: containers get only ``lo``.

dockerd bind-mounts its data root onto itself and leaves it (and sometimes an overlay)
mounted after it exits; :meth:`DockerEngine.close` unmounts everything under the
directory before deleting it.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from tests.integration.support.procs import log_tail, stop_process, wait_until
from tests.integration.support.sshd import _USER_LOCK, TEST_USER, ensure_test_user

DOCKERD = "dockerd"
DOCKER = "docker"
BUSYBOX = "/bin/busybox"  # from busybox-static: must be a static binary (no libc in the image)
DOCKER_GROUP = "docker"
IMAGE = "vhbusy:latest"
IMAGE_APPLETS = (
    "sh", "sleep", "tail", "test", "touch", "rm", "echo", "cat", "httpd",
    "wget", "ls", "kill", "true", "false", "mkdir", "id", "env", "ps",
)  # fmt: skip
CONTAINERD_NAMESPACE = "vh-moby"
STOP_TIMEOUT = "1"  # seconds between SIGTERM and SIGKILL for our containers (sleep as PID 1
# ignores SIGTERM, so Docker's default of 10 s would make every stop take 10 s)


class DockerEngineError(RuntimeError):
    """dockerd did not start / stop; the message carries the tail of its log."""


class DockerCommandError(subprocess.CalledProcessError):
    """A ``docker`` CLI call failed; ``str()`` includes its stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstderr: {(self.stderr or '').strip()}"


def is_static_elf(path: str) -> bool:
    """True if ``path`` is an ELF executable without a program interpreter (PT_INTERP)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:  # ELFCLASS64 only (amd64/arm64)
                return False
            endian = "<" if head[5] == 1 else ">"
            phoff = struct.unpack_from(endian + "Q", head, 32)[0]
            phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
            fh.seek(phoff)
            table = fh.read(phentsize * phnum)
    except OSError:
        return False
    pt_interp = 3
    return all(
        struct.unpack_from(endian + "I", table, i * phentsize)[0] != pt_interp for i in range(phnum)
    )


def ensure_docker_group_member(user: str = TEST_USER) -> None:
    """Create the ``docker`` group if missing and add ``user`` to it (idempotent).

    Uses the same file lock as ``ensure_test_user`` (concurrent test sessions). A new
    membership applies to new login sessions only; sshd makes one per connection.
    """
    ensure_test_user(user)
    with open(_USER_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            group = grp.getgrnam(DOCKER_GROUP)
        except KeyError:
            subprocess.run(["groupadd", "-f", DOCKER_GROUP], check=True, capture_output=True)
            group = grp.getgrnam(DOCKER_GROUP)
        if user not in group.gr_mem:
            subprocess.run(["usermod", "-aG", DOCKER_GROUP, user], check=True, capture_output=True)


def ping(socket_path: str | Path, timeout: float = 2.0) -> bool:
    """True if the Docker API on ``socket_path`` answers ``GET /_ping`` with 200 ``OK``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(socket_path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
    except OSError:
        return False
    return (
        data.startswith(b"HTTP/1.")
        and b" 200 " in data.split(b"\r\n", 1)[0]
        and data.endswith(b"\r\n\r\nOK")
    )


class DockerEngine:
    """A private dockerd owned by the test session.

    Attributes: ``root`` (the 0711 directory), ``data_root``, ``exec_root``, ``log_path``,
    ``startup_seconds`` (last start until ``/_ping`` answered), ``image_import_seconds``.
    ``socket_path`` is the ``str`` path of the API socket (``root:docker``, mode 0660).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data_root = root / "data"
        self.exec_root = root / "exec"
        self.log_path = root / "dockerd.log"
        self.pidfile = root / "dockerd.pid"
        self.config_path = root / "daemon.json"
        self.cli_config_dir = root / "cli"
        self.startup_seconds: float | None = None
        self.image_import_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._children: list[psutil.Process] = []
        self._image_ready = False

    # ---------------------------------------------------------------- construction
    @classmethod
    def create(cls, *, start: bool = True) -> DockerEngine:
        """Make the directory, ensure ``vhtest`` is in group ``docker``, start, import image."""
        ensure_docker_group_member()
        root = Path(tempfile.mkdtemp(prefix="vh-docker-", dir="/tmp"))  # not TMPDIR: vhtest
        root.chmod(0o711)  # must traverse to the socket; pytest's tmp dirs are 0700
        engine = cls(root)
        try:
            engine.cli_config_dir.mkdir()
            engine.config_path.write_text(
                json.dumps({"deprecated-key-path": str(root / "key.json")}) + "\n"
            )
            if start:
                engine.start()
                engine.ensure_image()
        except BaseException:
            engine.close()
            raise
        return engine

    @property
    def socket_path(self) -> str:
        return str(self.root / "docker.sock")

    @property
    def host(self) -> str:
        """The ``DOCKER_HOST`` value for this engine (``unix://...``)."""
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ---------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 30.0) -> None:
        """Start dockerd (same data root and socket as before); wait for ``/_ping``; chgrp."""
        if self.running:
            raise DockerEngineError(f"dockerd already running (pid {self.pid})")
        argv = [
            DOCKERD,
            "--config-file", str(self.config_path),
            "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root),
            "--pidfile", str(self.pidfile),
            "-H", self.host,
            "--group", DOCKER_GROUP,
            "--containerd-namespace", CONTAINERD_NAMESPACE,
            "--containerd-plugins-namespace", CONTAINERD_NAMESPACE + "-plugins",
            "--iptables=false", "--ip6tables=false", "--bridge=none",
        ]  # fmt: skip
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(f"---- starting dockerd: {' '.join(argv)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a Ctrl-C of pytest must not race the teardown
            )
        deadline = started + timeout
        while not ping(self.socket_path):
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                raise DockerEngineError(
                    f"dockerd exited with code {code} during start-up; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self._terminate(force=True)
                raise DockerEngineError(
                    f"dockerd did not answer /_ping on {self.socket_path} within {timeout}s; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.02)
        self.startup_seconds = time.monotonic() - started
        # Remember containerd (dockerd's child) now: once dockerd is gone it is re-parented.
        self._children = psutil.Process(self._proc.pid).children(recursive=True)
        self.make_socket_readable()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM dockerd by PID and wait: running containers are stopped, containerd too.

        Containers with ``--restart=always`` come back on :meth:`start`.
        """
        self._terminate(force=False, timeout=timeout)

    def _terminate(self, *, force: bool, timeout: float = 30.0) -> None:
        if self._proc is not None:
            if force:
                stop_process(self._proc, sig=signal.SIGKILL, timeout=timeout, tree=True)
            else:
                # Only dockerd itself: it stops containers through containerd, then containerd.
                code = stop_process(self._proc, timeout=timeout, tree=False)
                if code not in (0, -signal.SIGTERM):
                    with open(self.log_path, "ab") as log:
                        log.write(f"---- dockerd exited with code {code}\n".encode())
            self._proc = None
        self._stop_strays()

    def _stop_strays(self) -> None:
        """Stop what our dockerd left behind (normally nothing), by PID.

        containerd is normally stopped by dockerd; shims (re-parented to init right away)
        exit with their containers. After a forced kill both may linger: the shims are
        recognised by ``-address <our exec root>/containerd/containerd.sock``.
        """
        address = str(self.exec_root / "containerd" / "containerd.sock")
        leftovers = [p for p in self._children if _alive(p)]
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info["cmdline"] or []
            if "-address" in cmdline and address in cmdline and proc not in leftovers:
                leftovers.append(proc)
        self._children = []
        if not leftovers:
            return
        doomed: list[psutil.Process] = []
        for proc in leftovers:  # shims' children are container processes: stop them too
            with contextlib.suppress(psutil.NoSuchProcess):
                doomed.extend(proc.children(recursive=True))
            doomed.append(proc)
        # SIGKILL right away: a container's PID 1 ignores SIGTERM sent from outside its
        # PID namespace unless it handles it (``sleep`` does not), so SIGTERM only waits.
        for proc in doomed:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        wait_until(lambda: not any(_alive(p) for p in doomed), timeout=10)

    def close(self) -> None:
        """Remove all containers, stop dockerd (and containerd, shims), unmount, delete."""
        try:
            if self.running:
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    self.remove_all()
                try:
                    self.stop(timeout=20)
                except subprocess.TimeoutExpired:
                    self._terminate(force=True)
            else:
                self._stop_strays()
        finally:
            self._unmount_all()
            with contextlib.suppress(OSError):
                shutil.rmtree(self.root)

    def mounts(self) -> list[str]:
        """Mount points at or under this engine's directory (deepest first)."""
        prefix = str(self.root)
        points = []
        with open("/proc/self/mountinfo") as fh:
            for line in fh:
                point = line.split()[4].replace("\\040", " ")
                if point == prefix or point.startswith(prefix + "/"):
                    points.append(point)
        return sorted(set(points), key=lambda p: p.count("/"), reverse=True)

    def _unmount_all(self) -> None:
        for _ in range(3):  # a lazy unmount of a parent can leave nothing for its children
            points = self.mounts()
            if not points:
                return
            for point in points:
                umount = subprocess.run(["umount", point], check=False, capture_output=True)
                if umount.returncode != 0:
                    subprocess.run(["umount", "-l", point], check=False, capture_output=True)
        if self.mounts():
            raise DockerEngineError(f"mounts left under {self.root}: {self.mounts()}")

    # ---------------------------------------------------------------- socket permissions
    def make_socket_unreadable(self) -> None:
        """``root:root`` mode 0600: ``vhtest`` gets permission denied on connect."""
        os.chown(self.socket_path, 0, 0)
        os.chmod(self.socket_path, 0o600)

    def make_socket_readable(self) -> None:
        """``root:docker`` mode 0660 (the normal state): group ``docker`` may connect."""
        os.chown(self.socket_path, 0, grp.getgrnam(DOCKER_GROUP).gr_gid)
        os.chmod(self.socket_path, 0o660)

    # ---------------------------------------------------------------- CLI
    def docker(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run the ``docker`` CLI against this engine; stdout/stderr captured as text.

        With ``check`` (default) a non-zero exit raises :class:`DockerCommandError`.
        """
        argv = [DOCKER, "-H", self.host, *args]
        result = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self._cli_env(),
            check=False,
        )
        if check and result.returncode != 0:
            raise DockerCommandError(result.returncode, argv, result.stdout, result.stderr)
        return result

    def _cli_env(self) -> dict[str, str]:
        """``os.environ`` without DOCKER_* (host, context...), with a private CLI config."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_CONFIG"] = str(self.cli_config_dir)  # not ~/.docker
        return env

    def ensure_image(self) -> None:
        """Import ``vhbusy:latest`` from busybox-static once per engine (kept across restarts)."""
        if self._image_ready:
            return
        started = time.monotonic()
        rootfs = self.root / "image-rootfs"
        shutil.rmtree(rootfs, ignore_errors=True)
        (rootfs / "bin").mkdir(parents=True)
        (rootfs / "tmp").mkdir(mode=0o1777)
        (rootfs / "tmp").chmod(0o1777)
        shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
        for applet in IMAGE_APPLETS:
            (rootfs / "bin" / applet).symlink_to("busybox")
        tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True)
        argv = [DOCKER, "-H", self.host, "import", "-c", "ENV PATH=/bin", "-", IMAGE]
        result = subprocess.run(
            argv,
            input=tar.stdout,
            capture_output=True,
            env=self._cli_env(),
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise DockerCommandError(
                result.returncode, argv, result.stdout.decode(), result.stderr.decode()
            )
        shutil.rmtree(rootfs, ignore_errors=True)
        self.image_import_seconds = time.monotonic() - started
        self._image_ready = True

    def inspect(self, name: str) -> dict[str, Any]:
        """``docker inspect`` of one container, as the JSON object."""
        data: list[dict[str, Any]] = json.loads(self.docker("inspect", name).stdout)
        return data[0]

    def container_ids(self) -> list[str]:
        """Full ids of all containers (running or not)."""
        return self.docker("ps", "-aq", "--no-trunc").stdout.split()

    def remove_all(self) -> None:
        """``docker rm -f`` every container on this engine."""
        ids = self.container_ids()
        if ids:
            self.docker("rm", "-f", "-v", *ids)

    # ---------------------------------------------------------------- scenarios
    def _run(
        self, name: str, *options: str, command: list[str], labels: Mapping[str, str] | None
    ) -> str:
        label_args = [f"--label={key}={value}" for key, value in (labels or {}).items()]
        result = self.docker(
            "run", "-d", "--name", name, "--stop-timeout", STOP_TIMEOUT,
            *label_args, *options, IMAGE, *command,
        )  # fmt: skip
        return result.stdout.strip()

    def run_sleeper(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        """A plain running container (``sleep 3600``); returns its id."""
        return self._run(name, command=["sleep", "3600"], labels=labels)

    def run_healthy(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        """A container with a health check that passes (healthy after ~1 s); returns its id."""
        return self._run(
            name,
            *_HEALTH_OPTIONS,
            command=["sh", "-c", "touch /tmp/ok; exec sleep 3600"],
            labels=labels,
        )

    def run_turning_unhealthy(
        self, name: str, after_seconds: float = 3, labels: Mapping[str, str] | None = None
    ) -> str:
        """Healthy first, unhealthy ~``after_seconds`` + 1 s after start; returns its id."""
        script = f"touch /tmp/ok; sleep {after_seconds}; rm -f /tmp/ok; exec sleep 3600"
        return self._run(name, *_HEALTH_OPTIONS, command=["sh", "-c", script], labels=labels)

    def run_crash_loop(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        """``--restart=always``, exits with 3 after 1 s: RestartCount climbs; returns its id."""
        return self._run(
            name, "--restart=always", command=["sh", "-c", "sleep 1; exit 3"], labels=labels
        )

    def run_oom(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        """16 MiB limit, no swap, ``tail /dev/zero``: OOMKilled=true, exit 137; returns its id."""
        return self._run(
            name, "-m", "16m", "--memory-swap", "16m", command=["tail", "/dev/zero"], labels=labels
        )

    def run_coolify(self, name: str, project: str, environment: str, resource: str) -> str:
        """A running container with a few of Coolify's label keys (not a set Coolify writes:
        support/coolify.py has those); returns its id."""
        labels = {
            "coolify.managed": "true",
            "coolify.projectName": project,
            "coolify.environmentName": environment,
            "coolify.resourceName": resource,
            "coolify.type": "application",
            "coolify.name": name,
        }
        return self.run_sleeper(name, labels=labels)

    def run_compose(self, name: str, project: str, service: str) -> str:
        """A running container with docker compose's project/service labels; returns its id."""
        labels = {"com.docker.compose.project": project, "com.docker.compose.service": service}
        return self.run_sleeper(name, labels=labels)

    def remove(self, name: str) -> None:
        """``docker rm -f`` one container."""
        self.docker("rm", "-f", name)

    def stop_container(self, name: str) -> None:
        """``docker stop -t 1`` one container."""
        self.docker("stop", "-t", "1", name)


_HEALTH_OPTIONS = (
    "--health-cmd", "test -f /tmp/ok",
    "--health-interval", "1s",
    "--health-retries", "1",
)  # fmt: skip


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
