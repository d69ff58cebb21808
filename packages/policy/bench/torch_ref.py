"""PyTorch reference of the acereason policy model, for `acereason bench policy` only.

Usage: python3 torch_ref.py <dir>
<dir> holds config.json (model + benchmark settings), weights.safetensors (HF names, F32) and
parity_ids.bin (int32 [B, T]). Writes parity_logits.bin (float32 [B, T, V]) and prints one JSON
object with the measured figures. Same model as the TypeScript definition: RMSNorm, rotary
embeddings (HF rotate_half layout), grouped-query attention with optional q/k/v bias, SwiGLU MLP.
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
        self.w = w
        self.hd = cfg.get("headDim") or cfg["hiddenSize"] // cfg["numHeads"]
        half = self.hd // 2
        self.inv = 1.0 / (cfg["ropeTheta"] ** (torch.arange(0, half, dtype=torch.float64) * 2 / self.hd))

    def params(self):
        return list(self.w.values())

    def rope_tables(self, pos):
        ang = pos.to(torch.float64)[..., None] * self.inv
        ang = torch.cat([ang, ang], dim=-1)
        return ang.cos().float(), ang.sin().float()

    @staticmethod
    def rms(x, w, eps):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    @staticmethod
    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat([-x[..., h:], x[..., :h]], dim=-1)

    def forward(self, ids, pos, mask, past=None):
        c, w, hd = self.c, self.w, self.hd
        H, KV = c["numHeads"], c["numKvHeads"]
        g = H // KV
        B, T = ids.shape
        cos, sin = self.rope_tables(pos)
        cos, sin = cos[:, None], sin[:, None]
        h = F.embedding(ids, w["model.embed_tokens.weight"])
        present = []
        for i in range(c["numLayers"]):
            p = f"model.layers.{i}."
            b = (lambda n: w[p + f"self_attn.{n}.bias"]) if c["attentionBias"] else (lambda n: None)
            x = self.rms(h, w[p + "input_layernorm.weight"], c["rmsNormEps"])
            q = F.linear(x, w[p + "self_attn.q_proj.weight"], b("q_proj")).view(B, T, H, hd).transpose(1, 2)
            k = F.linear(x, w[p + "self_attn.k_proj.weight"], b("k_proj")).view(B, T, KV, hd).transpose(1, 2)
            v = F.linear(x, w[p + "self_attn.v_proj.weight"], b("v_proj")).view(B, T, KV, hd).transpose(1, 2)
            q = q * cos + self.rot(q) * sin
            k = k * cos + self.rot(k) * sin
            if past is not None:
                k = torch.cat([past[i][0], k], dim=2)
                v = torch.cat([past[i][1], v], dim=2)
            present.append((k, v))
            kk = k.repeat_interleave(g, dim=1)
            vv = v.repeat_interleave(g, dim=1)
            s = torch.matmul(q, kk.transpose(-1, -2)) / math.sqrt(hd) + mask
            a = torch.matmul(torch.softmax(s, dim=-1), vv).transpose(1, 2).reshape(B, T, H * hd)
            h = h + F.linear(a, w[p + "self_attn.o_proj.weight"])
            y = self.rms(h, w[p + "post_attention_layernorm.weight"], c["rmsNormEps"])
            h = h + F.linear(F.silu(F.linear(y, w[p + "mlp.gate_proj.weight"])) * F.linear(y, w[p + "mlp.up_proj.weight"]), w[p + "mlp.down_proj.weight"])
        h = self.rms(h, w["model.norm.weight"], c["rmsNormEps"])
        head = w["model.embed_tokens.weight"] if c["tieEmbeddings"] else w["lm_head.weight"]
        return F.linear(h, head), present


def causal(T, Tk=None):
    Tk = Tk or T
    m = torch.full((T, Tk), -1e9)
    return torch.triu(m, diagonal=Tk - T + 1)


def decode_bench(model, batch, prompt, new_tokens, vocab):
    gen = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        ids = torch.randint(0, vocab, (batch, prompt), generator=gen)
        pos = torch.arange(prompt).expand(batch, prompt)
        t0 = time.perf_counter()
        logits, past = model.forward(ids, pos, causal(prompt))
        for step in range(new_tokens):
            lp = torch.log_softmax(logits[:, -1].double(), dim=-1)
            _ent = -(lp.exp() * lp).sum(-1)
            tok = torch.multinomial(lp.exp(), 1, generator=gen)
            _lp = lp.gather(-1, tok)
            if step == new_tokens - 1:
                break
            p = torch.full((batch, 1), prompt + step)
            logits, past = model.forward(tok, p, torch.zeros(1), past)
        dt = time.perf_counter() - t0
    return batch * new_tokens / dt


def train_bench(model, rows, T, steps, vocab):
    gen = torch.Generator().manual_seed(1)
    params = model.params()
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=1e-6, weight_decay=0.01)
    ids = torch.randint(0, vocab, (rows, T), generator=gen)
    tgt = torch.roll(ids, -1, dims=1)
    pos = torch.arange(T).expand(rows, T)
    mask = causal(T)
    adv = torch.randn(rows, T, generator=gen)
    old = torch.full((rows, T), -6.0)
    wts = torch.full((rows, T), 1.0 / (rows * T))
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits, _ = model.forward(ids, pos, mask)
        lp = torch.log_softmax(logits, dim=-1)
        tl = lp.gather(-1, tgt[..., None])[..., 0]
        ent = -(lp.exp() * lp).sum(-1)
        r = torch.exp(tl - old)
        pg = -torch.minimum(r * adv, torch.clamp(r, 0.8, 1.28) * adv)
        loss = ((pg - 0.0 * ent) * wts).sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    for p in params:
        p.requires_grad_(False)
    # Best of the steps after the first (the machine may be shared; both sides report their best).
    return rows * T / min(times[1:] or times)


def blas_in_use():
    """The BLAS library actually mapped into this process (Debian picks it by alternatives)."""
    torch.matmul(torch.ones(64, 64), torch.ones(64, 64))
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line.lower()}
        return ",".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def main():
    d = sys.argv[1]
    cfg = json.load(open(os.path.join(d, "config.json")))
    torch.set_num_threads(cfg["threads"])
    m = cfg["model"]
    model = Model(m, read_safetensors(os.path.join(d, "weights.safetensors")))
    pb, pt = cfg["parityShape"]
    ids = torch.from_numpy(np.fromfile(os.path.join(d, "parity_ids.bin"), dtype=np.int32).astype(np.int64)).reshape(pb, pt)
    with torch.inference_mode():
        logits, _ = model.forward(ids, torch.arange(pt).expand(pb, pt), causal(pt))
    logits.numpy().astype(np.float32).tofile(os.path.join(d, "parity_logits.bin"))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_in_use(), "decode": {}}
    for b in cfg["decodeBatches"]:
        reps = 5 if b == 1 else 1 if b >= 64 else 2
        out["decode"][str(b)] = max(decode_bench(model, b, cfg["prompt"], cfg["newTokens"], m["vocabSize"]) for _ in range(reps))
    out["train"] = train_bench(model, cfg["trainRows"], cfg["trainLen"], cfg["trainSteps"] + 1, m["vocabSize"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
