#!/bin/sh
# The data-parallel tests (issue 19): a run under mpirun against one process.
#   mpi_tests.sh CASE SENTEMB MPI_CHECK DATA_DIR
# CASE: train_pairs, train_triplets, train_labeled, train_text (R-invariance: the
# losses of 20 steps and the final weights of `mpirun -np 2` and one process agree
# to 1e-4), resume_other_r (checkpointed at R = 2, resumed at R = 1), encode (the
# output of `mpirun -np 2 sentemb encode` is byte for byte one process's, in every
# format), fault (a rank killed with SIGKILL ends the job; --resume continues).
# ctest sets OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) for CI, which runs as root.
set -eu
case=$1 bin=$2 check=$3 data=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Two ranks on this machine whatever its cores; shared memory between them.
mpi() { mpirun --oversubscribe --bind-to none -np "${NP:-2}" --mca btl self,vader "$@"; }
small="--tokenizer $data/tokenizer/tiny.model --layers 1 --dim 32 --heads 2 --ffn-dim 64
  --max-len 16 --epochs 1000 --threads 1 --log-every 1 --dropout 0.1 --seed 7"
tiny="$small --max-steps 20"

# Trains with the given options alone and under mpirun; compares losses and weights.
same_run() {
  # shellcheck disable=SC2086
  "$bin" train $tiny "$@" --out "$work/one.semb" --log "$work/one.jsonl" 2>"$work/one.err" || { cat "$work/one.err"; exit 1; }
  # shellcheck disable=SC2086
  mpi "$bin" train $tiny "$@" --out "$work/two.semb" --log "$work/two.jsonl" 2>"$work/two.err" || { cat "$work/two.err"; exit 1; }
  "$check" logs "$work/one.jsonl" "$work/two.jsonl" 1e-4
  "$check" models "$work/one.semb" "$work/two.semb" 1e-4
}

case $case in
train_pairs)
  same_run --pairs "$data/train/pairs.tsv" --batch 128 --symmetric \
    --eval-sts "$data/train/sts.tsv" --eval-every 10 ;;
train_triplets)  # GradCache and Matryoshka: the cached embeddings are gathered
  same_run --triplets "$data/train/triplets.tsv" --batch 32 --mini-batch 5 \
    --matryoshka-dims 32 16 ;;
train_labeled)
  same_run --labeled "$data/train/labeled.tsv" --batch 33 ;;
train_text)
  cut -f1 "$data/train/pairs.tsv" >"$work/text.txt"
  same_run --text "$work/text.txt" --batch 64 ;;
resume_other_r)  # a checkpoint does not depend on R
  # shellcheck disable=SC2086
  "$bin" train $tiny --pairs "$data/train/pairs.tsv" --batch 128 --out "$work/one.semb" \
    --log "$work/one.jsonl" 2>/dev/null
  # shellcheck disable=SC2086
  mpi "$bin" train $tiny --pairs "$data/train/pairs.tsv" --batch 128 --out "$work/two.semb" \
    --checkpoint-dir "$work/ckpt" --pause-after 10 --log "$work/two.jsonl" 2>/dev/null
  # shellcheck disable=SC2086
  "$bin" train $tiny --pairs "$data/train/pairs.tsv" --batch 128 --out "$work/two.semb" \
    --checkpoint-dir "$work/ckpt" --resume --log "$work/two.jsonl" 2>/dev/null
  "$check" logs "$work/one.jsonl" "$work/two.jsonl" 1e-4
  "$check" models "$work/one.semb" "$work/two.semb" 1e-4 ;;
encode)
  "$bin" init --tokenizer "$data/tokenizer/tiny.model" --layers 1 --dim 32 --heads 2 \
    --ffn-dim 64 --max-len 16 --out "$work/model.semb"
  # 25,000 lines: ranges start at multiples of the 10,000-line encode window
  for _ in $(seq 125); do cut -f2 "$data/train/pairs.tsv"; done >"$work/in.txt"
  { echo; printf 'a last line without a newline'; } >>"$work/in.txt"
  for format in npy fvecs tsv jsonl; do
    "$bin" encode --model "$work/model.semb" --input "$work/in.txt" --threads 1 \
      --output "$work/one.$format" 2>/dev/null
    mpi "$bin" encode --model "$work/model.semb" --input "$work/in.txt" --threads 1 \
      --output "$work/two.$format" 2>/dev/null
    cmp "$work/one.$format" "$work/two.$format"
    echo "$format: the same bytes from 1 and 2 processes"
  done
  # Quantized: rank 0 calibrates the int8 ranges on the whole input and hands them on.
  for quantize in int8 ubinary; do
    "$bin" encode --model "$work/model.semb" --input "$work/in.txt" --threads 1 \
      --quantize "$quantize" --output "$work/one.$quantize.npy" 2>/dev/null
    mpi "$bin" encode --model "$work/model.semb" --input "$work/in.txt" --threads 1 \
      --quantize "$quantize" --output "$work/two.$quantize.npy" 2>/dev/null
    cmp "$work/one.$quantize.npy" "$work/two.$quantize.npy"
    echo "npy --quantize $quantize: the same bytes from 1 and 2 processes"
  done
  if ls "$work"/*.part* 2>/dev/null; then echo "parts left behind"; exit 1; fi ;;
fault)  # SIGKILL one rank: the job ends within 30 s, non-zero; --resume continues
  run="--pairs $data/train/pairs.tsv --batch 128 --out $work/model.semb --checkpoint-dir $work/ckpt
    --max-steps 100000 --checkpoint-every 5"
  # shellcheck disable=SC2086
  mpi "$bin" train $small $run 2>"$work/err" &
  launcher=$!
  for _ in $(seq 600); do [ -f "$work/ckpt/checkpoint.semb" ] && break; sleep 0.1; done
  [ -f "$work/ckpt/checkpoint.semb" ] || { echo "no checkpoint"; kill "$launcher"; exit 1; }
  rank=$(pgrep -P "$launcher" | tail -n 1)
  kill -KILL "$rank"
  started=$(date +%s)
  status=0
  wait "$launcher" || status=$?
  took=$(($(date +%s) - started))
  echo "the job ended $took s after SIGKILL to rank pid $rank, exit status $status"
  [ "$status" -ne 0 ] && [ "$took" -le 30 ]
  # shellcheck disable=SC2086
  "$bin" train $small $run --pause-after 3 --resume 2>"$work/err" || { cat "$work/err"; exit 1; }
  cat "$work/err"
  grep -q "(paused)" "$work/err" ;;
*)
  echo "unknown case $case"
  exit 2 ;;
esac
