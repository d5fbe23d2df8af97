"""PyTorch 1.13 numbers for Kindling's recurrent layers, cells, packing utilities and embeddings.

Usage: PYENV_VERSION=system python3 tools/parity/gen_rnn_cases.py [OUT_DIR]   (default tools/parity/rnn)

Writes
- rnn_cases.json: RNN/LSTM/GRU layers and cells. Each case has the module's options, its state dict (written by
  PyTorch, so the names are PyTorch's), the input, optional initial states, optional lengths (then the input is packed
  with pack_padded_sequence(enforce_sorted=...) and the output unpacked with pad_packed_sequence), the outputs and the
  gradient of L = Σ out·r_out + Σ h_n·r_h + Σ c_n·r_c (random weights r, stored) with respect to the input, the initial
  states and every parameter. Float64 cases are compared to 1e-10, float32 ones to float32 tolerance.
- packing.json: pack_padded_sequence / pad_packed_sequence / pack_sequence results (data, batch_sizes, indices).
- embedding_cases.json: Embedding (padding_idx, max_norm with norm_type 1, 2 and 3, scale_grad_by_freq,
  from_pretrained) and EmbeddingBag (sum/mean/max, offsets, include_last_offset, per_sample_weights, padding_idx, 2-D
  input) forward results and gradients; for max_norm also the weight after the in-place renormalisation.
- lstm_trajectory.json: a character LSTM (Embedding 12→8, LSTM 8→16, Linear 16→12) trained 200 steps with Adam on
  fixed batches, from these initial weights, in float64 and float32 (per-step losses, final weights).
"""
import json, os, sys
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pack_sequence

torch.set_num_threads(1)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "rnn")
os.makedirs(OUT, exist_ok=True)
DT = {"float64": torch.float64, "float32": torch.float32}


def flat(t):
    return t.detach().double().reshape(-1).tolist()


def tens(t):
    return {"shape": list(t.shape), "data": flat(t)}


def layer_case(name, kind, dtype, I=3, H=4, T=5, B=3, layers=1, bidir=False, bias=True, batch_first=False, proj=0,
               nonlinearity="tanh", states=True, lengths=None, enforce_sorted=True, unbatched=False, seed=0):
    torch.manual_seed(seed)
    dt = DT[dtype]
    kw = dict(num_layers=layers, bias=bias, batch_first=batch_first, bidirectional=bidir)
    if kind == "lstm":
        m = nn.LSTM(I, H, proj_size=proj, **kw)
    elif kind == "gru":
        m = nn.GRU(I, H, **kw)
    else:
        m = nn.RNN(I, H, nonlinearity=nonlinearity, **kw)
    m = m.to(dt)
    D = 2 if bidir else 1
    P = proj if proj else H
    shape = (T, I) if unbatched else ((B, T, I) if batch_first else (T, B, I))
    x = torch.randn(shape, dtype=dt, requires_grad=True)
    sshape = (layers * D, P) if unbatched else (layers * D, B, P)
    cshape = (layers * D, H) if unbatched else (layers * D, B, H)
    h0 = torch.randn(sshape, dtype=dt, requires_grad=True) if states else None
    c0 = torch.randn(cshape, dtype=dt, requires_grad=True) if states and kind == "lstm" else None
    hx = (h0, c0) if kind == "lstm" and states else h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce_sorted)
        out, st = m(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    else:
        out, st = m(x, hx)
    hn, cn = st if kind == "lstm" else (st, None)
    r_out, r_h = torch.randn_like(out), torch.randn_like(hn)
    loss = (out * r_out).sum() + (hn * r_h).sum()
    r_c = None
    if cn is not None:
        r_c = torch.randn_like(cn)
        loss = loss + (cn * r_c).sum()
    loss.backward()
    case = {"name": name, "kind": kind, "dtype": dtype, "input_size": I, "hidden_size": H, "num_layers": layers,
            "bidirectional": bidir, "bias": bias, "batch_first": batch_first, "proj_size": proj,
            "nonlinearity": nonlinearity, "lengths": lengths, "enforce_sorted": enforce_sorted,
            "state": {k: tens(v) for k, v in m.state_dict().items()}, "x": tens(x),
            "out": tens(out), "h_n": tens(hn), "r_out": tens(r_out), "r_h": tens(r_h),
            "grad_x": tens(x.grad), "grads": {k: tens(p.grad) for k, p in m.named_parameters()}}
    if h0 is not None:
        case["h0"] = tens(h0)
        case["grad_h0"] = tens(h0.grad)
    if c0 is not None:
        case["c0"] = tens(c0)
        case["grad_c0"] = tens(c0.grad)
    if cn is not None:
        case["c_n"] = tens(cn)
        case["r_c"] = tens(r_c)
    return case


def cell_case(name, kind, dtype, I=3, H=4, B=3, bias=True, nonlinearity="tanh", states=True, unbatched=False, seed=0):
    torch.manual_seed(seed)
    dt = DT[dtype]
    m = {"lstm": lambda: nn.LSTMCell(I, H, bias=bias), "gru": lambda: nn.GRUCell(I, H, bias=bias),
         "rnn": lambda: nn.RNNCell(I, H, bias=bias, nonlinearity=nonlinearity)}[kind]().to(dt)
    x = torch.randn((I,) if unbatched else (B, I), dtype=dt, requires_grad=True)
    sshape = (H,) if unbatched else (B, H)
    h0 = torch.randn(sshape, dtype=dt, requires_grad=True) if states else None
    c0 = torch.randn(sshape, dtype=dt, requires_grad=True) if states and kind == "lstm" else None
    if kind == "lstm":
        h, c = m(x, (h0, c0) if states else None)
    else:
        h, c = m(x, h0), None
    r_h = torch.randn_like(h)
    loss = (h * r_h).sum()
    case = {"name": name, "kind": kind + "_cell", "dtype": dtype, "input_size": I, "hidden_size": H, "bias": bias,
            "nonlinearity": nonlinearity, "state": {k: tens(v) for k, v in m.state_dict().items()}, "x": tens(x),
            "h_n": tens(h), "r_h": tens(r_h)}
    if c is not None:
        r_c = torch.randn_like(c)
        loss = loss + (c * r_c).sum()
        case["c_n"] = tens(c)
        case["r_c"] = tens(r_c)
    loss.backward()
    case["grad_x"] = tens(x.grad)
    case["grads"] = {k: tens(p.grad) for k, p in m.named_parameters()}
    if h0 is not None:
        case["h0"] = tens(h0)
        case["grad_h0"] = tens(h0.grad)
    if c0 is not None:
        case["c0"] = tens(c0)
        case["grad_c0"] = tens(c0.grad)
    return case


def rnn_cases():
    c = []
    for dtype in ["float64", "float32"]:
        c.append(layer_case(f"lstm_basic_{dtype}", "lstm", dtype))
        c.append(layer_case(f"lstm_2layer_bidir_{dtype}", "lstm", dtype, layers=2, bidir=True, seed=1))
        c.append(layer_case(f"gru_2layer_bidir_{dtype}", "gru", dtype, layers=2, bidir=True, seed=2))
        c.append(layer_case(f"rnn_tanh_2layer_bidir_{dtype}", "rnn", dtype, layers=2, bidir=True, seed=3))
        c.append(layer_case(f"lstm_packed_unsorted_bidir_{dtype}", "lstm", dtype, layers=2, bidir=True, B=4,
                            lengths=[3, 5, 1, 4], enforce_sorted=False, seed=4))
    c.append(layer_case("lstm_proj_2layer_bidir_float64", "lstm", "float64", layers=2, bidir=True, proj=2, seed=5))
    c.append(layer_case("lstm_proj_packed_float64", "lstm", "float64", proj=3, lengths=[5, 4, 2], seed=6))
    c.append(layer_case("lstm_batch_first_float32", "lstm", "float32", batch_first=True, seed=7))
    c.append(layer_case("lstm_batch_first_packed_float64", "lstm", "float64", batch_first=True, lengths=[2, 5, 3],
                        enforce_sorted=False, seed=8))
    c.append(layer_case("lstm_nobias_nostates_float64", "lstm", "float64", bias=False, states=False, seed=9))
    c.append(layer_case("lstm_unbatched_float64", "lstm", "float64", unbatched=True, layers=2, seed=10))
    c.append(layer_case("gru_packed_sorted_bidir_float64", "gru", "float64", bidir=True, lengths=[5, 3, 3], seed=11))
    c.append(layer_case("gru_batch_first_nobias_float32", "gru", "float32", batch_first=True, bias=False, seed=12))
    c.append(layer_case("rnn_relu_packed_float64", "rnn", "float64", nonlinearity="relu", lengths=[4, 4, 2], seed=13))
    c.append(layer_case("rnn_relu_3layer_float64", "rnn", "float64", nonlinearity="relu", layers=3, seed=14))
    c.append(layer_case("gru_3layer_wide_float64", "gru", "float64", I=7, H=9, T=6, B=2, layers=3, seed=15))
    for dtype in ["float64", "float32"]:
        c.append(cell_case(f"lstm_cell_{dtype}", "lstm", dtype, seed=20))
        c.append(cell_case(f"gru_cell_{dtype}", "gru", dtype, seed=21))
        c.append(cell_case(f"rnn_cell_tanh_{dtype}", "rnn", dtype, seed=22))
    c.append(cell_case("rnn_cell_relu_float64", "rnn", "float64", nonlinearity="relu", seed=23))
    c.append(cell_case("lstm_cell_nostate_nobias_float64", "lstm", "float64", bias=False, states=False, seed=24))
    c.append(cell_case("gru_cell_unbatched_float64", "gru", "float64", unbatched=True, seed=25))
    return c


def packing():
    torch.manual_seed(30)
    res = []
    for bf in [False, True]:
        for es, lengths in [(True, [5, 3, 3, 1]), (False, [2, 5, 1, 4])]:
            T, B = 5, 4
            x = torch.randn((B, T, 2) if bf else (T, B, 2), dtype=torch.float64)
            p = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf, enforce_sorted=es)
            pad, lens = pad_packed_sequence(p, batch_first=bf, padding_value=-1.5, total_length=6)
            res.append({"batch_first": bf, "enforce_sorted": es, "lengths": lengths, "x": tens(x), "data": tens(p.data),
                        "batch_sizes": p.batch_sizes.tolist(),
                        "sorted_indices": None if p.sorted_indices is None else p.sorted_indices.tolist(),
                        "unsorted_indices": None if p.unsorted_indices is None else p.unsorted_indices.tolist(),
                        "padded": tens(pad), "pad_lengths": lens.tolist()})
    seqs = [torch.randn(n, 3, dtype=torch.float64) for n in [4, 2, 3]]
    p = pack_sequence(seqs, enforce_sorted=False)
    seq = {"seqs": [tens(s) for s in seqs], "data": tens(p.data), "batch_sizes": p.batch_sizes.tolist(),
           "sorted_indices": p.sorted_indices.tolist()}
    return {"padded": res, "pack_sequence": seq}


def embedding_cases():
    torch.manual_seed(40)
    out = {"embedding": [], "bag": []}
    V, Dm = 7, 4
    idx = torch.tensor([[1, 3, 0, 3], [6, 2, 1, 1]])
    for name, kw in [("plain", {}), ("padding_idx", {"padding_idx": 1}), ("padding_idx_neg", {"padding_idx": -1}),
                     ("scale_grad_by_freq", {"scale_grad_by_freq": True}),
                     ("scale_freq_padding", {"scale_grad_by_freq": True, "padding_idx": 3}),
                     ("max_norm_2", {"max_norm": 1.0}), ("max_norm_1", {"max_norm": 1.5, "norm_type": 1.0}),
                     ("max_norm_3", {"max_norm": 0.8, "norm_type": 3.0})]:
        e = nn.Embedding(V, Dm, **kw).double()
        w0 = e.weight.detach().clone()
        y = e(idx)
        r = torch.randn_like(y)
        (y * r).sum().backward()
        out["embedding"].append({"name": name, "options": kw, "weight": tens(w0), "indices": idx.tolist(),
                                 "out": tens(y), "r": tens(r), "grad": tens(e.weight.grad),
                                 "weight_after": tens(e.weight)})
    w = torch.randn(V, Dm, dtype=torch.float64)
    e = nn.Embedding.from_pretrained(w, freeze=True, padding_idx=2)
    out["pretrained"] = {"weight": tens(w), "indices": [2, 5, 0], "out": tens(e(torch.tensor([2, 5, 0]))),
                         "requires_grad": e.weight.requires_grad}
    inp = torch.tensor([1, 2, 4, 5, 4, 3, 2, 0, 6, 1])
    offs = torch.tensor([0, 2, 2, 5])  # bag 1 is empty
    psw = torch.rand(10, dtype=torch.float64)
    for name, mode, kw, use_psw, last in [("sum", "sum", {}, False, False), ("mean", "mean", {}, False, False),
                                          ("max", "max", {}, False, False), ("sum_psw", "sum", {}, True, False),
                                          ("mean_pad", "mean", {"padding_idx": 4}, False, False),
                                          ("sum_pad_psw", "sum", {"padding_idx": 2}, True, False),
                                          ("max_pad", "max", {"padding_idx": 1}, False, False),
                                          ("sum_last_offset", "sum", {"include_last_offset": True}, False, True),
                                          ("mean_last_offset", "mean", {"include_last_offset": True}, False, True)]:
        torch.manual_seed(41)
        b = nn.EmbeddingBag(V, Dm, mode=mode, **kw).double()
        w0 = b.weight.detach().clone()
        o = torch.tensor([0, 2, 2, 5, 10]) if last else offs
        p = psw.clone().requires_grad_(True) if use_psw else None
        y = b(inp, o, per_sample_weights=p)
        r = torch.randn_like(y)
        (y * r).sum().backward()
        case = {"name": name, "mode": mode, "options": kw, "weight": tens(w0), "input": inp.tolist(), "offsets": o.tolist(),
                "out": tens(y), "r": tens(r), "grad": tens(b.weight.grad)}
        if use_psw:
            case["per_sample_weights"] = flat(psw)
            case["grad_psw"] = flat(p.grad)
        out["bag"].append(case)
    for mode in ["sum", "mean", "max"]:
        torch.manual_seed(42)
        b = nn.EmbeddingBag(V, Dm, mode=mode, padding_idx=0).double()
        w0 = b.weight.detach().clone()
        x2 = torch.tensor([[1, 0, 3], [5, 5, 2]])
        y = b(x2)
        r = torch.randn_like(y)
        (y * r).sum().backward()
        out["bag"].append({"name": f"2d_{mode}_pad0", "mode": mode, "options": {"padding_idx": 0}, "weight": tens(w0),
                           "input2d": x2.tolist(), "out": tens(y), "r": tens(r), "grad": tens(b.weight.grad)})
    return out


class CharLSTM(nn.Module):
    def __init__(self, V=12, E=8, H=16):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, batch_first=True)
        self.head = nn.Linear(H, V)

    def forward(self, x):
        y, _ = self.lstm(self.emb(x))
        return self.head(y)


def trajectory():
    torch.manual_seed(50)
    text = "the quick brown fox jumps over the lazy dog and the cat sat on the mat while a bat flew by " * 4
    chars = sorted(set(text))[:12]
    ids = [chars.index(ch) if ch in chars else len(chars) - 1 for ch in text]
    V, T, B, STEPS = 12, 16, 4, 200
    g = torch.Generator().manual_seed(51)
    starts = torch.randint(0, len(ids) - T - 1, (STEPS, B), generator=g).tolist()
    init = CharLSTM(V)
    state0 = {k: v.detach().clone() for k, v in init.state_dict().items()}
    res = {"ids": ids, "T": T, "B": B, "V": V, "steps": STEPS, "starts": starts, "lr": 1e-2,
           "init": {k: tens(v) for k, v in state0.items()}}
    for dtype in ["float64", "float32"]:
        m = CharLSTM(V).to(DT[dtype])
        m.load_state_dict({k: v.to(DT[dtype]) for k, v in state0.items()})
        opt = torch.optim.Adam(m.parameters(), lr=1e-2)
        losses = []
        for s in range(STEPS):
            xb = torch.tensor([ids[a:a + T] for a in starts[s]])
            yb = torch.tensor([ids[a + 1:a + T + 1] for a in starts[s]])
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(xb).reshape(-1, V), yb.reshape(-1))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        res["losses_" + dtype] = losses
        res["final_" + dtype] = {k: tens(v) for k, v in m.state_dict().items()}
    return res


def dump(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))


dump("rnn_cases.json", rnn_cases())
dump("packing.json", packing())
dump("embedding_cases.json", embedding_cases())
dump("lstm_trajectory.json", trajectory())
print("wrote", OUT)
