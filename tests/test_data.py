"""The data module trusts pixels, not containers, repairs what it can and names what it cannot."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import shutil
import threading

import numpy as np
import pytest
import tifffile

from unet_kit import data
from unet_kit.data import DataIntegrityError, fetch_isbi2012, load_isbi2012, read_volume

COMMITTED = data.DEFAULT_DATA_DIR


@pytest.fixture
def offline(monkeypatch):
    """No local source folder and no mirrors: nothing can be repaired."""
    monkeypatch.delenv(data.SOURCE_DIR_VARIABLE, raising=False)
    monkeypatch.setattr(data, "REGISTRY", {
        name: dataclasses.replace(volume, mirrors=()) for name, volume in data.REGISTRY.items()
    })


@pytest.fixture
def data_copy(tmp_path):
    folder = tmp_path / "isbi2012"
    shutil.copytree(COMMITTED, folder)
    return folder


def test_committed_volumes_match_the_published_pixel_checksums():
    volumes = load_isbi2012(COMMITTED)
    assert volumes.train_images.shape == volumes.test_images.shape == (30, 512, 512)
    assert set(np.unique(volumes.train_labels)) == {0, 255}
    assert 0.75 < (volumes.train_labels == 255).mean() < 0.81  # the README's 78 % cell interior


def test_a_copy_in_another_container_still_verifies(tmp_path):
    pixels = read_volume(COMMITTED / "train-labels.tif")
    recompressed = tmp_path / "train-labels.tif"
    tifffile.imwrite(recompressed, pixels, compression="zlib")
    assert recompressed.read_bytes() != (COMMITTED / "train-labels.tif").read_bytes()
    assert np.array_equal(read_volume(recompressed), pixels)


def test_a_truncated_file_is_rejected_naming_the_file_and_the_fix(data_copy, offline):
    damaged = data_copy / "train-volume.tif"
    damaged.write_bytes(damaged.read_bytes()[:1_000_000])
    with pytest.raises(DataIntegrityError) as error:
        load_isbi2012(data_copy)
    message = str(error.value)
    assert "train-volume.tif" in message
    assert data.SOURCE_DIR_VARIABLE in message and "Download" in message


def test_a_single_changed_pixel_is_caught(data_copy, offline):
    path = data_copy / "test-volume.tif"
    pixels = tifffile.imread(path)
    pixels[17, 100, 200] ^= 1
    tifffile.imwrite(path, pixels)
    with pytest.raises(DataIntegrityError, match="pixel sha256 mismatch"):
        read_volume(path)


def test_a_damaged_copy_is_repaired_from_the_source_folder(data_copy, offline, monkeypatch):
    monkeypatch.setenv(data.SOURCE_DIR_VARIABLE, str(COMMITTED))
    (data_copy / "train-labels.tif").write_bytes(b"not a tiff")
    (data_copy / "test-volume.tif").unlink()
    paths = fetch_isbi2012(data_copy)
    for path in paths.values():
        read_volume(path)  # raises if anything is still wrong


@pytest.fixture
def mirror_on_loopback(tmp_path):
    """A real HTTP server on 127.0.0.1 serving the committed files, as a public mirror would."""
    served = tmp_path / "mirror"
    shutil.copytree(COMMITTED, served)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_a_missing_file_is_downloaded_and_checked(tmp_path, mirror_on_loopback, monkeypatch):
    monkeypatch.delenv(data.SOURCE_DIR_VARIABLE, raising=False)
    monkeypatch.setattr(data, "REGISTRY", {
        name: dataclasses.replace(volume, mirrors=(
            (f"{mirror_on_loopback}/missing/{volume.filename}", None),  # a dead mirror first
            (f"{mirror_on_loopback}/{volume.filename}", None),
        ))
        for name, volume in data.REGISTRY.items()
    })
    paths = fetch_isbi2012(tmp_path / "fresh")
    assert sorted(path.name for path in paths.values()) == sorted(
        volume.filename for volume in data.REGISTRY.values())
    for path in paths.values():
        read_volume(path)


def test_a_mirror_serving_wrong_pixels_is_not_trusted(tmp_path, mirror_on_loopback, monkeypatch,
                                                      data_copy):
    monkeypatch.delenv(data.SOURCE_DIR_VARIABLE, raising=False)
    # The mirror serves the labels under the name of the images: a readable TIFF, wrong pixels.
    monkeypatch.setattr(data, "REGISTRY", {
        **data.REGISTRY,
        "train-volume": dataclasses.replace(
            data.REGISTRY["train-volume"],
            mirrors=((f"{mirror_on_loopback}/train-labels.tif", None),)),
    })
    (data_copy / "train-volume.tif").unlink()
    with pytest.raises(DataIntegrityError, match="pixel sha256 mismatch"):
        fetch_isbi2012(data_copy)
    assert not (data_copy / "train-volume.tif").exists(), "a download with wrong pixels was kept"
