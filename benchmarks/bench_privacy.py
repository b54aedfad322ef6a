"""Privacy amplification throughput: Toeplitz (FFT) vs multiply-add-shift (GMP), one core.

Usage: .venv/bin/python benchmarks/bench_privacy.py [repeats]   (default 7; about 1 min)

Output length = input / 2. Figures are input bits / CPU seconds (time.process_time, best and
median of the repeats; the machine is shared), single-threaded (``workers=1``). Rows:

* Toeplitz, cached seed spectrum: ``ToeplitzHasher`` built once, then hashing only;
* Toeplitz, fresh seed: ``toeplitz_hash`` with a new seed each time (seed FFT included; the
  seed bits are drawn beforehand, as in earlier figures);
* multiply-add-shift, fresh seed: ``MultiplyAddShiftHasher.from_rng`` (drawing the 2W-bit seed
  as bytes) plus the hash, i.e. everything Alice does per block;
* ``privacy_amplify(family=...)``: the public function end to end (seed drawn and returned as a
  bit array).

Every multiply-add-shift result is compared between an "Alice" and a "Bob" hasher built from the
same seed bits (bit-exact), and the Toeplitz results are checked by the hasher itself.
"""

import argparse
import os
import time

import numpy as np

from qnetai.qkd.multiply_add_shift import MultiplyAddShiftHasher
from qnetai.qkd.privacy_amplification import ToeplitzHasher, privacy_amplify, toeplitz_hash


def _cpu(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times), float(np.median(times))


def _measure(n: int, rng: np.random.Generator, repeats: int) -> None:
    m = n // 2
    x = rng.integers(0, 2, n, dtype=np.uint8)
    s = rng.integers(0, 2, n + m - 1, dtype=np.uint8)
    hasher = ToeplitzHasher(s, n=n, out_len=m, workers=1)
    hasher(x)
    alice = MultiplyAddShiftHasher.from_rng(rng, n=n, out_len=m)
    bob = MultiplyAddShiftHasher(alice.seed_bits(), n=n, out_len=m)
    assert np.array_equal(alice(x), bob(x)), "multiply-add-shift: Alice and Bob differ"
    rows = {
        "Toeplitz, cached seed spectrum": lambda: hasher(x),
        "Toeplitz, fresh seed": lambda: toeplitz_hash(x, m, s, workers=1),
        "multiply-add-shift, fresh seed": lambda: MultiplyAddShiftHasher.from_rng(
            rng, n=n, out_len=m
        )(x),
        "privacy_amplify, toeplitz": lambda: privacy_amplify(x, m, rng=rng, workers=1),
        "privacy_amplify, multiply-add-shift": lambda: privacy_amplify(
            x, m, rng=rng, family="multiply-add-shift"
        ),
    }
    for name, fn in rows.items():
        best, med = _cpu(fn, repeats)
        print(f"| {n:.0e} | {name} | {n / best / 1e6:.0f} | {n / med / 1e6:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Privacy amplification throughput by CPU time (about 1 min)."
    )
    parser.add_argument(
        "repeats", nargs="?", type=int, default=7, help="repeats at 1e6 bits (1e7: half, >= 3)"
    )
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("repeats must be >= 1")
    repeats = args.repeats
    rng = np.random.default_rng(3)
    print(f"load {os.getloadavg()[0]:.1f}, best / median of {repeats}, Mbit/s by CPU time")
    print("| input bits | method | best Mbit/s | median Mbit/s |")
    print("|---|---|---|---|")
    for n in (10**6, 10**7):
        _measure(n, rng, repeats if n < 10**7 else max(3, repeats // 2))
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
