"""Inert model files of learned policies: ``MODEL.npz`` (weights) + ``MODEL.json`` (description).

Every learned policy (``routing`` and ``allocation`` scorers, the ``chain`` actor) is stored as
two files that hold data only, never code:

* ``MODEL.json``: ``{"format": "qnetai-model/1", "kind": ..., "architecture": {...}, ...}``
  plus the training configuration and figures (free-form, for people);
* ``MODEL.npz``: the float weight arrays named by the architecture, read with
  ``numpy.load(..., allow_pickle=False)``.

The loaders rebuild the network from the architecture and run it in numpy; nothing a user
supplies is unpickled or imported (stable-baselines3 zips are refused). Every field is
validated: the format tag, the kind, the architecture's sizes and activations, the names,
dtypes, shapes and finiteness of the arrays; errors are :class:`~qnetai.errors.InputError`
naming the file and the field. This module imports neither torch nor gymnasium, so a scenario
check can read a model's ``kind`` cheaply (:func:`read_kind`).

Architectures (``architecture.type``):

* ``action-scorer`` (routing, allocation): ``n_features``, ``hidden`` (one width per layer),
  ``activations``, ``prior_feature``, ``obs_clip``; arrays ``w{i}`` ``(in, out)``, ``b{i}``,
  ``head_w`` ``(hidden[-1], 1)``, ``head_b`` ``(1,)``, ``prior`` ``()``;
* ``mlp-actor`` (chain): ``n_obs``, ``hidden``, ``activations``, ``action_nvec``; arrays
  ``w{i}``, ``b{i}``, ``out_w`` ``(hidden[-1], sum(action_nvec))``, ``out_b``.

Example:
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> arch = {"type": "mlp-actor", "n_obs": 2, "hidden": [3], "activations": ["tanh"],
    ...         "action_nvec": [2]}
    >>> arrays = {"w0": np.ones((2, 3)), "b0": np.zeros(3), "out_w": np.ones((3, 2)),
    ...           "out_b": np.zeros(2)}
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = write_model(d / "m", kind="chain", architecture=arch, arrays=arrays, meta={})
    >>> meta, got = load_model(resolve_model(str(d / "m")), kinds=("chain",))
    >>> meta["kind"], sorted(got)
    ('chain', ['b0', 'out_b', 'out_w', 'w0'])
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from qnetai._atomic_files import replace_atomic
from qnetai.errors import InputError

#: Format tag of ``MODEL.json``.
FORMAT = "qnetai-model/1"
#: Kinds of learned policy.
KINDS = ("routing", "allocation", "chain")
#: Activations the numpy forward passes implement.
ACTIVATIONS = ("tanh", "relu", "identity")
#: Largest accepted ``MODEL.json`` and ``MODEL.npz`` (bytes).
MAX_JSON_BYTES = 4_000_000
MAX_NPZ_BYTES = 64_000_000
_MAX_WIDTH = 4096
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class ModelFiles:
    """The two files of one model (``json_path``, ``npz_path``) and the name it was given."""

    json_path: Path
    npz_path: Path
    name: str


def models_dir() -> Path:
    """The folder of the shipped models (``qnetai/data/models``)."""
    return Path(str(resources.files("qnetai") / "data" / "models"))


def shipped_models(kinds: tuple[str, ...] = KINDS) -> list[str]:
    """Names of the shipped models whose ``kind`` is in ``kinds``, sorted."""
    folder = models_dir()
    if not folder.is_dir():  # pragma: no cover - no models folder
        return []
    names = []
    for p in sorted(folder.glob("*.json")):
        if p.with_suffix(".npz").is_file():
            try:
                if read_kind(ModelFiles(p, p.with_suffix(".npz"), p.stem)) in kinds:
                    names.append(p.stem)
            except InputError:  # pragma: no cover - a broken shipped file
                continue
    return names


def check_model_name(name: str, *, field: str = "name") -> str:
    """``name`` if it is a plain file name: letters, digits, ``._-``; no separator, no ``..``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise InputError(
            f"{field} must be a plain name of letters, digits, '.', '_' and '-' (no path "
            f"separators, no '..', not starting with '.' or '-'; got {name!r})"
        )
    return name


def resolve_model(ref: str | os.PathLike[str], *, field: str = "model") -> ModelFiles:
    """The files of a shipped model name or of a user path ``MODEL``/``MODEL.json``/``.npz``.

    A user path is tried first, then a shipped name. Both files must exist; a ``.zip`` (the
    stable-baselines3 format, which unpickles code when loaded) is refused.
    """
    text = os.fspath(ref)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{field}: a model name or path is required (got {text!r})")
    path = Path(text)
    if path.suffix == ".zip":
        raise InputError(
            f"{field}: {text} is a stable-baselines3 zip; qnetai loads only inert models "
            "(MODEL.npz + MODEL.json, written by `qnetai train`), since unpickling a zip "
            "can run arbitrary code"
        )
    stem = path.with_suffix("") if path.suffix in (".json", ".npz") else path
    candidates = [stem]
    if _NAME.fullmatch(text) and ".." not in text:
        candidates.append(models_dir() / text)
    for c in candidates:
        j, n = Path(f"{c}.json"), Path(f"{c}.npz")
        if j.is_file() and n.is_file():
            return ModelFiles(j, n, text)
    shipped = ", ".join(shipped_models()) or "none"
    if Path(f"{stem}.zip").is_file():
        raise InputError(
            f"{field}: {stem}.zip is a stable-baselines3 zip, which qnetai no longer loads "
            "(unpickling it can run arbitrary code); give MODEL.npz + MODEL.json written by "
            "`qnetai train`"
        )
    raise InputError(
        f"{field}: no model {text!r}: give a shipped name ({shipped}) or a path to MODEL.npz "
        "with MODEL.json beside it"
    )


def _read_json(files: ModelFiles) -> dict[str, Any]:
    p = files.json_path
    try:
        size = p.stat().st_size
        if size > MAX_JSON_BYTES:
            raise InputError(f"{p}: larger than {MAX_JSON_BYTES} bytes ({size})")
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{p}: not a readable JSON model description ({exc})") from exc
    if not isinstance(doc, dict):
        raise InputError(f"{p}: must hold a JSON object (got {type(doc).__name__})")
    if doc.get("format") != FORMAT:
        raise InputError(
            f"{p}: format must be {FORMAT!r} (got {doc.get('format')!r}); models of older "
            "qnetai versions (stable-baselines3 zips) are no longer loaded: retrain with "
            "`qnetai train`"
        )
    if doc.get("kind") not in KINDS:
        raise InputError(f"{p}: kind must be one of {', '.join(KINDS)} (got {doc.get('kind')!r})")
    return doc


def read_kind(files: ModelFiles) -> str:
    """The validated ``kind`` of a model (reads its JSON only)."""
    return str(_read_json(files)["kind"])


def _int(p: Path, where: str, x: Any, lo: int, hi: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
        raise InputError(f"{p}: {where} must be an integer in [{lo}, {hi}] (got {x!r})")
    return x


def _layers(p: Path, arch: dict[str, Any], n_in: int) -> dict[str, tuple[int, ...]]:
    """Shapes of ``w{i}``/``b{i}`` of the hidden layers (validates hidden and activations)."""
    hidden, acts = arch.get("hidden"), arch.get("activations")
    if not isinstance(hidden, list) or not 1 <= len(hidden) <= 16:
        raise InputError(f"{p}: architecture.hidden must be a list of 1-16 widths (got {hidden!r})")
    if not isinstance(acts, list) or len(acts) != len(hidden):
        raise InputError(
            f"{p}: architecture.activations must be a list of {len(hidden)} "
            f"names, one per hidden layer (got {acts!r})"
        )
    shapes: dict[str, tuple[int, ...]] = {}
    prev = n_in
    for i, (h, a) in enumerate(zip(hidden, acts, strict=True)):
        width = _int(p, f"architecture.hidden[{i}]", h, 1, _MAX_WIDTH)
        if a not in ACTIVATIONS:
            raise InputError(
                f"{p}: architecture.activations[{i}] must be one of "
                f"{', '.join(ACTIVATIONS)} (got {a!r})"
            )
        shapes[f"w{i}"], shapes[f"b{i}"] = (prev, width), (width,)
        prev = width
    return shapes


def array_shapes(files: ModelFiles, arch: Any) -> dict[str, tuple[int, ...]]:
    """The array names and shapes an architecture needs (InputError naming the bad field)."""
    p = files.json_path
    if not isinstance(arch, dict):
        raise InputError(f"{p}: architecture must be an object (got {arch!r})")
    kind = arch.get("type")
    if kind == "action-scorer":
        n_in = _int(p, "architecture.n_features", arch.get("n_features"), 1, _MAX_WIDTH)
        _int(p, "architecture.prior_feature", arch.get("prior_feature"), 0, n_in - 1)
        clip = arch.get("obs_clip")
        if (
            isinstance(clip, bool)
            or not isinstance(clip, int | float)
            or not (math.isfinite(clip) and clip > 0)
        ):
            raise InputError(
                f"{p}: architecture.obs_clip must be a finite number > 0 (got {clip!r})"
            )
        shapes = _layers(p, arch, n_in)
        last = shapes[f"b{len(arch['hidden']) - 1}"][0]
        return {**shapes, "head_w": (last, 1), "head_b": (1,), "prior": ()}
    if kind == "mlp-actor":
        n_in = _int(p, "architecture.n_obs", arch.get("n_obs"), 1, 100_000)
        nvec = arch.get("action_nvec")
        if not isinstance(nvec, list) or not 1 <= len(nvec) <= 10_000:
            raise InputError(
                f"{p}: architecture.action_nvec must be a non-empty list of "
                f"action sizes (got {nvec!r})"
            )
        for i, n in enumerate(nvec):
            _int(p, f"architecture.action_nvec[{i}]", n, 1, 1_000_000)
        shapes = _layers(p, arch, n_in)
        last = shapes[f"b{len(arch['hidden']) - 1}"][0]
        return {**shapes, "out_w": (last, int(sum(nvec))), "out_b": (int(sum(nvec)),)}
    raise InputError(
        f"{p}: architecture.type must be 'action-scorer' or 'mlp-actor' (got {kind!r})"
    )


_ARCH_OF_KIND = {"routing": "action-scorer", "allocation": "action-scorer", "chain": "mlp-actor"}


def load_model(
    files: ModelFiles, *, kinds: tuple[str, ...] = KINDS
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(description, arrays)`` of a model, both validated (see the module docstring).

    ``kinds`` lists the accepted kinds; another kind is an InputError. Arrays come back as
    float64 numpy arrays of the shapes the architecture names.
    """
    meta = _read_json(files)
    p = files.json_path
    if meta["kind"] not in kinds:
        raise InputError(
            f"{p}: kind must be {' or '.join(kinds)} for this use (got {meta['kind']!r})"
        )
    shapes = array_shapes(files, meta.get("architecture"))
    if meta["architecture"]["type"] != _ARCH_OF_KIND[meta["kind"]]:
        raise InputError(
            f"{p}: architecture.type must be {_ARCH_OF_KIND[meta['kind']]!r} "
            f"for kind {meta['kind']!r}"
        )
    return meta, _read_arrays(files.npz_path, shapes)


def _read_arrays(npz: Path, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    try:
        size = npz.stat().st_size
        if size > MAX_NPZ_BYTES:
            raise InputError(f"{npz}: larger than {MAX_NPZ_BYTES} bytes ({size})")
        out: dict[str, np.ndarray] = {}
        with np.load(npz, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise InputError(f"{npz}: not an .npz archive of named arrays")
            names = set(data.files)
            if names != set(shapes):
                raise InputError(
                    f"{npz}: arrays must be {', '.join(sorted(shapes))} (missing: "
                    f"{', '.join(sorted(set(shapes) - names)) or 'none'}; unexpected: "
                    f"{', '.join(sorted(names - set(shapes))) or 'none'})"
                )
            for info in data.zip.infolist():  # before decompressing anything
                shape = shapes[info.filename.removesuffix(".npy")]
                if info.file_size > 8 * math.prod(shape) + 65_536:
                    raise InputError(
                        f"{npz}: array {info.filename} is larger than its shape {shape} allows"
                    )
            for name, shape in shapes.items():
                a = data[name]
                if a.dtype.kind != "f":
                    raise InputError(
                        f"{npz}: array {name} must be floating point (got dtype {a.dtype})"
                    )
                if a.shape != shape:
                    raise InputError(f"{npz}: array {name} must have shape {shape} (got {a.shape})")
                if not np.isfinite(a).all():
                    raise InputError(f"{npz}: array {name} has non-finite values")
                out[name] = a.astype(np.float64)
    except InputError:
        raise
    except Exception as exc:  # refused object arrays, bad zip or .npy headers, ...
        raise InputError(f"{npz}: not a readable weights archive ({exc})") from exc
    return out


def _write_file(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file (never through a symlink)."""
    replace_atomic(target, lambda tmp: tmp.write_bytes(data))


def _finite(x: Any) -> Any:
    """``x`` with NaN and infinities replaced by ``None`` (strict JSON)."""
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, np.generic):
        return _finite(x.item())
    return x


def write_model(
    stem: str | os.PathLike[str],
    *,
    kind: str,
    architecture: dict[str, Any],
    arrays: dict[str, np.ndarray],
    meta: dict[str, Any],
) -> ModelFiles:
    """Write ``STEM.npz`` (float32 weights) and ``STEM.json``; their :class:`ModelFiles`.

    The folder of ``stem`` is created if needed; the file name must be a plain name
    (:func:`check_model_name`) and existing symbolic links are not written through. The
    arrays are checked against ``architecture`` before anything is written.
    """
    import io

    stem = Path(stem)
    check_model_name(stem.name, field="model file name")
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
    files = ModelFiles(Path(f"{stem}.json"), Path(f"{stem}.npz"), stem.name)
    shapes = array_shapes(files, architecture)
    if set(arrays) != set(shapes) or any(np.shape(arrays[k]) != s for k, s in shapes.items()):
        raise InputError(f"arrays {sorted(arrays)} do not match the architecture {shapes}")
    doc = {
        "format": FORMAT,
        "kind": kind,
        "architecture": architecture,
        **{k: v for k, v in meta.items() if k not in ("format", "kind", "architecture")},
    }
    text = json.dumps(_finite(doc), indent=2, allow_nan=False) + "\n"
    buf = io.BytesIO()
    np.savez(
        buf, allow_pickle=False, **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
    )
    stem.parent.mkdir(parents=True, exist_ok=True)
    _write_file(files.npz_path, buf.getvalue())
    _write_file(files.json_path, text.encode("utf-8"))
    return files


def routing_model_files(ref: str) -> ModelFiles:
    """The validated files of the learned routing scorer ``rl:REF`` (InputError otherwise).

    ``REF`` is a shipped name or a path to ``MODEL.npz`` / ``MODEL.json``; the model must be
    a ``routing`` scorer (its JSON ``kind``). Reads numpy and JSON only (nothing is unpickled
    or imported); every failure is an InputError naming ``controller.routing``.

    Example:
        >>> routing_model_files("waxman-routing").name
        'waxman-routing'
    """
    try:
        files = resolve_model(ref, field=f"controller.routing: rl:{ref}")
    except InputError as exc:
        if ref.endswith(".zip"):
            raise
        names = shipped_models(("routing",))
        raise InputError(
            f"controller.routing: unknown learned policy rl:{ref} (available: "
            f"{', '.join('rl:' + m for m in names) or 'none'}, or rl:PATH to a MODEL.npz "
            "with MODEL.json beside it)"
        ) from exc
    try:
        kind = read_kind(files)
        if kind != "routing":
            raise InputError(
                f"rl:{ref} is not a routing scorer (kind {kind!r}; train one "
                "with `qnetai train routing`)"
            )
        load_model(files, kinds=("routing",))
    except InputError as exc:
        raise InputError(f"controller.routing: {exc}") from exc
    return files


__all__ = [
    "ACTIVATIONS",
    "FORMAT",
    "KINDS",
    "ModelFiles",
    "array_shapes",
    "check_model_name",
    "load_model",
    "models_dir",
    "read_kind",
    "resolve_model",
    "routing_model_files",
    "shipped_models",
    "write_model",
]
