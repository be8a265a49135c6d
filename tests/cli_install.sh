# `cmake --install` into a temp prefix: the binary, the man page (rendered by
# man, or groff, or checked as roff text), the bash completion (driven as bash
# would drive it: COMP_WORDS / COMP_CWORD and the complete -F function) and
# the example configs.
source "$(dirname "$0")/clilib.sh" "$@"
BUILD=$(dirname "$DPPF")
P="$WORK/prefix"
expect_exit 0 "cmake --install into a temp prefix" -- cmake --install "$BUILD" --prefix "$P"
for f in bin/dppf share/man/man1/dppf.1 share/bash-completion/completions/dppf share/dppf/configs/quickstart.yaml \
         share/dppf/configs/dppf.yaml; do
  [ -f "$P/$f" ] && pass "installed $f" || fail "missing $P/$f"
done
expect_exit 0 "the installed binary runs" -- "$P/bin/dppf" --version
expect_output "git commit" "its version names the build"

MAN="$P/share/man/man1/dppf.1"
# The page lists every subcommand, every option of each, the spec keys and the exit codes.
for word in '^\.SS train' '^\.SS landscape' '^\.SS plot' '^\.SS collect' 'group\\-by' '\\-\\-dpi' '^\\fBoptim\.lr' \
            '^\\fBdist\.algorithm' '^\.SH EXIT STATUS' '^\.SH SPEC KEYS'; do
  grep -q -- "$word" "$MAN" && pass "man page has /$word/" || fail "man page lacks /$word/"
done
while read -r cmd; do
  for opt in $("$DPPF" "$cmd" --help | grep -oE '^  (-., )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
    esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
    grep -q -- "$esc" "$MAN" || fail "man page lacks $cmd $opt"
  done
done < <("$DPPF" --help | sed -n '/^commands:/,/^$/ s/^  \([a-z]\+\) .*/\1/p')
pass "every option of every command is in the man page"
if command -v groff >/dev/null; then
  groff -man -Tutf8 -ww -z "$MAN" 2>"$WORK/groff.err"
  [ ! -s "$WORK/groff.err" ] && pass "groff renders the page without warnings" || { fail "groff warnings"; cat "$WORK/groff.err" >&2; }
fi
if command -v man >/dev/null && command -v groff >/dev/null; then
  MANWIDTH=100 MANPAGER=cat PAGER=cat man -l "$MAN" >"$WORK/out" 2>&1
  expect_output "^NAME" "man -l renders the page"
  expect_output "dppf +- +communication-efficient +distributed" "with its name line"
  expect_output "EXIT STATUS" "and its exit codes"
else
  echo "skip: no man/groff; the roff text was checked"
fi

# The completion: driven as bash's programmable completion does.
complete_words() { # complete_words WORD... : COMPREPLY for the last word, one per line
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dppf; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$P/share/bash-completion/completions/dppf" "$@"
}
bash -c "source '$P/share/bash-completion/completions/dppf'; complete -p dppf" | grep -q -- '-F _dppf' &&
  pass "the script registers complete -F _dppf dppf" || fail "no complete -F for dppf"
complete_words dppf tr > "$WORK/out"; expect_output '^train$' "dppf tr<TAB> offers train"
complete_words dppf co > "$WORK/out"; expect_output '^collect$' "dppf co<TAB> offers collect"
complete_words dppf train x.yaml --set optim. > "$WORK/out"; expect_output '^optim\.lr=$' "--set optim.<TAB> offers optim.lr="
grep -q '^data\.' "$WORK/out" && fail "--set optim. offers keys of other sections" || pass "only optim keys"
complete_words dppf train x.yaml --set dist.algorithm = d > "$WORK/out"; expect_output '^dppf$' "--set dist.algorithm=d<TAB> offers dppf"
complete_words dppf landscape ck.bin --f > "$WORK/out"; expect_output '^--format$' "landscape --f<TAB> offers --format"
complete_words dppf plot --group > "$WORK/out"; expect_output '^--group-by$' "plot --group<TAB> offers --group-by"
complete_words dppf help la > "$WORK/out"; expect_output '^landscape$' "dppf help la<TAB> offers landscape"
finish
