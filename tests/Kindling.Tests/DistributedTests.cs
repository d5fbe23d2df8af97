using System.Globalization;
using Kindling.Data;
using Kindling.Distributed;
using Xunit.Abstractions;

namespace Kindling.Tests;

/// <summary>
/// Data-parallel training on Open MPI: the binding's collectives, exact equivalence of N-process training with one
/// process (N = 2, 3: shards of unequal size), and bounded-time failure when a rank dies or hangs. These run the worker
/// program (tests/Kindling.Distributed.Worker) under mpirun.
/// </summary>
public class DistributedTests(ITestOutputHelper log)
{
    private static string Worker()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        var p = Path.Combine(Repo.Root, "tests", "Kindling.Distributed.Worker", "bin", config, "net10.0", "Kindling.Distributed.Worker.dll");
        return File.Exists(p) ? p : throw new FileNotFoundException("the distributed test worker was not built", p);
    }

    private static string Tmp(string name) => Path.Combine(Path.GetTempPath(), "kindling-dist-" + name + "-" + Guid.NewGuid().ToString("N")[..8] + ".txt");

    [MpiTheory]
    [InlineData(2)]
    [InlineData(3)]
    public void CollectivesGiveExactResultsOnEveryRank(int np)
    {
        var r = MpiRun.Run(np, Worker(), ["collectives"]);
        Assert.True(r.Code == 0, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        Assert.Contains($"collectives ok on {np} ranks", r.Out);
    }

    /// <summary>
    /// 200 steps with global batch 128 on N ranks against one process: every step's loss within 1e-5 relative for the
    /// first 50 steps and 1e-3 up to 200; final logits within float32 drift and the same predicted classes except
    /// where two logits of a sample are closer than that drift. The worker also checks the replicas stay identical.
    /// </summary>
    [MpiTheory]
    [InlineData(2, "plain")]
    [InlineData(3, "plain")]
    [InlineData(2, "syncbn")]
    [InlineData(3, "syncbn")]
    public void TrainingOnNRanksEqualsOneProcess(int np, string model)
    {
        string one = Tmp("one"), many = Tmp("many");
        var r1 = MpiRun.Run(0, Worker(), ["train", one, "200", model, "-"]);
        Assert.True(r1.Code == 0, r1.Err);
        var rn = MpiRun.Run(np, Worker(), ["train", many, "200", model, "-"]);
        Assert.True(rn.Code == 0, $"exit {rn.Code}\n{rn.Out}\n{rn.Err}");
        var (l1, z1) = Read(one);
        var (ln, zn) = Read(many);
        Assert.Equal(200, l1.Length);
        Assert.Equal(200, ln.Length);
        double drift50 = 0, drift200 = 0;
        for (int i = 0; i < 200; i++)
        {
            double rel = Math.Abs(l1[i] - ln[i]) / Math.Abs(l1[i]);
            if (i < 50) drift50 = Math.Max(drift50, rel);
            drift200 = Math.Max(drift200, rel);
        }
        double logitDrift = z1.Zip(zn, (a, b) => Math.Abs(a - b)).Max();
        log.WriteLine($"{np} ranks, {model}: max relative loss drift {drift50:E2} (steps 1-50), {drift200:E2} (1-200); max logit difference {logitDrift:E2}");
        Assert.True(drift50 <= 1e-5, $"loss drift {drift50:E2} over the first 50 steps");
        Assert.True(drift200 <= 1e-3, $"loss drift {drift200:E2} over 200 steps");
        // Same predicted class for every sample, except where its two best logits are within twice the drift.
        int samples = z1.Length / 10, differ = 0, ties = 0;
        for (int s = 0; s < samples; s++)
        {
            var a = z1.AsSpan(s * 10, 10).ToArray();
            var b = zn.AsSpan(s * 10, 10).ToArray();
            int ia = Array.IndexOf(a, a.Max()), ib = Array.IndexOf(b, b.Max());
            if (ia == ib) continue;
            if (Math.Abs(a[ia] - a[ib]) <= 2 * logitDrift) ties++; else differ++;
        }
        Assert.Equal(0, differ);
        Assert.True(ties <= 2, $"{ties} near-ties changed class");
        Assert.True(logitDrift < 1e-3, $"final logits differ by {logitDrift:E2}");
    }

    private static (double[] Losses, double[] Logits) Read(string path)
    {
        var lines = File.ReadAllLines(path);
        int i = Array.IndexOf(lines, "logits");
        double P(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return (lines[..i].Select(P).ToArray(), lines[(i + 1)..].Where(l => l.Length > 0).Select(P).ToArray());
    }

    [MpiFact]
    public void ARankThatDiesEndsTheJobQuickly()
    {
        var r = MpiRun.Run(2, Worker(), ["throw"], timeoutSeconds: 120);
        Assert.NotEqual(0, r.Code);
        Assert.Contains("rank 1 fails on purpose", r.Err + r.Out);
        Assert.DoesNotContain("allreduce completed", r.Out);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(60), $"took {r.Elapsed.TotalSeconds:F0}s");
    }

    [MpiFact]
    public void ARankThatHangsIsCaughtByTheWatchdog()
    {
        var r = MpiRun.Run(2, Worker(), ["hang"], new() { ["KINDLING_DIST_TIMEOUT"] = "3" }, timeoutSeconds: 120);
        Assert.NotEqual(0, r.Code);
        Assert.Contains("rank 0/2: allreduce waited", r.Err + r.Out);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(60), $"took {r.Elapsed.TotalSeconds:F0}s");
    }

    // ---- Without MPI: the single-process path and the sampler ----

    [Fact]
    public void WithoutMpirunTheProcessIsRankZeroOfOne()
    {
        if (Distributed.Distributed.UnderMpirun) return; // the suite itself was started by mpirun: nothing to check here
        Distributed.Distributed.Init();
        Assert.Equal(0, Distributed.Distributed.Rank);
        Assert.Equal(1, Distributed.Distributed.WorldSize);
        Assert.True(Distributed.Distributed.IsMain);
        var buf = new[] { 1f, 2f };
        Distributed.Distributed.AllReduceSum(buf.AsSpan());
        Assert.Equal([1f, 2f], buf);
        Assert.Equal([5L, 6L], Distributed.Distributed.AllGather<long>([5L, 6L]));
    }

    [Theory]
    [InlineData(1000, 128, 2, true)]
    [InlineData(1000, 128, 3, true)]
    [InlineData(1000, 100, 4, false)]
    [InlineData(10, 4, 3, true)] // the last global batch (2 samples) leaves rank 2 an empty shard
    public void ShardsOfEachGlobalBatchUniteToTheSingleProcessBatch(int n, int batch, int world, bool shuffle)
    {
        var single = new DistributedSampler(n, batch, 1, 0, shuffle, seed: 5);
        var ranks = Enumerable.Range(0, world).Select(r => new DistributedSampler(n, batch, world, r, shuffle, seed: 5)).ToArray();
        for (int epoch = 0; epoch < 3; epoch++)
        {
            single.SetEpoch(epoch);
            foreach (var s in ranks) s.SetEpoch(epoch);
            var whole = single.Batches().ToList();
            var shards = ranks.Select(s => s.Batches().ToList()).ToArray();
            Assert.All(shards, s => Assert.Equal(whole.Count, s.Count));
            for (int b = 0; b < whole.Count; b++)
            {
                Assert.Equal(whole[b], shards.SelectMany(s => s[b]).ToArray());
                var sizes = shards.Select(s => s[b].Length).ToArray();
                Assert.True(sizes.Max() - sizes.Min() <= 1, $"unbalanced shards {string.Join(",", sizes)}");
            }
        }
        Assert.Equal([43, 43, 42], Enumerable.Range(0, 3).Select(r => DistributedSampler.Shard(128, 3, r).Length));
    }

    [Fact]
    public void EpochOrderDependsOnlyOnSeedAndEpoch()
    {
        var a = new DistributedSampler(500, 64, shuffle: true, seed: 9);
        var b = new DistributedSampler(500, 64, shuffle: true, seed: 9);
        a.SetEpoch(1); a.SetEpoch(2); a.SetEpoch(3);
        b.SetEpoch(3);
        Assert.Equal(a.Order, b.Order);
        Assert.Equal(Tensor.RandPerm(500, new Generator(DistributedSampler.EpochSeed(9, 3))).ToInt64Array().Select(v => (int)v), b.Order);
        b.SetEpoch(3, startBatch: 5);
        Assert.Equal(a.Batches().Skip(5).SelectMany(x => x), b.Batches().SelectMany(x => x));
        var c = new DistributedSampler(7, 3, shuffle: false);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], c.Batches().SelectMany(x => x));
    }

    [Fact]
    public void DataLoaderCollatesTheSamplersShards()
    {
        var x = Tensor.Arange(20, DType.Float32).Reshape(10, 2);
        var y = Tensor.Arange(10, DType.Int64);
        var sampler = new DistributedSampler(10, 4, worldSize: 2, rank: 1, shuffle: true, seed: 3);
        var loader = new DataLoader(new TensorDataset(x, y), sampler);
        Assert.Equal(3, loader.Count);
        var ys = loader.Select(b => b.Y.ToInt64Array()).ToList();
        Assert.Equal(sampler.Batches().Select(i => i.Select(v => (long)v).ToArray()), ys);
        Assert.Throws<ArgumentException>(() => new DataLoader(new TensorDataset(x, y), new DistributedSampler(11, 4)));
    }

    [Fact]
    public void SamplerArgumentsAreChecked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 2, worldSize: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 4, worldSize: 2, rank: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DistributedDataParallel.Share(5, 4));
    }
}
