"""Loads a Kindling-written CNN (tests' CnnTrainingParityTests model) into the equivalent torch.nn.Sequential with
load_state_dict(strict=True), BatchNorm2d's running_mean, running_var and num_batches_tracked included, and prints the
classes it predicts in evaluation mode for the first 16 images of gen_cnn_training.py's data, space-separated.

Usage: PYENV_VERSION=system python3 tools/parity/check_cnn_safetensors.py MODEL.safetensors
Exit codes: 0 loaded and predicted, 1 the file does not load strictly, 3 torch is not installed.
"""
import os
import sys

try:
    import torch
except ImportError:
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_cnn_training import data, model  # noqa: E402
from safetensors_io import load_file  # noqa: E402

tensors = load_file(sys.argv[1])
tensors = tensors[0] if isinstance(tensors, tuple) else tensors
m = model()
try:
    m.load_state_dict(tensors, strict=True)
except RuntimeError as e:
    print(e, file=sys.stderr)
    sys.exit(1)
assert m[1].num_batches_tracked.dtype == torch.int64
m.eval()
x, _ = data()
with torch.no_grad():
    print(" ".join(str(int(c)) for c in m(x[:16]).argmax(1)))
