"""The PyTorch side of `acereason bench optimizer`: one optimizer step (global gradient norm, clipping,
AdamW) over the given parameter sizes, as a user would write it: torch.nn.utils.clip_grad_norm_ and
torch.optim.AdamW with a decay and a no-decay parameter group. The steps alternate between
foreach=True and foreach=False on the same optimizer (the flag is read per step), so both are
measured on the same state. Prints one JSON line.

argv[1]: JSON {"params": [[numel, decay], ...], "threads": N, "steps": K, "lr", "weight_decay",
"betas": [b1, b2], "eps", "max_grad_norm", "seed"}
"""
import json
import resource
import sys
import time

import torch


def main() -> None:
    a = json.loads(sys.argv[1])
    torch.set_num_threads(a["threads"])
    torch.manual_seed(a["seed"])
    params = []
    for n, _ in a["params"]:
        p = torch.randn(n) * 0.02
        p.grad = torch.randn(n) * 1e-3
        params.append(p)
    groups = [
        {"params": [p for p, (_, d) in zip(params, a["params"]) if d], "weight_decay": a["weight_decay"]},
        {"params": [p for p, (_, d) in zip(params, a["params"]) if not d], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=a["lr"], betas=tuple(a["betas"]), eps=a["eps"])

    def step(foreach: bool) -> dict:
        for g in opt.param_groups:
            g["foreach"] = foreach
        t0 = time.perf_counter()
        norm = torch.nn.utils.clip_grad_norm_(params, a["max_grad_norm"])
        t1 = time.perf_counter()
        opt.step()
        t2 = time.perf_counter()
        # The next step's gradients: clipping scaled these in place (a real step gets fresh ones).
        for p in params:
            p.grad.mul_(1.0 / a["max_grad_norm"] * 4.0)
        t3 = time.perf_counter()
        return {"norm_clip_s": t1 - t0, "adamw_s": t2 - t1, "step_s": t2 - t0, "grad_norm": float(norm), "refresh_s": t3 - t2}

    step(False)  # allocates the state (exp_avg, exp_avg_sq): not a steady-state step
    out = {"foreach": [], "for_loop": []}
    for _ in range(a["steps"]):
        out["foreach"].append(step(True))
        out["for_loop"].append(step(False))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["torch"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
