using Kindling.NN;

namespace Kindling.Tests;

[CollectionDefinition("Allocation window", DisableParallelization = true)]
public sealed class AllocationWindowCollection;

/// <summary>
/// The attention kernel's memory does not grow with L·S. It counts the process's allocations, so it runs alone (a
/// collection without parallelisation): a test running beside it would be counted too.
/// </summary>
[Collection("Allocation window")]
public class AttentionMemoryTests
{
    [Fact]
    public void LongSequencesDoNotMaterialiseTheScoreMatrix()
    {
        // L = S = 2048: one L×S float32 matrix per head is 16 MiB; forward and backward together allocate far less.
        const int L = 2048, E = 16;
        var g = new Generator(3);
        var q = Tensor.Randn([1, 1, L, E], g).RequiresGrad_(); var k = Tensor.Randn([1, 1, L, E], g).RequiresGrad_(); var v = Tensor.Randn([1, 1, L, E], g).RequiresGrad_();
        var gy = Tensor.Randn([1, 1, L, E], g);
        Functional.ScaledDotProductAttention(q, k, v, isCausal: true).Backward(gy); // warm: JIT, pool, per-thread tiles
        q.Grad = k.Grad = v.Grad = null;
        long before = GC.GetTotalAllocatedBytes(true);
        var y = Functional.ScaledDotProductAttention(q, k, v, isCausal: true);
        y.Backward(gy);
        long allocated = GC.GetTotalAllocatedBytes(true) - before;
        Assert.True(allocated < 4L << 20, $"forward + backward allocated {allocated / 1024} KiB; the score matrix alone is {L * L * 4 / 1024} KiB");
        // And the values are attention's: against the materialised formula on the last rows.
        using (Autograd.NoGrad())
        {
            var (expected, _) = Functional.AttentionMath(q.Narrow(2, L - 8, 8).ToFloat64(), k.ToFloat64(), v.ToFloat64(), null, true, L - 8, 0, null);
            var got = y.Narrow(2, L - 8, 8).ToFloat64();
            Assert.True((expected - got).Abs().Max().ItemDouble() < 1e-5);
        }
    }

}
