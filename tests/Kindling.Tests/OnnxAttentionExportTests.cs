using Kindling.IO;
using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// MultiheadAttention (self-attention), LayerNormalization, TransformerEncoderLayer (post- and pre-norm, relu and gelu,
/// batch first and sequence first), TransformerEncoder with its final norm, GELU's tanh form and a small sequence model
/// exported at opset 17: ONNX Runtime gives Kindling's outputs within 1e-5 at several batch sizes and lengths.
/// </summary>
public class OnnxAttentionExportTests
{
    private static void Check(Module model, int length, int features, bool batchFirst = true)
    {
        int[] Sample(int n, int l) => batchFirst ? [n, l, features] : [l, n, features];
        var bytes = Onnx.ExportToBytes(model, Sample(1, length));
        model.Eval();
        // The exported graph's first dimension is dynamic: the batch when batch first, else the length (the batch is then fixed).
        foreach (var d in new[] { 1, 3 })
        {
            var x = Tensor.Randn(batchFirst ? Sample(d, length) : Sample(1, length + d), new Generator((ulong)d + 10)) * 1.5;
            float[] expected;
            using (Autograd.NoGrad()) expected = model.Call(x).ToArray();
            OnnxExportTests.AssertClose(expected, OnnxExportTests.RunOrt(bytes, x)["output"], $"{model.GetType().Name} first dimension {d}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MultiheadAttention(bool batchFirst) => Check(new MultiheadAttention(16, 4, batchFirst: batchFirst, generator: new Generator(1)), 7, 16, batchFirst);

    [Theory]
    [InlineData(false, "relu", true)]
    [InlineData(true, "gelu", true)]
    [InlineData(false, "gelu", false)]
    [InlineData(true, "relu", false)]
    public void TransformerEncoderLayer(bool normFirst, string activation, bool batchFirst) =>
        Check(new TransformerEncoderLayer(16, 2, 24, 0.1, activation, 1e-5, batchFirst, normFirst, new Generator(2)), 5, 16, batchFirst);

    [Fact]
    public void TransformerEncoderStackAndASequenceModel()
    {
        Check(new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16, batchFirst: true, generator: new Generator(3)), 2, new LayerNorm(8)), 6, 8);
        var g = new Generator(4);
        Check(new Sequential(new Linear(5, 8, generator: g), new TransformerEncoderLayer(8, 2, 16, batchFirst: true, normFirst: true, generator: g),
            new LayerNorm(8), new GELU("tanh"), new Linear(8, 3, generator: g)), 9, 5);
    }

    [Fact]
    public void UnsupportedFormsSaySo()
    {
        var m = new MultiheadAttention(8, 2, addBiasKv: true, batchFirst: true);
        Assert.Contains("add_bias_kv or add_zero_attn", Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(m, [1, 4, 8])).Message);
    }
}
