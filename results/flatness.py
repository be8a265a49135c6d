#!/usr/bin/env python3
"""Tables and plots of results/flatness.sh (issue #20 item 1).

  results/flatness.py [--quick | --tiny] [--runs DIR] [--out DIR]

Reads runs/flatness[-quick|-tiny]/<run>/{eval.csv,sharpness.csv} (through
`dppf collect --csv`) and writes results/flatness[-quick|-tiny]/: runs.csv
(one row per model: its hyper-parameters, errors, gap and every measure),
tables.md (Kendall's tau of each measure with the generalisation gap and with
20 log10(gap), and Jiang et al.'s granulated Kendall Psi) and one scatter plot
per measure (`dppf plot --x MEASURE --y gap_pp --points`).

Generalisation gap = test error − train error (percentage points), both of the
workers' averaged model on the whole sets (`dppf eval`). Kendall's tau is
invariant under any increasing transform of either variable, so tau against
20 log10(gap) must equal tau against the gap over the same models; the script
checks it (and exits 1 if not). Psi (Jiang et al. 2019, Sec. 4): for each
hyper-parameter axis i, the models are grouped by the values of every other
axis (the method included); psi_i = the mean over groups of Kendall's tau
within the group (with two values an axis: +1, -1 or 0 for each pair that
differs in axis i only); Psi = the mean of psi_i over the axes.
Standard library only; needs build/dppf (or $DPPF).
"""
import math
import os
import re
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from studylib import (collect, finite, kendall_tau_b, parse_args, plot, pm, read_rows, sharpness_measures,
                      write_csv, write_tables)  # noqa: E402

RUN_RE = re.compile(r"(?P<method>[a-z]+)-b(?P<batch>\d+)-lr(?P<lr>[\d.]+)-m(?P<momentum>[\d.]+)-w(?P<width>\d+)"
                    r"-wd(?P<wd>[\d.e-]+)")
AXES = ["batch", "lr", "momentum", "width", "wd"]
AXIS_LABEL = {"batch": "batch size", "lr": "learning rate", "momentum": "momentum", "width": "width",
              "wd": "weight decay", "method": "method"}
# (column, label, larger = sharper?) — MV is a width: larger = flatter
MEASURES = [("imv", "IMV (random directions)"), ("imv_workers", "IMV (workers' directions)"),
            ("mv", "MV (random directions)"), ("hessian_top", "lambda_max"), ("hessian_trace", "Hessian trace"),
            ("sam", "SAM sharpness (rho 0.05)"), ("eps_sharpness", "epsilon-sharpness (1e-3)")]


def load(src):
    names = [n for n in sorted(os.listdir(src)) if RUN_RE.fullmatch(n)
             and os.path.exists(os.path.join(src, n, "eval.csv"))]
    collected = collect([os.path.join(src, n) for n in names])
    runs = []
    for n in names:
        m = RUN_RE.fullmatch(n)
        r = {"run": n, "method": m.group("method")}
        for k in AXES:
            r[k] = float(m.group(k))
        e = read_rows(os.path.join(src, n, "eval.csv"))[-1]
        r["train_err"] = 100 * (1 - float(e["train_acc"]))
        r["test_err"] = 100 * (1 - float(e["test_acc"]))
        # Accuracies are counts over 10,000 (or 60,000) images: rounding drops the
        # float noise that made equal gaps unequal (a spurious non-tie that
        # the log transform then turned into a tie, changing tau).
        r["gap"] = round(r["test_err"] - r["train_err"], 6)
        r["gap_db"] = 20 * math.log10(r["gap"]) if r["gap"] > 0 else math.nan
        r["train_loss"], r["test_loss"] = float(e["train_loss"]), float(e["test_loss"])
        r.update(sharpness_measures(collected[os.path.join(src, n)]))
        runs.append(r)
    return runs


def psi(runs, meas, axes):
    """Jiang et al.'s granulated Kendall: per axis, the mean over groups (all
    other axes fixed) of tau within the group; and the mean over axes."""
    per_axis = {}
    for ax in axes:
        others = [a for a in axes + ["method"] if a != ax]
        groups = {}
        for r in runs:
            if finite(r.get(meas)):
                groups.setdefault(tuple(r[o] for o in others), []).append(r)
        taus = [kendall_tau_b([r[meas] for r in g], [r["gap"] for r in g])
                for g in groups.values() if len({r[ax] for r in g}) > 1]
        taus = [t for t in taus if finite(t)]
        per_axis[ax] = (statistics.mean(taus) if taus else math.nan, len(taus))
    vals = [v for v, _ in per_axis.values() if finite(v)]
    return per_axis, (statistics.mean(vals) if vals else math.nan)


def main():
    a = parse_args(sys.argv[1:], "flatness", "flatness")
    if a is None:
        print(__doc__.strip())
        return
    src, out = a["sweep"], a["out"]
    if not os.path.isdir(src):
        sys.exit(f"flatness.py: no runs at {src} (run results/flatness.sh first)")
    os.makedirs(out, exist_ok=True)
    runs = load(src)
    if len(runs) < 3:
        sys.exit(f"flatness.py: {len(runs)} finished runs in {src}: too few")
    axes = [ax for ax in AXES if len({r[ax] for r in runs}) > 1]  # the axes this grid varies
    cols = ["run", "method"] + AXES + ["train_err", "test_err", "gap", "gap_db", "train_loss", "test_loss"] + \
        [m for m, _ in MEASURES]
    write_csv(os.path.join(out, "runs.csv"), cols, [[r.get(c, "") for c in cols] for r in runs])
    md = []
    pos = [r for r in runs if r["gap"] > 0]
    md.append(f"### The grid: {len(runs)} models ({', '.join(AXIS_LABEL[x] for x in axes)} x method)\n")
    md.append("| method | models | train error (%) | test error (%) | gap (pp) | gap range (pp) |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for m in ("localsgd", "dppf"):
        g = [r for r in runs if r["method"] == m]
        if g:
            md.append(f"| {m} | {len(g)} | {pm([r['train_err'] for r in g])} | {pm([r['test_err'] for r in g])} | "
                      f"{pm([r['gap'] for r in g])} | {min(r['gap'] for r in g):.2f} .. {max(r['gap'] for r in g):.2f} |")
    md.append("")
    md.append("Main effects: the mean over the models at each value of an axis (gap in pp, IMV):\n")
    md.append("| axis | value | models | gap (pp) | test error (%) | IMV |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for ax in axes + ["method"]:
        for v in sorted({r[ax] for r in runs}, key=lambda v: (isinstance(v, str), v)):
            g = [r for r in runs if r[ax] == v]
            vs = v if isinstance(v, str) else f"{v:g}"
            md.append(f"| {AXIS_LABEL[ax]} | {vs} | {len(g)} | {pm([r['gap'] for r in g])} | "
                      f"{pm([r['test_err'] for r in g])} | {pm([r.get('imv', math.nan) for r in g], 1, 2)} |")
    md.append("")

    md.append("### Kendall's tau of each measure with the generalisation gap, and the granulated Psi\n")
    md.append(f"tau(gap) over every model with the measure; tau(20 log10 gap) over those with a positive gap "
              f"({len(pos)} of {len(runs)}), next to tau(gap) over the same models (the check: equal); per-method "
              f"tau; psi per axis and Psi over the axes ({', '.join(AXIS_LABEL[x] for x in axes)}).\n")
    head = "| measure | n | tau(gap) | tau(20 log10 gap) | tau(gap), same models | localsgd | dppf |"
    head += "".join(f" psi {AXIS_LABEL[x]} |" for x in axes) + " Psi |"
    md.append(head)
    md.append("|---|" + "---:|" * (6 + len(axes) + 1))
    bad = []
    table = []
    for meas, label in MEASURES:
        have = [r for r in runs if finite(r.get(meas))]
        if len(have) < 3:
            continue
        t = kendall_tau_b([r[meas] for r in have], [r["gap"] for r in have])
        hp = [r for r in have if r["gap"] > 0]
        tdb = kendall_tau_b([r[meas] for r in hp], [r["gap_db"] for r in hp])
        tsame = kendall_tau_b([r[meas] for r in hp], [r["gap"] for r in hp])
        if not (abs(tdb - tsame) < 1e-12 or (math.isnan(tdb) and math.isnan(tsame))):
            bad.append(f"{meas}: tau(20 log10 gap) {tdb} != tau(gap) {tsame}")
        per_m = []
        for m in ("localsgd", "dppf"):
            g = [r for r in have if r["method"] == m]
            per_m.append(kendall_tau_b([r[meas] for r in g], [r["gap"] for r in g]) if len(g) > 2 else math.nan)
        per_axis, big = psi(have, meas, axes)
        table.append([meas, len(have), t, tdb, tsame] + per_m + [per_axis[x][0] for x in axes] + [big])
        f = lambda x: f"{x:+.3f}" if finite(x) else "-"  # noqa: E731
        md.append(f"| {label} | {len(have)} | {f(t)} | {f(tdb)} | {f(tsame)} | {f(per_m[0])} | {f(per_m[1])} |" +
                  "".join(f" {f(per_axis[x][0])} |" for x in axes) + f" **{f(big)}** |")
    md.append("")
    md.append("Groups per axis (pairs of models that differ in that axis only): " +
              ", ".join(f"{AXIS_LABEL[x]} {psi(runs, 'gap', axes)[0][x][1]}" for x in axes) + ".\n")
    write_csv(os.path.join(out, "kendall.csv"),
              ["measure", "n", "tau_gap", "tau_gap_db", "tau_gap_same_models", "tau_localsgd", "tau_dppf"] +
              [f"psi_{x}" for x in axes] + ["Psi"], table)

    # one scatter per measure, coloured by method
    tmp = os.path.join(out, "series")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for meas, label in MEASURES:
        files = []
        for m in ("localsgd", "dppf"):
            pts = sorted((r[meas], r["gap"]) for r in runs if r["method"] == m and finite(r.get(meas)))
            if pts:
                f = os.path.join(tmp, f"{m}.csv")
                write_csv(f, [meas, "gap_pp"], pts)
                files.append(f)
        if files:
            logx = ["--logx"] if all(p > 0 for p in (r.get(meas, 1) for r in runs) if finite(p)) else []
            plot(os.path.join(out, f"{meas}-vs-gap.png"), meas, "gap_pp", files, "--points", *logx,
                 "--title", f"{label} against the gap, {len(runs)} models",
                 "--xlabel", label + (" (log)" if logx else ""), "--ylabel", "test error - train error (pp)")
    shutil.rmtree(tmp)
    write_tables(out, "flatness.py", src, md)
    print(f"flatness: {len(runs)} runs -> {out}/{{tables.md,runs.csv,kendall.csv,*-vs-gap.png}}")
    if bad:
        sys.exit("flatness.py: the log transform changed Kendall's tau: " + "; ".join(bad))


if __name__ == "__main__":
    main()
