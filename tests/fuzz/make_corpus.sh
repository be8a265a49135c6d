#!/usr/bin/env bash
# Regenerates the seed corpora in tests/fuzz/corpus/<harness>/ (committed; run
# again only when a format changes): small valid inputs of every format plus a
# few known-bad ones. Needs a built dppf (for the tiny checkpoint), python3.
#   tests/fuzz/make_corpus.sh [build/dppf]
set -euo pipefail
cd "$(dirname "$0")/../.."
DPPF=$(realpath "${1:-build/dppf}")
C=tests/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- spec: YAML text, then NUL-separated --set arguments ---
mkdir -p $C/fuzz_spec
for f in configs/*.yaml tests/fixtures/spec/full.yaml; do
  cp "$f" "$C/fuzz_spec/$(basename "${f%.yaml}")"
done
printf 'model:\n  arch: mlp\n\0optim.lr=0.1\0model.hidden=[32, 16]\0run.out_dir=runs/x\0dist.algorithm=dppf' \
  > $C/fuzz_spec/with-sets
printf '\0data.dataset=synthetic\0data.shape=[3,8,8]\0data.mean=[0.5]\0optim.milestones=[2, 4]' \
  > $C/fuzz_spec/sets-only
printf 'optim:\n  lr: [1, 2]\n  momentum: 1.5\n' > $C/fuzz_spec/bad-types
printf 'optim:\n  lr: 0.1\n---\noptim:\n  lr: 0.2\n' > $C/fuzz_spec/bad-two-docs
printf 'data: {dataset: mnist, dataset: cifar10}\nmodle: {}\n' > $C/fuzz_spec/bad-dup-unknown
printf '\0optim.lr\0optim=1\0optim.lr=[\0nosuch.key=1' > $C/fuzz_spec/bad-sets

# --- a tiny synthetic run: its checkpoint (mlp, 91 parameters) and metrics.csv ---
cat > "$tmp/tiny.yaml" <<YAML
data: {dataset: synthetic, shape: [1, 4, 4], classes: 3, train_size: 64, test_size: 16}
model: {arch: mlp, hidden: [4]}
optim: {batch_size: 16, epochs: 3}
dist: {workers: 2, algorithm: easgd}
run: {out_dir: run, threads: 1, eval_every: 0.5, seed: 7}
YAML
(cd "$tmp" && "$DPPF" train tiny.yaml --quiet > /dev/null)
cp "$tmp/run/spec.yaml" $C/fuzz_spec/resolved

mkdir -p $C/fuzz_safetensors
"$DPPF" export "$tmp/run/checkpoint.bin" $C/fuzz_safetensors/valid > /dev/null
"$DPPF" export "$tmp/run/checkpoint.bin" $C/fuzz_safetensors/all-workers --all-workers > /dev/null
printf '\x08\x00\x00\x00\x00\x00\x00\x00{}      ' > $C/fuzz_safetensors/empty
printf '\xff\x00\x00\x00\x00\x00\x00\x00{' > $C/fuzz_safetensors/bad-length

mkdir -p $C/fuzz_csv
cp "$tmp/run/metrics.csv" $C/fuzz_csv/metrics
printf 'a, b ,c\r\n1,2,3\r\n\r\n nan ,inf,-1e-320\r\n' > $C/fuzz_csv/crlf-special
printf 'a,b\n1,2\n3\n' > $C/fuzz_csv/bad-ragged
printf 'a,,c\n1,2,3\n' > $C/fuzz_csv/bad-empty-name
printf 'x,y\n1,two\n' > $C/fuzz_csv/bad-number

# --- checkpoint: flag byte (bit 0: harness fixes the CRC), then the file ---
python3 - "$tmp/run/checkpoint.bin" $C/fuzz_checkpoint <<'PY'
import struct, sys, zlib, os
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
b = open(src, 'rb').read()
def put(name, flag, data):
    open(os.path.join(out, name), 'wb').write(bytes([flag]) + data)
def recrc(d):
    return d[:-4] + struct.pack('<I', zlib.crc32(d[:-4]))
put('valid', 0, b)
put('valid-fixcrc', 1, b)
spec_len = struct.unpack_from('<Q', b, 16)[0]
counts = 24 + spec_len
# minimal: empty spec, no workers, no arrays
hdr = b'DPPFCKPT' + struct.pack('<IIQ', 1, 0, 0)
cnt = struct.pack('<IIQQQQqqd', 0, 0, 0, 0, 0, 0, 0, 0, 0.0)
put('minimal', 0, recrc(hdr + cnt + b'\0\0\0\0'))
put('bad-magic', 0, b'DPPFCKPX' + b[8:])
put('bad-version', 1, b[:8] + struct.pack('<I', 2) + b[12:])
put('bad-crc', 0, b[:100] + bytes([b[100] ^ 1]) + b[101:])
put('bad-truncated', 0, b[:len(b) // 2])
put('bad-spec-len', 1, b[:16] + struct.pack('<Q', len(b)) + b[24:])
big = b[:counts + 8] + struct.pack('<Q', 1 << 62) + b[counts + 16:]
put('bad-huge-params', 1, big)
put('bad-workers', 1, b[:counts] + struct.pack('<I', 0xffffffff) + b[counts + 4:])
PY

# --- IDX: flag byte (bit 0/1: harness gzips images/labels), u32 LE image length, images, labels ---
python3 - $C/fuzz_idx <<'PY'
import struct, sys, gzip, os
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n, r, c = 3, 4, 5
img = struct.pack('>IIII', 0x803, n, r, c) + bytes((i * 37) % 256 for i in range(n * r * c))
lab = struct.pack('>II', 0x801, n) + bytes([0, 9, 4])
def put(name, flag, a, b):
    open(os.path.join(out, name), 'wb').write(bytes([flag]) + struct.pack('<I', len(a)) + a + b)
put('plain', 0, img, lab)
put('gzip', 0, gzip.compress(img, mtime=0), gzip.compress(lab, mtime=0))
put('harness-gzip-crop', 3 | (4 << 2), img, lab)
put('bad-magic-swapped', 0, lab, img)
put('bad-count-mismatch', 0, img, struct.pack('>II', 0x801, n + 1) + bytes([0, 1, 2, 3]))
put('bad-label-range', 0, img, lab[:-1] + bytes([255]) )
put('bad-trailing', 0, img + b'\0', lab)
put('bad-huge-header', 0, struct.pack('>IIII', 0x803, 0x7fffffff, 4096, 4096), lab)
put('bad-empty', 0, b'', b'')
PY

# --- CIFAR-10: flag byte (bit 0: train = five equal parts), then the batch bytes ---
python3 - $C/fuzz_cifar <<'PY'
import sys, os
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def rec(label, seed):
    return bytes([label]) + bytes((i * seed + label) % 256 for i in range(3072))
def put(name, flag, data):
    open(os.path.join(out, name), 'wb').write(bytes([flag]) + data)
put('test-2', 0 | (4 << 1), rec(3, 7) + rec(9, 11))
put('train-5', 1, b''.join(rec(k, 13 + k) for k in range(5)))
put('bad-label', 0, rec(10, 5))
put('bad-size', 0, rec(1, 3)[:-1])
put('bad-empty', 0, b'')
PY
du -sh $C

# --- dictionary for fuzz_spec: every section, key and enum value of the schema ---
{
  echo "# Generated by tests/fuzz/make_corpus.sh from 'dppf schema'."
  "$DPPF" schema | awk 'NR > 1 {
      split($1, k, "."); sec[k[1]] = 1; key[k[2]] = 1; full[$1] = 1
      if ($2 ~ /^[a-z0-9-]+(\|[a-z0-9-]+)+$/) { n = split($2, v, "|"); for (i = 1; i <= n; i++) val[v[i]] = 1 }
    }
    END {
      for (s in sec) printf "\"%s:\"\n", s
      for (s in key) printf "\"  %s: \"\n", s
      for (s in full) printf "\"%s=\"\n", s
      for (s in val) printf "\"%s\"\n", s
    }' | sort
  # YAML syntax and edge values, in libFuzzer's dictionary syntax (\xNN escapes).
  cat <<'DICT'
"\x00"
"\x0a  "
": "
"- "
"["
"]"
"{"
"}"
", "
"---"
"..."
"#"
"\""
"'"
"~"
"null"
"true"
"yes"
"off"
"1e-5"
"0.5"
"-1"
"4096"
"65536"
"2147483648"
"18446744073709551616"
"&a "
"*a"
"!!str "
"? "
"|"
">"
"%YAML 1.1"
"\\x85"
"\xc2\x85"
"\xe2\x80\xa8"
DICT
} > tests/fuzz/fuzz_spec.dict
