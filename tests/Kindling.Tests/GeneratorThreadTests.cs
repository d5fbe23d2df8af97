namespace Kindling.Tests;

/// <summary>
/// A generator shared between threads (as <see cref="Generator.Default"/> is, by every layer built without one) neither
/// tears its state nor interleaves one operation's draws with another's, as PyTorch's generators guarantee.
/// </summary>
public class GeneratorThreadTests
{
    [Fact]
    public void ConcurrentDrawsAreExactlyTheSequentialStream()
    {
        const int threads = 4, per = 20_000;
        var shared = new Generator(123);
        var got = new ulong[threads][];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var mine = new ulong[per];
            for (int i = 0; i < per; i++) mine[i] = shared.NextUInt64();
            got[t] = mine;
        });
        var reference = new Generator(123);
        var expected = Enumerable.Range(0, threads * per).Select(_ => reference.NextUInt64()).Order().ToArray();
        // Without the lock, racing xoshiro updates repeat and lose values, and the multiset differs from the stream.
        Assert.Equal(expected, got.SelectMany(a => a).Order().ToArray());
    }

    [Fact]
    public void EachTensorFillTakesOneUnbrokenStretchOfTheStream()
    {
        const int threads = 4, n = 5_000;
        var shared = new Generator(7);
        var got = new float[threads][];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => got[t] = Tensor.Rand([n], shared).ToArray());
        var reference = new Generator(7);
        var blocks = Enumerable.Range(0, threads).Select(_ => Tensor.Rand([n], reference).ToArray()).ToList();
        foreach (var g in got)
            Assert.Contains(blocks, b => b.SequenceEqual(g));
        Assert.Equal(threads, got.Select(g => blocks.FindIndex(b => b.SequenceEqual(g))).Distinct().Count());
    }

    [Fact]
    public void DefaultGeneratorSurvivesParallelLayerConstruction()
    {
        // Layers built without a generator draw from Generator.Default; from several threads they must still get
        // finite, properly bounded Kaiming-uniform weights (a torn state would not break this, but an exception would).
        var layers = new NN.Linear[8];
        Parallel.For(0, layers.Length, i => layers[i] = new NN.Linear(64, 32));
        double bound = 1 / Math.Sqrt(64);
        foreach (var l in layers) Assert.All(l.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.Equal(layers.Length, layers.Select(l => l.Weight.ToArray()[0]).Distinct().Count());
    }
}
