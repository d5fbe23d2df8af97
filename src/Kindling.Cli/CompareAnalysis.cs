using System.Globalization;

namespace Kindling.Cli;

/// <summary>A metric of the comparison: its key in <see cref="SeedRun.Metrics"/>, how it reads, and which way is better.</summary>
public sealed record CompareMetric(string Key, string Label, bool HigherIsBetter, bool Percent);

/// <summary>One loss over its seeds: every metric's interval, learning speed, and pooled calibration or residuals.</summary>
public sealed class LossSummary
{
    public required string Loss { get; init; }
    public Dictionary<string, Interval> Metrics { get; } = [];
    /// <summary>Epochs to reach the speed target at each seed (+∞ when never reached).</summary>
    public required double[] EpochsToTarget { get; init; }
    public List<ReliabilityBin>? Bins { get; init; }
    public double[]? Residuals { get; init; }
    public double MedianEpochs
    {
        get
        {
            var s = EpochsToTarget.Order().ToArray();
            return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
        }
    }
}

/// <summary>
/// A pair of losses: the row test, the seed test, the p-value of the call (the larger of the two, Holm-adjusted over the
/// pairs: an intersection–union test, significant only when both are), and which loss is better when it is significant.
/// </summary>
public sealed record PairResult(string A, string B, PairedTest Row, PairedTest Seed, double P, bool Significant, string? Better,
    Dictionary<string, PairedTest> Secondary);

public sealed class CompareResult
{
    public required CompareMetric Main { get; init; }
    public required List<CompareMetric> Metrics { get; init; }
    public required List<LossSummary> Losses { get; init; }
    public required List<PairResult> Pairs { get; init; }
    /// <summary>The loss significantly better than every other, or null.</summary>
    public string? Winner { get; init; }
    public string SummaryLine { get; set; } = "";
    public required string SpeedDefinition { get; init; }
    /// <summary>Regression: what the target's tails mean for the choice of loss; <see cref="HeavyTails"/> makes it a warning.</summary>
    public string? TailNote { get; init; }
    public bool HeavyTails { get; init; }
    public List<string> Notes { get; init; } = [];
    public int Seeds { get; init; }
    public bool Resplit { get; init; }
}

/// <summary>The statistics of a comparison, and the one summary line drawn from them.</summary>
public static class CompareAnalysis
{
    /// <summary>Learning speed: epochs until the validation metric first reaches this fraction of the best reached at that seed.</summary>
    public const double SpeedFraction = 0.95;

    public static List<CompareMetric> MetricsFor(string task) => task switch
    {
        "classification" or "binary" => [new("accuracy", "accuracy", true, true), new("log_loss", "log-loss", false, false), new("brier", "Brier", false, false), new("ece", "ECE", false, false)],
        "multilabel" => [new("subset_accuracy", "subset accuracy", true, true), new("hamming_accuracy", "Hamming accuracy", true, true)],
        _ => [new("rmse", "RMSE", false, false), new("mae", "MAE", false, false), new("r2", "R²", true, false)],
    };

    public static CompareResult Analyze(List<SeedRun> runs, string[] losses, Problem p, bool resplit)
    {
        var metrics = MetricsFor(p.Task);
        var main = metrics[0];
        int seeds = runs.Max(r => r.SeedIndex) + 1;
        var by = losses.ToDictionary(l => l, l => runs.Where(r => r.Loss == l).OrderBy(r => r.SeedIndex).ToList());
        foreach (var (l, rs) in by)
            if (rs.Count != seeds) throw new InvalidOperationException($"compare: {l} has {rs.Count} runs for {seeds} seeds.");
        bool hasVal = runs.All(r => r.R.Epochs.All(e => !double.IsNaN(e.ValMetric)));
        bool higher = main.HigherIsBetter;
        // The speed target per seed: a fraction of the best validation figure any loss reached at that seed, so every
        // loss is timed against the same bar (for a lower-is-better metric: the best divided by the fraction).
        var target = Enumerable.Range(0, seeds).Select(s =>
        {
            var all = runs.Where(r => r.SeedIndex == s).SelectMany(r => r.Curve).Where(double.IsFinite).ToArray();
            double best = higher ? all.Max() : all.Min();
            return higher ? SpeedFraction * best : best / SpeedFraction;
        }).ToArray();
        var summaries = losses.Select(l =>
        {
            var rs = by[l];
            var sum = new LossSummary
            {
                Loss = l,
                EpochsToTarget = rs.Select(r => CompareStatistics.EpochsToReach(r.Curve, target[r.SeedIndex], higher) is { } e ? e : double.PositiveInfinity).ToArray(),
                Bins = p.IsClassLike ? PooledBins(rs) : null,
                Residuals = p.Task == "regression" ? rs.SelectMany(r => r.Residuals!).ToArray() : null,
            };
            foreach (var m in metrics) sum.Metrics[m.Key] = CompareStatistics.Summarize(rs.Select(r => r.Metrics[m.Key]).ToList());
            sum.Metrics["epochs_to_target"] = CompareStatistics.Summarize(sum.EpochsToTarget);
            sum.Metrics["seconds"] = CompareStatistics.Summarize(rs.Select(r => r.R.Seconds).ToList());
            return sum;
        }).ToList();

        var raw = new List<(string A, string B, PairedTest Row, PairedTest Seed, Dictionary<string, PairedTest> Sec)>();
        for (int i = 0; i < losses.Length; i++)
            for (int j = i + 1; j < losses.Length; j++)
            {
                List<SeedRun> a = by[losses[i]], b = by[losses[j]];
                PairedTest row = resplit ? default : p.Task == "regression"
                    ? CompareStatistics.RowSquaredErrorTest(a.Select(r => r.Residuals!).ToList(), b.Select(r => r.Residuals!).ToList())
                    : CompareStatistics.RowVoteTest(a.Select(r => r.Right!).ToList(), b.Select(r => r.Right!).ToList());
                var d = a.Zip(b, (x, y) => x.Metrics[main.Key] - y.Metrics[main.Key]).ToList();
                var seed = resplit ? CompareStatistics.CorrectedResampledT(d, p.XTest.Size(0), p.XTrain.Size(0)) : CompareStatistics.PairedT(d);
                var sec = new Dictionary<string, PairedTest>();
                foreach (var m in metrics.Skip(1)) sec[m.Key] = CompareStatistics.PairedT(a.Zip(b, (x, y) => x.Metrics[m.Key] - y.Metrics[m.Key]).ToList());
                var ea = summaries[i].EpochsToTarget; var eb = summaries[j].EpochsToTarget;
                var both = ea.Zip(eb).Where(z => double.IsFinite(z.First) && double.IsFinite(z.Second)).Select(z => z.First - z.Second).ToList();
                sec["epochs_to_target"] = CompareStatistics.PairedT(both);
                if (p.Task == "regression" && !resplit)
                    sec["mae_rows"] = CompareStatistics.RowAbsoluteErrorTest(a.Select(r => r.Residuals!).ToList(), b.Select(r => r.Residuals!).ToList());
                raw.Add((losses[i], losses[j], row, seed, sec));
            }
        var calls = CompareStatistics.Call(raw.Select(x => (x.Row, x.Seed)).ToList(), higher, p.Task == "regression", resplit, seeds);
        var pairs = raw.Select((x, k) => new PairResult(x.A, x.B, x.Row, x.Seed, calls[k].P, calls[k].Better != 0,
            calls[k].Better > 0 ? x.A : calls[k].Better < 0 ? x.B : null, x.Sec)).ToList();
        string? winner = losses.FirstOrDefault(l => pairs.Where(q => q.A == l || q.B == l).All(q => q.Better == l));
        if (losses.Length < 2) winner = null;
        var notes = new List<string>();
        if (seeds < 2) notes.Add("one seed: the difference between seeds is not measured (no interval); --seeds 5 or more gives one.");
        if (!hasVal) notes.Add("no validation split (--val-split 0): learning speed is read from the training metric.");
        string speedDef = $"epochs until the {(hasVal ? "validation" : "training")} {main.Label} first reaches {(higher ? $"{SpeedFraction * 100:F0}% of" : $"within {(1 / SpeedFraction - 1) * 100:F1}% of")} the best any loss reached at that seed";
        var result = new CompareResult
        {
            Main = main, Metrics = metrics, Losses = summaries, Pairs = pairs, Winner = winner, Seeds = seeds, Resplit = resplit, Notes = notes,
            SpeedDefinition = speedDef, TailNote = TailNote(p, out bool heavy), HeavyTails = heavy,
        };
        result.SummaryLine = CompareSummary.Line(result, p);
        return result;
    }

    private static List<ReliabilityBin> PooledBins(List<SeedRun> rs)
    {
        int k = rs[0].Probs!.Length / rs[0].Truth!.Length;
        return Calibration.Reliability(rs.SelectMany(r => r.Probs!).ToArray(), rs.SelectMany(r => r.Truth!).ToArray(), k);
    }

    /// <summary>Excess kurtosis (0 for a normal distribution) of <paramref name="v"/>.</summary>
    public static double ExcessKurtosis(IReadOnlyList<double> v)
    {
        double m = v.Average();
        double m2 = v.Average(x => (x - m) * (x - m)), m4 = v.Average(x => Math.Pow(x - m, 4));
        return m2 == 0 ? 0 : m4 / (m2 * m2) - 3;
    }

    /// <summary>
    /// Regression: what the target's tails mean for the choice. The training target's excess kurtosis above 3 (a Laplace
    /// distribution has 3, a normal 0) marks heavy tails, where MSE is pulled by the few largest errors.
    /// </summary>
    private static string? TailNote(Problem p, out bool heavy)
    {
        heavy = false;
        if (p.Task != "regression" || p.YTrain.Rank != 1) return null;
        var y = p.YTrain.ToArray().Select(v => (double)v).ToArray();
        double k = ExcessKurtosis(y);
        string ks = k.ToString("F1", CultureInfo.InvariantCulture);
        heavy = k > 3;
        if (heavy)
            return $"the target is heavy-tailed (excess kurtosis {ks}; a normal distribution has 0): MSE is pulled by the few largest errors and is what minimises RMSE, while L1 fits the median and Huber sits between them, so on such data the winner depends on the metric — RMSE favours MSE, MAE favours L1/Huber. Choose the loss whose error matters to you.";
        return $"the target's tails are light (excess kurtosis {ks}; a normal distribution has 0): MSE, L1 and Huber estimate nearly the same centre here, so differences between them come mostly from optimisation, not from outliers.";
    }
}
