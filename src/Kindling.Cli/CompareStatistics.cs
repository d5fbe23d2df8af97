namespace Kindling.Cli;

/// <summary>Mean, sample standard deviation (n − 1) and a two-sided 95% Student-t interval of the mean.</summary>
/// <param name="N">Number of values (seeds).</param>
/// <param name="Lo">mean − t₀.₉₇₅,ₙ₋₁ · sd/√n; NaN for fewer than two values.</param>
public readonly record struct Interval(double Mean, double Std, double Lo, double Hi, int N);

/// <summary>A paired comparison of two losses: what was tested, on how many units, and its p-value.</summary>
/// <param name="Difference">Mean of A − B (over rows for the row test, over seeds for the seed test).</param>
/// <param name="FavourA">Row test: rows where A was right in more seeds than B (regression: not used).</param>
/// <param name="N">Units the test used: discordant rows for the sign test, rows for the row t-test, seeds for the seed t-test.</param>
public readonly record struct PairedTest(double Difference, double P, int N, int FavourA = 0, int FavourB = 0, double Lo = double.NaN, double Hi = double.NaN);

/// <summary>
/// The statistics of <c>kindling compare</c>, each checked against scipy 1.10 in <c>tools/parity/gen_compare_stats.py</c>
/// (fixtures in <c>tools/parity/stats/</c>).
/// </summary>
/// <remarks>
/// <para><b>Why these tests.</b> Every loss is trained on the same S seeds (same initialisation and batch order for
/// loss A and loss B at seed s) and scored on the same test rows, so the comparison is paired twice: by row and by seed.
/// Two sources of chance make a difference appear: which rows happen to be in the test set, and which seed trained the
/// model. One test cannot cover both, so a loss is called better only when both agree:</para>
/// <list type="number">
/// <item><b>Over rows</b> (classification): for each test row, k = (seeds in which A is right) − (seeds in which B is
/// right). Rows are independent draws given the trained models, so the number of rows with k &gt; 0 among the rows with
/// k ≠ 0 is Binomial(m, ½) under "A and B are equally accurate" — McNemar's exact test, where a row's vote is taken over
/// the seeds. With one seed it is exactly McNemar's exact (conditional binomial) test. Pooling the discordant pairs of
/// all seeds instead would count the same hard row up to S times as if it were S independent rows, and understate the
/// p-value. For regression the row statistic is d = mean over seeds of (e_A² − e_B²) and the test is a paired t-test
/// over rows (a test of equal mean squared error, the Diebold–Mariano form).</item>
/// <item><b>Over seeds</b>: the S per-seed differences of the headline metric, paired t-test with S − 1 degrees of
/// freedom. It asks whether the difference holds from one training run to the next on this split.</item>
/// </list>
/// <para>With more than two losses the row p-values are Holm-adjusted over the pairs. Intervals of a metric over seeds
/// are Student-t intervals of the mean: they describe training randomness on this split, not the test rows' sampling.</para>
/// </remarks>
public static class CompareStatistics
{
    /// <summary>Significance level of every call (two-sided).</summary>
    public const double Alpha = 0.05;

    /// <summary>Mean, sample standard deviation and 95% t-interval of <paramref name="xs"/> (non-finite values are skipped).</summary>
    public static Interval Summarize(IReadOnlyList<double> xs)
    {
        var v = xs.Where(double.IsFinite).ToArray();
        int n = v.Length;
        if (n == 0) return new Interval(double.NaN, double.NaN, double.NaN, double.NaN, 0);
        double m = v.Average();
        if (n == 1) return new Interval(m, double.NaN, double.NaN, double.NaN, 1);
        double sd = Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (n - 1));
        double h = StudentTQuantile(0.975, n - 1) * sd / Math.Sqrt(n);
        return new Interval(m, sd, m - h, m + h, n);
    }

    /// <summary>
    /// Two-sided exact binomial test of k successes in n trials with p = ½ (scipy.stats.binomtest(k, n, 0.5).pvalue):
    /// min(1, 2·P(X ≤ min(k, n − k))). McNemar's exact test is this with k = b and n = b + c discordant pairs.
    /// </summary>
    public static double BinomialTwoSided(int k, int n)
    {
        if (n < 0 || k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"binomial test needs 0 ≤ k ≤ n, got k = {k}, n = {n}.");
        if (n == 0) return 1;
        int lo = Math.Min(k, n - k);
        if (2 * lo == n) return 1;
        // log-space terms: C(n, i)/2ⁿ underflows a double for n beyond about 1,070.
        double logHalfN = -n * Math.Log(2), s = 0;
        for (int i = 0; i <= lo; i++) s += Math.Exp(LogChoose(n, i) + logHalfN);
        return Math.Min(1, 2 * s);
    }

    /// <summary>
    /// Paired t-test of the differences <paramref name="d"/> (scipy.stats.ttest_rel): mean, 95% interval, p-value with
    /// n − 1 degrees of freedom. Differences that are all equal have no spread: p = 1 when they are all 0, else 0
    /// (the same difference in every pair, which no amount of chance in this design explains).
    /// </summary>
    public static PairedTest PairedT(IReadOnlyList<double> d)
    {
        var s = Summarize(d);
        if (s.N < 2) return new PairedTest(s.Mean, double.NaN, s.N);
        if (s.Std == 0 || !double.IsFinite(s.Std)) return new PairedTest(s.Mean, s.Mean == 0 ? 1 : 0, s.N, Lo: s.Mean, Hi: s.Mean);
        double t = s.Mean / (s.Std / Math.Sqrt(s.N));
        return new PairedTest(s.Mean, 2 * StudentTSf(Math.Abs(t), s.N - 1), s.N, Lo: s.Lo, Hi: s.Hi);
    }

    /// <summary>
    /// McNemar's exact test over rows with the seeds' votes: <paramref name="aRight"/>[s][i] and <paramref name="bRight"/>[s][i]
    /// say whether loss A (B) classified test row i correctly at seed s. Difference = mean accuracy of A − B.
    /// </summary>
    public static PairedTest RowVoteTest(IReadOnlyList<bool[]> aRight, IReadOnlyList<bool[]> bRight)
    {
        if (aRight.Count != bRight.Count || aRight.Count == 0) throw new ArgumentException($"row test: {aRight.Count} seeds for A and {bRight.Count} for B; both need the same seeds.");
        int rows = aRight[0].Length, fa = 0, fb = 0;
        double diff = 0;
        for (int i = 0; i < rows; i++)
        {
            int k = 0;
            for (int s = 0; s < aRight.Count; s++) k += (aRight[s][i] ? 1 : 0) - (bRight[s][i] ? 1 : 0);
            if (k > 0) fa++; else if (k < 0) fb++;
            diff += k;
        }
        return new PairedTest(rows == 0 ? double.NaN : diff / (rows * (double)aRight.Count), BinomialTwoSided(fa, fa + fb), fa + fb, fa, fb);
    }

    /// <summary>
    /// Regression row test: d_i = mean over seeds of (a_si² − b_si²) for the residuals a and b, paired t-test over the
    /// rows. Difference = mean of d (the difference of mean squared errors).
    /// </summary>
    public static PairedTest RowSquaredErrorTest(IReadOnlyList<double[]> aResidual, IReadOnlyList<double[]> bResidual) =>
        RowErrorTest(aResidual, bResidual, e => e * e);

    /// <summary>As <see cref="RowSquaredErrorTest"/> with |e|: a test of equal mean absolute error.</summary>
    public static PairedTest RowAbsoluteErrorTest(IReadOnlyList<double[]> aResidual, IReadOnlyList<double[]> bResidual) =>
        RowErrorTest(aResidual, bResidual, Math.Abs);

    /// <summary>
    /// Nadeau and Bengio's (2003) corrected resampled t-test for differences <paramref name="d"/> measured on S random
    /// train/test splits (--resplit): the training sets overlap, so the plain paired t understates the variance; the
    /// variance of the mean is taken as (1/S + n_test/n_train)·s² instead of s²/S. Degrees of freedom S − 1.
    /// </summary>
    public static PairedTest CorrectedResampledT(IReadOnlyList<double> d, int nTest, int nTrain)
    {
        var s = Summarize(d);
        if (s.N < 2) return new PairedTest(s.Mean, double.NaN, s.N);
        if (s.Std == 0) return new PairedTest(s.Mean, s.Mean == 0 ? 1 : 0, s.N, Lo: s.Mean, Hi: s.Mean);
        double se = Math.Sqrt((1.0 / s.N + nTest / (double)nTrain) * s.Std * s.Std);
        double h = StudentTQuantile(0.975, s.N - 1) * se;
        return new PairedTest(s.Mean, 2 * StudentTSf(Math.Abs(s.Mean / se), s.N - 1), s.N, Lo: s.Mean - h, Hi: s.Mean + h);
    }

    private static PairedTest RowErrorTest(IReadOnlyList<double[]> aResidual, IReadOnlyList<double[]> bResidual, Func<double, double> f)
    {
        if (aResidual.Count != bResidual.Count || aResidual.Count == 0) throw new ArgumentException($"row test: {aResidual.Count} seeds for A and {bResidual.Count} for B; both need the same seeds.");
        int rows = aResidual[0].Length;
        var d = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int k = 0; k < aResidual.Count; k++) s += f(aResidual[k][i]) - f(bResidual[k][i]);
            d[i] = s / aResidual.Count;
        }
        return PairedT(d);
    }

    /// <summary>
    /// The call for every pair (A, B): the p-value of the call and +1 when A is significantly better, −1 when B is, 0 when
    /// neither. With a fixed split and several seeds, both the row test and the seed test must reject with the same sign
    /// (an intersection–union test, whose p-value is the larger of the two); with one seed the row test alone; with
    /// --resplit the seed test alone (the rows differ between seeds). The p-values are Holm-adjusted over the pairs.
    /// </summary>
    /// <param name="higherIsBetter">Direction of the seed test's metric (accuracy: true; RMSE: false).</param>
    /// <param name="rowIsError">The row test's difference is in squared error (lower is better) rather than accuracy.</param>
    public static (double P, int Better)[] Call(IReadOnlyList<(PairedTest Row, PairedTest Seed)> pairs, bool higherIsBetter, bool rowIsError, bool resplit, int seeds)
    {
        var raw = pairs.Select(x => resplit ? x.Seed.P : seeds < 2 ? x.Row.P : Math.Max(x.Row.P, x.Seed.P)).ToList();
        var adjusted = Holm(raw);
        return pairs.Select((x, k) =>
        {
            int rowSign = rowIsError ? -Math.Sign(x.Row.Difference) : Math.Sign(x.Row.Difference);
            int seedSign = higherIsBetter ? Math.Sign(x.Seed.Difference) : -Math.Sign(x.Seed.Difference);
            bool agree = resplit || seeds < 2 || rowSign == seedSign;
            int sign = resplit ? seedSign : rowSign;
            return (adjusted[k], adjusted[k] < Alpha && agree ? sign : 0);
        }).ToArray();
    }

    /// <summary>Holm's step-down adjustment of <paramref name="p"/> (family-wise error ≤ α over all pairs).</summary>
    public static double[] Holm(IReadOnlyList<double> p)
    {
        int m = p.Count;
        var order = Enumerable.Range(0, m).OrderBy(i => double.IsNaN(p[i]) ? 2 : p[i]).ToArray();
        var adj = new double[m];
        double running = 0;
        for (int r = 0; r < m; r++)
        {
            int i = order[r];
            running = Math.Max(running, double.IsNaN(p[i]) ? 1 : Math.Min(1, (m - r) * p[i]));
            adj[i] = running;
        }
        return adj;
    }

    /// <summary>
    /// The first epoch (1-based) whose value reaches <paramref name="target"/> (≥ when higher is better, ≤ otherwise);
    /// null when the curve never does.
    /// </summary>
    public static int? EpochsToReach(IReadOnlyList<double> curve, double target, bool higherIsBetter)
    {
        for (int e = 0; e < curve.Count; e++)
            if (double.IsFinite(curve[e]) && (higherIsBetter ? curve[e] >= target : curve[e] <= target)) return e + 1;
        return null;
    }

    // ---- Student's t distribution (via the regularized incomplete beta function) ----

    /// <summary>Upper tail P(T &gt; t) of Student's t with <paramref name="df"/> degrees of freedom, t ≥ 0 (scipy.stats.t.sf).</summary>
    public static double StudentTSf(double t, double df)
    {
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsPositiveInfinity(t)) return 0;
        double x = df / (df + t * t);
        double tail = 0.5 * RegularizedIncompleteBeta(df / 2, 0.5, x);
        return t >= 0 ? tail : 1 - tail;
    }

    /// <summary>The p-quantile of Student's t (scipy.stats.t.ppf), by bisection on the CDF to 1e-12.</summary>
    public static double StudentTQuantile(double p, double df)
    {
        if (p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p), $"quantile needs 0 < p < 1, got {p}.");
        if (p < 0.5) return -StudentTQuantile(1 - p, df);
        double lo = 0, hi = 1;
        while (1 - StudentTSf(hi, df) < p) hi *= 2;
        for (int i = 0; i < 200 && hi - lo > 1e-13 * Math.Max(1, hi); i++)
        {
            double mid = 0.5 * (lo + hi);
            if (1 - StudentTSf(mid, df) < p) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>I_x(a, b), by Lentz's continued fraction (Numerical Recipes §6.4), using the symmetry for x beyond the mean.</summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x));
        if (x < (a + 1) / (a + b + 2)) return front * BetaFraction(a, b, x) / a;
        return 1 - front * BetaFraction(b, a, 1 - x) / b;
    }

    private static double BetaFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 1000; m++)
        {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d; h *= d * c;
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.Abs(del - 1) < 1e-15) break;
        }
        return h;
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, 9 terms; relative error below 1e-15).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        ReadOnlySpan<double> g =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        double a = g[0], t = x + 7.5;
        for (int i = 1; i < 9; i++) a += g[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }

    private static double LogChoose(int n, int k) => LogGamma(n + 1) - LogGamma(k + 1) - LogGamma(n - k + 1);
}
