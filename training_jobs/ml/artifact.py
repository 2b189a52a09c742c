"""Model artifacts on disk: a directory with ``manifest.json`` plus the backend's files.

The manifest lists every file with its sha256, so a missing or damaged file is reported by
name before anything is unpickled or loaded.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class ArtifactError(Exception):
    """A model artifact cannot be used. The message names the path and what is wrong."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(directory: Path, manifest: dict) -> dict:
    """Checksum every file in ``directory`` (recursively) into the manifest and write it."""
    files = {
        str(p.relative_to(directory)): sha256_file(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {**manifest, "format_version": FORMAT_VERSION, "files": files}
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
    )
    return manifest


def read_manifest(directory: Path, *, verify: bool = True) -> dict:
    directory = Path(directory)
    if not directory.is_dir():
        raise ArtifactError(f"model artifact not found: {directory}")
    path = directory / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"model artifact {directory} has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"model artifact manifest {path} is corrupt ({exc})") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"model artifact {directory} has unsupported format {manifest.get('format_version')!r}"
        )
    for key in ("kind", "backend", "labels", "files"):
        if key not in manifest:
            raise ArtifactError(f"model artifact manifest {path} lacks '{key}'")
    if verify:
        for name, expected in manifest["files"].items():
            file = directory / name
            if not file.is_file():
                raise ArtifactError(f"model artifact file missing: {file}")
            if sha256_file(file) != expected:
                raise ArtifactError(f"model artifact file is corrupt (checksum mismatch): {file}")
    return manifest
