using Kindling.NN;
using Kindling.Optim;
using static Kindling.Tests.RnnFixtures;

namespace Kindling.Tests;

/// <summary>
/// A tiny character LSTM (Embedding 12→8, LSTM 8→16 batch_first, Linear 16→12, cross-entropy, Adam lr 1e-2) trained
/// 200 steps from PyTorch-written weights on PyTorch's batches (tools/parity/rnn/lstm_trajectory.json): Kindling float64
/// must equal PyTorch float64 (every step's loss and the final weights) to 1e-10, and Kindling float32's distance from
/// the float64 run must stay within 2× PyTorch float32's own distance, step by step (running maximum of the relative
/// loss difference, floored at 4 float32 epsilons for the first steps where both are at rounding level) and on the
/// final weights.
/// </summary>
public class LstmTrajectoryTests
{
    private sealed class CharLstm : Module
    {
        private readonly Embedding _emb;
        private readonly LSTM _lstm;
        private readonly Linear _head;

        public CharLstm(DType dtype)
        {
            _emb = RegisterModule("emb", new Embedding(12, 8, dtype: dtype));
            _lstm = RegisterModule("lstm", new LSTM(8, 16, batchFirst: true, dtype: dtype));
            _head = RegisterModule("head", new Linear(16, 12, dtype: dtype));
        }

        public override Tensor Forward(Tensor input) => _head.Call(_lstm.Call(_emb.Call(input)));
    }

    internal const double Multiple = 2;
    internal const double Floor = 4 * 1.1920928955078125e-7;

    private static (double[] Losses, Dictionary<string, Tensor> Final) Train(DType dtype)
    {
        var j = Load("lstm_trajectory.json");
        var ids = L(j["ids"]!);
        int T = j["T"]!.GetValue<int>(), B = j["B"]!.GetValue<int>(), V = j["V"]!.GetValue<int>(), steps = j["steps"]!.GetValue<int>();
        var starts = j["starts"]!.AsArray().Select(r => L(r!)).ToArray();
        var m = new CharLstm(dtype);
        m.LoadStateDict(State(j["init"]!, dtype));
        var opt = new Adam(m.Parameters(), lr: j["lr"]!.GetValue<double>());
        var losses = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            var x = new long[B * T];
            var y = new long[B * T];
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++) { x[b * T + t] = ids[starts[s][b] + t]; y[b * T + t] = ids[starts[s][b] + t + 1]; }
            opt.ZeroGrad();
            var logits = m.Call(Tensor.FromArray(x, B, T)).Reshape(B * T, V);
            var loss = Functional.CrossEntropy(logits, Tensor.FromArray(y, B * T));
            loss.Backward();
            opt.Step();
            losses[s] = loss.ItemDouble();
        }
        return (losses, m.StateDict());
    }

    private static double MaxAbsDiff(Dictionary<string, Tensor> a, Func<string, double[]> b) =>
        a.Max(kv => kv.Value.ToDoubleArray().Zip(b(kv.Key)).Max(p => Math.Abs(p.First - p.Second)));

    [Fact]
    public void Float64EqualsPyTorchFloat64()
    {
        var j = Load("lstm_trajectory.json");
        var (losses, final) = Train(DType.Float64);
        Close(D(j["losses_float64"]!), losses, 1e-10, 0, "loss per step");
        var want = j["final_float64"]!;
        foreach (var (n, t) in final) Close(want[n]!, t, 1e-10, 0, "final " + n);
    }

    [Fact]
    public void Float32DriftWithinTwicePyTorchs()
    {
        var j = Load("lstm_trajectory.json");
        var ref64 = D(j["losses_float64"]!);
        var pt32 = D(j["losses_float32"]!);
        var (k32, final32) = Train(DType.Float32);
        double ptRun = 0, kRun = 0, worst = 0;
        for (int s = 0; s < ref64.Length; s++)
        {
            ptRun = Math.Max(ptRun, Math.Abs(pt32[s] - ref64[s]) / Math.Abs(ref64[s]));
            kRun = Math.Max(kRun, Math.Abs(k32[s] - ref64[s]) / Math.Abs(ref64[s]));
            double ratio = kRun / Math.Max(ptRun, Floor);
            worst = Math.Max(worst, ratio);
            Assert.True(ratio <= Multiple, $"step {s}: Kindling float32 is {kRun:E2} (running max, relative) from float64, PyTorch float32 {ptRun:E2}: {ratio:F2}× > {Multiple}×");
        }
        var f64 = j["final_float64"]!;
        var f32 = j["final_float32"]!;
        double ptW = MaxAbsDiff(State(f32, DType.Float64), n => D(f64[n]!["data"]!));
        double kW = MaxAbsDiff(final32, n => D(f64[n]!["data"]!));
        Assert.True(kW <= Multiple * ptW, $"final weights: Kindling float32 is {kW:E2} from float64, PyTorch float32 {ptW:E2}");
        Console.WriteLine($"char-LSTM float32 drift: loss {kRun:E2} vs PyTorch {ptRun:E2} (worst step ratio {worst:F2}); weights {kW:E2} vs {ptW:E2}");
    }
}
