"""PyTorch 1.13 numbers for attention: scaled dot-product attention, nn.MultiheadAttention, the transformer layers,
GELU and generate_square_subsequent_mask (values and every gradient, float64).

Usage: PYENV_VERSION=system python3 tools/parity/gen_attention_cases.py [OUT]
       (default tools/parity/attention/attention_cases.json)

Each case: a module (or function) with PyTorch-initialised weights perturbed so no bias is zero, inputs, masks, a fixed
random grad_output; it records the outputs and the gradients of every input and parameter after backward of
sum(output * grad_output) (plus sum(weights * grad_weights) when the attention weights are returned). NaN is written as
null, ±infinity as "inf"/"-inf" (a fully masked row gives NaN in PyTorch 1.13). Modules run in training mode with dropout 0, the path 1.13 takes
when gradients are recorded. PyTorch 1.13 has no public F.scaled_dot_product_attention: its cases use the formula
softmax(q/sqrt(E)·kᵀ + mask)·v written out, which is what 1.13's nn.MultiheadAttention computes.
"""
import json, math, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention", "attention_cases.json")
gen = torch.Generator().manual_seed(20)


def t(x):
    x = x.detach()
    if x.dtype == torch.bool:
        return {"shape": list(x.shape), "dtype": "bool", "data": [int(v) for v in x.reshape(-1).tolist()]}
    return {"shape": list(x.shape), "data": [num(v) for v in x.reshape(-1).tolist()]}


def num(v):
    """JSON has no NaN or infinity: NaN is null, ±infinity the strings "inf" and "-inf"."""
    return None if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else v


def rn(*shape):
    return torch.randn(shape, generator=gen)


def perturb(m):
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.1 * rn(*p.shape))


def sdpa_ref(q, k, v, mask, causal):
    E = q.shape[-1]
    s = (q / math.sqrt(E)) @ k.transpose(-2, -1)
    if mask is not None:
        s = s + (torch.zeros_like(mask, dtype=q.dtype).masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else mask)
    if causal:
        L, S = s.shape[-2], s.shape[-1]
        s = s + torch.triu(torch.full((L, S), float("-inf")), diagonal=1)
    return torch.softmax(s, -1) @ v


def sdpa_cases():
    cases = []
    for name, bq, L, S, E, Ev, mask_kind, causal in [
        ("plain", (2, 3), 5, 7, 4, 6, None, False),
        ("bool_mask", (2, 3), 5, 7, 4, 6, "bool", False),
        ("float_mask", (2,), 5, 7, 4, 3, "float", False),
        ("causal", (2, 2), 6, 6, 8, 8, None, True),
        ("causal_blocks", (1, 2), 150, 150, 8, 8, None, True),
        ("mask_blocks", (2,), 70, 130, 5, 4, "bool", False),
        ("rank2", (), 9, 11, 4, 5, "float", False),
    ]:
        q = rn(*bq, L, E).requires_grad_()
        k = rn(*bq, S, E).requires_grad_()
        v = rn(*bq, S, Ev).requires_grad_()
        mask = None
        if mask_kind == "bool":
            mask = torch.rand((L, S), generator=gen) > 0.3
            mask[:, 0] = True  # every row keeps a key
        elif mask_kind == "float":
            mask = rn(*bq[:1], 1, S) if bq else rn(L, S)
        y = sdpa_ref(q, k, v, mask, causal)
        gy = rn(*y.shape)
        (y * gy).sum().backward()
        c = {"kind": "sdpa", "name": name, "config": {"causal": causal},
             "inputs": {"query": t(q), "key": t(k), "value": t(v)}, "grad_output": t(gy),
             "outputs": {"output": t(y)}, "grads": {"query": t(q.grad), "key": t(k.grad), "value": t(v.grad)}}
        if mask is not None:
            c["inputs"]["attn_mask"] = t(mask)
        cases.append(c)
    return cases


def run_module(kind, name, m, config, inputs, call, weights_out=False):
    perturb(m)
    state = {k: t(v) for k, v in m.state_dict().items()}
    m.train()
    for p in m.parameters():
        p.grad = None
    res = call(m)
    y, w = (res if isinstance(res, tuple) else (res, None))
    gy = rn(*y.shape)
    loss = (torch.nan_to_num(y * gy, nan=0.0) if False else y * gy).sum()
    outs = {"output": t(y)}
    gw = None
    if w is not None:
        gw = rn(*w.shape)
        loss = loss + (w * gw).sum()
        outs["weights"] = t(w)
    loss.backward()
    grads = {k: t(v.grad) for k, v in inputs.items() if v.dtype != torch.bool and v.requires_grad and v.grad is not None}
    grads.update({"param:" + n: t(p.grad) for n, p in m.named_parameters() if p.grad is not None})
    c = {"kind": kind, "name": name, "config": config, "state": state,
         "inputs": {k: t(v) for k, v in inputs.items()}, "grad_output": t(gy), "outputs": outs, "grads": grads}
    if gw is not None:
        c["grad_weights"] = t(gw)
    return c


def mha_cases():
    cases = []
    N, L, S, E, H = 2, 4, 5, 8, 2

    def mk(**kw):
        cfg = dict(embed_dim=E, num_heads=H, bias=True, add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None, batch_first=False)
        cfg.update(kw)
        m = nn.MultiheadAttention(cfg["embed_dim"], cfg["num_heads"], dropout=0.0, bias=cfg["bias"], add_bias_kv=cfg["add_bias_kv"],
                                  add_zero_attn=cfg["add_zero_attn"], kdim=cfg["kdim"], vdim=cfg["vdim"], batch_first=cfg["batch_first"])
        return m, cfg

    def seq(n, l, e, bf):
        return rn(n, l, e).requires_grad_() if bf else rn(l, n, e).requires_grad_()

    specs = [
        # name, module options, self-attention?, call options, masks
        ("self_bf_fused", dict(batch_first=True), True, dict(need_weights=False), {}),
        ("self_seqfirst_weights", dict(), True, dict(need_weights=True), {}),
        ("self_weights_per_head", dict(batch_first=True), True, dict(need_weights=True, average_attn_weights=False), {}),
        ("cross_kdim_vdim", dict(kdim=5, vdim=7, batch_first=True), False, dict(need_weights=False), {}),
        ("cross_kdim_vdim_weights", dict(kdim=5, vdim=7), False, dict(need_weights=True), {}),
        ("cross_same_dim", dict(batch_first=True), False, dict(need_weights=False), {}),
        ("no_bias", dict(bias=False, batch_first=True), True, dict(need_weights=False), {}),
        ("bias_kv_zero_attn", dict(add_bias_kv=True, add_zero_attn=True, batch_first=True), False, dict(need_weights=False), {"kpm": "bool", "attn": "bool"}),
        ("bias_kv_weights", dict(add_bias_kv=True, batch_first=True), True, dict(need_weights=True), {"attn": "float"}),
        ("attn_bool_2d", dict(batch_first=True), True, dict(need_weights=False), {"attn": "bool"}),
        ("attn_float_2d", dict(batch_first=True), True, dict(need_weights=False), {"attn": "float"}),
        ("attn_bool_3d", dict(batch_first=True), True, dict(need_weights=False), {"attn": "bool3"}),
        ("attn_float_3d_weights", dict(), True, dict(need_weights=True), {"attn": "float3"}),
        ("kpm_bool", dict(batch_first=True), False, dict(need_weights=False), {"kpm": "bool"}),
        ("kpm_float", dict(batch_first=True), False, dict(need_weights=False), {"kpm": "float"}),
        ("kpm_bool_attn_bool", dict(), False, dict(need_weights=True), {"kpm": "bool", "attn": "bool"}),
        ("kpm_bool_attn_float", dict(batch_first=True), False, dict(need_weights=False), {"kpm": "bool", "attn": "float"}),
        ("fully_masked_row", dict(batch_first=True), False, dict(need_weights=False), {"kpm": "allrow"}),
        ("fully_masked_row_weights", dict(batch_first=True), True, dict(need_weights=True), {"attn": "allrow"}),
        ("unbatched", dict(), True, dict(need_weights=True), {"attn": "bool"}),
        ("causal_long", dict(embed_dim=8, num_heads=2, batch_first=True), True, dict(need_weights=False), {"attn": "causal"}),
    ]
    for name, opts, self_attn, call_opts, masks in specs:
        m, cfg = mk(**opts)
        e, bf = cfg["embed_dim"], cfg["batch_first"]
        l, s = (130, 130) if name == "causal_long" else (L, L if self_attn else S)
        unb = name == "unbatched"
        if unb:
            q = rn(l, e).requires_grad_()
        else:
            q = seq(N, l, e, bf)
        if self_attn:
            k = v = q
        else:
            k = seq(N, s, cfg["kdim"] or e, bf)
            v = seq(N, s, cfg["vdim"] or e, bf)
        inputs = {"query": q} if self_attn else {"query": q, "key": k, "value": v}
        kw = dict(call_opts)
        a = masks.get("attn")
        if a == "bool":
            am = torch.rand((l, s), generator=gen) > 0.6
            am[:, 0] = False
            kw["attn_mask"] = am
        elif a == "float":
            kw["attn_mask"] = rn(l, s)
        elif a == "bool3":
            am = torch.rand((N * cfg["num_heads"], l, s), generator=gen) > 0.6
            am[:, :, 1] = False
            kw["attn_mask"] = am
        elif a == "float3":
            kw["attn_mask"] = rn(N * cfg["num_heads"], l, s)
        elif a == "allrow":
            am = torch.zeros((l, s), dtype=torch.bool)
            am[1, :] = True
            kw["attn_mask"] = am
        elif a == "causal":
            kw["attn_mask"] = nn.Transformer.generate_square_subsequent_mask(l)
        kp = masks.get("kpm")
        if kp == "bool":
            pm = torch.rand((N, s), generator=gen) > 0.6
            pm[:, 0] = False
            kw["key_padding_mask"] = pm
        elif kp == "float":
            kw["key_padding_mask"] = rn(N, s)
        elif kp == "allrow":
            pm = torch.zeros((N, s), dtype=torch.bool)
            pm[0, :] = True
            kw["key_padding_mask"] = pm
        for mn in ("attn_mask", "key_padding_mask"):
            if mn in kw:
                inputs[mn] = kw[mn]
        cfg["self"] = self_attn
        cfg.update({k2: v2 for k2, v2 in call_opts.items()})
        c = run_module("mha", name, m, cfg, inputs, lambda mm: mm(q, k, v, **kw))
        cases.append(c)
    return cases


def layer_cases():
    cases = []
    N, L, S, E, H, FF = 2, 5, 4, 8, 2, 12
    for name, kind, opts, masks in [
        ("enc_post_relu", "encoder_layer", dict(norm_first=False, activation="relu", batch_first=False), {}),
        ("enc_pre_gelu_bf", "encoder_layer", dict(norm_first=True, activation="gelu", batch_first=True), {"src_mask": "causal", "src_kpm": "bool"}),
        ("enc_post_masks_eps", "encoder_layer", dict(norm_first=False, activation="relu", batch_first=True, layer_norm_eps=1e-3), {"src_mask": "bool", "src_kpm": "bool"}),
        ("dec_post_relu", "decoder_layer", dict(norm_first=False, activation="relu", batch_first=False), {"tgt_mask": "causal"}),
        ("dec_pre_gelu_bf", "decoder_layer", dict(norm_first=True, activation="gelu", batch_first=True), {"tgt_mask": "causal", "tgt_kpm": "bool", "mem_kpm": "bool", "memory_mask": "float"}),
        ("encoder_2_norm", "encoder", dict(norm_first=True, activation="relu", batch_first=True, num_layers=2, final_norm=True), {"src_mask": "causal"}),
        ("decoder_2", "decoder", dict(norm_first=False, activation="gelu", batch_first=False, num_layers=2, final_norm=False), {"tgt_mask": "causal"}),
        ("transformer", "transformer", dict(norm_first=False, activation="relu", batch_first=True, num_encoder_layers=2, num_decoder_layers=1), {"tgt_mask": "causal", "src_kpm": "bool"}),
        ("transformer_pre", "transformer", dict(norm_first=True, activation="gelu", batch_first=False, num_encoder_layers=1, num_decoder_layers=2), {"tgt_mask": "causal", "mem_kpm": "bool"}),
    ]:
        bf = opts["batch_first"]
        act = opts["activation"]
        eps = opts.get("layer_norm_eps", 1e-5)
        common = dict(dim_feedforward=FF, dropout=0.0, activation=act, layer_norm_eps=eps, batch_first=bf, norm_first=opts["norm_first"])
        if kind == "encoder_layer":
            m = nn.TransformerEncoderLayer(E, H, **common)
        elif kind == "decoder_layer":
            m = nn.TransformerDecoderLayer(E, H, **common)
        elif kind == "encoder":
            m = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, **common), opts["num_layers"], norm=nn.LayerNorm(E) if opts["final_norm"] else None, enable_nested_tensor=False)
        elif kind == "decoder":
            m = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, **common), opts["num_layers"], norm=nn.LayerNorm(E) if opts["final_norm"] else None)
        else:
            m = nn.Transformer(E, H, opts["num_encoder_layers"], opts["num_decoder_layers"], **common)
        src_len = L
        tgt_len = S if kind in ("transformer",) else L
        x = rn(N, src_len, E) if bf else rn(src_len, N, E)
        x.requires_grad_()
        mem = (rn(N, S + 2, E) if bf else rn(S + 2, N, E)).requires_grad_()
        tgt = (rn(N, tgt_len, E) if bf else rn(tgt_len, N, E)).requires_grad_()
        kw = {}
        def mask(kindm, l, s):
            if kindm == "causal":
                return nn.Transformer.generate_square_subsequent_mask(l)
            if kindm == "bool":
                mm = torch.rand((l, s), generator=gen) > 0.6
                mm[:, 0] = False
                return mm
            return rn(l, s)
        def kpm(n, s):
            pm = torch.rand((n, s), generator=gen) > 0.6
            pm[:, 0] = False
            return pm
        if kind in ("encoder_layer", "encoder"):
            if "src_mask" in masks: kw["src_mask" if kind == "encoder_layer" else "mask"] = mask(masks["src_mask"], src_len, src_len)
            if "src_kpm" in masks: kw["src_key_padding_mask"] = kpm(N, src_len)
            inputs = {"src": x}
            call = lambda mm: mm(x, **kw)
        elif kind in ("decoder_layer", "decoder"):
            if "tgt_mask" in masks: kw["tgt_mask"] = mask(masks["tgt_mask"], L, L)
            if "memory_mask" in masks: kw["memory_mask"] = mask(masks["memory_mask"], L, S + 2)
            if "tgt_kpm" in masks: kw["tgt_key_padding_mask"] = kpm(N, L)
            if "mem_kpm" in masks: kw["memory_key_padding_mask"] = kpm(N, S + 2)
            inputs = {"tgt": x, "memory": mem}
            call = lambda mm: mm(x, mem, **kw)
        else:
            if "tgt_mask" in masks: kw["tgt_mask"] = mask(masks["tgt_mask"], tgt_len, tgt_len)
            if "src_kpm" in masks: kw["src_key_padding_mask"] = kpm(N, src_len)
            if "mem_kpm" in masks: kw["memory_key_padding_mask"] = kpm(N, src_len)
            inputs = {"src": x, "tgt": tgt}
            call = lambda mm: mm(x, tgt, **kw)
        for k2, v2 in kw.items():
            inputs[k2] = v2
        cfg = dict(opts, d_model=E, nhead=H, dim_feedforward=FF, layer_norm_eps=eps)
        cases.append(run_module(kind, name, m, cfg, inputs, call))
    return cases


def gelu_cases():
    cases = []
    x = torch.cat([torch.linspace(-9, 9, 61), torch.tensor([0.0, 1e-8, -1e-8, 20.0, -20.0, 40.0, -40.0])]).requires_grad_()
    for approx in ("none", "tanh"):
        x.grad = None
        y = F.gelu(x, approximate=approx)
        gy = rn(*y.shape)
        (y * gy).sum().backward()
        cases.append({"kind": "gelu", "name": "gelu_" + approx, "config": {"approximate": approx}, "inputs": {"input": t(x)},
                      "grad_output": t(gy), "outputs": {"output": t(y)}, "grads": {"input": t(x.grad)}})
    m = nn.Transformer.generate_square_subsequent_mask(5)
    cases.append({"kind": "square_mask", "name": "square_subsequent_mask_5", "config": {"size": 5}, "inputs": {}, "outputs": {"output": t(m)}})
    return cases


cases = sdpa_cases() + mha_cases() + layer_cases() + gelu_cases()
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
print(f"{len(cases)} cases -> {OUT} ({os.path.getsize(OUT) // 1024} KiB)")
