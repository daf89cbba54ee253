#!/bin/sh
# Runs one example briefly and checks what it promises; tests/examples/CMakeLists.txt
# adds one CTest test per case.
#
#   run_example.sh CASE WORK_DIR EXAMPLE_OUTPUTS EXAMPLE
#
# CASE: painting, sine (01, 02: the SVG), mnist-outputs (03: sample grids, log, plot,
# checkpoint), mnist-resume (03: a run killed after its last checkpoint and resumed
# equals an uninterrupted one), mnist-refuses (03: a folder holding another run is left
# alone), mnist-overwrite (03: --overwrite deletes the previous run's files only),
# dcgan-outputs (04: sample grids, log, plot, checkpoint; images of another shape are
# refused), dcgan-resume (04: killed and resumed, on two threads, equals uninterrupted), dcgan-variants
# (04: each generator and discriminator trains; a checkpoint of one network does not
# load into another), mnist-fcd (03 on Fashion-MNIST: the Frechet classifier distance of
# G's samples falls between an early and a later checkpoint), eight-gaussians (06: a plot
# per objective and the tables; unknown objectives refused), eight-gaussians-modes (06: R1
# trained for 1,000 steps covers at least 7 of the 8 modes with 5% high-quality samples).
# WORK_DIR is emptied first. EXAMPLE_OUTPUTS is tests/examples/example_outputs.cpp built.
set -eu

case_name=$1 dir=$2 outputs=$3 example=$4
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"

fail() {
  echo "run_example.sh $case_name: $*" >&2
  exit 1
}

# Example 03 on 10 generated images in batches of 4: 2 batches per epoch, so a few
# steps cross epoch boundaries (where the data order is redrawn from the seed).
mnist() { "$example" --data images.idx --batch 4 "$@"; }
mnist_data() { "$outputs" idx images.idx 10; }

# Example 04 the same way (BatchNorm trains on batches of 4 as on 64).
dcgan() { "$example" --data images.idx --batch 4 "$@"; }

# Size, modification time and checksum of every file under a folder.
snapshot() { find "$1" -type f -printf '%p %s %T@ ' -exec cksum {} \; | sort; }

case "$case_name" in
  painting)
    "$example" --steps 20 --every 10 --output painting.svg
    "$outputs" svg painting.svg "Painting GAN after 20 steps"
    ;;

  sine)
    "$example" --steps 20 --every 10 --output sine.svg
    "$outputs" svg sine.svg "Sine GAN after 20 steps"
    ;;

  mnist-outputs)
    mnist_data
    mnist --steps 4 --grid-every 2 --fcd-every 2 --fcd-samples 50 --output run
    "$outputs" png run/samples_000002.png run/samples_000004.png run/training.png run/fcd.png
    "$outputs" log run/log.csv 1 4
    "$outputs" fcd run/log.csv 2
    "$outputs" checkpoint run/checkpoint.npz 4
    ;;

  mnist-resume)
    mnist_data
    # The FCD every 3 steps: a resumed run logs the values an uninterrupted one does.
    mnist() { "$example" --data images.idx --batch 4 --fcd-every 3 --fcd-samples 50 "$@"; }
    mnist --steps 7 --grid-every 7 --output straight  # saves once: saving must not change the run

    # The state a kill after step 4 leaves: the checkpoint of step 3 (in the middle of
    # the second epoch), the log to step 4.
    mnist --steps 3 --grid-every 3 --output killed
    cp killed/checkpoint.npz checkpoint_3.npz
    mnist --steps 4 --grid-every 3 --output killed --resume killed/checkpoint.npz
    cp checkpoint_3.npz killed/checkpoint.npz
    "$outputs" log killed/log.csv 1 4

    mnist --steps 7 --grid-every 3 --output killed --resume killed/checkpoint.npz
    "$outputs" checkpoint killed/checkpoint.npz 7
    "$outputs" same-checkpoint straight/checkpoint.npz killed/checkpoint.npz
    "$outputs" log killed/log.csv 1 7
    cmp straight/log.csv killed/log.csv || fail "the resumed run's log differs from the uninterrupted run's"
    cmp straight/samples_000007.png killed/samples_000007.png || fail "the resumed run's last samples differ"
    ;;

  mnist-refuses)
    mnist_data
    mnist --steps 2 --grid-every 1 --output run
    echo "the user's notes" > run/notes.txt
    snapshot run > before.txt

    if mnist --steps 2 --output run 2> refused.txt; then fail "a fresh run into a previous run's folder went ahead"; fi
    cat refused.txt
    for expected in "output folder 'run' is not empty" "--resume run/checkpoint.npz" "--overwrite"; do
      grep -qF -- "$expected" refused.txt || fail "the refusal does not say '$expected'"
    done
    if mnist --steps 2 --output run --resume run/checkpoint.npz --overwrite 2> both.txt; then
      fail "--resume with --overwrite went ahead"
    fi
    grep -qF "exclude each other" both.txt || fail "--resume with --overwrite: $(cat both.txt)"
    snapshot run > after.txt
    cmp before.txt after.txt || fail "a refused run changed the folder"

    if mnist --steps 2 --output run/notes.txt 2> file.txt; then fail "--output naming a file went ahead"; fi
    grep -qF "is not a folder" file.txt || fail "--output naming a file: $(cat file.txt)"
    ;;

  mnist-overwrite)
    mnist_data
    mnist --steps 2 --grid-every 1 --output run
    echo "the user's notes" > run/notes.txt
    mnist --steps 1 --grid-every 1 --output run --overwrite
    "$outputs" log run/log.csv 1 1
    "$outputs" checkpoint run/checkpoint.npz 1
    "$outputs" png run/samples_000001.png run/training.png
    [ ! -e run/samples_000002.png ] || fail "--overwrite left the previous run's samples_000002.png"
    [ "$(cat run/notes.txt)" = "the user's notes" ] || fail "--overwrite deleted or changed a file it did not write"
    ;;

  dcgan-outputs)
    # Images of 14x56 hold 784 pixels too, but they are not D's 1x28x28.
    "$outputs" idx wide.idx 10 14 56
    if "$example" --data wide.idx --batch 4 --steps 1 --output wide 2> wide.txt; then fail "trained on 14x56 images"; fi
    grep -qF "the discriminator reads 1x28x28 images but wide.idx holds 14x56 images" wide.txt ||
      fail "14x56 images refused with: $(cat wide.txt)"
    [ ! -e wide ] || fail "a refused run created its output folder"

    mnist_data
    dcgan --steps 4 --grid-every 2 --output run > run.txt
    "$outputs" png run/samples_000002.png run/samples_000004.png run/training.png
    "$outputs" log run/log.csv 1 4
    "$outputs" checkpoint run/checkpoint.npz 4
    # The networks' summaries: the layers and the shapes between them.
    for expected in "ConvTranspose2D(128, 64, k4, s2, p1, op0)" "64x14x14" "Conv2D(64, 128, k4, s2, p1)" "128x7x7"; do
      grep -qF "$expected" run.txt || fail "the printed summaries lack '$expected'"
    done
    ;;

  dcgan-resume)
    mnist_data
    dcgan --steps 7 --grid-every 7 --output straight

    # A kill after step 4: the checkpoint of step 3, the log to step 4 (see mnist-resume).
    dcgan --steps 3 --grid-every 3 --output killed
    cp killed/checkpoint.npz checkpoint_3.npz
    dcgan --steps 4 --grid-every 3 --output killed --resume killed/checkpoint.npz
    cp checkpoint_3.npz killed/checkpoint.npz
    "$outputs" log killed/log.csv 1 4

    # Resumed on two threads (--threads 2: the convolutions' weight gradients in chunks
    # shared between them), to the same bits as the one-thread run.
    dcgan --steps 7 --grid-every 3 --output killed --resume killed/checkpoint.npz --threads 2
    "$outputs" checkpoint killed/checkpoint.npz 7
    "$outputs" same-checkpoint straight/checkpoint.npz killed/checkpoint.npz
    cmp straight/log.csv killed/log.csv || fail "the resumed run's log differs from the uninterrupted run's"
    cmp straight/samples_000007.png killed/samples_000007.png || fail "the resumed run's last samples differ"
    ;;

  dcgan-variants)
    mnist_data
    for generator in transposed upsample; do
      for discriminator in dcgan small; do
        run=$generator-$discriminator
        dcgan --steps 2 --grid-every 2 --generator $generator --discriminator $discriminator --output $run > $run.txt
        "$outputs" log $run/log.csv 1 2
        "$outputs" checkpoint $run/checkpoint.npz 2
        "$outputs" png $run/samples_000002.png
      done
    done
    grep -qF "Upsample2D" upsample-small.txt || fail "--generator upsample: no Upsample2D in the summary"
    grep -qF "MaxPool2D" upsample-small.txt || fail "--discriminator small: no MaxPool2D in the summary"
    if grep -qF "Upsample2D" transposed-dcgan.txt; then fail "--generator transposed has an Upsample2D"; fi
    # The four runs trained four different pairs of networks.
    distinct=$(for f in ./*-*/log.csv; do cksum < "$f"; done | sort -u | wc -l)
    [ "$distinct" -eq 4 ] || fail "the four variants wrote $distinct different logs, expected 4"

    # A checkpoint names its networks: the other generator's is refused.
    if dcgan --steps 3 --generator upsample --output transposed-dcgan --resume transposed-dcgan/checkpoint.npz \
        2> refused.txt; then
      fail "an upsample generator resumed from a transposed generator's checkpoint"
    fi
    grep -qF "the checkpoint's generator is" refused.txt || fail "wrong resume refused with: $(cat refused.txt)"
    ;;

  mnist-fcd)
    # 200 steps on Fashion-MNIST, checkpoints and FCDs at steps 100 and 200 (1,000 samples).
    # CI installs the data (scripts/install-deps); elsewhere its absence skips the case.
    if [ ! -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
      [ -z "${CI:-}" ] || [ "${CI:-}" = false ] || fail "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
      echo "run_example.sh $case_name: skipped: Fashion-MNIST is not installed"
      exit 0
    fi
    "$example" --steps 200 --batch 32 --grid-every 100 --fcd-every 100 --fcd-samples 1000 --output run > run.txt
    "$outputs" fcd run/log.csv 100
    "$outputs" fcd-falls run/log.csv 100 200 0.9
    ;;

  eight-gaussians)
    "$example" --steps 2 --seeds 2 --batch 16 --output run > run.txt
    for objective in ns wgan wgan-gp hinge hinge-sn lsgan r1; do
      "$outputs" png run/$objective.png
      grep -q "^$objective,[0-9.]*,[0-9.]*,[0-8],[0-8],2," run/table.csv || fail "table.csv has no row for $objective"
      grep -q "^| $objective | " run/table.md || fail "table.md has no row for $objective"
    done
    [ "$(wc -l < run/runs.csv)" -eq 15 ] || fail "runs.csv holds $(wc -l < run/runs.csv) lines, expected 1 + 7 x 2"
    if "$example" --steps 1 --objectives ns,gan --output unknown 2> unknown.txt; then fail "trained an unknown objective"; fi
    grep -qF "unknown objective 'gan'" unknown.txt || fail "an unknown objective refused with: $(cat unknown.txt)"
    ;;

  eight-gaussians-modes)
    # Asserts on the mean over seeds in table.csv: modes covered (of 8) and high-quality share.
    "$example" --steps 1000 --seeds 1 --objectives r1 --output run > run.txt
    cat run/table.md
    awk -F, '$1 == "r1" { found = 1; if ($2 < 7 || $3 < 0.05) exit 1 } END { if (!found) exit 1 }' run/table.csv ||
      fail "R1 after 1,000 steps: $(grep '^r1,' run/table.csv) (objective, modes covered, high-quality share, ...);" \
        "expected at least 7 modes and a share of 0.05"
    ;;

  *) fail "unknown case" ;;
esac
echo "run_example.sh $case_name: passed"
