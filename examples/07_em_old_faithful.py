"""EM at work: fitting a two-component Gaussian mixture to Old Faithful's eruptions.

The Old Faithful geyser has short and long eruptions, but no eruption comes labelled.
A Gaussian mixture treats the kind of each eruption as a hidden (latent) class, and
EM fits it by alternating two steps: guess how likely each point is to belong to each
component (E-step), then refit each component to the points weighted by those guesses
(M-step). This script starts EM from a poor guess, draws the components after chosen
iterations, checks that the log-likelihood never decreases, and finally lets BIC
choose the number of components and the covariance shape.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import lvm  # noqa: E402

MIN_ITERATIONS = 10


def fit_recording(X, seed):
    """Fit a 2-component mixture from a random start, keeping the parameters of every iteration."""
    steps = []

    def record(iteration, params):
        # Copies, so that the recorded history cannot change whatever the model does with its arrays later.
        steps.append({name: np.array(value, copy=True) for name, value in params.items()})

    gm = lvm.GaussianMixture(2, covariance_type="full", init="random", random_state=seed, callback=record).fit(X)
    return gm, steps


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X = lvm.datasets.load_old_faithful()
    print(f"{len(X)} eruptions: {', '.join(X.columns)} (minutes)")

    # init="random" starts from two data rows drawn at random. Most draws land near the
    # answer; look for one that needs at least MIN_ITERATIONS steps, so the climb is visible.
    for seed in range(100):
        gm, steps = fit_recording(X, seed)
        if gm.n_iter_ >= MIN_ITERATIONS:
            break
    print(f"random_state={seed}: EM took {gm.n_iter_} iterations, log-likelihood per eruption "
          f"{gm.history_[0]:.4f} -> {gm.history_[-1]:.4f}")
    # Iteration 0 is the start; every later entry follows one E-step and one M-step.
    assert len(steps) == gm.n_iter_ + 1
    assert len({id(step) for step in steps}) == len(steps)
    # EM can never lower the likelihood (up to rounding): the property that makes it safe.
    assert np.all(np.diff(gm.history_) >= -1e-10), "the log-likelihood decreased"
    print(f"log-likelihood never decreased; largest single gain {np.diff(gm.history_).max():.4f}")
    for j in np.argsort(gm.means_[:, 0]):
        print(f"  component: weight {gm.weights_[j]:.2f}, mean eruption {gm.means_[j, 0]:.2f} min, "
              f"mean wait {gm.means_[j, 1]:.1f} min")

    last = len(steps) - 1
    shown = sorted({i for i in (0, 1, 2, 5, 10, last) if i <= last})
    n_columns = (len(shown) + 1) // 2
    fig, grid = plt.subplots(2, n_columns, figsize=(3.6 * n_columns, 7), sharex=True, sharey=True)
    for ax in grid.ravel()[len(shown):]:
        ax.set_visible(False)
    lvm.plot.em_steps(steps, X, iterations=shown, axes=grid.ravel()[:len(shown)])
    fig.suptitle("EM on Old Faithful: each point coloured by its likelier component, 1 and 2 sd ellipses")
    fig.tight_layout()
    fig.savefig(out / "em_steps.png", dpi=100)
    plt.close(fig)

    ax = lvm.plot.em_convergence(gm)
    ax.set_title("The log-likelihood climbs at every EM iteration")
    ax.figure.tight_layout()
    ax.figure.savefig(out / "em_convergence.png", dpi=100)
    plt.close(ax.figure)

    # How many components, and what shape? Fit every combination and compare BIC
    # (-2 log-likelihood + parameters x log n; lower is better).
    table, best = lvm.select_mixture(X, n_components=range(1, 7), random_state=0)
    columns = ["covariance_type", "mclust", "n_components", "log_likelihood", "n_parameters", "bic"]
    print("\nBest five models by BIC:")
    print(table[columns].head().round(1).to_string(index=False))
    winner = table.iloc[0]
    # The best model with fewer components: what the winner's extra components must beat.
    fewer = table[table["n_components"] < winner["n_components"]]
    rival = (fewer if len(fewer) else table[table["n_components"] != winner["n_components"]]).iloc[0]
    gain = winner["log_likelihood"] - rival["log_likelihood"]
    extra = winner["n_parameters"] - rival["n_parameters"]
    print(f"\nBIC picks {winner['n_components']} components with {winner['covariance_type']} covariance "
          f"({winner['mclust']}). Against the best {rival['n_components']}-component model "
          f"({rival['mclust']}) it gains {gain:.1f} in log-likelihood,")
    if extra == 0:
        print(f"with the same number of parameters ({winner['n_parameters']}), so it wins on fit alone: "
              f"BIC difference {winner['bic'] - rival['bic']:.1f}.")
    else:
        print(f"for {extra:+d} parameters, each charged log(n)/2 = {np.log(len(X)) / 2:.2f} in log-likelihood: "
              f"BIC difference {winner['bic'] - rival['bic']:.1f}.")
    if winner["covariance_type"] == "tied":
        print("All components share one covariance matrix, so a third component costs only a weight and a")
        print("mean; it splits the long eruptions, which the two-component fit covers with one broad ellipse.")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for covariance_type, rows in table.groupby("covariance_type"):
        rows = rows.sort_values("n_components")
        mclust = rows["mclust"].iloc[0]
        axes[0].plot(rows["n_components"], rows["bic"], "o-", label=f"{covariance_type} ({mclust})")
    axes[0].set_xlabel("number of components")
    axes[0].set_ylabel("BIC (lower is better)")
    axes[0].legend(frameon=False)
    lvm.plot.mixture_ellipses(best, X, ax=axes[1])
    axes[1].set_title(f"BIC's choice: {best.n_components} components, {best.covariance_type} covariance")
    fig.tight_layout()
    fig.savefig(out / "bic_selection.png", dpi=100)
    plt.close(fig)
    print(f"\nFigures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path("examples/output") / Path(__file__).stem)
