using Kindling.NN;

namespace Kindling.Bench;

/// <summary>
/// Fused losses, forward + backward in milliseconds, and the bound each should approach: the time to read its inputs
/// and write its gradient at the copy bandwidth measured in the same run.
/// </summary>
public static class LossBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        double copyGBs = CopyBandwidth(o.Reps);
        if (!o.Json) Console.WriteLine($"{"copy bandwidth",-34} {copyGBs,8:F2} GB/s (read+write bytes)");
        results.Add(new BenchResult("copy GB/s", copyGBs, "GB/s"));
        // keepGrad: zero the gradient in place between steps (PyTorch 1.13's zero_grad default) instead of dropping it
        // (x.grad = None, what the PyTorch twin does): a dropped gradient is the user's, so each step needs a fresh one.
        void Case(string label, Func<Tensor> make, Func<Tensor, Tensor> loss, double bytes, bool keepGrad = false)
        {
            if (!o.Selected(label)) return;
            var x = make();
            void Step()
            {
                if (keepGrad) x.Grad?.Zero_(); else x.Grad = null;
                loss(x).Backward();
            }
            double ms = Timing.MedianSeconds(Step, o.Reps) * 1e3;
            double boundMs = bytes / (copyGBs * 1e9) * 1e3;
            const int steps = 50;
            var (perStep, gen2s) = Timing.Allocation(Step, warmup: 5, steps);
            results.Add(new BenchResult(label, ms, "ms"));
            results.Add(new BenchResult(label + " bound", boundMs, "ms"));
            results.Add(new BenchResult(label + " bytes/step", perStep, "bytes"));
            results.Add(new BenchResult(label + " gen2", gen2s, "collections"));
            if (!o.Json) Console.WriteLine($"{label,-34} kindling {ms,8:F3} ms   bound {boundMs,7:F3} ms   ({ms / boundMs:F2}x bound)   {perStep / 1024,9:F1} KiB/step   gen-2 GCs in {steps} steps: {gen2s}");
        }
        var g = new Generator(1);
        var t1 = Tensor.RandInt(0, 10, [65536], g);
        Case("cross_entropy 65536x10", () => Tensor.Randn([65536, 10], g).RequiresGrad_(), x => Functional.CrossEntropy(x, t1), (65536 * 10 * 4.0) * 2 + 65536 * 8);
        var t2 = Tensor.RandInt(0, 1000, [8192], g);
        Case("cross_entropy 8192x1000", () => Tensor.Randn([8192, 1000], g).RequiresGrad_(), x => Functional.CrossEntropy(x, t2), (8192 * 1000 * 4.0) * 2 + 8192 * 8);
        Case("cross_entropy 8192x1000 zero_grad", () => Tensor.Randn([8192, 1000], g).RequiresGrad_(), x => Functional.CrossEntropy(x, t2), (8192 * 1000 * 4.0) * 2 + 8192 * 8, keepGrad: true);
        var t3 = Tensor.Rand([65536, 100], g).Gt(0.5).ToFloat32();
        Case("bce_with_logits 65536x100", () => Tensor.Randn([65536, 100], g).RequiresGrad_(), x => Functional.BinaryCrossEntropyWithLogits(x, t3), 65536 * 100 * 4.0 * 3);
        // Kernel-only: the same work on preallocated buffers, without the tensor layer and fresh outputs.
        void KernelCase(string label, Action body, double bytes)
        {
            if (!o.Selected(label)) return;
            double ms = Timing.MedianSeconds(body, o.Reps) * 1e3;
            double boundMs = bytes / (copyGBs * 1e9) * 1e3;
            results.Add(new BenchResult(label, ms, "ms"));
            if (!o.Json) Console.WriteLine($"{label,-34} kindling {ms,8:F3} ms   bound {boundMs,7:F3} ms   ({ms / boundMs:F2}x bound)");
        }
        foreach (var (rows, c, tt) in new[] { (65536, 10, t1), (8192, 1000, t2) })
        {
            var xk = Tensor.Randn([rows, c], g).DenseData<float>();
            var tk = tt.DenseData<long>();
            double[] loss = new double[rows], rowW = new double[rows], scale = new double[rows];
            float[] mx = new float[rows], inv = new float[rows], grad = new float[rows * c];
            Array.Fill(scale, 1.0 / rows);
            KernelCase($"cross_entropy {rows}x{c} kernel", () => Kernels.CrossEntropyKernel.ForwardBackward(xk, rows, c, tk, null, -100, 0, loss, mx, inv, rowW, scale, grad),
                (rows * c * 4.0) * 2 + rows * 8);
            // The same work as two passes (forward, then backward recomputing exp), as before the fused pass.
            KernelCase($"cross_entropy {rows}x{c} kernel 2-pass", () =>
            {
                Kernels.CrossEntropyKernel.Forward(xk, rows, c, tk, null, -100, 0, loss, mx, inv, rowW);
                Kernels.CrossEntropyKernel.Backward(xk, rows, c, tk, null, -100, 0, mx, inv, scale, grad);
            }, (rows * c * 4.0) * 2 + rows * 8);
        }
        {
            var xk = Tensor.Randn([65536, 100], g).DenseData<float>();
            var tk = t3.DenseData<float>();
            var gx = new float[xk.Length];
            KernelCase("bce_with_logits 65536x100 kernel", () => Kernels.BceLogitsKernel.ForwardBackward(xk, tk, null, null, null, 1f / xk.Length, gx),
                65536 * 100 * 4.0 * 3);
            KernelCase("bce_with_logits 65536x100 kernel 2-pass", () =>
            {
                Kernels.BceLogitsKernel.Forward(xk, tk, null, null, null);
                Kernels.BceLogitsKernel.Backward(xk, tk, null, null, 1f / xk.Length, null, gx, null);
            }, 65536 * 100 * 4.0 * 3);
        }
        var t4 = Tensor.Randn([4 << 20], g);
        Case("mse_loss 4M", () => Tensor.Randn([4 << 20], g).RequiresGrad_(), x => Functional.MseLoss(x, t4), (4 << 20) * 4.0 * 3);
        return results;
    }

    private static double CopyBandwidth(int reps)
    {
        int n = 1 << 24;
        var a = new float[n]; var c = new float[n];
        double s = Timing.MedianSeconds(() => Kernels.Parallel2.For(n, 1 << 15, (st, len) => a.AsSpan(st, len).CopyTo(c.AsSpan(st, len))), reps);
        return 8.0 * n / s / 1e9;
    }
}
