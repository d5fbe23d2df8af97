"""PyTorch twin of `Kindling.Bench ddp`: DistributedDataParallel with the gloo backend, started with
torch.multiprocessing.spawn, training the Fashion-MNIST MLP (784-256-128-10, Adam 1e-3) at a global batch of 128
split over the ranks. Same protocol as the C# side: 100 warm-up steps, then REPS samples of 200 steps between
barriers, each sample the slowest rank's time; samples/s counts global samples. Also a bare all_reduce of the
model's 235,146 gradient floats (the communication alone).

Run: PYENV_VERSION=system python3 bench/torch_ddp.py --np N --threads T [--reps R] [--json]
"""
import argparse, json, os, socket, time
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

GLOBAL, NB, STEPS, WARMUP = 128, 16, 200, 100


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def worker(rank, world, threads, reps, port, out):
    torch.set_num_threads(threads)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    q, rem = divmod(GLOBAL, world)
    start, length = rank * q + min(rank, rem), q + (1 if rank < rem else 0)
    xs, ys = [], []
    for _ in range(NB):
        x, y = torch.randn(GLOBAL, 784), torch.randint(0, 10, (GLOBAL,))
        xs.append(x[start:start + length].contiguous()); ys.append(y[start:start + length].contiguous())
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    k = 0

    def step():
        nonlocal k
        x, y = xs[k % NB], ys[k % NB]; k += 1
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    for _ in range(WARMUP):
        step()
    times, bare = [], []
    for _ in range(reps):
        if world > 1: dist.barrier()
        t0 = time.perf_counter()
        for _ in range(STEPS):
            step()
        t = torch.tensor([time.perf_counter() - t0], dtype=torch.float64)
        if world > 1: dist.all_reduce(t, op=dist.ReduceOp.MAX)
        times.append(t.item())
    if world > 1:
        flat = torch.zeros(sum(p.numel() for p in model.parameters()))
        for _ in range(reps):
            dist.barrier()
            t0 = time.perf_counter()
            for _ in range(50):
                dist.all_reduce(flat)
            t = torch.tensor([(time.perf_counter() - t0) / 50 * 1000], dtype=torch.float64)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            bare.append(t.item())
    if rank == 0:
        med = sorted(times)[len(times) // 2]
        label = f"ddp 784-256-128-10 adam b128 {world}x{threads}"
        res = {label: GLOBAL * STEPS / med, label + " step ms": med / STEPS * 1000,
               label + " bare allreduce ms": sorted(bare)[len(bare) // 2] if bare else 0}
        with open(out, "w") as f:
            json.dump(res, f)
    if world > 1:
        # PyTorch 1.13's gloo teardown sometimes spins forever in the rank that leaves last (seen twice here):
        # meet at a barrier, then leave without destroy_process_group.
        dist.barrier()
        os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = f"/tmp/torch_ddp_{os.getpid()}.json"
    port = free_port()
    if a.np == 1:
        worker(0, 1, a.threads, a.reps, port, out)
    else:
        mp.spawn(worker, args=(a.np, a.threads, a.reps, port, out), nprocs=a.np, join=True)
    res = json.load(open(out)); os.remove(out)
    if a.json:
        print(json.dumps({"impl": "pytorch", "mode": "ddp", "results": res}))
    else:
        for k, v in res.items():
            print(f"{k:<52} {v:12.3f}")


if __name__ == "__main__":
    main()
