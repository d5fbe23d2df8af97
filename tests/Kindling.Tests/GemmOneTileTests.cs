using Kindling.Kernels;

namespace Kindling.Tests;

/// <summary>A product with one tile in each direction but enough work to take the threaded path.</summary>
public class GemmOneTileTests
{
    [Fact]
    public void OneTileProductAfterHelpersWentToSleepIsComputedInline()
    {
        // A large product wakes the helper threads; after a pause they sleep again. A 4×4 product with a long inner
        // dimension then leaves one tile to share: it used to ask the semaphore to wake zero helpers and throw.
        int big = 256;
        var a = new float[big * big]; var b = new float[big * big]; var c = new float[big * big];
        Gemm.Sgemm(false, false, big, big, big, 1f, a, big, b, big, 0f, c, big);
        Thread.Sleep(50);
        int k = 100_000;
        var x = Enumerable.Range(0, 4 * k).Select(i => (float)(i % 7 - 3)).ToArray();
        var y = Enumerable.Range(0, k * 4).Select(i => (float)(i % 5 - 2)).ToArray();
        var z = new float[16];
        Gemm.Sgemm(false, false, 4, 4, k, 1f, x, k, y, 4, 0f, z, 4);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                double s = 0;
                for (int t = 0; t < k; t++) s += x[i * k + t] * (double)y[t * 4 + j];
                Assert.Equal(s, z[i * 4 + j], 1e-1);
            }
    }
}
