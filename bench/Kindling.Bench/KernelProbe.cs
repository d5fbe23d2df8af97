using Kindling.Kernels;
using Kindling.NN;

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
            var tgt = new long[rows];
            for (int i = 0; i < rows; i++) tgt[i] = r.Next(n);
            double ms = Timing.MedianSeconds(() => Kindling.Kernels.Softmax.Rows(true, x, 0, y, 0, rows, n), o.Reps) * 1e3;
            double msExp = Timing.MedianSeconds(() => FastExp.Exp(x, y), o.Reps) * 1e3;
            var loss = new double[rows]; var mx = new float[rows]; var inv = new float[rows]; var rw = new double[rows]; var sc = new double[rows];
            Array.Fill(sc, 1.0 / rows);
            double msF = Timing.MedianSeconds(() => CrossEntropyKernel.Forward(x, rows, n, tgt, null, -100, 0, loss, mx, inv, rw), o.Reps) * 1e3;
            double msB = Timing.MedianSeconds(() => CrossEntropyKernel.Backward(x, rows, n, tgt, null, -100, 0, mx, inv, sc, y), o.Reps) * 1e3;
            var t = Tensor.FromArray(x, rows, n).RequiresGrad_();
            var tt = Tensor.FromArray(tgt);
            double msFwd = Timing.MedianSeconds(() => _ = Functional.CrossEntropy(t, tt), o.Reps) * 1e3;
            double msAll = Timing.MedianSeconds(() => { t.Grad = null; Functional.CrossEntropy(t, tt).Backward(); }, o.Reps) * 1e3;
            int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 100; i++) { t.Grad = null; Functional.CrossEntropy(t, tt).Backward(); }
            Console.WriteLine($"   100 fwd+bwd: {sw.Elapsed.TotalMilliseconds / 100:F3} ms each, GCs gen0 {GC.CollectionCount(0) - g0} gen1 {GC.CollectionCount(1) - g1} gen2 {GC.CollectionCount(2) - g2}");
            double msNoGrad;
            using (Autograd.NoGrad()) msNoGrad = Timing.MedianSeconds(() => _ = Functional.CrossEntropy(t, tt), o.Reps) * 1e3;
            double msVal = Timing.MedianSeconds(() => _ = tt.DenseData<long>().Length + t.Contiguous().NumEl, o.Reps) * 1e3;
            Console.WriteLine($"   CE op fwd under NoGrad {msNoGrad:F3} ms; dense/contiguous {msVal:F3} ms");
            Console.WriteLine($"{rows}x{n}: log_softmax kernel {ms:F3} ms, exp alone {msExp:F3} ms | CE kernel fwd {msF:F3} bwd {msB:F3} | CE op fwd {msFwd:F3}, fwd+bwd {msAll:F3} ms");
        }
        return results;
    }
}
