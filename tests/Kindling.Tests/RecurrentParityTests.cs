using System.Text.Json.Nodes;
using Kindling.NN;
using static Kindling.Tests.RnnFixtures;

namespace Kindling.Tests;

/// <summary>
/// RNN/LSTM/GRU layers and cells against PyTorch 1.13 (tools/parity/gen_rnn_cases.py → tools/parity/rnn/rnn_cases.json):
/// the PyTorch-written state dict is loaded by name, the same input and initial states are run (packed with
/// PackPaddedSequence and unpacked with PadPackedSequence when the case has lengths), and the outputs, final states and
/// the gradients of L = Σ out·r_out + Σ h_n·r_h + Σ c_n·r_c with respect to the input, the initial states and every
/// parameter must equal PyTorch's: float64 to 1e-10, float32 to float32 rounding.
/// </summary>
public class RecurrentParityTests
{
    private static JsonArray Cases => Load("rnn_cases.json").AsArray();

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var c in Cases) d.Add(c!["name"]!.GetValue<string>());
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesPyTorch(string name)
    {
        var c = Cases.First(v => v!["name"]!.GetValue<string>() == name)!;
        var dtype = c["dtype"]!.GetValue<string>() == "float64" ? DType.Float64 : DType.Float32;
        double atol = dtype == DType.Float64 ? 1e-10 : 2e-5, rtol = dtype == DType.Float64 ? 1e-10 : 1e-4;
        string kind = c["kind"]!.GetValue<string>();
        int I = c["input_size"]!.GetValue<int>(), H = c["hidden_size"]!.GetValue<int>();
        bool bias = c["bias"]!.GetValue<bool>();
        string nl = c["nonlinearity"]!.GetValue<string>();
        var x = T(c["x"]!, dtype).RequiresGrad_();
        var h0 = c["h0"] is JsonNode hn0 ? T(hn0, dtype).RequiresGrad_() : null;
        var c0 = c["c0"] is JsonNode cn0 ? T(cn0, dtype).RequiresGrad_() : null;
        Module m;
        Tensor? output = null, hN, cN = null;
        if (kind.EndsWith("_cell"))
        {
            switch (kind)
            {
                case "lstm_cell":
                    var lc = new LSTMCell(I, H, bias, dtype: dtype); m = lc; m.LoadStateDict(State(c["state"]!, dtype));
                    (hN, cN) = lc.Forward(x, h0 == null ? null : (h0, c0!));
                    break;
                case "gru_cell":
                    var gc = new GRUCell(I, H, bias, dtype: dtype); m = gc; m.LoadStateDict(State(c["state"]!, dtype));
                    hN = gc.Forward(x, h0);
                    break;
                default:
                    var rc = new RNNCell(I, H, bias, nl, dtype: dtype); m = rc; m.LoadStateDict(State(c["state"]!, dtype));
                    hN = rc.Forward(x, h0);
                    break;
            }
        }
        else
        {
            int layers = c["num_layers"]!.GetValue<int>(), proj = c["proj_size"]!.GetValue<int>();
            bool bidir = c["bidirectional"]!.GetValue<bool>(), bf = c["batch_first"]!.GetValue<bool>();
            RNNBase layer = kind switch
            {
                "lstm" => new LSTM(I, H, layers, bias, bf, 0, bidir, proj, dtype: dtype),
                "gru" => new GRU(I, H, layers, bias, bf, 0, bidir, dtype: dtype),
                _ => new RNN(I, H, layers, nl, bias, bf, 0, bidir, dtype: dtype),
            };
            m = layer;
            m.LoadStateDict(State(c["state"]!, dtype));
            if (c["lengths"] is JsonArray lens)
            {
                var lengths = Tensor.FromArray(L(lens), lens.Count);
                var packed = RnnUtils.PackPaddedSequence(x, lengths, bf, c["enforce_sorted"]!.GetValue<bool>());
                PackedSequence po;
                switch (layer)
                {
                    case LSTM l: { var (o, s) = l.Forward(packed, h0 == null ? null : (h0, c0!)); po = o; (hN, cN) = s; break; }
                    case GRU g: { var (o, s) = g.Forward(packed, h0); po = o; hN = s; break; }
                    default: { var (o, s) = ((RNN)layer).Forward(packed, h0); po = o; hN = s; break; }
                }
                output = RnnUtils.PadPackedSequence(po, bf, 0, x.Size(bf ? 1 : 0)).Padded;
            }
            else
            {
                switch (layer)
                {
                    case LSTM l: { var (o, s) = l.Forward(x, h0 == null ? null : (h0, c0!)); output = o; (hN, cN) = s; break; }
                    case GRU g: (output, hN) = g.Forward(x, h0); break;
                    default: (output, hN) = ((RNN)layer).Forward(x, h0); break;
                }
            }
        }
        if (output != null) Close(c["out"]!, output, atol, rtol, "output");
        Close(c["h_n"]!, hN, atol, rtol, "h_n");
        if (c["c_n"] is JsonNode cnw) Close(cnw, cN, atol, rtol, "c_n");
        var loss = (hN * T(c["r_h"]!, dtype)).Sum();
        if (output != null) loss = loss + (output * T(c["r_out"]!, dtype)).Sum();
        if (cN != null) loss = loss + (cN * T(c["r_c"]!, dtype)).Sum();
        loss.Backward();
        Close(c["grad_x"]!, x.Grad, atol, rtol, "grad input");
        if (h0 != null) Close(c["grad_h0"]!, h0.Grad, atol, rtol, "grad h0");
        if (c0 != null) Close(c["grad_c0"]!, c0.Grad, atol, rtol, "grad c0");
        var grads = c["grads"]!.AsObject();
        var named = m.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Assert.Equal(grads.Select(g => g.Key).OrderBy(k => k), named.Keys.OrderBy(k => k));
        foreach (var (pn, want) in grads) Close(want!, named[pn].Grad, atol, rtol, "grad " + pn);
    }

    [Fact]
    public void StateDictNamesAndShapesArePyTorchs()
    {
        var m = new LSTM(5, 6, numLayers: 2, bidirectional: true, projSize: 3);
        var shapes = m.StateDict().ToDictionary(kv => kv.Key, kv => Tensor.ShapeStr(kv.Value.Shape));
        Assert.Equal("(24, 5)", shapes["weight_ih_l0"]);
        Assert.Equal("(24, 3)", shapes["weight_hh_l0_reverse"]);
        Assert.Equal("(24, 6)", shapes["weight_ih_l1"]);
        Assert.Equal("(3, 6)", shapes["weight_hr_l1_reverse"]);
        Assert.Equal("(24,)", shapes["bias_hh_l1"]);
        Assert.Equal(20, shapes.Count);
        // PyTorch's order: per layer, per direction: w_ih, w_hh, b_ih, b_hh, w_hr
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0", "weight_ih_l0_reverse"],
            m.NamedParameters().Take(6).Select(p => p.Name).ToArray());
    }

    [Fact]
    public void InitIsUniformWithinOneOverSqrtHidden()
    {
        var m = new GRU(10, 64, numLayers: 2, generator: new Generator(3));
        double k = 1 / Math.Sqrt(64);
        foreach (var (n, p) in m.NamedParameters())
        {
            var v = p.ToDoubleArray();
            Assert.True(v.All(a => Math.Abs(a) <= k), n);
            // U(−k, k) has standard deviation k/√3; the weights have thousands of draws.
            double sd = Math.Sqrt(v.Select(a => a * a).Average());
            if (v.Length > 1000) Assert.InRange(sd, 0.9 * k / Math.Sqrt(3), 1.1 * k / Math.Sqrt(3));
        }
    }
}
