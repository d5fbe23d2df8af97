using System.Diagnostics;
using Kindling.Distributed;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Bench;

/// <summary>
/// Data-parallel training throughput: the Fashion-MNIST MLP (784→256→128→10, Adam 1e-3) at a global batch of 128,
/// each rank taking its shard of every global batch (DistributedSampler's split) and DistributedDataParallel summing
/// gradients by share. Run it under mpirun (<c>mpirun -np N … ddp --threads T</c>) or alone for one process.
/// Every rank runs the same fixed number of steps (a time-based warm-up would desynchronise the collectives); a sample
/// is the slowest rank's time for <c>steps</c> steps between barriers, and samples/s counts global samples. Also
/// reports the gradient allreduce time per step (rank 0, waiting included) and a bare allreduce of the same 235,146
/// floats between barriers (the communication cost alone). The twin is bench/torch_ddp.py; bench/distributed.sh runs both.
/// </summary>
public static class DdpBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        Distributed.Distributed.Init();
        int world = Distributed.Distributed.WorldSize, rank = Distributed.Distributed.Rank;
        const int global = 128, nb = 16, steps = 200, warmup = 100;
        var g = new Generator(1);
        var model = new Sequential(new Linear(784, 256, generator: g), new ReLU(), new Linear(256, 128, generator: g), new ReLU(), new Linear(128, 10, generator: g));
        var (start, len) = Kindling.Data.DistributedSampler.Shard(global, world, rank);
        // The same 16 global batches on every rank (same seed); each rank keeps its rows of each.
        var xs = new Tensor[nb]; var ys = new Tensor[nb];
        for (int i = 0; i < nb; i++)
        {
            var x = Tensor.Randn([global, 784], g); var y = Tensor.RandInt(0, 10, [global], g);
            xs[i] = x.Narrow(0, start, len).Contiguous(); ys[i] = y.Narrow(0, start, len).Contiguous();
        }
        var ddp = new DistributedDataParallel(model);
        var opt = new Adam(model.Parameters(), 1e-3);
        double share = (double)len / global;
        int k = 0;
        void Step()
        {
            var x = xs[k % nb]; var y = ys[k % nb]; k++;
            opt.ZeroGrad();
            Functional.CrossEntropy(ddp.Call(x), y).Backward();
            ddp.SynchronizeGradients(share);
            opt.Step();
        }
        for (int i = 0; i < warmup; i++) Step();
        var times = new double[o.Reps];
        var reduce = new double[o.Reps];
        for (int r = 0; r < o.Reps; r++)
        {
            Distributed.Distributed.Barrier();
            var ar0 = ddp.AllReduceTime;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < steps; i++) Step();
            double[] t = [Stopwatch.GetElapsedTime(t0).TotalSeconds];
            Distributed.Distributed.AllReduceMax(t.AsSpan());
            times[r] = t[0];
            reduce[r] = (ddp.AllReduceTime - ar0).TotalMilliseconds / steps;
        }
        // The communication alone: one allreduce of the model's gradient size, all ranks released by a barrier.
        var flat = new float[model.Parameters().Sum(p => p.NumEl) + 5];
        var bare = new double[o.Reps];
        for (int r = 0; r < o.Reps; r++)
        {
            Distributed.Distributed.Barrier();
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < 50; i++) Distributed.Distributed.AllReduceSum(flat.AsSpan());
            double[] t = [Stopwatch.GetElapsedTime(t0).TotalMilliseconds / 50];
            Distributed.Distributed.AllReduceMax(t.AsSpan());
            bare[r] = t[0];
        }
        string label = $"ddp 784-256-128-10 adam b128 {world}x{o.Threads}";
        var results = new List<BenchResult>
        {
            new(label, global * steps / Median(times), "samples/s"),
            new(label + " allreduce ms/step", Median(reduce), "ms"),
            new(label + " bare allreduce ms", world > 1 ? Median(bare) : 0, "ms"),
            new(label + " step ms", Median(times) / steps * 1000, "ms"),
        };
        if (!Distributed.Distributed.IsMain) { Distributed.Distributed.Shutdown(); Environment.Exit(0); }
        if (!o.Json)
            foreach (var r in results) Console.WriteLine($"{r.Label,-52} {r.Value,12:F3} {r.Unit}");
        Distributed.Distributed.Shutdown();
        return results;
    }

    private static double Median(double[] v) { var s = (double[])v.Clone(); Array.Sort(s); return s[s.Length / 2]; }
}
