namespace Kindling.Cli;

/// <summary>Precision, recall, F1 and support of one class (one-vs-rest).</summary>
public sealed record ClassScore(string Name, double Precision, double Recall, double F1, int Support);

/// <summary>Evaluation metrics computed from predictions and targets (plain arrays).</summary>
/// <remarks>Definitions follow scikit-learn's, so the figures can be checked against it: precision, recall and F1 are 0
/// where their denominator is 0 (sklearn's zero_division=0 with a warning), balanced accuracy is the mean recall over the
/// classes present in the truth, ROC-AUC is the Mann–Whitney statistic (ties count ½), PR-AUC is average precision
/// (Σ (Rₙ − Rₙ₋₁) Pₙ over thresholds, sklearn's <c>average_precision_score</c>).</remarks>
public static class Metrics
{
    public static int[,] Confusion(long[] truth, long[] pred, int k)
    {
        var m = new int[k, k];
        for (int i = 0; i < truth.Length; i++) m[truth[i], pred[i]]++;
        return m;
    }

    public static double Accuracy(long[] truth, long[] pred) => truth.Length == 0 ? double.NaN : truth.Zip(pred).Count(p => p.First == p.Second) / (double)truth.Length;

    /// <summary>Per-class precision, recall, F1 and support from a confusion matrix (rows true, columns predicted).</summary>
    public static List<ClassScore> PerClass(int[,] cm, IReadOnlyList<string> names)
    {
        int k = cm.GetLength(0);
        var rows = new List<ClassScore>(k);
        for (int c = 0; c < k; c++)
        {
            double tp = cm[c, c], fp = 0, fn = 0;
            for (int j = 0; j < k; j++) { if (j != c) { fp += cm[j, c]; fn += cm[c, j]; } }
            double p = tp + fp == 0 ? 0 : tp / (tp + fp), r = tp + fn == 0 ? 0 : tp / (tp + fn);
            double f1 = 2 * tp + fp + fn == 0 ? 0 : 2 * tp / (2 * tp + fp + fn);
            rows.Add(new ClassScore(c < names.Count ? names[c] : c.ToString(), p, r, f1, (int)(tp + fn)));
        }
        return rows;
    }

    /// <summary>Unweighted mean of the per-class F1 over classes that occur in truth or prediction.</summary>
    public static double MacroF1(int[,] cm)
    {
        int k = cm.GetLength(0);
        double sum = 0; int n = 0;
        for (int c = 0; c < k; c++)
        {
            double tp = cm[c, c], fp = 0, fn = 0;
            for (int j = 0; j < k; j++) { if (j != c) { fp += cm[j, c]; fn += cm[c, j]; } }
            if (tp + fp + fn == 0) continue;
            sum += 2 * tp / (2 * tp + fp + fn);
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>Mean recall over the classes present in the truth (sklearn's balanced_accuracy_score).</summary>
    public static double BalancedAccuracy(int[,] cm)
    {
        int k = cm.GetLength(0);
        double sum = 0; int n = 0;
        for (int c = 0; c < k; c++)
        {
            double support = 0;
            for (int j = 0; j < k; j++) support += cm[c, j];
            if (support == 0) continue;
            sum += cm[c, c] / support;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>Area under the ROC curve of scores for the positive class (label 1); NaN when only one class is present.</summary>
    public static double RocAuc(long[] truth, double[] score)
    {
        var order = Enumerable.Range(0, truth.Length).OrderBy(i => score[i]).ToArray();
        // Average ranks over ties (1-based), then the Mann–Whitney U of the positives.
        double rankSumPos = 0; long pos = 0;
        for (int a = 0; a < order.Length;)
        {
            int b = a;
            while (b + 1 < order.Length && score[order[b + 1]] == score[order[a]]) b++;
            double rank = (a + b) / 2.0 + 1;
            for (int i = a; i <= b; i++) if (truth[order[i]] == 1) { rankSumPos += rank; pos++; }
            a = b + 1;
        }
        long neg = truth.Length - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        return (rankSumPos - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>The ROC curve as (false-positive rate, true-positive rate) points, one per distinct threshold, from (0,0) to (1,1).</summary>
    public static List<(double Fpr, double Tpr)> RocCurve(long[] truth, double[] score)
    {
        var (tps, fps, _) = Cumulative(truth, score);
        double p = tps.Count > 0 ? tps[^1] : 0, n = fps.Count > 0 ? fps[^1] : 0;
        var pts = new List<(double, double)> { (0, 0) };
        for (int i = 0; i < tps.Count; i++) pts.Add((n == 0 ? 0 : fps[i] / n, p == 0 ? 0 : tps[i] / p));
        return pts;
    }

    /// <summary>The precision–recall curve as (recall, precision) points, one per distinct threshold, highest threshold first.</summary>
    public static List<(double Recall, double Precision)> PrCurve(long[] truth, double[] score)
    {
        var (tps, fps, _) = Cumulative(truth, score);
        double p = tps.Count > 0 ? tps[^1] : 0;
        var pts = new List<(double, double)>();
        for (int i = 0; i < tps.Count; i++) pts.Add((p == 0 ? 0 : tps[i] / p, tps[i] / (tps[i] + fps[i])));
        return pts;
    }

    /// <summary>Average precision: Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds (no interpolation); NaN without positives.</summary>
    public static double AveragePrecision(long[] truth, double[] score)
    {
        var curve = PrCurve(truth, score);
        if (!truth.Any(t => t == 1)) return double.NaN;
        double ap = 0, prevR = 0;
        foreach (var (r, pr) in curve) { ap += (r - prevR) * pr; prevR = r; }
        return ap;
    }

    // True and false positives at each distinct threshold, scores in decreasing order.
    private static (List<double> Tps, List<double> Fps, List<double> Thresholds) Cumulative(long[] truth, double[] score)
    {
        var order = Enumerable.Range(0, truth.Length).OrderByDescending(i => score[i]).ToArray();
        var tps = new List<double>(); var fps = new List<double>(); var th = new List<double>();
        double tp = 0, fp = 0;
        for (int i = 0; i < order.Length; i++)
        {
            if (truth[order[i]] == 1) tp++; else fp++;
            if (i + 1 == order.Length || score[order[i + 1]] != score[order[i]]) { tps.Add(tp); fps.Add(fp); th.Add(score[order[i]]); }
        }
        return (tps, fps, th);
    }

    public static double Rmse(float[] y, float[] p) => Math.Sqrt(y.Zip(p).Average(t => (double)(t.First - t.Second) * (t.First - t.Second)));
    public static double Mae(float[] y, float[] p) => y.Zip(p).Average(t => Math.Abs((double)t.First - t.Second));

    public static double R2(float[] y, float[] p)
    {
        double mean = y.Average(v => (double)v);
        double ssRes = y.Zip(p).Sum(t => (double)(t.First - t.Second) * (t.First - t.Second));
        double ssTot = y.Sum(v => (v - mean) * (v - mean));
        return ssTot == 0 ? double.NaN : 1 - ssRes / ssTot;
    }

    /// <summary>
    /// A warning when a classifier answers (almost) one class for everything: its share of predictions is ≥ 95% and the
    /// balanced accuracy is below 0.6, so the accuracy only restates how common that class is.
    /// </summary>
    public static string? MajorityWarning(int[,] cm, IReadOnlyList<string> names)
    {
        int k = cm.GetLength(0);
        long total = 0; var predicted = new long[k]; var actual = new long[k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) { total += cm[i, j]; predicted[j] += cm[i, j]; actual[i] += cm[i, j]; }
        if (total == 0 || actual.Count(a => a > 0) < 2) return null;
        int top = Array.IndexOf(predicted, predicted.Max());
        double share = predicted[top] / (double)total, bal = BalancedAccuracy(cm);
        if (share < 0.95 || bal >= 0.6) return null;
        double acc = 0; for (int i = 0; i < k; i++) acc += cm[i, i]; acc /= total;
        return $"the model predicts '{names[top]}' for {share * 100:F1}% of the test rows: its accuracy {acc * 100:F1}% is close to what always answering '{names[top]}' scores ({actual[top] * 100.0 / total:F1}%); " +
               $"balanced accuracy is {bal:F3}. Try --class-weights balanced or --loss focal, and judge the model by recall and F1 per class.";
    }
}
