using Kindling.Data;
using Kindling.IO;
using Kindling.NN;
using Xunit.Abstractions;

namespace Kindling.Tests;

/// <summary>
/// Convolutional models exported to ONNX run in ONNX Runtime 1.31 and give Kindling's outputs within 1e-5 at batch 1
/// and above, over every convolution and pooling option (stride, dilation, groups, "same", padding modes, ceil_mode,
/// count_include_pad, divisor_override, adaptive sizes, transposed convolutions, BatchNorm2d statistics).
/// </summary>
public class OnnxCnnExportTests(ITestOutputHelper log)
{
    /// <summary>Exports with a batch-1 sample shape, then compares at batch 1 and 5 on random inputs; logs the largest difference.</summary>
    private void CheckRoundTrip(string name, Module model, int[] featureShape, ulong seed = 1)
    {
        var bytes = Onnx.ExportToBytes(model, [1, .. featureShape]);
        bool wasTraining = model.Training;
        model.Eval();
        double maxDiff = 0;
        foreach (int batch in new[] { 1, 5 })
        {
            var x = Tensor.Randn([batch, .. featureShape], new Generator(seed + (ulong)batch)) * 2;
            float[] expected;
            using (Autograd.NoGrad()) expected = model.Call(x).ToArray();
            var got = OnnxExportTests.RunOrt(bytes, x)["output"];
            OnnxExportTests.AssertClose(expected, got, $"{name}, batch {batch}");
            maxDiff = Math.Max(maxDiff, expected.Zip(got, (e, a) => Math.Abs((double)e - a)).Max());
        }
        model.Train(wasTraining);
        log.WriteLine($"{name}: max |Kindling − ONNX Runtime| = {maxDiff:E2} (batches 1 and 5, {bytes.Length:N0} bytes)");
    }

    private static string[] OpTypes(Module model, int[] shape) =>
        [.. global::Kindling.IO.OnnxProto.ModelProto.Parser.ParseFrom(Onnx.ExportToBytes(model, shape)).Graph.Node.Select(n => n.OpType)];

    /// <summary>The issue's reference model at a quarter of the width: Conv-ReLU-MaxPool ×2, Flatten, Linear-ReLU-Linear on 1×28×28.</summary>
    internal static Sequential ReferenceCnn(Generator g) => new(
        new Conv2d(1, 8, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
        new Conv2d(8, 16, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Linear(16 * 7 * 7, 32, generator: g), new ReLU(), new Linear(32, 10, generator: g));

    [Fact]
    public void ReferenceCnnMatches() => CheckRoundTrip("reference CNN", ReferenceCnn(new Generator(1)), [1, 28, 28]);

    [Fact]
    public void StridedDilatedGroupedDepthwiseAndSameConvolutionsMatch()
    {
        var g = new Generator(2);
        var model = new Sequential(
            new Conv2d(3, 6, (3, 5), stride: (2, 1), padding: (1, 2), dilation: (1, 2), generator: g), new ReLU(),
            new Conv2d(6, 6, 3, padding: "same", groups: 6, generator: g), // depthwise
            new Conv2d(6, 4, (2, 4), padding: "same", dilation: 2, groups: 2, generator: g), new Tanh(), // even kernel: asymmetric pads
            new Conv2d(4, 5, 1, padding: "valid", bias: false, generator: g),
            new Conv2d(5, 4, 3, stride: 2, generator: g));
        CheckRoundTrip("strided/dilated/grouped/depthwise/same", model, [3, 11, 13]);
    }

    [Fact]
    public void ReflectReplicateAndCircularPaddingModesMatch()
    {
        var g = new Generator(3);
        var model = new Sequential(
            new Conv2d(2, 3, 3, padding: 1, paddingMode: "reflect", generator: g),
            new Conv2d(3, 3, (3, 2), padding: "same", paddingMode: "replicate", generator: g),
            new Conv2d(3, 2, 3, padding: (2, 1), paddingMode: "circular", generator: g));
        CheckRoundTrip("padding modes", model, [2, 7, 9]);
    }

    [Fact]
    public void CeilModeMaxPoolsMatch()
    {
        // 23×23 → the dilated ceil-mode pool needs an end pad as large as its kernel (exported as a −∞ Pad node) → 8×8
        // → padded ceil-mode pool with an extra window → 5×5 → non-square pool with an extra row only → 3×2.
        var model = new Sequential(
            new MaxPool2d(2, stride: 3, dilation: 3, ceilMode: true),
            new MaxPool2d(3, stride: 2, padding: 1, ceilMode: true),
            new MaxPool2d((2, 3), stride: 2, ceilMode: true));
        CheckRoundTrip("ceil-mode max pools", model, [2, 23, 23]);
        Assert.Equal(["Pad", "MaxPool", "MaxPool", "MaxPool", "Identity"], OpTypes(model, [1, 2, 23, 23]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AvgPoolsWithAndWithoutCountIncludePadMatch(bool countIncludePad)
    {
        // 13×12 → a ceil-mode window past the padding in width only → 7×7 → padded non-square → 8×4 → ceil → 4×2.
        var model = new Sequential(
            new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: countIncludePad),
            new AvgPool2d((2, 3), stride: (1, 2), padding: (1, 1), countIncludePad: countIncludePad),
            new AvgPool2d(2, ceilMode: true, countIncludePad: countIncludePad));
        CheckRoundTrip($"avg pools, count_include_pad={countIncludePad}", model, [3, 13, 12]);
        // Only the first pool with count_include_pad has a window past the padding, so only it needs the divisor map.
        Assert.Equal(countIncludePad ? ["AveragePool", "Mul", "AveragePool", "AveragePool", "Identity"] : ["AveragePool", "AveragePool", "AveragePool", "Identity"], OpTypes(model, [1, 3, 13, 12]));
    }

    [Fact]
    public void AvgPoolWithDivisorOverrideMatches()
    {
        var model = new Sequential(new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, divisorOverride: 5), new AvgPool2d(2, divisorOverride: 3));
        CheckRoundTrip("avg pool, divisor_override", model, [2, 9, 12]);
    }

    [Fact]
    public void AdaptiveAvgPoolToDivisibleAndGlobalSizesMatches()
    {
        var g = new Generator(4);
        var model = new Sequential(
            new Conv2d(2, 4, 3, generator: g), // 10×14 → 8×12
            new AdaptiveAvgPool2d((4, 3)), // windows 2×4
            new AdaptiveAvgPool2d((4, 3)), // identity
            new AdaptiveAvgPool2d(1), // GlobalAveragePool
            new Flatten(), new Linear(4, 3, generator: g));
        CheckRoundTrip("adaptive avg pools", model, [2, 10, 14]);
    }

    [Fact]
    public void ConvTransposeWithStridePaddingOutputPaddingGroupsAndDilationMatches()
    {
        var g = new Generator(5);
        var model = new Sequential(
            new ConvTranspose2d(4, 6, 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, dilation: 2, generator: g), new ReLU(),
            new ConvTranspose2d(6, 3, (2, 3), stride: (1, 2), padding: (0, 1), bias: false, generator: g));
        CheckRoundTrip("transposed convolutions", model, [4, 5, 6]);
    }

    [Fact]
    public void Conv1dAndMaxPool1dMatch()
    {
        var g = new Generator(6);
        var model = new Sequential(
            new Conv1d(3, 8, 5, stride: 2, padding: 2, generator: g), new ReLU(), // 29 → 15
            new MaxPool1d(3, stride: 2, padding: 1, ceilMode: true), // → 8
            new Conv1d(8, 8, 3, padding: "same", dilation: 2, groups: 4, generator: g),
            new MaxPool1d(3, stride: 3, padding: 1, ceilMode: true), // → 3: PyTorch drops the window starting in the right padding
            new MaxPool1d(2, ceilMode: true), // → 2: an extra partial window
            new Conv1d(8, 4, 2, padding: 1, paddingMode: "circular", generator: g), // → 3
            new Flatten(), new Linear(12, 5, generator: g));
        CheckRoundTrip("Conv1d + MaxPool1d", model, [3, 29]);
    }

    [Fact]
    public void BatchNorm2dWithTrainedStatisticsDropout2dAndUnflattenMatch()
    {
        var g = new Generator(7);
        var bn = new BatchNorm2d(4);
        var bnPlain = new BatchNorm2d(4, eps: 1e-3, momentum: null, affine: false);
        var model = new Sequential(
            new Unflatten(1, 2, -1, 6), // (N, 72) → (N, 2, 6, 6)
            new Conv2d(2, 4, 3, padding: 1, generator: g), bn, new ReLU(), new Dropout2d(0.3, g), bnPlain,
            new Conv2d(4, 3, 1, generator: g), new BatchNorm2d(3, trackRunningStats: false), // batch statistics in evaluation too
            new Flatten(), new Linear(108, 4, generator: g));
        for (int i = 0; i < 5; i++) model.Call(Tensor.Randn([16, 72], g) * 3 + 1);
        using (Autograd.NoGrad()) { bn.Weight!.CopyFrom(Tensor.Rand([4], g) + 0.5); bn.Bias!.CopyFrom(Tensor.Randn([4], g)); }
        Assert.NotEqual(new float[4], bn.RunningMean!.ToArray());
        CheckRoundTrip("BatchNorm2d + Dropout2d + Unflatten", model, [72]);
        Assert.Equal(5L, bn.NumBatchesTracked!.ToInt64Array()[0]); // the export did not update the statistics
        var ops = OpTypes(model, [1, 72]);
        Assert.DoesNotContain("Dropout", ops);
        Assert.Equal(2, ops.Count(t => t == "BatchNormalization")); // the tracked ones
        Assert.Equal(2, ops.Count(t => t == "ReduceMean")); // mean and variance of the untracked one
    }

    /// <summary>
    /// float64 max pooling and BatchNorm2d run as double in ONNX Runtime (its CPU provider has no float64 Conv,
    /// ConvTranspose or AveragePool kernel, so those float64 forms are checked by the ONNX checker test only).
    /// </summary>
    [Fact]
    public void Float64MaxPoolAndBatchNormExportAsDouble()
    {
        var g = new Generator(8);
        var bn = new BatchNorm2d(2, dtype: DType.Float64);
        var model = new Sequential(new Unflatten(1, 2, 7, 7), bn, new MaxPool2d(3, stride: 2, padding: 1, ceilMode: true), new MaxPool2d(2, ceilMode: true));
        for (int i = 0; i < 3; i++) model.Call(Tensor.Randn([8, 98], g, DType.Float64) * 2 + 1);
        model.Eval();
        var x = Tensor.Randn([3, 98], g, DType.Float64);
        double[] expected;
        using (Autograd.NoGrad()) expected = model.Call(x).ToDoubleArray();
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Onnx.ExportToBytes(model, [1, 98]));
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input",
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<double>(x.ToDoubleArray(), x.Shape))]);
        var got = results.First().AsEnumerable<double>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-12, $"element {i}: {expected[i]:R} vs {got[i]:R}");
    }

    /// <summary>Real inputs: a CNN trained briefly on the digits, exported with the scaler folded in, over all 1,797 images.</summary>
    [Fact]
    public void TrainedCnnOnDigitsMatchesOnEveryImage()
    {
        var digits = Datasets.Digits();
        var scaler = Standardize.Fit(digits.Features);
        var g = new Generator(9);
        var model = new Sequential(new Unflatten(1, 1, 8, 8),
            new Conv2d(1, 8, 3, padding: 1, generator: g), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(64, 10, generator: g));
        var x = scaler.Transform(digits.Features);
        // A few full-batch Adam steps on the first 256 images move the weights and the BatchNorm2d statistics.
        var (xTrain, yTrain) = (x.Narrow(0, 0, 256).Contiguous(), digits.Targets.Narrow(0, 0, 256).Contiguous());
        var opt = new Kindling.Optim.Adam(model.Parameters(), lr: 1e-2);
        var loss = new CrossEntropyLoss();
        for (int i = 0; i < 10; i++)
        {
            opt.ZeroGrad();
            loss.Call(model.Call(xTrain), yTrain).Backward();
            opt.Step();
        }
        var ort = OnnxExportTests.RunOrt(Onnx.ExportToBytes(model, [1, 64], new OnnxExportOptions { InputScaler = scaler, Probabilities = OnnxProbabilities.Softmax }), digits.Features);
        model.Eval();
        using (Autograd.NoGrad())
        {
            var logits = model.Call(x);
            OnnxExportTests.AssertClose(logits.ToArray(), ort["output"], "digits logits");
            OnnxExportTests.AssertClose(logits.Softmax(-1).ToArray(), ort["probabilities"], "digits probabilities");
            log.WriteLine($"digits CNN: max |Kindling − ONNX Runtime| logits = {logits.ToArray().Zip(ort["output"], (e, a) => Math.Abs(e - a)).Max():E2} over {digits.Features.Size(0)} images");
        }
    }

    [Fact]
    public void UnexportableConfigurationsAreClearErrors()
    {
        var uneven = new Sequential(new Conv2d(1, 2, 3), new AdaptiveAvgPool2d(3)); // 7×7 → 5×5, not a multiple of 3
        var e = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(uneven, [1, 1, 7, 7]));
        Assert.Contains("AdaptiveAvgPool2d(output_size=3) ('1')", e.Message);
        Assert.Contains("5×5 input, which is not a multiple of the output size 3×3", e.Message);

        var unbatched = new Sequential(new Conv2d(3, 4, 3));
        var u = Assert.Throws<ArgumentException>(() => Onnx.ExportToBytes(unbatched, [3, 8, 8]));
        Assert.Contains("needs a batched input (N, C, H, W)", u.Message);
        Assert.Contains("[1, 3, 32, 32]", u.Message);

        var batchSplit = new Sequential(new Unflatten(0, 2, -1), new Flatten(0, 1));
        Assert.Contains("splits dimension 0, the batch", Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(batchSplit, [4, 3])).Message);
    }
}
