using System.Numerics.Tensors;

namespace Kindling.Bench;

/// <summary>
/// Reductions over 16M floats in GB/s of input read (higher is better): the cascade sums Kindling now uses, beside the
/// plain kernels they replaced, kept here as "[plain]" rows (a running TensorPrimitives.Sum per row, and rows added one
/// by one into the output for a reduction along the first dimension), in the same run. Labels without "[plain]" match
/// bench/torch_bench.py's "reductions" mode.
/// </summary>
public static class ReductionBench
{
    private const int Side = 4096, N = Side * Side;

    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        var rng = new Random(1);
        var a = new float[N];
        for (int i = 0; i < N; i++) a[i] = (float)rng.NextDouble();
        var flat = Tensor.FromArray(a);
        var square = flat.Reshape(Side, Side);
        var col = new float[Side];
        void Report(string label, Action body)
        {
            if (!o.Selected(label)) return;
            double gbs = 4.0 * N / Timing.MedianSeconds(body, o.Reps) / 1e9;
            results.Add(new BenchResult(label, gbs, "GB/s"));
            if (!o.Json) Console.WriteLine($"{label,-30} kindling {gbs,8:F2} GB/s");
        }
        Report("sum 16M", () => _ = flat.Sum());
        Report("sum 16M [plain]", () => _ = TensorPrimitives.Sum(a));
        Report("sum(1) 4096x4096", () => _ = square.Sum(1));
        Report("sum(1) 4096x4096 [plain]", () => { for (int r = 0; r < Side; r++) col[r] = TensorPrimitives.Sum(a.AsSpan(r * Side, Side)); });
        Report("sum(0) 4096x4096", () => _ = square.Sum(0));
        Report("sum(0) 4096x4096 [plain]", () =>
        {
            a.AsSpan(0, Side).CopyTo(col);
            for (int r = 1; r < Side; r++) TensorPrimitives.Add(col, a.AsSpan(r * Side, Side), col);
        });
        Report("var 16M", () => _ = flat.Var());
        Report("norm 16M", () => _ = flat.Norm());
        return results;
    }
}
