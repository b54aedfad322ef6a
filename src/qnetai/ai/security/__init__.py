"""AI security monitoring of QKD links: data sets, attack detectors, baselines, benchmark.

* :mod:`~qnetai.ai.security.datasets`: labelled per-block telemetry from the simulator;
* :mod:`~qnetai.ai.security.detectors`: supervised, one-class and CUSUM detectors
  (scikit-learn estimators);
* :mod:`~qnetai.ai.security.changepoint`: the learned change-point detector over a link's
  block stream;
* :mod:`~qnetai.ai.security.baselines`: the QBER abort rule and the decoy consistency check;
* :mod:`~qnetai.ai.security.benchmark`: ``qnetai bench security``.
* :mod:`~qnetai.ai.security.alerts`: alerts of ``qnetai run`` (incidents, monitoring).

Nothing is imported eagerly beyond this docstring's modules' names; import the submodules.
"""

__all__ = ["alerts", "baselines", "benchmark", "changepoint", "datasets", "detectors"]
