"""Independent PyTorch forward of a Hugging Face Llama / Qwen2 / Qwen3 model directory, for parity.

Usage: python3 hf_logits.py <model_dir> <ids.bin> <B> <T> <out.bin>
Reads config.json and the safetensors shards itself (index or single file; F32/F16/BF16), runs the
architecture as the Hugging Face implementations define it from config.json alone (RMSNorm,
rotary with the float32 inverse frequencies and Llama 3 scaling, grouped-query attention, q/k/v
biases, Qwen3 q_norm/k_norm, SwiGLU, tied head) in float32, and writes logits float32 [B, T, V].
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def read_shard(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            f.seek(base + a)
            raw = f.read(b - a)
            if info["dtype"] == "F32":
                arr = np.frombuffer(raw, dtype="<f4").copy()
            elif info["dtype"] == "F16":
                arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
            elif info["dtype"] == "BF16":
                arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                raise SystemExit(f"unsupported dtype {info['dtype']}")
            out[name] = torch.from_numpy(arr).reshape(info["shape"])
        return out


def read_weights(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for f in files:
        w.update(read_shard(os.path.join(d, f)))
    return w


def inv_freq(cfg, hd):
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        assert kind == "llama3", kind
        factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        lo_wl, hi_wl = old / lo, old / hi
        wl = 2 * math.pi / inv
        scaled = torch.where(wl > lo_wl, inv / factor, inv)
        smooth = (old / wl - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wl < hi_wl) * ~(wl > lo_wl)
        inv = torch.where(medium, smoothed, scaled)
    return inv


def rms(x, w, eps):
    v = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(v + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, w, ids):
    arch = cfg["architectures"][0]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    D = cfg["hidden_size"]
    hd = cfg.get("head_dim") or D // H
    eps = cfg["rms_norm_eps"]
    B, T = ids.shape
    pos = torch.arange(T)[None, :].expand(B, T)
    freqs = (inv_freq(cfg, hd)[None, :, None] @ pos[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    mask = torch.full((T, T), float("-inf")).triu(1)
    h = F.embedding(ids, w["model.embed_tokens.weight"])
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms(h, w[p + "input_layernorm.weight"], eps)
        bias = lambda n: w.get(p + f"self_attn.{n}.bias")
        q = F.linear(x, w[p + "self_attn.q_proj.weight"], bias("q_proj")).view(B, T, H, hd)
        k = F.linear(x, w[p + "self_attn.k_proj.weight"], bias("k_proj")).view(B, T, KV, hd)
        v = F.linear(x, w[p + "self_attn.v_proj.weight"], bias("v_proj")).view(B, T, KV, hd)
        if arch == "Qwen3ForCausalLM":
            q = rms(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        scores = q @ k.transpose(2, 3) / math.sqrt(hd) + mask
        a = torch.softmax(scores.float(), dim=-1) @ v
        a = a.transpose(1, 2).reshape(B, T, H * hd)
        h = h + F.linear(a, w[p + "self_attn.o_proj.weight"])
        y = rms(h, w[p + "post_attention_layernorm.weight"], eps)
        g = F.linear(y, w[p + "mlp.gate_proj.weight"])
        u = F.linear(y, w[p + "mlp.up_proj.weight"])
        h = h + F.linear(F.silu(g) * u, w[p + "mlp.down_proj.weight"])
    h = rms(h, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return F.linear(h, head)


def main():
    d, ids_path, B, T, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    torch.set_num_threads(1)
    cfg = json.load(open(os.path.join(d, "config.json")))
    ids = torch.from_numpy(np.fromfile(ids_path, dtype="<i4").astype(np.int64)).reshape(B, T)
    with torch.no_grad():
        logits = forward(cfg, read_weights(d), ids)
    logits.float().numpy().astype("<f4").tofile(out)


if __name__ == "__main__":
    main()
