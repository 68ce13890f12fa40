"""MNIST-format IDX data: locate, verify, decode, and one seeded batch order for every framework.

The folder comes from --data-dir, else $SEQMNIST_DATA_DIR, else a user cache folder that is
filled from the official mirrors (checksum-verified) when online.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.core.errors import RunError
from impls import SEQUENCES

ENV = "SEQMNIST_DATA_DIR"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the decompressed bytes of the real MNIST files.
MNIST_SHA256 = {
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


class DataError(RunError):
    """The data folder or one of its files is unusable; the message names the file and the fault."""


@dataclass
class Dataset:
    """Images as float32 in [0, 1], (N, 28, 28); labels as int64 (N,)."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    source: Path
    verified: bool
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        kind = "MNIST (SHA-256 verified)" if self.verified else "unverified IDX data (no known checksum)"
        return f"{kind} from {self.source}: {len(self.train_x)} train / {len(self.test_x)} test images"

    def published(self) -> str:
        """What results record of the data: its name and checksum state, never this machine's path."""
        kind = (
            "MNIST (SHA-256 of each file verified: train images ba891046e650…)"
            if self.verified
            else "unverified IDX data (no known checksum)"
        )
        return f"{kind}: {len(self.train_x)} train / {len(self.test_x)} test images"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqmnist-bench" / "mnist"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """(folder, explicit): --data-dir, then $SEQMNIST_DATA_DIR, then the cache folder."""
    if data_dir:
        return Path(data_dir).expanduser(), True
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser(), True
    return default_cache_dir(), False


def _find(folder: Path, name: str) -> Path | None:
    try:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    except OSError as exc:  # e.g. a folder this user may not read
        raise DataError(f"data folder {folder}: cannot read it ({exc.__class__.__name__}: {exc.strerror})") from None
    return None


MAX_IDX_BYTES = 64 * 2**20  # no MNIST file is larger (train images: 47 MB): a bigger one is refused unread


def read_bytes(path: Path, limit: int = MAX_IDX_BYTES) -> bytes:
    """File content, gunzipped when it ends in .gz; DataError on an unreadable or broken archive, or one
    larger than `limit` (checked before it is read whole: a sparse or endless file is never loaded)."""
    too_big = DataError(f"{path}: larger than {limit // 2**20} MiB; not an MNIST IDX file")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read(limit + 1)
        else:
            if path.stat().st_size > limit:
                raise too_big
            with path.open("rb") as fh:
                raw = fh.read(limit + 1)
        if len(raw) > limit:
            raise too_big
        return raw
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(
            f"{path}: cannot read ({exc.__class__.__name__}: {exc}); the file is truncated or corrupt"
        ) from None


def parse_idx(raw: bytes, path: Path, magic: int, ndim: int) -> np.ndarray:
    """Decode an unsigned-byte IDX payload, checking magic, dimensions and record size exactly."""
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes); not an IDX file")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise DataError(f"{path}: wrong magic number 0x{found:08x}, expected 0x{magic:08x}")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    expected = 4 + 4 * ndim + math.prod(dims)  # Python's integers: a product of four 32-bit sizes cannot wrap
    if len(raw) < expected:
        raise DataError(f"{path}: truncated: header says {dims} ({expected} bytes), file has {len(raw)} bytes")
    if len(raw) > expected:
        raise DataError(f"{path}: {len(raw) - expected} unexpected trailing bytes after {dims} records")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _read_sums(folder: Path) -> dict[str, str]:
    sums_file = folder / "SHA256SUMS"
    if not sums_file.is_file():
        return {}
    try:
        text = sums_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{sums_file}: cannot read it as a checksum list ({exc.__class__.__name__}: {exc})") from None
    sums = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _verify(raws: dict[str, tuple[Path, bytes]], folder: Path) -> bool:
    """True when every file is known MNIST. A SHA256SUMS beside the files is binding; without
    one, a set where some files are MNIST and others are not is a checksum mismatch."""
    listed = _read_sums(folder)
    digests = {name: hashlib.sha256(raw).hexdigest() for name, (_, raw) in raws.items()}
    for name, (path, _) in raws.items():
        if name in listed and digests[name] != listed[name]:
            raise DataError(f"{path}: checksum mismatch: SHA-256 {digests[name]}, SHA256SUMS says {listed[name]}")
    known = {name: digests[name] == MNIST_SHA256[name] for name in raws}
    if any(known.values()) and not all(known.values()):
        bad = next(name for name, ok in known.items() if not ok)
        raise DataError(
            f"{raws[bad][0]}: checksum mismatch: SHA-256 {digests[bad]}, expected MNIST's {MNIST_SHA256[bad]}"
        )
    return all(known.values())


def download(folder: Path, timeout: float = 30.0) -> None:
    """Fetch the four MNIST files into `folder`, verifying each; DataError when offline."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        if _find(folder, name):
            continue
        errors = []
        for mirror in MIRRORS:
            try:
                with urllib.request.urlopen(f"{mirror}{name}.gz", timeout=timeout) as resp:
                    blob = resp.read()
                raw = gzip.decompress(blob)
            except Exception as exc:  # network, HTTP or gzip failure: try the next mirror
                errors.append(f"{mirror}: {exc}")
                continue
            if hashlib.sha256(raw).hexdigest() != MNIST_SHA256[name]:
                errors.append(f"{mirror}: checksum mismatch")
                continue
            tmp = folder / f"{name}.gz.part"
            tmp.write_bytes(blob)
            tmp.replace(folder / f"{name}.gz")
            break
        else:
            raise DataError(
                f"no MNIST data in {folder} and the download of {name} failed (offline?): "
                + "; ".join(errors)
                + f". Point --data-dir or ${ENV} at a folder holding the four MNIST IDX files."
            )


def load_mnist(data_dir: str | os.PathLike | None = None) -> Dataset:
    """Load and verify the four IDX files; see the module docstring for where they come from."""
    folder, explicit = resolve_data_dir(data_dir)
    if explicit and not folder.is_dir():
        raise DataError(f"data folder {folder} does not exist")
    if not explicit and not all(_find(folder, n) for n in FILES.values()):
        download(folder)
    raws: dict[str, tuple[Path, bytes]] = {}
    for name in FILES.values():
        path = _find(folder, name)
        if path is None:
            raise DataError(f"{folder / name}[.gz]: missing; the folder must hold all four MNIST IDX files")
        raws[name] = (path, read_bytes(path))
    arrays = {}
    for key, name in FILES.items():
        path, raw = raws[name]
        is_images = key.endswith("images")
        arrays[key] = parse_idx(raw, path, IMAGE_MAGIC if is_images else LABEL_MAGIC, 3 if is_images else 1)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise DataError(f"{raws[FILES[split + '_labels']][0]}: {len(labels)} labels for {len(images)} images")
        if images.shape[1:] != (28, 28):
            raise DataError(f"{raws[FILES[split + '_images']][0]}: images are {images.shape[1:]}, expected (28, 28)")
        if len(images) == 0:
            raise DataError(f"{raws[FILES[split + '_images']][0]}: holds no records")
        if labels.max() > 9:
            raise DataError(f"{raws[FILES[split + '_labels']][0]}: label {labels.max()} outside 0-9")
    verified = _verify(raws, folder)
    notes = [] if verified else [f"{folder} is not the known MNIST set: loaded without checksum verification"]
    return Dataset(
        train_x=arrays["train_images"].astype(np.float32) / 255.0,
        train_y=arrays["train_labels"].astype(np.int64),
        test_x=arrays["test_images"].astype(np.float32) / 255.0,
        test_y=arrays["test_labels"].astype(np.int64),
        source=folder,
        verified=verified,
        notes=notes,
    )


def batch_indices(n: int, batch_size: int, seed: int, epochs: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """(epoch, indices) for every full batch: one permutation per epoch from default_rng(seed).

    The last partial batch of an epoch is dropped so every step has the same shape (no retrace).
    """
    if batch_size < 1 or batch_size > n:
        raise ValueError(f"batch size must be in 1..{n} (the training set size), got {batch_size}")
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield epoch, order[start : start + batch_size]


PERMUTATION_SEED = 0  # the permuted-MNIST pixel order: fixed, shared by every framework


def as_sequence(images: np.ndarray, sequence: str = "row") -> np.ndarray:
    """(N, 28, 28) images -> (N, steps, inputs) for a sequence variant (see impls.SEQUENCES)."""

    if sequence not in SEQUENCES:
        raise ValueError(f"unknown sequence {sequence!r}; choose from {tuple(SEQUENCES)}")
    if sequence == "row":
        return images
    flat = images.reshape(len(images), -1, 1)
    if sequence == "permuted":
        flat = flat[:, np.random.default_rng(PERMUTATION_SEED).permutation(flat.shape[1])]
    return np.ascontiguousarray(flat)
