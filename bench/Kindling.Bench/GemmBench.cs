using Kindling.Kernels;

namespace Kindling.Bench;

/// <summary>SGEMM throughput; shapes and labels match bench/torch_gemm.py.</summary>
public static class GemmBench
{
    // (label, transA, transB, m, n, k): op(A) is m×k, op(B) is k×n.
    public static readonly (string Label, bool TransA, bool TransB, int M, int N, int K)[] Shapes =
    [
        ("gemm 64x64x64", false, false, 64, 64, 64),
        ("gemm 256x256x256", false, false, 256, 256, 256),
        ("gemm 1024x1024x1024", false, false, 1024, 1024, 1024),
        ("gemm 2048x2048x2048", false, false, 2048, 2048, 2048),
        // MLP step, batch 128, 784 → 256: Y = X·W, dX = G·Wᵀ, dW = Xᵀ·G.
        ("mlp-fwd 128x256x784", false, false, 128, 256, 784),
        ("linear-fwd 128x256x784 NT", false, true, 128, 256, 784), // nn.Linear: x·Wᵀ with W stored (out, in)
        ("mlp-dX 128x784x256 NT", false, true, 128, 784, 256),
        ("mlp-dW 784x256x128 TN", true, false, 784, 256, 128),
    ];

    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        foreach (var (label, ta, tb, m, n, k) in Shapes)
        {
            if (!o.Selected(label))
                continue;
            var rng = new Random(1);
            float[] a = RandomArray(rng, m * k), b = RandomArray(rng, k * n), c = new float[m * n];
            int lda = ta ? m : k, ldb = tb ? k : n;
            double seconds = Timing.MedianSeconds(
                () => Gemm.Sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n), o.Reps);
            double gflops = 2.0 * m * n * k / seconds / 1e9;
            results.Add(new BenchResult(label, gflops, "GFLOP/s"));
            if (!o.Json)
                Console.WriteLine($"{label,-26} kindling {gflops,8:F1} GFLOP/s");
        }
        return results;
    }

    private static float[] RandomArray(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
