using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kindling.Kernels;

/// <summary>Which SIMD microkernel <see cref="Gemm.Sgemm"/> uses.</summary>
public enum GemmPath
{
    /// <summary>Pick the fastest path the CPU supports.</summary>
    Auto,
    /// <summary>AVX-512F, 512-bit registers.</summary>
    Vector512,
    /// <summary>AVX2 + FMA, 256-bit registers.</summary>
    Vector256,
    /// <summary>Portable Vector128 code without fused multiply-add.</summary>
    Portable,
}

/// <summary>
/// Dense matrix multiply (BLAS-style GEMM) on row-major storage.
/// </summary>
/// <remarks>
/// Goto/BLIS structure: op(B) is packed into KC×NC panels and op(A) into MC×KC blocks, both laid out
/// micro-panel by micro-panel so the register-tiled microkernel reads them with unit stride; the
/// transposed variants are handled while packing so no transpose is ever materialised.
/// Threads split C into disjoint row (or column) ranges and K is never split; the K blocking depends
/// only on k, so every element of C is produced by the same sequence of operations whatever the
/// thread count or the thread that ran it: results are bit-identical run to run and across thread counts.
/// </remarks>
public static unsafe class Gemm
{
    private static int s_maxThreads = Environment.ProcessorCount;
    private static GemmPath s_path = GemmPath.Auto;

    /// <summary>Upper bound on threads used by one call (default: <see cref="Environment.ProcessorCount"/>).</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set
        {
            if (value < 1)
                throw new ArgumentException($"Gemm.MaxThreads must be at least 1 (was {value}).", nameof(value));
            s_maxThreads = value;
        }
    }

    /// <summary>
    /// Microkernel selection. <see cref="GemmPath.Auto"/> (the default) follows the kernels' SIMD level
    /// (<see cref="Isa.Level"/>: the widest the CPU has, or the <c>KINDLING_ISA</c> environment variable):
    /// 512-bit, 256-bit, or the portable kernel at the scalar level. A narrower path can be asked for here;
    /// a wider one than the level allows silently degrades to the level's.
    /// </summary>
    public static GemmPath Path
    {
        get => s_path;
        set => s_path = value;
    }

    /// <summary>The path that will actually run after resolving <see cref="GemmPath.Auto"/> and CPU support.</summary>
    public static GemmPath EffectivePath => Resolve(s_path);

    private static GemmPath Resolve(GemmPath p)
    {
        var level = Isa.Level;
        var widest = level == IsaLevel.Vector512 ? GemmPath.Vector512 : level == IsaLevel.Vector256 ? GemmPath.Vector256 : GemmPath.Portable;
        if (p == GemmPath.Auto) return widest;
        // Enum order: Vector512 < Vector256 < Portable, i.e. wider paths have smaller values.
        return p < widest ? widest : p;
    }

    // The packers' 256-bit transposes need AVX; the portable path at the scalar level packs with plain copies.
    private static bool PackWithAvx => Isa.Level >= IsaLevel.Vector256;

    // Below this many multiply-adds the packing and dispatch cost more than they save.
    private const long TinyWork = 4096;
    // Below this much work per extra thread, handing a share to the helper costs more than it saves.
    private const long WorkPerThread = 1L << 19;
    // Rough cost of packing one element, in multiply-adds of microkernel time.
    private const long PackTransposeCost = 8, PackCopyCost = 3;

    private sealed class Config
    {
        public required int MR, NR, KC, MC, NC;
        public required delegate*<int, float*, float*, float*, int, float, float, int, int, float*, void> Kernel;
        public required bool Fused;
    }

    // Measured on a 2-core Zen 4 (32 KiB L1d, 1 MiB L2 per core, 32 MiB L3). With the operands in L1,
    // 14×32, 12×32, 8×32, 8×48 and 6×64 zmm tiles all ran at 110-113 GFLOP/s on one core (~peak),
    // while 6×16 and 12×16 ymm tiles reached 85-89; so the 512-bit tile is chosen for its edges:
    // 8 rows divide the common sizes (64…2048, 128, 784) where 14 wastes up to 9%.
    // The MC×KC A block (128×512×4 = 256 KiB) sits in L2; the KC×NC B panel in L3, each KC×NR
    // micro-panel being reused across the MC/MR A micro-panels. KC = 512 beat 256 and 384 by 5-10%
    // (fewer passes that reload and store C); MC ≈ 128 beat 252 at KC = 512.
    private static readonly Config s_cfg512 = new() { MR = 8, NR = 32, KC = 512, MC = 128, NC = 2048, Kernel = &K512, Fused = true };
    private static readonly Config s_cfg256 = new() { MR = 6, NR = 16, KC = 512, MC = 120, NC = 2048, Kernel = &K256, Fused = true };
    private static readonly Config s_cfg128 = new() { MR = 4, NR = 8, KC = 256, MC = 128, NC = 1024, Kernel = &K128, Fused = false };

    private static Config GetConfig(GemmPath p) => p switch
    {
        GemmPath.Vector512 => s_cfg512,
        GemmPath.Vector256 => s_cfg256,
        _ => s_cfg128,
    };

    /// <summary>
    /// C[m×n] = alpha·op(A)·op(B) + beta·C, row-major. op(A) is A (m×k, row stride <paramref name="lda"/>)
    /// or, when <paramref name="transA"/>, the transpose of A stored k×m. Likewise for B (k×n, or n×k when
    /// <paramref name="transB"/>). When beta is 0, C is overwritten without being read.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(nameof(Sgemm), transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0)
            return;
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (k == 0 || alpha == 0f)
            {
                ScaleC(pc, m, n, ldc, beta);
                return;
            }
            long work = (long)m * n * k;
            // Small models' products (see TinyGemm): no packing, no thread hand-off. A forced Path means "this
            // blocked micro-kernel" (how the tests reach each one), so only Auto takes the shortcut.
            if (s_path == GemmPath.Auto && TinyGemm.Applies(transA, transB, m, n, k))
            {
                TinyGemm.Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                return;
            }
            if (work <= TinyWork)
            {
                SgemmTiny(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                return;
            }
            Config cfg = GetConfig(Resolve(s_path));
            int threads = (int)Math.Min(s_maxThreads, Math.Max(1, work / WorkPerThread));
            if (threads <= 1)
            {
                SgemmBlocked(cfg, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                return;
            }
            SgemmParallel(cfg, threads, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }

    private static void SgemmParallel(Config cfg, int threads, bool transA, bool transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        // Split whichever dimension leaves the least padded work on the busiest thread; splits fall
        // on tile boundaries so no extra edge tiles appear.
        // Each thread also packs its share of the split operand and all of the other one, so the
        // packing (a transposing pack costs several multiply-adds per element, a copy fewer) is counted too.
        long tilesM = (m + cfg.MR - 1) / cfg.MR, tilesN = (n + cfg.NR - 1) / cfg.NR;
        long packA = transA ? PackCopyCost : PackTransposeCost, packB = transB ? PackTransposeCost : PackCopyCost;
        long rowsM = (tilesM + threads - 1) / threads * cfg.MR, colsN = (tilesN + threads - 1) / threads * cfg.NR;
        long costSplitM = rowsM * tilesN * cfg.NR * k + (Math.Min(rowsM, m) * packA + (long)n * packB) * k;
        long costSplitN = colsN * tilesM * cfg.MR * k + ((long)m * packA + Math.Min(colsN, n) * packB) * k;
        // Large problems keep the pure tile count (ties → columns): there A is re-packed per NC panel and
        // the shared B panel's cache footprint matters more than this simple packing term captures.
        if ((long)m * n * k >= 1L << 28)
        {
            costSplitM = (tilesM + threads - 1) / threads * tilesN;
            costSplitN = (tilesN + threads - 1) / threads * tilesM;
        }
        bool splitN = costSplitN <= costSplitM;
        long tiles = splitN ? tilesN : tilesM;
        if (tiles < threads)
            threads = (int)tiles;
        int tileSize = splitN ? cfg.NR : cfg.MR;
        long work = (long)m * n * k;
        int extent = splitN ? n : m;
        var job = new Job
        {
            Cfg = cfg, SplitN = splitN, Tiles = tiles, TileSize = tileSize, Extent = extent,
            TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = a, Lda = lda, B = b, Ldb = ldb, C = c, Ldc = ldc,
        };
        // Big problems get two chunks per thread so a descheduled thread's share can be rebalanced;
        // smaller ones keep one, because each chunk re-packs the operand it does not split.
        int chunks = (int)Math.Min(tiles, work >= 1L << 28 ? 2 * threads : threads);
        // One tile (a narrow product, e.g. a convolution with few output channels on one image) leaves nothing to
        // share, and waking zero helpers is not a valid request.
        if (threads <= 1 || !Workers.TryRun(ref job, threads, Math.Min(chunks, 255)))
            RunChunk(ref job, 0, 1);
    }

    private struct Job
    {
        public Config Cfg;
        public int TileSize, Extent, M, N, K, Lda, Ldb, Ldc;
        public long Tiles;
        public bool SplitN, TransA, TransB;
        public float Alpha, Beta;
        public float* A, B, C;
    }

    private static void RunChunk(ref Job j, int t, int chunks)
    {
        int lo = (int)Math.Min(j.Extent, j.Tiles * t / chunks * j.TileSize);
        int hi = (int)Math.Min(j.Extent, j.Tiles * (t + 1) / chunks * j.TileSize);
        if (hi <= lo)
            return;
        if (j.SplitN)
            SgemmBlocked(j.Cfg, j.TransA, j.TransB, j.M, hi - lo, j.K, j.Alpha, j.A, j.Lda,
                j.TransB ? j.B + (long)lo * j.Ldb : j.B + lo, j.Ldb, j.Beta, j.C + lo, j.Ldc);
        else
            SgemmBlocked(j.Cfg, j.TransA, j.TransB, hi - lo, j.N, j.K, j.Alpha,
                j.TransA ? j.A + lo : j.A + (long)lo * j.Lda, j.Lda, j.B, j.Ldb, j.Beta, j.C + (long)lo * j.Ldc, j.Ldc);
    }

    // Persistent helper threads. Thread-pool dispatch (Parallel.For) was measured to leave the second
    // core idle for much of a sub-millisecond multiply: the caller often drained both chunks before a
    // pool worker woke. Chunks are claimed from a shared counter rather than assigned, so when a helper
    // is slow to wake or is descheduled (another process on the core) the caller simply takes its chunk
    // instead of waiting for it. Which thread runs a chunk never changes its arithmetic.
    private static class Workers
    {
        private static readonly object s_gate = new();
        private static Thread[] s_threads = [];
        private static Job s_job;
        // generation << 16 | chunk count << 8 | next unclaimed chunk: one word, so a claim can never
        // pair one job's counter with another job's data.
        private static long s_state;
        private static long s_generation;
        private static int s_done;
        private static readonly SemaphoreSlim s_wake = new(0);
        private static int s_sleepers;
        // Set while a caller is inside TryRun: a helper that woke too late for one phase keeps spinning
        // for the next phase or call instead of going back to sleep (a wake-up costs ~50 µs).
        private static volatile bool s_active;
        // Long enough to bridge the gap between the GEMMs of one training step, short enough that an
        // idle helper soon stops competing with the thread pool for the two cores.
        private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 10000; // 100 µs

        /// <summary>
        /// Runs the job as <paramref name="chunks"/> chunks on up to <paramref name="threads"/> threads,
        /// the caller included. Returns false without doing anything when another call owns the helpers.
        /// </summary>
        public static bool TryRun(ref Job job, int threads, int chunks)
        {
            if (!Monitor.TryEnter(s_gate))
                return false;
            try
            {
                EnsureThreads(threads - 1);
                s_active = true;
                s_job = job;
                Volatile.Write(ref s_done, 0);
                long generation = ++s_generation;
                Volatile.Write(ref s_state, (generation << 16) | ((long)chunks << 8));
                if (Volatile.Read(ref s_sleepers) > 0)
                    s_wake.Release(threads - 1);
                ClaimAndRun(generation);
                var spin = new SpinWait();
                while (Volatile.Read(ref s_done) != chunks)
                    spin.SpinOnce(sleep1Threshold: -1);
                return true;
            }
            finally
            {
                s_active = false;
                Monitor.Exit(s_gate);
            }
        }

        private static void ClaimAndRun(long generation)
        {
            while (true)
            {
                long state = Volatile.Read(ref s_state);
                int chunks = (int)(state >> 8) & 0xFF, next = (int)state & 0xFF;
                if (state >> 16 != generation || next >= chunks)
                    return;
                if (Interlocked.CompareExchange(ref s_state, state + 1, state) != state)
                    continue;
                // The job cannot change while one of its chunks is unfinished: the caller waits for all.
                RunChunk(ref s_job, next, chunks);
                Interlocked.Increment(ref s_done);
            }
        }

        private static void EnsureThreads(int count)
        {
            if (s_threads.Length >= count)
                return;
            var grown = new Thread[count];
            Array.Copy(s_threads, grown, s_threads.Length);
            for (int i = s_threads.Length; i < count; i++)
            {
                // Captured before the caller publishes its job, so a thread that starts late still sees it as new.
                long seen = s_generation;
                grown[i] = new Thread(() => Loop(seen)) { IsBackground = true, Name = $"Kindling.Gemm helper {i + 1}" };
                grown[i].Start();
            }
            s_threads = grown;
        }

        private static void Loop(long seen)
        {
            while (true)
            {
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                var spin = new SpinWait();
                while (Volatile.Read(ref s_state) >> 16 == seen)
                {
                    if (s_active)
                        start = System.Diagnostics.Stopwatch.GetTimestamp();
                    if (System.Diagnostics.Stopwatch.GetTimestamp() - start <= s_spinTicks)
                    {
                        spin.SpinOnce(sleep1Threshold: -1);
                        continue;
                    }
                    Interlocked.Increment(ref s_sleepers);
                    // Re-check after registering as a sleeper so a job published in between is not missed;
                    // the timeout bounds the damage of any lost wake-up.
                    if (Volatile.Read(ref s_state) >> 16 == seen)
                        s_wake.Wait(20);
                    Interlocked.Decrement(ref s_sleepers);
                    start = System.Diagnostics.Stopwatch.GetTimestamp();
                    spin = default;
                }
                seen = Volatile.Read(ref s_state) >> 16;
                ClaimAndRun(seen);
            }
        }
    }

    // Split `total` into equal blocks no larger than `max`, rounded up to `quantum`, so a trailing
    // sliver (e.g. K=784 with KC=256 → 16) never gets its own poorly amortised pass.
    private static int BalancedBlock(int total, int max, int quantum)
    {
        int blocks = (total + max - 1) / max;
        int size = (total + blocks - 1) / blocks;
        size = (size + quantum - 1) / quantum * quantum;
        return Math.Min(size, Math.Max(max, quantum));
    }

    [ThreadStatic] private static float[]? t_bufA;
    [ThreadStatic] private static float[]? t_bufB;
    [ThreadStatic] private static float[]? t_bufT;

    // Pinned so the raw pointer stays valid; 64-byte aligned so packed micro-panels start on cache lines;
    // the slack past the aligned start absorbs PackRowsTransposed's final spill.
    private static float* Buffer(ref float[]? buf, long floats)
    {
        if (buf is null || buf.Length < floats + 64)
            buf = GC.AllocateUninitializedArray<float>((int)(floats + 64), pinned: true);
        nint p = (nint)Unsafe.AsPointer(ref buf[0]);
        return (float*)((p + 63) & ~(nint)63);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SgemmBlocked(Config cfg, bool transA, bool transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        int MR = cfg.MR, NR = cfg.NR;
        int kcMax = BalancedBlock(k, cfg.KC, 1);
        int mcMax = BalancedBlock(m, cfg.MC, MR);
        int ncMax = BalancedBlock(n, cfg.NC, NR);
        int mcPad = (Math.Min(mcMax, m) + MR - 1) / MR * MR;
        int ncPad = (Math.Min(ncMax, n) + NR - 1) / NR * NR;
        float* ap = Buffer(ref t_bufA, (long)mcPad * kcMax);
        float* bp = Buffer(ref t_bufB, (long)ncPad * kcMax);
        float* tmp = Buffer(ref t_bufT, MR * NR);
        var kernel = cfg.Kernel;

        for (int jc = 0; jc < n; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                PackB(transB, b, ldb, pc, jc, kc, nc, NR, bp);
                // Later K blocks accumulate onto the partial sums already in C.
                float betaEff = pc == 0 ? beta : 1f;
                for (int ic = 0; ic < m; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, m - ic);
                    PackA(transA, a, lda, ic, pc, mc, kc, MR, ap);
                    for (int jr = 0; jr < nc; jr += NR)
                    {
                        int nr = Math.Min(NR, nc - jr);
                        float* bpj = bp + (long)jr * kc;
                        float* cj = c + (long)ic * ldc + jc + jr;
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            int mr = Math.Min(MR, mc - ir);
                            kernel(kc, ap + (long)ir * kc, bpj, cj + (long)ir * ldc, ldc, alpha, betaEff, mr, nr, tmp);
                        }
                    }
                }
            }
        }
    }

    // Packs op(A)[ic.., pc..] (mc×kc) as ⌈mc/MR⌉ micro-panels, each kc columns of MR values;
    // rows past mc are zero so the microkernel never needs a row-count branch in its inner loop.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transA, float* a, int lda, int ic, int pc, int mc, int kc, int MR, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* d = dst + (long)ir * kc;
            if (!transA)
            {
                PackRowsTransposed(a + (long)(ic + ir) * lda + pc, lda, mr, kc, MR, d);
                continue;
            }
            // Stored Aᵀ already has each packed column contiguous: a plain copy per p.
            if (MR == 8 && mr == 8 && PackWithAvx)
            {
                float* src8 = a + (long)pc * lda + ic + ir;
                int p8 = 0;
                for (; p8 + 4 <= kc; p8 += 4)
                {
                    Vector256<float> v0 = Avx.LoadVector256(src8 + (long)p8 * lda);
                    Vector256<float> v1 = Avx.LoadVector256(src8 + (long)(p8 + 1) * lda);
                    Vector256<float> v2 = Avx.LoadVector256(src8 + (long)(p8 + 2) * lda);
                    Vector256<float> v3 = Avx.LoadVector256(src8 + (long)(p8 + 3) * lda);
                    Avx.Store(d + (long)p8 * 8, v0);
                    Avx.Store(d + (long)p8 * 8 + 8, v1);
                    Avx.Store(d + (long)p8 * 8 + 16, v2);
                    Avx.Store(d + (long)p8 * 8 + 24, v3);
                }
                for (; p8 < kc; p8++)
                    Avx.Store(d + (long)p8 * 8, Avx.LoadVector256(src8 + (long)p8 * lda));
                continue;
            }
            for (int p = 0; p < kc; p++)
            {
                float* src = a + (long)(pc + p) * lda + ic + ir;
                float* dp = d + (long)p * MR;
                int r = 0;
                for (; r < mr; r++)
                    dp[r] = src[r];
                for (; r < MR; r++)
                    dp[r] = 0f;
            }
        }
    }

    // Packs op(B)[pc.., jc..] (kc×nc) as ⌈nc/NR⌉ micro-panels, each kc rows of NR values, zero-padded.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(bool transB, float* b, int ldb, int pc, int jc, int kc, int nc, int NR, float* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* d = dst + (long)jr * kc;
            if (!transB)
            {
                if (NR == 32 && nr == 32 && Isa.Level == IsaLevel.Vector512)
                {
                    float* src32 = b + (long)pc * ldb + jc + jr;
                    for (int p = 0; p < kc; p++)
                    {
                        Avx512F.Store(d + (long)p * 32, Avx512F.LoadVector512(src32 + (long)p * ldb));
                        Avx512F.Store(d + (long)p * 32 + 16, Avx512F.LoadVector512(src32 + (long)p * ldb + 16));
                    }
                    continue;
                }
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * ldb + jc + jr;
                    float* dp = d + (long)p * NR;
                    new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(dp, nr));
                    for (int j = nr; j < NR; j++)
                        dp[j] = 0f;
                }
            }
            else
            {
                PackRowsTransposed(b + (long)(jc + jr) * ldb + pc, ldb, nr, kc, NR, d);
            }
        }
    }

    // dst[p*ld + r] = src[r*stride + p] for r < rows, zero for rows ≤ r < ld: the strided-operand case of
    // both packers. Done as 8×8 register transposes because the scalar gather/scatter it replaces cost as
    // much as the multiply itself on the MLP shapes. A group narrower than 8 (ld = 14 or 6) stores a full
    // vector that spills into the next p's slots; p ascends, so that slot is rewritten right after, and
    // the final spill lands in the next micro-panel (packed later) or the buffer's slack.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRowsTransposed(float* src, long stride, int rows, int kc, int ld, float* dst)
    {
        int p = 0;
        if (PackWithAvx && (ld & 7) == 0 && ld <= 32)
        {
            // Fast path: whole 8-row groups, transposed in registers and stored straight into place.
            int kc8 = kc & ~7;
            for (int g = 0; g < ld; g += 8)
            {
                float* s = src + g * stride;
                float* dg = dst + g;
                int valid = rows - g;
                if (valid >= 8)
                {
                    for (int pp = 0; pp < kc8; pp += 8)
                        Transpose8x8Store(
                            Avx.LoadVector256(s + pp), Avx.LoadVector256(s + stride + pp),
                            Avx.LoadVector256(s + 2 * stride + pp), Avx.LoadVector256(s + 3 * stride + pp),
                            Avx.LoadVector256(s + 4 * stride + pp), Avx.LoadVector256(s + 5 * stride + pp),
                            Avx.LoadVector256(s + 6 * stride + pp), Avx.LoadVector256(s + 7 * stride + pp),
                            dg + (long)pp * ld, ld);
                }
                else
                {
                    for (int pp = 0; pp < kc8; pp += 8)
                    {
                        Vector256<float> z = Vector256<float>.Zero;
                        Transpose8x8Store(
                            valid > 0 ? Avx.LoadVector256(s + pp) : z,
                            valid > 1 ? Avx.LoadVector256(s + stride + pp) : z,
                            valid > 2 ? Avx.LoadVector256(s + 2 * stride + pp) : z,
                            valid > 3 ? Avx.LoadVector256(s + 3 * stride + pp) : z,
                            valid > 4 ? Avx.LoadVector256(s + 4 * stride + pp) : z,
                            valid > 5 ? Avx.LoadVector256(s + 5 * stride + pp) : z,
                            valid > 6 ? Avx.LoadVector256(s + 6 * stride + pp) : z,
                            z, dg + (long)pp * ld, ld);
                    }
                }
            }
            p = kc8;
        }
        else if (PackWithAvx && ld <= 32)
        {
            int groups = (ld + 7) / 8;
            Vector256<float>* t = stackalloc Vector256<float>[32];
            for (; p + 8 <= kc; p += 8)
            {
                for (int g = 0; g < groups; g++)
                {
                    Vector256<float>* tg = t + g * 8;
                    for (int q = 0; q < 8; q++)
                    {
                        int r = g * 8 + q;
                        tg[q] = r < rows ? Avx.LoadVector256(src + r * stride + p) : Vector256<float>.Zero;
                    }
                    Transpose8x8(tg);
                }
                for (int q = 0; q < 8; q++)
                {
                    float* dp = dst + (long)(p + q) * ld;
                    for (int g = 0; g < groups; g++)
                        Avx.Store(dp + g * 8, t[g * 8 + q]);
                }
            }
        }
        for (; p < kc; p++)
        {
            float* dp = dst + (long)p * ld;
            for (int r = 0; r < ld; r++)
                dp[r] = r < rows ? src[r * stride + p] : 0f;
        }
    }

    // Transposes the 8×8 block whose rows are r0…r7 and stores row q of the result at d + q·ld.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8Store(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* d, long ld)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + ld, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * ld, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * ld, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * ld, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * ld, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * ld, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * ld, Avx.Permute2x128(u3, u7, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(Vector256<float>* r)
    {
        Vector256<float> t0 = Avx.UnpackLow(r[0], r[1]), t1 = Avx.UnpackHigh(r[0], r[1]);
        Vector256<float> t2 = Avx.UnpackLow(r[2], r[3]), t3 = Avx.UnpackHigh(r[2], r[3]);
        Vector256<float> t4 = Avx.UnpackLow(r[4], r[5]), t5 = Avx.UnpackHigh(r[4], r[5]);
        Vector256<float> t6 = Avx.UnpackLow(r[6], r[7]), t7 = Avx.UnpackHigh(r[6], r[7]);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        r[0] = Avx.Permute2x128(u0, u4, 0x20);
        r[1] = Avx.Permute2x128(u1, u5, 0x20);
        r[2] = Avx.Permute2x128(u2, u6, 0x20);
        r[3] = Avx.Permute2x128(u3, u7, 0x20);
        r[4] = Avx.Permute2x128(u0, u4, 0x31);
        r[5] = Avx.Permute2x128(u1, u5, 0x31);
        r[6] = Avx.Permute2x128(u2, u6, 0x31);
        r[7] = Avx.Permute2x128(u3, u7, 0x31);
    }

    // Writes the valid mr×nr corner of a spilled accumulator tile with exactly the rounding the full-tile
    // vector store uses, so an element's value never depends on whether it fell in an edge tile.
    private static void StoreEdge(float* t, int ldt, float* c, int ldc, float alpha, float beta, int mr, int nr, bool fused)
    {
        for (int r = 0; r < mr; r++)
        {
            float* tr = t + r * ldt;
            float* cr = c + (long)r * ldc;
            for (int j = 0; j < nr; j++)
            {
                if (beta == 0f)
                    cr[j] = tr[j] * alpha;
                else if (fused)
                    cr[j] = MathF.FusedMultiplyAdd(tr[j], alpha, cr[j] * beta);
                else
                    cr[j] = cr[j] * beta + tr[j] * alpha;
            }
        }
    }

    private static void ScaleC(float* c, int m, int n, int ldc, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f)
                row.Clear();
            else if (beta != 1f)
                for (int j = 0; j < n; j++)
                    row[j] *= beta;
        }
    }

    private static void SgemmTiny(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
                    float bv = transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                    s += av * bv;
                }
                float* cij = c + (long)i * ldc + j;
                *cij = beta == 0f ? alpha * s : alpha * s + beta * *cij;
            }
        }
    }

    private static void Validate(string fn, bool transA, bool transB, int m, int n, int k,
        int aLen, int lda, int bLen, int ldb, int cLen, int ldc)
    {
        if (m < 0) throw new ArgumentException($"{fn}: m must be non-negative (was {m}).", nameof(m));
        if (n < 0) throw new ArgumentException($"{fn}: n must be non-negative (was {n}).", nameof(n));
        if (k < 0) throw new ArgumentException($"{fn}: k must be non-negative (was {k}).", nameof(k));
        CheckOperand(fn, "a", "lda", transA ? k : m, transA ? m : k, aLen, lda);
        CheckOperand(fn, "b", "ldb", transB ? n : k, transB ? k : n, bLen, ldb);
        CheckOperand(fn, "c", "ldc", m, n, cLen, ldc);
    }

    private static void CheckOperand(string fn, string name, string ldName, int rows, int cols, int length, int ld)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentException($"{fn}: {ldName} must be at least max(1, {cols}) for a {rows}x{cols} stored {name} (was {ld}).", ldName);
        if (rows == 0 || cols == 0)
            return;
        long need = (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"{fn}: {name} has {length} elements but a {rows}x{cols} matrix with {ldName}={ld} needs {need}.", name);
    }

    /// <summary>
    /// Double-precision counterpart of <see cref="Sgemm"/> (same semantics). Meant for float64 gradient
    /// checks: a straightforward vectorised row-times-panel loop rather than a tuned kernel.
    /// </summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        Validate(nameof(Dgemm), transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0)
            return;
        double[] arow = ArrayPool<double>.Shared.Rent(Math.Max(k, 1));
        double[] acc = ArrayPool<double>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < m; i++)
            {
                Span<double> sum = acc.AsSpan(0, n);
                sum.Clear();
                if (k != 0 && alpha != 0.0)
                {
                    Span<double> ai = arow.AsSpan(0, k);
                    if (transA)
                        for (int p = 0; p < k; p++)
                            ai[p] = a[p * lda + i];
                    else
                        a.Slice(i * lda, k).CopyTo(ai);
                    if (transB)
                    {
                        // Rows of the stored B are contiguous, so each element is a unit-stride dot product.
                        for (int j = 0; j < n; j++)
                            sum[j] = Dot(ai, b.Slice(j * ldb, k));
                    }
                    else
                    {
                        // i-k-j order: stream rows of B through a row accumulator with unit stride.
                        for (int p = 0; p < k; p++)
                        {
                            double av = ai[p];
                            if (av != 0.0)
                                Axpy(av, b.Slice(p * ldb, n), sum);
                        }
                    }
                }
                Span<double> ci = c.Slice(i * ldc, n);
                for (int j = 0; j < n; j++)
                    ci[j] = beta == 0.0 ? alpha * sum[j] : alpha * sum[j] + beta * ci[j];
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(arow);
            ArrayPool<double>.Shared.Return(acc);
        }
    }

    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int i = 0;
        double s = 0.0;
        if (Isa.Level >= IsaLevel.Vector256 && x.Length >= System.Numerics.Vector<double>.Count)
        {
            var vs = System.Numerics.Vector<double>.Zero;
            int w = System.Numerics.Vector<double>.Count;
            for (; i + w <= x.Length; i += w)
                vs += new System.Numerics.Vector<double>(x.Slice(i, w)) * new System.Numerics.Vector<double>(y.Slice(i, w));
            s = System.Numerics.Vector.Sum(vs);
        }
        for (; i < x.Length; i++)
            s += x[i] * y[i];
        return s;
    }

    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int i = 0;
        if (Isa.Level >= IsaLevel.Vector256)
        {
            int w = System.Numerics.Vector<double>.Count;
            var va = new System.Numerics.Vector<double>(alpha);
            for (; i + w <= x.Length; i += w)
                (new System.Numerics.Vector<double>(y.Slice(i, w)) + va * new System.Numerics.Vector<double>(x.Slice(i, w))).CopyTo(y.Slice(i, w));
        }
        for (; i < x.Length; i++)
            y[i] += alpha * x[i];
    }

    // ---- Generated microkernels (see the tile comments); bodies are fully unrolled so every
    // accumulator is its own local and the JIT can keep them all in registers. ----

    // 8x32 tile: 16 accumulators + 2 B vectors + 1 broadcast must stay in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void K512(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta, int mr, int nr, float* t)
    {
        Vector512<float> c0_0 = default; Vector512<float> c0_1 = default;
        Vector512<float> c1_0 = default; Vector512<float> c1_1 = default;
        Vector512<float> c2_0 = default; Vector512<float> c2_1 = default;
        Vector512<float> c3_0 = default; Vector512<float> c3_1 = default;
        Vector512<float> c4_0 = default; Vector512<float> c4_1 = default;
        Vector512<float> c5_0 = default; Vector512<float> c5_1 = default;
        Vector512<float> c6_0 = default; Vector512<float> c6_1 = default;
        Vector512<float> c7_0 = default; Vector512<float> c7_1 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Avx512F.LoadVector512(b + 0);
            Vector512<float> b1 = Avx512F.LoadVector512(b + 16);
            Vector512<float> a0 = Vector512.Create(a[0]);
            c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(a0, b1, c0_1);
            Vector512<float> a1 = Vector512.Create(a[1]);
            c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(a1, b1, c1_1);
            Vector512<float> a2 = Vector512.Create(a[2]);
            c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(a2, b1, c2_1);
            Vector512<float> a3 = Vector512.Create(a[3]);
            c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(a3, b1, c3_1);
            Vector512<float> a4 = Vector512.Create(a[4]);
            c4_0 = Avx512F.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Avx512F.FusedMultiplyAdd(a4, b1, c4_1);
            Vector512<float> a5 = Vector512.Create(a[5]);
            c5_0 = Avx512F.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Avx512F.FusedMultiplyAdd(a5, b1, c5_1);
            Vector512<float> a6 = Vector512.Create(a[6]);
            c6_0 = Avx512F.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Avx512F.FusedMultiplyAdd(a6, b1, c6_1);
            Vector512<float> a7 = Vector512.Create(a[7]);
            c7_0 = Avx512F.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Avx512F.FusedMultiplyAdd(a7, b1, c7_1);
            a += 8;
            b += 32;
        }
        Vector512<float> va = Vector512.Create(alpha);
        if (mr == 8 && nr == 32)
        {
            if (beta == 0f)
            {
                Avx512F.Store(c + 0L * ldc + 0, c0_0 * va);
                Avx512F.Store(c + 0L * ldc + 16, c0_1 * va);
                Avx512F.Store(c + 1L * ldc + 0, c1_0 * va);
                Avx512F.Store(c + 1L * ldc + 16, c1_1 * va);
                Avx512F.Store(c + 2L * ldc + 0, c2_0 * va);
                Avx512F.Store(c + 2L * ldc + 16, c2_1 * va);
                Avx512F.Store(c + 3L * ldc + 0, c3_0 * va);
                Avx512F.Store(c + 3L * ldc + 16, c3_1 * va);
                Avx512F.Store(c + 4L * ldc + 0, c4_0 * va);
                Avx512F.Store(c + 4L * ldc + 16, c4_1 * va);
                Avx512F.Store(c + 5L * ldc + 0, c5_0 * va);
                Avx512F.Store(c + 5L * ldc + 16, c5_1 * va);
                Avx512F.Store(c + 6L * ldc + 0, c6_0 * va);
                Avx512F.Store(c + 6L * ldc + 16, c6_1 * va);
                Avx512F.Store(c + 7L * ldc + 0, c7_0 * va);
                Avx512F.Store(c + 7L * ldc + 16, c7_1 * va);
            }
            else
            {
                Vector512<float> vb = Vector512.Create(beta);
                Avx512F.Store(c + 0L * ldc + 0, Avx512F.FusedMultiplyAdd(c0_0, va, Avx512F.LoadVector512(c + 0L * ldc + 0) * vb));
                Avx512F.Store(c + 0L * ldc + 16, Avx512F.FusedMultiplyAdd(c0_1, va, Avx512F.LoadVector512(c + 0L * ldc + 16) * vb));
                Avx512F.Store(c + 1L * ldc + 0, Avx512F.FusedMultiplyAdd(c1_0, va, Avx512F.LoadVector512(c + 1L * ldc + 0) * vb));
                Avx512F.Store(c + 1L * ldc + 16, Avx512F.FusedMultiplyAdd(c1_1, va, Avx512F.LoadVector512(c + 1L * ldc + 16) * vb));
                Avx512F.Store(c + 2L * ldc + 0, Avx512F.FusedMultiplyAdd(c2_0, va, Avx512F.LoadVector512(c + 2L * ldc + 0) * vb));
                Avx512F.Store(c + 2L * ldc + 16, Avx512F.FusedMultiplyAdd(c2_1, va, Avx512F.LoadVector512(c + 2L * ldc + 16) * vb));
                Avx512F.Store(c + 3L * ldc + 0, Avx512F.FusedMultiplyAdd(c3_0, va, Avx512F.LoadVector512(c + 3L * ldc + 0) * vb));
                Avx512F.Store(c + 3L * ldc + 16, Avx512F.FusedMultiplyAdd(c3_1, va, Avx512F.LoadVector512(c + 3L * ldc + 16) * vb));
                Avx512F.Store(c + 4L * ldc + 0, Avx512F.FusedMultiplyAdd(c4_0, va, Avx512F.LoadVector512(c + 4L * ldc + 0) * vb));
                Avx512F.Store(c + 4L * ldc + 16, Avx512F.FusedMultiplyAdd(c4_1, va, Avx512F.LoadVector512(c + 4L * ldc + 16) * vb));
                Avx512F.Store(c + 5L * ldc + 0, Avx512F.FusedMultiplyAdd(c5_0, va, Avx512F.LoadVector512(c + 5L * ldc + 0) * vb));
                Avx512F.Store(c + 5L * ldc + 16, Avx512F.FusedMultiplyAdd(c5_1, va, Avx512F.LoadVector512(c + 5L * ldc + 16) * vb));
                Avx512F.Store(c + 6L * ldc + 0, Avx512F.FusedMultiplyAdd(c6_0, va, Avx512F.LoadVector512(c + 6L * ldc + 0) * vb));
                Avx512F.Store(c + 6L * ldc + 16, Avx512F.FusedMultiplyAdd(c6_1, va, Avx512F.LoadVector512(c + 6L * ldc + 16) * vb));
                Avx512F.Store(c + 7L * ldc + 0, Avx512F.FusedMultiplyAdd(c7_0, va, Avx512F.LoadVector512(c + 7L * ldc + 0) * vb));
                Avx512F.Store(c + 7L * ldc + 16, Avx512F.FusedMultiplyAdd(c7_1, va, Avx512F.LoadVector512(c + 7L * ldc + 16) * vb));
            }
            return;
        }
        Avx512F.Store(t + 0, c0_0);
        Avx512F.Store(t + 16, c0_1);
        Avx512F.Store(t + 32, c1_0);
        Avx512F.Store(t + 48, c1_1);
        Avx512F.Store(t + 64, c2_0);
        Avx512F.Store(t + 80, c2_1);
        Avx512F.Store(t + 96, c3_0);
        Avx512F.Store(t + 112, c3_1);
        Avx512F.Store(t + 128, c4_0);
        Avx512F.Store(t + 144, c4_1);
        Avx512F.Store(t + 160, c5_0);
        Avx512F.Store(t + 176, c5_1);
        Avx512F.Store(t + 192, c6_0);
        Avx512F.Store(t + 208, c6_1);
        Avx512F.Store(t + 224, c7_0);
        Avx512F.Store(t + 240, c7_1);
        StoreEdge(t, 32, c, ldc, alpha, beta, mr, nr, true);
    }

    // 6x16 tile: 12 accumulators + 2 B vectors + 1 broadcast must stay in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void K256(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta, int mr, int nr, float* t)
    {
        Vector256<float> c0_0 = default; Vector256<float> c0_1 = default;
        Vector256<float> c1_0 = default; Vector256<float> c1_1 = default;
        Vector256<float> c2_0 = default; Vector256<float> c2_1 = default;
        Vector256<float> c3_0 = default; Vector256<float> c3_1 = default;
        Vector256<float> c4_0 = default; Vector256<float> c4_1 = default;
        Vector256<float> c5_0 = default; Vector256<float> c5_1 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Avx.LoadVector256(b + 0);
            Vector256<float> b1 = Avx.LoadVector256(b + 8);
            Vector256<float> a0 = Vector256.Create(a[0]);
            c0_0 = Fma.MultiplyAdd(a0, b0, c0_0);
            c0_1 = Fma.MultiplyAdd(a0, b1, c0_1);
            Vector256<float> a1 = Vector256.Create(a[1]);
            c1_0 = Fma.MultiplyAdd(a1, b0, c1_0);
            c1_1 = Fma.MultiplyAdd(a1, b1, c1_1);
            Vector256<float> a2 = Vector256.Create(a[2]);
            c2_0 = Fma.MultiplyAdd(a2, b0, c2_0);
            c2_1 = Fma.MultiplyAdd(a2, b1, c2_1);
            Vector256<float> a3 = Vector256.Create(a[3]);
            c3_0 = Fma.MultiplyAdd(a3, b0, c3_0);
            c3_1 = Fma.MultiplyAdd(a3, b1, c3_1);
            Vector256<float> a4 = Vector256.Create(a[4]);
            c4_0 = Fma.MultiplyAdd(a4, b0, c4_0);
            c4_1 = Fma.MultiplyAdd(a4, b1, c4_1);
            Vector256<float> a5 = Vector256.Create(a[5]);
            c5_0 = Fma.MultiplyAdd(a5, b0, c5_0);
            c5_1 = Fma.MultiplyAdd(a5, b1, c5_1);
            a += 6;
            b += 16;
        }
        Vector256<float> va = Vector256.Create(alpha);
        if (mr == 6 && nr == 16)
        {
            if (beta == 0f)
            {
                Avx.Store(c + 0L * ldc + 0, c0_0 * va);
                Avx.Store(c + 0L * ldc + 8, c0_1 * va);
                Avx.Store(c + 1L * ldc + 0, c1_0 * va);
                Avx.Store(c + 1L * ldc + 8, c1_1 * va);
                Avx.Store(c + 2L * ldc + 0, c2_0 * va);
                Avx.Store(c + 2L * ldc + 8, c2_1 * va);
                Avx.Store(c + 3L * ldc + 0, c3_0 * va);
                Avx.Store(c + 3L * ldc + 8, c3_1 * va);
                Avx.Store(c + 4L * ldc + 0, c4_0 * va);
                Avx.Store(c + 4L * ldc + 8, c4_1 * va);
                Avx.Store(c + 5L * ldc + 0, c5_0 * va);
                Avx.Store(c + 5L * ldc + 8, c5_1 * va);
            }
            else
            {
                Vector256<float> vb = Vector256.Create(beta);
                Avx.Store(c + 0L * ldc + 0, Fma.MultiplyAdd(c0_0, va, Avx.LoadVector256(c + 0L * ldc + 0) * vb));
                Avx.Store(c + 0L * ldc + 8, Fma.MultiplyAdd(c0_1, va, Avx.LoadVector256(c + 0L * ldc + 8) * vb));
                Avx.Store(c + 1L * ldc + 0, Fma.MultiplyAdd(c1_0, va, Avx.LoadVector256(c + 1L * ldc + 0) * vb));
                Avx.Store(c + 1L * ldc + 8, Fma.MultiplyAdd(c1_1, va, Avx.LoadVector256(c + 1L * ldc + 8) * vb));
                Avx.Store(c + 2L * ldc + 0, Fma.MultiplyAdd(c2_0, va, Avx.LoadVector256(c + 2L * ldc + 0) * vb));
                Avx.Store(c + 2L * ldc + 8, Fma.MultiplyAdd(c2_1, va, Avx.LoadVector256(c + 2L * ldc + 8) * vb));
                Avx.Store(c + 3L * ldc + 0, Fma.MultiplyAdd(c3_0, va, Avx.LoadVector256(c + 3L * ldc + 0) * vb));
                Avx.Store(c + 3L * ldc + 8, Fma.MultiplyAdd(c3_1, va, Avx.LoadVector256(c + 3L * ldc + 8) * vb));
                Avx.Store(c + 4L * ldc + 0, Fma.MultiplyAdd(c4_0, va, Avx.LoadVector256(c + 4L * ldc + 0) * vb));
                Avx.Store(c + 4L * ldc + 8, Fma.MultiplyAdd(c4_1, va, Avx.LoadVector256(c + 4L * ldc + 8) * vb));
                Avx.Store(c + 5L * ldc + 0, Fma.MultiplyAdd(c5_0, va, Avx.LoadVector256(c + 5L * ldc + 0) * vb));
                Avx.Store(c + 5L * ldc + 8, Fma.MultiplyAdd(c5_1, va, Avx.LoadVector256(c + 5L * ldc + 8) * vb));
            }
            return;
        }
        Avx.Store(t + 0, c0_0);
        Avx.Store(t + 8, c0_1);
        Avx.Store(t + 16, c1_0);
        Avx.Store(t + 24, c1_1);
        Avx.Store(t + 32, c2_0);
        Avx.Store(t + 40, c2_1);
        Avx.Store(t + 48, c3_0);
        Avx.Store(t + 56, c3_1);
        Avx.Store(t + 64, c4_0);
        Avx.Store(t + 72, c4_1);
        Avx.Store(t + 80, c5_0);
        Avx.Store(t + 88, c5_1);
        StoreEdge(t, 16, c, ldc, alpha, beta, mr, nr, true);
    }

    // 4x8 tile: 8 accumulators + 2 B vectors + 1 broadcast must stay in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void K128(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta, int mr, int nr, float* t)
    {
        Vector128<float> c0_0 = default; Vector128<float> c0_1 = default;
        Vector128<float> c1_0 = default; Vector128<float> c1_1 = default;
        Vector128<float> c2_0 = default; Vector128<float> c2_1 = default;
        Vector128<float> c3_0 = default; Vector128<float> c3_1 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b + 0);
            Vector128<float> b1 = Vector128.Load(b + 4);
            Vector128<float> a0 = Vector128.Create(a[0]);
            c0_0 = c0_0 + a0 * b0;
            c0_1 = c0_1 + a0 * b1;
            Vector128<float> a1 = Vector128.Create(a[1]);
            c1_0 = c1_0 + a1 * b0;
            c1_1 = c1_1 + a1 * b1;
            Vector128<float> a2 = Vector128.Create(a[2]);
            c2_0 = c2_0 + a2 * b0;
            c2_1 = c2_1 + a2 * b1;
            Vector128<float> a3 = Vector128.Create(a[3]);
            c3_0 = c3_0 + a3 * b0;
            c3_1 = c3_1 + a3 * b1;
            a += 4;
            b += 8;
        }
        Vector128<float> va = Vector128.Create(alpha);
        if (mr == 4 && nr == 8)
        {
            if (beta == 0f)
            {
                (c0_0 * va).Store(c + 0L * ldc + 0);
                (c0_1 * va).Store(c + 0L * ldc + 4);
                (c1_0 * va).Store(c + 1L * ldc + 0);
                (c1_1 * va).Store(c + 1L * ldc + 4);
                (c2_0 * va).Store(c + 2L * ldc + 0);
                (c2_1 * va).Store(c + 2L * ldc + 4);
                (c3_0 * va).Store(c + 3L * ldc + 0);
                (c3_1 * va).Store(c + 3L * ldc + 4);
            }
            else
            {
                Vector128<float> vb = Vector128.Create(beta);
                (Vector128.Load(c + 0L * ldc + 0) * vb + c0_0 * va).Store(c + 0L * ldc + 0);
                (Vector128.Load(c + 0L * ldc + 4) * vb + c0_1 * va).Store(c + 0L * ldc + 4);
                (Vector128.Load(c + 1L * ldc + 0) * vb + c1_0 * va).Store(c + 1L * ldc + 0);
                (Vector128.Load(c + 1L * ldc + 4) * vb + c1_1 * va).Store(c + 1L * ldc + 4);
                (Vector128.Load(c + 2L * ldc + 0) * vb + c2_0 * va).Store(c + 2L * ldc + 0);
                (Vector128.Load(c + 2L * ldc + 4) * vb + c2_1 * va).Store(c + 2L * ldc + 4);
                (Vector128.Load(c + 3L * ldc + 0) * vb + c3_0 * va).Store(c + 3L * ldc + 0);
                (Vector128.Load(c + 3L * ldc + 4) * vb + c3_1 * va).Store(c + 3L * ldc + 4);
            }
            return;
        }
        (c0_0).Store(t + 0);
        (c0_1).Store(t + 4);
        (c1_0).Store(t + 8);
        (c1_1).Store(t + 12);
        (c2_0).Store(t + 16);
        (c2_1).Store(t + 20);
        (c3_0).Store(t + 24);
        (c3_1).Store(t + 28);
        StoreEdge(t, 8, c, ldc, alpha, beta, mr, nr, false);
    }
}
