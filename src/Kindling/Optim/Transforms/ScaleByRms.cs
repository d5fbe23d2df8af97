using System.Numerics.Tensors;

namespace Kindling.Optim;

/// <summary>RMSprop's averages: "square_avg" s and, when centered, "grad_avg" a.</summary>
public sealed record RmsState(Tensor SquareAvg, Tensor? GradAvg) : TransformState
{
    public override IEnumerable<KeyValuePair<string, Tensor>> Buffers =>
        GradAvg == null ? [new("square_avg", SquareAvg)] : [new("square_avg", SquareAvg), new("grad_avg", GradAvg)];
}

/// <summary>
/// RMSprop's scaling: s ← αs + (1 − α)u²; centered: a ← αa + (1 − α)u and u ← u / (√(s − a²) + ε), else
/// u ← u / (√s + ε) — PyTorch 1.13's operation order.
/// </summary>
public sealed class ScaleByRms(double alpha, double eps, bool centered = false) : GradientTransform
{
    public override TransformState? Init(Tensor param) => new RmsState(Zeros(param), centered ? Zeros(param) : null);

    public override TransformState? Restore(IReadOnlyDictionary<string, Tensor> b, Tensor param) =>
        b.TryGetValue("square_avg", out var s) ? new RmsState(s, centered ? (b.TryGetValue("grad_avg", out var a) ? a : Zeros(param)) : null) : null;

    public override StageOutput<T> Update<T>(in StepContext ctx, TransformState? state)
    {
        var st = (RmsState)(state ?? Init(ctx.Param))!;
        T a = T.CreateTruncating(alpha), ac = T.CreateTruncating(1 - alpha), te = T.CreateTruncating(eps);
        T[] sqAll = (T[])st.SquareAvg.Storage.Data;
        T[]? gaAll = st.GradAvg == null ? null : (T[])st.GradAvg.Storage.Data;
        return new(st, (start, _, u, avg) =>
        {
            int len = u.Length;
            var ss = sqAll.AsSpan(start, len);
            Optimizer.DecayAddSquare(ss, a, ac, u, avg);
            if (gaAll != null)
            {
                var aa = gaAll.AsSpan(start, len);
                TensorPrimitives.Multiply(aa, a, aa);
                TensorPrimitives.MultiplyAdd(u, ac, aa, aa);
                TensorPrimitives.Multiply(aa, aa, avg);
                TensorPrimitives.Subtract(ss, avg, avg);
                TensorPrimitives.Sqrt(avg, avg);
            }
            else TensorPrimitives.Sqrt(ss, avg);
            TensorPrimitives.Add(avg, te, avg);
            TensorPrimitives.Divide(u, avg, u);
        });
    }
}
