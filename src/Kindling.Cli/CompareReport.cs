using System.Globalization;
using Kindling.Report;

namespace Kindling.Cli;

/// <summary>The files of a comparison: summary.csv, runs.csv, pairs.csv, the charts and report.html.</summary>
public static class CompareReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static List<(string Key, string Value)> ConsoleRows(CompareResult r) => r.Losses.Select(l => (l.Loss + (l.Loss == r.Winner ? " (best)" : ""),
        string.Join("   ", r.Metrics.Take(r.Metrics.Count).Select(m => $"{m.Label} {CompareSummary.MeanSd(m, l.Metrics[m.Key])} {CompareSummary.Ci(m, l.Metrics[m.Key])}"))
        + $"   epochs to target {CompareSummary.Epochs(l.MedianEpochs)}")).ToList();

    public static void Write(string dir, TrainConfig c, Problem p, string[] losses, IReadOnlyDictionary<string, LossChoice> choices, List<SeedRun> runs,
        CompareResult r, double seconds, int workers)
    {
        var metrics = r.Metrics;
        var summaryHeader = new List<string> { "loss", "seeds" };
        foreach (var m in metrics) summaryHeader.AddRange([m.Key + "_mean", m.Key + "_std", m.Key + "_ci_lo", m.Key + "_ci_hi"]);
        summaryHeader.AddRange(["epochs_to_target_median", "seconds_mean", "best"]);
        RunFiles.WriteAtomic(Path.Combine(dir, "summary.csv"), RunFiles.Csv(summaryHeader, r.Losses.Select(l =>
        {
            var row = new List<object> { l.Loss, r.Seeds };
            foreach (var m in metrics) { var i = l.Metrics[m.Key]; row.AddRange([i.Mean, i.Std, i.Lo, i.Hi]); }
            row.AddRange([l.MedianEpochs, l.Metrics["seconds"].Mean, l.Loss == r.Winner ? 1 : 0]);
            return row;
        })));
        RunFiles.WriteAtomic(Path.Combine(dir, "runs.csv"), RunFiles.Csv(new[] { "loss", "seed" }.Concat(metrics.Select(m => m.Key)).Concat(["epochs", "epochs_to_target", "seconds"]),
            runs.Select(x => new object[] { x.Loss, x.Seed }.Concat(metrics.Select(m => (object)x.Metrics[m.Key]))
                .Concat([x.R.Epochs.Count, r.Losses.First(l => l.Loss == x.Loss).EpochsToTarget[x.SeedIndex], x.R.Seconds]))));
        RunFiles.WriteAtomic(Path.Combine(dir, "pairs.csv"), RunFiles.Csv(["a", "b", "test", "difference_a_minus_b", "ci_lo", "ci_hi", "p", "n", "favour_a", "favour_b"], PairRows(r)));
        RunFiles.WriteAtomic(Path.Combine(dir, "calls.csv"), RunFiles.Csv(["a", "b", "p_call_holm", "significant", "better"],
            r.Pairs.Select(q => new object[] { q.A, q.B, q.P, q.Significant ? 1 : 0, q.Better ?? "" })));

        var charts = new List<ReportChart>();
        var main = r.Main;
        string label = main.Label;
        bool hasVal = !r.SpeedDefinition.Contains("training");
        var curves = losses.Select(l => Band(l, runs.Where(x => x.Loss == l).Select(x => x.Curve).ToList())).ToList();
        var metricSvg = SvgPlot.LineChart($"{(hasVal ? "Validation" : "Training")} {label} by loss (mean ± sd over {r.Seeds} seeds)", "epoch", label, curves);
        RunFiles.WriteAtomic(Path.Combine(dir, "compare_metric.svg"), metricSvg);
        charts.Add(new(metricSvg, $"{(hasVal ? "Validation" : "Training")} {label} per epoch: the line is the mean over seeds, the band ± one standard deviation (runs that stopped early leave the mean at their last epoch). Learning speed in the table: {r.SpeedDefinition}."));
        var lossCurves = losses.Select(l => Band(l, runs.Where(x => x.Loss == l).Select(x => x.R.Epochs.Select(e => e.TrainLoss).ToArray()).ToList())).ToList();
        var lossSvg = SvgPlot.LineChart("Training loss by loss function (each on its own scale)", "epoch", "loss", lossCurves, logY: lossCurves.All(s => s.Y.All(v => v > 0) && s.Lower!.All(v => v > 0)));
        RunFiles.WriteAtomic(Path.Combine(dir, "compare_loss.svg"), lossSvg);
        charts.Add(new(lossSvg, "Training loss per epoch, mean ± sd over seeds (the losses have different scales)."));
        foreach (var (l, k) in r.Losses.Select((l, k) => (l, k)))
        {
            if (l.Bins is not { } bins) continue;
            var used = bins.Where(b => b.Count > 0).ToList();
            var svg = SvgPlot.LineChart($"Reliability: {l.Loss} (test, {r.Seeds} seeds pooled)", "mean predicted probability of the top class", "fraction correct",
            [
                new Series(l.Loss, used.Select(b => b.Confidence).ToList(), used.Select(b => b.Accuracy).ToList(), Color: SvgPlot.Palette[k % SvgPlot.Palette.Count]),
                new Series("perfect calibration", [0.0, 1.0], [0.0, 1.0], Color: "#777777", Dashed: true),
            ]);
            RunFiles.WriteAtomic(Path.Combine(dir, $"reliability_{l.Loss}.svg"), svg);
            charts.Add(new(svg, $"{l.Loss}: test rows binned by their top-class probability ({Calibration.Bins} bins of width 1/{Calibration.Bins}; occupied bins with their row counts {string.Join(", ", used.Select(b => b.Count))}); points below the diagonal are over-confident. ECE {CompareSummary.MeanSd(metrics.First(m => m.Key == "ece"), l.Metrics["ece"])}."));
        }
        if (p.Task == "regression")
        {
            var svg = ResidualChart(r);
            RunFiles.WriteAtomic(Path.Combine(dir, "residuals.svg"), svg);
            charts.Add(new(svg, "Distribution of the test residuals (actual − predicted, target units) per loss, all seeds pooled: the fraction of rows in each of 40 bins spanning the 0.5%–99.5% range of all residuals."));
        }

        var header = new List<string> { "loss" };
        foreach (var m in metrics) header.AddRange([$"{m.Label} (mean ± sd)", "95% interval"]);
        header.Add($"epochs to target (median)");
        var rows = r.Losses.Select(l =>
        {
            var row = new List<string> { l.Loss };
            foreach (var m in metrics) row.AddRange([CompareSummary.MeanSd(m, l.Metrics[m.Key]), CompareSummary.Ci(m, l.Metrics[m.Key])]);
            row.Add($"{CompareSummary.Epochs(l.MedianEpochs)} ({l.EpochsToTarget.Count(double.IsFinite)}/{r.Seeds} reached)");
            return (IReadOnlyList<string>)row;
        }).ToList();
        string winnerNote = r.Winner != null
            ? $"'best' marks {r.Winner}: significantly better than every other loss in {label} (the larger of the row test's and the seed test's p-values, Holm-adjusted over the pairs, below {CompareStatistics.Alpha})."
            : $"No 'best' badge: no loss is significantly better than all others in {label} at level {CompareStatistics.Alpha}.";
        var pairTable = new ReportTable("Paired tests", ["pair", "row test", "seed test", "call"], r.Pairs.Select(q => (IReadOnlyList<string>)
        [
            $"{q.A} vs {q.B}",
            r.Resplit ? "– (rows differ per split)" : RowText(q, p),
            SeedText(q, main, r.Resplit),
            q.Significant ? $"{q.Better} better ({CompareSummary.P(q.P)})" : $"no significant difference ({CompareSummary.P(q.P)}, {CompareSummary.N(r, q, p)})",
        ]).ToList(), "Row test: McNemar's exact test over the test rows, each row voting for the loss that was right in more seeds (regression: paired t-test over rows of the seed-averaged squared-error difference). " +
            (r.Resplit ? "Seed test: Nadeau–Bengio corrected resampled t-test over the splits. " : "Seed test: paired t-test over seeds of the per-seed difference. ") +
            "A pair is called only when both agree (the larger p), Holm-adjusted over the pairs. Every secondary test is in pairs.csv.");
        var outputs = choices.Values.Select(x => x.Outputs).Distinct().ToList();
        var report = new ReportModel
        {
            Title = $"Kindling loss comparison: {c.Data}",
            RunName = dir,
            Date = DateTimeOffset.Now,
            Summary =
            [
                ("verdict", r.SummaryLine), ("task", p.Task), ("losses", string.Join(", ", losses)),
                ("seeds", $"{r.Seeds} ({string.Join(", ", runs.Select(x => x.Seed).Distinct())}): initialisation, batch order and dropout per seed; {(r.Resplit ? "a new train/validation/test split per seed" : $"one split (from --seed {c.Seed})")}"),
                ("model", string.Join("; ", outputs.Select(o => CnnModel.Describe(c, p.XTrain.Size(1), o) + (outputs.Count > 1 ? $" for {string.Join(", ", choices.Where(x => x.Value.Outputs == o).Select(x => x.Key))}" : "")))),
                ("optimizer", $"{c.Optimizer}, lr {c.LearningRate:G3}"), ("batch size", c.BatchSize.ToString(Inv)),
                ("epochs", c.Epochs.ToString(Inv) + (c.EarlyStopping > 0 ? $" (early stopping patience {c.EarlyStopping})" : "")),
                ("data", $"{p.XTrain.Size(0)} train, {p.XVal?.Size(0) ?? 0} validation, {p.XTest.Size(0)} test ({p.TestSource})"),
                ("learning speed", r.SpeedDefinition),
                .. (r.TailNote != null && !r.HeavyTails ? new[] { ("target's tails", r.TailNote) } : []),
                ("time", $"{seconds:F1} s for {runs.Count} runs, {workers} at a time (each single-threaded)"),
            ],
            Warnings = CompareSummary.Warnings(r, p, choices).Concat(r.Notes).ToList(),
            Charts = charts,
            SeedComparison = new SeedComparison($"Loss comparison over {r.Seeds} seeds (test set)", header, rows, r.Winner == null ? null : Array.IndexOf(losses, r.Winner), winnerNote),
            Tables = [pairTable],
        };
        RunFiles.WriteAtomic(Path.Combine(dir, "report.html"), HtmlReport.Build(report));
    }

    private static string RowText(PairResult q, Problem p) => p.Task == "regression"
        ? $"MSE difference {q.Row.Difference.ToString("G3", Inv)}, {CompareSummary.P(q.Row.P)} (n = {q.Row.N} rows)"
        : $"{q.Row.FavourA} rows favour {q.A}, {q.Row.FavourB} favour {q.B}: {CompareSummary.P(q.Row.P)}";

    private static string SeedText(PairResult q, CompareMetric main, bool resplit)
    {
        if (q.Seed.N < 2) return "– (one seed)";
        var diff = CompareSummary.Value(main with { Percent = false }, main.Percent ? q.Seed.Difference * 100 : q.Seed.Difference);
        string unit = main.Percent ? " points" : "";
        return $"mean difference {diff}{unit} [{CompareSummary.Value(main with { Percent = false }, main.Percent ? q.Seed.Lo * 100 : q.Seed.Lo)}, {CompareSummary.Value(main with { Percent = false }, main.Percent ? q.Seed.Hi * 100 : q.Seed.Hi)}], {CompareSummary.P(q.Seed.P)}";
    }

    private static IEnumerable<object[]> PairRows(CompareResult r)
    {
        foreach (var q in r.Pairs)
        {
            if (!r.Resplit) yield return [q.A, q.B, "row:" + r.Main.Key, q.Row.Difference, q.Row.Lo, q.Row.Hi, q.Row.P, q.Row.N, q.Row.FavourA, q.Row.FavourB];
            yield return [q.A, q.B, (r.Resplit ? "seed_corrected_resampled_t:" : "seed_paired_t:") + r.Main.Key, q.Seed.Difference, q.Seed.Lo, q.Seed.Hi, q.Seed.P, q.Seed.N, "", ""];
            foreach (var (k, t) in q.Secondary)
                yield return [q.A, q.B, (k.EndsWith("_rows") ? "row_paired_t:" + k[..^5] : "seed_paired_t:" + k), t.Difference, t.Lo, t.Hi, t.P, t.N, "", ""];
        }
    }

    /// <summary>Mean ± sd across seeds per epoch; at an epoch past a run's early stop, that run contributes its last value.</summary>
    public static Series Band(string name, List<double[]> curves)
    {
        int len = curves.Max(x => x.Length);
        var mean = new List<double>(); var lo = new List<double>(); var hi = new List<double>();
        for (int e = 0; e < len; e++)
        {
            var v = curves.Where(x => x.Length > 0).Select(x => x[Math.Min(e, x.Length - 1)]).ToList();
            var s = CompareStatistics.Summarize(v);
            double sd = double.IsNaN(s.Std) ? 0 : s.Std;
            mean.Add(s.Mean); lo.Add(s.Mean - sd); hi.Add(s.Mean + sd);
        }
        return new Series(name, Enumerable.Range(1, len).Select(x => (double)x).ToList(), mean, Lower: lo, Upper: hi);
    }

    private static string ResidualChart(CompareResult r)
    {
        var all = r.Losses.SelectMany(l => l.Residuals!).Order().ToArray();
        double lo = all[(int)(0.005 * (all.Length - 1))], hi = all[(int)Math.Ceiling(0.995 * (all.Length - 1))];
        if (hi <= lo) hi = lo + 1;
        const int bins = 40;
        double w = (hi - lo) / bins;
        var centres = Enumerable.Range(0, bins).Select(b => lo + (b + 0.5) * w).ToList();
        var series = r.Losses.Select(l =>
        {
            var counts = new double[bins];
            foreach (var v in l.Residuals!) if (v >= lo && v <= hi) counts[Math.Min(bins - 1, (int)((v - lo) / w))]++;
            return new Series(l.Loss, centres, counts.Select(x => x / l.Residuals!.Length).ToList());
        }).ToList();
        return SvgPlot.LineChart("Residual distribution (test, all seeds)", "actual − predicted", "fraction of rows", series);
    }
}
