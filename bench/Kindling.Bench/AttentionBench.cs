using System.Diagnostics;
using Kindling.NN;

namespace Kindling.Bench;

/// <summary>
/// Attention and transformer layers, forward + backward, beside bench/torch_attention.py: MultiheadAttention(128, 4
/// heads) causal and TransformerEncoderLayer(128, 4, 512) at T 64, batch 12 (the cases), dropout 0 on both sides
/// (PyTorch 1.13 gets the causal mask as a float attn_mask, Kindling as isCausal), batch first, float32. Medians of wall
/// time and of process CPU time per step, in ms.
/// </summary>
public static class AttentionBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        var results = new List<BenchResult>();
        const int N = 12, T = 64, E = 128, H = 4;
        var g = new Generator(1);
        var x = Tensor.Randn([N, T, E], g).RequiresGrad_();
        var gy = Tensor.Randn([N, T, E], g);
        var mha = new MultiheadAttention(E, H, batchFirst: true, generator: g);
        var enc = new TransformerEncoderLayer(E, H, 512, dropout: 0, batchFirst: true, generator: g);
        var q4 = Tensor.Randn([N, H, T, E / H], g).RequiresGrad_();
        var k4 = Tensor.Randn([N, H, T, E / H], g).RequiresGrad_();
        var v4 = Tensor.Randn([N, H, T, E / H], g).RequiresGrad_();
        var g4 = Tensor.Randn([N, H, T, E / H], g);
        var g3 = Tensor.Randn([N, T, 3 * E], g);
        var qkv = Tensor.Randn([N, T, 3 * E], g).RequiresGrad_();
        var cases = new (string Label, Action Step)[]
        {
            ("mha causal fwd+bwd", () => { x.Grad = null; mha.Forward(x, x, x, needWeights: false, isCausal: true).Output.Backward(gy); }),
            ("encoder layer causal fwd+bwd", () => { x.Grad = null; enc.Forward(x, null, null, isCausal: true).Backward(gy); }),
            ("mha causal fwd (no grad)", () => { using (Autograd.NoGrad()) mha.Forward(x, x, x, needWeights: false, isCausal: true); }),
            ("probe sdpa fwd+bwd", () => { q4.Grad = null; Functional.ScaledDotProductAttention(q4, k4, v4, isCausal: true).Backward(g4); }),
            ("probe sdpa fwd", () => { using (Autograd.NoGrad()) Functional.ScaledDotProductAttention(q4, k4, v4, isCausal: true); }),
            ("probe heads fwd+bwd", () => { qkv.Grad = null; Functional.AttentionHeads(qkv, null, null, null, H, null, true, 0).Backward(gy); }),
            ("probe heads+out fwd+bwd", () => { qkv.Grad = null; mha.OutProj.Call(Functional.AttentionHeads(qkv, null, null, null, H, null, true, 0)).Backward(gy); }),
            ("probe inline mha fwd+bwd", () => { x.Grad = null; mha.OutProj.Call(Functional.AttentionHeads(Functional.Linear(x, mha.InProjWeight!, mha.InProjBias), null, null, null, H, null, true, 0)).Backward(gy); }),
            ("probe linear fwd+bwd", () => { x.Grad = null; Functional.Linear(x, mha.InProjWeight!, mha.InProjBias).Backward(g3); }),
        };
        foreach (var (label, step) in cases)
        {
            if (!o.Selected(label)) continue;
            var (wall, cpu) = Measure(step, o.Reps);
            results.Add(new BenchResult(label + " [wall]", wall * 1e3, "ms"));
            results.Add(new BenchResult(label + " [cpu]", cpu * 1e3, "ms"));
            var (bytes, _) = Timing.Allocation(step, 3, 20);
            if (!o.Json) Console.WriteLine($"{label,-34} wall {wall * 1e3,8:F3} ms   cpu {cpu * 1e3,8:F3} ms   {bytes / 1024,8:F0} KiB allocated per step");
        }
        return results;
    }

    /// <summary>Median wall and process-CPU seconds per call over <paramref name="reps"/> samples of ≥ 50 ms each, after 1 s of warm-up.</summary>
    private static (double Wall, double Cpu) Measure(Action body, int reps)
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
        Array.Sort(wall); Array.Sort(cpu);
        return (wall[reps / 2], cpu[reps / 2]);
    }
}
