using System.Globalization;

namespace Kindling.Cli;

/// <summary>
/// The words of a comparison: figures as mean ± sd over seeds, p-values, and the one-line verdict, which claims a
/// difference only where the tests found one and otherwise says "no significant difference (p = …, n = …)".
/// </summary>
public static class CompareSummary
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A value of a metric: percentages with one decimal, other figures with four significant digits.</summary>
    public static string Value(CompareMetric m, double v) => Value(m, v, Decimals(v));

    private static string Value(CompareMetric m, double v, int decimals) =>
        double.IsNaN(v) ? "–" : double.IsInfinity(v) ? (v > 0 ? "∞" : "−∞") : m.Percent ? (v * 100).ToString("F1", Inv) + "%" : v.ToString("F" + decimals, Inv);

    /// <summary>Three significant digits for figures below 1,000, at most four decimals (a spread is shown with its mean's decimals).</summary>
    private static int Decimals(double v) => !double.IsFinite(v) || v == 0 ? 3 : Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(v))), 0, 4);

    /// <summary>"96.9 ± 0.4%" (mean ± standard deviation over seeds); the mean alone for one seed.</summary>
    public static string MeanSd(CompareMetric m, Interval i)
    {
        if (i.N == 0) return "–";
        if (i.N == 1 || double.IsNaN(i.Std)) return Value(m, i.Mean);
        if (m.Percent) return $"{(i.Mean * 100).ToString("F1", Inv)} ± {(i.Std * 100).ToString("F1", Inv)}%";
        return $"{Value(m, i.Mean)} ± {Value(m, i.Std, Decimals(i.Mean))}";
    }

    /// <summary>"[96.3, 97.5]%": the 95% t-interval of the mean over seeds.</summary>
    public static string Ci(CompareMetric m, Interval i)
    {
        if (i.N < 2 || double.IsNaN(i.Lo)) return "–";
        return m.Percent ? $"[{(i.Lo * 100).ToString("F1", Inv)}, {(i.Hi * 100).ToString("F1", Inv)}]%" : $"[{Value(m, i.Lo, Decimals(i.Mean))}, {Value(m, i.Hi, Decimals(i.Mean))}]";
    }

    public static string P(double p) => double.IsNaN(p) ? "p not computable" : p < 1e-4 ? "p < 0.0001" : $"p = {(p >= 0.01 ? p.ToString("F2", Inv) : p.ToString("G2", Inv))}";

    public static string Epochs(double e) => double.IsPositiveInfinity(e) ? "never" : e.ToString(e == Math.Floor(e) ? "F0" : "F1", Inv);

    /// <summary>What n counts in the call of a pair.</summary>
    public static string N(CompareResult r, PairResult q, Problem p) =>
        r.Resplit ? $"n = {r.Seeds} splits" :
        p.Task == "regression" ? $"n = {q.Row.N} test rows{(r.Seeds > 1 ? $", {r.Seeds} seeds" : "")}" :
        $"n = {q.Row.N} discordant rows{(r.Seeds > 1 ? $", {r.Seeds} seeds" : "")}";

    /// <summary>The pair of <paramref name="a"/> and <paramref name="b"/>, in either order.</summary>
    public static PairResult Pair(CompareResult r, string a, string b) => r.Pairs.First(q => q.A == a && q.B == b || q.A == b && q.B == a);

    /// <summary>A secondary paired test oriented as (<paramref name="a"/> − <paramref name="b"/>).</summary>
    private static PairedTest Oriented(PairResult q, string key, string a) =>
        q.A == a ? q.Secondary[key] : q.Secondary[key] with { Difference = -q.Secondary[key].Difference, Lo = -q.Secondary[key].Hi, Hi = -q.Secondary[key].Lo };

    public static string Line(CompareResult r, Problem p)
    {
        var main = r.Main;
        var s = r.Losses.ToDictionary(x => x.Loss);
        if (r.Losses.Count < 2)
            return $"{r.Losses[0].Loss}: test {main.Label} {MeanSd(main, r.Losses[0].Metrics[main.Key])} over {r.Seeds} seeds, 95% interval {Ci(main, r.Losses[0].Metrics[main.Key])}.";
        var ranked = r.Losses.OrderBy(x => main.HigherIsBetter ? -x.Metrics[main.Key].Mean : x.Metrics[main.Key].Mean).Select(x => x.Loss).ToList();
        string a = r.Winner ?? ranked[0], b = ranked.First(l => l != a);
        var q = Pair(r, a, b);
        string fa = MeanSd(main, s[a].Metrics[main.Key]), fb = MeanSd(main, s[b].Metrics[main.Key]);
        string stats = $"{P(q.P)}, {N(r, q, p)}";
        string first;
        if (r.Winner != null)
            first = r.Losses.Count > 2
                ? $"{a} reaches a significantly {(main.HigherIsBetter ? "higher" : "lower")} {main.Label} than each other loss; against the runner-up {b}: {fa} vs {fb} ({stats})"
                : $"{a} reaches a significantly {(main.HigherIsBetter ? "higher" : "lower")} {main.Label} than {b} here ({fa} vs {fb}, {stats})";
        else
            first = $"{(r.Losses.Count > 2 ? "no loss is significantly better than all others; the top two, " : "")}{a} and {b}: no significant difference in {main.Label} ({fa} vs {fb}, {stats})";
        var parts = new List<string> { first };
        double ea = s[a].MedianEpochs, eb = s[b].MedianEpochs;
        if (!double.IsNaN(ea) && !double.IsNaN(eb))
        {
            var sp = Oriented(q, "epochs_to_target", a);
            string speedP = sp.N >= 2 && !double.IsNaN(sp.P) ? $", paired over seeds {P(sp.P)}" : "";
            parts.Add($"{a} reaches {(main.HigherIsBetter ? $"{CompareAnalysis.SpeedFraction * 100:F0}% of the best" : $"within {(1 / CompareAnalysis.SpeedFraction - 1) * 100:F1}% of the best")} {main.Label} in {Epochs(ea)} epochs vs {Epochs(eb)} (medians{speedP})");
        }
        if (p.IsClassLike)
        {
            var ece = r.Metrics.First(m => m.Key == "ece");
            var t = Oriented(q, "ece", a);
            string figures = $"ECE {Value(ece, s[a].Metrics["ece"].Mean)} vs {Value(ece, s[b].Metrics["ece"].Mean)}, {P(t.P)}";
            bool sig = t.P < CompareStatistics.Alpha && t.Difference != 0;
            parts.Add(sig
                ? $"{(t.Difference < 0 ? $"{a}'s" : $"{b}'s")} probabilities are better calibrated ({figures})"
                : $"their calibration does not differ significantly ({figures})");
        }
        else if (p.Task == "regression")
        {
            var mae = r.Metrics.First(m => m.Key == "mae");
            var t = q.Secondary.TryGetValue("mae_rows", out _) ? Oriented(q, "mae_rows", a) : Oriented(q, "mae", a);
            parts.Add($"their MAE is {MeanSd(mae, s[a].Metrics["mae"])} vs {MeanSd(mae, s[b].Metrics["mae"])} ({(t.P < CompareStatistics.Alpha ? $"{(t.Difference < 0 ? a : b)} lower, " : "no significant difference, ")}{P(t.P)})");
        }
        return parts.Count == 1 ? parts[0] + "." : string.Join("; ", parts.Take(parts.Count - 1)) + (parts.Count > 2 ? ", and " : "; ") + parts[^1] + ".";
    }

    /// <summary>
    /// The comparison's warnings, phrased from what was measured: the generic advice against a regression loss on class
    /// labels is replaced by this comparison's own paired result, so the report never contradicts its tests.
    /// </summary>
    public static List<string> Warnings(CompareResult r, Problem p, IReadOnlyDictionary<string, LossChoice> choices)
    {
        var warnings = choices.Values.SelectMany(c => c.Warnings).Where(w => !w.Contains(" on class labels")).Distinct().ToList();
        var onLabels = choices.Where(c => c.Value.Warnings.Any(w => w.Contains(" on class labels"))).Select(c => c.Key).ToList();
        var proper = choices.Keys.Except(onLabels).ToList();
        var main = r.Main;
        var s = r.Losses.ToDictionary(x => x.Loss);
        if (onLabels.Count > 0 && proper.Count > 0)
        {
            string best = proper.MaxBy(l => main.HigherIsBetter ? s[l].Metrics[main.Key].Mean : -s[l].Metrics[main.Key].Mean)!;
            foreach (var x in onLabels)
            {
                var q = Pair(r, x, best);
                string figures = $"{MeanSd(main, s[x].Metrics[main.Key])} vs {MeanSd(main, s[best].Metrics[main.Key])}, {P(q.P)}, {N(r, q, p)}";
                warnings.Add(q.Better == best
                    ? $"{x} on class labels reached a significantly lower test {main.Label} than {best} ({figures}): as expected, a regression loss on labels trains worse than a classification loss."
                    : q.Better == x
                        ? $"{x} on class labels reached a significantly higher test {main.Label} than {best} on this data ({figures}); cross-entropy's usual advantages are faster learning and better-calibrated probabilities, measured in the table."
                        : $"{x} on class labels and {best}: no significant difference in test {main.Label} ({figures}); cross-entropy's usual advantages are faster learning and better-calibrated probabilities, measured in the table.");
            }
        }
        if (r.HeavyTails && r.TailNote != null) warnings.Add(r.TailNote);
        return warnings;
    }
}
