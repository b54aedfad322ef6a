import itertools
import math

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.bbm92 import bbm92_gain_qber, bbm92_rate
from qnetai.qkd.channel import GYS


def _enumerate(mu, eta_a, eta_b, y0_a, y0_b, statistics, n_max=120):
    """Direct sum over pair numbers and click patterns (independent reference)."""
    d_a = 1 - math.sqrt(1 - y0_a)  # per-detector dark-count probability
    d_b = 1 - math.sqrt(1 - y0_b)
    n = np.arange(n_max)
    if statistics == "thermal":
        lam = mu / 2
        p = lam**n / (1 + lam) ** (n + 1)
    else:
        p = np.array([math.exp(-mu / 2) * (mu / 2) ** k / math.factorial(k) for k in n])
    gain = err = 0.0
    for n1, n2 in itertools.product(range(n_max), repeat=2):
        w = p[n1] * p[n2]
        if w < 1e-18:
            continue
        c = {  # click probabilities: AH, AV (Alice), BV, BH (Bob); AH<->BV, AV<->BH pairs
            "AH": 1 - (1 - d_a) * (1 - eta_a) ** n1,
            "AV": 1 - (1 - d_a) * (1 - eta_a) ** n2,
            "BV": 1 - (1 - d_b) * (1 - eta_b) ** n1,
            "BH": 1 - (1 - d_b) * (1 - eta_b) ** n2,
        }
        for pattern in itertools.product((0, 1), repeat=4):
            clicks = dict(zip(("AH", "AV", "BV", "BH"), pattern, strict=True))
            pr = w
            for k, v in clicks.items():
                pr *= c[k] if v else 1 - c[k]
            if not (clicks["AH"] or clicks["AV"]) or not (clicks["BV"] or clicks["BH"]):
                continue
            a0 = 0.5 if clicks["AH"] and clicks["AV"] else float(clicks["AH"])  # P(alice bit 0)
            b0 = 0.5 if clicks["BV"] and clicks["BH"] else float(clicks["BV"])
            gain += pr
            err += pr * (a0 * (1 - b0) + (1 - a0) * b0)
    return gain, err / gain


@pytest.mark.parametrize("statistics", ["thermal", "poisson"])
def test_gain_and_qber_match_direct_enumeration(statistics):
    args = dict(mu=0.3, eta_a=0.3, eta_b=0.1, y0_a=1e-3, y0_b=3e-3)
    q_ref, e_ref = _enumerate(statistics=statistics, n_max=40, **args)
    q, e = bbm92_gain_qber(e_detector=0.0, statistics=statistics, **args)
    assert float(q) == pytest.approx(q_ref, rel=1e-9)
    assert float(e) == pytest.approx(e_ref, rel=1e-9)


def test_misalignment_enters_linearly_and_rate_behaves():
    base = dict(mu=0.05, eta_a=0.01, eta_b=0.01, y0_a=1e-6, y0_b=1e-6)
    q0, e0 = bbm92_gain_qber(e_detector=0.0, **base)
    q1, e1 = bbm92_gain_qber(e_detector=0.02, **base)
    _q2, e2 = bbm92_gain_qber(e_detector=0.04, **base)
    assert float(q0) == float(q1)
    assert float(e2 - e1) == pytest.approx(float(e1 - e0), rel=1e-9)
    d = np.arange(0.0, 120.0, 10.0)
    r = bbm92_rate(d / 2, d / 2, mu=0.05)
    assert np.all(np.diff(r.key_rate_per_pulse) <= 0)
    assert np.all(r.key_rate_per_pulse <= r.plob_bound)
    assert np.all(r.eta == pytest.approx(GYS.transmittance(d / 2) ** 2))
    with pytest.raises(InputError, match="mu"):
        bbm92_gain_qber(mu=-1.0, **{k: v for k, v in base.items() if k != "mu"}, e_detector=0.0)
