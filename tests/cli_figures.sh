# Figures as files: PNG metadata (tEXt: build, command line, spec) and size
# by --dpi, SVG that is well-formed XML with its labels as text, PDF that
# parses, --group-by, landscapes in every format; and the build line on top
# of spec.yaml but not in the checkpoint.
source "$(dirname "$0")/clilib.sh" "$@"
TINY="--set data.dataset=synthetic --set data.shape=[1,8,8] --set data.train_size=256 --set data.test_size=64
      --set model.arch=mlp --set model.hidden=[8] --set optim.epochs=2 --set run.eval_every=0.5 --quiet"
expect_exit 0 "run a" -- "$DPPF" train base.yaml $TINY --set optim.lr=0.05 --set run.out_dir=a
expect_exit 0 "run b (2 workers)" -- "$DPPF" train base.yaml $TINY --set optim.lr=0.1 --set dist.workers=2 \
  --set dist.algorithm=localsgd --set dist.tau=2 --set run.out_dir=b
expect_exit 0 "run c (as b, another seed)" -- "$DPPF" train base.yaml $TINY --set optim.lr=0.1 --set dist.workers=2 \
  --set dist.algorithm=localsgd --set dist.tau=2 --set run.seed=5 --set run.out_dir=c

# PNG: chunks and size read with the standard library alone
cat > png.py <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, text = 8, {}
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0], "bad CRC"
    if kind == b"IHDR":
        w, h = struct.unpack(">II", body[:8])
    if kind == b"tEXt":
        k, v = body.split(b"\0", 1)
        text[k.decode("latin-1")] = v.decode("latin-1")
    pos += 12 + n
print(f"size {w}x{h}")
for k, v in text.items():
    print(f"{k}: {v}")
PY
expect_exit 0 "curves.png of a run is a PNG" -- python3 png.py a/curves.png
expect_output "^size 1100x800$" "11 x 8 inches at 100 dpi"
expect_output "^Software: dppf [0-9.]+ \(git " "tEXt Software: the build"
expect_output "^Command: dppf train base.yaml .*run.out_dir=a" "tEXt Command: the command line"
expect_output "^Spec: " "tEXt Spec"
expect_output "^  algorithm: ddp" "... holding the run's spec"
expect_exit 0 "plot --dpi 50" -- "$DPPF" plot --dpi 50 -o small.png a/metrics.csv
python3 png.py small.png > "$WORK/out"; expect_output "^size 550x400$" "--dpi 50: 550x400 pixels"
expect_output "^Command: dppf plot --dpi 50 -o small.png a/metrics.csv" "plot records its command line"

# spec.yaml starts with the build; the checkpoint's spec does not carry it
head -n 1 a/spec.yaml | grep -qE '^# built by dppf [0-9.]+ \(git [^)]+\), BLIS kernels [a-z0-9_]+, .*MPI' &&
  pass "spec.yaml starts with the build line" || fail "spec.yaml line 1: $(head -n 1 a/spec.yaml)"
grep -qa "built by" a/checkpoint.bin && fail "the checkpoint holds the build line" || pass "the checkpoint's spec is build-independent"
expect_exit 0 "a spec.yaml with its build line is a valid spec" -- "$DPPF" eval a/spec.yaml --checkpoint a/checkpoint.bin

# SVG: well-formed XML, labels as <text>
cat > svg.py <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
print("width", root.get("width"))
for t in root.iter("{http://www.w3.org/2000/svg}text"):
    print("text:", t.text)
PY
expect_exit 0 "plot --format svg" -- "$DPPF" plot --format svg -o curves.svg a/metrics.csv b/metrics.csv
expect_exit 0 "the SVG is well-formed XML" -- python3 svg.py curves.svg
for label in "loss" "accuracy" "epoch" "test accuracy vs communication" "communication rounds" "a" "b" "train"; do
  expect_output "^text: $label\$" "SVG text '$label'"
done
expect_output "^width 792pt$" "11 inches wide, in points"
expect_exit 0 "plot --x --y --group-by into SVG (by extension)" -- \
  "$DPPF" plot --x epoch --y test_acc --group-by dist.algorithm -o g.svg a/metrics.csv b/metrics.csv c/metrics.csv
python3 svg.py g.svg > "$WORK/out"
expect_output "^text: dist.algorithm$" "legend titled by the key"
expect_output "^text: ddp$" "group ddp"
expect_output "^text: localsgd$" "group localsgd (two runs, one entry)"
[ "$(grep -c '^text: localsgd$' "$WORK/out")" = 1 ] && pass "one legend entry per group" || fail "localsgd listed twice"
expect_exit 2 "--group-by an unknown key" -- "$DPPF" plot --group-by dist.nope a/metrics.csv
expect_output "dist.nope" "names the key"

# PDF
expect_exit 0 "plot -o curves.pdf" -- "$DPPF" plot -o curves.pdf a/metrics.csv
head -c 5 curves.pdf | grep -q '^%PDF-' && pass "starts with %PDF-" || fail "not a PDF"
tail -c 10 curves.pdf | grep -q '%%EOF' && pass "ends with %%EOF" || fail "no %%EOF"
if command -v pdfinfo >/dev/null; then
  expect_exit 0 "pdfinfo parses it" -- pdfinfo curves.pdf
  expect_output "^Pages: +1$" "one page"
  expect_output "^Page size: +792 x 576 pts" "11 x 8 inches"
  expect_output "^Subject: +dppf plot -o curves.pdf" "the command line as Subject"
  expect_exit 0 "pdftotext reads it" -- pdftotext curves.pdf -
  expect_output "test accuracy vs communication" "text is text"
else
  grep -qa '/Type */Catalog' curves.pdf && grep -qa '^xref\|/XRef' curves.pdf && pass "PDF structure" || fail "PDF structure"
fi
expect_exit 2 "an unknown extension" -- "$DPPF" plot -o curves.jpg a/metrics.csv
expect_exit 2 "an unknown --format" -- "$DPPF" plot --format gif a/metrics.csv
expect_exit 3 "an unwritable PDF" -- "$DPPF" plot -o nodir/x.pdf a/metrics.csv
expect_output "nodir/x.pdf" "names it"

# landscapes: every format, markers and colour bar labelled
expect_exit 0 "landscape 2d as SVG" -- "$DPPF" landscape b/checkpoint.bin --grid 5 --samples 64 --format svg --out l --quiet
[ -f l/landscape-2d.svg ] && [ ! -f l/landscape-2d.png ] && pass "landscape-2d.svg, no PNG" || fail "landscape files: $(ls l)"
python3 svg.py l/landscape-2d.svg > "$WORK/out"
expect_output "^text: train loss \(log scale\)$" "colour bar label"
expect_output "^text: (avg|w0)" "worker markers labelled"
expect_exit 0 "landscape 1-D as PDF at 300 dpi (dpi ignored)" -- \
  "$DPPF" landscape b/checkpoint.bin --mode workers --grid 5 --samples 64 --format pdf --dpi 300 --out l --quiet
head -c 5 l/landscape-1d-workers.pdf | grep -q '^%PDF-' && pass "landscape-1d-workers.pdf" || fail "no 1-D PDF"
expect_exit 0 "landscape 2d PNG" -- "$DPPF" landscape b/checkpoint.bin --grid 5 --samples 64 --out l --quiet
python3 png.py l/landscape-2d.png > "$WORK/out"
expect_output "^Command: dppf landscape b/checkpoint.bin" "landscape PNG records its command"
expect_output "^  algorithm: localsgd" "and the checkpoint's spec"
ls -a . a l | grep -q '\.tmp\.' && fail "temp files left" || pass "no temp files left"
finish
