using Kindling.Kernels;

namespace Kindling.Bench;

/// <summary>
/// Memory-bound kernels on 16M floats, in GB/s of bytes moved (read + write), beside the machine's copy bandwidth
/// measured the same way in the same run. Labels match bench/torch_bench.py.
/// </summary>
public static class ElementwiseBench
{
    public const int N = 1 << 24;

    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        var rng = new Random(1);
        var a = new float[N]; var b = new float[N]; var c = new float[N];
        for (int i = 0; i < N; i++) { a[i] = (float)(rng.NextDouble() * 4 - 2); b[i] = (float)(rng.NextDouble() * 4 - 2); }
        void Report(string label, double seconds, double bytes)
        {
            double gbs = bytes / seconds / 1e9;
            results.Add(new BenchResult(label, gbs, "GB/s"));
            if (!o.Json) Console.WriteLine($"{label,-30} kindling {gbs,8:F2} GB/s");
        }
        // Copy: the reference bandwidth (read 64 MB + write 64 MB), split over the threads like the kernels.
        if (o.Selected("copy 16M")) Report("copy 16M", Timing.MedianSeconds(() => Parallel2.For(N, 1 << 15, (s, len) => a.AsSpan(s, len).CopyTo(c.AsSpan(s, len))), o.Reps), 8.0 * N);
        var ta = Tensor.FromArray(a); var tb = Tensor.FromArray(b);
        var ct = Tensor.Zeros(N);
        if (o.Selected("add 16M (into)")) Report("add 16M (into)", Timing.MedianSeconds(() => Elementwise.BinaryInto<AddOperator, float>(a, b, c), o.Reps), 12.0 * N);
        if (o.Selected("add 16M (tensor)")) Report("add 16M (tensor)", Timing.MedianSeconds(() => _ = ta + tb, o.Reps), 12.0 * N);
        if (o.Selected("exp 16M (into)")) Report("exp 16M (into)", Timing.MedianSeconds(() => Elementwise.Unary<ExpOperator, float>(a, 0, c, 0, N), o.Reps), 8.0 * N);
        if (o.Selected("exp 16M (tensor)")) Report("exp 16M (tensor)", Timing.MedianSeconds(() => _ = ta.Exp(), o.Reps), 8.0 * N);
        GC.KeepAlive(ct);
        return results;
    }
}

/// <summary>log_softmax forward in milliseconds (lower is better), rows of 10 and of 1000 classes.</summary>
public static class LogSoftmaxBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        foreach (var (rows, cols) in new[] { (65536, 10), (8192, 1000) })
        {
            string label = $"log_softmax {rows}x{cols}";
            if (!o.Selected(label)) continue;
            var x = Tensor.Randn([rows, cols], new Generator(1));
            double ms = Timing.MedianSeconds(() => _ = x.LogSoftmax(1), o.Reps) * 1e3;
            results.Add(new BenchResult(label, ms, "ms"));
            if (!o.Json) Console.WriteLine($"{label,-30} kindling {ms,8:F3} ms");
        }
        return results;
    }
}
