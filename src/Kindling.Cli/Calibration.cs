namespace Kindling.Cli;

/// <summary>One bin of a reliability diagram: rows whose top-class probability fell in (Lo, Hi].</summary>
public readonly record struct ReliabilityBin(double Lo, double Hi, int Count, double Confidence, double Accuracy);

/// <summary>
/// The quality of predicted class probabilities: log-loss, Brier score, expected calibration error and the reliability
/// diagram's bins. Probabilities are (N, K) row-major, one row per sample summing to 1; labels are class indices.
/// Checked against scikit-learn 1.2 (log_loss, brier_score_loss) and an independent NumPy ECE in
/// <c>tools/parity/gen_compare_stats.py</c>.
/// </summary>
public static class Calibration
{
    /// <summary>Bins of the expected calibration error (Guo et al. 2017 use 15).</summary>
    public const int Bins = 15;

    /// <summary>
    /// Log-loss −(1/N) Σ ln p_i,yᵢ in nats, with p clipped to [1e-15, 1 − 1e-15] as scikit-learn's log_loss does, so one
    /// confident mistake gives a large finite figure instead of ∞.
    /// </summary>
    public static double LogLoss(double[] probs, long[] y, int k)
    {
        Check(probs, y, k);
        double s = 0;
        for (int i = 0; i < y.Length; i++) s -= Math.Log(Math.Clamp(probs[i * k + y[i]], 1e-15, 1 - 1e-15));
        return s / y.Length;
    }

    /// <summary>
    /// Multi-class Brier score (Brier 1950): (1/N) Σᵢ Σ_k (p_ik − [yᵢ = k])², between 0 and 2. For two classes it is twice
    /// scikit-learn's brier_score_loss, which scores the positive class only.
    /// </summary>
    public static double Brier(double[] probs, long[] y, int k)
    {
        Check(probs, y, k);
        double s = 0;
        for (int i = 0; i < y.Length; i++)
            for (int j = 0; j < k; j++)
            {
                double d = probs[i * k + j] - (y[i] == j ? 1 : 0);
                s += d * d;
            }
        return s / y.Length;
    }

    /// <summary>
    /// Reliability bins of the top-class probability c = maxₖ p_ik (ties: the lowest class index, as argmax): row i
    /// goes to bin ⌈c·B⌉ − 1, i.e. (b/B, (b+1)/B], with c = 0 in the first; each bin holds its mean confidence and the
    /// accuracy of its rows' top class.
    /// </summary>
    public static List<ReliabilityBin> Reliability(double[] probs, long[] y, int k, int bins = Bins)
    {
        Check(probs, y, k);
        var count = new int[bins];
        var conf = new double[bins];
        var right = new double[bins];
        for (int i = 0; i < y.Length; i++)
        {
            int top = 0;
            for (int j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + top]) top = j;
            double c = probs[i * k + top];
            int b = Math.Clamp((int)Math.Ceiling(c * bins) - 1, 0, bins - 1);
            count[b]++; conf[b] += c; right[b] += top == y[i] ? 1 : 0;
        }
        return Enumerable.Range(0, bins).Select(b => new ReliabilityBin(b / (double)bins, (b + 1) / (double)bins, count[b],
            count[b] == 0 ? double.NaN : conf[b] / count[b], count[b] == 0 ? double.NaN : right[b] / count[b])).ToList();
    }

    /// <summary>Expected calibration error Σ_b (n_b/N)·|accuracy_b − confidence_b| over <see cref="Reliability"/>'s bins.</summary>
    public static double Ece(double[] probs, long[] y, int k, int bins = Bins) =>
        Reliability(probs, y, k, bins).Where(b => b.Count > 0).Sum(b => b.Count / (double)y.Length * Math.Abs(b.Accuracy - b.Confidence));

    private static void Check(double[] probs, long[] y, int k)
    {
        if (k < 1 || probs.Length != y.Length * k) throw new ArgumentException($"probabilities: {probs.Length} values for {y.Length} rows × {k} classes.");
        if (y.Length == 0) throw new ArgumentException("probabilities: no rows to score.");
        foreach (var v in y) if (v < 0 || v >= k) throw new ArgumentException($"label {v} is outside the {k} classes.");
    }
}
