#!/usr/bin/env bash
# Issue 18's effect tables (README, "Training toolbox" results): short fine-tuning runs
# that all start from one model and see the same number of pairs, each final model
# evaluated on STS-B dev. Usage, from the repository root:
#   tools/bench/toolbox_effects.sh INIT.semb OUT_DIR [RUN...]
# RUN: recipe matryoshka simcse recipe_simcse diverse gc512 gc1024 (default: all).
# Results are appended to OUT_DIR/results.txt as "run dim=K {eval --json}".
set -euo pipefail
init=$1 out=$2
shift 2
runs=("$@")
((${#runs[@]})) || runs=(recipe matryoshka simcse recipe_simcse diverse gc512 gc1024)
B=${SENTEMB:-./build/sentemb}
D=${DATA:-../shared/data}
T=$D/train
mkdir -p "$out"
recipe=(--pairs $T/bible_kjv_web.pairs.tsv --pairs $T/coco_captions.pairs.tsv
  --pairs $T/flickr8k_captions.pairs.tsv --pairs $T/twitter_url.pairs.tsv
  --triplets $T/twitter_url.triplets.tsv --triplets $T/snli_dev.triplets.tsv
  --triplets $T/snli_test.triplets.tsv
  --groups $T/coco_captions.groups.tsv --groups $T/flickr8k_captions.groups.tsv)
weights=(--weights 8 50 55 10 11 12 12)
# The text file: up to 200,000 distinct sentences of the pair files, shuffled (seeded).
sentences=$out/sentences.txt
if [[ ! -s $sentences ]]; then
  cut -f1,2 $T/coco_captions.pairs.tsv $T/flickr30k_captions.pairs.tsv $T/squad_qa.pairs.tsv \
    $T/webnlg.pairs.tsv $T/parasci_acl.pairs.tsv $T/simplification.pairs.tsv \
    $T/twitter_url.pairs.tsv $T/bible_kjv_web.pairs.tsv | tr '\t' '\n' | awk 'length($0) > 0' |
    sort -u | shuf --random-source=<(yes) | head -200000 >"$sentences"
fi
for run in "${runs[@]}"; do
  steps=250 dims=0 extra=()
  case $run in
    recipe) data=("${recipe[@]}" "${weights[@]}") dims="0 128 64 32" ;;
    matryoshka) data=("${recipe[@]}" "${weights[@]}") dims="0 128 64 32"
      extra=(--matryoshka-dims 256 128 64 32) ;;
    simcse) data=(--text "$sentences") ;;
    recipe_simcse) data=("${recipe[@]}" --text "$sentences" "${weights[@]}" 20) ;;
    diverse) data=("${recipe[@]}" --pairs $T/flickr30k_captions.pairs.tsv --pairs $T/squad_qa.pairs.tsv
      --pairs $T/webnlg.pairs.tsv --pairs $T/parasci_acl.pairs.tsv
      --pairs $T/simplification.pairs.tsv --pairs $T/bible_bsb.pairs.tsv
      --pairs $T/taxinli.pairs.tsv --triplets $T/taxinli.triplets.tsv
      --groups $T/flickr30k_captions.groups.tsv --groups $T/webnlg.groups.tsv) ;;
    gc512) data=("${recipe[@]}" "${weights[@]}") steps=63 extra=(--batch 512 --mini-batch 128) ;;
    gc1024) data=("${recipe[@]}" "${weights[@]}") steps=32 extra=(--batch 1024 --mini-batch 128) ;;
    *) echo "unknown run $run" >&2; exit 2 ;;
  esac
  "$B" train --init "$init" "${data[@]}" "${extra[@]}" --symmetric --temperature 0.05 \
    --lr 3e-4 --warmup 0.05 --dropout 0.1 --threads 1 --seed 7 --max-steps $steps \
    --log "$out/$run.log.jsonl" --log-every 50 --out "$out/$run.semb" >"$out/$run.out" 2>&1
  for k in $dims; do
    echo "$run dim=$k $("$B" eval --model "$out/$run.semb" --sts $D/eval/stsb_dev.tsv \
      --threads 1 --dim $k --json 2>/dev/null)" >>"$out/results.txt"
  done
done
