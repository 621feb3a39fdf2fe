"""A Debian base image for the node's Dockerfile, built from Debian's archive (no Docker Hub).

``debootstrap --variant=minbase`` with python3, python3-venv and ca-certificates: what the
Dockerfile needs of a base (TEST-INFRA.md, "A base image without Docker Hub"). The root
filesystem is kept as a tarball under a cache folder keyed by the Debian suite, so a second
run on the same machine imports it in seconds instead of bootstrapping again (~40 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from filelock import FileLock

DEBOOTSTRAP = "debootstrap"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "ca-certificates")
CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vpshealth-tests"


def rootfs_tarball(suite: str = SUITE) -> Path:
    """The cached tarball of the minbase root filesystem; bootstrapped on first use.

    A file lock next to it makes concurrent test processes (xdist workers, other checkouts)
    wait for the one that bootstraps instead of bootstrapping too."""
    tarball = CACHE_ROOT / f"debootstrap-{suite}-{'-'.join(PACKAGES)}.tar"
    if tarball.exists():
        return tarball
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(tarball.with_suffix(".lock")):
        if not tarball.exists():
            _bootstrap(suite, tarball)
    return tarball


def _bootstrap(suite: str, tarball: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="vh-debootstrap-") as work:
        rootfs = Path(work) / "rootfs"
        argv = [DEBOOTSTRAP, "--variant=minbase", f"--include={','.join(PACKAGES)}"]
        result = subprocess.run(
            [*argv, suite, str(rootfs)],
            check=False,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"debootstrap {suite} failed ({result.returncode}):\n{result.stderr[-3000:]}"
            )
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        os.replace(partial, tarball)
        shutil.rmtree(rootfs, ignore_errors=True)


def import_base_image(docker_host: str, tag: str, suite: str = SUITE) -> None:
    """``docker import`` the cached root filesystem as ``tag`` on the engine at ``docker_host``."""
    with open(rootfs_tarball(suite), "rb") as tar:
        subprocess.run(
            ["docker", "-H", docker_host, "import", "-", tag],
            stdin=tar,
            check=True,
            capture_output=True,
            timeout=300,
        )
