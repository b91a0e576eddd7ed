#!/usr/bin/python3
"""Peer of bench/bench_vae.cpp: the same VAE epoch in PyTorch eager (Debian python3-torch 1.13).

Model, loss and training step as models/src/vae.h: d -> d/2 ReLU -> (mean, logvar) d/3,
reparameterisation, z -> d/2 ReLU -> d sigmoid; loss = sum-of-squares reconstruction + KL (beta 1),
Adam lr 1e-4, clip_grad_norm_ 0.5, batch 256 as slices of the tensor shuffled once per epoch, and
the per-epoch training MAE accumulated on the device with one host sync per epoch (what opsbench
records for Kneedle). 5,000 x 2,000 uniform float32 rows.

Prints, per thread count, the median wall seconds of epochs 2..(1+--epochs) (epoch 1 is a warm-up).
Usage: /usr/bin/python3 bench/peers/torch_vae_epoch.py [--threads 1 2] [--epochs 5]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args()
    torch.manual_seed(42)
    x = torch.rand(5000, 2000)
    print(f"torch {torch.__version__}")
    for t in args.threads:
        torch.set_num_threads(t)
        model = Vae(x.shape[1])
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        epoch(model, opt, x)  # warm-up
        times = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            epoch(model, opt, x)
            times.append(time.perf_counter() - start)
        print(f"torch_vae_epoch threads={t} median_s={statistics.median(times):.4f} "
              f"min_s={min(times):.4f} runs={len(times)}")


if __name__ == "__main__":
    main()
