#!/usr/bin/python3
"""Peer of bench/bench_vae.cpp: the same VAE epoch in PyTorch eager (Debian python3-torch 1.13).

Model, loss and training step as models/src/vae.h: d -> d/2 ReLU -> (mean, logvar) d/3,
reparameterisation, z -> d/2 ReLU -> d sigmoid; loss = sum-of-squares reconstruction + KL (beta 1),
Adam lr 1e-4, clip_grad_norm_ 0.5, batch 256 as slices of the tensor shuffled once per epoch, and
the per-epoch training MAE accumulated on the device with one host sync per epoch (what opsbench
records for Kneedle). 5,000 x 2,000 uniform float32 rows.

Prints, per thread count, the median wall seconds of epochs 2..(1+--epochs) (epoch 1 is a warm-up).
--modes: `eager` (float32, the issue's reference), `autocast-bf16` (the same loop under PyTorch's own
CPU mixed precision, torch.autocast("cpu", dtype=torch.bfloat16): the fair peer of opsbench's
opt-in bf16 mode). --floor also times only the epoch's 14 matrix products (5 forward, 4 input
gradients, 5 weight gradients; 20 batches of 256 rows scaled to 5,000) with three kernels:
OpenBLAS sgemm (what both eager PyTorch and opsbench float32 call), oneDNN's float32 inner product
(torch._C._nn.mkldnn_linear on mkldnn tensors) and oneDNN's bf16 matmul: the lower bound of any
float32 epoch on this BLAS.
Usage: /usr/bin/python3 bench/peers/torch_vae_epoch.py [--threads 1 2] [--epochs 5]
       [--modes eager autocast-bf16] [--floor]
"""
import argparse
import statistics
import time

import torch
from torch import nn


class Vae(nn.Module):
    def __init__(self, d):
        super().__init__()
        h, z = max(1, d // 2), max(1, d // 3)
        self.encoder, self.mean, self.logvar = nn.Linear(d, h), nn.Linear(h, z), nn.Linear(h, z)
        self.decoder, self.output = nn.Linear(z, h), nn.Linear(h, d)

    def forward(self, x):
        hidden = torch.relu(self.encoder(x))
        mean, logvar = self.mean(hidden), self.logvar(hidden)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        return torch.sigmoid(self.output(torch.relu(self.decoder(z)))), mean, logvar


def epoch(model, opt, x, batch=256):
    n = x.shape[0]
    xs = x[torch.randperm(n)]
    mae_sum = torch.zeros(())
    for b in range(0, n, batch):
        xb = xs[b:b + batch]
        recon, mean, logvar = model(xb)
        diff = recon - xb
        loss = diff.pow(2).sum(1).mean() + (-0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(1)).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        mae_sum += diff.detach().abs().mean(1).sum()
    return mae_sum.item() / n


def run_epoch(mode, model, opt, x):
    if mode == "autocast-bf16":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return epoch(model, opt, x)
    return epoch(model, opt, x)


def floor(reps=3, d=2000, batch=256):
    """Seconds of the epoch's matrix products alone, per kernel (best of `reps`)."""
    h, z = d // 2, d // 3
    layers = [(d, h), (h, z), (h, z), (z, h), (h, d)]
    shapes = [(batch, i, o) for i, o in layers]              # forward: [B,i] x [i,o]
    shapes += [(batch, o, i) for i, o in layers[1:]]         # input gradients: [B,o] x [o,i]
    shapes += [(o, batch, i) for i, o in layers]             # weight gradients: [o,B] x [B,i]
    scale = 5000 / (20 * batch)
    flop = sum(2 * m * k * n for m, k, n in shapes) * 20 * scale
    pairs = [(torch.rand(m, k), torch.rand(n, k)) for m, k, n in shapes]  # linear(a, b) = a b^T
    kernels = {
        "openblas_f32": (lambda a, b: torch.nn.functional.linear(a, b), lambda t: t),
        "onednn_f32": (lambda a, b: torch._C._nn.mkldnn_linear(a, b, None), lambda t: t.to_mkldnn()),
        "onednn_bf16": (lambda a, b: torch.nn.functional.linear(a, b), lambda t: t.bfloat16()),
    }
    out = {}
    for name, (op, conv) in kernels.items():
        ops = [(conv(a), conv(b)) for a, b in pairs]
        best = float("inf")
        for _ in range(reps + 1):
            start = time.perf_counter()
            for _ in range(20):
                for a, b in ops:
                    op(a, b)
            best = min(best, time.perf_counter() - start)
        out[name] = best * scale
    return flop, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--modes", nargs="+", default=["eager"], choices=["eager", "autocast-bf16"])
    ap.add_argument("--floor", action="store_true")
    args = ap.parse_args()
    torch.manual_seed(42)
    x = torch.rand(5000, 2000)
    print(f"torch {torch.__version__}")
    for t in args.threads:
        torch.set_num_threads(t)
        for mode in args.modes:
            model = Vae(x.shape[1])
            opt = torch.optim.Adam(model.parameters(), lr=1e-4)
            run_epoch(mode, model, opt, x)  # warm-up
            times = []
            for _ in range(args.epochs):
                start = time.perf_counter()
                run_epoch(mode, model, opt, x)
                times.append(time.perf_counter() - start)
            print(f"torch_vae_epoch mode={mode} threads={t} median_s={statistics.median(times):.4f} "
                  f"min_s={min(times):.4f} runs={len(times)}", flush=True)
        if args.floor:
            flop, secs = floor()
            print(f"matmul_floor threads={t} gflop={flop / 1e9:.1f} " + " ".join(
                f"{k}_s={v:.4f} ({flop / v / 1e9:.0f} GFLOP/s)" for k, v in secs.items()), flush=True)


if __name__ == "__main__":
    main()
