#!/usr/bin/env python3
"""Tables and plots of results/resnet.sh (issue #20, item 2: every method on ResNet-20).

  results/resnet.py [--quick | --tiny] [--runs DIR] [--out DIR]

Reads runs/resnet[-quick|-tiny]/<run>/{eval.csv,metrics.csv,sharpness.csv}
and writes results/resnet[-quick|-tiny]/: runs.csv (one row per run: the
final averaged model on the whole test set), curves.csv (every evaluation:
epoch, step, communication rounds, test accuracy on the first 1,000 test
images), tables.md, accuracy-vs-rounds-*.png (mean ± std over seeds) and the
two landscapes (landscape-{localsgd,dppf}.png/.csv, one colour scale).
Standard library only; needs build/dppf (or $DPPF).
"""
import math
import os
import re
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from studylib import (band_series, finished_runs, kendall_tau_b, landscape_rows, plot, pm, read_rows,  # noqa: E402
                      sharpness_measures, study_dirs, write_csv, write_tables)

FIRST = ["ddp", "localsgd", "easgd", "qsr", "dppf"]
NEW = ["lsgd", "mgrawa", "lgrawa", "slowmo", "diloco"]
RUN_RE = re.compile(r"(?P<m>[a-z]+)(?:-t(?P<tau>\d+))?-s(?P<seed>\d+)")


def load(runs_dir):
    runs, curves = [], []
    for n, m, d, last in finished_runs(runs_dir, RUN_RE):
        r = {"run": n, "method": m.group("m"), "tau": int(m.group("tau") or 1), "seed": int(m.group("seed"))}
        e = read_rows(os.path.join(d, "eval.csv"))[-1]
        for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
            r[k] = float(e[k])
        r["gap_acc"] = r["train_acc"] - r["test_acc"]
        for k in ("comm_rounds", "spread_mean", "worker_test_acc", "step"):
            r[k] = float(last[k])
        r["comm_mb"] = float(last["comm_bytes_per_worker"]) / 1e6
        r.update(sharpness_measures(last))
        for row in read_rows(os.path.join(d, "metrics.csv")):
            curves.append([n, r["method"], r["tau"], r["seed"], float(row["epoch"]), int(row["step"]),
                           int(row["comm_rounds"]), float(row["test_acc"])])
        runs.append(r)
    return runs, curves


def main():
    dirs = study_dirs(sys.argv[1:], "resnet", "resnet", "resnet.py", __doc__)
    if dirs is None:
        return
    src, out, tmp = dirs
    runs, curves = load(src)
    if not runs:
        sys.exit(f"resnet.py: no finished run in {src}")
    cols = ["run", "method", "tau", "seed", "train_acc", "test_acc", "gap_acc", "train_loss", "test_loss",
            "worker_test_acc", "spread_mean", "step", "comm_rounds", "comm_mb", "imv", "imv_workers", "sam",
            "hessian_top"]
    write_csv(os.path.join(out, "runs.csv"), cols, [[r.get(c, "") for c in cols] for r in runs])
    write_csv(os.path.join(out, "curves.csv"),
              ["run", "method", "tau", "seed", "epoch", "step", "comm_rounds", "test_acc"], curves)
    taus = sorted({r["tau"] for r in runs if r["method"] != "ddp"})
    seeds = sorted({r["seed"] for r in runs})
    methods = [m for m in FIRST + NEW if any(r["method"] == m for r in runs)]
    md = []

    # ---- 1. final accuracy, communication
    md.append(f"### ResNet-20 on Fashion-MNIST 32x32: the final averaged model (M = 4, mean ± std over seeds "
              f"{seeds})\n")
    md.append("Test accuracy on all 10,000 test images, train accuracy on the 5,000 training images "
              "(`dppf eval`); rounds and MB per worker as `dppf train` counts them (lsgd and GRAWA count their "
              "small collectives too).\n")
    md.append("| method | tau | runs | test acc (%) | train acc (%) | workers' own test acc (%) | rounds | "
              "MB / worker |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for m in methods:
        for t in ([1] if m == "ddp" else taus):
            g = [r for r in runs if r["method"] == m and r["tau"] == t]
            if not g:
                continue
            md.append(f"| {m} | {t if m != 'ddp' else '1 (every step)'} | {len(g)} | "
                      f"{pm([r['test_acc'] for r in g], 100)} | {pm([r['train_acc'] for r in g], 100)} | "
                      f"{pm([r['worker_test_acc'] for r in g], 100)} | "
                      f"{statistics.mean(r['comm_rounds'] for r in g):.0f} | "
                      f"{statistics.mean(r['comm_mb'] for r in g):.1f} |")
    md.append("")

    # ---- 2. accuracy against rounds, per tau, mean ± std over seeds
    for t in taus:
        for fname, which, title in ((f"accuracy-vs-rounds-t{t}.png", FIRST, "ddp and the first four"),
                                    (f"accuracy-vs-rounds-new-t{t}.png", ["dppf"] + NEW, "dppf and round 2's")):
            files = []
            for m in which:
                mt = 1 if m == "ddp" else t
                for r in [r for r in runs if r["method"] == m and r["tau"] == mt]:
                    pts = [(c[6], 100 * c[7]) for c in curves if c[0] == r["run"]]
                    files.append(band_series(tmp, m, f"t{t}-s{r['seed']}", ["comm_rounds", "test_acc_pct"], pts))
            if files:
                plot(os.path.join(out, fname), "comm_rounds", "test_acc_pct", files, "--logx", "--group-by",
                     "run.out_dir", "--title", f"ResNet-20, tau {t} ({title}): mean ± std over seeds",
                     "--xlabel", "communication rounds (log)",
                     "--ylabel", "test accuracy (%, first 1,000 test images)")

    # ---- 3. flatness of ddp, localsgd, dppf
    have = [r for r in runs if "imv" in r]
    if have:
        md.append("### Flatness of the final averaged model (500 training images; mean ± std over seeds)\n")
        md.append("| method | tau | IMV | SAM sharpness | lambda_max | train acc − test acc (pp) |")
        md.append("|---|---:|---:|---:|---:|---:|")
        for m in methods:
            for t in sorted({r["tau"] for r in have if r["method"] == m}):
                g = [r for r in have if r["method"] == m and r["tau"] == t]
                md.append(f"| {m} | {t} | {pm([r['imv'] for r in g], 1, 3)} | {pm([r['sam'] for r in g], 1, 4)} | "
                          f"{pm([r['hessian_top'] for r in g], 1, 1)} | {pm([r['gap_acc'] for r in g], 100)} |")
        md.append("")
        if len(have) > 2:
            g = [r["gap_acc"] for r in have]
            md.append(f"Kendall tau-b with the accuracy gap over these {len(have)} runs: IMV "
                      f"{kendall_tau_b([r['imv'] for r in have], g):+.3f}, SAM sharpness "
                      f"{kendall_tau_b([r['sam'] for r in have], g):+.3f}, lambda_max "
                      f"{kendall_tau_b([r['hessian_top'] for r in have], g):+.3f}.\n")

    # ---- 4. landscapes on one colour scale
    land = []
    for m in ("localsgd", "dppf"):
        for t in reversed(taus):
            d = os.path.join(src, f"{m}-t{t}-s{seeds[0]}")
            if os.path.exists(os.path.join(d, "landscape-2d.png")):
                shutil.copy(os.path.join(d, "landscape-2d.png"), os.path.join(out, f"landscape-{m}.png"))
                shutil.copy(os.path.join(d, "landscape-2d.csv"), os.path.join(out, f"landscape-{m}.csv"))
                land.append((m, t, [float(r["train_loss"]) for r in read_rows(os.path.join(d, "landscape-2d.csv"))]))
                break
    if land:
        n = round(math.sqrt(len(land[0][2])))
        md.append(f"### The 2-D landscapes (random filter-normalised plane, seed 0, [-1, 1]^2, {n} x {n}, "
                  "the first 1,000 training images; both pictures on one colour scale, log loss 0.05..20)\n")
        landscape_rows(md, [(f"{m}, tau {t}, seed {seeds[0]}", loss) for m, t, loss in land])

    shutil.rmtree(tmp)
    write_tables(out, "resnet.py", src, md)
    print(f"resnet: {len(runs)} runs -> {out}/{{tables.md,runs.csv,curves.csv,*.png}}")


if __name__ == "__main__":
    main()
