#!/bin/sh
# Runs Example 05 (the conditional GAN) briefly and checks what it promises;
# tests/examples/CMakeLists.txt adds one CTest test per case.
#
#   run_conditional_example.sh CASE WORK_DIR EXAMPLE_OUTPUTS EXAMPLE
#
# CASE: conditional-outputs (sample grids, log with the agreement column, plot,
# checkpoint, the agreement printed; labels out of range refused before the folder is
# touched), conditional-resume (a run stopped at a checkpoint and resumed equals an
# uninterrupted one). WORK_DIR is emptied first. EXAMPLE_OUTPUTS is
# tests/examples/example_outputs.cpp built.
set -eu

case_name=$1 dir=$2 outputs=$3 example=$4
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"

fail() {
  echo "run_conditional_example.sh $case_name: $*" >&2
  exit 1
}

# 10 generated images, labelled 0 to 9, in batches of 4 (2 batches per epoch); the
# classifier is the one the example is built with.
"$outputs" idx images.idx 10
printf '\000\000\010\001\000\000\000\012\000\001\002\003\004\005\006\007\010\011' > labels.idx
conditional() { "$example" --data images.idx --labels labels.idx --batch 4 --min-agreement 0 "$@"; }

case $case_name in
  conditional-outputs)
    conditional --steps 6 --grid-every 3 --output run > run.txt
    "$outputs" png run/samples_000003.png run/samples_000006.png run/training.png
    "$outputs" log run/log.csv 1 6
    "$outputs" checkpoint run/checkpoint.npz 6
    grep -q '^agreement: [0-9.]*% of 1000 samples (target 0%)$' run.txt || fail "no agreement line in: $(cat run.txt)"
    head -1 run/log.csv | grep -q 'agreement' || fail "log.csv has no agreement column"
    # --min-agreement above what 6 steps reach: exit code 3.
    status=0
    "$example" --data images.idx --labels labels.idx --batch 4 --steps 1 --grid-every 1 --output strict \
      --min-agreement 100 > strict.txt 2> strict.err || status=$?
    [ "$status" = 3 ] || fail "--min-agreement 100 exited $status, not 3"
    grep -q 'below --min-agreement 100%' strict.err || fail "no reason for exit code 3: $(cat strict.err)"
    # A label file with a label of 10: refused, naming it, before anything is written.
    printf '\000\000\010\001\000\000\000\012\000\001\002\003\004\005\006\007\010\012' > bad.idx
    if "$example" --data images.idx --labels bad.idx --batch 4 --steps 1 --output refused 2> refused.err; then
      fail "labels of 10 classes or more were accepted"
    fi
    grep -q 'bad.idx: label 10 at index 9 is not below the class count 10' refused.err ||
      fail "unexpected message: $(cat refused.err)"
    [ ! -e refused ] || fail "the refused run created its folder"
    ;;
  conditional-resume)
    conditional --steps 5 --grid-every 5 --output straight > /dev/null
    conditional --steps 3 --grid-every 3 --output resumed > /dev/null
    conditional --steps 5 --grid-every 5 --output resumed --resume resumed/checkpoint.npz > /dev/null
    "$outputs" same-checkpoint straight/checkpoint.npz resumed/checkpoint.npz
    "$outputs" log resumed/log.csv 1 5
    ;;
  *)
    fail "unknown case"
    ;;
esac
