"""Pydantic models of a scenario: the validated data every other layer reads.

A scenario lists nodes and links explicitly, or names a topology builder whose
defaults fill them in (``topology:``), or both (explicit entries are added to
the built graph). Units are in the field names; times are SI seconds.

Example:
    >>> s = Scenario.model_validate({
    ...     "name": "two-nodes",
    ...     "nodes": [{"name": "A"}, {"name": "B"}],
    ...     "links": [{"endpoints": ["A", "B"], "length_km": 20}],
    ...     "traffic": {"requests": [{"source": "A", "destination": "B", "count": 5}]},
    ... })
    >>> s.links[0].attenuation_db_per_km
    0.2
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Seeds are stored as signed 64-bit integers (numpy, Parquet, DuckDB BIGINT): [0, 2**63).
MAX_SEED = 2**63

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]

NodeKind = Literal["end_user", "repeater", "qkd_terminal", "ground_station", "satellite"]
LinkKind = Literal["fibre", "free_space"]
GenerationScheme = Literal["double_click", "single_click"]
SwappingPolicy = Literal["swap_asap", "nested"]
PurificationProtocol = Literal["none", "bbpssw", "dejmps", "circuit"]
TopologyBuilder = Literal["line", "ring", "star", "grid", "waxman"]
ArrivalProcess = Literal["poisson", "periodic", "at_once"]


class StrictModel(BaseModel):
    """Base: unknown fields are errors, models are immutable, inf/NaN are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


#: Decoders a logical memory may use (the QEC benchmark's names; ``qnetai.qec.memory``).
LogicalDecoder = Literal["matching", "matching-correlated", "lookup", "neural"]


class LogicalMemorySpec(StrictModel):
    """A memory that stores each qubit as a logical qubit of a code (``qnetai.qec.memory``).

    Its noise is measured before the run: logical error rates per QEC round of a stim memory
    experiment (``rounds = distance``, both bases) decoded by ``decoder``, turned into the
    depolarising ``t_coh_s`` with the same entanglement fidelity per round.
    """

    code: Literal["surface", "repetition"] = "surface"
    distance: Literal[3, 5, 7] = 3
    decoder: LogicalDecoder = "matching"
    physical_error_rate: Annotated[float, Field(gt=0.0, le=0.05)] = Field(
        0.001, description="circuit-level depolarising error rate p of the code's hardware"
    )
    noise: Literal["depolarizing", "si1000"] = "depolarizing"
    cycle_time_s: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1e-6, description="duration of one QEC round (s)"
    )
    shots: Annotated[int, Field(ge=1000, le=1_000_000)] = Field(
        20_000, description="stim shots per basis for the logical error rates"
    )
    seed: Annotated[int, Field(ge=0, lt=MAX_SEED)] = Field(
        0, description="seed of the rate measurement (a property of the memory, not the run)"
    )
    estimate: Literal["point", "upper"] = Field(
        "point", description="use the measured rates or their 95% Wilson upper bounds"
    )

    @model_validator(mode="after")
    def _quantum_code(self) -> LogicalMemorySpec:
        if self.code == "repetition":
            raise ValueError(
                "code='repetition' protects against bit flips only (its logical qubit dephases "
                "faster than a bare one): use code='surface' for a quantum memory"
            )
        return self


class MemorySpec(StrictModel):
    """Quantum memory of a node: ``t_coh_s`` (depolarising), ``t1_s``/``t2_s`` or ``logical``.

    A ``logical`` memory is error-corrected; its ``t_coh_s`` is measured before the run.
    """

    t_coh_s: PositiveFloat | None = Field(1.0, description="depolarising coherence time (s)")
    t1_s: PositiveFloat | None = Field(None, description="amplitude-damping time T1 (s)")
    t2_s: PositiveFloat | None = Field(None, description="dephasing time T2 (s)")
    efficiency: Probability = Field(1.0, description="probability a stored qubit is retrieved")
    logical: LogicalMemorySpec | None = Field(
        None, description="store qubits as logical qubits of a code (sets t_coh_s)"
    )

    @model_validator(mode="after")
    def _t2_le_2t1(self) -> MemorySpec:
        if self.t1_s is not None and self.t2_s is not None and self.t2_s > 2 * self.t1_s:
            raise ValueError(f"t2_s={self.t2_s} > 2*t1_s={2 * self.t1_s} is unphysical")
        if self.logical is not None and (self.t1_s is not None or self.t2_s is not None):
            raise ValueError("logical memories take no t1_s/t2_s (their noise is measured)")
        return self


class NodeSpec(StrictModel):
    """A network node with a bank of memory qubits."""

    name: str = Field(min_length=1)
    kind: NodeKind = "repeater"
    memory_qubits: Annotated[int, Field(ge=0, le=100_000)] = 10
    memory: MemorySpec = MemorySpec()
    position_km: tuple[float, float] | None = Field(None, description="(x, y) for drawings")


class LossVariationSpec(StrictModel):
    """Time-varying extra loss of a free-space link: a sinusoid in dB."""

    period_s: PositiveFloat = 60.0
    amplitude_db: NonNegativeFloat = 3.0
    phase_rad: float = 0.0
    update_s: PositiveFloat = Field(0.01, description="loss is piecewise-constant over this step")

    def extra_loss_db(self, t_s: Any) -> Any:
        """Extra loss (dB) at time(s) ``t_s``: ``amplitude_db sin(2 pi t / period_s + phase_rad)``.

        The one formula the engine, the report and the re-tuning benchmark use (callers
        step ``t_s`` by ``update_s`` where the loss is piecewise constant).

        Example:
            >>> float(LossVariationSpec(period_s=4.0, amplitude_db=2.0).extra_loss_db(1.0))
            2.0
        """
        import numpy as np

        return self.amplitude_db * np.sin(2.0 * np.pi * t_s / self.period_s + self.phase_rad)


class FreeSpaceSpec(StrictModel):
    """Geometry of a free-space (ground or satellite) optical link."""

    tx_aperture_m: PositiveFloat = 0.1
    rx_aperture_m: PositiveFloat = 0.3
    wavelength_nm: PositiveFloat = 1550.0
    atmospheric_attenuation_db_per_km: NonNegativeFloat = 0.1
    atmosphere_thickness_km: NonNegativeFloat | None = Field(
        None, description="km of path inside the atmosphere (None: the whole path)"
    )
    pointing_loss_db: NonNegativeFloat = 1.0
    loss_variation: LossVariationSpec | None = None


class LinkSpec(StrictModel):
    """An elementary link generating heralded entanglement between two nodes."""

    endpoints: tuple[str, str]
    name: str | None = None
    kind: LinkKind = "fibre"
    length_km: NonNegativeFloat = 10.0
    attenuation_db_per_km: NonNegativeFloat = 0.2
    free_space: FreeSpaceSpec | None = None
    scheme: GenerationScheme = "double_click"
    bright_state_parameter: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.1
    attempt_rate_hz: PositiveFloat | None = Field(
        None, description="attempt rate; None: limited by the heralding round trip"
    )
    source_efficiency: Probability = 1.0
    coupling_efficiency: Probability = 1.0
    detector_efficiency: Probability = 0.9
    dark_count_probability: Probability = Field(
        0.0, description="per detector per detection window"
    )
    raw_fidelity: Annotated[float, Field(ge=0.25, le=1.0)] = Field(
        1.0, description="fidelity of the emitted state before link noise (visibility)"
    )
    multiplexing: Annotated[int, Field(ge=1, le=100_000)] = 1
    success_probability: Probability | None = Field(
        None,
        description="abstract model: fixed success probability per attempt, overriding physics",
    )
    qkd: bool = Field(False, description="this link also runs prepare-and-measure QKD")

    @model_validator(mode="after")
    def _check(self) -> LinkSpec:
        a, b = self.endpoints
        if a == b:
            raise ValueError(f"endpoints must differ (got {a!r} twice)")
        if self.kind == "free_space" and self.free_space is None:
            object.__setattr__(self, "free_space", FreeSpaceSpec())
        return self


class PurificationSpec(StrictModel):
    """Entanglement purification applied to elementary links before swapping.

    ``protocol: circuit`` applies a purification circuit (``qnetai optimise purification
    --out``), given inline (``circuit``) or as a JSON file (``circuit_file``), once per round.
    """

    protocol: PurificationProtocol = "none"
    rounds: Annotated[int, Field(ge=0, le=5)] = 1
    circuit: dict[str, Any] | None = Field(None, description="inline circuit (protocol circuit)")
    circuit_file: str | None = Field(None, description="circuit JSON file (protocol circuit)")

    @model_validator(mode="after")
    def _circuit_source(self) -> PurificationSpec:
        given = (self.circuit is not None) + (self.circuit_file is not None)
        if self.protocol == "circuit" and given != 1:
            raise ValueError("protocol 'circuit' needs exactly one of circuit, circuit_file")
        if self.protocol != "circuit" and given:
            raise ValueError("circuit / circuit_file need protocol 'circuit'")
        return self


class SwappingSpec(StrictModel):
    """The entanglement-swapping control protocol (which pairs: ``swapping_policy``).

    ``confirm: false`` (default): a node swaps as soon as it holds the two pairs its schedule
    picks; every remote fact it acts on has already arrived over the fibre, but it does not ask
    whether the far ends still hold their halves. Nothing is spent on signalling; a pair whose
    far end was discarded meanwhile (a cut-off, news of a failed swap) is swapped anyway and
    the result is lost downstream.

    ``confirm: true``: before each swap the node asks both partner nodes (the far ends of
    its two pairs) whether they still hold their memories, and swaps only after both replies:
    one round trip to the farther partner, in parallel, i.e. 2, 4, 8 ... link delays at
    nesting levels 1, 2, 3 ... The node's two memories and the far ends stay held meanwhile,
    so end-to-end pairs come slower, about ``pairs * C / (C + 2 (2**L - 1) tau)`` for an end
    memory cycle ``C``, ``L`` nesting levels and link delay ``tau``. A refused confirmation
    (the pair was cut off, or its far end already heard that a swap inside it failed)
    releases the local memory and returns the other pair to the store, so a good pair is not
    spent on a lost one: with cut-offs or failing swaps the outcome changes. This is the
    protocol of SeQUeNCe's rule-based resource manager (``es_rule_action_A``).

    Example:
        >>> SwappingSpec(confirm=True).confirm
        True
    """

    confirm: bool = Field(
        False,
        description="confirm with both partner nodes (one classical round trip) before each "
        "swap; a refused confirmation releases the memory (SeQUeNCe's protocol)",
    )


class OperationsSpec(StrictModel):
    """Local operations at the nodes."""

    swap_gate_fidelity: Probability = Field(1.0, description="two-qubit gate depolarising fidelity")
    measurement_error: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    swap_success_probability: Probability = 1.0
    swapping_policy: SwappingPolicy = "swap_asap"
    swapping: SwappingSpec = Field(
        SwappingSpec(), description="swapping control protocol (confirm before swapping)"
    )
    purification: PurificationSpec = PurificationSpec()
    cutoff_s: PositiveFloat | None = Field(None, description="discard pairs stored longer")


class ClassicalSpec(StrictModel):
    """Classical communication: fibre delay from distance plus processing."""

    speed_km_per_s: PositiveFloat = Field(2.0e5, description="speed of light in fibre")
    processing_delay_s: NonNegativeFloat = 0.0


class ArrivalSpec(StrictModel):
    """When requests of a flow arrive."""

    process: ArrivalProcess = "poisson"
    rate_hz: PositiveFloat = 10.0
    start_s: NonNegativeFloat = 0.0


class RequestSpec(StrictModel):
    """A flow of entanglement requests between two named nodes."""

    source: str
    destination: str
    count: Annotated[int, Field(ge=1, le=10_000_000)] = 1
    pairs_per_request: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    arrival: ArrivalSpec = ArrivalSpec()
    min_fidelity: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    timeout_s: PositiveFloat | None = Field(None, description="drop a request not served by then")
    memories: Annotated[int, Field(ge=1, le=100_000)] = Field(
        1,
        description="memory qubits reserved per node side along the path (end nodes reserve "
        "this many, intermediate nodes twice; doubled with purification) and pooled",
    )

    @model_validator(mode="after")
    def _distinct(self) -> RequestSpec:
        if self.source == self.destination:
            raise ValueError(f"source and destination must differ (got {self.source!r})")
        return self


class RandomTrafficSpec(StrictModel):
    """Requests between random pairs of nodes of the given kinds."""

    count: Annotated[int, Field(ge=1, le=10_000_000)] = 100
    rate_hz: PositiveFloat = 100.0
    node_kinds: tuple[NodeKind, ...] = ("end_user", "qkd_terminal", "ground_station")
    min_fidelity: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    pairs_per_request: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    timeout_s: PositiveFloat | None = None
    memories: Annotated[int, Field(ge=1, le=100_000)] = Field(
        1, description="memory qubits reserved per node side along the path (see RequestSpec)"
    )


class TrafficSpec(StrictModel):
    """Explicit request flows and/or random traffic."""

    requests: list[RequestSpec] = []
    random: RandomTrafficSpec | None = None


class ControllerSpec(StrictModel):
    """The routing and allocation policy, by name (see ``qnetai.control``)."""

    routing: str = Field("shortest-path", min_length=1)
    path_metric: Literal["hops", "length_km"] = "hops"
    max_concurrent_requests: Annotated[int, Field(ge=1)] | None = None
    memory_allocation: str | None = Field(
        None,
        min_length=1,
        description="memory allocator (fcfs, static-partition, ...; None: first come, first "
        "served), see qnetai.control.memory_allocation",
    )
    memory_allocation_options: dict[str, Any] = Field(
        default_factory=dict, description="options of the allocator, e.g. shares, memories"
    )


class VerificationSpec(StrictModel):
    """Verification inside the simulator: spend delivered pairs on fidelity estimates.

    A random ``fraction`` of the end-to-end pairs delivered to each user pair, and of the
    pairs heralded on each link, is measured with local Pauli settings (one shot per pair,
    see :func:`qnetai.tomography.verify_pairs`); the run reports the estimates with their
    intervals next to the true mean fidelities. Verified end-to-end pairs are not given to
    the application (``pairs_to_application = pairs_delivered - pairs_verified``).
    With ``feed_controllers``, routing policies that read link fidelities get estimates from
    ``calibration_pairs`` pairs per link measured before the run instead of the truth.
    """

    fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.05, description="fraction of delivered (and heralded link) pairs measured, (0, 1]"
    )
    readout_error: Annotated[float, Field(ge=0.0, lt=0.5)] = Field(
        0.0, description="symmetric readout flip probability per qubit, [0, 0.5)"
    )
    confidence: Annotated[float, Field(gt=0.5, lt=1.0)] = Field(
        0.95, description="two-sided coverage of the reported intervals, (0.5, 1)"
    )
    feed_controllers: bool = Field(
        False, description="routing policies read estimated link fidelities instead of truth"
    )
    calibration_pairs: Annotated[int, Field(ge=2, le=10_000_000)] = Field(
        1000, description="pairs measured per link before the run (feed_controllers), >= 2"
    )


class TopologySpec(StrictModel):
    """A generated topology; ``node`` and ``link`` give the defaults of its elements."""

    builder: TopologyBuilder
    nodes: Annotated[int, Field(ge=2, le=1_000_000)] = 5
    spacing_km: PositiveFloat = Field(20.0, description="line/ring/star/grid edge length")
    rows: Annotated[int, Field(ge=1)] | None = None
    area_km: PositiveFloat = Field(100.0, description="waxman: side of the square area")
    waxman_alpha: PositiveFloat = 0.4
    waxman_beta: Annotated[float, Field(gt=0.0, le=1.0)] = 0.2
    seed: Annotated[int, Field(ge=0, lt=MAX_SEED)] | None = Field(
        None, description="builder seed (default: the scenario seed)"
    )
    end_user_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0, description="share of nodes made end users (line: always the two ends)"
    )
    node: NodeSpec | None = Field(None, description="default node; its name is a prefix")
    link: LinkSpec | None = Field(None, description="default link (its endpoints are ignored)")

    @model_validator(mode="before")
    @classmethod
    def _template_placeholders(cls, data: Any) -> Any:
        """Let the templates omit what the builder sets: ``node.name`` and ``link.endpoints``."""
        if isinstance(data, dict):
            node, link = data.get("node"), data.get("link")
            if isinstance(node, dict) and "name" not in node:
                data = {**data, "node": {**node, "name": "n"}}
            if isinstance(link, dict) and "endpoints" not in link:
                data = {**data, "link": {**link, "endpoints": ("a", "b")}}
        return data


QKDMode = Literal["analytic", "simulate"]
QKDDecoys = Literal["vacuum-weak", "infinite"]
#: The built-in reconciliation methods by name: the one list of names. The QKD layer's table
#: (:data:`qnetai.qkd.reconciliation.BUILTIN_RECONCILIATION`) is keyed by exactly these, and
#: the CLI help derives from it (config sits below qkd, so the names live here).
QKDReconciliation = Literal["cascade", "cascade-option7", "cascade-original", "ldpc"]
RECONCILIATION_METHODS: tuple[str, ...] = get_args(QKDReconciliation)
RelayArrival = Literal["poisson", "periodic"]


class QKDReceiverSpec(StrictModel):
    """Bob's receiver on a prepare-and-measure QKD link (threshold detectors)."""

    eta_bob: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.1, description="detection efficiency of Bob's apparatus, optics included"
    )
    dark_count_probability: Annotated[float, Field(ge=0.0, lt=0.25)] = Field(
        1e-6, description="per detector per pulse (the apparatus has two detectors)"
    )
    afterpulse_probability: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.005
    e_detector: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.01, description="misalignment error probability of a detected photon"
    )


class QKDSimulateSpec(StrictModel):
    """Pulse-level mode: blocks of pulses run through :func:`qnetai.qkd.pipeline.run_bb84`."""

    block_pulses: Annotated[int, Field(ge=10_000, le=100_000_000)] = Field(
        1_000_000, description="pulses per simulated block (one key chunk per block)"
    )
    blocks: Annotated[int, Field(ge=1, le=1000)] = Field(
        2, description="blocks simulated per link; their key lengths repeat over time"
    )
    reconciliation: QKDReconciliation = "cascade"


class RelayRequestSpec(StrictModel):
    """A flow of end-to-end key requests between two users, served by trusted-node relay."""

    source: str = Field(min_length=1)
    destination: str = Field(min_length=1)
    key_bits: Annotated[int, Field(ge=1, le=1_000_000_000)] = Field(
        256, description="key size per request (bits taken from every hop's pool)"
    )
    rate_hz: PositiveFloat = Field(10.0, description="request rate")
    process: RelayArrival = "poisson"
    start_s: NonNegativeFloat = 0.0
    count: Annotated[int, Field(ge=1, le=10_000_000)] | None = Field(
        None, description="number of requests (None: until the end of the run)"
    )
    max_wait_s: PositiveFloat | None = Field(
        None, description="a request waiting longer is blocked (None: waits to the end)"
    )

    @model_validator(mode="after")
    def _distinct(self) -> RelayRequestSpec:
        if self.source == self.destination:
            raise ValueError(f"source and destination must differ (got {self.source!r})")
        return self


class QKDRelaySpec(StrictModel):
    """Trusted-node key relay over the QKD links (hop-by-hop one-time pad)."""

    requests: list[RelayRequestSpec] = []
    path_metric: Literal["hops", "length_km"] = Field(
        "hops", description="shortest path in the subgraph of QKD links by this metric"
    )


class EntanglementQKDSpec(StrictModel):
    """BBM92 measurement of the end-to-end pairs the simulator delivers."""

    enabled: bool = True
    p_z: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.5, description="probability of the Z basis at each end (0.5: standard sifting)"
    )
    f_ec: Annotated[float, Field(ge=1.0, le=2.0)] = Field(
        1.0, description="error-correction inefficiency (1: the 1 - 2 h2(QBER) limit)"
    )
    pairs: list[tuple[str, str]] = Field(
        [], description="user pairs to report (unordered); empty: every pair with deliveries"
    )


#: Attack families an incident may inject (the names of :data:`qnetai.qkd.attacks.ATTACKS`).
IncidentAttack = Literal["intercept-resend", "pns", "blinding", "trojan-horse", "time-shift"]
#: Faults an incident may inject on a prepare-and-measure QKD link.
IncidentFault = Literal["detector-decay", "fibre-loss"]


class IncidentSpec(StrictModel):
    """An attack or a fault injected on one QKD link from ``start_s`` (to ``end_s``).

    ``kind: attack`` needs ``family`` and ``strength`` (fraction of pulses attacked);
    ``kind: fault`` needs ``fault`` and ``severity`` (detector-decay: relative efficiency
    loss in (0, 1); fibre-loss: extra dB).
    """

    kind: Literal["attack", "fault"]
    link: str = Field(min_length=1, description="a QKD link's name (qkd: true)")
    start_s: NonNegativeFloat = Field(description="when the incident starts (s)")
    end_s: PositiveFloat | None = Field(None, description="when it stops (None: never)")
    family: IncidentAttack | None = None
    strength: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    fault: IncidentFault | None = None
    severity: PositiveFloat | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> IncidentSpec:
        if self.kind == "attack":
            if self.family is None or self.strength is None:
                raise ValueError("an attack needs family and strength")
            if self.fault is not None or self.severity is not None:
                raise ValueError("an attack takes no fault or severity (those are for faults)")
        else:
            if self.fault is None or self.severity is None:
                raise ValueError("a fault needs fault and severity")
            if self.family is not None or self.strength is not None:
                raise ValueError("a fault takes no family or strength (those are for attacks)")
            if self.fault == "detector-decay" and not self.severity < 1.0:
                raise ValueError(f"detector-decay severity must be < 1 (got {self.severity})")
        if self.end_s is not None and not self.end_s > self.start_s:
            raise ValueError(f"end_s={self.end_s} must be > start_s={self.start_s}")
        return self


class MonitoringSpec(StrictModel):
    """Per-block telemetry of every QKD link watched by a detector that raises alerts."""

    detector: Literal["cusum", "qber-threshold"] = Field(
        "cusum", description="cusum: drift of several statistics; qber-threshold: 11 % rule"
    )
    blocks: Annotated[int, Field(ge=10, le=1000)] = Field(
        80, description="monitoring blocks over the run, per link"
    )
    block_pulses: Annotated[int, Field(ge=10_000, le=10_000_000)] = Field(
        100_000, description="pulses simulated per block (a sample of the block's pulses)"
    )
    calibration_blocks: Annotated[int, Field(ge=5, le=1000)] = Field(
        40, description="honest blocks per link that calibrate its detector"
    )
    cusum_drift: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.75, description="CUSUM allowance per block, in honest standard deviations"
    )
    cusum_threshold: Annotated[float, Field(gt=0.0, le=100.0)] = Field(
        12.0, description="alarm when the standardised CUSUM exceeds this"
    )


class QKDNetworkSpec(StrictModel):
    """QKD on the network: link key pools, trusted-node relay, entanglement-based QKD."""

    enabled: bool = True
    mode: QKDMode = Field(
        "analytic", description="analytic: optimised decoy-BB84 rate; simulate: pulse level"
    )
    pulse_rate_hz: PositiveFloat = Field(1.0e9, description="QKD transmitter pulse rate")
    decoys: QKDDecoys = "vacuum-weak"
    mu: PositiveFloat | None = Field(None, description="signal intensity (None: optimised)")
    nu: PositiveFloat | None = Field(
        0.05, description="weak-decoy intensity (vacuum-weak; None: optimised with mu)"
    )
    finite_key: bool = Field(False, description="analytic: Lim et al. 2014 finite-key rate")
    block_size: Annotated[float, Field(ge=1e4, le=1e15)] = Field(
        1e10, description="pulses per finite-key block"
    )
    f_ec: Annotated[float, Field(ge=1.0, le=2.0)] = 1.16
    receiver: QKDReceiverSpec = QKDReceiverSpec()
    simulate: QKDSimulateSpec = QKDSimulateSpec()
    pool_capacity_bits: Annotated[int, Field(ge=1)] = Field(
        100_000_000, description="key pool size per link; surplus key is discarded"
    )
    initial_pool_bits: Annotated[int, Field(ge=0)] = 0
    time_step_s: PositiveFloat = Field(1e-3, description="relay scheduling step")
    record_interval_s: PositiveFloat = Field(0.01, description="pool-level sampling interval")
    relay: QKDRelaySpec = QKDRelaySpec()
    entanglement: EntanglementQKDSpec = EntanglementQKDSpec()

    @model_validator(mode="after")
    def _check(self) -> QKDNetworkSpec:
        if self.initial_pool_bits > self.pool_capacity_bits:
            raise ValueError(
                f"initial_pool_bits={self.initial_pool_bits} > "
                f"pool_capacity_bits={self.pool_capacity_bits}"
            )
        if self.mu is not None and self.nu is not None and not self.nu < self.mu:
            raise ValueError(f"nu must be < mu (got mu={self.mu}, nu={self.nu})")
        if self.record_interval_s < self.time_step_s:
            raise ValueError(
                f"record_interval_s={self.record_interval_s} < time_step_s={self.time_step_s}"
            )
        return self


class Scenario(StrictModel):
    """A whole simulation: network, operations, traffic, controller, duration and seed."""

    name: str = "scenario"
    description: str = ""
    seed: int = Field(0, ge=0, lt=MAX_SEED, description="random seed in [0, 2**63)")
    duration_s: PositiveFloat = 1.0
    topology: TopologySpec | None = None
    nodes: list[NodeSpec] = []
    links: list[LinkSpec] = []
    operations: OperationsSpec = OperationsSpec()
    classical: ClassicalSpec = ClassicalSpec()
    traffic: TrafficSpec = TrafficSpec()
    controller: ControllerSpec = ControllerSpec()
    qkd: QKDNetworkSpec = QKDNetworkSpec()
    incidents: list[IncidentSpec] = Field(
        [], description="attacks and faults injected on QKD links (monitoring raises alerts)"
    )
    monitoring: MonitoringSpec | None = Field(
        None, description="QKD link monitoring and alerts (None: on only with incidents)"
    )
    verification: VerificationSpec | None = Field(
        None, description="spend delivered pairs on fidelity estimates (None: off)"
    )
