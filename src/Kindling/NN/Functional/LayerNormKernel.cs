using System.Numerics;
using System.Numerics.Tensors;
using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>What layer norm's backward reads: the input rows, γ, and each row's mean and 1/σ (an explicit saved-state record).</summary>
internal sealed record LayerNormSaved<T>(T[] X, int XOffset, T[]? Gamma, double[] Mean, double[] Rstd, int Rows, int D, int[] Shape, int[] ParamShape, bool HasBias)
    where T : unmanaged, IFloatingPointIeee754<T>;

public static partial class Functional
{
    /// <summary>
    /// Layer norm as one fused row (PyTorch's <c>native_layer_norm</c>): per row of D = ∏normalizedShape values, mean μ and
    /// biased variance σ² in float64 (two passes), y = (x − μ)/√(σ² + eps)·γ + β. Backward with x̂ = (x − μ)·r, r = 1/√(σ² + eps),
    /// g = dy·γ: dx = r·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ_rows dy·x̂, dβ = Σ_rows dy (column sums accumulated in float64).
    /// One output and three gradient buffers instead of the eight temporaries of the composed form.
    /// </summary>
    internal static Tensor LayerNormFused(Tensor input, int paramRank, Tensor? weight, Tensor? bias, double eps) =>
        input.DType == DType.Float32 ? LayerNormFused<float>(input, paramRank, weight, bias, eps) : LayerNormFused<double>(input, paramRank, weight, bias, eps);

    private static Tensor LayerNormFused<T>(Tensor input, int paramRank, Tensor? weight, Tensor? bias, double eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = input.Contiguous();
        int d = 1;
        for (int i = 1; i <= paramRank; i++) d *= x.Dims[^i];
        var xs = (T[])x.Storage.Data;
        int xo = x.Offset, rows = x.NumEl / d;
        var gamma = weight?.Contiguous().Span<T>().ToArray();
        var beta = bias?.Contiguous().Span<T>().ToArray();
        var y = Tensor.Uninit(x.Shape, x.DType);
        var ys = (T[])y.Storage.Data;
        if (rows == 0 || d == 0) throw new ArgumentException($"layer_norm: nothing to normalise in input {input.ShapeString}.", nameof(input));
        var mean = new double[rows];
        var rstd = new double[rows];
        Parallel2.For(rows, Math.Max(1, Parallel2.MinParallel / Math.Max(d, 1)), (r0, n) =>
        {
            for (int r = r0; r < r0 + n; r++)
            {
                var row = xs.AsSpan(xo + r * d, d);
                double s = 0;
                foreach (var v in row) s += double.CreateTruncating(v);
                double mu = s / d, ss = 0;
                foreach (var v in row) { double c = double.CreateTruncating(v) - mu; ss += c * c; }
                double rs = 1 / Math.Sqrt(ss / d + eps);
                mean[r] = mu; rstd[r] = rs;
                var yr = ys.AsSpan(r * d, d);
                for (int j = 0; j < d; j++)
                {
                    T v = T.CreateTruncating((double.CreateTruncating(row[j]) - mu) * rs);
                    if (gamma != null) v *= gamma[j];
                    if (beta != null) v += beta[j];
                    yr[j] = v;
                }
            }
        });
        var saved = new LayerNormSaved<T>(xs, xo, gamma, mean, rstd, rows, d, x.Shape, x.Shape[^paramRank..], bias != null);
        Tensor[] inputs = weight == null ? [x] : bias == null ? [x, weight] : [x, weight, bias];
        return Autograd.Record(y, "NativeLayerNormBackward", inputs, (g, sink) => LayerNormBackward(saved, g, sink), x);
    }

    private static void LayerNormBackward<T>(LayerNormSaved<T> s, Tensor g, GradSink sink) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gc = g.Contiguous();
        var gs = (T[])gc.Storage.Data;
        int go = gc.Offset, d = s.D, rows = s.Rows;
        bool wantX = sink.Needs(0), wantW = s.Gamma != null && sink.Needs(1), wantB = s.HasBias && sink.Needs(2);
        T[]? dx = wantX ? BufferPool.Rent<T>(rows * d) : null;
        int threads = Parallel2.Threads;
        // Column sums per worker (float64), added at the end: no float32 running sum over thousands of rows.
        var dwParts = wantW || wantB ? new double[threads][] : null;
        var dbParts = wantB ? new double[threads][] : null;
        int chunk = (rows + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, w =>
        {
            int r0 = w * chunk, r1 = Math.Min(rows, r0 + chunk);
            var dwp = dwParts != null ? dwParts[w] = new double[d] : null;
            var dbp = dbParts != null ? dbParts[w] = new double[d] : null;
            var gh = new double[d];
            var xh = new double[d];
            for (int r = r0; r < r1; r++)
            {
                double mu = s.Mean[r], rs = s.Rstd[r], sg = 0, sgx = 0;
                int xo = s.XOffset + r * d, gOff = go + r * d;
                for (int j = 0; j < d; j++)
                {
                    double dy = double.CreateTruncating(gs[gOff + j]);
                    double xhat = (double.CreateTruncating(s.X[xo + j]) - mu) * rs;
                    double gj = s.Gamma != null ? dy * double.CreateTruncating(s.Gamma[j]) : dy;
                    gh[j] = gj; xh[j] = xhat;
                    sg += gj; sgx += gj * xhat;
                    if (dwp != null) dwp[j] += dy * xhat;
                    if (dbp != null) dbp[j] += dy;
                }
                if (dx != null)
                {
                    double mg = sg / d, mgx = sgx / d;
                    for (int j = 0; j < d; j++) dx[r * d + j] = T.CreateTruncating(rs * (gh[j] - mg - xh[j] * mgx));
                }
            }
        });
        if (dx != null) sink.AddOwned(0, Tensor.Wrap(dx, s.Shape));
        if (wantW) sink.Add(1, ColumnSum<T>(dwParts!, d).Reshape(s.ParamShape));
        if (wantB) sink.Add(2, ColumnSum<T>(dbParts!, d).Reshape(s.ParamShape));
    }

    private static Tensor ColumnSum<T>(double[]?[] parts, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[d];
        for (int j = 0; j < d; j++)
        {
            double s = 0;
            foreach (var p in parts) if (p != null) s += p[j];
            r[j] = T.CreateTruncating(s);
        }
        return Tensor.Wrap(r, [d]);
    }
}
