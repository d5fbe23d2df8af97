using Kindling.Kernels;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Bench;

/// <summary>
/// The reference CNN on Fashion-MNIST-sized input: Conv2d(1,32,3,p=1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,p=1)-
/// ReLU-MaxPool2d(2)-Flatten-Linear(3136,128)-ReLU-Linear(128,10). Training samples/s (Adam 1e-3, batch 128) with bytes
/// allocated and gen-2 collections per step; inference samples/s (batch 2048, no grad); and per convolution layer
/// (batch 128) the GFLOP/s of its forward, input gradient and weight gradient, beside Kindling's GEMM on the same
/// product shape. Labels match bench/torch_cnn.py.
/// </summary>
public static class CnnBench
{
    public static Sequential Model(Generator g) => new(
        new Conv2d(1, 32, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
        new Conv2d(32, 64, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Linear(3136, 128, generator: g), new ReLU(), new Linear(128, 10, generator: g));

    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        var g = new Generator(1);
        var model = Model(g);
        if (o.Selected("cnn train"))
        {
            const int batch = 128, nb = 4;
            var xs = Enumerable.Range(0, nb).Select(_ => Tensor.Randn([batch, 1, 28, 28], g)).ToArray();
            var ys = Enumerable.Range(0, nb).Select(_ => Tensor.RandInt(0, 10, [batch], g)).ToArray();
            var opt = new Adam(model.Parameters(), 1e-3);
            int k = 0;
            void Step()
            {
                opt.ZeroGrad();
                Functional.CrossEntropy(model.Call(xs[k % nb]), ys[k % nb]).Backward();
                opt.Step();
                k++;
            }
            double s = Timing.MedianSeconds(Step, o.Reps);
            var (bytes, gen2s) = Timing.Allocation(Step, warmup: 5, steps: 20);
            Add(o, results, "cnn train adam b128", batch / s, "samples/s");
            Add(o, results, "cnn train adam b128 bytes/step", bytes, "bytes");
            Add(o, results, "cnn train adam b128 gen2 in 20 steps", gen2s, "collections");
        }
        if (o.Selected("cnn infer"))
        {
            var x = Tensor.Randn([2048, 1, 28, 28], g);
            model.Eval();
            double s = Timing.MedianSeconds(() => { using (Autograd.NoGrad()) model.Call(x); }, o.Reps);
            model.Train();
            Add(o, results, "cnn infer b2048", 2048 / s, "samples/s");
        }
        Layer(o, results, "conv1 1>32 28x28", 128, 1, 32, 28);
        Layer(o, results, "conv2 32>64 14x14", 128, 32, 64, 14);
        return results;
    }

    private static void Layer(BenchOptions o, List<BenchResult> results, string name, int n, int c, int oc, int hw)
    {
        if (!o.Selected(name)) return;
        var g = new Generator(2);
        var x = Tensor.Randn([n, c, hw, hw], g);
        var w = Tensor.Randn([oc, c, 3, 3], g) * 0.1;
        var b = Tensor.Randn([oc], g);
        var gy = Tensor.Randn([n, oc, hw, hw], g);
        double flops = 2.0 * n * oc * hw * hw * c * 9;
        double fwd = Timing.MedianSeconds(() => { using (Autograd.NoGrad()) Functional.Conv2d(x, w, b, padding: 1); }, o.Reps);
        // Backward alone: one recorded forward, its backward run again and again (retainGraph), gradients reset each time.
        var xr = x.Detach().RequiresGrad_();
        var yx = Functional.Conv2d(xr, w, b, padding: 1);
        double fdx = Timing.MedianSeconds(() => { xr.Grad = null; yx.Backward(gy, retainGraph: true); }, o.Reps);
        var wr = w.Detach().RequiresGrad_();
        var yw = Functional.Conv2d(x, wr, null, padding: 1);
        double fdw = Timing.MedianSeconds(() => { wr.Grad = null; yw.Backward(gy, retainGraph: true); }, o.Reps);
        Add(o, results, $"{name} forward GFLOP/s", flops / fwd / 1e9, "GFLOP/s");
        Add(o, results, $"{name} input-grad GFLOP/s", flops / fdx / 1e9, "GFLOP/s");
        Add(o, results, $"{name} weight-grad GFLOP/s", flops / fdw / 1e9, "GFLOP/s");
        // Kindling's GEMM on the same product as the forward: (O × C·9) · (C·9 × N·H·W).
        int m = oc, k = c * 9, nn = n * hw * hw;
        var a = new float[m * k]; var bb = new float[k * nn]; var cc = new float[m * nn];
        double gs = Timing.MedianSeconds(() => Gemm.Sgemm(false, false, m, nn, k, 1f, a, k, bb, nn, 0f, cc, nn), o.Reps);
        Add(o, results, $"{name} gemm {m}x{nn}x{k} GFLOP/s", 2.0 * m * nn * k / gs / 1e9, "GFLOP/s");
    }

    private static void Add(BenchOptions o, List<BenchResult> results, string label, double v, string unit)
    {
        results.Add(new BenchResult(label, v, unit));
        if (!o.Json) Console.WriteLine($"{label,-44} {v,14:N1} {unit}");
    }
}
