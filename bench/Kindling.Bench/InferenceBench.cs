using Kindling.NN;

namespace Kindling.Bench;

/// <summary>
/// Inference throughput under no-grad in eval mode: the Fashion-MNIST MLP (784→256→128→10) and the reference CNN of
/// <see cref="CnnBench"/>, at batch 1, 64 and 4096 (samples/s; batch 1 is latency-bound, 4096 throughput-bound).
/// Labels match bench/torch_bench.py's <c>inference</c> mode.
/// </summary>
public static class InferenceBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        var g = new Generator(1);
        var mlp = new Sequential(
            new Linear(784, 256, generator: g), new ReLU(),
            new Linear(256, 128, generator: g), new ReLU(),
            new Linear(128, 10, generator: g));
        var cnn = CnnBench.Model(g);
        foreach (int batch in new[] { 1, 64, 4096 })
        {
            Case(o, results, $"infer mlp 784-256-128-10 b{batch}", mlp, Tensor.Randn([batch, 784], g));
            Case(o, results, $"infer cnn b{batch}", cnn, Tensor.Randn([batch, 1, 28, 28], g));
        }
        return results;
    }

    private static void Case(BenchOptions o, List<BenchResult> results, string label, Module model, Tensor x)
    {
        if (!o.Selected(label)) return;
        model.Eval();
        double s = Timing.MedianSeconds(() => { using (Autograd.NoGrad()) model.Call(x); }, o.Reps);
        model.Train();
        double sps = x.Size(0) / s;
        results.Add(new BenchResult(label, sps, "samples/s"));
        if (!o.Json) Console.WriteLine($"{label,-34} kindling {sps,12:N0} samples/s  ({s * 1e3:F3} ms per call)");
    }
}
