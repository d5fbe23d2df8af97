"""PyTorch 1.13 reference for Kindling's GPT (src/Kindling/NN/Models/GPT.cs): a nanoGPT-shaped model (pre-LayerNorm
blocks, causal self-attention, MLP with exact GELU, tied output projection, biases on) with nanoGPT's parameter names,
in float64. Writes its weights, a batch of ids, the logits, the mean cross-entropy against the next ids and every
parameter's gradient to tools/parity/text/gpt_case.safetensors.

    PYENV_VERSION=system python3 tools/parity/gen_gpt_cases.py

The tied weight appears once, as transformer.wte.weight (PyTorch's state_dict would list it again as lm_head.weight).
"""
import math, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_file

torch.manual_seed(1234)
V, BLOCK, LAYERS, HEADS, C = 11, 16, 2, 2, 8

class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C); self.c_proj = nn.Linear(C, C)
    def forward(self, x):
        B, T, _ = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // HEADS)
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C); self.c_proj = nn.Linear(4 * C, C)
    def forward(self, x): return self.c_proj(F.gelu(self.c_fc(x)))

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C); self.attn = SelfAttention(); self.ln_2 = nn.LayerNorm(C); self.mlp = Mlp()
    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))

class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(V, C), wpe=nn.Embedding(BLOCK, C),
                                              h=nn.ModuleList([Block() for _ in range(LAYERS)]), ln_f=nn.LayerNorm(C)))
    def forward(self, idx):
        t = idx.shape[1]
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(t))
        for b in self.transformer.h: x = b(x)
        return F.linear(self.transformer.ln_f(x), self.transformer.wte.weight)

m = GPT().double()
with torch.no_grad():  # non-trivial LayerNorm affine parameters, so their gradients are checked too
    for n, p in m.named_parameters():
        if "ln_" in n: p.add_(0.1 * torch.randn_like(p))
ids = torch.randint(0, V, (3, 10))
target = torch.randint(0, V, (3, 10))
logits = m(ids)
loss = F.cross_entropy(logits.reshape(-1, V), target.reshape(-1))
loss.backward()
out = {"param." + n: p.detach() for n, p in m.named_parameters()}
out.update({"grad." + n: p.grad for n, p in m.named_parameters()})
out.update({"ids": ids, "target": target, "logits": logits.detach(), "loss": loss.detach().reshape(1)})
save_file(out, os.path.join(os.path.dirname(__file__), "text", "gpt_case.safetensors"),
          {"vocab": V, "block": BLOCK, "layers": LAYERS, "heads": HEADS, "width": C})
print("loss", loss.item())
