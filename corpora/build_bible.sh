#!/usr/bin/env bash
# Builds sentemb's default training corpus: verse-aligned paraphrase pairs,
# King James Version <TAB> World English Bible, from the public-domain SWORD
# modules in Debian's sword-text-kjv and sword-text-web packages.
#
#   corpora/build_bible.sh [OUT_DIR]      (default: corpora/bible next to this script)
#
# Writes OUT_DIR/train.pairs.tsv, dev.pairs.tsv and test.pairs.tsv, split by
# whole books (see DEV_BOOKS / TEST_BOOKS below and corpora/README.md).
# Deterministic and idempotent: the same packages always give the same bytes;
# files are replaced atomically. Needs mod2imp (libsword-utils) and python3
# (standard library only). Takes a few seconds.
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
esac
if [[ $# -gt 1 ]]; then
  usage >&2
  exit 2
fi

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir="${1:-$script_dir/bible}"

# SWORD module names as installed by the Debian packages (the "KJV"/"WEB"
# abbreviations in their .conf files are not accepted by mod2imp).
KJV_MODULE=engKJV2006eb  # sword-text-kjv
WEB_MODULE=engWEB2015eb  # sword-text-web

if ! command -v mod2imp >/dev/null; then
  echo "build_bible.sh: mod2imp not found; install libsword-utils" >&2
  exit 1
fi
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3 || true)"
if [[ -z "$python" ]]; then
  echo "build_bible.sh: python3 not found" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# mod2imp exits 0 even when the module is missing, so check what it printed.
export_module() {
  local module="$1" package="$2" file="$3"
  mod2imp "$module" >"$file" 2>"$tmp/mod2imp.err" || true
  # shellcheck disable=SC2016  # a literal "$$$" header
  if ! grep -q '^\$\$\$Genesis 1:1$' "$file"; then
    echo "build_bible.sh: cannot export SWORD module $module; install $package" >&2
    cat "$tmp/mod2imp.err" >&2
    exit 1
  fi
}
export_module "$KJV_MODULE" sword-text-kjv "$tmp/kjv.imp"
export_module "$WEB_MODULE" sword-text-web "$tmp/web.imp"

mkdir -p "$out_dir"

"$python" - "$tmp/kjv.imp" "$tmp/web.imp" "$out_dir" <<'PY'
"""Strips OSIS markup from two SWORD exports, aligns them by verse and writes
the book-split pair files."""
import html
import os
import re
import sys

kjv_path, web_path, out_dir = sys.argv[1:4]

# Whole books held out, about 5% of the verses each, each a mix of narrative,
# wisdom/poetry and epistle. Books that retell or quote each other at length
# (Samuel/Kings/Chronicles, the synoptic gospels, Micah 4 = Isaiah 2) stay together
# in train. Names as mod2imp prints them.
DEV_BOOKS = {"Joshua", "Ecclesiastes", "Habakkuk", "Romans", "James", "Titus"}
TEST_BOOKS = {"Ruth", "Proverbs", "Lamentations", "Hebrews", "I Peter"}

# A verse pair whose texts differ in length by more than this factor is not a
# paraphrase but a textual difference (e.g. 1 John 5:7, or the WEB placing the
# Romans 16:25-27 doxology after 14:23); it is dropped.
MAX_LENGTH_RATIO = 3.0

# Elements dropped with their content: footnotes, headings (section headings and
# psalm superscriptions alike, since the two modules do not mark the same ones),
# speaker labels, variant readings.
DROPPED = {"note", "title", "speaker", "rdg", "catchWord"}
# Elements inside running text: their tags vanish and their text stays. Every
# other tag (line, line group, paragraph, milestone, chapter) is a soft break.
INLINE = {"w", "transChange", "divineName", "seg", "foreign", "name", "hi", "q", "reference", "d"}

TOKEN = re.compile(r"<(/?)([A-Za-z]+)\b[^>]*?(/?)>|[^<]+")
STRONGS_WORD = re.compile(r"</?w\b[^>]*>")  # the bulk of the markup; removed up front for speed
BOOK_END = re.compile(r'<div\b[^>]*\beID="[^"]*"[^>]*\btype="book"[^>]*/>')
USFM_MARKER = re.compile(r"\\[a-z]+[0-9]*\*?")  # stray USFM such as "\nd " in the KJV
SOFT = "\x01"
# A soft break (a removed note or structural tag) becomes a space between a word
# or closing punctuation and a following word or opening quote, e.g. the WEB's
# 'God</w><note>...</note><w>created' -> "God created"; elsewhere it vanishes.
SOFT_AS_SPACE = re.compile(r"(?<=[\w,;:.!?”’)\]])\x01+(?=[\w“‘(\[])")
SPACE_BEFORE_PUNCT = re.compile(r"(?<=\w) (?=[,.;:!?])")
HEADER = re.compile(r"^\$\$\$(.+) (\d+):(\d+)$")


def strip_markup(raw):
    # Anything after the end of a book (the WEB's glossary follows Revelation
    # 22:21) is back matter, not verse text.
    end = BOOK_END.search(raw)
    if end:
        raw = raw[: end.start()]
    raw = STRONGS_WORD.sub("", raw)
    out = []
    dropped_depth = 0
    for m in TOKEN.finditer(raw):
        closing, name, self_closing = m.group(1), m.group(2), m.group(3)
        if name is None:
            if dropped_depth == 0:
                out.append(m.group(0))
        elif name in DROPPED:
            if not self_closing:
                dropped_depth += -1 if closing else 1
            out.append(SOFT)
        elif name not in INLINE:
            out.append(SOFT)
    text = html.unescape("".join(out))
    text = USFM_MARKER.sub(" ", text).replace("¶", " ")
    text = SOFT_AS_SPACE.sub(" ", text)
    text = " ".join(text.replace(SOFT, "").split())  # also turns tabs and newlines into spaces
    return SPACE_BEFORE_PUNCT.sub("", text)


def load(path):
    """Returns ({(book, chapter, verse): text}, [keys in file order]). Chapter and
    book introductions (verse 0) and module headings are skipped."""
    verses, order = {}, []
    key, lines = None, []

    def flush():
        if key is not None:
            verses[key] = strip_markup(" ".join(lines))
            order.append(key)

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("$$$"):
                flush()
                lines = []
                m = HEADER.match(line)
                key = None
                if m and m.group(2) != "0" and m.group(3) != "0":
                    key = (m.group(1), int(m.group(2)), int(m.group(3)))
            else:
                lines.append(line)
    flush()
    return verses, order


kjv, kjv_order = load(kjv_path)
web, _ = load(web_path)
for book in DEV_BOOKS | TEST_BOOKS:
    assert any(k[0] == book for k in kjv_order), f"unknown book {book}"

splits = {"train": [], "dev": [], "test": []}
seen = {name: set() for name in splits}
missing_in_web = empty = misaligned = duplicates = 0
for key in kjv_order:
    if key not in web:
        missing_in_web += 1
        continue
    a, b = kjv[key], web[key]
    if not a or not b:
        empty += 1
        continue
    if max(len(a), len(b)) > MAX_LENGTH_RATIO * min(len(a), len(b)):
        misaligned += 1
        continue
    split = "dev" if key[0] in DEV_BOOKS else "test" if key[0] in TEST_BOOKS else "train"
    # Identical pairs ("And the LORD spake unto Moses, saying," x70) would be
    # false in-batch negatives of each other; keep the first of each.
    if (a, b) in seen[split]:
        duplicates += 1
        continue
    seen[split].add((a, b))
    splits[split].append(f"{a}\t{b}\n")

overlap = len(seen["train"] & (seen["dev"] | seen["test"]))
assert overlap == 0, f"{overlap} pairs of dev/test also in train"

for name, rows in splits.items():
    path = os.path.join(out_dir, f"{name}.pairs.tsv")
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        f.writelines(rows)
    os.replace(path + ".tmp", path)

total = sum(len(rows) for rows in splits.values())
print(f"KJV verses: {len(kjv_order)}; WEB verses: {len(web)}")
print(f"dropped: {empty} verses empty in either version, {missing_in_web} missing from the WEB, "
      f"{misaligned} misaligned (length ratio > {MAX_LENGTH_RATIO:g}), "
      f"{duplicates} duplicate pairs")
for name, rows in splits.items():
    print(f"{name}: {len(rows)} pairs ({100 * len(rows) / total:.1f}%) -> "
          f"{os.path.join(out_dir, name + '.pairs.tsv')}")
PY
