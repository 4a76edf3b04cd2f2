"""The evaluation's linear SVM: scikit-learn's `LinearSVC(dual=False)` (the solver before) against the Newton solver
of `gtalign.evaluate.linear_svm` (now), side by side in one run, on the embeddings of a `gtalign demo` output.

For each method's embeddings under ``<demo_out>/embeddings/<method>/``: the demo's SVM protocol (fractions 0.1, 0.5,
1.0 of the training videos) and few-shot protocol (1 and 5 shots, 20 episodes), each timed with both solvers on one
thread; the accuracies of both, their largest difference, and the share of validation frames both predict alike
(100% of the training videos). Writes ``bench_out/svm_solver.md``; ``--docs`` also replaces its section of
``docs/performance.md``.

    python benchmarks/svm_solver.py DEMO_OUT [--docs]
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, publish, set_threads, write_table  # noqa: E402

from gtalign.data.embeddings import load_embeddings  # noqa: E402
from gtalign.evaluate import classify, evaluate_fewshot, evaluate_svm  # noqa: E402
from gtalign.evaluate.labels import GlobalLabels, stack_frames  # noqa: E402
from gtalign.evaluate.linear_svm import fit_linear_svm  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def liblinear_accuracy(train_x, train_y, val_x, val_y, C=1.0) -> float:
    """The SVM as it was: `LinearSVC(dual=False, max_iter=2000)` after `StandardScaler`."""
    if np.unique(train_y).size == 1:
        return float(np.mean(val_y == train_y[0]))
    model = make_pipeline(StandardScaler(), LinearSVC(C=C, dual=False, max_iter=2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_x, train_y)
    return float(np.mean(model.predict(val_x) == val_y))


def protocols(train, val) -> tuple[float, list[float]]:
    """(seconds, accuracies) of the demo's SVM and few-shot protocols with whichever solver is patched in."""
    tic = time.perf_counter()
    svm = evaluate_svm(train, val, fractions=(0.1, 0.5, 1.0))
    few = evaluate_fewshot(train, val, shots=(1, 5), episodes=20)
    accs = list(svm.accuracy.values()) + [v["mean"] for v in few.shots.values()]
    return time.perf_counter() - tic, accs


def agreement(train, val) -> float:
    """Share of validation frames both solvers label alike, trained on every training video."""
    numbering = GlobalLabels(train, val)
    (x, y), (vx, _) = stack_frames(train, numbering), stack_frames(val, numbering)
    scaler = StandardScaler().fit(x)
    ours = fit_linear_svm(scaler.transform(x), y).predict(scaler.transform(vx))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LinearSVC(dual=False, max_iter=2000).fit(scaler.transform(x), y).predict(scaler.transform(vx))
    return float(np.mean(ours == ref))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("demo_out", help="a `gtalign demo -o` folder (its embeddings/ are read)")
    parser.add_argument("--out", default=str(ROOT / "bench_out" / "svm_solver.md"))
    parser.add_argument("--docs", action="store_true", help="also update its section of docs/performance.md")
    args = parser.parse_args(argv)
    set_threads(1)
    rows, ratios = [], []
    for folder in sorted(Path(args.demo_out, "embeddings").glob("*/*")):
        data = load_embeddings(folder)
        train, val = data.split("train"), data.split("val")
        with mock.patch.object(classify, "svm_accuracy", liblinear_accuracy):
            before_s, before = protocols(train, val)
        after_s, after = protocols(train, val)
        diff = max(abs(a - b) for a, b in zip(before, after)) * 100
        ratios.append(before_s / after_s)
        rows.append([folder.parent.name, round(before_s, 2), round(after_s, 2), f"{before_s / after_s:.1f}x",
                     " / ".join(f"{100 * a:.2f}" for a in before), " / ".join(f"{100 * a:.2f}" for a in after),
                     round(diff, 3), f"{100 * agreement(train, val):.2f}%"])
        print(rows[-1], flush=True)
    header = ["embeddings", "LinearSVC s", "Newton s", "speed-up", "LinearSVC: SVM 10/50/100%, 1-/5-shot",
              "Newton: the same", "largest difference (points)", "same label (100% SVM)"]
    notes = (f"One thread; the demo's SVM (3 fractions) and few-shot (1 and 5 shots, 20 episodes) protocols, "
             f"timed together. Speed-up over all sets: median {np.median(ratios):.1f}x.")
    text = write_table(args.out, "The evaluation's linear SVM: LinearSVC against the Newton solver "
                       "(benchmarks/svm_solver.py)", header, rows, machine_info(), notes)
    publish(text, "svm-solver", args.docs, "docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
