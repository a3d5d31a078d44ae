"""Copy the published release of one store directory to another: read replicas.

A snapshot directory is immutable once ``CURRENT`` has named it (``layout.py``), and the release
log beside it is an append-only file of which each snapshot names a prefix. So a replica is made
by copying files, in an order that lets a server on the target keep serving throughout:

1. the source's published snapshot is pinned there (so a publish on the source cannot prune it
   mid-copy) and copied into ``snapshots/building-{name}`` on the target. Each file is written
   under a temporary name and renamed when complete, so a copy that was killed resumes where it
   stopped: a file already there with the source's size is kept. A file that the source shares
   with the snapshot the target already has (RocksDB checkpoints hard-link unchanged files, so
   the source's two snapshots hold the same inode) is hard-linked from the target's own copy
   instead of copied: a small publish on a large store sends only the files it changed;
2. the copy is opened once read-only (RocksDB refuses a snapshot without its manifest, or
   without a table file it opens then), then renamed to ``snapshots/{name}``;
3. the release log bytes the target lacks are appended to its copy of the log file, and the
   snapshot's log pointer is written; the change feed's versions of releases the target lacks
   are copied (``versions.py``: folders that never change);
4. ``CURRENT`` is replaced by one rename, dated as the source's (``Last-Modified`` is then the
   same on every replica), and old snapshots are pruned as after a write.

Until step 4 the target's ``CURRENT`` names what it named before, so a server there answers from
the old release and moves to the new one only once the release is complete on the target
(``Store.refresh`` notices the rename). The target's write lock is held throughout: a second
``replicate`` to the same target waits. A target only moves forward: a source whose release is
older than the target's (by the snapshots' sequence numbers), or one that differs from the
target's with the same number (someone wrote to the replica), is refused, since switching to it
would show readers an older release after a newer one.

A source on another machine is first brought here with rsync (``docs/deploy.md``); ``replicate``
then checks what rsync brought: a snapshot that does not open or a log shorter than its pointer
says is refused before anything on the target changes, and running rsync again repairs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from sinlod.errors import StoreError
from sinlod.store.layout import (
    FORMAT_VERSION,
    KEEP_SNAPSHOTS,
    LOG_FILE_PREFIX,
    StoreDirectory,
    _fsync_dir,
)
from sinlod.store.versions import BUILDING_PREFIX as VERSIONS_BUILDING
from sinlod.store.versions import FOLDER as VERSIONS

#: Bytes read and written at a time when copying a file.
CHUNK = 1 << 20
#: Suffix of a file being copied; renamed to its name once complete.
PART = ".part"


@dataclass(frozen=True)
class Replicated:
    """What one ``replicate`` did. ``switched`` is False when the target already had the
    release (nothing was copied) or ``switch`` was off (the release is staged, not served)."""

    release: str
    previous: str | None
    switched: bool
    files_copied: int
    bytes_copied: int
    files_linked: int
    files_kept: int
    log_bytes: int


def sequence(name: str) -> int:
    """The ordering number of a snapshot name (``000007-3f9a1c2e`` → 7)."""
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else -1


def replicate(
    source: Path,
    target: Path,
    *,
    switch: bool = True,
    keep: int = KEEP_SNAPSHOTS,
    link: bool = False,
    lock_timeout: float = 60.0,
    progress: Callable[[int], None] | None = None,
) -> Replicated:
    """Make ``target`` serve the release ``source`` publishes (see the module's docstring).

    Idempotent: when the target already serves the source's release, nothing is copied. With
    ``switch`` false the release is copied and its log written but ``CURRENT`` is left alone
    (stage every replica first, then switch them all: the window in which two replicas serve
    different releases is then the switches alone). ``keep`` older snapshots stay on the target
    (the ``keep_releases`` setting; only releases it was switched to). With ``link``, the
    snapshot's files are hard-linked from the source where both are on one file system (a
    staging copy made by rsync, ``docs/deploy.md``: no second copy on disk; snapshot files are
    never written again, and the append-only release log is still copied). ``progress`` is called
    with the bytes of each chunk copied. Raises ``StoreError`` for a source with nothing
    published, an incomplete source, a target that is ahead of or diverged from the source, or
    a file that cannot be read or written.
    """
    src = StoreDirectory(Path(source))
    if not src.check(create=False):
        raise StoreError(f"{source}: no store here (publish something first)")
    if src.format_version() < FORMAT_VERSION:
        raise StoreError(
            f"{source}: store format {src.format_version()} keeps its release log inside the "
            "data; open it once with a writing command (e.g. `sinlod publish`) to upgrade it"
        )
    if src.current() is None:
        raise StoreError(f"{source}: nothing published yet")
    dst = StoreDirectory(Path(target))
    if dst.root.resolve() == src.root.resolve():
        raise StoreError(f"{target}: the target is the source")
    dst.check(create=True)
    with dst.write_lock(lock_timeout), _pinned(src) as name:
        previous = dst.current()
        _check_forward(dst, previous, name)
        _check_lineage(src, dst, previous, name)
        if previous == name:
            return Replicated(name, previous, False, 0, 0, 0, 0, 0)
        _remove_other_builds(dst, name)
        copied = _copy_snapshot(src, dst, name, previous, progress, link)
        log_bytes = _copy_log(src, dst, name)
        _copy_versions(src.root, dst.root, progress)
        if switch:
            dst.switch(name, mtime_ns=src.current_mtime_ns())
            dst.prune(keep)
        return Replicated(name, previous, switch, *copied, log_bytes)


def _check_forward(dst: StoreDirectory, previous: str | None, name: str) -> None:
    if previous is None or previous == name:
        return
    if sequence(previous) >= sequence(name):
        what = "newer" if sequence(previous) > sequence(name) else "different"
        raise StoreError(
            f"{dst.root}: serves release {previous}, {what} than the source's {name}; a "
            "replica only moves forward (was something published to the replica itself?)"
        )


def _check_lineage(
    src: StoreDirectory, dst: StoreDirectory, previous: str | None, name: str
) -> None:
    """The release the target serves must be one of the source's: a higher number alone is not
    enough (``--from`` naming another store that has published more would otherwise replace the
    replica's data and release log with an unrelated history)."""
    if previous is None or previous == name:
        return
    try:
        log = src.read_log(name)
    except StoreError:  # a short or missing log file: the copy's own checks say so, exactly
        return
    if log is not None and f"/release/{previous}>".encode() not in log:
        raise StoreError(
            f"{dst.root}: serves release {previous}, which the source's release log does not "
            f"have (the source is at {name}); a replica only follows the store it was made from "
            "(is --from that store?)"
        )


@contextlib.contextmanager
def _pinned(src: StoreDirectory) -> Iterator[str]:
    """The source's published snapshot, pinned so that a publish on the source cannot prune it
    mid-copy (where the source can be written to; else the ``KEEP_SNAPSHOTS`` older snapshots
    a source keeps are the margin). Read after the target's lock is held: what is published
    now, not when the wait began."""
    name = src.current()
    pin = None
    for _ in range(3):
        if name is None:  # pragma: no cover - checked before, and CURRENT is never removed
            raise StoreError(f"{src.root}: nothing published yet")
        pin = src.pin(name)
        now = src.current()
        if now == name or pin is None:
            break
        pin.close()  # published again between reading CURRENT and pinning: pin the new one
        name, pin = now, None
    if name is None:  # pragma: no cover
        raise StoreError(f"{src.root}: nothing published yet")
    try:
        yield name
    finally:
        if pin is not None:
            pin.close()


def _remove_other_builds(dst: StoreDirectory, name: str) -> None:
    """Builds of other snapshots are abandoned (a killed write or replicate); the build of
    ``name`` is a replicate of the same release that was interrupted, and is resumed."""
    keep = dst.building_path(name).name
    for path in dst.snapshots.glob("building-*"):
        if path.name != keep:
            shutil.rmtree(path, ignore_errors=True)


def _copy_snapshot(
    src: StoreDirectory,
    dst: StoreDirectory,
    name: str,
    previous: str | None,
    progress: Callable[[int], None] | None,
    link: bool = False,
) -> tuple[int, int, int, int]:
    """Copy snapshot ``name`` into the target; (files copied, bytes copied, linked, kept)."""
    final = dst.snapshot_path(name)
    if final.is_dir():
        return (0, 0, 0, 0)  # a staged copy (switch off) or an interrupted run after step 2
    origin = src.snapshot_path(name)
    building = dst.building_path(name)
    building.mkdir(exist_ok=True)
    # Files of the target's own published snapshot that the source's new snapshot shares
    # (the same inode in the source's old and new snapshot: a RocksDB checkpoint's hard link).
    shared: dict[str, Path] = {}
    if previous is not None and src.snapshot_path(previous).is_dir():
        old_src, old_dst = src.snapshot_path(previous), dst.snapshot_path(previous)
        for entry in os.scandir(old_src):
            theirs = old_dst / entry.name
            if entry.is_file(follow_symlinks=False) and theirs.is_file():
                shared[entry.name] = theirs
        shared = {
            n: p
            for n, p in shared.items()
            if _same_file(old_src / n, origin / n)
            and p.stat().st_size == (origin / n).stat().st_size
        }
    copied = copied_bytes = linked = kept = 0
    try:
        entries = sorted(os.scandir(origin), key=lambda e: e.name)
    except FileNotFoundError as exc:
        raise StoreError(f"{src.root}: snapshot {name} vanished while copying; run again") from exc
    for entry in list(entries):
        if not entry.is_file(follow_symlinks=False):
            raise StoreError(f"{origin}: unexpected entry {entry.name!r} in a snapshot")
        out = building / entry.name
        try:
            size = entry.stat().st_size
        except FileNotFoundError as exc:
            if not origin.is_dir():
                raise StoreError(f"{src.root}: snapshot {name} was pruned while copying") from exc
            entries.remove(entry)  # a temporary file (the search index being written) went
            continue
        if out.is_file() and out.stat().st_size == size:
            kept += 1
            continue
        if entry.name in shared or link:
            out.unlink(missing_ok=True)
            try:
                os.link(shared.get(entry.name, Path(entry.path)), out)
                linked += 1
                continue
            except OSError:
                if entry.name in shared:
                    raise
                # another file system (or the entry went): copy it

        try:
            copied_bytes += _copy_file(Path(entry.path), out, progress)
        except StoreError:
            if not origin.is_dir() or Path(entry.path).exists():
                raise
            entries.remove(entry)  # a temporary file (the search index being written) went
            continue
        copied += 1
    wanted = {entry.name for entry in entries}
    for path in building.iterdir():  # a temporary file of a copy that was killed
        if path.name not in wanted:
            path.unlink()
    _fsync_dir(building)
    _check_opens(building, src.root, name)
    os.rename(building, final)
    _fsync_dir(dst.snapshots)
    return (copied, copied_bytes, linked, kept)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _copy_file(origin: Path, out: Path, progress: Callable[[int], None] | None) -> int:
    """Copy one file under a temporary name, fsync it, rename it into place; bytes copied."""
    part = out.with_name(out.name + PART)
    total = 0
    try:
        with open(origin, "rb") as fin, open(part, "wb") as fout:
            while chunk := fin.read(CHUNK):
                fout.write(chunk)
                total += len(chunk)
                if progress is not None:
                    progress(len(chunk))
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(origin, part)
        os.rename(part, out)
    except FileNotFoundError as exc:
        part.unlink(missing_ok=True)
        raise StoreError(
            f"{origin}: vanished while copying (pruned on the source?); run again"
        ) from exc
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise StoreError(f"{out}: cannot copy {origin}: {exc.strerror}") from exc
    return total


def _copy_versions(source: Path, target: Path, progress: Callable[[int], None] | None) -> int:
    """Give the target the change feed's versions of every release it lacks (``versions.py``):
    folders that never change once named, so one missing on the target is copied whole, under
    a building name renamed when complete. Before the switch: a release the target's log names
    has its versions there, as on the source. Returns the folders copied."""
    origin = source / VERSIONS
    if not origin.is_dir():
        return 0
    out = target / VERSIONS
    out.mkdir(exist_ok=True)
    copied = 0
    for folder in sorted(origin.iterdir()):
        name = folder.name
        if name.startswith(VERSIONS_BUILDING) or not folder.is_dir() or (out / name).exists():
            continue
        building = out / (VERSIONS_BUILDING + name)
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        for file in sorted(folder.iterdir()):
            _copy_file(file, building / file.name, progress)
        os.rename(building, out / name)
        copied += 1
    if copied:
        _fsync_dir(out)
    return copied


def _check_opens(path: Path, source_root: Path, name: str) -> None:
    """RocksDB reads the snapshot's manifest and refuses the snapshot when it is missing (rsync
    sends a directory's files in name order, the manifest after the tables: what an rsync
    interrupted mid-snapshot leaves) or a table file it opens is; not every missing table is
    noticed here, so the order of ``docs/deploy.md`` is what keeps a staging copy whole."""
    try:
        ox.Store.read_only(str(path))
    except (OSError, RuntimeError) as exc:
        raise StoreError(
            f"{source_root}: snapshot {name} is incomplete ({exc}); copy it again "
            "(run rsync again for a remote source)"
        ) from exc


def _copy_log(src: StoreDirectory, dst: StoreDirectory, name: str) -> int:
    """Give the target the source's release log of ``name``: the bytes of its log file that the
    target's copy lacks, then the pointer. Bytes of a log file never change once written, so
    the target's copy is always a prefix of the source's; appending the rest is exact."""
    pointed = src.pointed_log(name)
    if pointed is None:
        raise StoreError(f"{src.root}: snapshot {name} has no release log pointer")
    origin, length = pointed
    if not origin.name.startswith(LOG_FILE_PREFIX):  # pragma: no cover - pointed_log checks
        raise StoreError(f"{src.root}: corrupt store: release log {origin.name!r}")
    out = dst.snapshots / origin.name
    have = out.stat().st_size if out.is_file() else 0
    added = 0
    if have < length:
        try:
            with open(origin, "rb") as fin, open(out, "ab") as fout:
                fin.seek(have)
                while added < length - have:
                    chunk = fin.read(min(CHUNK, length - have - added))
                    if not chunk:
                        break
                    fout.write(chunk)
                    added += len(chunk)
                fout.flush()
                os.fsync(fout.fileno())
        except OSError as exc:
            raise StoreError(f"{out}: cannot copy the release log: {exc.strerror}") from exc
        if have + added < length:
            raise StoreError(
                f"{src.root}: {origin.name} is shorter than the log of {name} says; "
                "copy it again (run rsync again for a remote source)"
            )
    dst.write_log_pointer(name, origin.name, length)
    return added
