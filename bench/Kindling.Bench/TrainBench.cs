using System.Diagnostics;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Bench;

/// <summary>
/// Training throughput in samples/s for the source material's three models (batch 64, SGD) and a Fashion-MNIST-sized
/// MLP (784→256→128→10, Adam, batch 128), on fixed random data; also bytes allocated per step and gen-2 collections
/// in the steady state. Labels match bench/torch_bench.py.
/// </summary>
public static class TrainBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        Case(o, results, "train 3072-128-2 sgd b64", [3072, 128, 2], false, 64, "ce", p => new SGD(p, 0.01));
        Case(o, results, "train 10-128-1 sgd b64", [10, 128, 1], false, 64, "mse", p => new SGD(p, 0.01));
        Case(o, results, "train 10-5-1 sgd b64", [10, 5, 1], true, 64, "bce", p => new SGD(p, 0.01));
        Case(o, results, "train 784-256-128-10 adam b128", [784, 256, 128, 10], false, 128, "ce", p => new Adam(p, 1e-3));
        return results;
    }

    private static void Case(BenchOptions o, List<BenchResult> results, string label, int[] sizes, bool sigmoid, int batch, string loss, Func<IEnumerable<Tensor>, Optimizer> opt)
    {
        if (!o.Selected(label)) return;
        var g = new Generator(1);
        var model = new Sequential();
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            model.Add(new Linear(sizes[i], sizes[i + 1], generator: g));
            if (i + 2 < sizes.Length) model.Add(sigmoid ? new Sigmoid() : new ReLU());
        }
        int nb = 16;
        var xs = Enumerable.Range(0, nb).Select(_ => Tensor.Randn([batch, sizes[0]], g)).ToArray();
        int outDim = sizes[^1];
        var ys = Enumerable.Range(0, nb).Select(_ => loss switch
        {
            "ce" => Tensor.RandInt(0, outDim, [batch], g),
            "bce" => Tensor.Rand([batch, 1], g).Gt(0.5).ToFloat32(),
            _ => Tensor.Randn([batch, 1], g),
        }).ToArray();
        var optimizer = opt(model.Parameters());
        int k = 0;
        void Step()
        {
            var x = xs[k % nb]; var y = ys[k % nb]; k++;
            optimizer.ZeroGrad();
            var o2 = model.Call(x);
            var l = loss switch { "ce" => Functional.CrossEntropy(o2, y), "bce" => Functional.BinaryCrossEntropyWithLogits(o2, y), _ => Functional.MseLoss(o2, y) };
            l.Backward();
            optimizer.Step();
        }
        double s = Timing.MedianSeconds(Step, o.Reps);
        const int steps = 200;
        var (bytesPerStep, gen2s) = Timing.Allocation(Step, warmup: 50, steps);
        double sps = batch / s;
        results.Add(new BenchResult(label, sps, "samples/s"));
        results.Add(new BenchResult(label + " bytes/step", bytesPerStep, "bytes"));
        results.Add(new BenchResult(label + " gen2", gen2s, "collections"));
        if (!o.Json) Console.WriteLine($"{label,-34} kindling {sps,10:N0} samples/s   {bytesPerStep / 1024,8:F1} KiB allocated/step   gen-2 GCs in {steps} steps: {gen2s}");
    }
}
