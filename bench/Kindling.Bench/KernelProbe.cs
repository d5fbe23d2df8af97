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

/// <summary>Where one training step of a small MLP spends its time (forward, loss, backward, optimizer).</summary>
public static class StepProbe
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        foreach (var (sizes, batch) in new[] { (new[] { 10, 5, 1 }, 64), (new[] { 10, 128, 1 }, 64), (new[] { 784, 256, 128, 10 }, 128), (new[] { 3072, 128, 2 }, 64) })
        {
            var g = new Generator(1);
            var model = new Sequential();
            for (int i = 0; i + 1 < sizes.Length; i++) { model.Add(new Linear(sizes[i], sizes[i + 1], generator: g)); if (i + 2 < sizes.Length) model.Add(new ReLU()); }
            var x = Tensor.Randn([batch, sizes[0]], g);
            var y = sizes[^1] == 1 ? Tensor.Randn([batch, 1], g) : Tensor.RandInt(0, sizes[^1], [batch], g);
            var opt = new Kindling.Optim.SGD(model.Parameters(), 0.01);
            Tensor Loss(Tensor o2) => sizes[^1] == 1 ? Functional.MseLoss(o2, y) : Functional.CrossEntropy(o2, y);
            double fwd = Timing.MedianSeconds(() => { using var _ = Autograd.NoGrad(); model.Call(x); }, o.Reps) * 1e6;
            double fwdGraph = Timing.MedianSeconds(() => model.Call(x), o.Reps) * 1e6;
            double fwdLoss = Timing.MedianSeconds(() => Loss(model.Call(x)), o.Reps) * 1e6;
            double all = Timing.MedianSeconds(() => { opt.ZeroGrad(); Loss(model.Call(x)).Backward(); }, o.Reps) * 1e6;
            double step = Timing.MedianSeconds(() => opt.Step(), o.Reps) * 1e6;
            double full = Timing.MedianSeconds(() => { opt.ZeroGrad(); Loss(model.Call(x)).Backward(); opt.Step(); }, o.Reps) * 1e6;
            Console.WriteLine($"   full step {full:F1} us");
            double zero = Timing.MedianSeconds(() => opt.ZeroGrad(), o.Reps) * 1e6;
            var lin = (Linear)model[0];
            var a = x.DenseData<float>(); var w = lin.Weight.DenseData<float>(); var c = new float[batch * sizes[1]];
            double gemm = Timing.MedianSeconds(() => Kindling.Kernels.Gemm.Sgemm(false, true, batch, sizes[1], sizes[0], 1f, a, sizes[0], w, sizes[0], 0f, c, sizes[1]), o.Reps) * 1e6;
            double linOp = Timing.MedianSeconds(() => { using var _ = Autograd.NoGrad(); Functional.Linear(x, lin.Weight, lin.Bias); }, o.Reps) * 1e6;
            var h = Tensor.Randn([batch, sizes[1]], g);
            double relu = Timing.MedianSeconds(() => { using var _ = Autograd.NoGrad(); h.Relu(); }, o.Reps) * 1e6;
            double call = Timing.MedianSeconds(() => { using var _ = Autograd.NoGrad(); model[1].Call(h); }, o.Reps) * 1e6;
            var gy = new float[batch * sizes[1]]; var dw = new float[sizes[1] * sizes[0]];
            double gemmDw = Timing.MedianSeconds(() => Kindling.Kernels.Gemm.Sgemm(true, false, sizes[1], sizes[0], batch, 1f, gy, sizes[1], a, sizes[0], 1f, dw, sizes[0]), o.Reps) * 1e6;
            Console.WriteLine($"   dW gemm {gemmDw:F1} us");
            double linNoBias = Timing.MedianSeconds(() => { using var _ = Autograd.NoGrad(); Functional.Linear(x, lin.Weight, null); }, o.Reps) * 1e6;
            double dense = Timing.MedianSeconds(() => { x.DenseData<float>(); lin.Weight.DenseData<float>(); }, o.Reps) * 1e6;
            double alloc = Timing.MedianSeconds(() => GC.KeepAlive(GC.AllocateUninitializedArray<float>(batch * sizes[1])), o.Reps) * 1e6;
            double gemmFresh = Timing.MedianSeconds(() => { var cc = GC.AllocateUninitializedArray<float>(batch * sizes[1]); Kindling.Kernels.Gemm.Sgemm(false, true, batch, sizes[1], sizes[0], 1f, a, sizes[0], w, sizes[0], 0f, cc, sizes[1]); }, o.Reps) * 1e6;
            var xw = x.DenseData<float>();
            double gemmSame = Timing.MedianSeconds(() => Kindling.Kernels.Gemm.Sgemm(false, true, batch, sizes[1], sizes[0], 1f, xw, sizes[0], lin.Weight.DenseData<float>(), sizes[0], 0f, c, sizes[1]), o.Reps) * 1e6;
            Console.WriteLine($"   gemm into fresh output {gemmFresh:F2} us, gemm via DenseData {gemmSame:F2} us");
            Console.WriteLine($"   linear without bias {linNoBias:F2} us, two DenseData {dense:F3} us, output alloc {alloc:F3} us");
            Console.WriteLine($"   gemm {gemm:F1} us, linear op {linOp:F1} us, relu op {relu:F1} us, relu via Call {call:F1} us");
            Console.WriteLine($"{string.Join('-', sizes)} b{batch}: fwd nograd {fwd:F1} us, fwd graph {fwdGraph:F1}, +loss {fwdLoss:F1}, zero+fwd+loss+bwd {all:F1}, step {step:F1}, zero {zero:F1} us");
        }
        return [];
    }
}
