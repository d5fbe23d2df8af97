using Kindling.IO;
using Kindling.NN;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Kindling.Tests;

/// <summary>
/// Embedding, EmbeddingBag, LSTM, GRU and RNN exported at opset 17 and run in ONNX Runtime 1.31: outputs equal
/// Kindling's within 1e-5 (relative above 1), at several batch sizes / sequence lengths.
/// </summary>
public class OnnxSequenceExportTests
{
    private const double Tol = 1e-5;

    private static float[] Ort(byte[] model, Tensor x)
    {
        using var session = new InferenceSession(model);
        var input = x.DType == DType.Int64
            ? NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(x.ToInt64Array(), x.Shape))
            : NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray(), x.Shape));
        using var results = session.Run([input]);
        return results.First(r => r.Name == "output").AsEnumerable<float>().ToArray();
    }

    private static void Check(Module m, int[] sample, Func<int, Tensor> input, params int[] dim0)
    {
        var bytes = Onnx.ExportToBytes(m, sample);
        m.Eval();
        foreach (int n in dim0)
        {
            var x = input(n);
            float[] want;
            using (Autograd.NoGrad()) want = m.Call(x).ToArray();
            var got = Ort(bytes, x);
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want[i] - got[i]) <= Tol * Math.Max(1, Math.Abs(want[i])), $"{m.GetType().Name} dim0={n} element {i}: Kindling {want[i]:R}, ONNX Runtime {got[i]:R}");
        }
    }

    private static Tensor Ids(int[] shape, int v, ulong seed) => Tensor.RandInt(0, v, shape, new Generator(seed));

    [Fact]
    public void EmbeddingLstmLinearCharacterModel()
    {
        var g = new Generator(1);
        var model = new Sequential(new Embedding(11, 6, paddingIdx: 0, generator: g),
            new LSTM(6, 8, numLayers: 2, batchFirst: true, bidirectional: true, generator: g), new Linear(16, 11, generator: g));
        Check(model, [1, 7], b => Ids([b, 7], 11, (ulong)b), 1, 3, 9);
    }

    [Fact]
    public void GruAndRnnStacks()
    {
        var g = new Generator(2);
        Func<int, Tensor> seq = t => Tensor.Randn([t, 4, 3], new Generator((ulong)t)) * 2;
        Check(new GRU(3, 5, numLayers: 2, bidirectional: true, generator: g), [6, 4, 3], seq, 1, 6, 20);
        Check(new GRU(3, 5, batchFirst: true, bias: false, generator: g), [4, 6, 3], b => Tensor.Randn([b, 6, 3], new Generator((ulong)b)), 1, 5);
        Check(new RNN(3, 5, numLayers: 2, nonlinearity: "relu", bidirectional: true, generator: g), [6, 4, 3], seq, 2, 7);
        Check(new RNN(3, 5, generator: g), [6, 4, 3], seq, 3);
        Check(new LSTM(3, 5, bias: false, generator: g), [6, 4, 3], seq, 1, 12);
    }

    [Fact]
    public void EmbeddingWithMaxNormExportsTheRenormalisedTable()
    {
        var e = new Embedding(9, 4, maxNorm: 1.0, generator: new Generator(3));
        var before = e.Weight.ToDoubleArray();
        var bytes = Onnx.ExportToBytes(e, [2, 5]);
        Assert.Equal(before, e.Weight.ToDoubleArray()); // export does not touch the model
        var x = Ids([4, 5], 9, 4);
        float[] want;
        using (Autograd.NoGrad()) want = e.Call(x).ToArray();
        var got = Ort(bytes, x);
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= Tol, $"element {i}: {want[i]} vs {got[i]}");
    }

    [Theory]
    [InlineData(EmbeddingBagMode.Sum, null)]
    [InlineData(EmbeddingBagMode.Mean, null)]
    [InlineData(EmbeddingBagMode.Max, null)]
    [InlineData(EmbeddingBagMode.Sum, 2)]
    [InlineData(EmbeddingBagMode.Mean, 2)]
    [InlineData(EmbeddingBagMode.Max, 2)]
    public void EmbeddingBagTwoDimensional(EmbeddingBagMode mode, int? pad)
    {
        var bag = new EmbeddingBag(5, 3, mode, paddingIdx: pad, generator: new Generator(5));
        // Rows of 2s are all padding when pad = 2 (an empty bag: zeros in every mode).
        Check(bag, [1, 4], b => b == 3 ? Tensor.FromArray(new long[] { 1, 2, 2, 4, 2, 2, 2, 2, 0, 3, 2, 1 }, 3, 4) : Ids([b, 4], 5, (ulong)b), 3, 1, 8);
    }

    [Fact]
    public void ProjectionIsRefusedClearly()
    {
        var ex = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(new LSTM(3, 5, projSize: 2), [4, 2, 3]));
        Assert.Contains("proj_size", ex.Message);
    }
}
