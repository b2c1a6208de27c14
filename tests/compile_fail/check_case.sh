#!/usr/bin/env bash
# Checks one compile-fail case: builds <case.cpp> twice with -fsyntax-only.
#   as written:  must compile. The good model beside the bad one shows that the bad
#                build fails because of the lines KILN_BAD swaps, not a typo elsewhere.
#   -DKILN_BAD:  must fail, and its output must
#                - contain the case's "// expect-first: " text in its first diagnostic
#                  line (the first ": error: " or "In instantiation of"): a user reads
#                  the top;
#                - contain each "// expect: " text of the case;
#                - hold exactly one ": error: ": one shape mistake, one message, no cascade.
# The texts are GCC's ("kiln::Shape{3, int [4]{6, 12, 12, 0}}"); other compilers print
# template arguments differently.
# Usage: check_case.sh <c++ compiler> <case.cpp> <repo root>
set -u
cxx=$1 source=$2 root=$3
export LC_ALL=C  # plain ASCII quotes and English text, as the expected texts are written
flags=(-std=c++20 -fsyntax-only -fdiagnostics-color=never "-I$root")

first_expected=$(sed -n 's|^// expect-first: ||p' "$source")
mapfile -t expected < <(sed -n 's|^// expect: ||p' "$source")
if [[ -z $first_expected || ${#expected[@]} == 0 ]]; then
  echo "FAIL: $source needs a '// expect-first: ' line and at least one '// expect: ' line"
  exit 1
fi

if ! good=$("$cxx" "${flags[@]}" "$source" 2>&1); then
  printf '%s\n' "$good"
  echo "FAIL: the good variant does not compile"
  exit 1
fi
if bad=$("$cxx" "${flags[@]}" -DKILN_BAD "$source" 2>&1); then
  echo "FAIL: the bad variant (-DKILN_BAD) compiles"
  exit 1
fi

status=0
first=$(grep -m1 -E ': error: |In instantiation of' <<<"$bad")
if [[ $first != *"$first_expected"* ]]; then
  printf 'FAIL: the first diagnostic line\n  %s\ndoes not contain\n  %s\n' "$first" "$first_expected"
  status=1
fi
for text in "${expected[@]}"; do
  if ! grep -qF -- "$text" <<<"$bad"; then
    printf 'FAIL: the output does not contain\n  %s\n' "$text"
    status=1
  fi
done
# ": error: " with its spaces: "kiln::shape_error::" in the text holds "error:" too.
errors=$(grep -c ': error: ' <<<"$bad")
if [[ $errors != 1 ]]; then
  echo "FAIL: expected one error, got $errors"
  status=1
fi
if ((status)); then
  printf -- '--- output of the bad build ---\n%s\n' "$bad"
fi
exit $status
