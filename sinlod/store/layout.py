"""The store directory on disk: immutable snapshots, a ``CURRENT`` pointer and a write lock.

Why snapshots: pyoxigraph's fast ``bulk_load`` is not transactional, and its transactional
``load`` is much slower. So a write never touches the published data. It builds the next snapshot
beside it (a RocksDB checkpoint of the current one, made of hard links, so it is cheap), applies
the change there, and then replaces ``CURRENT`` by an atomic rename. A reader sees the old snapshot
or the new one, never a mix; a publish that fails or is killed half-way leaves an unreferenced
``building-*`` directory that the next writer deletes::

    var/store/
      FORMAT                "sinlod-store 2": the on-disk format this directory was written in
      CURRENT               name of the published snapshot (replaced by rename, never edited)
      write.lock            fcntl lock held by the one process that is writing
      snapshots/
        000007-3f9a1c2e/    a pyoxigraph store (the data), never written once CURRENT names it
          sinlod-search.sqlite  its search index (``search_index.py``), written with the data
        000007-3f9a1c2e.releases  its release log: "releases-000003-9b1e0c4d.nq 48213", the
                            first 48213 bytes of that file (N-Quads)
        releases-000003-9b1e0c4d.nq  release logs, append-only: bytes once written never change
        000007-3f9a1c2e.pin readers hold a shared flock on it, so pruning skips snapshots in use
        building-000008-…/  a write in progress (or a killed one)

Why the release log is a file beside the data and not a graph in it: queries run with Oxigraph's
union-default-graph flag (4-6x faster joins than a graph list, bench/RESULTS.md), so anything in
the data store is in every query's default graph, in ``GRAPH ?g`` and in the Graph Store listing.
The log is written before ``CURRENT`` names its snapshot, so the one rename publishes data and log
together, and a reader that pins a snapshot pins its log too. A write appends its release to the
log file of the published snapshot, so its cost does not grow with the log; the snapshots before
it still read their own, shorter, prefix of the file. Only when that file does not end where the
published log ends (a write failed after appending, or a restore into an empty store) does a
write start a new file.

Format 1 kept the log as the graph ``{base}graph/releases`` inside the data snapshot; a writer
opening such a store moves it out (``Store.open``) and marks the directory format 2.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from sinlod.errors import StoreError

FORMAT_NAME = "sinlod-store"
FORMAT_VERSION = 2
#: Format 1 kept the release log inside the data snapshot; still read, migrated by a writer.
OLDEST_READABLE = 1
LOG_POINTER = ".releases"
LOG_FILE_PREFIX = "releases-"
#: Snapshots kept besides the current one, so that readers that have not refreshed yet still work.
KEEP_SNAPSHOTS = 3
BUILDING_PREFIX = "building-"


class StoreDirectory:
    """Paths and file operations of one store directory; knows nothing about RDF."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.format_file = root / "FORMAT"
        self.current_file = root / "CURRENT"
        self.lock_file = root / "write.lock"
        self.snapshots = root / "snapshots"

    # -- opening -------------------------------------------------------------------------------

    def check(self, *, create: bool) -> bool:
        """Make sure ``root`` is a sinlod store of a format this version reads, or create one.

        Returns False when there is no store yet and ``create`` is false (a reader may start
        before the first publish). Raises ``StoreError`` naming the path and what is wrong: a
        regular file, a directory with other content, or a store written by a newer sinlod.
        """
        root = self.root
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root}: is a file, not a store directory")
        if not root.exists() or not any(root.iterdir()):
            if not create:
                return False
            self._create()
            return True
        if not self.format_file.is_file():
            raise StoreError(
                f"{root}: not a sinlod store (no FORMAT file); "
                "choose an empty or new directory for --store"
            )
        self._check_format()
        if not self.snapshots.is_dir():
            raise StoreError(f"{root}: corrupt store: the snapshots/ directory is missing")
        return True

    def _create(self) -> None:
        try:
            self.snapshots.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.format_file, f"{FORMAT_NAME} {FORMAT_VERSION}\n")
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot create a store: {exc.strerror}") from exc

    def format_version(self) -> int:
        """The format this directory was written in (checked by ``check``)."""
        text = self.format_file.read_text(encoding="utf-8", errors="replace").strip()
        return int(text.partition(" ")[2])

    def upgrade_format(self) -> None:
        """Mark the directory as written in this version's format (after a migration)."""
        _write_atomically(self.format_file, f"{FORMAT_NAME} {FORMAT_VERSION}\n")

    def _check_format(self) -> None:
        text = self.format_file.read_text(encoding="utf-8", errors="replace").strip()
        name, _, version = text.partition(" ")
        if name != FORMAT_NAME or not version.isdigit() or int(version) < OLDEST_READABLE:
            raise StoreError(
                f"{self.root}: corrupt store: FORMAT file says {text[:60]!r}, "
                f"expected '{FORMAT_NAME} {FORMAT_VERSION}'"
            )
        if int(version) > FORMAT_VERSION:
            raise StoreError(
                f"{self.root}: store format {version} was written by a newer sinlod; "
                f"this version reads format {FORMAT_VERSION}. Upgrade sinlod to open it."
            )

    # -- the CURRENT pointer -------------------------------------------------------------------

    def current(self) -> str | None:
        """The name of the published snapshot, or None for a store nothing was published to."""
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{self.current_file}: cannot read: {exc.strerror}") from exc
        if not name or "/" in name or not (self.snapshots / name).is_dir():
            raise StoreError(
                f"{self.root}: corrupt store: CURRENT names snapshot {name[:60]!r}, "
                "which does not exist (restore from a dump)"
            )
        return name

    def current_stamp(self) -> tuple[int, int] | None:
        """(inode, mtime) of ``CURRENT``: changes on every switch; a cheap check for refresh()."""
        try:
            st = self.current_file.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def switch(self, name: str, *, mtime_ns: int | None = None) -> None:
        """Publish snapshot ``name``: one atomic rename of ``CURRENT``, durable before returning.

        ``mtime_ns`` dates the switch (a replica takes its source's, so that ``Last-Modified``
        is the same on every replica of a release: ``replicate.py``)."""
        _write_atomically(self.current_file, name + "\n", mtime_ns=mtime_ns)

    def current_mtime_ns(self) -> int | None:
        """When ``CURRENT`` was last switched (what ``Last-Modified`` is made from)."""
        try:
            return self.current_file.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    # -- snapshots -----------------------------------------------------------------------------

    def snapshot_path(self, name: str) -> Path:
        return self.snapshots / name

    def new_snapshot_name(self) -> str:
        """``{sequence:06d}-{random}``: ordered, and unique even across a store recreated."""
        numbers = [int(n.split("-")[0]) for n in self._snapshot_names() if n[:6].isdigit()]
        return f"{max(numbers, default=0) + 1:06d}-{secrets.token_hex(4)}"

    def building_path(self, name: str) -> Path:
        return self.snapshots / (BUILDING_PREFIX + name)

    def log_pointer(self, name: str) -> Path:
        """Which log file, and how much of it, is the release log of snapshot ``name``."""
        return self.snapshots / (name + LOG_POINTER)

    def pointed_log(self, name: str) -> tuple[Path, int] | None:
        """The log file of snapshot ``name`` and the length of its prefix that is the snapshot's
        log; None for a format-1 snapshot (its log is inside its data)."""
        return self._pointed(name)

    def write_log_pointer(self, name: str, file: str, length: int) -> None:
        """Say that the first ``length`` bytes of ``file`` are the log of snapshot ``name``."""
        _write_atomically(self.log_pointer(name), f"{file} {length}\n")

    def _pointed(self, name: str) -> tuple[Path, int] | None:
        try:
            text = self.log_pointer(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        file, _, length = text.strip().partition(" ")
        if not file.startswith(LOG_FILE_PREFIX) or "/" in file or not length.isdigit():
            raise StoreError(f"{self.root}: corrupt store: release log pointer {text[:80]!r}")
        return self.snapshots / file, int(length)

    def read_log(self, name: str) -> bytes | None:
        """The release log of snapshot ``name`` (N-Quads); None for a format-1 snapshot, which
        keeps its log inside its data. Raises ``StoreError`` for a missing or short log file."""
        pointed = self._pointed(name)
        if pointed is None:
            return None
        path, length = pointed
        try:
            with open(path, "rb") as f:
                data = f.read(length)
        except OSError as exc:
            raise StoreError(f"{self.root}: corrupt store: {path.name}: {exc.strerror}") from exc
        if len(data) != length:
            raise StoreError(f"{self.root}: corrupt store: {path.name} is shorter than its log")
        return data

    def write_log(
        self,
        name: str,
        extends: str | None,
        length: int,
        prefix: Callable[[], bytes],
        added: bytes,
    ) -> None:
        """Record the release log of the snapshot being built, ``name``: the log of snapshot
        ``extends`` (``length`` bytes, ``prefix()``; None: a new log), then ``added``. Appends
        ``added`` to that snapshot's log file when the file ends where its log ends (the usual
        case: no copy); else writes a new file. Call with the write lock held, before ``commit``.
        """
        pointed = self._pointed(extends) if extends is not None else None
        if pointed is not None and pointed[0].stat().st_size == pointed[1] == length:
            path = pointed[0]
            with open(path, "ab") as f:
                f.write(added)
                f.flush()
                os.fsync(f.fileno())
        else:
            path = self.snapshots / f"{LOG_FILE_PREFIX}{name}.nq"
            with open(path, "wb") as f:
                f.write(prefix())
                f.write(added)
                f.flush()
                os.fsync(f.fileno())
        _write_atomically(self.log_pointer(name), f"{path.name} {length + len(added)}\n")

    def forget_log(self, name: str) -> None:
        """Undo ``write_log`` for a build that failed (bytes appended to a shared file stay,
        unreferenced; the next write then starts a new file)."""
        self.log_pointer(name).unlink(missing_ok=True)
        (self.snapshots / f"{LOG_FILE_PREFIX}{name}.nq").unlink(missing_ok=True)

    def _drop_unreferenced_logs(self) -> None:
        """Delete pointers of snapshots that are gone and log files no pointer names."""
        used = set()
        for pointer in self.snapshots.glob("*" + LOG_POINTER):
            name = pointer.name.removesuffix(LOG_POINTER)
            if not self.snapshot_path(name).is_dir():
                pointer.unlink(missing_ok=True)
                continue
            pointed = self._pointed(name)
            if pointed is not None:
                used.add(pointed[0].name)
        for path in self.snapshots.glob(LOG_FILE_PREFIX + "*.nq"):
            if path.name not in used:
                path.unlink(missing_ok=True)

    def commit(self, name: str) -> None:
        """Move a finished build into place and point ``CURRENT`` at it."""
        os.rename(self.building_path(name), self.snapshot_path(name))
        _fsync_dir(self.snapshots)
        self.switch(name)

    def snapshot_names(self) -> list[str]:
        """The snapshots on disk (published ones, not builds), oldest first."""
        return self._snapshot_names()

    def _snapshot_names(self) -> list[str]:
        return sorted(
            p.name
            for p in self.snapshots.iterdir()
            if p.is_dir() and not p.name.startswith(BUILDING_PREFIX)
        )

    def remove_abandoned(self) -> None:
        """Delete builds left by killed or failed writes. Call with the write lock held."""
        for path in self.snapshots.glob(BUILDING_PREFIX + "*"):
            shutil.rmtree(path, ignore_errors=True)
        self._drop_unreferenced_logs()  # written, then the build failed

    def prune(self, keep: int = KEEP_SNAPSHOTS) -> None:
        """Delete old snapshots beyond the newest ``keep`` that no reader holds a pin on."""
        current = self.current()
        names = [n for n in self._snapshot_names() if n != current]
        for name in names[: max(0, len(names) - keep)]:
            pin = self.snapshots / (name + ".pin")
            with _try_flock(pin, fcntl.LOCK_EX) as free:
                if free:
                    shutil.rmtree(self.snapshot_path(name), ignore_errors=True)
                    self.log_pointer(name).unlink(missing_ok=True)
                    pin.unlink(missing_ok=True)
        self._drop_unreferenced_logs()

    def pin(self, name: str) -> IO[bytes] | None:
        """Hold a shared lock saying "a reader uses this snapshot"; close the file to release.

        None when the pin cannot be written (a read-only file system): reading still works, and
        pruning then relies on ``KEEP_SNAPSHOTS`` alone.
        """
        try:
            handle = open(self.snapshots / (name + ".pin"), "ab")  # noqa: SIM115 - held open
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        except OSError:
            return None
        return handle

    # -- the write lock ------------------------------------------------------------------------

    @contextlib.contextmanager
    def write_lock(self, timeout: float) -> Iterator[None]:
        """Hold the store's write lock, waiting up to ``timeout`` seconds for another writer.

        Raises ``StoreError`` naming the process that holds it when the wait times out.
        """
        try:
            handle = open(self.lock_file, "a+")  # noqa: SIM115
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot write to the store: {exc.strerror}") from exc
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise StoreError(f"{self.lock_file}: cannot lock: {exc.strerror}") from exc
                    if time.monotonic() >= deadline:
                        holder = self.lock_file.read_text(encoding="utf-8").strip() or "?"
                        raise StoreError(
                            f"{self.root}: store is locked by another writer (pid {holder}); "
                            "try again when it has finished"
                        ) from exc
                    time.sleep(0.05)
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.close()

    def try_cleanup(self) -> None:
        """Remove abandoned builds now if no writer is busy (called on open; never waits)."""
        with _try_flock(self.lock_file, fcntl.LOCK_EX) as free:
            if free:
                self.remove_abandoned()


@contextlib.contextmanager
def _try_flock(path: Path, mode: int) -> Iterator[bool]:
    """Yield True while holding ``mode`` on ``path`` (never waiting), False if another has it."""
    try:
        handle = open(path, "a+")  # noqa: SIM115
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(handle.fileno(), mode | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        handle.close()


def _write_atomically(path: Path, text: str, *, mtime_ns: int | None = None) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    if mtime_ns is not None:
        os.utime(tmp, ns=(mtime_ns, mtime_ns))
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
