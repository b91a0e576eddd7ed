#!/usr/bin/python3
"""Peer of bench/bench_encoder.cpp: a BERT encoder forward pass in PyTorch eager (Debian
python3-torch 1.13), written for the comparison (not transformers).

The model is the post-LayerNorm BERT of models/src/bert.h, coded as Hugging Face's BertModel codes
it: separate query/key/value nn.Linear, heads by view + permute, matmul, / sqrt(head size), + the
extended mask ((1 - mask) * lowest float), softmax, matmul, permute back, dense + residual +
LayerNorm, GELU MLP + residual + LayerNorm, pooler tanh(dense(h[:, 0])). Weights come from a
model.safetensors read with json + numpy (the header names the tensors); config.json gives shapes.
Runs under torch.inference_mode() in eval mode, the fastest plain eager setting.

Inputs: batch x length token ids drawn from a fixed seed ([CLS] first, [SEP] last), no padding
(mask all ones; the mask is still added, as Hugging Face does). Prints per (batch, threads) the
median and min wall seconds and the median process CPU seconds over --repeats samples, each the
mean of --inner forward passes
(last_hidden_state + pooled), after --warmup passes. A sequence classifier's pooled output costs
the same here: eager PyTorch has no cheaper path for it.

  /usr/bin/python3 bench/peers/torch_bert_forward.py --model DIR [--batch 1 8] [--length 128]
      [--threads 1 2] [--repeats 7] [--inner 3]
  /usr/bin/python3 bench/peers/torch_bert_forward.py --make-random-base DIR
      writes a BERT-base-sized model (12 layers, hidden 768, 12 heads, intermediate 3072,
      vocab 30522) with normal(0, 0.02) weights, seed 0, as config.json + model.safetensors.
"""
import argparse
import json
import math
import os
import statistics
import struct
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name[5:] if name.startswith("bert.") else name] = torch.from_numpy(arr.astype(np.float32, copy=False).copy()
                                                                               if info["dtype"] != "I64" else arr.copy())
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        b = tensors[name].contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, m = c["hidden_size"], c["intermediate_size"]
        self.heads, self.eps = c["num_attention_heads"], c.get("layer_norm_eps", 1e-12)
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attention_dense, self.attention_norm = nn.Linear(h, h), nn.LayerNorm(h, eps=self.eps)
        self.intermediate, self.output = nn.Linear(h, m), nn.Linear(m, h)
        self.output_norm = nn.LayerNorm(h, eps=self.eps)
        act = c.get("hidden_act", "gelu")
        self.act = (lambda x: F.gelu(x)) if act == "gelu" else \
                   (lambda x: F.gelu(x, approximate="tanh")) if act in ("gelu_new", "gelu_pytorch_tanh") else F.relu

    def split(self, x):
        b, length, h = x.shape
        return x.view(b, length, self.heads, h // self.heads).permute(0, 2, 1, 3)

    def forward(self, x, mask_bias):
        b, length, h = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(h // self.heads)
        probs = torch.softmax(scores + mask_bias, dim=-1)
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous().view(b, length, h)
        a = self.attention_norm(self.attention_dense(context) + x)
        return self.output_norm(self.output(self.act(self.intermediate(a))) + a)


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.word = nn.Embedding(c["vocab_size"], h)
        self.position = nn.Embedding(c.get("max_position_embeddings", 512), h)
        self.token_type = nn.Embedding(c.get("type_vocab_size", 2), h)
        self.norm = nn.LayerNorm(h, eps=c.get("layer_norm_eps", 1e-12))
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.pooler = nn.Linear(h, h)

    def forward(self, ids, mask):
        length = ids.shape[1]
        positions = torch.arange(length).unsqueeze(0)
        x = self.norm(self.word(ids) + self.position(positions) + self.token_type(torch.zeros_like(ids)))
        mask_bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x, torch.tanh(self.pooler(x[:, 0]))

    def load(self, tensors):
        self.load_state_dict({ours: tensors[theirs] for ours, theirs in hf_names(len(self.layers)).items()})


def hf_names(layers):
    """This model's parameter names -> the checkpoint's (Hugging Face) names."""
    names = {"word.weight": "embeddings.word_embeddings.weight",
             "position.weight": "embeddings.position_embeddings.weight",
             "token_type.weight": "embeddings.token_type_embeddings.weight",
             "norm.weight": "embeddings.LayerNorm.weight", "norm.bias": "embeddings.LayerNorm.bias",
             "pooler.weight": "pooler.dense.weight", "pooler.bias": "pooler.dense.bias"}
    parts = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attention_dense": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
             "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm"}
    for i in range(layers):
        for ours, theirs in parts.items():
            for p in ("weight", "bias"):
                names[f"layers.{i}.{ours}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
    return names


def make_random_base(path):
    c = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522, "hidden_size": 768,
         "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
         "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0}
    torch.manual_seed(0)
    state = Bert(c).state_dict()
    tensors = {}
    for ours, theirs in hf_names(c["num_hidden_layers"]).items():
        t = state[ours]
        if theirs.endswith("LayerNorm.weight"):
            tensors[theirs] = torch.ones_like(t)
        elif theirs.endswith("bias"):
            tensors[theirs] = torch.zeros_like(t)
        else:
            tensors[theirs] = torch.empty_like(t).normal_(0.0, 0.02)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    write_safetensors(os.path.join(path, "model.safetensors"), tensors)
    print(f"wrote {path}/config.json and model.safetensors ({len(tensors)} tensors)")


def token_ids(batch, length, vocab):
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(1000, vocab, (batch, length), generator=g)
    ids[:, 0], ids[:, -1] = 101, 102
    return ids


def timed(fn, warmup, repeats, inner):
    """Median and min wall time and median process CPU time over `repeats` samples, each the mean
    of `inner` calls."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(inner):
            fn()
        wall.append((time.perf_counter() - start) / inner)
        cpu.append((time.process_time() - start_cpu) / inner)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--make-random-base")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--inner", type=int, default=3)
    args = ap.parse_args()
    if args.make_random_base:
        make_random_base(args.make_random_base)
        return
    with open(os.path.join(args.model, "config.json")) as f:
        c = json.load(f)
    model = Bert(c)
    model.load(read_safetensors(os.path.join(args.model, "model.safetensors")))
    model.eval()
    name = os.path.basename(os.path.normpath(args.model))
    print(f"torch {torch.__version__} model={name}")
    for t in args.threads:
        torch.set_num_threads(t)
        for b in args.batch:
            ids = token_ids(b, args.length, c["vocab_size"])
            mask = torch.ones_like(ids)
            with torch.inference_mode():
                med, low, cpu = timed(lambda: model(ids, mask), args.warmup, args.repeats, args.inner)
                print(f"torch_bert_forward model={name} what=forward batch={b} length={args.length} threads={t} "
                      f"median_s={med:.5f} min_s={low:.5f} cpu_median_s={cpu:.5f} samples={args.repeats}x{args.inner}", flush=True)


if __name__ == "__main__":
    main()
