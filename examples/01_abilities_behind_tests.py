"""Abilities behind tests: latent variables inferred from observed ones.

In 1939 Holzinger and Swineford gave nine mental tests to 301 pupils. Nobody can
measure "verbal ability" directly, but if it exists, the tests that need it should
rise and fall together. Factor analysis turns that idea into a model: each test
score is a weighted sum of a few unobserved factors plus noise of its own. This
script decides how many factors to keep (parallel analysis), fits three of them
with an oblique rotation, reads the loadings to name the abilities, and computes
each pupil's factor scores, their estimated position on those hidden abilities.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import lvm  # noqa: E402

# What each of the nine tests asks of a pupil, and the ability we expect it to need.
TESTS = {
    "x1": "visual perception", "x2": "cubes", "x3": "lozenges",
    "x4": "paragraph comprehension", "x5": "sentence completion", "x6": "word meaning",
    "x7": "speeded addition", "x8": "speeded counting of dots", "x9": "speeded straight-curved capitals",
}
ABILITIES = {"visual": ["x1", "x2", "x3"], "verbal": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pupils = lvm.datasets.load_holzinger_swineford()
    X = pupils[list(TESTS)]  # the same as load_holzinger_swineford(tests_only=True)
    print(f"{X.shape[0]} pupils, {X.shape[1]} tests")

    # 1. How many factors? Parallel analysis keeps a factor while its eigenvalue
    #    beats the eigenvalue that pure noise of the same size would produce.
    pa = lvm.factor.parallel_analysis(X, random_state=0)
    print(f"\nParallel analysis suggests {pa.n_factors} factors:")
    print(pa.table.round(2).to_string())
    ax = lvm.plot.parallel_analysis(pa)
    ax.figure.tight_layout()
    ax.figure.savefig(out / "parallel_analysis.png", dpi=100)
    plt.close(ax.figure)

    # 2. Fit three factors. An oblique rotation (oblimin) lets the abilities be
    #    correlated, as abilities of real children are.
    fa = lvm.FactorAnalysis(3, rotation="oblimin").fit(X)
    print()
    print(fa.summary(cut=0.3))

    # 3. Name each factor by the group of tests that loads on it most.
    loadings = fa.loadings_  # DataFrame: tests x factors
    names = {}
    for ability, tests in ABILITIES.items():
        names[loadings.loc[tests].sum().idxmax()] = ability
    loadings = loadings.rename(columns=names)[list(ABILITIES)]
    print("\nEach factor is named after the tests that load on it:")
    for ability, tests in ABILITIES.items():
        described = ", ".join(f"{t} {TESTS[t]} ({loadings.loc[t, ability]:.2f})" for t in tests)
        print(f"  {ability:7s} <- {described}")
    for test in loadings.index:
        for ability in loadings.columns:
            if test not in ABILITIES[ability] and abs(loadings.loc[test, ability]) >= 0.3:
                print(f"  {test} ({TESTS[test]}) also loads {loadings.loc[test, ability]:.2f} on {ability}")
    phi = fa.factor_correlation_
    order = [list(fa.loadings_.columns).index(c) for c in names]
    phi = phi[np.ix_(order, order)]
    print("Correlations between the abilities:")
    for i, a in enumerate(names.values()):
        for j, b in enumerate(names.values()):
            if i < j:
                print(f"  {a} ~ {b}: {phi[i, j]:.2f}")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    lvm.plot.loadings(loadings, cut=0.3, ax=ax)
    ax.set_yticklabels([f"{t} {TESTS[t]}" for t in loadings.index])
    ax.set_title("Oblimin loadings (|loading| >= 0.3)")
    fig.tight_layout()
    fig.savefig(out / "loadings.png", dpi=100)
    plt.close(fig)

    # 4. Factor scores: each pupil's estimated standing on the three abilities.
    scores = fa.transform(X)[:, order]
    ability_names = list(names.values())
    school = pupils["school"].to_numpy()
    print("\nMean factor score by school (scores have mean 0 over all pupils):")
    for value in np.unique(school):
        means = scores[school == value].mean(axis=0)
        print(f"  {value:12s} " + "  ".join(f"{a} {m:+.2f}" for a, m in zip(ability_names, means, strict=True)))

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (a, b) in zip(axes, [(0, 1), (0, 2), (1, 2)], strict=True):
        for value in np.unique(school):
            rows = school == value
            ax.scatter(scores[rows, a], scores[rows, b], s=10, alpha=0.7, label=value)
        ax.set_xlabel(f"{ability_names[a]} score")
        ax.set_ylabel(f"{ability_names[b]} score")
    axes[0].legend(frameon=False, title="school")
    fig.suptitle("Factor scores of 301 pupils")
    fig.tight_layout()
    fig.savefig(out / "factor_scores.png", dpi=100)
    plt.close(fig)
    print(f"\nFigures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path("examples/output") / Path(__file__).stem)
