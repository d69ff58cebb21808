"""PyTorch reference of the acereason policy model, for `acereason bench policy` only.

Usage: python3 torch_ref.py <dir>
<dir> holds config.json (model, threads, the benchmark's prompts, training batch and loss) and
weights.safetensors (HF names, F32). The process then answers one JSON line per request line on
stdin, so the benchmark can alternate it with our engine round by round:
  {"op": "parity"}  writes parity_logits.bin (float32 [B, T, V]) and checks the static KV cache
                    (greedy decode through the cache against a full forward of the same tokens);
  {"op": "warmup"}  runs every measured shape once (each decode batch, a training step, the matmul);
  {"op": "measure", "figure": F}  one measurement of F: decode_b<B> (tokens/s at batch B), train
                    (tokens/s of one optimizer step) or matmul_1024 (this process's own 1024^3
                    matmul GFLOP/s, its roofline); answers {"work": tokens or GFLOP,
                    "wall_s": seconds, "cpu_s": CPU seconds of the whole process};
  {"op": "quit"}.

The model is the TypeScript definition (RMSNorm, rotary embeddings in the HF rotate_half layout,
grouped-query attention with optional q/k/v bias, SwiGLU MLP), written the way a careful PyTorch
user would for speed: fused q/k/v and gate/up projections, a preallocated static KV cache written
in place (no per-token torch.cat), grouped-query attention without repeating K/V, precomputed
rotary tables, decode under torch.inference_mode(). Sampling matches ours: softmax in float64 at
temperature 1, the token's logprob and the entropy of every step kept. Training matches ours: the
PPO-clip loss (eps_low/eps_high), token-mean over the response tokens, global grad-norm clipping,
AdamW.
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data, dtype=np.float32, count=(b - a) // 4, offset=8 + n + a)
        out[name] = torch.from_numpy(arr.copy()).reshape(info["shape"])
    return out


class Model:
    def __init__(self, cfg, w):
        self.c = cfg
        self.hd = cfg.get("headDim") or cfg["hiddenSize"] // cfg["numHeads"]
        self.H, self.KV = cfg["numHeads"], cfg["numKvHeads"]
        self.g = self.H // self.KV
        self.eps = cfg["rmsNormEps"]
        # Fused projections: one matmul for q, k, v and one for gate, up.
        self.layers = []
        for i in range(cfg["numLayers"]):
            p = f"model.layers.{i}."
            qkv_b = None
            if cfg["attentionBias"]:
                qkv_b = torch.cat([w[p + f"self_attn.{n}.bias"] for n in ("q_proj", "k_proj", "v_proj")])
            self.layers.append({
                "ln1": w[p + "input_layernorm.weight"],
                "qkv": torch.cat([w[p + f"self_attn.{n}.weight"] for n in ("q_proj", "k_proj", "v_proj")]).contiguous(),
                "qkv_b": qkv_b,
                "o": w[p + "self_attn.o_proj.weight"],
                "ln2": w[p + "post_attention_layernorm.weight"],
                "gate_up": torch.cat([w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"]]).contiguous(),
                "down": w[p + "mlp.down_proj.weight"],
            })
        self.embed = w["model.embed_tokens.weight"]
        self.norm = w["model.norm.weight"]
        self.head = self.embed if cfg["tieEmbeddings"] else w["lm_head.weight"]
        half = self.hd // 2
        inv = 1.0 / (cfg["ropeTheta"] ** (torch.arange(0, half, dtype=torch.float64) * 2 / self.hd))
        ang = torch.arange(cfg["maxPositions"], dtype=torch.float64)[:, None] * inv
        ang = torch.cat([ang, ang], dim=-1)
        self.cos, self.sin = ang.cos().float(), ang.sin().float()

    def params(self):
        ps = [self.embed, self.norm] + ([] if self.head is self.embed else [self.head])
        for layer in self.layers:
            ps += [t for t in layer.values() if t is not None]
        return ps

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    @staticmethod
    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat([-x[..., h:], x[..., :h]], dim=-1)

    def forward(self, ids, start, cache=None):
        """Logits of `ids` [B, T] at positions start..start+T-1. With `cache` (per layer a pair of
        [B, KV, maxT, hd] tensors) K/V are written into slots [start, start+T) in place and
        attention reads slots [0, start+T); without it, a plain causal forward (training)."""
        B, T = ids.shape
        H, KV, g, hd = self.H, self.KV, self.g, self.hd
        L = start + T
        cos = self.cos[start:L][None, None]
        sin = self.sin[start:L][None, None]
        mask = None
        if T > 1:
            mask = torch.triu(torch.full((T, L), -1e9), diagonal=start + 1)
        h = F.embedding(ids, self.embed)
        for i, w in enumerate(self.layers):
            x = self.rms(h, w["ln1"])
            qkv = F.linear(x, w["qkv"], w["qkv_b"])
            q, k, v = qkv.split([H * hd, KV * hd, KV * hd], dim=-1)
            q = q.view(B, T, H, hd).transpose(1, 2)
            k = k.view(B, T, KV, hd).transpose(1, 2)
            v = v.view(B, T, KV, hd).transpose(1, 2)
            q = q * cos + self.rot(q) * sin
            k = k * cos + self.rot(k) * sin
            if cache is not None:
                ck, cv = cache[i]
                ck[:, :, start:L] = k
                cv[:, :, start:L] = v
                k, v = ck[:, :, :L], cv[:, :, :L]
            # Grouped-query attention without repeating K/V: the g query heads of a KV head are
            # folded into the row dimension, [B, KV, g*T, hd] @ [B, KV, hd, L].
            qg = q.reshape(B, KV, g * T, hd)
            s = torch.matmul(qg, k.transpose(-1, -2)) / math.sqrt(hd)
            if mask is not None:
                s = (s.view(B, KV, g, T, L) + mask).view(B, KV, g * T, L)
            a = torch.matmul(torch.softmax(s, dim=-1), v).view(B, H, T, hd).transpose(1, 2).reshape(B, T, H * hd)
            h = h + F.linear(a, w["o"])
            y = self.rms(h, w["ln2"])
            gate, up = F.linear(y, w["gate_up"]).chunk(2, dim=-1)
            h = h + F.linear(F.silu(gate) * up, w["down"])
        return F.linear(self.rms(h, self.norm), self.head)

    def new_cache(self, B, max_t):
        return [(torch.empty(B, self.KV, max_t, self.hd), torch.empty(B, self.KV, max_t, self.hd)) for _ in self.layers]


def sample(logits, gen):
    """Softmax at temperature 1 in float64: the token, its logprob and the entropy (as ours)."""
    lp = torch.log_softmax(logits.double(), dim=-1)
    p = lp.exp()
    ent = -(p * lp).sum(-1)
    tok = torch.multinomial(p, 1, generator=gen)
    return tok, lp.gather(-1, tok)[:, 0], ent


def clock():
    """Wall and CPU seconds (the CPU time of every thread of this process, as ours counts it)."""
    return time.perf_counter(), time.process_time()


def since(t):
    w, c = clock()
    return w - t[0], c - t[1]


def decode(model, prompt, batch, new_tokens, gen):
    """Generates `new_tokens` per row for `batch` rows of one prompt; returns (wall, CPU) seconds."""
    P = prompt.shape[0]
    with torch.inference_mode():
        t0 = clock()
        cache = model.new_cache(batch, P + new_tokens)
        ids = prompt[None].expand(batch, P)
        logits = model.forward(ids, 0, cache)[:, -1]
        toks = torch.empty(batch, new_tokens, dtype=torch.long)
        lps = torch.empty(batch, new_tokens, dtype=torch.float64)
        ents = torch.empty(batch, new_tokens, dtype=torch.float64)
        for t in range(new_tokens):
            tok, lp, ent = sample(logits, gen)
            toks[:, t], lps[:, t], ents[:, t] = tok[:, 0], lp, ent
            if t == new_tokens - 1:
                break
            logits = model.forward(tok, P + t, cache)[:, -1]
        return since(t0)


class Trainer:
    def __init__(self, model, cfg):
        tr = cfg["train"]
        self.model = model
        self.params = model.params()
        for p in self.params:
            p.requires_grad_(True)
        # As ours: decoupled weight decay on matrices, none on norms and biases.
        groups = [{"params": [p for p in self.params if p.dim() >= 2], "weight_decay": tr["weightDecay"]},
                  {"params": [p for p in self.params if p.dim() < 2], "weight_decay": 0.0}]
        self.opt = torch.optim.AdamW(groups, lr=tr["lr"], betas=(tr["beta1"], tr["beta2"]), eps=tr["eps"], foreach=True)
        rows, T = tr["rows"], tr["len"]
        self.ids = torch.tensor(tr["tokens"], dtype=torch.long).view(rows, T)
        self.adv = torch.tensor(tr["advantages"], dtype=torch.float32).view(rows, T - 1)
        self.old = torch.tensor(tr["oldLogprobs"], dtype=torch.float32).view(rows, T - 1)
        self.eps_low, self.eps_high = tr["epsLow"], tr["epsHigh"]
        self.max_norm = tr["maxGradNorm"]

    def step(self):
        """One optimizer step; returns its (wall, CPU) seconds."""
        t0 = clock()
        self.opt.zero_grad(set_to_none=True)
        logits = self.model.forward(self.ids, 0)[:, :-1]
        lp = torch.log_softmax(logits, dim=-1).gather(-1, self.ids[:, 1:, None])[..., 0]
        r = torch.exp(lp - self.old)
        pg = -torch.minimum(r * self.adv, torch.clamp(r, 1 - self.eps_low, 1 + self.eps_high) * self.adv)
        loss = pg.mean()  # token-mean: every response token weighs the same
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.max_norm)
        self.opt.step()
        return since(t0)


def matmul_seconds(n=1024, reps=3):
    """(wall, CPU) seconds of one n^3 matmul: the medians over `reps` runs after one warm run."""
    a = torch.full((n, n), 0.5)
    b = torch.full((n, n), 0.25)
    torch.matmul(a, b)
    ts = []
    for _ in range(reps):
        t0 = clock()
        torch.matmul(a, b)
        ts.append(since(t0))
    return sorted(t[0] for t in ts)[reps // 2], sorted(t[1] for t in ts)[reps // 2]


def blas_in_use():
    """The BLAS library actually mapped into this process (Debian picks it by alternatives)."""
    torch.matmul(torch.ones(64, 64), torch.ones(64, 64))
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line.lower()}
        return ",".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def parity(model, cfg, d):
    pb, pt = cfg["parityShape"]
    ids = torch.tensor(cfg["parityIds"], dtype=torch.long).view(pb, pt)
    with torch.inference_mode():
        logits = model.forward(ids, 0)
        logits.numpy().astype(np.float32).tofile(os.path.join(d, "parity_logits.bin"))
        # The static cache against a full forward: greedy decode 8 tokens through the cache,
        # then run the whole sequence at once; the logits of each step must agree.
        steps = 8
        cache = model.new_cache(pb, pt + steps)
        step_logits = [model.forward(ids, 0, cache)[:, -1]]
        seq = ids
        for t in range(steps - 1):
            tok = step_logits[-1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, tok], dim=1)
            step_logits.append(model.forward(tok, pt + t, cache)[:, -1])
        full = model.forward(seq, 0)[:, pt - 1:]
        diff = (torch.stack(step_logits, dim=1) - full).abs().max().item()
    return {"cache_vs_full_max_abs_diff": diff}


def measure(figure, model, prompt, cfg, gen, trainer):
    """One measurement of one figure: its work (tokens, or GFLOP for the matmul) and the (wall,
    CPU) seconds it took, so that the caller reports work per second in the units ours uses."""
    if figure == "train":
        tr = cfg["train"]
        return tr["rows"] * tr["len"], trainer.step()
    if figure == "matmul_1024":
        return 2 * 1024 ** 3 / 1e9, matmul_seconds()
    if figure.startswith("decode_b") and int(figure[8:]) in cfg["decodeBatches"]:
        b = int(figure[8:])
        return b * cfg["newTokens"], decode(model, prompt, b, cfg["newTokens"], gen)
    raise ValueError(f"unknown figure {figure!r}")


def main():
    d = sys.argv[1]
    cfg = json.load(open(os.path.join(d, "config.json")))
    # One intra-op pool of the asked size; no inter-op pool (the benchmark's ops run one by one,
    # as ours do with ONNX Runtime's sequential executor).
    torch.set_num_threads(cfg["threads"])
    torch.set_num_interop_threads(1)
    model = Model(cfg["model"], read_safetensors(os.path.join(d, "weights.safetensors")))
    prompt = torch.tensor(cfg["prompt"], dtype=torch.long)
    gen = torch.Generator().manual_seed(0)
    trainer = None
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_in_use()}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        op = req.get("op")
        if op == "quit":
            break
        if op == "parity":
            out = parity(model, cfg, d)
        elif op == "warmup":
            # Every measured shape once, so that no round pays a first run.
            for b in cfg["decodeBatches"]:
                decode(model, prompt, b, 4, gen)
            if trainer is None:
                trainer = Trainer(model, cfg)
            trainer.step()
            matmul_seconds(reps=1)
            out = {"warm": True}
        elif op == "measure":
            work, (wall, cpu) = measure(req["figure"], model, prompt, cfg, gen, trainer)
            out = {"work": work, "wall_s": wall, "cpu_s": cpu}
        else:
            raise ValueError(f"unknown op {op!r}")
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
