#!/usr/bin/env python3
"""Gathers the runs of results/sweep.sh into tables (markdown, CSV) and plots.

    results/gather.py [--quick] [--replot]

Reads runs/sweep[-quick]/<run>/{eval.csv,metrics.csv} and, through
`dppf collect --csv`, each run's final metrics and sharpness.csv; writes
results/paper[-quick]/: runs.csv (one row per run), tables.md (the tables that
results/README.md shows), and PNGs drawn by `dppf plot --x --y`.

--replot redraws the three plots from the saved results/paper[-quick]/runs.csv
alone (no sweep needed, e.g. after a change of the renderer); tables.md,
runs.csv and the landscapes (which need the checkpoints) stay as they are.
Standard library only; needs build/dppf (or $DPPF).
"""
import csv
import io
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DPPF = os.environ.get("DPPF", os.path.join(ROOT, "build", "dppf"))
METHODS = ["ddp", "localsgd", "easgd", "qsr", "dppf"]


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def kendall_tau_b(x, y):
    """Kendall's tau-b (ties in either variable handled as in scipy)."""
    n = len(x)
    conc = disc = tx = ty = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif (dx > 0) == (dy > 0):
                conc += 1
            else:
                disc += 1
    den = math.sqrt((conc + disc + tx) * (conc + disc + ty))
    return (conc - disc) / den if den else float("nan")


def mean_std(v):
    if not v:
        return float("nan"), float("nan")
    return statistics.mean(v), (statistics.stdev(v) if len(v) > 1 else 0.0)


def pm(v, scale=1.0, digits=2):
    v = [x for x in v if math.isfinite(x)]
    if not v:
        return "-"
    m, s = mean_std([x * scale for x in v])
    if len(v) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def collect(dirs):
    """`dppf collect --csv`: per run folder, its last metrics row and sharpness measures."""
    out = subprocess.run([DPPF, "collect", "--csv", *dirs], check=True, stdout=subprocess.PIPE, text=True).stdout
    return {row["run"]: row for row in csv.DictReader(io.StringIO(out))}


def load_runs(sweep):
    runs = []
    names = [n for n in sorted(os.listdir(sweep))
             if os.path.isdir(os.path.join(sweep, n)) and os.path.exists(os.path.join(sweep, n, "eval.csv"))]
    collected = collect([os.path.join(sweep, n) for n in names]) if names else {}
    for name in names:
        d = os.path.join(sweep, name)
        ev = os.path.join(d, "eval.csv")
        r = {"run": name}
        m = re.fullmatch(r"(ddp)-s(\d+)|(\w+)-t(\d+)-s(\d+)|law-push([\d.]+)-pull([\d.]+)", name)
        if not m:
            continue
        if m.group(1):
            r.update(method="ddp", tau=1, seed=int(m.group(2)))
        elif m.group(3):
            r.update(method=m.group(3), tau=int(m.group(4)), seed=int(m.group(5)))
        else:
            r.update(method="law", tau=4, seed=1, push=float(m.group(6)), pull=float(m.group(7)))
        e = read_rows(ev)[-1]
        for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
            r[k] = float(e[k])
        r["gap_acc"] = r["train_acc"] - r["test_acc"]
        r["gap_loss"] = r["test_loss"] - r["train_loss"]
        rows = read_rows(os.path.join(d, "metrics.csv"))
        last = collected[d]  # the last metrics row and sharpness.<measure> columns
        mid = rows[(len(rows) - 1) // 2]  # half-way (epoch 8 of 16): the learning rate still large
        r["spread_mid"] = float(mid["spread_mean"])
        r["mid_epoch"] = float(mid["epoch"])
        r["mid_lr"] = float(mid["lr"])
        r["comm_rounds"] = int(float(last["comm_rounds"]))
        r["comm_mb"] = float(last["comm_bytes_per_worker"]) / 1e6
        r["spread"] = float(last["spread_mean"])
        r["worker_test_acc"] = float(last["worker_test_acc"])
        r["wall_s"] = float(last["wall_s"])
        for k, v in last.items():
            if k.startswith("sharpness.") and v != "":
                r[k[len("sharpness."):]] = float(v)
        runs.append(r)
    return runs


def load_saved_runs(path):
    """runs.csv as gather wrote it: numbers back to numbers, empty cells left out."""
    runs = []
    for row in read_rows(path):
        r = {"run": row["run"], "method": row["method"]}
        for k, v in row.items():
            if k not in r and v != "":
                r[k] = int(v) if k in ("tau", "seed", "comm_rounds") else float(v)
        r.setdefault("mid_epoch", math.nan)
        r.setdefault("mid_lr", math.nan)
        runs.append(r)
    return runs


def plot(out, xcol, ycol, files, *opts):
    cmd = [DPPF, "plot", "--x", xcol, "--y", ycol, "-o", out, *opts, *files]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def write_csv(path, cols, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(r)


def main():
    quick = "--quick" in sys.argv[1:]
    replot = "--replot" in sys.argv[1:]
    sweep = os.path.join(ROOT, "runs", "sweep-quick" if quick else "sweep")
    out = os.path.join(ROOT, "results", "paper-quick" if quick else "paper")
    if replot and not os.path.exists(os.path.join(out, "runs.csv")):
        sys.exit(f"gather.py: no {os.path.relpath(out, ROOT)}/runs.csv to replot")
    if not replot and not os.path.isdir(sweep):
        sys.exit(f"gather.py: no sweep at {sweep} (run results/sweep.sh{' --quick' if quick else ''} first)")
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, "series")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    runs = load_saved_runs(os.path.join(out, "runs.csv")) if replot else load_runs(sweep)
    main_runs = [r for r in runs if r["method"] != "law"]
    law = [r for r in runs if r["method"] == "law"]
    md = []

    # ---- every run, one row
    cols = ["run", "method", "tau", "seed", "train_acc", "test_acc", "gap_acc", "train_loss", "test_loss",
            "gap_loss", "comm_rounds", "comm_mb", "spread", "spread_mid", "worker_test_acc", "imv", "imv_workers", "sam",
            "hessian_top", "wall_s", "push", "pull"]
    if not replot:
        write_csv(os.path.join(out, "runs.csv"), cols, [[r.get(c, "") for c in cols] for r in runs])

    # ---- 1. accuracy vs communication
    groups = {}
    for r in main_runs:
        groups.setdefault((r["method"], r["tau"]), []).append(r)
    keys = sorted(groups, key=lambda k: (METHODS.index(k[0]) if k[0] in METHODS else 99, k[1]))
    ddp_rounds = mean_std([r["comm_rounds"] for r in main_runs if r["method"] == "ddp"])[0]
    md.append("### Accuracy and communication (M = 4 workers, averaged model)\n")
    md.append("| method | tau | seeds | test acc (%) | train acc (%) | gap (pp) | rounds | MB / worker | rounds vs ddp |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in keys:
        g = groups[k]
        rounds = statistics.mean([r["comm_rounds"] for r in g])
        md.append(f"| {k[0]} | {k[1] if k[0] != 'ddp' else '1 (every step)'} | {len(g)} | "
                  f"{pm([r['test_acc'] for r in g], 100)} | {pm([r['train_acc'] for r in g], 100)} | "
                  f"{pm([r['gap_acc'] for r in g], 100)} | {rounds:.0f} | "
                  f"{statistics.mean([r['comm_mb'] for r in g]):.0f} | {rounds / ddp_rounds:.3f} |")
    md.append("")
    files = []
    for m in METHODS:
        pts = sorted((statistics.mean([r["comm_rounds"] for r in groups[k]]),
                      100 * statistics.mean([r["test_acc"] for r in groups[k]])) for k in keys if k[0] == m)
        if not pts:
            continue
        f = os.path.join(tmp, f"{m}.csv")
        write_csv(f, ["comm_rounds", "test_acc_pct"], pts)
        files.append(f)
    plot(os.path.join(out, "accuracy-vs-rounds.png"), "comm_rounds", "test_acc_pct", files, "--logx",
         "--title", "test accuracy (mean over seeds) vs communication rounds",
         "--xlabel", "communication rounds per worker (log)", "--ylabel", "test accuracy (%)")

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
        md.append(f"### Rank correlation with the generalisation gap ({len(have)} runs, Kendall tau-b)\n")
        md.append("| measure | vs train acc − test acc | vs test loss − train loss |")
        md.append("|---|---:|---:|")
        for meas, label in (("imv", "IMV (random filter-normalised directions)"), ("sam", "SAM sharpness"),
                            ("hessian_top", "lambda_max (top Hessian eigenvalue)")):
            xs = [r[meas] for r in have]
            t1 = kendall_tau_b(xs, [r["gap_acc"] for r in have])
            t2 = kendall_tau_b(xs, [r["gap_loss"] for r in have])
            md.append(f"| {label} | {t1:+.3f} | {t2:+.3f} |")
        md.append("")
        files = []
        for m in METHODS:
            pts = [(r["imv"], 100 * r["gap_acc"]) for r in have if r["method"] == m]
            if pts:
                f = os.path.join(tmp, f"{m}.csv")
                write_csv(f, ["imv", "gap_pct"], sorted(pts))
                files.append(f)
        plot(os.path.join(out, "imv-vs-gap.png"), "imv", "gap_pct", files, "--points",
             "--title", "IMV against the generalisation gap, every run",
             "--xlabel", "IMV = 1 / mean valley width", "--ylabel", "train acc - test acc (pp)")

    # ---- 3. landscapes
    for m in ("localsgd", "dppf") if not replot else ():
        for t in (16, 4):
            d = os.path.join(sweep, f"{m}-t{t}-s1")
            if os.path.exists(os.path.join(d, "landscape-2d.png")):
                shutil.copy(os.path.join(d, "landscape-2d.png"), os.path.join(out, f"landscape-{m}.png"))
                wp = os.path.join(d, "plane-workers", "landscape-2d.png")
                if os.path.exists(wp):
                    shutil.copy(wp, os.path.join(out, f"landscape-{m}-workers-plane.png"))
                break

    land = []
    for m in ("localsgd", "dppf") if not replot else ():
        for t in (16, 4):
            f = os.path.join(sweep, f"{m}-t{t}-s1", "landscape-2d.csv")
            if os.path.exists(f):
                loss = [float(r["train_loss"]) for r in read_rows(f)]
                land.append((m, t, loss))
                break
    if land:
        md.append("### The 2-D landscapes in numbers (random filter-normalised plane, seed 0, [-1, 1]^2, "
                  "21 x 21, first 2000 training images)\n")
        md.append("| model | loss at the centre | share of the plane with loss < 0.5 | < 1 | < 2 |")
        md.append("|---|---:|---:|---:|---:|")
        for m, t, loss in land:
            share = [100 * sum(v < c for v in loss) / len(loss) for c in (0.5, 1, 2)]
            md.append(f"| {m}, tau {t}, seed 1 | {loss[len(loss) // 2]:.4f} | {share[0]:.1f}% | "
                      f"{share[1]:.1f}% | {share[2]:.1f}% |")
        md.append("")

    # ---- 4. the push/pull law
    if law:
        md.append("### Worker spread against push/pull (dppf, tau 4, seed 1)\n")
        me, ml = law[0]["mid_epoch"], law[0]["mid_lr"]
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
        if len(law) > 2:
            xs = [math.log(r["push"] / r["pull"]) for r in law]
            for key, when in (("spread_mid", "mid-training"), ("spread", "at the end")):
                ys = [math.log(r[key]) for r in law]
                mx, my = statistics.mean(xs), statistics.mean(ys)
                slope = sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / sum((a - mx) ** 2 for a in xs)
                md.append(f"\nLeast-squares slope of log(spread {when}) on log(push/pull): **{slope:.3f}** "
                          f"(the no-gradient fixed point predicts 1).")
            md.append("")
        # the prediction first, so the measured points are drawn over it
        lo = min(r["push"] / r["pull"] for r in law)
        hi = max(r["push"] / r["pull"] for r in law)
        f = os.path.join(tmp, "predicted push over pull.csv")
        write_csv(f, ["push_over_pull", "spread"], [(lo, lo), (hi, hi)])
        files = [f]
        for key, when in (("spread_mid", "mid-training"), ("spread", "end")):
            for pull in sorted({r["pull"] for r in law}):
                f = os.path.join(tmp, f"pull {pull:g}, {when}.csv")
                write_csv(f, ["push_over_pull", "spread"],
                          sorted((r["push"] / r["pull"], r[key]) for r in law if r["pull"] == pull))
                files.append(f)
        plot(os.path.join(out, "push-pull-law.png"), "push_over_pull", "spread", files, "--logx", "--logy",
             "--title", "worker spread vs push/pull (dppf, tau 4)",
             "--xlabel", "push / pull", "--ylabel", "mean ||x_i - avg||")

    shutil.rmtree(tmp)
    if replot:
        print(f"gather: {len(runs)} runs from {os.path.relpath(out, ROOT)}/runs.csv -> "
              "{accuracy-vs-rounds,imv-vs-gap,push-pull-law}.png")
        return
    with open(os.path.join(out, "tables.md"), "w") as f:
        f.write(f"<!-- written by results/gather.py{' --quick' if quick else ''} from {os.path.relpath(sweep, ROOT)} -->\n\n")
        f.write("\n".join(md) + "\n")
    print(f"gather: {len(runs)} runs -> {os.path.relpath(out, ROOT)}/"
          "{tables.md,runs.csv,accuracy-vs-rounds.png,imv-vs-gap.png,push-pull-law.png,landscape-*.png}")


if __name__ == "__main__":
    main()
