using System.Text.Json.Nodes;
using Kindling.Cli;

namespace Kindling.Tests;

/// <summary>
/// The statistics of <c>kindling compare</c>: every figure against scipy 1.10 / scikit-learn 1.2 values committed by
/// tools/parity/gen_compare_stats.py, and the call of a winner on constructed data where the truth is known.
/// </summary>
public class CompareStatisticsTests
{
    private static readonly JsonNode Fx = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "stats", "compare_stats.json")))!;

    private static double[] D(JsonNode n) => n.AsArray().Select(x => x!.GetValue<double>()).ToArray();
    private static void Close(double expected, double actual, double rel, string what) =>
        Assert.True(Math.Abs(expected - actual) <= rel * Math.Max(Math.Abs(expected), 1e-300) || expected == actual, $"{what}: expected {expected:R}, got {actual:R}");

    [Fact]
    public void BinomialMatchesScipyBinomtest()
    {
        foreach (var c in Fx["binomial"]!.AsArray())
        {
            int k = c!["k"]!.GetValue<int>(), n = c["n"]!.GetValue<int>();
            Close(c["p"]!.GetValue<double>(), CompareStatistics.BinomialTwoSided(k, n), 1e-9, $"binomtest({k}, {n})");
        }
        Assert.Equal(1.0, CompareStatistics.BinomialTwoSided(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CompareStatistics.BinomialTwoSided(5, 4));
    }

    [Fact]
    public void StudentTAndSpecialFunctionsMatchScipy()
    {
        // scipy's t.ppf is itself off by up to ~4e-10 in probability (t.sf(t.ppf(0.9, 3), 3) = 0.0999999996394), so the
        // quantiles are compared to 1e-8 relative and, sharper, by how exactly the quantile inverts the tail.
        foreach (var c in Fx["t_quantile"]!.AsArray())
        {
            double p = c!["p"]!.GetValue<double>(), df = c["df"]!.GetValue<double>(), q = CompareStatistics.StudentTQuantile(p, df);
            Close(c["q"]!.GetValue<double>(), q, 1e-8, $"t.ppf {c.ToJsonString()}");
            Close(1 - p, CompareStatistics.StudentTSf(q, df), 1e-11, $"t.sf(t.ppf) {c.ToJsonString()}");
        }
        foreach (var c in Fx["t_sf"]!.AsArray())
            Close(c!["sf"]!.GetValue<double>(), CompareStatistics.StudentTSf(c["t"]!.GetValue<double>(), c["df"]!.GetValue<double>()), 1e-9, $"t.sf {c.ToJsonString()}");
        foreach (var c in Fx["betainc"]!.AsArray())
            Close(c!["v"]!.GetValue<double>(), CompareStatistics.RegularizedIncompleteBeta(c["a"]!.GetValue<double>(), c["b"]!.GetValue<double>(), c["x"]!.GetValue<double>()), 1e-10, $"betainc {c.ToJsonString()}");
        foreach (var c in Fx["gammaln"]!.AsArray())
            Assert.Equal(c!["v"]!.GetValue<double>(), CompareStatistics.LogGamma(c["x"]!.GetValue<double>()), 1e-12 * Math.Max(1, Math.Abs(c["v"]!.GetValue<double>())));
    }

    [Fact]
    public void IntervalsAndPairedTestsMatchScipy()
    {
        foreach (var c in Fx["intervals"]!.AsArray())
        {
            var s = CompareStatistics.Summarize(D(c!["values"]!));
            Close(c["mean"]!.GetValue<double>(), s.Mean, 1e-12, "mean");
            Close(c["std"]!.GetValue<double>(), s.Std, 1e-12, "std (ddof 1)");
            Close(c["lo"]!.GetValue<double>(), s.Lo, 1e-8, "t.interval lo");
            Close(c["hi"]!.GetValue<double>(), s.Hi, 1e-8, "t.interval hi");
        }
        foreach (var c in Fx["paired_t"]!.AsArray())
        {
            var a = D(c!["a"]!); var b = D(c["b"]!);
            var t = CompareStatistics.PairedT(a.Zip(b, (x, y) => x - y).ToList());
            Close(c["p"]!.GetValue<double>(), t.P, 1e-9, "ttest_rel p");
            Close(c["lo"]!.GetValue<double>(), t.Lo, 1e-8, "paired interval lo");
            Close(c["hi"]!.GetValue<double>(), t.Hi, 1e-8, "paired interval hi");
        }
        foreach (var c in Fx["corrected_t"]!.AsArray())
        {
            var t = CompareStatistics.CorrectedResampledT(D(c!["d"]!), c["n_test"]!.GetValue<int>(), c["n_train"]!.GetValue<int>());
            Close(c["p"]!.GetValue<double>(), t.P, 1e-9, "corrected resampled t p");
            Close(c["lo"]!.GetValue<double>(), t.Lo, 1e-8, "corrected resampled t lo");
        }
        foreach (var c in Fx["holm"]!.AsArray())
            Assert.Equal(D(c!["adjusted"]!), CompareStatistics.Holm(D(c["p"]!)), (x, y) => Math.Abs(x - y) < 1e-15);
    }

    [Fact]
    public void RowTestsMatchTheirScipyTwins()
    {
        foreach (var c in Fx["row_vote"]!.AsArray())
        {
            var a = c!["a"]!.AsArray().Select(s => s!.AsArray().Select(v => v!.GetValue<bool>()).ToArray()).ToList();
            var b = c["b"]!.AsArray().Select(s => s!.AsArray().Select(v => v!.GetValue<bool>()).ToArray()).ToList();
            var t = CompareStatistics.RowVoteTest(a, b);
            Assert.Equal(c["favour_a"]!.GetValue<int>(), t.FavourA);
            Assert.Equal(c["favour_b"]!.GetValue<int>(), t.FavourB);
            Close(c["difference"]!.GetValue<double>(), t.Difference, 1e-12, "accuracy difference");
            Close(c["p"]!.GetValue<double>(), t.P, 1e-9, "row vote p");
        }
        foreach (var c in Fx["row_error"]!.AsArray())
        {
            var a = c!["a"]!.AsArray().Select(s => D(s!)).ToList();
            var b = c["b"]!.AsArray().Select(s => D(s!)).ToList();
            var sq = CompareStatistics.RowSquaredErrorTest(a, b);
            Close(c["sq_difference"]!.GetValue<double>(), sq.Difference, 1e-10, "MSE difference");
            Close(c["sq_p"]!.GetValue<double>(), sq.P, 1e-8, "squared-error row test p");
            var ab = CompareStatistics.RowAbsoluteErrorTest(a, b);
            Close(c["abs_p"]!.GetValue<double>(), ab.P, 1e-8, "absolute-error row test p");
        }
    }

    [Fact]
    public void CalibrationMatchesScikitLearnAndNumpy()
    {
        foreach (var c in Fx["calibration"]!.AsArray())
        {
            int k = c!["k"]!.GetValue<int>();
            var probs = D(c["probs"]!);
            var y = c["y"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
            Close(c["log_loss"]!.GetValue<double>(), Calibration.LogLoss(probs, y, k), 1e-12, "log_loss");
            Close(c["brier"]!.GetValue<double>(), Calibration.Brier(probs, y, k), 1e-12, "Brier");
            Close(c["ece"]!.GetValue<double>(), Calibration.Ece(probs, y, k), 1e-12, "ECE");
            if (c["sklearn_binary_brier"] is { } bb) Close(2 * bb.GetValue<double>(), Calibration.Brier(probs, y, k), 1e-12, "2 × brier_score_loss");
        }
    }

    [Fact]
    public void EceOfAConstructedFixtureIsKnown()
    {
        // 100 rows, two classes. 60 rows say 0.75 for their top class and 39 of them are right (accuracy 0.65): gap 0.1.
        // 40 rows say 0.55 and 30 are right (0.75): gap 0.2. ECE = 0.6·0.1 + 0.4·0.2 = 0.14; log-loss and Brier by hand.
        var probs = new List<double>(); var y = new List<long>();
        for (int i = 0; i < 60; i++) { probs.AddRange([0.25, 0.75]); y.Add(i < 39 ? 1 : 0); }
        for (int i = 0; i < 40; i++) { probs.AddRange([0.55, 0.45]); y.Add(i < 30 ? 0 : 1); }
        var p = probs.ToArray(); var t = y.ToArray();
        Assert.Equal(0.14, Calibration.Ece(p, t, 2), 12);
        double ll = (39 * -Math.Log(0.75) + 21 * -Math.Log(0.25) + 30 * -Math.Log(0.55) + 10 * -Math.Log(0.45)) / 100;
        Assert.Equal(ll, Calibration.LogLoss(p, t, 2), 12);
        double brier = (39 * 2 * 0.0625 + 21 * 2 * 0.5625 + 30 * 2 * 0.2025 + 10 * 2 * 0.3025) / 100;
        Assert.Equal(brier, Calibration.Brier(p, t, 2), 12);
        var bins = Calibration.Reliability(p, t, 2).Where(b => b.Count > 0).ToList();
        Assert.Equal([40, 60], bins.Select(b => b.Count));
        Assert.Equal(0.75, bins[0].Accuracy, 12);
        // Perfect calibration: 0.75 confident and right on exactly 75% of rows.
        var q = Enumerable.Repeat(new[] { 0.25, 0.75 }, 40).SelectMany(x => x).ToArray();
        Assert.Equal(0.0, Calibration.Ece(q, Enumerable.Range(0, 40).Select(i => i < 30 ? 1L : 0L).ToArray(), 2), 12);
        Assert.Throws<ArgumentException>(() => Calibration.Ece(q, [0, 1], 2));
    }

    /// <summary>
    /// Rows with a shared difficulty (the same rows are hard for every seed) and a per-seed effect: the setting in which
    /// pooling the discordant pairs of all seeds overstates the evidence.
    /// </summary>
    private static (List<bool[]> A, List<bool[]> B) Simulate(Random rnd, int seeds, int rows, double accA, double accB, double seedSd = 0.01)
    {
        var hard = Enumerable.Range(0, rows).Select(_ => rnd.NextDouble()).ToArray();
        List<bool[]> Draw(double acc) => Enumerable.Range(0, seeds).Select(_ =>
        {
            double shift = seedSd * Normal(rnd);
            // A row is right when its difficulty is below the accuracy, except for a 10% per-seed coin flip near the edge.
            return hard.Select(h => rnd.NextDouble() < 0.1 ? rnd.NextDouble() < acc + shift : h < acc + shift).ToArray();
        }).ToList();
        return (Draw(accA), Draw(accB));
    }

    private static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    private static (double P, int Better) CallPair(List<bool[]> a, List<bool[]> b)
    {
        var row = CompareStatistics.RowVoteTest(a, b);
        var seed = CompareStatistics.PairedT(a.Zip(b, (x, y) => x.Average(v => v ? 1.0 : 0) - y.Average(v => v ? 1.0 : 0)).ToList());
        return CompareStatistics.Call([(row, seed)], higherIsBetter: true, rowIsError: false, resplit: false, seeds: a.Count)[0];
    }

    [Fact]
    public void IdenticalLossesAreNeverCalled()
    {
        var rnd = new Random(1);
        var (a, _) = Simulate(rnd, 5, 360, 0.96, 0.96);
        var same = CallPair(a, a.Select(x => (bool[])x.Clone()).ToList());
        Assert.Equal(0, same.Better);
        Assert.Equal(1.0, same.P);
        // Two losses with the same accuracy, 300 replications: the call rate must stay at or below α (5%).
        int called = 0, pooledCalled = 0;
        for (int rep = 0; rep < 300; rep++)
        {
            var (x, y) = Simulate(rnd, 5, 360, 0.95, 0.95);
            if (CallPair(x, y).Better != 0) called++;
            // The tempting alternative, McNemar on the discordant pairs pooled over seeds, for contrast.
            int b = x.Zip(y).Sum(s => s.First.Zip(s.Second).Count(z => z.First && !z.Second)), c = x.Zip(y).Sum(s => s.First.Zip(s.Second).Count(z => !z.First && z.Second));
            if (CompareStatistics.BinomialTwoSided(b, b + c) < 0.05) pooledCalled++;
        }
        Assert.True(called <= 15, $"{called} of 300 equal pairs were called (α = 5% allows about 15)");
        Assert.True(pooledCalled > called, $"pooled McNemar called {pooledCalled}, the row vote {called}: the design should matter here");
    }

    [Fact]
    public void AClearlyBetterLossIsCalledEveryTime()
    {
        var rnd = new Random(2);
        for (int rep = 0; rep < 40; rep++)
        {
            var (a, b) = Simulate(rnd, 5, 360, 0.97, 0.88);
            var call = CallPair(b, a); // the better loss second: the sign must follow it
            Assert.True(call.Better == -1, $"replication {rep}: p = {call.P}, better = {call.Better}");
        }
        // Regression: residuals of A half those of B; RMSE lower is better and the row test's difference is in squared error.
        var ea = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 200).Select(_ => 0.5 * Normal(rnd)).ToArray()).ToList();
        var eb = ea.Select(s => s.Select(v => 2 * v + 0.3 * Normal(rnd)).ToArray()).ToList();
        var row = CompareStatistics.RowSquaredErrorTest(ea, eb);
        var seed = CompareStatistics.PairedT(ea.Zip(eb, (x, y) => Math.Sqrt(x.Average(v => v * v)) - Math.Sqrt(y.Average(v => v * v))).ToList());
        var r = CompareStatistics.Call([(row, seed)], higherIsBetter: false, rowIsError: true, resplit: false, seeds: 5)[0];
        Assert.Equal(1, r.Better);
        Assert.True(r.P < 1e-3, $"p = {r.P}");
    }

    [Fact]
    public void TheCallNeedsBothTestsToAgree()
    {
        var strongRow = new PairedTest(0.01, 1e-6, 40, 35, 5);
        var weakSeed = new PairedTest(0.01, 0.2, 5);
        var againstSeed = new PairedTest(-0.01, 1e-4, 5);
        var calls = CompareStatistics.Call([(strongRow, weakSeed), (strongRow, againstSeed), (strongRow, new PairedTest(0.01, 1e-4, 5))], true, false, false, 5);
        Assert.Equal(0, calls[0].Better);
        Assert.Equal(0.2, calls[0].P, 12); // Holm: the larger of the pair's p-values (the largest of three raw p-values keeps its own)
        Assert.Equal(0, calls[1].Better);      // the seeds point the other way
        Assert.Equal(1, calls[2].Better);
        // One seed: the row test decides; --resplit: the seed test decides.
        Assert.Equal(1, CompareStatistics.Call([(strongRow, new PairedTest(0.01, double.NaN, 1))], true, false, false, 1)[0].Better);
        Assert.Equal(-1, CompareStatistics.Call([(default, againstSeed)], true, false, true, 5)[0].Better);
    }

    [Fact]
    public void EpochsToReachFindsTheFirstCrossing()
    {
        Assert.Equal(3, CompareStatistics.EpochsToReach([0.5, 0.8, 0.93, 0.91, 0.97], 0.92, true));
        Assert.Null(CompareStatistics.EpochsToReach([0.5, 0.8], 0.92, true));
        Assert.Equal(2, CompareStatistics.EpochsToReach([9.0, 4.0, 3.0], 4.2, false));
        Assert.Equal(2, CompareStatistics.EpochsToReach([double.NaN, 4.0], 4.0, false));
    }
}
