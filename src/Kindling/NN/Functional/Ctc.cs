namespace Kindling.NN;

public static partial class Functional
{
    /// <summary>
    /// Connectionist temporal classification loss (PyTorch's <c>F.ctc_loss</c>): ℓₙ = −log Σ over all alignments of targetₙ
    /// (with blanks and repeats) of Π_t p(t, label), computed by the forward–backward algorithm in log space (double precision).
    /// <para>Shapes: logProbs (T, N, C) log-softmax outputs, or (T, C) unbatched; targets (N, S) padded or 1-D concatenated
    /// (Σ targetLengths) — (S) when unbatched; inputLengths and targetLengths (N) int64 (scalars when unbatched).</para>
    /// <para>Reduction: Mean divides each ℓₙ by its target length (at least 1) and averages over the batch (PyTorch's
    /// definition); Sum; None gives (N). An impossible alignment gives +∞ (and NaN gradients for that sample), or 0 with
    /// zeroInfinity. Defaults: blank 0, Mean, zeroInfinity false.</para>
    /// <para>Gradient: like PyTorch, the gradient returned for logProbs is exp(logProbs) − posterior, which assumes logProbs
    /// came from log_softmax (the extra exp term vanishes through it); apply CTC to log-softmax outputs.</para>
    /// </summary>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths, int blank = 0,
        Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        const string L = "ctc_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "log_probs", logProbs);
        bool unbatched = logProbs.Rank == 2;
        if (logProbs.Rank is not (2 or 3)) throw new ArgumentException($"{L}: log_probs must be (T, N, C) or (T, C), got {logProbs.ShapeString}.", nameof(logProbs));
        var lp3 = unbatched ? logProbs.Unsqueeze(1) : logProbs;
        int T = lp3.Dims[0], N = lp3.Dims[1], C = lp3.Dims[2];
        if (blank < 0 || blank >= C) throw new ArgumentOutOfRangeException(nameof(blank), blank, $"{L}: blank {blank} is out of range for {C} classes.");
        // PyTorch refuses float lengths (a fractional length has no meaning) and an empty time axis.
        if (inputLengths.IsFloatingPoint || targetLengths.IsFloatingPoint)
            throw new ArgumentException($"{L}: input_lengths and target_lengths must be integer tensors, got {Tensor.DTypeName(inputLengths.DType)} and {Tensor.DTypeName(targetLengths.DType)}.", inputLengths.IsFloatingPoint ? nameof(inputLengths) : nameof(targetLengths));
        if (T == 0) throw new ArgumentException($"{L}: log_probs {logProbs.ShapeString} has no time steps; CTC needs at least one.", nameof(logProbs));
        var il = inputLengths.ToInt64Array();
        var tl = targetLengths.ToInt64Array();
        if (il.Length != N || tl.Length != N)
            throw new ArgumentException($"{L}: input_lengths ({il.Length}) and target_lengths ({tl.Length}) must have one entry per batch element ({N}).");
        var tg = targets.ToInt64Array();
        if (targets.IsFloatingPoint) throw new ArgumentException($"{L}: targets must be int64 class indices, got {Tensor.DTypeName(targets.DType)}.", nameof(targets));
        bool padded = !unbatched && targets.Rank == 2;
        if (padded && targets.Dims[0] != N) throw new ArgumentException($"{L}: padded targets {targets.ShapeString} must have {N} rows.", nameof(targets));
        int S = padded ? targets.Dims[1] : tg.Length;
        var offsets = new int[N];
        long acc = 0;
        for (int b = 0; b < N; b++)
        {
            if (il[b] < 0 || il[b] > T) throw new ArgumentOutOfRangeException(nameof(inputLengths), il[b], $"{L}: input_lengths[{b}] = {il[b]} must be in 0..{T}.");
            if (tl[b] < 0 || (padded && tl[b] > S)) throw new ArgumentOutOfRangeException(nameof(targetLengths), tl[b], $"{L}: target_lengths[{b}] = {tl[b]} must be in 0..{(padded ? S : tg.Length)}.");
            offsets[b] = padded ? b * S : (int)acc;
            acc += tl[b];
        }
        if (!padded && acc > tg.Length) throw new ArgumentException($"{L}: target_lengths add up to {acc} but the concatenated targets hold {tg.Length}.", nameof(targetLengths));
        for (int b = 0; b < N; b++)
            for (int s = 0; s < tl[b]; s++)
            {
                long v = tg[offsets[b] + s];
                if (v < 0 || v >= C || v == blank)
                    throw new ArgumentOutOfRangeException(nameof(targets), v, $"{L}: target {v} (sample {b}, position {s}) must be a class in 0..{C - 1} other than the blank {blank}.");
            }

        var lp = lp3.Detach().ToFloat64().Contiguous().F64Span.ToArray();
        var nll = new double[N];
        var post = new double[N][];   // log Σ_s α·β per (t, c) for each sample
        for (int b = 0; b < N; b++)
            (nll[b], post[b]) = CtcSample(lp, T, N, C, b, (int)il[b], tg, offsets[b], (int)tl[b], blank);

        var each = new double[N];
        for (int b = 0; b < N; b++) each[b] = zeroInfinity && double.IsPositiveInfinity(nll[b]) ? 0 : nll[b];
        double total = 0;
        for (int b = 0; b < N; b++) total += reduction == Reduction.Mean ? each[b] / Math.Max(tl[b], 1) : each[b];
        var dt = logProbs.DType;
        Tensor y = reduction switch
        {
            Reduction.None => unbatched ? Tensor.Scalar(each[0], dt) : Tensor.FromArray(each, N).To(dt),
            Reduction.Sum => Tensor.Scalar(total, dt),
            _ => Tensor.Scalar(total / N, dt),
        };
        return Autograd.Record(y, "CtcLossBackward", [lp3], Derivatives.Fused(new CtcSaved(lp, T, N, C, il, tl, nll, post, reduction, zeroInfinity, unbatched, dt), static (g, saved) =>
        {
            var (lp, T, N, C, il, tl, nll, post, reduction, zeroInfinity, unbatched, dt) = saved;
            var gv = g.ToDoubleArray();
            var grad = new double[T * N * C];
            for (int b = 0; b < N; b++)
            {
                double gb = reduction switch
                {
                    Reduction.None => gv[unbatched ? 0 : b],
                    Reduction.Sum => gv[0],
                    _ => gv[0] / N / Math.Max(tl[b], 1),
                };
                if (zeroInfinity && double.IsPositiveInfinity(nll[b])) continue;
                for (int t = 0; t < il[b]; t++)
                    for (int c = 0; c < C; c++)
                    {
                        int at = (t * N + b) * C + c;
                        double l = lp[at];
                        grad[at] = (Math.Exp(l) - Math.Exp(post[b][t * C + c] + nll[b] - l)) * gb;
                    }
            }
            return [Tensor.FromArray(grad, T, N, C).To(dt)];
        }), lp3);
    }

    /// <summary>
    /// What CTC's backward reads (its row of the derivative table): the log-probabilities (T, N, C) in float64, the input
    /// and target lengths, each sample's negative log-likelihood and log Σ α·β per (t, c), and the options.
    /// </summary>
    private sealed record CtcSaved(double[] Lp, int T, int N, int C, long[] InputLengths, long[] TargetLengths, double[] Nll, double[][] Post,
        Reduction Reduction, bool ZeroInfinity, bool Unbatched, DType DType);

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        double m = Math.Max(a, b);
        return m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
    }

    /// <summary>Forward–backward for one sample: the negative log-likelihood and log Σ_{s: l'(s)=c} α(t, s)·β(t, s).</summary>
    private static (double nll, double[] post) CtcSample(double[] lp, int T, int N, int C, int b, int len, long[] tg, int off, int S, int blank)
    {
        int Lp = 2 * S + 1;
        long Label(int s) => s % 2 == 0 ? blank : tg[off + s / 2];
        double Lpr(int t, int s) => lp[(t * N + b) * C + Label(s)];
        bool Skip(int s) => s >= 2 && s % 2 == 1 && Label(s) != Label(s - 2);
        var post = new double[T * C];
        Array.Fill(post, double.NegativeInfinity);
        if (len == 0) return (S == 0 ? 0 : double.PositiveInfinity, post);
        var alpha = new double[len * Lp];
        var beta = new double[len * Lp];
        Array.Fill(alpha, double.NegativeInfinity);
        Array.Fill(beta, double.NegativeInfinity);
        alpha[0] = Lpr(0, 0);
        if (Lp > 1) alpha[1] = Lpr(0, 1);
        for (int t = 1; t < len; t++)
            for (int s = 0; s < Lp; s++)
            {
                double a = alpha[(t - 1) * Lp + s];
                if (s >= 1) a = LogAdd(a, alpha[(t - 1) * Lp + s - 1]);
                if (Skip(s)) a = LogAdd(a, alpha[(t - 1) * Lp + s - 2]);
                alpha[t * Lp + s] = double.IsNegativeInfinity(a) ? a : a + Lpr(t, s);
            }
        double ll = alpha[(len - 1) * Lp + Lp - 1];
        if (Lp > 1) ll = LogAdd(ll, alpha[(len - 1) * Lp + Lp - 2]);
        beta[(len - 1) * Lp + Lp - 1] = Lpr(len - 1, Lp - 1);
        if (Lp > 1) beta[(len - 1) * Lp + Lp - 2] = Lpr(len - 1, Lp - 2);
        for (int t = len - 2; t >= 0; t--)
            for (int s = 0; s < Lp; s++)
            {
                double v = beta[(t + 1) * Lp + s];
                if (s + 1 < Lp) v = LogAdd(v, beta[(t + 1) * Lp + s + 1]);
                if (s + 2 < Lp && Skip(s + 2)) v = LogAdd(v, beta[(t + 1) * Lp + s + 2]);
                beta[t * Lp + s] = double.IsNegativeInfinity(v) ? v : v + Lpr(t, s);
            }
        for (int t = 0; t < len; t++)
            for (int s = 0; s < Lp; s++)
            {
                int c = (int)Label(s);
                post[t * C + c] = LogAdd(post[t * C + c], alpha[t * Lp + s] + beta[t * Lp + s]);
            }
        return (-ll, post);
    }
}
