#!/usr/bin/env python3
"""Reference outputs of all-MiniLM-L6-v2 from the Hugging Face implementation, for
tests/models/bert_test.cpp ("[models][bert][data]").

Runs transformers.BertModel (eval mode, float32, CPU) on two fixed token-id rows of different lengths
(the shorter right-padded with [PAD] = 0, attention mask 0 there) and stores, in
tests/models/fixtures/minilm_reference.json: the ids and mask, last_hidden_state at a few (row,
token) positions (the first 8 and the last 4 of the hidden values, plus the row sum over all hidden
values), the pooled output's first 8 values and row sums, and the transformers / torch versions.
The ids are a WordPiece tokenisation of two log-like sentences; any in-vocabulary ids would do.

Run once, by hand (it needs transformers, which the build does not):
  /usr/bin/python3 -m venv --system-site-packages /tmp/bert-venv
  /tmp/bert-venv/bin/pip install transformers==4.36.2
  /tmp/bert-venv/bin/python bench/peers/make_bert_reference.py [MODEL_DIR]
MODEL_DIR defaults to ~/.cache/opsbench/models/all-MiniLM-L6-v2 (config.json, model.safetensors).
"""
import json
import os
import sys

import torch
import transformers
from transformers import BertConfig, BertModel

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "models", "fixtures", "minilm_reference.json")

# [CLS] ... [SEP]; row 1 is shorter and padded to the length of row 0.
ROWS = [
    [101, 3058, 2340, 2003, 1037, 2193, 3433, 2005, 6412, 2000, 1996, 2951, 2640, 102],
    [101, 2270, 9152, 2004, 2179, 2007, 10697, 102],
]
POSITIONS = [(0, 0), (0, 5), (0, 13), (1, 0), (1, 3), (1, 7)]


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/opsbench/models/all-MiniLM-L6-v2")
    length = max(len(r) for r in ROWS)
    ids = [r + [0] * (length - len(r)) for r in ROWS]
    mask = [[1] * len(r) + [0] * (length - len(r)) for r in ROWS]
    config = BertConfig.from_pretrained(model_dir)
    model = BertModel.from_pretrained(model_dir, config=config, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    h, pooled = out.last_hidden_state.double(), out.pooler_output.double()
    ref = {
        "source": f"transformers {transformers.__version__} BertModel, torch {torch.__version__}, "
                  "eval mode, float32 CPU, bench/peers/make_bert_reference.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "model": "all-MiniLM-L6-v2",
        "input_ids": ids,
        "attention_mask": mask,
        "hidden": [{"row": r, "token": t, "first": h[r, t, :8].tolist(), "last": h[r, t, -4:].tolist(),
                    "sum": h[r, t].sum().item()} for r, t in POSITIONS],
        "pooled": [{"row": r, "first": pooled[r, :8].tolist(), "sum": pooled[r].sum().item()} for r in range(len(ROWS))],
    }
    with open(OUT, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
