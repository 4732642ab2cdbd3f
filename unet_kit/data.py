"""The ISBI 2012 EM volumes: where they live, how they are fetched, and how they are verified.

The repository ships verified copies in ``data/isbi2012/``. A copy is trusted only when the
sha256 of its *pixels* (the C-order ``(30, 512, 512)`` uint8 array) matches the registry
below, so any correct copy passes whatever TIFF container it came in. A missing or damaged
file is repaired from a local source folder (``ISBI2012_SOURCE``) or from public mirrors.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from unet_kit.assignment import REPOSITORY_ROOT

DEFAULT_DATA_DIR = REPOSITORY_ROOT / "data" / "isbi2012"
VOLUME_SHAPE = (30, 512, 512)

#: Environment variable naming a folder of already-downloaded copies to repair from.
SOURCE_DIR_VARIABLE = "ISBI2012_SOURCE"


@dataclass(frozen=True)
class Volume:
    """One file of the challenge: its name, pixel checksum and the public places it lies."""

    filename: str
    pixel_sha256: str
    mirrors: tuple[tuple[str, str | None], ...]  # (url, pooch known_hash of that file or None)


def _mirrors(filename: str, challenge_md5: str) -> tuple[tuple[str, str | None], ...]:
    return (
        (f"http://brainiac2.mit.edu/isbi_challenge/sites/default/files/{filename}",
         f"md5:{challenge_md5}"),
        # Other containers of the same pixels: the pixel checksum is what vouches for them.
        (f"https://raw.githubusercontent.com/zhixuhao/unet/master/data/membrane/{filename}", None),
    )


REGISTRY: dict[str, Volume] = {
    volume.filename.removesuffix(".tif"): volume
    for volume in (
        Volume("train-volume.tif",
               "200da3d452d726e6c9ca1ce04b869d4edb727320d23b516d01cce707dc8c4760",
               _mirrors("train-volume.tif", "465461edbe0254630c4ec5577f1e7764")),
        Volume("train-labels.tif",
               "a7cb64000a1a7e542682927e19c91339f58f9f178e0bcce4e207371116f0ca36",
               _mirrors("train-labels.tif", "657fe6b728c6dd0152e295c6d800001d")),
        Volume("test-volume.tif",
               "1b58fa7ec1d0ff9d39a855622db3ff66a97863036339b0d04be51b2f5a99b0e9",
               _mirrors("test-volume.tif", "9767660d7abe4e0ecbdd0061a16058ad")),
    )
}


class DataIntegrityError(RuntimeError):
    """A data file is missing or its pixels are not the challenge's, and it could not be repaired."""


@dataclass(frozen=True)
class Isbi2012:
    """The three volumes as ``(30, 512, 512)`` uint8 arrays.

    ``train_labels`` is 255 inside cells and 0 on membranes; the model in the notebook
    predicts the *membrane* class (label 0), the class the challenge scores.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray


def pixel_sha256(pixels: np.ndarray) -> str:
    """sha256 of an array's C-order bytes: the same for any container holding these pixels."""
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


def read_volume(path: Path) -> np.ndarray:
    """Read a TIFF stack and check it against the registry; raise DataIntegrityError if wrong."""
    volume = REGISTRY[Path(path).name.removesuffix(".tif")]
    try:
        pixels = tifffile.imread(path)
    except Exception as error:  # tifffile raises many types for truncated or foreign files
        raise DataIntegrityError(
            f"{path} cannot be read as a TIFF stack ({type(error).__name__}: {error})."
            f"{_how_to_repair(path)}"
        ) from error
    if pixels.shape != VOLUME_SHAPE or pixels.dtype != np.uint8:
        raise DataIntegrityError(
            f"{path} holds a {pixels.dtype} array of shape {pixels.shape}, expected uint8 "
            f"{VOLUME_SHAPE}.{_how_to_repair(path)}"
        )
    if pixel_sha256(pixels) != volume.pixel_sha256:
        raise DataIntegrityError(
            f"{path} has the right shape but its pixels differ from the ISBI 2012 release "
            f"(pixel sha256 mismatch).{_how_to_repair(path)}"
        )
    return pixels


def _how_to_repair(path: Path) -> str:
    return (
        f" Delete it and run `python -m unet_kit.data` (or call fetch_isbi2012()) to fetch a "
        f"verified copy into {Path(path).parent}."
    )


def _copy_from_source_dir(target: Path, source_dir: Path) -> bool:
    candidate = source_dir / target.name
    try:
        read_volume(candidate)
    except (DataIntegrityError, KeyError):
        return False
    shutil.copyfile(candidate, target)
    return True


def _download_from_mirrors(target: Path, volume: Volume) -> list[str] | None:
    """Try each mirror in turn; None on success, else why each one failed."""
    import pooch  # imported here: only a repair needs it

    failures = [] if volume.mirrors else ["no mirror is configured"]
    for url, known_hash in volume.mirrors:
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            try:
                downloaded = Path(pooch.retrieve(url, known_hash=known_hash, fname=target.name,
                                                 path=scratch, progressbar=False))
                read_volume(downloaded)
            except Exception as error:  # network errors, hash mismatches, damaged downloads
                failures.append(f"{url}: {type(error).__name__}: {error}")
                continue
            shutil.move(downloaded, target)
            return None
    return failures


def _verified_or_repaired(target: Path, volume: Volume) -> np.ndarray:
    """Pixels of ``target``, after replacing it with a verified copy if it is missing or damaged."""
    if target.is_file():
        try:
            return read_volume(target)
        except DataIntegrityError:
            pass  # repaired below
    source_dir = os.environ.get(SOURCE_DIR_VARIABLE)
    if source_dir and _copy_from_source_dir(target, Path(source_dir)):
        return read_volume(target)
    failures = _download_from_mirrors(target, volume)
    if failures is not None:
        raise DataIntegrityError(
            f"{target} is missing or damaged and no verified copy could be fetched:\n  "
            + "\n  ".join(failures)
            + f"\nDownload {volume.filename} by hand from one of these addresses into "
            f"{target.parent}, or set {SOURCE_DIR_VARIABLE} to a folder that holds it."
        )
    return read_volume(target)


def _ensure_all(data_dir: str | os.PathLike | None) -> dict[str, tuple[Path, np.ndarray]]:
    data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        name: (data_dir / volume.filename,
               _verified_or_repaired(data_dir / volume.filename, volume))
        for name, volume in REGISTRY.items()
    }


def fetch_isbi2012(data_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Make sure the three volumes lie verified in ``data_dir``; return their paths by name.

    A verified file is left alone and no network is touched. A missing or damaged one is
    replaced from ``$ISBI2012_SOURCE`` if that folder holds a verified copy, else downloaded
    from the public mirrors and checked before it replaces anything.
    """
    return {name: path for name, (path, _) in _ensure_all(data_dir).items()}


def load_isbi2012(data_dir: str | os.PathLike | None = None) -> Isbi2012:
    """The three verified volumes, fetched or repaired first if needed."""
    volumes = {name: pixels for name, (_, pixels) in _ensure_all(data_dir).items()}
    return Isbi2012(
        train_images=volumes["train-volume"],
        train_labels=volumes["train-labels"],
        test_images=volumes["test-volume"],
    )


if __name__ == "__main__":
    for name, path in fetch_isbi2012().items():
        print(f"{name:>13}: {path} (verified)")
