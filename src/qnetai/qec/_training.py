"""Training the learned decoder in torch on stim samples, with resumable checkpoints.

Data are drawn fresh from the circuit in chunks; chunk ``k`` uses the seed
``[seed, k]`` (numpy ``SeedSequence``), so a resumed run sees the same data it would have
seen. A checkpoint is the model files (``STEM.npz`` + ``STEM.json``) plus the Adam moments
as extra ``train/*`` arrays; ``resume=True`` continues from it.

``workers`` > 0 draws and pre-decodes chunks in that many processes ahead of the optimiser
(same chunks, same seeds, so the same data as ``workers=0``); ``device="cuda"`` trains on a
GPU (bfloat16 autocast), which is optional: the CPU path is the one CI runs.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qnetai._optional import require
from qnetai.errors import InputError
from qnetai.qec._codes import MemoryExperiment
from qnetai.qec._decoders import MatchingDecoder
from qnetai.qec._neural import (
    NeuralModel,
    detector_grid,
    grid_input,
    load_model,
    load_train_state,
    make_arch,
    param_shapes,
    save_model,
)
from qnetai.qec._sampling import sample


def _torch() -> Any:
    return require("torch", extra="ai")


def torch_network(model: NeuralModel) -> Any:
    """A ``torch.nn.Module`` with ``model``'s architecture and weights."""
    _torch()
    import torch
    from torch import nn

    arch = model.arch

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c_in = 2
            convs = []
            for c in arch["channels"]:
                convs.append(nn.Conv3d(c_in, c, 3, padding=1))
                c_in = c
            self.conv = nn.ModuleList(convs)
            self.fc = nn.Linear(c_in * math.prod(arch["grid"]), arch["hidden"])
            extra = arch["num_observables"] if arch["residual_of"] else 0
            self.head = nn.Linear(arch["hidden"] + extra, arch["num_observables"])

        def forward(self, x: Any, base: Any = None) -> Any:
            for conv in self.conv:
                x = torch.relu(conv(x))
            h = torch.relu(self.fc(x.flatten(1)))
            if base is not None:
                h = torch.cat([h, 2.0 * base - 1.0], dim=1)
            return self.head(h)

    net = Net()
    set_params(net, model.params)
    return net


def _torch_names(name: str) -> str:
    return name.replace("conv", "conv.", 1) if name.startswith("conv") else name


def set_params(net: Any, params: dict[str, np.ndarray]) -> None:
    """Copy float32 arrays into ``net`` (names as in the model files)."""
    torch = _torch()
    state = {_torch_names(k): torch.from_numpy(np.array(v)) for k, v in params.items()}
    net.load_state_dict(state, strict=True)


def get_params(net: Any) -> dict[str, np.ndarray]:
    """The network's weights as float32 arrays under the model files' names."""
    out = {}
    for k, v in net.state_dict().items():
        name = k.replace("conv.", "conv", 1) if k.startswith("conv.") else k
        out[name] = v.detach().cpu().numpy().astype(np.float32)
    return out


def torch_logits(net: Any, model: NeuralModel, dets: np.ndarray, base: np.ndarray | None) -> Any:
    """Logits in torch (no gradient), as a numpy array."""
    torch = _torch()
    with torch.no_grad():
        x = torch.from_numpy(grid_input(model.arch, dets))
        b = None if base is None else torch.from_numpy(base.astype(np.float32))
        return net(x, b).numpy()


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a training run (validated).

    Example:
        >>> TrainConfig(steps=0)
        Traceback (most recent call last):
        ...
        qnetai.errors.InputError: steps=0 < 1
    """

    steps: int = 2000
    batch_size: int = 512
    chunk_shots: int = 65_536
    lr: float = 1e-3
    seed: int = 0
    channels: tuple[int, ...] = (16, 16)
    hidden: int = 128
    residual_of: str | None = "matching-correlated"
    checkpoint_every: int = 200
    threads: int = 1
    max_cpu_s: float | None = None
    device: str = "cpu"
    workers: int = 0
    lr_schedule: str = "constant"
    max_wall_s: float | None = None

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise InputError(f"steps={self.steps} < 1")
        if not 1 <= self.batch_size <= self.chunk_shots:
            raise InputError(f"batch_size={self.batch_size} not in [1, chunk_shots]")
        if not 0 < self.lr < 1:
            raise InputError(f"lr={self.lr} not in (0, 1)")
        if self.checkpoint_every < 1 or self.threads < 1:
            raise InputError("checkpoint_every and threads must be >= 1")
        if self.max_cpu_s is not None and self.max_cpu_s <= 0:
            raise InputError(f"max_cpu_s={self.max_cpu_s} <= 0")
        if self.max_wall_s is not None and self.max_wall_s <= 0:
            raise InputError(f"max_wall_s={self.max_wall_s} <= 0")
        if self.device.split(":")[0] not in ("cpu", "cuda"):
            raise InputError(f"device={self.device!r} is not 'cpu' or 'cuda[:N]'")
        if not 0 <= self.workers <= 64:
            raise InputError(f"workers={self.workers} not in [0, 64]")
        if self.lr_schedule not in ("constant", "cosine"):
            raise InputError(f"lr_schedule={self.lr_schedule!r} is not 'constant' or 'cosine'")

    def learning_rate(self, step: int, elapsed_s: float = 0.0) -> float:
        """The learning rate at ``step`` (cosine: decays to 0 by ``steps`` or ``max_wall_s``).

        Example:
            >>> TrainConfig(steps=100, lr=1e-3, lr_schedule="cosine").learning_rate(50)
            0.0005
        """
        if self.lr_schedule == "constant":
            return self.lr
        frac = step / self.steps
        if self.max_wall_s is not None:
            frac = max(frac, elapsed_s / self.max_wall_s)
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, frac)))


#: Per process: circuit text -> compiled correlated matching (workers compile once).
_BASE_DECODERS: dict[str, Any] = {}


def _chunk_seed(seed: int, k: int) -> int:
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def draw_chunk(
    circuit_text: str, *, seed: int, k: int, shots: int, residual: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Chunk ``k`` of a training run: detection events, base prediction, target.

    A pure function of its arguments (the sampler seed is ``SeedSequence([seed, k])``), so
    worker processes and the training process draw identical chunks.
    """
    stim = require("stim", extra="qec")
    circuit = stim.Circuit(circuit_text)
    s = sample(circuit, shots=shots, seed=_chunk_seed(seed, k))
    if not residual:
        return s.detection_events, None, s.observable_flips
    base_dec = _BASE_DECODERS.get(circuit_text)
    if base_dec is None:
        dem = circuit.detector_error_model(decompose_errors=True)
        base_dec = MatchingDecoder(correlations=True).compile(dem)
        _BASE_DECODERS.clear()
        _BASE_DECODERS[circuit_text] = base_dec
    base = base_dec.decode_batch(s.detection_events)
    return s.detection_events, base, s.observable_flips ^ base


class _ChunkSource:
    """Chunks in order, drawn in-process or by ``workers`` processes kept ``2 x workers`` ahead."""

    def __init__(self, circuit_text: str, cfg: TrainConfig, residual: bool) -> None:
        self.shots, self.residual = cfg.chunk_shots, residual
        self.text, self.seed, self.workers = circuit_text, cfg.seed, cfg.workers
        self.pool: ProcessPoolExecutor | None = None
        self.pending: dict[int, Future[Any]] = {}
        if cfg.workers:
            ctx = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(max_workers=cfg.workers, mp_context=ctx)

    def get(self, k: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        if self.pool is None:
            return draw_chunk(
                self.text, seed=self.seed, k=k, shots=self.shots, residual=self.residual
            )
        for j in range(k, k + 2 * self.workers):
            if j not in self.pending:
                self.pending[j] = self.pool.submit(
                    draw_chunk,
                    self.text,
                    seed=self.seed,
                    k=j,
                    shots=self.shots,
                    residual=self.residual,
                )
        for j in [j for j in self.pending if j < k]:
            self.pending.pop(j).cancel()
        chunk: tuple[np.ndarray, np.ndarray | None, np.ndarray] = self.pending.pop(k).result()
        return chunk

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def torch_grid_input(arch: dict[str, Any], dets: Any) -> Any:
    """:func:`grid_input` in torch on ``dets``' device: ``(n, D)`` -> ``(n, 2, T, H, W)``."""
    torch = _torch()
    t, h, w = arch["grid"]
    n = dets.shape[0]
    idx = torch.as_tensor(arch["index"], device=dets.device)
    x = torch.zeros((n, 2, t * h * w), dtype=torch.float32, device=dets.device)
    x[:, 0, idx] = dets.to(torch.float32)
    x[:, 1, idx] = 1.0
    return x.view(n, 2, t, h, w)


def train_decoder(
    experiment: MemoryExperiment,
    *,
    out: str | Path,
    config: TrainConfig = TrainConfig(),
    resume: bool = False,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> NeuralModel:
    """Train (or resume) a learned decoder for ``experiment``; checkpoints to ``out``.

    Returns the final model (also saved to ``out``). ``progress`` gets a dict per checkpoint
    (step, loss, CPU seconds). Stops early after ``config.max_cpu_s`` CPU seconds.
    """
    torch = _torch()
    torch.set_num_threads(config.threads)
    dev = torch.device(config.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device={config.device!r} but torch sees no CUDA device")
    circuit = experiment.circuit()
    dem = circuit.detector_error_model(decompose_errors=True)
    grid, index = detector_grid(dem.get_detector_coordinates(), dem.num_detectors)
    out = Path(out)
    step = 0
    cpu_before = 0.0
    state: dict[str, np.ndarray] = {}
    if resume:
        model = load_model(out.with_suffix(".npz"))
        if model.arch["grid"] != grid or model.arch["index"] != index:
            raise InputError("the checkpoint's detector layout differs from the experiment's")
        if model.info.get("experiment") != experiment.describe():
            raise InputError("the checkpoint was trained on a different experiment")
        step = int(model.info.get("step", 0))
        cpu_before = float(model.info.get("cpu_s", 0.0))
        state = load_train_state(out.with_suffix(".npz"))
        arch = model.arch
    else:
        arch = make_arch(
            grid=grid,
            index=index,
            num_observables=dem.num_observables,
            channels=config.channels,
            hidden=config.hidden,
            residual_of=config.residual_of,
        )
        torch.manual_seed(config.seed)
    net = torch_network(model) if resume else None
    if net is None:
        shapes = param_shapes(arch)
        dummy = NeuralModel(arch, {k: np.zeros(s, np.float32) for k, s in shapes.items()})
        net = torch_network(dummy)
        torch.manual_seed(config.seed)
        for m in net.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
        with torch.no_grad():  # start as the base decoder: the head says "never flip"
            net.head.weight.mul_(0.1)
            net.head.bias.fill_(-4.0 if arch["residual_of"] else 0.0)
    net.to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    if state:
        for name, p in net.named_parameters():
            opt.state[p] = {
                "step": torch.tensor(float(state["adam_step"][0])),
                "exp_avg": torch.from_numpy(state[f"m/{name}"]).to(dev),
                "exp_avg_sq": torch.from_numpy(state[f"v/{name}"]).to(dev),
            }
    source = _ChunkSource(str(circuit), config, residual=bool(arch["residual_of"]))
    per_chunk = config.chunk_shots // config.batch_size
    loss_fn = torch.nn.BCEWithLogitsLoss()
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if dev.type == "cuda"
        else contextlib.nullcontext()
    )
    t0, w0 = time.process_time(), time.perf_counter()
    chunk_k = -1
    data: tuple[Any, Any, Any] | None = None
    losses: list[float] = []

    def save() -> NeuralModel:
        cpu = cpu_before + time.process_time() - t0
        info = {
            "experiment": experiment.describe(),
            "train": {
                k: v for k, v in asdict(config).items() if k not in ("max_cpu_s", "max_wall_s")
            },
            "step": step,
            "shots_seen": step * config.batch_size,
            "cpu_s": round(cpu, 1),
            "last_loss": float(np.mean(losses[-50:])) if losses else None,
            "torch": str(torch.__version__),
        }
        model_now = NeuralModel(arch, get_params(net), info)
        extra: dict[str, np.ndarray] = {}
        for name, p in net.named_parameters():
            st = opt.state.get(p)
            if st:
                extra[f"m/{name}"] = st["exp_avg"].detach().cpu().numpy()
                extra[f"v/{name}"] = st["exp_avg_sq"].detach().cpu().numpy()
                extra["adam_step"] = np.array([float(st["step"])])
        save_model(model_now, out, **extra)
        if progress is not None:
            progress({"step": step, "loss": info["last_loss"], "cpu_s": info["cpu_s"]})
        return model_now

    model_now = None
    try:
        while step < config.steps:
            k, j = divmod(step, per_chunk)
            if k != chunk_k:
                dets, base, target = source.get(k)
                data = (
                    torch.from_numpy(dets).to(dev),
                    None if base is None else torch.from_numpy(base.astype(np.float32)).to(dev),
                    torch.from_numpy(target.astype(np.float32)).to(dev),
                )
                chunk_k = k
            assert data is not None
            sl = slice(j * config.batch_size, (j + 1) * config.batch_size)
            x = torch_grid_input(arch, data[0][sl])
            b = None if data[1] is None else data[1][sl]
            for group in opt.param_groups:
                group["lr"] = config.learning_rate(step, time.perf_counter() - w0)
            with autocast:
                logits = net(x, b)
            loss = loss_fn(logits.float(), data[2][sl])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            step += 1
            over = (
                config.max_cpu_s is not None and time.process_time() - t0 > config.max_cpu_s
            ) or (config.max_wall_s is not None and time.perf_counter() - w0 > config.max_wall_s)
            if step % config.checkpoint_every == 0 or step == config.steps or over:
                model_now = save()
            if over:
                break
        if model_now is None:
            model_now = save()
    finally:
        source.close()
    return model_now
