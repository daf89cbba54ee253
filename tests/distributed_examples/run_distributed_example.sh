#!/bin/sh
# Runs Example 03 or 04 with --distributed under mpirun for a few steps and checks what
# docs/tutorial/distributed.md promises; tests/distributed_examples/CMakeLists.txt adds
# one CTest test per case.
#
#   run_distributed_example.sh CASE WORK_DIR EXAMPLE_OUTPUTS EXAMPLE NUMPROC_FLAG MPIEXEC [MPIEXEC_OPTION...]
#
# CASE: mnist-outputs (03 on 2 ranks: rank 0 writes the files a single-process run
# writes and the rank states beside the checkpoint, rank 1 writes, prints and reads none
# of them, not even the FCD's classifier; the checkpoint resumes in one process),
# mnist-resume (03 on 2 ranks stopped and resumed equals an uninterrupted run on 2 ranks,
# bit for bit), mnist-ranks (03: a checkpoint of 2 ranks resumed on 1, and one of 1 rank
# on 2, is refused with the number to use and left as it was; 2 ranks without
# --distributed are refused), dcgan-outputs (04 on 2 ranks: the files, as mnist-outputs).
# WORK_DIR is emptied first. EXAMPLE_OUTPUTS is tests/examples/example_outputs.cpp built.
# The classifier of the Frechet classifier distance is $XGAN_TEST_CLASSIFIER.
set -eu
export LC_ALL=C  # the order of ls

case_name=$1 dir=$2 outputs=$3 example=$4 numproc=$5 mpiexec=$6
shift 6
mpiexec_options="$*"  # --allow-run-as-root --oversubscribe under Open MPI: words without spaces
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"

fail() {
  echo "run_distributed_example.sh $case_name: $*" >&2
  exit 1
}

# Run the example as a job of N ranks: ranks N ARGS...
# shellcheck disable=SC2086
ranks() { n=$1; shift; "$mpiexec" $mpiexec_options "$numproc" "$n" "$example" --distributed "$@"; }

# The same, each rank in its own working folder rank<R> (rank0, rank1): a file any rank
# but 0 writes or reads at a relative path then lands in, or is missing from, its own.
# shellcheck disable=SC2086,SC2016
ranks_apart() {
  n=$1; shift
  "$mpiexec" $mpiexec_options "$numproc" "$n" \
    sh -c 'cd "rank${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-}}" && exec "$0" "$@"' "$example" --distributed "$@"
}

# 12 generated images; 2 ranks x --batch 2 is a step of 4 images, 3 steps an epoch, so
# a few steps cross an epoch boundary (where the data order is redrawn from the seed).
images() { "$outputs" idx "$PWD/images.idx" 12; }

# Size, modification time and checksum of every file under a folder.
snapshot() { find "$1" -type f -printf '%p %s %T@ ' -exec cksum {} \; | sort; }

# A run of 2 ranks apart (ranks_apart) for 2 steps of 2 x 2 images, with a grid and a
# checkpoint each step and the FCD at the last (its classifier, given by a relative path,
# is in rank0/ alone). Rank 0 writes what a single-process run writes (tests/examples)
# and every rank's noise stream beside the last checkpoint; rank 1 writes and prints
# nothing. Its standard output is in apart.txt.
outputs_apart() {
  images
  mkdir rank0 rank1
  cp "$XGAN_TEST_CLASSIFIER" rank0/classifier.npz
  ranks_apart 2 --data "$PWD/images.idx" --batch 2 --steps 2 --grid-every 1 --fcd-every 2 --fcd-samples 50 \
    --classifier classifier.npz --output run > apart.txt
  cat apart.txt

  [ -z "$(ls -A rank1)" ] || fail "rank 1 wrote into its working folder: $(ls -A rank1)"
  # shellcheck disable=SC2012
  written=$(ls rank0/run | tr '\n' ' ')
  expected="checkpoint.npz checkpoint.ranks-000002.npz fcd.png log.csv samples_000001.png samples_000002.png training.png "
  [ "$written" = "$expected" ] || fail "rank 0 wrote: $written; expected: $expected"
  "$outputs" log rank0/run/log.csv 1 2
  "$outputs" fcd rank0/run/log.csv 2
  "$outputs" checkpoint rank0/run/checkpoint.npz 2
  "$outputs" png rank0/run/samples_000001.png rank0/run/samples_000002.png rank0/run/training.png rank0/run/fcd.png
  grep -qF "(2 ranks x 2)" apart.txt || fail "the run does not say it trains 2 ranks x 2 images"
  [ "$(grep -c '^wrote ' apart.txt)" -eq 2 ] ||
    fail "printed $(grep -c '^wrote ' apart.txt) 'wrote' lines, expected 2 (fcd.png, and the rest), from rank 0 alone"
}

case "$case_name" in
  mnist-outputs)
    outputs_apart
    grep -c "^G Sequential" apart.txt | grep -qx 1 || fail "the networks were printed more than once"
    # An ordinary checkpoint: it resumes in one process.
    "$example" --data images.idx --batch 4 --steps 3 --grid-every 3 --fcd-every 0 --output rank0/run \
      --resume rank0/run/checkpoint.npz > resumed.txt
    grep -qF "resumed rank0/run/checkpoint.npz at step 2" resumed.txt || fail "resumed with: $(cat resumed.txt)"
    "$outputs" log rank0/run/log.csv 1 3
    "$outputs" checkpoint rank0/run/checkpoint.npz 3
    ;;

  mnist-resume)
    images
    mnist() { ranks 2 --data images.idx --batch 2 --fcd-every 0 "$@"; }
    mnist --steps 4 --grid-every 4 --output straight
    # Stopped at step 2, in the middle of the first epoch, and resumed into the second.
    mnist --steps 2 --grid-every 2 --output stopped
    mnist --steps 4 --grid-every 4 --output stopped --resume stopped/checkpoint.npz > resumed.txt
    cat resumed.txt
    grep -qF "resumed stopped/checkpoint.npz at step 2" resumed.txt || fail "resumed with: $(cat resumed.txt)"
    "$outputs" checkpoint stopped/checkpoint.npz 4
    "$outputs" same-checkpoint straight/checkpoint.npz stopped/checkpoint.npz
    "$outputs" same-checkpoint straight/checkpoint.ranks-000004.npz stopped/checkpoint.ranks-000004.npz
    "$outputs" log stopped/log.csv 1 4
    cmp straight/log.csv stopped/log.csv || fail "the resumed run's log differs from the uninterrupted run's"
    cmp straight/samples_000004.png stopped/samples_000004.png || fail "the resumed run's last samples differ"
    [ "$(echo stopped/checkpoint.ranks-*)" = "stopped/checkpoint.ranks-000004.npz" ] ||
      fail "rank-state files beside the last checkpoint: $(echo stopped/checkpoint.ranks-*)"
    ;;

  mnist-ranks)
    images
    mnist() { n=$1; shift; ranks "$n" --data images.idx --batch 2 --fcd-every 0 "$@"; }
    mnist 2 --steps 1 --output two
    snapshot two > two_before.txt
    if mnist 1 --output two --resume two/checkpoint.npz --steps 2 2> two_on_1.txt; then
      fail "a checkpoint of 2 ranks resumed on 1"
    fi
    cat two_on_1.txt
    grep -qF "xgan::mpi: rank 0 of 1 failed: xgan::mpi::load_checkpoint (rank 0): two/checkpoint.npz was written by a job of 2 ranks; this job has 1 rank: resume it with mpirun -np 2" two_on_1.txt ||
      fail "a checkpoint of 2 ranks resumed on 1 refused with: $(cat two_on_1.txt)"
    snapshot two > two_after.txt
    cmp two_before.txt two_after.txt || fail "the refused resume changed the folder of the run of 2 ranks"

    mnist 1 --steps 1 --output one > one.txt
    cat one.txt
    grep -qF "(1 rank x 2)" one.txt || fail "the run of 1 rank does not say it trains 1 rank x 2 images"
    snapshot one > one_before.txt
    if mnist 2 --output one --resume one/checkpoint.npz --steps 2 2> one_on_2.txt; then
      fail "a checkpoint of 1 rank resumed on 2"
    fi
    cat one_on_2.txt
    grep -qF "one/checkpoint.npz was written by a job of 1 rank; this job has 2 ranks: resume it with mpirun -np 1" one_on_2.txt ||
      fail "a checkpoint of 1 rank resumed on 2 refused with: $(cat one_on_2.txt)"
    snapshot one > one_after.txt
    cmp one_before.txt one_after.txt || fail "the refused resume changed the folder of the run of 1 rank"

    # shellcheck disable=SC2086
    if "$mpiexec" $mpiexec_options "$numproc" 2 "$example" --data images.idx --batch 2 --steps 1 --output plain \
        2> plain.txt; then
      fail "2 ranks without --distributed trained"
    fi
    grep -qF "started as one of 2 ranks (mpirun) without --distributed" plain.txt ||
      fail "2 ranks without --distributed refused with: $(cat plain.txt)"
    [ ! -e plain ] || fail "2 ranks without --distributed created their output folder"
    ;;

  dcgan-outputs)
    outputs_apart
    grep -c "^Generator:" apart.txt | grep -qx 1 || fail "the networks were printed more than once"
    ;;

  *) fail "unknown case" ;;
esac
echo "run_distributed_example.sh $case_name: passed"
