namespace Kindling.Cli;

/// <summary>Evaluation metrics computed from predictions and targets (plain arrays).</summary>
public static class Metrics
{
    public static int[,] Confusion(long[] truth, long[] pred, int k)
    {
        var m = new int[k, k];
        for (int i = 0; i < truth.Length; i++) m[truth[i], pred[i]]++;
        return m;
    }

    public static double Accuracy(long[] truth, long[] pred) => truth.Length == 0 ? double.NaN : truth.Zip(pred).Count(p => p.First == p.Second) / (double)truth.Length;

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

    public static double Rmse(float[] y, float[] p) => Math.Sqrt(y.Zip(p).Average(t => (double)(t.First - t.Second) * (t.First - t.Second)));
    public static double Mae(float[] y, float[] p) => y.Zip(p).Average(t => Math.Abs((double)t.First - t.Second));

    public static double R2(float[] y, float[] p)
    {
        double mean = y.Average(v => (double)v);
        double ssRes = y.Zip(p).Sum(t => (double)(t.First - t.Second) * (t.First - t.Second));
        double ssTot = y.Sum(v => (v - mean) * (v - mean));
        return ssTot == 0 ? double.NaN : 1 - ssRes / ssTot;
    }
}
