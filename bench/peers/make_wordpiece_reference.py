#!/usr/bin/env python3
"""Reference WordPiece tokenisations of the all-MiniLM-L6-v2 vocabulary from Hugging Face's
BertTokenizer (the Python implementation), for tests/models/wordpiece_test.cpp
("[models][wordpiece][data]").

For each of about 40 strings (Flow-Bench 1000genome sentences, HDFS log templates, accented, CJK,
emoji, punctuation-heavy, long numbers, control characters, special tokens written in the text)
it stores tokenizer(text)["input_ids"] (with [CLS] and [SEP], no truncation) in
tests/models/fixtures/wordpiece_minilm_reference.json, with the transformers version and the
sha256 of the vocab.txt used. Only ids are stored; the strings are in the fixture so that the C++
test feeds exactly the same text. The fast (Rust) tokenizer's ids are recorded too where they
differ from the Python one's ("fast_differs"), as information: the C++ tokenizer follows the
Python one.

Run once, by hand (it needs transformers, which the build does not):
  /usr/bin/python3 -m venv --system-site-packages /tmp/formats-venv
  /tmp/formats-venv/bin/pip install transformers==4.46.3
  /tmp/formats-venv/bin/python bench/peers/make_wordpiece_reference.py [MODEL_DIR]
MODEL_DIR defaults to ~/.cache/opsbench/models/all-MiniLM-L6-v2 (ci/fetch-models.sh puts it there).
Flow-Bench and HDFS strings come from /work/shared/data (OPSBENCH_DATA overrides the root); they
are stored in the fixture, so the test does not need the data.
"""
import csv
import gzip
import hashlib
import io
import json
import os
import sys

import transformers
from transformers import BertTokenizer, BertTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "models", "fixtures", "wordpiece_minilm_reference.json")
DATA = os.environ.get("OPSBENCH_DATA", "/work/shared/data")

HAND_WRITTEN = [
    "",
    "Hello, World!",
    "Crème brûlée à la café, naïve façade — São Paulo, Zürich, Ångström.",
    "ÀÉÎÕÜ ÿ Ǆ ǅ ǆ İstanbul ΟΔΥΣΣΕΥΣ straße STRASSE",
    "中文分词测试：今天天气很好。",
    "日本語のテキストとカタカナ、ひらがな。한국어 텍스트도 있습니다.",
    "emoji 🙂👍🏽 🚀 ❤️ flags 🇫🇷 and ZWJ 👩‍💻",
    "!!!???...,,,;;;:::((()))[[[]]]{{{}}}<<<>>>@@@###$$$%%%^^^&&&***___---+++===|||\\\\~~~``` '\"",
    "1234567890123456789012345678901234567890 3.14159265358979 -0.000001 1e-12 0xDEADBEEF",
    "tab\there\nnewline\r\ncarriage\u000bvt\u000cff\u0085nel\u2028ls\u2029ps\u00a0nbsp\u3000ideo",
    "zero\u200bwidth soft\u00adhyphen bom\ufeffx nul\u0000x repl\ufffdx ctrl\u0007bell",
    "a" * 101 + " " + "b" * 100 + " supercalifragilisticexpialidocious antidisestablishmentarianism",
    "[CLS] keep [SEP] special [UNK] tokens [PAD] [MASK] but [cls] and [Sep] are text",
    "e\u0301 decomposed vs \u00e9 composed; \uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28 fullwidth; \ufb01 ligature",
    "Ω ohm \u2126 kelvin \u212a angstrom \u212b; math 𝐀𝐁𝐂 x² ½ №",
    "«guillemets» „quotes“ ‘single’ – en — em … ellipsis ¿qué? ¡sí!",
    "Привет мир! Ελληνικά κείμενα. עברית ערבית: مرحبا بالعالم. हिन्दी पाठ",
    "URL https://example.com/path?q=1&r=two#frag user@example.org C:\\Windows\\System32",
    "snake_case camelCaseWord kebab-case-word PascalCase SCREAMING_CASE __init__",
    "   leading and trailing whitespace   ",
    "\u4e00\u9fff\u3400\U00020000\uf900\u3042\u30a2\uac00",
]


def flowbench_sentences(n):
    path = os.path.join(DATA, "flowbench-text", "1000genome", "test.csv.gz")
    out = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.append(row["text"])
            if len(out) == n:
                break
    return out


def hdfs_templates(n):
    out = []
    for name in ("HDFS_2k.log_templates.csv", "HDFS_templates.csv"):
        with open(os.path.join(DATA, "logs", "loghub", "HDFS", name), encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        out += [r["EventTemplate"] for r in rows[: n // 2]]
    return out


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/opsbench/models/all-MiniLM-L6-v2")
    vocab = os.path.join(model_dir, "vocab.txt")
    slow = BertTokenizer(vocab, do_lower_case=True)
    fast = BertTokenizerFast(vocab, do_lower_case=True)
    texts = HAND_WRITTEN + flowbench_sentences(10) + hdfs_templates(10)
    cases = []
    for text in texts:
        ids = slow(text)["input_ids"]
        case = {"text": text, "ids": ids}
        fast_ids = fast(text)["input_ids"]
        if fast_ids != ids:
            case["fast_differs"] = fast_ids
        cases.append(case)
    with open(vocab, "rb") as f:
        vocab_sha = hashlib.sha256(f.read()).hexdigest()
    doc = {
        "source": "transformers.BertTokenizer(vocab.txt, do_lower_case=True)(text)['input_ids'], "
        "bench/peers/make_wordpiece_reference.py",
        "transformers_version": transformers.__version__,
        "vocab_sha256": vocab_sha,
        "cases": cases,
    }
    # One case per line: small diffs when regenerated, still plain JSON.
    head = json.dumps({k: v for k, v in doc.items() if k != "cases"}, ensure_ascii=True)[:-1]
    lines = [json.dumps(c, ensure_ascii=True, separators=(",", ":")) for c in cases]
    with io.open(OUT, "w", encoding="utf-8") as f:
        f.write(head + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n")
    differs = sum("fast_differs" in c for c in cases)
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)} (transformers {transformers.__version__}; "
          f"fast tokenizer differs on {differs})")


if __name__ == "__main__":
    main()
