using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

internal static unsafe partial class Simd
{
    /// <summary>Runs <paramref name="op"/> over [s, e): whole vectors at the current level, then element by element.</summary>
    public static void ForEach<TOp>(ref TOp op, int s, int e) where TOp : struct, IIndexedKernel
    {
        int i = s;
        var level = Isa.Level;
        if (level == IsaLevel.Vector512)
            for (; i + 16 <= e; i += 16) op.Invoke512(i);
        else if (level == IsaLevel.Vector256)
            for (; i + 8 <= e; i += 8) op.Invoke256(i);
        else if (level == IsaLevel.Vector128)
            for (; i + 4 <= e; i += 4) op.Invoke128(i);
        for (; i < e; i++) op.Invoke(i);
    }

    /// <summary>
    /// Σ op(i) over [s, e) in double, each value also stored to <paramref name="o"/>[i] unless it is null. Vectors are
    /// summed in float over blocks of 1024 elements and widened to double between blocks, so the rounding error stays
    /// at the level of one block; the tail is added element by element. The order depends only on the level and on s, e.
    /// </summary>
    public static double Sum<TOp>(ref TOp op, float* o, int s, int e) where TOp : struct, IIndexedOperator
    {
        int i = s;
        double sum = 0;
        var level = Isa.Level;
        if (level == IsaLevel.Vector512)
        {
            var accD = Vector512<double>.Zero;
            while (i + 16 <= e)
            {
                int end = Math.Min(e, i + 1024);
                var acc = Vector512<float>.Zero;
                for (; i + 16 <= end; i += 16)
                {
                    var v = op.Invoke512(i);
                    if (o != null) v.Store(o + i);
                    acc += v;
                }
                accD += Vector512.WidenLower(acc) + Vector512.WidenUpper(acc);
            }
            sum = Vector512.Sum(accD);
        }
        else if (level == IsaLevel.Vector256)
        {
            var accD = Vector256<double>.Zero;
            while (i + 8 <= e)
            {
                int end = Math.Min(e, i + 1024);
                var acc = Vector256<float>.Zero;
                for (; i + 8 <= end; i += 8)
                {
                    var v = op.Invoke256(i);
                    if (o != null) v.Store(o + i);
                    acc += v;
                }
                accD += Vector256.WidenLower(acc) + Vector256.WidenUpper(acc);
            }
            sum = Vector256.Sum(accD);
        }
        else if (level == IsaLevel.Vector128)
        {
            var accD = Vector128<double>.Zero;
            while (i + 4 <= e)
            {
                int end = Math.Min(e, i + 1024);
                var acc = Vector128<float>.Zero;
                for (; i + 4 <= end; i += 4)
                {
                    var v = op.Invoke128(i);
                    if (o != null) v.Store(o + i);
                    acc += v;
                }
                accD += Vector128.WidenLower(acc) + Vector128.WidenUpper(acc);
            }
            sum = Vector128.Sum(accD);
        }
        for (; i < e; i++)
        {
            float v = op.Invoke(i);
            if (o != null) o[i] = v;
            sum += v;
        }
        return sum;
    }
}
