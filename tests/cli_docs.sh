# The documentation says what the binary does: README's spec table is
# `dppf schema --md` (scripts/update-readme-schema.sh rewrites it).
source "$(dirname "$0")/clilib.sh" "$@"
"$DPPF" schema --md >schema.md
awk '/^\| key \| type \/ range \| default \| meaning \|$/{f=1} f&&!/^\|/{exit} f' "$SRC/README.md" >readme.md
cmp -s schema.md readme.md && pass "README's spec table is dppf schema --md" ||
  { fail "README's spec table differs from dppf schema --md (run scripts/update-readme-schema.sh)"; diff schema.md readme.md | head -10 >&2; }
finish
