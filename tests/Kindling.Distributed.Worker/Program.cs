using System.Globalization;
using Kindling;
using Kindling.Data;
using Kindling.Distributed;
using Kindling.NN;
using Kindling.Optim;

// Scenarios run by tests/Kindling.Tests/DistributedTests.cs, each as `mpirun -np N dotnet Worker.dll <scenario> …`
// (or without mpirun as the single-process reference). Prints "FAIL: …" and exits 1 on a failed check.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Kindling.Kernels.Gemm.MaxThreads = 1;
Distributed.Init();
try
{
    switch (args[0])
    {
        case "collectives": Scenarios.Collectives(); break;
        case "train": Scenarios.Train(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3] == "syncbn", args[4]); break;
        case "throw": Scenarios.Throw(); break;
        case "hang": Scenarios.Hang(); break;
        default: throw new ArgumentException("unknown scenario " + args[0]);
    }
}
catch (CheckFailed e)
{
    Console.Error.WriteLine($"FAIL (rank {Distributed.Rank}): {e.Message}");
    Distributed.Abort("a check failed", 1);
}
Distributed.Shutdown();
return 0;

internal sealed class CheckFailed(string m) : Exception(m);

internal static class Scenarios
{
    private static void Check(bool ok, string what) { if (!ok) throw new CheckFailed(what); }

    public static void Collectives()
    {
        int r = Distributed.Rank, w = Distributed.WorldSize;
        Check(w == Distributed.LaunchedWorldSize && w > 1, $"world size {w}, mpirun announced {Distributed.LaunchedWorldSize}");
        Check(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") == r.ToString(CultureInfo.InvariantCulture), "rank differs from OMPI_COMM_WORLD_RANK");
        // Sums with values that are exact in every type: Σ_r (r + 1)·(i + 1) = (i + 1)·w(w+1)/2.
        var f = Enumerable.Range(0, 1000).Select(i => (float)((r + 1) * (i + 1))).ToArray();
        var d = Enumerable.Range(0, 1000).Select(i => (double)((r + 1) * (i + 1)) + 0.5).ToArray();
        var l = Enumerable.Range(0, 1000).Select(i => (long)(r + 1) * (i + 1) + (1L << 40)).ToArray();
        Distributed.AllReduceSum(f.AsSpan());
        Distributed.AllReduceSum(d.AsSpan());
        Distributed.AllReduceSum(l.AsSpan());
        long tri = w * (w + 1) / 2;
        for (int i = 0; i < 1000; i++)
        {
            Check(f[i] == (float)((i + 1) * tri), $"float allreduce [{i}] = {f[i]}, expected {(i + 1) * tri}");
            Check(d[i] == (i + 1) * tri + 0.5 * w, $"double allreduce [{i}] = {d[i]}");
            Check(l[i] == (i + 1) * tri + w * (1L << 40), $"int64 allreduce [{i}] = {l[i]}");
        }
        var mx = new double[] { r, -r };
        Distributed.AllReduceMax(mx.AsSpan());
        Check(mx[0] == w - 1 && mx[1] == 0, $"max allreduce gave {mx[0]}, {mx[1]}");
        foreach (int root in new[] { 0, w - 1 })
        {
            var b = Enumerable.Range(0, 77).Select(i => r == root ? i * 1.25f : -1f).ToArray();
            Distributed.Broadcast(b.AsSpan(), root);
            for (int i = 0; i < 77; i++) Check(b[i] == i * 1.25f, $"broadcast from {root}: [{i}] = {b[i]}");
        }
        Distributed.Barrier();
        var g = Distributed.AllGather<long>([r, 10L * r]);
        for (int s = 0; s < w; s++) Check(g[2 * s] == s && g[2 * s + 1] == 10L * s, $"allgather slot {s}: {g[2 * s]}, {g[2 * s + 1]}");
        // Error paths of the binding: a wrong receive size is refused before MPI is called.
        try { Mpi.AllGather<int>([1], new int[w + 1]); Check(false, "allgather with a wrong receive size did not throw"); }
        catch (ArgumentException) { }
        // Broadcast of parameters: DDP gives every rank rank 0's weights.
        var model = new Sequential(new Linear(5, 4, generator: new Generator((ulong)(100 + r))), new ReLU(), new Linear(4, 2, generator: new Generator((ulong)(200 + r))));
        var ddp = new DistributedDataParallel(model);
        var sums = Distributed.AllGather<double>([model.Parameters().Sum(p => p.ToDoubleArray().Select((v, i) => v * (i + 1)).Sum())]);
        Check(sums.All(s => s == sums[0]), "parameters differ across ranks after DistributedDataParallel's broadcast");
        // Gradient weighting: rank r contributes grad = (r + 1) with weight (r + 1) / Σ(s + 1) → Σ (r+1)² / Σ(s+1).
        foreach (var p in model.Parameters()) p.Grad = Tensor.Full(p.Shape, r + 1f);
        model.Parameters().Last().Grad = null; // absent on every rank: stays absent
        ddp.SynchronizeGradients((r + 1.0) / tri);
        double expect = Enumerable.Range(1, w).Sum(k => (double)k * k) / tri;
        foreach (var p in model.Parameters().SkipLast(1))
            Check(p.Grad!.ToArray().All(v => Math.Abs(v - expect) < 1e-5 * expect), $"weighted gradient {p.Grad!.ToArray()[0]}, expected {expect}");
        Check(model.Parameters().Last().Grad == null, "a parameter without gradient on every rank received one");
        if (Distributed.IsMain) Console.WriteLine($"collectives ok on {w} ranks");
    }

    /// <summary>
    /// 200 Adam steps of a 64-32-10 MLP (optionally with batch norm) on the digits data, global batch 128, the same
    /// seed for any world size; rank 0 writes one loss per step (the global batch's mean, reduced over ranks) and
    /// the final test predictions (argmax and logits) to <paramref name="outFile"/>.
    /// </summary>
    public static void Train(string outFile, int steps, bool batchNorm, string _)
    {
        var data = Datasets.Digits();
        var x = Standardize.Fit(data.Features).Transform(data.Features);
        var init = new Generator(7);
        var model = batchNorm
            ? new Sequential(new Linear(64, 32, bias: false, generator: init), Distributed.IsDistributed ? new SyncBatchNorm1d(32) : new BatchNorm1d(32), new ReLU(), new Linear(32, 10, generator: init))
            : new Sequential(new Linear(64, 32, generator: init), new ReLU(), new Linear(32, 10, generator: init));
        var ddp = new DistributedDataParallel(model);
        // With batch norm, SGD: the gradient of a weight column whose input is constant within a batch (digits has
        // such pixels) is exactly 0 in real arithmetic behind batch norm, so it is pure rounding noise, and Adam would
        // scale that noise up to full-size steps — a float32 effect of the data, not of the distribution.
        Optimizer opt = batchNorm ? new SGD(model.Parameters(), 0.05, momentum: 0.9) : new Adam(model.Parameters(), lr: 3e-3);
        var ds = new TensorDataset(x, data.Targets);
        var sampler = new DistributedSampler(ds.Count, 128, Distributed.WorldSize, Distributed.Rank, shuffle: true, seed: 11);
        var loader = new DataLoader(ds, sampler);
        var losses = new List<double>();
        for (int epoch = 0; losses.Count < steps; epoch++)
        {
            sampler.SetEpoch(epoch);
            int b = 0;
            foreach (var (xb, yb) in loader)
            {
                int global = sampler.GlobalBatchLength(b++);
                opt.ZeroGrad();
                var loss = Functional.CrossEntropy(ddp.Call(xb), yb);
                loss.Backward();
                double share = DistributedDataParallel.Share(xb.Size(0), global);
                ddp.SynchronizeGradients(share);
                opt.Step();
                var l = new[] { loss.ItemDouble() * share };
                Distributed.AllReduceSum(l.AsSpan());
                losses.Add(l[0]);
                if (losses.Count == steps) break;
            }
        }
        model.Eval();
        Tensor logits;
        using (Autograd.NoGrad()) logits = model.Call(x);
        var sums = Distributed.AllGather<double>([logits.ToDoubleArray().Select((v, i) => v * (i % 97 + 1)).Sum()]);
        Check(sums.All(s => s == sums[0]), "the replicas' predictions differ across ranks after training");
        if (Distributed.IsMain)
            File.WriteAllLines(outFile, losses.Select(v => v.ToString("R", CultureInfo.InvariantCulture))
                .Append("logits").Concat(logits.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
    }

    /// <summary>Rank 1 throws (an unhandled exception ends its process) while the others wait in an allreduce.</summary>
    public static void Throw()
    {
        Distributed.Barrier();
        if (Distributed.Rank == 1) throw new InvalidOperationException("rank 1 fails on purpose");
        var buf = new float[4];
        Distributed.AllReduceSum(buf.AsSpan());
        Console.WriteLine("FAIL: the allreduce completed without rank 1");
    }

    /// <summary>Rank 1 stays alive but never joins the allreduce; the watchdog must end the job.</summary>
    public static void Hang()
    {
        Distributed.Barrier();
        if (Distributed.Rank == 1) { Thread.Sleep(TimeSpan.FromMinutes(10)); return; }
        var buf = new float[4];
        Distributed.AllReduceSum(buf.AsSpan());
        Console.WriteLine("FAIL: the allreduce completed without rank 1");
    }
}
