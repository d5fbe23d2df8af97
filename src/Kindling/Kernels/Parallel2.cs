namespace Kindling.Kernels;

/// <summary>Splits large flat loops over the cores; small ones run inline because a task costs microseconds.</summary>
internal static class Parallel2
{
    /// <summary>Below this many elements a memory-bound loop is not worth a second thread.</summary>
    public const int MinParallel = 1 << 16;

    public static int Threads => Math.Max(1, Math.Min(Environment.ProcessorCount, Gemm.MaxThreads));

    /// <summary>Runs <paramref name="body"/>(start, length) over contiguous chunks of [0, n), aligned to 16 elements.</summary>
    public static void For(int n, int minChunk, Action<int, int> body)
    {
        int t = Threads;
        if (t == 1 || n < Math.Max(minChunk, MinParallel)) { body(0, n); return; }
        int chunks = Math.Min(t, n / Math.Max(1, minChunk));
        if (chunks <= 1) { body(0, n); return; }
        int per = ((n + chunks - 1) / chunks + 15) & ~15;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = t }, c =>
        {
            int s = c * per;
            int len = Math.Min(per, n - s);
            if (len > 0) body(s, len);
        });
    }
}
