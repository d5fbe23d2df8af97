using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Kindling.Kernels;

namespace Kindling.Bench;

/// <summary>Command-line options shared by every mode.</summary>
public sealed class BenchOptions
{
    public string? Mode { get; private set; }
    public bool Json { get; private set; }
    public int Threads { get; private set; } = Environment.ProcessorCount;
    public int Reps { get; private set; } = 11;
    public GemmPath Path { get; private set; } = Gemm.Path;
    public string? Filter { get; private set; }

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--json": o.Json = true; break;
                case "--threads": o.Threads = int.Parse(Next()); break;
                case "--reps": o.Reps = int.Parse(Next()); break;
                case "--filter": o.Filter = Next(); break;
                case "--path":
                    o.Path = Next().ToLowerInvariant() switch
                    {
                        "auto" => GemmPath.Auto,
                        "512" => GemmPath.Vector512,
                        "256" => GemmPath.Vector256,
                        "portable" or "128" => GemmPath.Portable,
                        var s => throw new ArgumentException($"unknown --path {s}"),
                    };
                    break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal) || o.Mode is not null)
                        throw new ArgumentException($"unexpected argument {args[i]}");
                    o.Mode = args[i];
                    break;
            }
        }
        return o;
    }

    /// <summary>Pushes the library-wide knobs (thread count, GEMM path) before a mode runs.</summary>
    public void Apply()
    {
        Gemm.MaxThreads = Threads;
        Gemm.Path = Path;
    }

    public bool Selected(string label) => Filter is null || label.Contains(Filter, StringComparison.OrdinalIgnoreCase);
}

/// <summary>One measured case: a label shared with the PyTorch scripts, and its median rate.</summary>
public sealed record BenchResult(string Label, double Value, string Unit)
{
    public static string ToJson(BenchOptions o, List<BenchResult> results)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("impl", "kindling");
            w.WriteString("mode", o.Mode);
            w.WriteNumber("threads", o.Threads);
            w.WriteString("gemm_path", Gemm.EffectivePath.ToString());
            w.WriteStartObject("results");
            foreach (var r in results)
                w.WriteNumber(r.Label, Math.Round(r.Value, 2));
            w.WriteEndObject();
            w.WriteString("unit", results.Count > 0 ? results[0].Unit : "");
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}

public static class Timing
{
    /// <summary>
    /// Steady-state allocation of <paramref name="step"/>: <paramref name="warmup"/> calls, then a window of
    /// <paramref name="steps"/> calls started on a collected heap (so garbage left by earlier cases cannot trigger a
    /// collection in it). Returns the bytes allocated per call and the gen-2 collections in the window.
    /// </summary>
    public static (double BytesPerStep, int Gen2) Allocation(Action step, int warmup, int steps)
    {
        for (int i = 0; i < warmup; i++) step();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = GC.GetTotalAllocatedBytes(true);
        int gen2 = GC.CollectionCount(2);
        for (int i = 0; i < steps; i++) step();
        return ((GC.GetTotalAllocatedBytes(true) - before) / (double)steps, GC.CollectionCount(2) - gen2);
    }

    /// <summary>
    /// Median seconds per call of <paramref name="body"/>: warms up (JIT tiers, caches, worker threads),
    /// then takes <paramref name="reps"/> samples, each looping long enough (~50 ms) to swamp timer noise.
    /// </summary>
    public static double MedianSeconds(Action body, int reps, double warmupSeconds = 1.0, double sampleSeconds = 0.05)
    {
        var sw = Stopwatch.StartNew();
        int calls = 0;
        do { body(); calls++; } while (sw.Elapsed.TotalSeconds < warmupSeconds);
        double perCall = sw.Elapsed.TotalSeconds / calls;
        int inner = Math.Max(1, (int)Math.Ceiling(sampleSeconds / perCall));
        var samples = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < inner; i++)
                body();
            samples[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds / inner;
        }
        Array.Sort(samples);
        return samples[reps / 2];
    }
}
