"""docs/mfa.md: its code runs, and the held-out comparison on digits gives the numbers printed there."""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "mfa.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE, re.S)


def _run(block, name):
    namespace = {}
    exec(compile(block, f"docs/mfa.md, {name}", "exec"), namespace)
    return namespace


def test_the_example_runs():
    (block,) = [block for block in BLOCKS if "reg=0.1" in block]
    namespace = _run(block, "example")
    post = namespace["post"]
    assert post.means.shape == (5, 10, 4) and post.covariances.shape == (10, 4, 4)
    assert namespace["images"].shape == (6, int(namespace["keep"].sum()))
    plt.close("all")


def test_held_out_comparison_is_the_one_printed():
    (block,) = [block for block in BLOCKS if "noisy" in block]
    namespace = _run(block, "comparison")
    models, test = namespace["models"], namespace["test"]
    assert (len(namespace["train"]), len(test), test.shape[1]) == (1198, 599, 60)
    assert np.flatnonzero(~namespace["keep"]).tolist() == [0, 24, 32, 39]
    table = {name: (int(count), score) for name, count, score in
             re.findall(r"^\| `([^`]+)` \| (\d+) \| (-?\d+\.\d\d) \|$", PAGE, re.M)}
    assert set(table) == set(models)
    scores = {}
    for name, model in models.items():
        scores[name] = model.score(test)
        assert (model.n_parameters_, f"{scores[name]:.2f}") == table[name], name
    mfa, gmm = models
    # The claim of the page: fewer parameters, higher held-out likelihood.
    assert models[mfa].n_parameters_ < models[gmm].n_parameters_
    assert scores[mfa] > scores[gmm]
    assert f"is {scores[mfa] - scores[gmm]:.2f} nats per\ndigit above" in PAGE
