"""PyTorch reference of one long-sequence training step, for `acereason bench long` only.

Usage: python3 torch_long.py '<json>' with {"model": ModelConfig, "tokens": T, "steps": n, "threads": k,
"checkpoint": bool}.
Random weights of the model's shape (timing only; numerical parity of the model definition is
checked elsewhere). One step = forward over one T-token sequence, token-level clipped PG loss over
every response token, backward, global-norm clipping, AdamW: the step `bench long` times on our side.
With "checkpoint", each decoder layer runs under torch.utils.checkpoint (its activations are
recomputed in the backward, as a PyTorch user does when eager attention's [H, T, T] tensors of every
layer do not fit); otherwise plain eager.
Prints one JSON line: seconds of each step (wall, and CPU seconds of this process over all threads), this process's 1024^3 matmul GFLOP/s before and after
each step, and the peak RSS of this process.
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rot(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def matmul_gflops(n=1024, reps=3):
    """This process's own n^3 float32 matmul rate (median of `reps`, as bench long's ONNX Runtime side)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    runs = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(a, b)
        runs.append(time.perf_counter() - t)
    return 2 * n ** 3 / sorted(runs)[reps // 2] / 1e9


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    c = cfg["model"]
    T = cfg["tokens"]
    D, H, KV, hd, Fi, V = c["hiddenSize"], c["numHeads"], c["numKvHeads"], c["headDim"], c["intermediateSize"], c["vocabSize"]
    g = H // KV
    gen = torch.Generator().manual_seed(0)
    randn = lambda *s: (torch.randn(*s, generator=gen) * 0.02).requires_grad_(True)
    ones = lambda n: torch.ones(n).requires_grad_(True)
    emb = randn(V, D)
    layers = []
    for _ in range(c["numLayers"]):
        L = {"ln1": ones(D), "q": randn(H * hd, D), "k": randn(KV * hd, D), "v": randn(KV * hd, D), "o": randn(D, H * hd),
             "ln2": ones(D), "gate": randn(Fi, D), "up": randn(Fi, D), "down": randn(D, Fi)}
        if c.get("qkNorm"):
            L["qn"] = ones(hd)
            L["kn"] = ones(hd)
        layers.append(L)
    norm = ones(D)
    head = emb if c["tieEmbeddings"] else randn(V, D)
    params = [emb, norm] + [p for L in layers for p in L.values()] + ([] if c["tieEmbeddings"] else [head])
    opt = torch.optim.AdamW(params, lr=1e-6, weight_decay=0.01)
    inv = 1.0 / (c["ropeTheta"] ** (torch.arange(0, hd // 2, dtype=torch.float64) * 2 / hd))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv
    ang = torch.cat([ang, ang], dim=-1)
    cos, sin = ang.cos().float()[None], ang.sin().float()[None]
    ids = torch.randint(0, V, (1, T), generator=gen)
    tgt = torch.roll(ids, -1, dims=1)
    mask = torch.triu(torch.full((T, T), -1e9), diagonal=1)
    adv = torch.randn(1, T, generator=gen)
    old = torch.full((1, T), -6.0)
    eps = c["rmsNormEps"]

    def layer(h, L):
        x = rms(h, L["ln1"], eps)
        q = F.linear(x, L["q"]).view(1, T, H, hd)
        k = F.linear(x, L["k"]).view(1, T, KV, hd)
        v = F.linear(x, L["v"]).view(1, T, KV, hd).transpose(1, 2)
        if "qn" in L:
            q = rms(q, L["qn"], eps)
            k = rms(k, L["kn"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * cos[:, None] + rot(q) * sin[:, None]
        k = k * cos[:, None] + rot(k) * sin[:, None]
        kk = k.repeat_interleave(g, dim=1)
        vv = v.repeat_interleave(g, dim=1)
        s = torch.matmul(q, kk.transpose(-1, -2)) / math.sqrt(hd) + mask
        a = torch.matmul(torch.softmax(s, dim=-1), vv).transpose(1, 2).reshape(1, T, H * hd)
        h = h + F.linear(a, L["o"])
        y = rms(h, L["ln2"], eps)
        h = h + F.linear(F.silu(F.linear(y, L["gate"])) * F.linear(y, L["up"]), L["down"])
        return h

    times = []
    cpu = []
    mm = [matmul_gflops()]
    for _ in range(cfg["steps"]):
        t0 = time.perf_counter()
        c0 = time.process_time()
        opt.zero_grad(set_to_none=True)
        h = F.embedding(ids, emb)
        for L in layers:
            h = checkpoint(layer, h, L, use_reentrant=False) if cfg.get("checkpoint") else layer(h, L)
        logits = F.linear(rms(h, norm, eps), head)
        lp = torch.log_softmax(logits, dim=-1)
        tl = lp.gather(-1, tgt[..., None])[..., 0]
        r = torch.exp(tl - old)
        loss = (-torch.minimum(r * adv, torch.clamp(r, 0.8, 1.28) * adv) / T).sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        mm.append(matmul_gflops())
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "checkpoint": bool(cfg.get("checkpoint")), "step_s": times, "cpu_s": cpu, "matmul_1024_gflops": mm,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
