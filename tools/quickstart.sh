#!/usr/bin/env bash
# The README's first command: installs everything, builds, builds the embedded
# Bible corpus, trains a model on it for a few minutes, then encodes and scores
# example sentences with it. Outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${SENTEMB_QUICKSTART_MINUTES:-3}"
bash tools/build.sh
bash corpora/build_bible.sh
mkdir -p out
S=./build/sentemb

echo "== train: KJV <-> WEB verse pairs, ${MINUTES} minutes" >&2
$S train --pairs corpora/bible/train.pairs.tsv --tokenizer tokenizers/bible-8k.model \
  --max-len 48 --symmetric --batch 64 --lr 5e-4 --warmup 0.05 --epochs 10 \
  --max-minutes "$MINUTES" --log-every 20 --log out/bible.log.jsonl \
  --checkpoint-dir out/bible.ckpt --out out/bible.semb

echo "== info" >&2
$S info --model out/bible.semb

echo "== retrieval on held-out books (test split): find each KJV verse's WEB twin" >&2
$S eval --model out/bible.semb --pairs corpora/bible/test.pairs.tsv

echo "== encode: three sentences to out/examples.npy" >&2
printf '%s\n' "In the beginning God created the heaven and the earth." \
  "In the beginning, God created the heavens and the earth." \
  "The LORD is my shepherd; I shall not want." |
  $S encode --model out/bible.semb --input - --output out/examples.npy

echo "== score" >&2
$S score --model out/bible.semb "And God said, Let there be light: and there was light." \
  "God said, \"Let there be light,\" and there was light."
$S score --model out/bible.semb "And God said, Let there be light: and there was light." \
  "Jesus wept."
