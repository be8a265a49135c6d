"""Helpers shared by results/gather.py, results/noniid.py and results/flatness.py
(standard library only): statistics, reading run folders through `dppf
collect`, and figures through `dppf plot`."""
import csv
import io
import math
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DPPF = os.environ.get("DPPF", os.path.join(ROOT, "build", "dppf"))


def parse_args(argv, study, outstem):
    """--quick / --tiny / --replot / --sweep DIR / --out DIR, as every gather step takes them."""
    a = {"mode": "full", "replot": False, "sweep": None, "out": None}
    it = iter(argv)
    for x in it:
        if x in ("--quick", "--tiny"):
            a["mode"] = x[2:]
        elif x == "--replot":
            a["replot"] = True
        elif x in ("--sweep", "--runs", "--out"):
            v = next(it, None)
            if v is None:
                raise SystemExit(f"{x} needs a folder")
            a["sweep" if x != "--out" else "out"] = os.path.abspath(v)
        elif x in ("-h", "--help"):
            return None
        else:
            raise SystemExit(f"unknown option '{x}' (see --help)")
    suffix = "" if a["mode"] == "full" else "-" + a["mode"]
    a["sweep"] = a["sweep"] or os.path.join(ROOT, "runs", study + suffix)
    a["out"] = a["out"] or os.path.join(ROOT, "results", outstem + suffix)
    return a


def study_dirs(argv, study, outstem, script, doc):
    """The start of a gather step: its options (None after --help, which
    prints doc), the runs' folder (which must exist), the output folder and
    an empty series/ folder in it for the plots' inputs: (src, out, tmp)."""
    a = parse_args(argv, study, outstem)
    if a is None:
        print(doc.strip())
        return None
    src, out = a["sweep"], a["out"]
    if not os.path.isdir(src):
        sys.exit(f"{script}: no runs at {src} (run results/{study}.sh first)")
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, "series")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    return src, out, tmp


def landscape_rows(md, land):
    """Table rows of 2-D landscapes: land is [(label, train losses of the grid
    in row order)]; the loss at the centre and the share of the plane under
    0.5, 1 and 2."""
    md.append("| model | loss at the centre | share of the plane with loss < 0.5 | < 1 | < 2 |")
    md.append("|---|---:|---:|---:|---:|")
    for label, loss in land:
        share = [100 * sum(v < c for v in loss) / len(loss) for c in (0.5, 1, 2)]
        md.append(f"| {label} | {loss[len(loss) // 2]:.4f} | {share[0]:.1f}% | "
                  f"{share[1]:.1f}% | {share[2]:.1f}% |")
    md.append("")


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


def finite(v):
    return isinstance(v, (int, float)) and math.isfinite(v)


def mean_std(v):
    v = [x for x in v if finite(x)]
    if not v:
        return float("nan"), float("nan")
    return statistics.mean(v), (statistics.stdev(v) if len(v) > 1 else 0.0)


def pm(v, scale=1.0, digits=2):
    """'mean ± std' over the finite values (scaled), '-' when there are none."""
    v = [x * scale for x in v if finite(x)]
    if not v:
        return "-"
    m, s = mean_std(v)
    if len(v) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def slope(xs, ys):
    """Least-squares slope of ys on xs."""
    mx, my = statistics.mean(xs), statistics.mean(ys)
    den = sum((a - mx) ** 2 for a in xs)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / den if den else float("nan")


def collect(dirs):
    """`dppf collect --csv`: per run folder, its last metrics row, the spec keys
    that differ and sharpness.<measure> columns."""
    if not dirs:
        return {}
    out = subprocess.run([DPPF, "collect", "--csv", *dirs], check=True, stdout=subprocess.PIPE, text=True).stdout
    return {row["run"]: row for row in csv.DictReader(io.StringIO(out))}


def finished_runs(runs_dir, run_re):
    """The run folders of a study whose names match run_re and that hold an
    eval.csv (finished), in name order: [(name, match, folder, the folder's
    `dppf collect` row)]."""
    names = [n for n in sorted(os.listdir(runs_dir)) if run_re.fullmatch(n)
             and os.path.exists(os.path.join(runs_dir, n, "eval.csv"))]
    dirs = [os.path.join(runs_dir, n) for n in names]
    collected = collect(dirs)
    return [(n, run_re.fullmatch(n), d, collected[d]) for n, d in zip(names, dirs)]


def sharpness_measures(row):
    """The sharpness.<measure> columns of a `dppf collect` row as {measure: value},
    without sharpness.csv's train_loss and train_acc: those are on the
    sharpness subset (--samples), not the whole training set that `dppf eval`
    measures, and must not replace eval.csv's."""
    out = {}
    for k, v in row.items():
        if k.startswith("sharpness.") and v not in ("", "nan"):
            m = k[len("sharpness."):]
            out["sharp_" + m if m in ("train_loss", "train_acc") else m] = float(v)
    return out


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def plot(out, xcol, ycol, files, *opts):
    cmd = [DPPF, "plot", "--x", xcol, "--y", ycol, "-o", out, *opts, *files]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def write_tables(out, script, src, md):
    """<out>/tables.md: the markdown lines `md`, headed by which script wrote
    them from which runs (a path inside the repository shown relative to it)."""
    rel = os.path.relpath(src, ROOT)
    with open(os.path.join(out, "tables.md"), "w") as f:
        f.write(f"<!-- written by results/{script} from {src if rel.startswith('..') else rel} -->\n\n")
        f.write("\n".join(md) + "\n")


def write_csv(path, cols, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(r)


def band_series(tmp, label, key, cols, rows):
    """One run's series for `dppf plot --group-by run.out_dir`: a csv in its own
    folder whose spec.yaml names the group (run.out_dir is a free string key,
    so it can carry any label). Series of one label are drawn as their mean
    with a mean ± std band. Returns the csv's path."""
    d = os.path.join(tmp, f"{label}--{key}".replace("/", "_").replace(" ", "_"))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "spec.yaml"), "w") as f:
        f.write(f'run:\n  out_dir: "{label}"\n')
    path = os.path.join(d, "series.csv")
    write_csv(path, cols, rows)
    return path


def spec_value(run_dir, dotted):
    """A scalar from a run's spec.yaml (the resolved spec dppf writes: two
    levels, `section:` then `  key: value`)."""
    sec, key = dotted.split(".", 1)
    cur = None
    with open(os.path.join(run_dir, "spec.yaml")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            if not line.startswith(" "):
                cur = line.split(":")[0].strip()
            elif cur == sec:
                k, _, v = line.strip().partition(":")
                if k == key:
                    return v.split("#")[0].strip().strip('"')
    return None


def row_at_fraction(rows, frac):
    """The metrics row whose epoch is nearest frac of the last row's epoch."""
    last = float(rows[-1]["epoch"])
    return min(rows, key=lambda r: abs(float(r["epoch"]) - frac * last))
