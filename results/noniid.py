#!/usr/bin/env python3
"""Tables and plots of results/noniid.sh (issue #17).

  results/noniid.py [--quick | --tiny] [--runs DIR] [--out DIR]

Reads runs/noniid[-quick|-tiny]/<run>/{eval.csv,metrics.csv,sharpness.csv,
train.log} and writes results/noniid[-quick|-tiny]/: runs.csv (one row per
run), curves.csv (every evaluation of the network runs: modeled time, test
accuracy), tables.md and PNGs drawn by `dppf plot` (mean ± std over seeds).
Standard library only; needs build/dppf (or $DPPF).
"""
import math
import os
import re
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from studylib import (band_series, finished_runs, finite, kendall_tau_b, plot, pm, read_rows, sharpness_measures,
                      study_dirs, write_csv, write_tables)  # noqa: E402

METHODS = ["ddp", "localsgd", "dppf", "slowmo"]
RUN_RE = re.compile(r"a(?P<alpha>[\d.]+)(?:-drop(?P<drop>[\d.]+))?(?:-bw(?P<bw>\d+))?-(?P<m>[a-z]+)-s(?P<seed>\d+)")
TARGETS = (0.80, 0.85)  # test accuracy reached: modeled time to get there


def load(runs_dir):
    runs, curves = [], []
    for n, m, d, last in finished_runs(runs_dir, RUN_RE):
        r = {"run": n, "method": m.group("m"), "alpha": float(m.group("alpha")),
             "drop": float(m.group("drop") or 0), "bw": float(m.group("bw") or 10), "seed": int(m.group("seed"))}
        e = read_rows(os.path.join(d, "eval.csv"))[-1]
        for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
            r[k] = float(e[k])
        r["gap_acc"] = r["train_acc"] - r["test_acc"]
        r["gap_loss"] = r["test_loss"] - r["train_loss"]
        for k in ("comm_rounds", "modeled_time_s", "spread_mean", "worker_test_acc", "syncs_missed",
                  "participants_mean"):
            r[k] = float(last[k])
        r["comm_mb"] = float(last["comm_bytes_per_worker"]) / 1e6
        r["test_acc_subset"] = float(last["test_acc"])  # the 1,000-image evaluation of metrics.csv
        r.update(sharpness_measures(last))
        with open(os.path.join(d, "train.log")) as f:
            sk = re.search(r"label skew ([\d.]+)", f.read())
        r["label_skew"] = float(sk.group(1)) if sk else math.nan
        for row in read_rows(os.path.join(d, "metrics.csv")):
            curves.append([n, r["method"], r["alpha"], r["drop"], r["bw"], r["seed"], float(row["epoch"]),
                           float(row["modeled_time_s"]), float(row["test_acc"])])
        runs.append(r)
    return runs, curves


def time_to(curve, target):
    """Modeled seconds at the first evaluation whose test accuracy reaches target."""
    for t, acc in curve:
        if acc >= target:
            return t
    return math.nan


def main():
    dirs = study_dirs(sys.argv[1:], "noniid", "noniid", "noniid.py", __doc__)
    if dirs is None:
        return
    src, out, tmp = dirs
    runs, curves = load(src)
    cols = ["run", "method", "alpha", "drop", "bw", "seed", "label_skew", "train_acc", "test_acc", "gap_acc",
            "train_loss", "test_loss", "gap_loss", "test_acc_subset", "worker_test_acc", "spread_mean", "comm_rounds",
            "comm_mb", "modeled_time_s", "syncs_missed", "participants_mean", "imv", "imv_workers", "sam",
            "hessian_top"]
    write_csv(os.path.join(out, "runs.csv"), cols, [[r.get(c, "") for c in cols] for r in runs])
    write_csv(os.path.join(out, "curves.csv"),
              ["run", "method", "alpha", "drop", "bw", "seed", "epoch", "modeled_time_s", "test_acc"], curves)
    md = []
    skew_runs = [r for r in runs if r["drop"] == 0 and r["bw"] == 10]
    alphas = sorted({r["alpha"] for r in skew_runs}, reverse=True)
    seeds = sorted({r["seed"] for r in runs})

    # ---- 1. label skew
    md.append(f"### Test accuracy (%) under Dirichlet label skew (M = 16, mean ± std over seeds {seeds})\n")
    md.append("Label skew = the mean over workers of the total-variation distance between a worker's label "
              "mix and the whole set's (0 = IID, 1 = disjoint labels), as `dppf train` prints it.\n")
    md.append("| method | " + " | ".join(f"alpha {x:g}" for x in alphas) + " |")
    md.append("|---|" + "---:|" * len(alphas))
    md.append("| label skew | " + " | ".join(pm([r["label_skew"] for r in skew_runs if r["alpha"] == x], 1, 3)
                                        for x in alphas) + " |")
    for m in METHODS:
        md.append(f"| {m} | " + " | ".join(pm([r["test_acc"] for r in skew_runs if r["alpha"] == x and r["method"] == m], 100)
                                       for x in alphas) + " |")
    md.append("")
    md.append("Individual workers (mean test accuracy of the 16 workers' own models, on the first 1,000 test "
              "images), %:\n")
    md.append("| method | " + " | ".join(f"alpha {x:g}" for x in alphas) + " |")
    md.append("|---|" + "---:|" * len(alphas))
    for m in METHODS:
        md.append(f"| {m} | " + " | ".join(
            pm([r["worker_test_acc"] for r in skew_runs if r["alpha"] == x and r["method"] == m], 100)
            for x in alphas) + " |")
    md.append("")
    files = []
    for m in METHODS:
        for s in seeds:
            pts = sorted((r["alpha"], 100 * r["test_acc"]) for r in skew_runs if r["method"] == m and r["seed"] == s)
            if pts:
                files.append(band_series(tmp, m, f"s{s}", ["dirichlet_alpha", "test_acc_pct"], pts))
    if files:
        plot(os.path.join(out, "accuracy-vs-alpha.png"), "dirichlet_alpha", "test_acc_pct", files, "--logx",
             "--group-by", "run.out_dir", "--title", "label skew: test accuracy, mean ± std over seeds (M = 16)",
             "--xlabel", "Dirichlet alpha (log; small = strong skew)", "--ylabel", "test accuracy (%)")

    # ---- 2. dropped syncs (alpha 1)
    drop_runs = [r for r in runs if r["alpha"] == 1 and r["bw"] == 10]
    drops = sorted({r["drop"] for r in drop_runs})
    if len(drops) > 1:
        md.append("### Test accuracy (%) with dropped syncs (alpha 1, M = 16)\n")
        md.append("Each worker misses each sync with probability `dist.drop_prob` and keeps its state.\n")
        md.append("| method | " + " | ".join(
            f"drop {p:g} (seeds: {len([r for r in drop_runs if r['drop'] == p]) // len(METHODS)})" for p in drops) + " |")
        md.append("|---|" + "---:|" * len(drops))
        for m in METHODS:
            md.append(f"| {m} | " + " | ".join(
                pm([r["test_acc"] for r in drop_runs if r["drop"] == p and r["method"] == m], 100) for p in drops) + " |")
        md.append("")
        files = []
        for m in METHODS:
            for s in seeds:
                pts = sorted((r["drop"], 100 * r["test_acc"]) for r in drop_runs if r["method"] == m and r["seed"] == s)
                if pts:
                    files.append(band_series(tmp, m, f"drop-s{s}", ["drop_prob", "test_acc_pct"], pts))
        plot(os.path.join(out, "accuracy-vs-drop.png"), "drop_prob", "test_acc_pct", files, "--group-by",
             "run.out_dir", "--title", "dropped syncs (alpha 1): test accuracy, mean ± std over seeds",
             "--xlabel", "probability that a worker misses a sync", "--ylabel", "test accuracy (%)")

    # ---- 3. modeled wall-clock time (alpha 100)
    net = [r for r in runs if r["alpha"] == 100 and r["drop"] == 0]
    bws = sorted({r["bw"] for r in net})
    if net:
        md.append("### Modeled wall-clock time (alpha 100, M = 16; ring allreduce, 10 us latency, "
                  "10 ms a compute step)\n")
        md.append("Time to a test accuracy = the modeled time of the first evaluation (every epoch; first "
                  "1,000 test images) that reaches it; '-' = never.\n")
        head = "| method | rounds | MB / worker | test acc (%) |"
        for bw in bws:
            head += f" total time, {bw:g} Gb/s (s) |" + "".join(f" to {100 * t:g}%, {bw:g} Gb/s (s) |" for t in TARGETS)
        md.append(head)
        md.append("|---|" + "---:|" * (3 + len(bws) * (1 + len(TARGETS))))
        for m in METHODS:
            g = [r for r in net if r["method"] == m]
            if not g:
                continue
            row = (f"| {m} | {statistics.mean(r['comm_rounds'] for r in g):.0f} | "
                   f"{statistics.mean(r['comm_mb'] for r in g):.0f} | "
                   f"{pm([r['test_acc'] for r in g if r['bw'] == 10], 100)} |")
            for bw in bws:
                gb = [r for r in g if r["bw"] == bw]
                row += f" {pm([r['modeled_time_s'] for r in gb], 1, 1)} |"
                for t in TARGETS:
                    tt = [time_to([(c[7], c[8]) for c in curves if c[0] == r["run"]], t) for r in gb]
                    row += f" {pm(tt, 1, 1)} |" if all(finite(x) for x in tt) else " - |"
            md.append(row)
        md.append("")
        files = []
        for bw in bws:
            for m in METHODS:
                for r in [r for r in net if r["method"] == m and r["bw"] == bw]:
                    pts = [(c[7], c[8]) for c in curves if c[0] == r["run"]]
                    files.append(band_series(tmp, f"{m}, {bw:g} Gb/s", f"s{r['seed']}",
                                             ["modeled_time_s", "test_acc"], pts))
        plot(os.path.join(out, "accuracy-vs-time.png"), "modeled_time_s", "test_acc", files, "--group-by",
             "run.out_dir", "--logx", "--title", "test accuracy vs modeled time (M = 16, alpha 100)",
             "--xlabel", "modeled wall-clock seconds (log)", "--ylabel", "test accuracy (first 1,000 test images)")

    # ---- 4. IMV and the generalisation gap under non-IID data
    have = [r for r in runs if "imv" in r]
    if len(have) > 2:
        md.append("### Rank correlation with the generalisation gap under non-IID data (Kendall tau-b, "
                  "gap = train acc − test acc of the averaged model, whole sets)\n")
        subsets = [("every run with flatness", have)] + [
            (f"alpha {x:g} (no drops)", [r for r in have if r["alpha"] == x and r["drop"] == 0]) for x in alphas]
        md.append("| runs | n | IMV | SAM sharpness | lambda_max | gap (pp), mean |")
        md.append("|---|---:|---:|---:|---:|---:|")
        for label, sub in subsets:
            if len(sub) < 3:
                continue
            g = [r["gap_acc"] for r in sub]
            cells = [kendall_tau_b([r[k] for r in sub], g) for k in ("imv", "sam", "hessian_top")]
            md.append(f"| {label} | {len(sub)} | " + " | ".join(f"{c:+.3f}" for c in cells) +
                      f" | {100 * statistics.mean(g):.2f} |")
        md.append("")
        md.append("Flatness by method and alpha (mean over seeds): IMV / lambda_max\n")
        md.append("| method | " + " | ".join(f"alpha {x:g}" for x in alphas) + " |")
        md.append("|---|" + "---:|" * len(alphas))
        for m in METHODS:
            cells = []
            for x in alphas:
                g = [r for r in have if r["method"] == m and r["alpha"] == x and r["drop"] == 0]
                cells.append(f"{pm([r['imv'] for r in g], 1, 2)} / {pm([r['hessian_top'] for r in g], 1, 1)}")
            md.append(f"| {m} | " + " | ".join(cells) + " |")
        md.append("")
        files = []
        for x in alphas:
            pts = sorted((r["imv"], 100 * r["gap_acc"]) for r in have if r["alpha"] == x)
            if pts:
                f = os.path.join(tmp, f"alpha {x:g}.csv")
                write_csv(f, ["imv", "gap_pct"], pts)
                files.append(f)
        plot(os.path.join(out, "imv-vs-gap.png"), "imv", "gap_pct", files, "--points",
             "--title", "IMV against the generalisation gap, non-IID runs",
             "--xlabel", "IMV = 1 / mean valley width", "--ylabel", "train acc - test acc (pp)")

    shutil.rmtree(tmp)
    write_tables(out, "noniid.py", src, md)
    print(f"noniid: {len(runs)} runs -> {out}/{{tables.md,runs.csv,curves.csv,*.png}}")


if __name__ == "__main__":
    main()
