using System.Diagnostics;
using Kindling.Data;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Bench;

/// <summary>
/// The library's DataLoader over a large uint8 image tensor (default 2.0 GB: 2,550,000 × 784 bytes, Fashion-MNIST-shaped
/// rows; <c>KINDLING_LOADER_GB</c> sets another size): the MLP 784-256-128-10 trains 500 shuffled batches of 256 with
/// Adam, each batch converted to float32 (/ 255) as it is collated. Reports the process's peak working set against the
/// data's size (a float32 copy would add 4× the bytes) and the samples per second. bench/torch_memory.py loader is the
/// PyTorch twin (a TensorDataset of uint8, each batch converted with xb.float().div(255)).
/// </summary>
public static class LoaderMemoryBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        double gb = double.TryParse(Environment.GetEnvironmentVariable("KINDLING_LOADER_GB"), System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : 2.0;
        const int f = 784;
        int rows = (int)(gb * 1e9 / f);
        var pixels = new byte[(long)rows * f];
        // Fill every page (untouched pages would not count as resident) with cheap pseudo-random bytes.
        uint s = 12345;
        for (long i = 0; i < pixels.Length; i++) { s = s * 1664525 + 1013904223; pixels[i] = (byte)(s >> 24); }
        var labels = Tensor.FromArray(Enumerable.Range(0, rows).Select(i => (long)(i % 10)).ToArray());
        var model = new Sequential(new Linear(f, 256), new ReLU(), new Linear(256, 128), new ReLU(), new Linear(128, 10));
        var opt = new Adam(model.Parameters(), lr: 1e-3);
        var loader = new DataLoader(new TensorDataset(Tensor.FromBytes(pixels, rows, f), labels) { FeatureDivisor = 255 }, 256, shuffle: true, generator: new Generator(0));
        const int steps = 500;
        int done = 0;
        var sw = Stopwatch.StartNew();
        foreach (var (x, y) in loader)
        {
            opt.ZeroGrad();
            Functional.CrossEntropy(model.Call(x), y).Backward();
            opt.Step();
            if (++done == steps) break;
        }
        double seconds = sw.Elapsed.TotalSeconds;
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        GC.KeepAlive(pixels);
        if (!o.Json)
            Console.WriteLine($"loader over {pixels.Length / 1e9:F2} GB of uint8: peak working set {peak / 1e9:F2} GB ({(double)peak / pixels.Length:F2}× the data; a float32 copy alone would be {4.0 * pixels.Length / 1e9:F1} GB), {steps * 256 / seconds:N0} samples/s");
        return
        [
            new BenchResult("data GB (uint8)", pixels.Length / 1e9, "GB"),
            new BenchResult("peak working set GB", peak / 1e9, "GB"),
            new BenchResult("peak / data", (double)peak / pixels.Length, "x"),
            new BenchResult("samples/s", steps * 256 / seconds, "samples/s"),
        ];
    }
}
