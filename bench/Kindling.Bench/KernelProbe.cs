using Kindling.Kernels;

namespace Kindling.Bench;

/// <summary>Kernel-level timings without the tensor layer, to separate kernel cost from allocation and dispatch.</summary>
public static class KernelProbe
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        foreach (var (rows, n) in new[] { (65536, 10), (8192, 1000) })
        {
            var x = new float[rows * n]; var y = new float[rows * n];
            var r = new Random(1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)r.NextDouble();
            double ms = Timing.MedianSeconds(() => Softmax.Rows(true, x, 0, y, 0, rows, n), o.Reps) * 1e3;
            double msExp = Timing.MedianSeconds(() => FastExp.Exp(x, y), o.Reps) * 1e3;
            double msAlloc = Timing.MedianSeconds(() => GC.KeepAlive(GC.AllocateUninitializedArray<float>(rows * n)), o.Reps) * 1e3;
            var t = Tensor.FromArray(x, rows, n);
            double msT = Timing.MedianSeconds(() => _ = t.LogSoftmax(1), o.Reps) * 1e3;
            Console.WriteLine($"{rows}x{n}: kernel {ms:F3} ms, exp alone {msExp:F3} ms, alloc {msAlloc:F3} ms, tensor op {msT:F3} ms");
        }
        return results;
    }
}
