#!/usr/bin/env bash
# check_dataset.sh KIND [FOLDER] - check a dataset folder without the dppf binary.
#
#   KIND    fashion-mnist | mnist | cifar10 | cifar100 | synthetic
#   FOLDER  defaults to dppf's default folder for KIND (see datasets/README.md)
#
# Checks that every file dppf reads is present, has the right magic number /
# record size, the expected sample count and image size, exactly the right
# number of bytes, and labels in range (0..9; CIFAR-100: coarse 0..19, fine
# 0..99). Needs only bash, coreutils, gzip and od.
# Prints one line per file and a verdict; exits 0 if all is well, 1 if not,
# 2 on a usage error.
set -u

usage() {
    echo "usage: $0 fashion-mnist|mnist|cifar10|cifar100|synthetic [FOLDER]" >&2
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
kind=$1
case $kind in
fashion-mnist) default=/usr/share/datasets/fashion-mnist ;;
mnist) default=/usr/share/datasets/mnist ;;
cifar10) default=data/cifar-10-batches-bin ;;
cifar100) default=data/cifar-100-binary ;;
synthetic)
    echo "OK: synthetic data is generated in memory from run.seed; there are no files to check"
    exit 0
    ;;
-h | --help) usage ;;
*)
    echo "$0: unknown dataset '$kind'" >&2
    usage
    ;;
esac
dir=${2:-$default}

problems=0
ok() { printf '  ok    %s\n' "$*"; }
fail() {
    printf '  FAIL  %s\n' "$*"
    problems=$((problems + 1))
}

echo "checking $kind in $dir"
if [ ! -d "$dir" ]; then
    fail "$dir: no such folder"
    case $kind in
    fashion-mnist) echo "install the Debian package dataset-fashion-mnist, or give the folder holding the files" ;;
    *) echo "see datasets/README.md for how to get $kind" ;;
    esac
    echo "FAILED: $kind in $dir"
    exit 1
fi

# Big-endian 32-bit integer at byte offset $2 of the (decompressed) header
# bytes in $1 (a space-separated list of decimal bytes).
be32() {
    local -a b
    read -r -a b <<<"$1"
    local i=$2
    echo $(((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]))
}

# Reads `uniq -c` lines ("count value") of sorted label values; sets
# hist_max (largest label) and hist_counts (the counts, in label order).
summarise() {
    local count value
    hist_max=-1 hist_counts=
    while read -r count value; do
        hist_max=$value
        hist_counts+="$count "
    done
    hist_counts=${hist_counts% }
}

# check_idx BASE images|labels EXPECTED_COUNT
# Like dppf: prefers BASE.gz, else BASE. `gzip -dcf` passes plain files
# through unchanged, just as zlib's gzread does.
check_idx() {
    local base=$1 what=$2 want=$3 f name
    if [ -e "$dir/$base.gz" ]; then
        f=$dir/$base.gz
    elif [ -e "$dir/$base" ]; then
        f=$dir/$base
    else
        fail "${base}[.gz]: missing"
        return
    fi
    name=${f##*/}
    if [ ! -r "$f" ]; then
        fail "$name: not readable"
        return
    fi
    local size msg
    if [ "$(head -c 2 -- "$f" | od -An -tx1 | tr -d ' ')" = 1f8b ] && ! msg=$(gzip -t -- "$f" 2>&1); then
        fail "$name: corrupt gzip data: ${msg##*: }"
        return
    fi
    size=$(gzip -dcf -- "$f" | wc -c)
    local hlen=16 magic=2051 kindname=image
    if [ "$what" = labels ]; then hlen=8 magic=2049 kindname=label; fi
    if [ "$size" -lt "$hlen" ]; then
        fail "$name: truncated: $size bytes, shorter than the $hlen-byte IDX header"
        return
    fi
    local hdr m n
    hdr=$(gzip -dcf -- "$f" 2>/dev/null | head -c "$hlen" | od -An -v -tu1)
    m=$(be32 "$hdr" 0)
    n=$(be32 "$hdr" 4)
    if [ "$m" -ne "$magic" ]; then
        fail "$name: bad magic $(printf '0x%08x' "$m") (expected $(printf '0x%08x' "$magic"), an IDX $kindname file)"
        return
    fi
    if [ "$n" -ne "$want" ]; then
        fail "$name: holds $n ${kindname}s, expected $want"
        return
    fi
    if [ "$what" = images ]; then
        local rows cols expect
        rows=$(be32 "$hdr" 8)
        cols=$(be32 "$hdr" 12)
        if [ "$rows" -ne 28 ] || [ "$cols" -ne 28 ]; then
            fail "$name: images are ${rows}x${cols}, expected 28x28"
            return
        fi
        expect=$((16 + n * rows * cols))
        if [ "$size" -ne "$expect" ]; then
            fail "$name: $size bytes uncompressed, expected $expect (16-byte header + $n x $rows x $cols)$([ "$size" -lt "$expect" ] && echo ': truncated')"
            return
        fi
        ok "$name: $n images of ${rows}x${cols}, $size bytes uncompressed"
    else
        local expect=$((8 + n))
        if [ "$size" -ne "$expect" ]; then
            fail "$name: $size bytes uncompressed, expected $expect (8-byte header + $n labels)$([ "$size" -lt "$expect" ] && echo ': truncated')"
            return
        fi
        summarise < <(gzip -dcf -- "$f" | tail -c +9 | od -An -v -tu1 -w1 | sort -n | uniq -c)
        if [ "$hist_max" -ge 10 ]; then
            fail "$name: has label $hist_max; labels must be 0..9"
            return
        fi
        ok "$name: $n labels in 0..9, per class: $hist_counts"
    fi
}

# check_cifar FILE EXPECTED_RECORDS LABEL_BYTES: records of LABEL_BYTES label
# bytes (CIFAR-10: 1, labels 0..9; CIFAR-100: 2, coarse 0..19 then fine 0..99)
# and 3x32x32 pixels.
check_cifar() {
    local name=$1 want=$2 nl=$3 f=$dir/$1
    local rec=$((nl + 3072)) desc="1 label + 3x32x32 pixels" other=CIFAR-100
    if [ "$nl" -eq 2 ]; then desc="coarse and fine labels + 3x32x32 pixels" other=CIFAR-10; fi
    if [ ! -e "$f" ]; then
        fail "$name: missing"
        return
    fi
    if [ ! -r "$f" ]; then
        fail "$name: not readable"
        return
    fi
    local size expect=$((want * rec))
    size=$(wc -c <"$f")
    if [ $((size % rec)) -ne 0 ]; then
        fail "$name: $size bytes is not a multiple of the $rec-byte record ($desc; is this the binary version? $other?)"
        return
    fi
    if [ "$size" -ne "$expect" ]; then
        fail "$name: $((size / rec)) records ($size bytes), expected $want ($expect bytes)"
        return
    fi
    # od prints one record per line; its first fields (4 characters each) are the labels.
    local k max summary=
    for ((k = 0; k < nl; k++)); do
        max=$((nl == 1 ? 10 : k == 0 ? 20 : 100))
        summarise < <(od -An -v -tu1 -w$rec -- "$f" | cut -c$((4 * k + 1))-$((4 * k + 4)) | sort -n | uniq -c)
        if [ "$hist_max" -ge "$max" ]; then
            fail "$name: has label $hist_max; labels are 0..$((max - 1)) (is this $other?)"
            return
        fi
        summary+="${summary:+; }labels in 0..$((max - 1)), per class: $hist_counts"
    done
    ok "$name: $want records, $summary"
}

case $kind in
fashion-mnist | mnist)
    check_idx train-images-idx3-ubyte images 60000
    check_idx train-labels-idx1-ubyte labels 60000
    check_idx t10k-images-idx3-ubyte images 10000
    check_idx t10k-labels-idx1-ubyte labels 10000
    ;;
cifar10)
    for k in 1 2 3 4 5; do check_cifar "data_batch_$k.bin" 10000 1; done
    check_cifar test_batch.bin 10000 1
    ;;
cifar100)
    check_cifar train.bin 50000 2
    check_cifar test.bin 10000 2
    ;;
esac

if [ "$problems" -eq 0 ]; then
    echo "OK: $kind in $dir"
    exit 0
fi
echo "FAILED: $kind in $dir: $problems problem(s)"
exit 1
