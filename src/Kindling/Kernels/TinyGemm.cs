using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kindling.Kernels;

/// <summary>
/// C = α·op(A)·op(B) + β·C for the small products of small models (a 10-128-1 network at batch 64: 64×128×10,
/// 128×10×64, 64×1×128), straight from the operands: no packing into panels, no thread hand-off, no edge tiles — at
/// these sizes those cost more than the arithmetic. Two loop shapes, each vectorised along a contiguous dimension at
/// the current <see cref="Isa.Level"/>:
/// <list type="bullet">
/// <item>B not transposed (rows of B contiguous): each row of C is Σ_p a(i,p)·B[p,:], kept in up to four vector
/// registers across the whole k loop (so C is read and written once) — columns in blocks of four vectors.</item>
/// <item>B transposed, A not (rows of both contiguous along k): each C[i,j] is a dot product along k.</item>
/// </list>
/// Both transposed is left to the blocked GEMM. Sums along k run in order in float32 (k is small here: see
/// <see cref="Applies"/>).
/// </summary>
internal static unsafe class TinyGemm
{
    /// <summary>Products up to this many multiply-adds take this path.</summary>
    internal const long MaxWork = 1L << 17;

    /// <summary>Longest k summed here (a running float32 sum; the blocked GEMM splits longer ones).</summary>
    internal const int MaxK = 512;

    /// <summary>Whether the product is small enough and of a shape this path serves.</summary>
    internal static bool Applies(bool transA, bool transB, int m, int n, int k) =>
        !(transA && transB) && k <= MaxK && (long)m * n * k <= MaxWork;

    /// <summary>Span form (for tests; Gemm.Sgemm has validated the operands before it calls the pointer form).</summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        fixed (float* pa = a, pb = b, pc = c) Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (transB) Dots(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else Rows(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>β·C + α·Σ_p a(i,p)·B[p,:], row by row, columns in register blocks.</summary>
    private static void Rows(bool transA, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        var level = Isa.Level;
        for (int i = 0; i < m; i++)
        {
            // a(i, p) = A[i, p] or, transposed, A[p, i]: the stride between consecutive p.
            float* ai = transA ? a + i : a + (long)i * lda;
            long sa = transA ? lda : 1;
            float* ci = c + (long)i * ldc;
            int j = 0;
            if (level == IsaLevel.Vector512)
            {
                for (; j + 64 <= n; j += 64) Row512x4(k, ai, sa, b + j, ldb, alpha, beta, ci + j);
                for (; j + 16 <= n; j += 16) Row512(k, ai, sa, b + j, ldb, alpha, beta, ci + j);
            }
            else if (level == IsaLevel.Vector256)
            {
                for (; j + 32 <= n; j += 32) Row256x4(k, ai, sa, b + j, ldb, alpha, beta, ci + j);
                for (; j + 8 <= n; j += 8) Row256(k, ai, sa, b + j, ldb, alpha, beta, ci + j);
            }
            for (; j < n; j++)
            {
                float s = 0f;
                for (int p = 0; p < k; p++) s += ai[p * sa] * b[(long)p * ldb + j];
                ci[j] = Finish(s, alpha, beta, ci[j]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float s, float alpha, float beta, float c) => beta == 0f ? alpha * s : alpha * s + beta * c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row512x4(int k, float* ai, long sa, float* bj, int ldb, float alpha, float beta, float* cj)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int p = 0; p < k; p++)
        {
            var av = Vector512.Create(ai[p * sa]);
            float* bp = bj + (long)p * ldb;
            s0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp), s0);
            s1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + 48), s3);
        }
        Store(s0, alpha, beta, cj); Store(s1, alpha, beta, cj + 16); Store(s2, alpha, beta, cj + 32); Store(s3, alpha, beta, cj + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row512(int k, float* ai, long sa, float* bj, int ldb, float alpha, float beta, float* cj)
    {
        Vector512<float> s0 = default;
        for (int p = 0; p < k; p++) s0 = Vector512.FusedMultiplyAdd(Vector512.Create(ai[p * sa]), Vector512.Load(bj + (long)p * ldb), s0);
        Store(s0, alpha, beta, cj);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row256x4(int k, float* ai, long sa, float* bj, int ldb, float alpha, float beta, float* cj)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int p = 0; p < k; p++)
        {
            var av = Vector256.Create(ai[p * sa]);
            float* bp = bj + (long)p * ldb;
            s0 = Vector256.FusedMultiplyAdd(av, Vector256.Load(bp), s0);
            s1 = Vector256.FusedMultiplyAdd(av, Vector256.Load(bp + 8), s1);
            s2 = Vector256.FusedMultiplyAdd(av, Vector256.Load(bp + 16), s2);
            s3 = Vector256.FusedMultiplyAdd(av, Vector256.Load(bp + 24), s3);
        }
        Store(s0, alpha, beta, cj); Store(s1, alpha, beta, cj + 8); Store(s2, alpha, beta, cj + 16); Store(s3, alpha, beta, cj + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row256(int k, float* ai, long sa, float* bj, int ldb, float alpha, float beta, float* cj)
    {
        Vector256<float> s0 = default;
        for (int p = 0; p < k; p++) s0 = Vector256.FusedMultiplyAdd(Vector256.Create(ai[p * sa]), Vector256.Load(bj + (long)p * ldb), s0);
        Store(s0, alpha, beta, cj);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> s, float alpha, float beta, float* c) =>
        (beta == 0f ? s * alpha : s * alpha + Vector512.Load(c) * beta).Store(c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> s, float alpha, float beta, float* c) =>
        (beta == 0f ? s * alpha : s * alpha + Vector256.Load(c) * beta).Store(c);

    /// <summary>C[i,j] = β·C[i,j] + α·⟨op(A) row i, B row j⟩ with A not transposed: dot products along contiguous k.</summary>
    private static void Dots(int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        var level = Isa.Level;
        for (int i = 0; i < m; i++)
        {
            float* ai = a + (long)i * lda;
            for (int j = 0; j < n; j++)
            {
                float* bj = b + (long)j * ldb;
                int p = 0;
                float s = 0f;
                if (level == IsaLevel.Vector512 && k >= 16)
                {
                    Vector512<float> acc = default;
                    for (; p + 16 <= k; p += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(ai + p), Vector512.Load(bj + p), acc);
                    s = Vector512.Sum(acc);
                }
                else if (level == IsaLevel.Vector256 && k >= 8)
                {
                    Vector256<float> acc = default;
                    for (; p + 8 <= k; p += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(ai + p), Vector256.Load(bj + p), acc);
                    s = Vector256.Sum(acc);
                }
                for (; p < k; p++) s += ai[p] * bj[p];
                float* cij = c + (long)i * ldc + j;
                *cij = Finish(s, alpha, beta, *cij);
            }
        }
    }
}
