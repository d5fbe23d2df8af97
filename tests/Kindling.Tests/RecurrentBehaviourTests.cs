using System.Text.Json.Nodes;
using Kindling.NN;
using static Kindling.Tests.RnnFixtures;

namespace Kindling.Tests;

/// <summary>
/// Packing utilities against PyTorch 1.13 (tools/parity/rnn/packing.json), float64 gradchecks of every recurrent kind
/// (padded, packed, bidirectional, projected), dropout between layers, and the error messages for mis-shaped inputs.
/// </summary>
public class RecurrentBehaviourTests
{
    [Fact]
    public void PackingMatchesPyTorch()
    {
        var p = Load("packing.json");
        foreach (var c in p["padded"]!.AsArray())
        {
            bool bf = c!["batch_first"]!.GetValue<bool>(), es = c["enforce_sorted"]!.GetValue<bool>();
            var lens = L(c["lengths"]!);
            var x = T(c["x"]!, DType.Float64);
            var packed = RnnUtils.PackPaddedSequence(x, Tensor.FromArray(lens, lens.Length), bf, es);
            string what = $"batch_first={bf} enforce_sorted={es}";
            Close(c["data"]!, packed.Data, 0, 0, what + " data");
            Assert.Equal(L(c["batch_sizes"]!), packed.BatchSizes.ToInt64Array());
            if (c["sorted_indices"] is JsonNode si) Assert.Equal(L(si), packed.SortedIndices!.ToInt64Array());
            else Assert.Null(packed.SortedIndices);
            if (c["unsorted_indices"] is JsonNode ui) Assert.Equal(L(ui), packed.UnsortedIndices!.ToInt64Array());
            var (pad, plens) = RnnUtils.PadPackedSequence(packed, bf, -1.5, 6);
            Close(c["padded"]!, pad, 0, 0, what + " padded");
            Assert.Equal(L(c["pad_lengths"]!), plens.ToInt64Array());
        }
        var s = p["pack_sequence"]!;
        var seqs = s["seqs"]!.AsArray().Select(n => T(n!, DType.Float64)).ToArray();
        var ps = RnnUtils.PackSequence(seqs, enforceSorted: false);
        Close(s["data"]!, ps.Data, 0, 0, "pack_sequence data");
        Assert.Equal(L(s["batch_sizes"]!), ps.BatchSizes.ToInt64Array());
        Assert.Equal(L(s["sorted_indices"]!), ps.SortedIndices!.ToInt64Array());
    }

    [Fact]
    public void PackingErrorsAreClear()
    {
        var x = Tensor.Zeros(4, 2, 3);
        Assert.Contains("sorted in decreasing order", Assert.Throws<ArgumentException>(() => RnnUtils.PackPaddedSequence(x, Tensor.FromArray(new long[] { 2, 3 }, 2))).Message);
        Assert.Contains("lengths[1] = 5", Assert.Throws<ArgumentException>(() => RnnUtils.PackPaddedSequence(x, Tensor.FromArray(new long[] { 4, 5 }, 2))).Message);
        Assert.Contains("lengths[1] = 0", Assert.Throws<ArgumentException>(() => RnnUtils.PackPaddedSequence(x, Tensor.FromArray(new long[] { 4, 0 }, 2))).Message);
        Assert.Contains("got 3 lengths for a batch of 2", Assert.Throws<ArgumentException>(() => RnnUtils.PackPaddedSequence(x, Tensor.FromArray(new long[] { 4, 3, 1 }, 3))).Message);
        var packed = RnnUtils.PackPaddedSequence(x, Tensor.FromArray(new long[] { 4, 3 }, 2));
        Assert.Contains("total_length = 3", Assert.Throws<ArgumentException>(() => RnnUtils.PadPackedSequence(packed, totalLength: 3)).Message);
    }

    [Fact]
    public void LayerInputErrorsAreClear()
    {
        var lstm = new LSTM(3, 4, numLayers: 2);
        Assert.Contains("Expected 3, got 5", Assert.Throws<ArgumentException>(() => lstm.Call(Tensor.Zeros(2, 2, 5))).Message);
        var ex = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(2, 2, 3), (Tensor.Zeros(1, 2, 4), Tensor.Zeros(2, 2, 4))));
        Assert.Contains("expected hidden[0] size (2, 2, 4), got (1, 2, 4)", ex.Message);
        Assert.Contains("float64 but the parameters are float32", Assert.Throws<ArgumentException>(() => lstm.Call(Tensor.Zeros([2, 2, 3], DType.Float64))).Message);
        Assert.Contains("proj_size has to be smaller than hidden_size", Assert.Throws<ArgumentOutOfRangeException>(() => new LSTM(3, 4, projSize: 4)).Message);
        Assert.Contains("nonlinearity", Assert.Throws<ArgumentException>(() => new RNN(3, 4, nonlinearity: "sigmoid")).Message);
        Assert.Contains("inconsistent input_size", Assert.Throws<ArgumentException>(() => new GRUCell(3, 4).Call(Tensor.Zeros(2, 5))).Message);
    }

    public static TheoryData<string> Kinds() => new("lstm", "lstm_proj", "gru", "rnn_tanh", "rnn_relu");

    /// <summary>Float64 finite differences of a 2-layer bidirectional stack over a packed, unsorted batch: input, states, every weight.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void GradcheckPackedBidirectionalStack(string kind)
    {
        var g = new Generator(11);
        RNNBase m = kind switch
        {
            "lstm" => new LSTM(2, 3, numLayers: 2, bidirectional: true, generator: g, dtype: DType.Float64),
            "lstm_proj" => new LSTM(2, 3, numLayers: 2, bidirectional: true, projSize: 2, generator: g, dtype: DType.Float64),
            "gru" => new GRU(2, 3, numLayers: 2, bidirectional: true, generator: g, dtype: DType.Float64),
            "rnn_tanh" => new RNN(2, 3, numLayers: 2, bidirectional: true, generator: g, dtype: DType.Float64),
            _ => new RNN(2, 3, numLayers: 2, nonlinearity: "relu", bidirectional: true, generator: g, dtype: DType.Float64),
        };
        int P = m.ProjSize > 0 ? m.ProjSize : 3;
        var x = (Tensor.Randn([4, 3, 2], g, DType.Float64) + 0.3).RequiresGrad_();
        var h0 = Tensor.Randn([4, 3, P], g, DType.Float64).RequiresGrad_();
        var c0 = Tensor.Randn([4, 3, 3], g, DType.Float64).RequiresGrad_();
        var lengths = Tensor.FromArray(new long[] { 2, 4, 3 }, 3);
        var inputs = new List<Tensor> { x, h0 };
        if (m is LSTM) inputs.Add(c0);
        inputs.AddRange(m.Parameters());
        GradCheck.Check(a =>
        {
            var packed = RnnUtils.PackPaddedSequence(a[0], lengths, enforceSorted: false);
            Tensor outData, h, c;
            switch (m)
            {
                case LSTM l: { var (o, s) = l.Forward(packed, (a[1], a[2])); outData = o.Data; (h, c) = s; return Tensor.Cat([outData.Flatten(), h.Flatten(), c.Flatten()]); }
                case GRU gr: { var (o, s) = gr.Forward(packed, a[1]); return Tensor.Cat([o.Data.Flatten(), s.Flatten()]); }
                default: { var (o, s) = ((RNN)m).Forward(packed, a[1]); return Tensor.Cat([o.Data.Flatten(), s.Flatten()]); }
            }
        }, inputs.ToArray());
    }

    [Fact]
    public void GradcheckCellsAndBatchFirst()
    {
        var g = new Generator(5);
        var lc = new LSTMCell(3, 2, generator: g, dtype: DType.Float64);
        var x = Tensor.Randn([2, 3], g, DType.Float64).RequiresGrad_();
        var h = Tensor.Randn([2, 2], g, DType.Float64).RequiresGrad_();
        var c = Tensor.Randn([2, 2], g, DType.Float64).RequiresGrad_();
        GradCheck.Check(a => { var (h1, c1) = lc.Forward(a[0], (a[1], a[2])); return Tensor.Cat([h1.Flatten(), c1.Flatten()]); }, [x, h, c, .. lc.Parameters()]);
        var gc = new GRUCell(3, 2, generator: g, dtype: DType.Float64);
        GradCheck.Check(a => gc.Forward(a[0], a[1]), [x, h, .. gc.Parameters()]);
        var gru = new GRU(3, 2, batchFirst: true, bias: false, generator: g, dtype: DType.Float64);
        var xb = Tensor.Randn([2, 4, 3], g, DType.Float64).RequiresGrad_();
        GradCheck.Check(a => gru.Forward(a[0], (Tensor?)null).Output, [xb, .. gru.Parameters()]);
    }

    [Fact]
    public void DropoutActsBetweenLayersInTrainingOnly()
    {
        var m = new LSTM(3, 5, numLayers: 2, dropout: 0.5, generator: new Generator(1));
        var x = Tensor.Randn([6, 2, 3], new Generator(2));
        var noDrop = new LSTM(3, 5, numLayers: 2);
        noDrop.LoadStateDict(m.StateDict());
        var reference = noDrop.Call(x).ToDoubleArray();
        var train = m.Call(x).ToDoubleArray();
        Assert.NotEqual(reference, train);
        m.Eval();
        Assert.Equal(reference, m.Call(x).ToDoubleArray());
        // With one layer there is no "between": dropout changes nothing even in training.
        var one = new GRU(3, 5, dropout: 0.5);
        var oneRef = new GRU(3, 5);
        oneRef.LoadStateDict(one.StateDict());
        Assert.Equal(oneRef.Call(x).ToDoubleArray(), one.Call(x).ToDoubleArray());
    }

    [Fact]
    public void PackedBatchEqualsEachSequenceRunAlone()
    {
        // A packed batch must give every sequence exactly what it gets alone: no state leaks across the padding.
        var m = new GRU(2, 3, bidirectional: true, generator: new Generator(4), dtype: DType.Float64);
        var g = new Generator(6);
        var seqs = new[] { 3, 5, 1 }.Select(n => Tensor.Randn([n, 2], g, DType.Float64)).ToArray();
        var (o, h) = m.Forward(RnnUtils.PackSequence(seqs, enforceSorted: false));
        var (pad, _) = RnnUtils.PadPackedSequence(o, batchFirst: true);
        for (int b = 0; b < seqs.Length; b++)
        {
            var (alone, ha) = m.Forward(seqs[b], (Tensor?)null);
            int n = seqs[b].Size(0);
            Close(alone.ToDoubleArray(), pad.Select(0, b).Narrow(0, 0, n).ToDoubleArray(), 1e-14, 0, $"sequence {b} output");
            Close(ha.ToDoubleArray(), h.Select(1, b).ToDoubleArray(), 1e-14, 0, $"sequence {b} h_n");
            Assert.All(pad.Select(0, b).Narrow(0, n, 5 - n).ToDoubleArray(), v => Assert.Equal(0.0, v));
        }
    }

    [Fact]
    public void ReadmeSequenceExampleRuns()
    {
        // README "Sequence layers", as written there.
        var emb = new Embedding(numEmbeddings: 65, embeddingDim: 32, paddingIdx: 0);
        var lstm = new LSTM(32, 128, numLayers: 2, batchFirst: true, dropout: 0.1);
        var head = new Linear(128, 65);
        var ids = Tensor.RandInt(0, 65, [8, 64]);
        var (output, (h, c)) = lstm.Forward(emb.Call(ids), hx: null);
        var logits = head.Call(output);
        var packed = RnnUtils.PackPaddedSequence(emb.Call(ids), Tensor.FromArray(new long[] { 64, 50, 50, 40, 33, 20, 9, 1 }, 8),
            batchFirst: true, enforceSorted: false);
        var (po, state) = lstm.Forward(packed);
        var (padded, lengths) = RnnUtils.PadPackedSequence(po, batchFirst: true);
        Assert.Equal([8, 64, 128], output.Shape);
        Assert.Equal([2, 8, 128], h.Shape);
        Assert.Equal([2, 8, 128], c.Shape);
        Assert.Equal([8, 64, 65], logits.Shape);
        Assert.Equal([2, 8, 128], state.H.Shape);
        Assert.Equal([8, 64, 128], padded.Shape);
        Assert.Equal(new long[] { 64, 50, 50, 40, 33, 20, 9, 1 }, lengths.ToInt64Array());
        Assert.All(padded.Select(0, 7).Narrow(0, 1, 63).ToDoubleArray(), v => Assert.Equal(0.0, v));
    }
}
