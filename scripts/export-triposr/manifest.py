"""The app's model manifest (src/shared/manifest.ts, version 1) for one exported variant."""

from __future__ import annotations

import hashlib
import json
import os

MIB = 1024 * 1024


def sha256(path: str) -> str:
    """Lower-case hex SHA-256 of a file, read in chunks (the fp32 data file is 1.7 GB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(16 * MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entry(path: str, role: str, url_prefix: str) -> dict:
    """One `files` entry: role, name as the graph refers to it, url, bytes, sha256."""
    name = os.path.basename(path)
    return {"role": role, "name": name, "url": url_prefix + name, "bytes": os.path.getsize(path), "sha256": sha256(path)}


def requirement(largest_bytes: int) -> int:
    """Buffer-size requirement: the largest tensor or initializer, rounded up to a power of two.

    onnxruntime-web's WebGPU buffer pool allocates in power-of-two buckets: bench:encoder measured a
    134,217,728-byte (128 MiB) buffer for the full int4 build, whose largest tensor is 99.97 MiB.
    """
    return max(MIB, 1 << max(0, largest_bytes - 1).bit_length())


def write_manifest(path: str, *, id: str, name: str, entries: list, largest_bytes: int) -> dict:
    """Write the manifest; `revision` is derived from the files' hashes so new weights get a new cache key."""
    revision = hashlib.sha256("".join(e["sha256"] for e in entries).encode()).hexdigest()[:16]
    need = requirement(largest_bytes)
    manifest = {
        "version": 1,
        "id": id,
        "name": name,
        "license": "MIT",
        "revision": revision,
        "files": entries,
        "contract": {"image": [1, 3, 512, 512], "triplane": [1, 3, 40, 64, 64], "features": 120},
        "requirements": {"maxBufferSize": need, "maxStorageBufferBindingSize": need},
    }
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest
