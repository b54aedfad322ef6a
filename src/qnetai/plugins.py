"""Routing and slot policies by name: built-ins, learned models and the user's own, per call.

This is where a policy *name* becomes a policy *object* (the engine and the benchmark take
objects only). Nothing here is global or mutable: every call builds the table it searches,
so passing your own policies to one call leaves every later call unaffected (as sinter's
``custom_decoders=``). A name is looked up in this order:

1. ``custom``: the caller's own ``{name: policy or factory}`` for this call (it may shadow a
   built-in name, on purpose);
2. the built-ins (:func:`qnetai.control.builtin_routing_policies`,
   :func:`qnetai.control.builtin_slot_policies`, plus ``ls-rl`` for the slotted model);
3. ``rl:NAME`` / ``rl:PATH``: a learned routing scorer (:mod:`qnetai.ai`, inert
   ``MODEL.npz`` + ``MODEL.json``);
4. ``"pkg.module:Attr"``: an import path to a class or factory (``Attr`` may be dotted), so a
   scenario file can say ``controller.routing: "mypackage.policies:MyPolicy"``. Importing a
   module runs its code, and a scenario file is data that may come from anyone, so a name
   that comes from a file is imported only with the caller's consent
   (``allow_import_paths=True``; ``--allow-plugins`` on the command line); otherwise it is
   refused with an InputError before anything is imported;
5. an entry point of the group :data:`ROUTING_ENTRY_POINT_GROUP` (``qnetai.routing_policies``)
   or :data:`SLOT_ENTRY_POINT_GROUP` (``qnetai.slot_policies``) of an installed package.

A factory (a class or a function) is called with the ``options`` its signature names (all of
them if it takes ``**kwargs``): the scenario's ``controller.path_metric`` reaches a
``metric`` parameter, and a factory without one is built without it. An object that already
has ``choose_path`` (or ``allocate``) is used as given. Whatever goes wrong (an import error,
a missing attribute, a factory that raises, an object without the policy methods) is an
:class:`~qnetai.errors.InputError` that names the plug-in and the reason; nothing falls back
to another policy.

Example:
    >>> routing_policy("q-cast", options={"metric": "hops"}).name
    'q-cast'
    >>> class Direct:
    ...     name = "direct"
    ...     def choose_path(self, graph, source, destination, *, state):
    ...         return [source, destination]
    >>> routing_policy("direct", custom={"direct": Direct}).name
    'direct'
    >>> "direct" in available_routing_policies()
    False
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any

from qnetai.errors import InputError

if TYPE_CHECKING:
    from qnetai.control.slotted_policies import SlotPolicy
    from qnetai.sim.allocation import MemoryAllocator
    from qnetai.sim.routing import RoutingPolicy

#: Entry-point group of installed packages' engine routing policies.
ROUTING_ENTRY_POINT_GROUP = "qnetai.routing_policies"
#: Entry-point group of installed packages' slot (Q-CAST model) policies.
SLOT_ENTRY_POINT_GROUP = "qnetai.slot_policies"

_IMPORT_PATH = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")


def is_import_path(name: str) -> bool:
    """Whether ``name`` has the form ``pkg.module:Attr`` (and is not an ``rl:`` name).

    Example:
        >>> is_import_path("mypkg.policies:MyPolicy"), is_import_path("rl:waxman-routing")
        (True, False)
    """
    return (
        isinstance(name, str) and not name.startswith("rl:") and bool(_IMPORT_PATH.fullmatch(name))
    )


# ----------------------------------------------------------------------------- tables


def _builtin_routing() -> dict[str, Callable[..., Any]]:
    from qnetai.control.policy import builtin_routing_policies

    return builtin_routing_policies()


def _ls_rl(**options: Any) -> Any:
    from qnetai.ai.learned_slot import LearnedWarmLocalSearch

    return LearnedWarmLocalSearch(**options)


def _builtin_slot() -> dict[str, Callable[..., Any]]:
    from qnetai.control.slotted_policies import builtin_slot_policies

    return {**builtin_slot_policies(), "ls-rl": _ls_rl}


def _entry_points(group: str) -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=group)}


def available_routing_policies(custom: Mapping[str, Any] | None = None) -> list[str]:
    """Names :func:`routing_policy` resolves now (besides ``rl:`` and import paths), sorted.

    Example:
        >>> available_routing_policies(custom={"mine": object})[:4]
        ['cma', 'de', 'ga', 'max-fidelity']
    """
    names = set(_builtin_routing()) | set(_entry_points(ROUTING_ENTRY_POINT_GROUP))
    return sorted(names | set(custom or {}))


def available_slot_policies(custom: Mapping[str, Any] | None = None) -> list[str]:
    """Names :func:`slot_policy` resolves now (besides ``rl:`` and import paths), sorted.

    Example:
        >>> "ls" in available_slot_policies() and "ls-rl" in available_slot_policies()
        True
    """
    names = set(_builtin_slot()) | set(_entry_points(SLOT_ENTRY_POINT_GROUP))
    return sorted(names | set(custom or {}))


# ----------------------------------------------------------------------------- building


def _load_import_path(name: str, *, field: str) -> Any:
    """The attribute ``Attr`` of module ``pkg.module`` named by ``pkg.module:Attr``."""
    module_name, _, attr = name.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise InputError(
            f"{field}: plug-in {name!r} could not be loaded: importing {module_name!r} failed "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(
                f"{field}: plug-in {name!r} could not be loaded: {module_name!r} has no "
                f"attribute {attr!r}"
            )
        obj = getattr(obj, part)
    return obj


def _load_entry_point(ep: metadata.EntryPoint, *, field: str) -> Any:
    try:
        return ep.load()
    except Exception as exc:
        raise InputError(
            f"{field}: plug-in {ep.name!r} (entry point {ep.value!r} of group {ep.group!r}) "
            f"could not be loaded ({type(exc).__name__}: {exc})"
        ) from exc


def _accepted(factory: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The options ``factory``'s signature names (all of them with ``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some builtins): pass them all
        return dict(options)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(options)
    names = {
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return {k: v for k, v in options.items() if k in names}


def _instantiate(
    name: str, obj: Any, options: Mapping[str, Any], *, method: str, field: str
) -> Any:
    """``obj`` if it is a policy already, else ``obj(**accepted options)``, checked."""
    if not (callable(getattr(obj, method, None)) and not inspect.isclass(obj)):
        if not callable(obj):
            raise InputError(
                f"{field}: plug-in {name!r} is neither a policy (an object with {method}(...)) "
                f"nor a class or factory that builds one (got {type(obj).__name__})"
            )
        try:
            obj = obj(**_accepted(obj, options))
        except InputError as exc:
            raise InputError(f"{field}: plug-in {name!r} refused its options: {exc}") from exc
        except Exception as exc:
            raise InputError(
                f"{field}: plug-in {name!r} could not be built ({type(exc).__name__}: {exc})"
            ) from exc
    if not callable(getattr(obj, method, None)):
        raise InputError(
            f"{field}: plug-in {name!r} built a {type(obj).__name__} without a {method}(...) "
            "method, so it is not a policy"
        )
    if not isinstance(getattr(obj, "name", None), str):
        raise InputError(
            f"{field}: plug-in {name!r} built a {type(obj).__name__} without a 'name' string "
            "attribute (policies name themselves in results and errors)"
        )
    return obj


def _resolve(
    name: str,
    *,
    options: Mapping[str, Any] | None,
    custom: Mapping[str, Any] | None,
    builtins: Callable[[], dict[str, Callable[..., Any]]],
    learned: Callable[[str, Mapping[str, Any]], Any],
    group: str,
    method: str,
    field: str,
    build: bool,
    allow_import_paths: bool = True,
) -> Any:
    if not isinstance(name, str) or not name:
        raise InputError(f"{field} must be a non-empty policy name (got {name!r})")
    opts = dict(options or {})
    if custom and name in custom:
        obj = custom[name]
        return _instantiate(name, obj, opts, method=method, field=field) if build else None
    table = builtins()
    if name in table:
        if not build:
            return None
        try:
            return table[name](**opts)
        except TypeError as exc:  # reported, not swallowed: the options do not fit
            raise InputError(
                f"{field}: policy {name!r} cannot take options {opts} ({exc})"
            ) from exc
    if name.startswith("rl:"):
        if len(name) == 3:
            raise InputError(f"{field}: rl: needs a model name or path after 'rl:'")
        return learned(name[3:], opts) if build else _check_learned(name[3:])
    if is_import_path(name):
        if not allow_import_paths:
            raise InputError(
                f"{field}: {name!r} is an import-path plug-in; importing it runs that module's "
                "code, so it is imported only if you trust it: pass --allow-plugins "
                "(allow_plugins=True / allow_import_paths=True)"
            )
        obj = _load_import_path(name, field=field)
        return _instantiate(name, obj, opts, method=method, field=field) if build else None
    eps = _entry_points(group)
    if name in eps:
        obj = _load_entry_point(eps[name], field=field)
        return _instantiate(name, obj, opts, method=method, field=field) if build else None
    known = sorted(set(table) | set(eps) | set(custom or {}))
    raise InputError(
        f"{field} must be one of {', '.join(known)}, rl:NAME (a shipped model), rl:PATH, "
        f"an import path 'pkg.module:Class' or an entry point of group {group!r} "
        f"(unknown policy {name!r})"
    )


def _check_learned(ref: str) -> None:
    from qnetai.control.model_files import routing_model_files

    routing_model_files(ref)


def _ai_module(module: str, ref: str, field: str) -> Any:
    from qnetai._optional import MissingExtraError

    try:
        return importlib.import_module(module)
    except (MissingExtraError, ImportError) as exc:
        raise InputError(
            f"{field}: rl:{ref} needs the [ai] extra (pip install 'qnetai[ai]'): {exc}"
        ) from exc


def _learned_routing(ref: str, options: Mapping[str, Any]) -> Any:
    _check_learned(ref)  # the model files, before any [ai] import
    mod = _ai_module("qnetai.ai.engine_rl", ref, "controller.routing")
    return mod.LearnedRoutingPolicy(ref, **_accepted(mod.LearnedRoutingPolicy, options))


def _learned_slot(ref: str, options: Mapping[str, Any]) -> Any:
    mod = _ai_module("qnetai.ai.agents", ref, "method")
    return mod.load_routing_policy(ref, **options)


def routing_policy(
    name: str,
    *,
    options: Mapping[str, Any] | None = None,
    custom: Mapping[str, Any] | None = None,
    allow_import_paths: bool = True,
) -> RoutingPolicy:
    """A fresh engine :class:`~qnetai.sim.routing.RoutingPolicy` by name (see module doc).

    ``options`` go to the factory (built-ins take ``metric``; the EXT ones also ``k``);
    ``custom`` maps names to the caller's own policies or factories, for this call only;
    ``allow_import_paths=False`` refuses ``pkg.module:Class`` names (for names read from a
    file the caller has not vouched for).

    Example:
        >>> routing_policy("shortest-path", options={"metric": "length_km"}).metric
        'length_km'
    """
    return _resolve(
        name,
        options=options,
        custom=custom,
        builtins=_builtin_routing,
        learned=_learned_routing,
        group=ROUTING_ENTRY_POINT_GROUP,
        method="choose_path",
        field="controller.routing",
        build=True,
        allow_import_paths=allow_import_paths,
    )


def check_routing_policy(
    name: str, *, custom: Mapping[str, Any] | None = None, allow_import_paths: bool = True
) -> None:
    """Raise :func:`routing_policy`'s InputError for ``name`` without building a policy.

    Learned ``rl:`` names are checked by reading their model files (no torch import); an
    import path or entry point is loaded (importing the user's module), not instantiated.

    Example:
        >>> check_routing_policy("q-cast")
    """
    _resolve(
        name,
        options=None,
        custom=custom,
        builtins=_builtin_routing,
        learned=_learned_routing,
        group=ROUTING_ENTRY_POINT_GROUP,
        method="choose_path",
        field="controller.routing",
        build=False,
        allow_import_paths=allow_import_paths,
    )


def slot_policy(
    name: str,
    *,
    options: Mapping[str, Any] | None = None,
    custom: Mapping[str, Any] | None = None,
) -> SlotPolicy:
    """A fresh :class:`~qnetai.control.slotted_policies.SlotPolicy` by name (see module doc).

    Example:
        >>> slot_policy("milp", options={"k": 3}).k
        3
    """
    return _resolve(
        name,
        options=options,
        custom=custom,
        builtins=_builtin_slot,
        learned=_learned_slot,
        group=SLOT_ENTRY_POINT_GROUP,
        method="allocate",
        field="method",
        build=True,
    )


#: Entry-point group of installed packages' memory allocators.
ALLOCATOR_ENTRY_POINT_GROUP = "qnetai.memory_allocators"


def _builtin_allocators() -> dict[str, Callable[..., Any]]:
    from qnetai.control.memory_allocation import builtin_allocators

    return dict(builtin_allocators())


def _no_learned_allocator(ref: str, options: Mapping[str, Any]) -> Any:
    raise InputError(
        f"controller.memory_allocation: there are no learned allocators (got rl:{ref}); use "
        "static-partition with shares from qnetai.control.memory_allocation.optimise_partition"
    )


def memory_allocator(
    name: str,
    *,
    options: Mapping[str, Any] | None = None,
    custom: Mapping[str, Any] | None = None,
    allow_import_paths: bool = True,
) -> MemoryAllocator:
    """A fresh engine memory allocator (:mod:`qnetai.sim.allocation`) by name.

    Built-ins ``fcfs`` and ``static-partition`` (options ``shares``, ``memories``,
    ``default_share``), the caller's ``custom`` ones, an import path or an entry point of
    group :data:`ALLOCATOR_ENTRY_POINT_GROUP`; errors name ``controller.memory_allocation``.

    Example:
        >>> memory_allocator("static-partition", options={"shares": {"A->B": 0.5}}).name
        'static-partition'
    """
    return _resolve(
        name,
        options=options,
        custom=custom,
        builtins=_builtin_allocators,
        learned=_no_learned_allocator,
        group=ALLOCATOR_ENTRY_POINT_GROUP,
        method="admit",
        field="controller.memory_allocation",
        build=True,
        allow_import_paths=allow_import_paths,
    )


def bench_routing(
    *,
    methods: list[str] | tuple[str, ...] | None = None,
    custom: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`qnetai.control.slotted_bench.run_benchmark` with every method resolved here.

    ``methods`` are names for :func:`slot_policy` (default:
    :data:`~qnetai.control.slotted_bench.DEFAULT_METHODS`), ``custom`` the caller's own slot
    policies; the other keywords go to ``run_benchmark``.

    Example:
        >>> out = bench_routing(methods=["q-cast"], nodes=12, requests=2, slots=1, seeds=[0],
        ...                     milp_reference=False)
        >>> out["rows"][0]["method"]
        'q-cast'
    """
    from qnetai.control.slotted_bench import DEFAULT_METHODS, run_benchmark

    chosen = list(methods) if methods else list(DEFAULT_METHODS)
    if not chosen:
        raise InputError("methods must list at least one method")
    policies = {m: slot_policy(m, custom=custom) for m in chosen}
    return run_benchmark(methods=chosen, policies=policies, **kwargs)


__all__ = [
    "ALLOCATOR_ENTRY_POINT_GROUP",
    "ROUTING_ENTRY_POINT_GROUP",
    "SLOT_ENTRY_POINT_GROUP",
    "available_routing_policies",
    "available_slot_policies",
    "bench_routing",
    "check_routing_policy",
    "is_import_path",
    "memory_allocator",
    "routing_policy",
    "slot_policy",
]
