using System.Diagnostics;
using Kindling.Data;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Bench;

/// <summary>
/// Time to accuracy: the Fashion-MNIST MLP 784→256→128→10 (ReLU), Adam 1e-3, batch 128, shuffled every epoch, pixels
/// scaled to [0, 1], trained until its accuracy on the official 10,000-image test set reaches 88% (checked after every
/// epoch, at most 30 epochs). Reports the wall-clock seconds of training alone (the test evaluations are timed apart
/// and excluded, as in bench/torch_bench.py's <c>tta</c> mode) and the number of epochs. Repetitions use seeds 1, 2, …
/// and the median of each figure is reported, since both the epoch count and the time depend on the seed.
/// </summary>
public static class TimeToAccuracyBench
{
    public const double Target = 0.88;

    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        if (!o.Selected("tta")) return results;
        var train = FashionMnist.Load(train: true);
        var test = FashionMnist.Load(train: false);
        int reps = Math.Max(1, Math.Min(o.Reps, 5));
        var seconds = new double[reps];
        var epochs = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            (seconds[r], epochs[r], double acc) = Once(train, test, seed: (ulong)(r + 1));
            if (!o.Json) Console.WriteLine($"tta seed {r + 1}: {epochs[r]} epochs, {seconds[r]:F2} s of training, test accuracy {acc:P2}");
        }
        Array.Sort(seconds); Array.Sort(epochs);
        results.Add(new BenchResult("tta fashion mlp 88% seconds", seconds[reps / 2], "s"));
        results.Add(new BenchResult("tta fashion mlp 88% epochs", epochs[reps / 2], "epochs"));
        return results;
    }

    private static (double Seconds, double Epochs, double Accuracy) Once(TensorDataset train, TensorDataset test, ulong seed)
    {
        var g = new Generator(seed);
        var model = new Sequential(
            new Linear(784, 256, generator: g), new ReLU(),
            new Linear(256, 128, generator: g), new ReLU(),
            new Linear(128, 10, generator: g));
        var opt = new Adam(model.Parameters(), 1e-3);
        var loader = new DataLoader(train, 128, shuffle: true, generator: g);
        var (testX, testY) = (test.Features, test.Targets);
        double trainSeconds = 0, acc = 0;
        for (int epoch = 1; epoch <= 30; epoch++)
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Train();
            foreach (var (x, y) in loader)
            {
                opt.ZeroGrad();
                Functional.CrossEntropy(model.Call(x), y).Backward();
                opt.Step();
            }
            trainSeconds += Stopwatch.GetElapsedTime(t0).TotalSeconds;
            model.Eval();
            using (Autograd.NoGrad())
                acc = Accuracy(model, testX, testY);
            if (acc >= Target) return (trainSeconds, epoch, acc);
        }
        return (trainSeconds, double.NaN, acc);
    }

    private static double Accuracy(Module model, Tensor x, Tensor y)
    {
        int n = x.Size(0), correct = 0;
        for (int start = 0; start < n; start += 1000)
        {
            int len = Math.Min(1000, n - start);
            var pred = model.Call(x.Narrow(0, start, len)).ArgMax(1).ToInt64Array();
            var truth = y.Narrow(0, start, len).ToInt64Array();
            for (int i = 0; i < len; i++) if (pred[i] == truth[i]) correct++;
        }
        return correct / (double)n;
    }
}
