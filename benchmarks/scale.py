"""Time and peak memory of lvm's fits at scale: in-memory arrays and lazily generated dask arrays.

Each fit runs in a process of its own, so that one fit's memory cannot hide in
another's. The child builds the data (an in-memory array, or a dask array
whose blocks are generated when a task reads them), resets the kernel's peak
resident-set counter (``/proc/self/clear_refs``), notes its resident memory,
fits, and reports the seconds taken and the peak resident memory *above* what
it held before ``fit``: the memory the fit itself needed. Both kinds of data
hold the same numbers for the same size (one generator per block of rows).

Usage (from the repository root, after ``pip install -e ".[test]"``)::

    python benchmarks/scale.py                 # every table
    python benchmarks/scale.py --table bounds  # the memory bounds only
    python benchmarks/scale.py --max-rows 1000000

Tables: ``bounds`` (1,000,000 x 50 in memory, 3,000,000 x 20 as dask),
``growth`` (10^5, 10^6, 10^7 rows x 50, in memory and as dask).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

BLOCK_ROWS = 100_000
MODELS = {
    # name: (constructor source, arguments for the growth table)
    "PCA": "lvm.PCA({k})",
    "FactorAnalysis": "lvm.FactorAnalysis({k})",
    "GaussianMixture": "lvm.GaussianMixture({k}, covariance_type='{cov}', max_iter=10, tol=0.0, random_state=0)",
}


def _block(n_rows, p, block, seed=0):
    """Rows of block ``block``: five clusters in a 5-factor space plus noise, from their own generator."""
    rng = np.random.default_rng([seed, block])
    centres = np.random.default_rng([seed, 10**9]).normal(scale=3.0, size=(5, p))
    loadings = np.random.default_rng([seed, 10**9 + 1]).normal(size=(p, 5))
    labels = rng.integers(0, 5, n_rows)
    out = rng.standard_normal((n_rows, p))
    out += centres[labels]
    out += rng.standard_normal((n_rows, 5)) @ loadings.T
    return out


def make_array(n, p):
    X = np.empty((n, p))
    for b, start in enumerate(range(0, n, BLOCK_ROWS)):
        rows = min(BLOCK_ROWS, n - start)
        X[start : start + rows] = _block(rows, p, b)
    return X


def make_dask(n, p):
    import dask.array as da

    chunks = tuple(min(BLOCK_ROWS, n - s) for s in range(0, n, BLOCK_ROWS))

    def generate(block_info=None):
        info = block_info[None]
        return _block(info["chunk-shape"][0], p, info["chunk-location"][0])

    return da.map_blocks(generate, chunks=(chunks, (p,)), dtype=np.float64)


def _status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(spec):
    """Build the data, fit one model, print a JSON line with seconds and memory."""
    import warnings

    import dask
    from threadpoolctl import threadpool_info

    import lvm

    n, p, source = spec["n"], spec["p"], spec["source"]
    X = make_array(n, p) if source == "memory" else make_dask(n, p)
    model = eval(spec["model"], {"lvm": lvm})  # noqa: S307 - the expressions are this file's own
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM, the peak resident set, to the current one
    before = _status("VmRSS")
    start = time.perf_counter()
    with warnings.catch_warnings(), dask.config.set(scheduler="threads"):
        warnings.simplefilter("ignore")
        model.fit(X)
    seconds = time.perf_counter() - start
    peak = _status("VmHWM")
    blas = sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
    print(json.dumps({"seconds": seconds, "extra_bytes": peak - before, "data_bytes": n * p * 8,
                      "blas_threads": blas}))


def run(n, p, source, name, model):
    spec = {"n": n, "p": p, "source": source, "model": model}
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(n=n, p=p, source=source, model=name)
    print(f"  {source:6s} {n:>10,} x {p}  {name:16s} {result['seconds']:8.1f} s  "
          f"{result['extra_bytes'] / 2**20:8.0f} MiB above before-fit "
          f"({result['extra_bytes'] / result['data_bytes']:.3f} x the data)", file=sys.stderr, flush=True)
    return result


def table(rows):
    lines = ["| data | rows x columns | model | seconds | peak RSS above before-fit | x data size |",
             "|---|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['source']} | {r['n']:,} x {r['p']} | {r['model']} | {r['seconds']:.1f} | "
                     f"{r['extra_bytes'] / 2**20:.0f} MiB | {r['extra_bytes'] / r['data_bytes']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", choices=["bounds", "growth", "all"], default="all")
    parser.add_argument("--max-rows", type=int, default=10**7, help="skip sizes above this many rows")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(json.loads(args.child))
    from threadpoolctl import threadpool_info

    print("BLAS:", ", ".join(f"{lib['internal_api']} {lib['num_threads']} thread(s)" for lib in threadpool_info()
                             if lib["user_api"] == "blas"), f"| cores: {os.cpu_count()}")
    if args.table in ("bounds", "all"):
        rows = []
        for source, n, p, cases in [
            ("memory", 10**6, 50, [("PCA", 5, "full"), ("FactorAnalysis", 5, "full"), ("GaussianMixture", 5, "full")]),
            ("dask", 3 * 10**6, 20, [("PCA", 3, "full"), ("FactorAnalysis", 3, "full"),
                                     ("GaussianMixture", 3, "diag")]),
        ]:
            if n > args.max_rows:
                continue
            for name, k, cov in cases:
                rows.append(run(n, p, source, name, MODELS[name].format(k=k, cov=cov)))
        print("\n#### Memory bounds\n")
        print(table(rows))
    if args.table in ("growth", "all"):
        rows = []
        for n in (10**5, 10**6, 10**7):
            if n > args.max_rows:
                continue
            for source in ("memory", "dask"):
                for name in MODELS:
                    rows.append(run(n, 50, source, name, MODELS[name].format(k=5, cov="full")))
        print("\n#### Growth with the number of rows (50 columns, k = 5)\n")
        print(table(rows))
        sizes = sorted({r["n"] for r in rows})
        if 10**6 in sizes and 10**7 in sizes:
            print("\nTime at 10^7 rows over time at 10^6 rows:")
            for source in ("memory", "dask"):
                for name in MODELS:
                    t = {r["n"]: r["seconds"] for r in rows if r["source"] == source and r["model"] == name}
                    print(f"- {source}, {name}: {t[10**7] / t[10**6]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
