"""Writes the torch.save fixtures that tests/Kindling.Tests/TorchSaveTests.cs reads (PyTorch 1.13, Debian's python3-torch).

    PYENV_VERSION=system python3 tools/parity/gen_torch_save.py

Each NAME.pt comes with NAME.json: every tensor's dtype, shape and values as PyTorch sees them after torch.load, so
the test compares Kindling's reading with PyTorch's without Python. mlp.json also holds a fixed input and the model's
output on it in evaluation mode. The hostile files are real torch.save archives whose pickles ask for code to run.
"""
import json
import os
import pathlib

import torch
import torch.nn as nn

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "Kindling.Tests" / "Fixtures" / "torch_save"


def describe(state):
    out = {}
    for k, v in state.items():
        if isinstance(v, torch.Tensor):
            flat = v.detach().reshape(-1)
            if v.dtype in (torch.float16, torch.bfloat16):
                flat = flat.float()
            out[k] = {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "values": flat.tolist()}
    return out


def save(name, obj, expected=None, **kw):
    torch.save(obj, OUT / f"{name}.pt", **kw)
    if expected is not None:
        # What PyTorch itself reads back (views and all).
        back = torch.load(OUT / f"{name}.pt")
        (OUT / f"{name}.json").write_text(json.dumps({**describe(expected(back)), **({} if name != "mlp" else MLP_EXTRA)}, indent=0) + "\n")


def main():
    global MLP_EXTRA
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    # An MLP with trained BatchNorm statistics, as the README's models are built (nn.Sequential names).
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    for _ in range(3):
        model(torch.randn(16, 4) * 2 + 1)
    model.eval()
    x = torch.randn(5, 4)
    with torch.no_grad():
        y = model(x)
    MLP_EXTRA = {"__input__": {"dtype": "float32", "shape": list(x.shape), "values": x.reshape(-1).tolist()},
                 "__output__": {"dtype": "float32", "shape": list(y.shape), "values": y.reshape(-1).tolist()}}
    save("mlp", model.state_dict(), lambda b: b)
    # The same state dict with pickle protocol 4 (SHORT_BINUNICODE, MEMOIZE, FRAME opcodes).
    save("mlp_protocol4", model.state_dict(), lambda b: b, pickle_protocol=4)

    # Every dtype torch.save writes that Kindling reads or converts.
    g = torch.Generator().manual_seed(1)
    base = torch.randn(6, generator=g)
    dtypes = {
        "f32": base.clone(),
        "f64": base.double() * 1e10,
        "f16": base.half(),
        "bf16": base.bfloat16(),
        "i64": torch.tensor([-(2 ** 62), -1, 0, 1, 2 ** 62], dtype=torch.int64),
        "i32": torch.tensor([-(2 ** 31), -1, 0, 2 ** 31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 7, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, -1, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
    }
    save("dtypes", dtypes, lambda b: b)

    # Views: tensors sharing one storage with offsets and strides, saved as views (torch.save keeps the storage).
    m = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    views = {
        "full": m,
        "row2": m[2],
        "col3": m[:, 3],
        "transposed": m.t(),
        "block": m[1:3, 2:5],
        "every_other": m[:, ::2],
        "expanded": torch.tensor([1.0, 2.0, 3.0]).expand(2, 3),
        "long_view": torch.arange(10)[3:8],
    }
    save("views", views, lambda b: b)

    # A training checkpoint: nested dicts with non-tensor values, and a Parameter (torch._utils._rebuild_parameter).
    ckpt = {"model": model.state_dict(), "epoch": 3, "lr": 0.1, "note": "best", "extra": {"w": nn.Parameter(torch.ones(2, 2))}}
    save("checkpoint", ckpt, lambda b: {**{"model." + k: v for k, v in b["model"].items()}, "extra.w": b["extra"]["w"]})

    # Formats Kindling refuses with a clear message.
    torch.save(model.state_dict(), OUT / "legacy.pt", _use_new_zipfile_serialization=False)
    torch.save(model, OUT / "whole_model.pt")
    torch.jit.save(torch.jit.script(model), OUT / "torchscript.pt")

    # A hostile file: unpickling it with torch.load(weights_only=False) would run a shell command.
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > /tmp/kindling-pwned",))

    torch.save({"weight": torch.ones(2), "payload": Evil()}, OUT / "hostile_system.pt")
    print("wrote", sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
