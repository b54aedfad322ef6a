"""The KMS assembled: key supply from a scenario, the key store, the API and the server.

:func:`build_service` sets up the store's pools from :func:`qnetai.kms.supply.supply_plan`
and returns the FastAPI app; :func:`run_service` serves it with mutual TLS from the files of
:func:`qnetai.kms.pki.init_pki`. ``qnetai kms serve`` calls :func:`run_service`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from qnetai.kms.app import KMSConfig, create_app
from qnetai.kms.store import KeyStore
from qnetai.kms.supply import SupplyPlan, check_sae_nodes, supply_plan

__all__ = [
    "KMSService",
    "OperatorService",
    "build_operator_service",
    "build_service",
    "run_operator_service",
    "run_service",
]


@dataclass(frozen=True)
class KMSService:
    """The parts of a running KMS: the ASGI ``app``, its ``store``, ``config`` and ``plan``."""

    app: Any
    store: KeyStore
    config: KMSConfig
    plan: SupplyPlan
    time_scale: float

    def describe(self) -> dict[str, Any]:
        """Plain data about the service (no key material): pairs, rates, paths, limits."""
        return {
            "scenario": self.plan.scenario,
            "db": _without_password(self.store.path),
            "time_scale": self.time_scale,
            "key_size": self.config.key_size,
            "pool_capacity_bits": self.config.pool_capacity_bits,
            "sae_kme": dict(self.config.sae_kme),
            "pairs": [
                {
                    "saes": list(pair),
                    "rate_bps": rate,
                    "fill_bps": rate * self.time_scale,
                    "path": self.plan.paths[pair],
                }
                for pair, rate in self.plan.rates_bps.items()
            ],
        }


def _without_password(target: str) -> str:
    """``target`` with the password of a connection URL replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(target)
    if parts.password is None:
        return target
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def build_service(
    scenario: Any,
    sae_nodes: Mapping[str, str],
    *,
    db_path: str | os.PathLike[str],  # an SQLite file or a postgresql:// URL
    time_scale: float = 1.0,
    key_size: int = 256,
    pool_capacity_bits: int | None = None,
    initial_pool_bits: int | None = None,
    seed: int | None = None,
    synchronous: str = "FULL",
    engine: bool = False,
) -> KMSService:
    """Plan the key supply of ``scenario`` for ``sae_nodes`` and open the store.

    Pools fill at the pair rate times ``time_scale`` (1: real time; 1000: a simulated
    second per wall millisecond). ``pool_capacity_bits`` / ``initial_pool_bits`` default
    to the scenario's ``qkd`` section. ``engine``: take the link rates from a full
    :func:`qnetai.facade.run_scenario` (what ``qnetai run`` and ``qnetai serve`` use), else
    from the key network alone (a faster start; the same rates for analytic links).
    """
    if len(sae_nodes) < 2:
        raise ValueError(f"need at least two SAEs (got {sorted(sae_nodes)})")
    key_network = None
    if engine:
        from qnetai import facade

        check_sae_nodes(scenario, sae_nodes)  # before the (longer) run
        key_network = facade.run_scenario(scenario, seed=seed).key_network
    plan = supply_plan(scenario, sae_nodes, seed=seed, key_network=key_network)
    cap = plan.pool_capacity_bits if pool_capacity_bits is None else int(pool_capacity_bits)
    init = plan.initial_pool_bits if initial_pool_bits is None else int(initial_pool_bits)
    store = KeyStore(os.fspath(db_path), synchronous=synchronous)
    store.configure_pools(
        plan.rates_bps, capacity_bits=cap, initial_bits=min(init, cap), time_scale=time_scale
    )
    config = KMSConfig(sae_kme=dict(sae_nodes), key_size=key_size, pool_capacity_bits=cap)
    return KMSService(
        app=create_app(store, config),
        store=store,
        config=config,
        plan=plan,
        time_scale=time_scale,
    )


def run_service(
    service: KMSService,
    *,
    pki_dir: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    access_log: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``service`` over HTTPS with client certificates from ``pki_dir`` until stopped.

    ``on_ready(url)`` is called once the server accepts connections (``port`` 0 picks an
    ephemeral port; the URL names the real one).
    """
    from qnetai.kms.server import bound_socket, serve

    pki = os.fspath(pki_dir)
    sock = bound_socket(host, port)
    url = f"https://{host}:{sock.getsockname()[1]}"
    try:
        serve(
            service.app,
            certfile=os.path.join(pki, "kme.pem"),
            keyfile=os.path.join(pki, "kme.key"),
            ca_certs=os.path.join(pki, "ca.pem"),
            sock=sock,
            log_level=log_level,
            access_log=access_log,
            on_ready=None if on_ready is None else (lambda: on_ready(url)),
        )
    finally:
        service.store.close()


@dataclass(frozen=True)
class OperatorService:
    """The KMS with the dashboard: ``app`` (API + dashboard), ``live`` network, ``store``."""

    app: Any
    live: Any
    store: KeyStore
    config: KMSConfig


def build_operator_service(
    scenario: Any,
    sae_nodes: Mapping[str, str],
    *,
    db_path: str | os.PathLike[str],
    time_scale: float = 1.0,
    seed: int | None = None,
    engine: bool = True,
    key_size: int = 256,
    pool_capacity_bits: int | None = None,
    initial_pool_bits: int | None = None,
    interval_s: float = 1.0,
) -> OperatorService:
    """Run ``scenario`` (engine and key network), open the store, add the dashboard.

    The pools fill at the run's key rates times ``time_scale``; ``interval_s`` is the
    dashboard's update period.
    """
    from qnetai.kms.dashboard import add_dashboard
    from qnetai.kms.live import LiveNetwork

    if len(sae_nodes) < 2:
        raise ValueError(f"need at least two SAEs (got {sorted(sae_nodes)})")
    check_sae_nodes(scenario, sae_nodes)  # bad input is refused before the store is opened
    store = KeyStore(os.fspath(db_path))
    live = LiveNetwork.build(
        scenario,
        sae_nodes,
        store,
        time_scale=time_scale,
        seed=seed,
        engine=engine,
        pool_capacity_bits=pool_capacity_bits,
        initial_pool_bits=initial_pool_bits,
    )
    config = KMSConfig(
        sae_kme=dict(sae_nodes), key_size=key_size, pool_capacity_bits=live.capacity_bits
    )
    app = create_app(store, config)
    add_dashboard(app, live, interval_s=interval_s)
    return OperatorService(app=app, live=live, store=store, config=config)


def run_operator_service(
    service: OperatorService,
    *,
    pki_dir: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    monitor_interval_s: float = 1.0,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the API and the dashboard, with the QBER monitor in a background thread.

    The fading links' rate schedule (:meth:`~qnetai.kms.live.LiveNetwork.run_rates`) runs
    in another.

    With ``pki_dir``: HTTPS, client certificates optional (SAEs present theirs, a browser
    need not); without: plain HTTP (the API then authenticates nobody: 401).
    ``on_ready(url)`` gets the dashboard's URL.
    """
    import threading

    from qnetai.kms.server import bound_socket, serve

    sock = bound_socket(host, port)
    scheme = "http" if pki_dir is None else "https"
    url = f"{scheme}://{host}:{sock.getsockname()[1]}/dashboard"
    pki = None if pki_dir is None else os.fspath(pki_dir)
    stop = threading.Event()
    monitor = threading.Thread(
        target=service.live.run_monitor,
        args=(stop,),
        kwargs={"interval_s": monitor_interval_s},
        daemon=True,
    )
    monitor.start()
    # fading links (a free-space QKD link's loss variation): their rates follow the schedule
    rates = threading.Thread(
        target=service.live.run_rates, args=(stop,), kwargs={"interval_s": 0.2}, daemon=True
    )
    rates.start()
    try:
        serve(
            service.app,
            certfile=None if pki is None else os.path.join(pki, "kme.pem"),
            keyfile=None if pki is None else os.path.join(pki, "kme.key"),
            ca_certs=None if pki is None else os.path.join(pki, "ca.pem"),
            client_cert="optional",
            sock=sock,
            log_level=log_level,
            on_ready=None if on_ready is None else (lambda: on_ready(url)),
        )
    finally:
        stop.set()
        monitor.join(timeout=30)
        rates.join(timeout=30)
        service.store.close()
