#!/usr/bin/env python3
"""Tables and plots of results/sweep.sh.

  results/gather.py [--quick | --tiny] [--sweep DIR] [--out DIR] [--replot]

Reads runs/sweep[-quick|-tiny]/<run>/{eval.csv,metrics.csv,sharpness.csv}
(each run's final metrics and sharpness through `dppf collect --csv`) and
writes results/paper[-quick|-tiny]/: runs.csv (one row per run),
landscape-*.csv (the landscapes' grids), adaptive-spread.csv (the adaptive push's spread at every evaluation),
tables.md (the tables that results/README.md shows) and PNGs drawn by
`dppf plot --x --y` (seed bands with --group-by).

--replot redraws the plots from the saved runs.csv and adaptive-spread.csv
alone (no sweep needed, e.g. after a change of the renderer); tables.md,
runs.csv and the landscapes (which need the checkpoints) stay as they are.
Standard library only; needs build/dppf (or $DPPF).
"""
import math
import os
import re
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from studylib import (band_series, collect, kendall_tau_b, landscape_rows, parse_args, plot, pm, read_rows,
                      row_at_fraction,
                      sharpness_measures, slope, write_csv, write_tables)  # noqa: E402

# Every method of the sweep in table order; ORIGINAL are the study's first five.
VARIANTS = ["ddp", "ddp-sam", "localsgd", "localsgd-sam", "easgd", "qsr", "dppf", "dppf-sam", "dppf-step",
            "dppf-adaptive", "lsgd", "mgrawa", "lgrawa", "slowmo", "diloco"]
ORIGINAL = ["ddp", "localsgd", "easgd", "qsr", "dppf"]
NEW = ["localsgd", "dppf", "dppf-step", "dppf-adaptive", "lsgd", "mgrawa", "lgrawa", "slowmo", "diloco"]
SAMS = ["ddp", "ddp-sam", "localsgd", "localsgd-sam", "dppf", "dppf-sam"]
RUN_RE = re.compile(r"(?P<v>[a-z]+(?:-[a-z]+)*?)(?:-t(?P<tau>\d+))?-s(?P<seed>\d+)")
LAW_RE = re.compile(r"law-(?:(?P<form>step)-)?push(?P<push>[\d.]+)-pull(?P<pull>[\d.]+)|law-adapt-target(?P<t>[\d.]+)")
INT_COLS = ("tau", "seed", "comm_rounds")


def load_runs(sweep):
    names = [n for n in sorted(os.listdir(sweep))
             if os.path.isdir(os.path.join(sweep, n)) and os.path.exists(os.path.join(sweep, n, "eval.csv"))]
    collected = collect([os.path.join(sweep, n) for n in names])
    runs, adaptive = [], []
    for name in names:
        d = os.path.join(sweep, name)
        r = {"run": name}
        m, law = RUN_RE.fullmatch(name), LAW_RE.fullmatch(name)
        if law:
            if law.group("t"):
                r.update(method="law-adapt", tau=4, seed=1, target=float(law.group("t")))
            else:
                r.update(method="law-step" if law.group("form") else "law", tau=4, seed=1,
                         push=float(law.group("push")), pull=float(law.group("pull")))
        elif m and m.group("v") in VARIANTS:
            r.update(method=m.group("v"), tau=int(m.group("tau") or 1), seed=int(m.group("seed")))
        else:
            continue
        e = read_rows(os.path.join(d, "eval.csv"))[-1]
        for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
            r[k] = float(e[k])
        r["gap_acc"] = r["train_acc"] - r["test_acc"]
        r["gap_loss"] = r["test_loss"] - r["train_loss"]
        rows = read_rows(os.path.join(d, "metrics.csv"))
        last = collected[d]  # the last metrics row and sharpness.<measure> columns
        mid = row_at_fraction(rows[:-1] or rows, 0.5)  # half-way: the learning rate still large
        r["spread_mid"] = float(mid["spread_mean"])
        r["mid_epoch"] = float(mid["epoch"])
        r["mid_lr"] = float(mid["lr"])
        r["comm_rounds"] = int(float(last["comm_rounds"]))
        r["comm_mb"] = float(last["comm_bytes_per_worker"]) / 1e6
        r["spread"] = float(last["spread_mean"])
        r["worker_test_acc"] = float(last["worker_test_acc"])
        r["ema_test_acc"] = float(last["ema_test_acc"])
        r["wall_s"] = float(last["wall_s"])
        r.update(sharpness_measures(last))
        if r["method"] == "law-adapt":
            for row in rows:
                adaptive.append([name, r["target"], float(row["epoch"]), float(row["lr"]), float(row["spread_mean"])])
        runs.append(r)
    return runs, adaptive


def load_saved_runs(path):
    """runs.csv as gather wrote it: numbers back to numbers, empty cells left out."""
    runs = []
    for row in read_rows(path):
        r = {"run": row["run"], "method": row["method"]}
        for k, v in row.items():
            if k not in r and v != "":
                r[k] = int(v) if k in INT_COLS else float(v)
        r.setdefault("mid_epoch", math.nan)
        r.setdefault("mid_lr", math.nan)
        runs.append(r)
    return runs


def order(k):
    return (VARIANTS.index(k[0]) if k[0] in VARIANTS else 99, k[1])


def law_table(md, law, title):
    me, ml = law[0]["mid_epoch"], law[0]["mid_lr"]
    md.append(f"### {title}\n")
    md.append(f"Spread = mean over workers of ||x_i - avg|| at a sync, before the pull and push; "
              f"mid-training = the evaluation at epoch {me:g} (lr {ml:.3g}), end = the last sync "
              f"(lr ~ 0 at the end of the cosine schedule, so no gradient drift).\n")
    md.append("| push | pull | push/pull | spread mid-training | ratio | spread at the end | ratio | test acc (%) |")
    md.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(law, key=lambda r: (r["push"] / r["pull"], r["pull"])):
        ratio = r["push"] / r["pull"]
        md.append(f"| {r['push']:g} | {r['pull']:g} | {ratio:.3g} | {r['spread_mid']:.4g} | "
                  f"{r['spread_mid'] / ratio:.2f} | {r['spread']:.4g} | {r['spread'] / ratio:.3f} | "
                  f"{100 * r['test_acc']:.2f} |")
    slopes = {}
    if len({r["push"] / r["pull"] for r in law}) > 1:
        xs = [math.log(r["push"] / r["pull"]) for r in law]
        for key, when in (("spread_mid", "mid-training"), ("spread", "at the end")):
            slopes[key] = slope(xs, [math.log(r[key]) for r in law])
            md.append(f"\nLeast-squares slope of log(spread {when}) on log(push/pull): **{slopes[key]:.3f}** "
                      f"(the no-gradient fixed point predicts 1).")
    md.append("")
    return slopes


def law_plot(out, tmp, law, title):
    lo = min(r["push"] / r["pull"] for r in law)
    hi = max(r["push"] / r["pull"] for r in law)
    # the prediction first, so the measured points are drawn over it
    f = os.path.join(tmp, "predicted push over pull.csv")
    write_csv(f, ["push_over_pull", "spread"], [(lo, lo), (hi, hi)])
    files = [f]
    for key, when in (("spread_mid", "mid-training"), ("spread", "end")):
        for pull in sorted({r["pull"] for r in law}):
            f = os.path.join(tmp, f"pull {pull:g}, {when}.csv")
            write_csv(f, ["push_over_pull", "spread"],
                      sorted((r["push"] / r["pull"], r[key]) for r in law if r["pull"] == pull))
            files.append(f)
    plot(out, "push_over_pull", "spread", files, "--logx", "--logy", "--title", title,
         "--xlabel", "push / pull", "--ylabel", "mean ||x_i - avg||")
    for f in files:
        os.remove(f)


def main():
    a = parse_args(sys.argv[1:], "sweep", "paper")
    if a is None:
        print(__doc__.strip())
        return
    sweep, out, replot = a["sweep"], a["out"], a["replot"]
    if replot and not os.path.exists(os.path.join(out, "runs.csv")):
        sys.exit(f"gather.py: no {out}/runs.csv to replot")
    if not replot and not os.path.isdir(sweep):
        sys.exit(f"gather.py: no sweep at {sweep} (run results/sweep.sh first)")
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, "series")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    if replot:
        runs = load_saved_runs(os.path.join(out, "runs.csv"))
        ap = os.path.join(out, "adaptive-spread.csv")
        adaptive = [[r["run"], float(r["target"]), float(r["epoch"]), float(r["lr"]), float(r["spread_mean"])]
                    for r in read_rows(ap)] if os.path.exists(ap) else []
    else:
        runs, adaptive = load_runs(sweep)
    main_runs = [r for r in runs if r["method"] in VARIANTS]
    law = [r for r in runs if r["method"] == "law"]
    law_step = [r for r in runs if r["method"] == "law-step"]
    law_adapt = [r for r in runs if r["method"] == "law-adapt"]
    md = []

    # ---- every run, one row
    cols = ["run", "method", "tau", "seed", "train_acc", "test_acc", "gap_acc", "train_loss", "test_loss",
            "gap_loss", "comm_rounds", "comm_mb", "spread", "spread_mid", "mid_epoch", "mid_lr", "worker_test_acc",
            "ema_test_acc", "imv", "imv_workers", "sam", "hessian_top", "wall_s", "push", "pull", "target"]
    if not replot:
        write_csv(os.path.join(out, "runs.csv"), cols, [[r.get(c, "") for c in cols] for r in runs])
        write_csv(os.path.join(out, "adaptive-spread.csv"), ["run", "target", "epoch", "lr", "spread_mean"], adaptive)

    # ---- 1. accuracy vs communication
    groups = {}
    for r in main_runs:
        groups.setdefault((r["method"], r["tau"]), []).append(r)
    keys = sorted(groups, key=order)
    ddp = [r["comm_rounds"] for r in main_runs if r["method"] == "ddp"]
    ddp_rounds = statistics.mean(ddp) if ddp else math.nan
    md.append("### Accuracy and communication (M = 4 workers, averaged model)\n")
    md.append("EMA = the exponential moving average of the averaged model (decay 0.99 a step), "
              "evaluated beside it.\n")
    md.append("| method | tau | seeds | test acc (%) | EMA test acc (%) | train acc (%) | gap (pp) | rounds | "
              "MB / worker | rounds vs ddp |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in keys:
        g = groups[k]
        rounds = statistics.mean([r["comm_rounds"] for r in g])
        md.append(f"| {k[0]} | {k[1] if not k[0].startswith('ddp') else '1 (every step)'} | {len(g)} | "
                  f"{pm([r['test_acc'] for r in g], 100)} | {pm([r.get('ema_test_acc', math.nan) for r in g], 100)} | "
                  f"{pm([r['train_acc'] for r in g], 100)} | "
                  f"{pm([r['gap_acc'] for r in g], 100)} | {rounds:.0f} | "
                  f"{statistics.mean([r['comm_mb'] for r in g]):.0f} | {rounds / ddp_rounds:.3f} |")
    md.append("")
    # mean ± std over seeds: one series per (method, seed) across tau, grouped by method
    # x = MB sent per worker rather than rounds: lsgd, grawa and the adaptive push
    # count their small collectives (losses, norms, distances) as rounds too.
    for fname, which, title in (
            ("accuracy-vs-comm.png", ORIGINAL, "first five methods"),
            ("accuracy-vs-comm-new.png", NEW, "methods of round 2"),
            ("accuracy-sam.png", SAMS, "with and without SAM")):
        files = []
        for v in which:
            for seed in sorted({r["seed"] for r in main_runs if r["method"] == v}):
                pts = sorted((r["comm_mb"], 100 * r["test_acc"]) for r in main_runs
                             if r["method"] == v and r["seed"] == seed)
                files.append(band_series(tmp, v, f"s{seed}", ["comm_mb", "test_acc_pct"], pts))
        if files:
            plot(os.path.join(out, fname), "comm_mb", "test_acc_pct", files, "--logx", "--group-by",
                 "run.out_dir", "--title", f"{title}: test accuracy, mean ± std over seeds",
                 "--xlabel", "MB sent per worker (log)", "--ylabel", "test accuracy (%)")

    # ---- 2. flatness and the generalisation gap
    have = [r for r in main_runs if "imv" in r]
    if have:
        md.append("### Flatness of the final averaged model (mean over seeds)\n")
        md.append("| method | tau | IMV | IMV (workers' directions) | SAM sharpness | lambda_max |")
        md.append("|---|---:|---:|---:|---:|---:|")
        for k in keys:
            g = [r for r in groups[k] if "imv" in r]
            if not g:
                continue
            md.append(f"| {k[0]} | {k[1]} | {pm([r['imv'] for r in g], 1, 3)} | "
                      f"{pm([r.get('imv_workers', math.nan) for r in g], 1, 3)} | "
                      f"{pm([r['sam'] for r in g], 1, 4)} | {pm([r['hessian_top'] for r in g], 1, 1)} |")
        md.append("")
        orig = [r for r in have if r["method"] in ORIGINAL]
        md.append("### Rank correlation with the generalisation gap (Kendall tau-b)\n")
        md.append(f"All = every run of the sweep ({len(have)}); first five = ddp, localsgd, easgd, qsr, dppf "
                  f"({len(orig)} runs, the set of the first study). IMV over the workers' directions is left out: "
                  "it is undefined where the workers coincide (ddp, and LocalSGD-like methods whose last step "
                  "is a sync).\n")
        md.append("| measure | all: vs train acc − test acc | all: vs test loss − train loss | "
                  "first five: vs acc gap | first five: vs loss gap |")
        md.append("|---|---:|---:|---:|---:|")
        for meas, label in (("imv", "IMV (random filter-normalised directions)"), ("sam", "SAM sharpness"),
                            ("hessian_top", "lambda_max (top Hessian eigenvalue)")):
            cells = []
            for sub in (have, orig):
                xs = [r[meas] for r in sub]
                cells.append(kendall_tau_b(xs, [r["gap_acc"] for r in sub]))
                cells.append(kendall_tau_b(xs, [r["gap_loss"] for r in sub]))
            md.append(f"| {label} | " + " | ".join(f"{c:+.3f}" for c in cells) + " |")
        md.append("")
        # IMV against the gap, every run: one colour per family (10 colours at most)
        fam = {"the first five": ORIGINAL, "SAM variants": ["ddp-sam", "localsgd-sam", "dppf-sam"],
               "DPPF variants": ["dppf-step", "dppf-adaptive"], "LSGD, GRAWA": ["lsgd", "mgrawa", "lgrawa"],
               "SlowMo, DiLoCo": ["slowmo", "diloco"]}
        files = []
        for label, ms in fam.items():
            pts = sorted((r["imv"], 100 * r["gap_acc"]) for r in have if r["method"] in ms)
            if pts:
                f = os.path.join(tmp, f"{label}.csv")
                write_csv(f, ["imv", "gap_pct"], pts)
                files.append(f)
        plot(os.path.join(out, "imv-vs-gap.png"), "imv", "gap_pct", files, "--points",
             "--title", "IMV against the generalisation gap, every run",
             "--xlabel", "IMV = 1 / mean valley width", "--ylabel", "train acc - test acc (pp)")

    # ---- 3. landscapes
    land = []
    for m in ("localsgd", "dppf") if not replot else ():
        for t in (16, 4):
            d = os.path.join(sweep, f"{m}-t{t}-s1")
            if os.path.exists(os.path.join(d, "landscape-2d.png")):
                shutil.copy(os.path.join(d, "landscape-2d.png"), os.path.join(out, f"landscape-{m}.png"))
                shutil.copy(os.path.join(d, "landscape-2d.csv"), os.path.join(out, f"landscape-{m}.csv"))
                wp = os.path.join(d, "plane-workers", "landscape-2d")
                if os.path.exists(wp + ".png"):
                    shutil.copy(wp + ".png", os.path.join(out, f"landscape-{m}-workers-plane.png"))
                    shutil.copy(wp + ".csv", os.path.join(out, f"landscape-{m}-workers-plane.csv"))
                loss = [float(r["train_loss"]) for r in read_rows(os.path.join(out, f"landscape-{m}.csv"))]
                land.append((m, t, loss))
                break
    if land:
        n = round(math.sqrt(len(land[0][2])))
        md.append(f"### The 2-D landscapes in numbers (random filter-normalised plane, seed 0, [-1, 1]^2, "
                  f"{n} x {n}, the first training images: 2,000 in the full sweep)\n")
        landscape_rows(md, [(f"{m}, tau {t}, seed 1", loss) for m, t, loss in land])

    # ---- 4. the push/pull law during training: per-sync and per-step forms, adaptive push
    if law:
        law_table(md, law, "Worker spread against push/pull, push at each sync (dppf, tau 4, seed 1)")
        law_plot(os.path.join(out, "push-pull-law.png"), tmp, law, "worker spread vs push/pull (dppf, tau 4)")
    if law_step:
        law_table(md, law_step, "Worker spread against push/pull, push and pull at every step "
                                "(`push_every: step`, `pull_every: step`; dppf, tau 4, seed 1)")
        law_plot(os.path.join(out, "push-pull-law-step.png"), tmp, law_step,
                 "worker spread vs push/pull, per-step forces (tau 4)")
    if law_adapt:
        md.append("### The adaptive push (`target_spread`; dppf, tau 4, pull 0.5, push starting at 0.05, seed 1)\n")
        md.append("Spread at the evaluations at a quarter, half and three quarters of the run and at the end, "
                  "and its ratio to the target (`adaptive-spread.csv` has every evaluation).\n")
        md.append("| target | spread at 1/4 | at 1/2 | at 3/4 | at the end | ratio 1/4 | ratio 1/2 | ratio 3/4 | "
                  "ratio end | test acc (%) |")
        md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sorted(law_adapt, key=lambda r: r["target"]):
            rows = [{"epoch": x[2], "spread_mean": x[4]} for x in adaptive if x[0] == r["run"]]
            if not rows:
                continue
            sp = [float(row_at_fraction(rows, f)["spread_mean"]) for f in (0.25, 0.5, 0.75)] + [r["spread"]]
            md.append(f"| {r['target']:g} | " + " | ".join(f"{s:.4g}" for s in sp) + " | " +
                      " | ".join(f"{s / r['target']:.2f}" for s in sp) + f" | {100 * r['test_acc']:.2f} |")
        md.append("")
        files = []
        for t in sorted({x[1] for x in adaptive}):
            pts = [(x[2], x[4]) for x in adaptive if x[1] == t]
            f = os.path.join(tmp, f"target {t:g}.csv")
            write_csv(f, ["epoch", "spread"], pts)
            files.append(f)
            f = os.path.join(tmp, f"target {t:g} (the line).csv")
            write_csv(f, ["epoch", "spread"], [(0, t), (max(p[0] for p in pts), t)])
            files.append(f)
        plot(os.path.join(out, "adaptive-spread.png"), "epoch", "spread", files, "--logy",
             "--title", "adaptive push: worker spread at each evaluation vs its target",
             "--xlabel", "epoch", "--ylabel", "mean ||x_i - avg|| at the sync")

    shutil.rmtree(tmp)
    if replot:
        print(f"gather: {len(runs)} runs from {out}/runs.csv -> plots redrawn")
        return
    write_tables(out, "gather.py", sweep, md)
    print(f"gather: {len(runs)} runs -> {out}/{{tables.md,runs.csv,adaptive-spread.csv,*.png}}")


if __name__ == "__main__":
    main()
