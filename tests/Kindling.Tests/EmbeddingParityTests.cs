using System.Text.Json.Nodes;
using Kindling.NN;
using static Kindling.Tests.RnnFixtures;

namespace Kindling.Tests;

/// <summary>
/// Embedding and EmbeddingBag against PyTorch 1.13 (tools/parity/gen_rnn_cases.py → tools/parity/rnn/embedding_cases.json):
/// outputs, the weight gradient of Σ out·r (and the per-sample weights' gradient), and for max_norm the weight after
/// the in-place renormalisation, in float64 to 1e-12.
/// </summary>
public class EmbeddingParityTests
{
    private static JsonNode Data => Load("embedding_cases.json");
    private const double Tol = 1e-12;

    public static TheoryData<string> EmbeddingNames() => Names("embedding");
    public static TheoryData<string> BagNames() => Names("bag");

    private static TheoryData<string> Names(string key)
    {
        var d = new TheoryData<string>();
        foreach (var c in Load("embedding_cases.json")[key]!.AsArray()) d.Add(c!["name"]!.GetValue<string>());
        return d;
    }

    private static Tensor Indices(JsonNode n)
    {
        var rows = n.AsArray();
        if (rows[0] is JsonArray) return Tensor.FromArray(rows.SelectMany(r => L(r!)).ToArray(), rows.Count, rows[0]!.AsArray().Count);
        return Tensor.FromArray(L(n), rows.Count);
    }

    [Theory]
    [MemberData(nameof(EmbeddingNames))]
    public void EmbeddingMatchesPyTorch(string name)
    {
        var c = Data["embedding"]!.AsArray().First(v => v!["name"]!.GetValue<string>() == name)!;
        var o = c["options"]!.AsObject();
        var w = T(c["weight"]!, DType.Float64);
        var e = Embedding.FromPretrained(w, freeze: false, paddingIdx: o["padding_idx"]?.GetValue<int>(), maxNorm: o["max_norm"]?.GetValue<double>(),
            normType: o["norm_type"]?.GetValue<double>() ?? 2, scaleGradByFreq: o["scale_grad_by_freq"]?.GetValue<bool>() ?? false);
        var y = e.Call(Indices(c["indices"]!));
        Close(c["out"]!, y, Tol, Tol, "out");
        (y * T(c["r"]!, DType.Float64)).Sum().Backward();
        Close(c["grad"]!, e.Weight.Grad, Tol, Tol, "grad weight");
        Close(c["weight_after"]!, e.Weight, Tol, Tol, "weight after max_norm");
    }

    [Fact]
    public void PaddingRowStartsAtZeroAndFromPretrainedFreezes()
    {
        var e = new Embedding(5, 3, paddingIdx: -2);
        Assert.Equal(3, e.PaddingIdx);
        Assert.All(e.Weight.Narrow(0, 3, 1).ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Contains(e.Weight.Narrow(0, 2, 1).ToDoubleArray(), v => v != 0);
        var p = Data["pretrained"]!;
        var f = Embedding.FromPretrained(T(p["weight"]!, DType.Float64), paddingIdx: 2);
        Assert.False(f.Weight.RequiresGrad);
        Assert.Equal(p["requires_grad"]!.GetValue<bool>(), f.Weight.RequiresGrad);
        Close(p["out"]!, f.Call(Tensor.FromArray(L(p["indices"]!), 3)), Tol, Tol, "pretrained out");
    }

    [Theory]
    [MemberData(nameof(BagNames))]
    public void EmbeddingBagMatchesPyTorch(string name)
    {
        var c = Data["bag"]!.AsArray().First(v => v!["name"]!.GetValue<string>() == name)!;
        var o = c["options"]!.AsObject();
        var mode = Enum.Parse<EmbeddingBagMode>(c["mode"]!.GetValue<string>(), ignoreCase: true);
        var bag = new EmbeddingBag(7, 4, mode, o["include_last_offset"]?.GetValue<bool>() ?? false, o["padding_idx"]?.GetValue<int>(), dtype: DType.Float64);
        bag.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = T(c["weight"]!, DType.Float64) });
        Tensor y;
        Tensor? psw = null;
        if (c["input2d"] is JsonNode x2) y = bag.Call(Indices(x2));
        else
        {
            var input = Indices(c["input"]!);
            if (c["per_sample_weights"] is JsonNode pw) psw = Tensor.FromArray(D(pw), input.NumEl).RequiresGrad_();
            y = bag.Forward(input, Indices(c["offsets"]!), psw);
        }
        Close(c["out"]!, y, Tol, Tol, "out");
        (y * T(c["r"]!, DType.Float64)).Sum().Backward();
        Close(c["grad"]!, bag.Weight.Grad, Tol, Tol, "grad weight");
        if (psw != null) Close(D(c["grad_psw"]!), psw.Grad!.ToDoubleArray(), Tol, Tol, "grad per_sample_weights");
    }

    [Fact]
    public void BadIndicesAndOffsetsGiveOneClearMessage()
    {
        var e = new Embedding(5, 3);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => e.Call(Tensor.FromArray(new long[] { 1, 5 }, 2)));
        Assert.Contains("index 5 at flat position 1", ex.Message);
        Assert.Contains("[0, 5)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => e.Call(Tensor.FromArray(new long[] { -1 }, 1)));
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => e.Call(Tensor.FromArray(new float[] { 1 }, 1))).Message);
        var bag = new EmbeddingBag(5, 3, EmbeddingBagMode.Mean);
        var idx = Tensor.FromArray(new long[] { 1, 2, 3 }, 3);
        Assert.Contains("offsets[0] has to be 0", Assert.Throws<ArgumentException>(() => bag.Forward(idx, Tensor.FromArray(new long[] { 1 }, 1))).Message);
        Assert.Contains("non-decreasing", Assert.Throws<ArgumentException>(() => bag.Forward(idx, Tensor.FromArray(new long[] { 0, 2, 1 }, 3))).Message);
        Assert.Contains("only supported for mode 'sum'", Assert.Throws<ArgumentException>(() => bag.Forward(idx, Tensor.FromArray(new long[] { 0 }, 1), Tensor.Ones(3))).Message);
        Assert.Contains("offsets must be null", Assert.Throws<ArgumentException>(() => bag.Forward(Tensor.FromArray(new long[] { 1, 2 }, 1, 2), Tensor.FromArray(new long[] { 0 }, 1))).Message);
    }

    [Fact]
    public void GradcheckFloat64()
    {
        var idx = Tensor.FromArray(new long[] { 0, 2, 2, 4, 1, 2 }, 2, 3);
        var w = Tensor.Randn([5, 3], new Generator(7), DType.Float64).RequiresGrad_();
        // Only the plain lookup: padding_idx and scale_grad_by_freq deliberately change the gradient (PyTorch's
        // definitions, checked against its numbers above), so they are not derivatives for finite differences to confirm.
        GradCheck.Check(a => Functional.Embedding(idx, a[0]), [w]);
        var flat = Tensor.FromArray(new long[] { 0, 2, 2, 4, 1, 3 }, 6);
        var offs = Tensor.FromArray(new long[] { 0, 1, 1, 4 }, 4);
        var psw = Tensor.Rand([6], new Generator(8), DType.Float64).RequiresGrad_();
        GradCheck.Check(a => Functional.EmbeddingBag(flat, a[0], offs, EmbeddingBagMode.Sum, a[1], paddingIdx: 4), [w, psw]);
        GradCheck.Check(a => Functional.EmbeddingBag(flat, a[0], offs, EmbeddingBagMode.Mean), [w]);
        GradCheck.Check(a => Functional.EmbeddingBag(flat, a[0], offs, EmbeddingBagMode.Max), [w]);
    }
}
