"""The IDX data layer: tiny sets load, every corruption gets a named error, batch order is seeded."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
from conftest import REAL_MNIST, write_idx

import impls
from bench.workload import data as data_mod
from bench.workload.data import DataError, as_sequence, batch_indices, load_mnist


def test_tiny_set_loads_as_unverified(tiny_idx):
    ds = load_mnist(tiny_idx)
    assert ds.train_x.shape == (64, 28, 28) and ds.test_x.shape == (32, 28, 28)
    assert ds.train_x.dtype == np.float32 and 0.0 <= ds.train_x.min() and ds.train_x.max() <= 1.0
    assert ds.train_y.shape == (64,) and ds.train_y.max() <= 9
    assert not ds.verified and "without checksum" in ds.notes[0]
    assert "unverified" in ds.describe()


def test_raw_files_load_too(tmp_path):
    rng = np.random.default_rng(0)
    for split in ("train", "t10k"):
        write_idx(tmp_path / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (8, 28, 28)), gz=False)
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, 8), gz=False)
    assert len(load_mnist(tmp_path).train_x) == 8


def test_env_var_points_the_loader(tiny_idx, monkeypatch):
    monkeypatch.setenv("SEQMNIST_DATA_DIR", str(tiny_idx))
    assert load_mnist().source == tiny_idx


def test_missing_file(tiny_idx):
    (tiny_idx / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*missing"):
        load_mnist(tiny_idx)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def _rewrite(path, mutate):
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(mutate(raw)))


def test_truncated_records(tiny_idx):
    _rewrite(tiny_idx / "train-images-idx3-ubyte.gz", lambda raw: raw[:-100])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: truncated"):
        load_mnist(tiny_idx)


def test_truncated_gzip_archive(tiny_idx):
    path = tiny_idx / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: cannot read"):
        load_mnist(tiny_idx)


def test_wrong_magic(tiny_idx):
    write_idx(tiny_idx / "train-labels-idx1-ubyte", np.zeros(64), magic=0x00000803)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: wrong magic number 0x00000803"):
        load_mnist(tiny_idx)


def test_wrong_image_size(tiny_idx):
    write_idx(tiny_idx / "train-images-idx3-ubyte", np.zeros((64, 32, 32)))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: images are \(32, 32\)"):
        load_mnist(tiny_idx)


def test_record_count_mismatch(tiny_idx):
    write_idx(tiny_idx / "train-labels-idx1-ubyte", np.zeros(63))
    with pytest.raises(DataError, match="63 labels for 64 images"):
        load_mnist(tiny_idx)


def test_label_out_of_range(tiny_idx):
    write_idx(tiny_idx / "t10k-labels-idx1-ubyte", np.full(32, 12))
    with pytest.raises(DataError, match="label 12 outside 0-9"):
        load_mnist(tiny_idx)


def test_checksum_mismatch_against_sha256sums(tiny_idx):
    raw = gzip.decompress((tiny_idx / "train-images-idx3-ubyte.gz").read_bytes())
    (tiny_idx / "SHA256SUMS").write_text(f"{hashlib.sha256(raw + b'x').hexdigest()}  train-images-idx3-ubyte\n")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: checksum mismatch"):
        load_mnist(tiny_idx)
    (tiny_idx / "SHA256SUMS").write_text(f"{hashlib.sha256(raw).hexdigest()}  train-images-idx3-ubyte\n")
    assert load_mnist(tiny_idx).train_x.shape == (64, 28, 28)


def test_checksum_mismatch_when_part_of_the_set_is_known_mnist(tiny_idx, monkeypatch):
    """A set where some files are real MNIST and one is not is a corrupted MNIST, not a new data set."""
    digests = {
        name: hashlib.sha256(gzip.decompress((tiny_idx / f"{name}.gz").read_bytes())).hexdigest()
        for name in data_mod.MNIST_SHA256
    }
    fake_known = dict(digests, **{"t10k-images-idx3-ubyte": "0" * 64})
    monkeypatch.setattr(data_mod, "MNIST_SHA256", fake_known)
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: checksum mismatch.*expected MNIST"):
        load_mnist(tiny_idx)
    monkeypatch.setattr(data_mod, "MNIST_SHA256", digests)
    assert load_mnist(tiny_idx).verified


def test_offline_with_no_data(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQMNIST_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(data_mod, "MIRRORS", ("http://127.0.0.1:9/",))  # nothing listens on port 9
    with pytest.raises(DataError, match="download.*failed.*--data-dir"):
        load_mnist()
    assert not any((tmp_path / "seqmnist-bench" / "mnist").glob("*.gz"))  # nothing half-written


def test_batch_order_is_seeded_and_complete():
    a = list(batch_indices(100, 32, seed=3, epochs=2))
    b = list(batch_indices(100, 32, seed=3, epochs=2))
    c = list(batch_indices(100, 32, seed=4, epochs=2))
    assert [e for e, _ in a] == [0, 0, 0, 1, 1, 1]  # partial last batch dropped
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(a, b))
    assert not np.array_equal(a[0][1], c[0][1])
    epoch0 = np.concatenate([idx for e, idx in a if e == 0])
    assert len(set(epoch0)) == 96  # no repeats within an epoch
    assert not np.array_equal(a[0][1], a[3][1])  # a new permutation each epoch
    expected = np.random.default_rng(3).permutation(100)[:32]
    np.testing.assert_array_equal(a[0][1], expected)
    with pytest.raises(ValueError, match="batch size"):
        next(batch_indices(10, 11, 0))


@pytest.mark.skipif(not REAL_MNIST, reason="SEQMNIST_DATA_DIR not set: real MNIST not available")
def test_real_mnist_is_verified():
    ds = load_mnist(REAL_MNIST)
    assert ds.verified and ds.train_x.shape == (60000, 28, 28) and ds.test_x.shape == (10000, 28, 28)
    assert np.bincount(ds.test_y).tolist()[:2] == [980, 1135]


def test_an_unreadable_data_folder_or_checksum_list_is_a_data_error(tiny_idx, monkeypatch):
    from bench.workload.data import DataError, load_mnist

    (tiny_idx / "SHA256SUMS").write_bytes(b"\xff\xfe not text")
    with pytest.raises(DataError, match="SHA256SUMS: cannot read"):
        load_mnist(tiny_idx)
    (tiny_idx / "SHA256SUMS").unlink()

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "is_file", denied)
    with pytest.raises(DataError, match="cannot read it"):
        load_mnist(tiny_idx)


def test_sequence_views():
    images = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28)
    assert as_sequence(images, "row") is images
    pixel = as_sequence(images, "pixel")
    assert pixel.shape == (2, 784, 1) and np.array_equal(pixel[:, :, 0], images.reshape(2, 784))
    permuted = as_sequence(images, "permuted")
    assert permuted.shape == (2, 784, 1)
    assert np.array_equal(np.sort(permuted[:, :, 0], axis=1), pixel[:, :, 0])  # same pixels
    assert not np.array_equal(permuted, pixel)
    assert np.array_equal(as_sequence(images, "permuted"), permuted)  # one fixed order
    assert impls.sequence_config("pixel").n_steps == 784
    with pytest.raises(ValueError, match="unknown sequence"):
        as_sequence(images, "spiral")
