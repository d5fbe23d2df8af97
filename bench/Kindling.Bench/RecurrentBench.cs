using System.Diagnostics;
using Kindling.NN;

namespace Kindling.Bench;

/// <summary>
/// Recurrent layers, forward + backward of out.Sum() with the gradients zeroed in place between steps (PyTorch 1.13's
/// zero_grad default), in milliseconds of wall time, with the process CPU time per step beside it (on a loaded
/// machine the two part ways). Twin: bench/torch_lstm.py; both run from bench/lstm.sh.
/// </summary>
public static class RecurrentBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        void Case(string label, RNNBase m, int T, int B, bool backward)
        {
            if (!o.Selected(label)) return;
            var x = Tensor.Randn([T, B, m.InputSize], new Generator(2));
            void Step()
            {
                if (!backward) { using (Autograd.NoGrad()) m.Call(x); return; }
                m.ZeroGrad();
                m.Call(x).Sum().Backward();
            }
            var (wall, cpu) = MedianWallAndCpu(Step, o.Reps);
            results.Add(new BenchResult(label, wall * 1e3, "ms"));
            results.Add(new BenchResult(label + " cpu", cpu * 1e3, "ms"));
            if (!o.Json) Console.WriteLine($"{label,-40} wall {wall * 1e3,8:F2} ms   cpu {cpu * 1e3,8:F2} ms");
        }
        var g = new Generator(1);
        Case("lstm 128->256 T64 B32 fwd+bwd", new LSTM(128, 256, generator: g), 64, 32, true);
        Case("lstm 128->256 T64 B32 fwd", new LSTM(128, 256, generator: g), 64, 32, false);
        Case("gru 128->256 T64 B32 fwd+bwd", new GRU(128, 256, generator: g), 64, 32, true);
        Case("lstm 2x bidir 64->128 T32 B16 fwd+bwd", new LSTM(64, 128, numLayers: 2, bidirectional: true, generator: g), 32, 16, true);
        return results;
    }

    /// <summary>Median wall and CPU seconds per call, as <see cref="Timing.MedianSeconds"/> (warm-up, ~50 ms samples).</summary>
    internal static (double Wall, double Cpu) MedianWallAndCpu(Action body, int reps)
    {
        var proc = Process.GetCurrentProcess();
        var sw = Stopwatch.StartNew();
        int calls = 0;
        do { body(); calls++; } while (sw.Elapsed.TotalSeconds < 1.0);
        int inner = Math.Max(1, (int)Math.Ceiling(0.05 / (sw.Elapsed.TotalSeconds / calls)));
        var wall = new double[reps];
        var cpu = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            proc.Refresh();
            var c0 = proc.TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < inner; i++) body();
            wall[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds / inner;
            proc.Refresh();
            cpu[r] = (proc.TotalProcessorTime - c0).TotalSeconds / inner;
        }
        Array.Sort(wall);
        Array.Sort(cpu);
        return (wall[reps / 2], cpu[reps / 2]);
    }
}
