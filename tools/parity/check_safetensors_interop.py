"""Safetensors interop between PyTorch and Kindling.

  python3 check_safetensors_interop.py write [OUT_DIR]   # (a) torch-written fixture + JSON of expected values
  python3 check_safetensors_interop.py read FILE         # (b) load a Kindling-written file into torch, strict

(a) writes OUT_DIR/torch_written.safetensors (default: tests/Kindling.Tests/Fixtures) holding the state_dict of
nn.Sequential(Linear(3,4), ReLU(), Linear(4,2)) seeded with 0, plus F16/BF16/I32/U8 tensors, and
torch_written.json with every tensor's dtype, shape and values as Python floats (the values torch sees
after widening to float64), which the C# tests compare against.
(b) loads FILE with a pure-Python reader into the same Sequential with load_state_dict(strict=True),
checks dtypes, and prints OK plus a forward pass so the values can be compared by eye.
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import load_file, save_file  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def model():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def write(out_dir):
    torch.manual_seed(0)
    m = model()
    tensors = {k: v.detach().clone() for k, v in m.state_dict().items()}
    # Values chosen to hit exact and rounded cases in each narrow type.
    tensors["extra.f16"] = torch.tensor([[1.0, -2.5, 0.1], [65504.0, 6.1e-5, -0.0]], dtype=torch.float16)
    tensors["extra.bf16"] = torch.tensor([3.140625, -1e30, 1e-30, 0.1], dtype=torch.bfloat16)
    tensors["extra.i32"] = torch.tensor([[-2147483648, 0], [7, 2147483647]], dtype=torch.int32)
    tensors["extra.u8"] = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    meta = {"format": "pt", "writer": "tools/parity/check_safetensors_interop.py"}
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "torch_written.safetensors")
    save_file(tensors, path, meta)
    expected = {
        "metadata": meta,
        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                        "values": [float(x) for x in v.double().flatten().tolist()]}
                    for k, v in tensors.items()},
        "forward": {"input": [[0.5, -1.0, 2.0]],
                    "output": m(torch.tensor([[0.5, -1.0, 2.0]])).detach().double().flatten().tolist()},
    }
    with open(os.path.join(out_dir, "torch_written.json"), "w") as f:
        json.dump(expected, f, indent=1)
    # Round-trip through our own reader so a broken writer is caught here, not in C#.
    back, back_meta = load_file(path)
    assert back_meta == meta
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v), k
    print(f"wrote {path} ({os.path.getsize(path)} bytes) and torch_written.json")


def read(path):
    tensors, meta = load_file(path)
    m = model()
    m.load_state_dict(tensors, strict=True)
    for k, v in tensors.items():
        assert v.dtype == torch.float32, f"{k}: expected float32, got {v.dtype}"
    x = torch.tensor([[0.5, -1.0, 2.0]])
    print("metadata:", meta)
    print("forward([[0.5, -1, 2]]):", m(x).detach().flatten().tolist())
    print("OK")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "write":
        write(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "tests", "Kindling.Tests", "Fixtures"))
    elif len(sys.argv) == 3 and sys.argv[1] == "read":
        read(sys.argv[2])
    else:
        sys.exit(__doc__)
