using System.Diagnostics;
using Kindling.Data;
using Kindling.IO;
using Kindling.NN;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Kindling.Tests;

/// <summary>Exported models run in ONNX Runtime 1.31 and give Kindling's outputs (within 1e-5) on random and real inputs.</summary>
public class OnnxExportTests
{
    private const double Tol = 1e-5;

    internal static Dictionary<string, float[]> RunOrt(byte[] model, Tensor x, string inputName = "input")
    {
        using var session = new InferenceSession(model);
        var input = NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(x.ToArray(), x.Shape));
        using var results = session.Run([input]);
        return results.ToDictionary(r => r.Name, r => r.AsEnumerable<float>().ToArray());
    }

    private static double[] RunOrtDouble(byte[] model, Tensor x)
    {
        using var session = new InferenceSession(model);
        var input = NamedOnnxValue.CreateFromTensor("input", new DenseTensor<double>(x.ToDoubleArray(), x.Shape));
        using var results = session.Run([input]);
        return results.First(r => r.Name == "output").AsEnumerable<double>().ToArray();
    }

    internal static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            Assert.True(Math.Abs(e - a) <= Tol * Math.Max(1, Math.Abs(e)), $"{what}: element {i}: Kindling {e:R}, ONNX Runtime {a:R}");
        }
    }

    private static float[] Kindling(Module m, Tensor x)
    {
        using (Autograd.NoGrad()) return m.Call(x).ToArray();
    }

    /// <summary>Exports, then compares ONNX Runtime with Kindling (in evaluation mode) at several batch sizes.</summary>
    private static byte[] CheckRoundTrip(Module model, int[] featureShape, OnnxExportOptions? options = null, ulong seed = 1)
    {
        var bytes = Onnx.ExportToBytes(model, [1, .. featureShape], options);
        bool wasTraining = model.Training;
        model.Eval();
        foreach (int batch in new[] { 1, 7, 64 })
        {
            var x = Tensor.Randn([batch, .. featureShape], new Generator(seed + (ulong)batch)) * 2;
            var got = RunOrt(bytes, x);
            AssertClose(Kindling(model, x), got["output"], $"batch {batch}");
        }
        model.Train(wasTraining);
        return bytes;
    }

    private static Module Activation(string name) => name switch
    {
        "ReLU" => new ReLU(),
        "LeakyReLU" => new LeakyReLU(0.2),
        "ELU" => new ELU(0.7),
        "GELU" => new GELU(),
        "SiLU" => new SiLU(),
        "Hardswish" => new Hardswish(),
        "Mish" => new Mish(),
        "Sigmoid" => new Sigmoid(),
        "Tanh" => new Tanh(),
        "Softmax" => new Softmax(),
        "LogSoftmax" => new LogSoftmax(1),
        "Identity" => new Identity(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("ReLU")]
    [InlineData("LeakyReLU")]
    [InlineData("ELU")]
    [InlineData("GELU")]
    [InlineData("SiLU")]
    [InlineData("Hardswish")]
    [InlineData("Mish")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Softmax")]
    [InlineData("LogSoftmax")]
    [InlineData("Identity")]
    public void MlpOfEveryActivationMatches(string activation)
    {
        var g = new Generator(7);
        var model = new Sequential(new Linear(12, 32, generator: g), Activation(activation), new Linear(32, 16, generator: g), Activation(activation), new Linear(16, 5, generator: g));
        CheckRoundTrip(model, [12]);
    }

    [Fact]
    public void BatchNormInEvalFormWithTrainedStatisticsMatches()
    {
        var g = new Generator(3);
        var bn = new BatchNorm1d(16);
        var bnPlain = new BatchNorm1d(8, eps: 1e-3, affine: false);
        var model = new Sequential(new Linear(10, 16, generator: g), bn, new ReLU(), new Linear(16, 8, generator: g), bnPlain, new Tanh(), new Linear(8, 3, generator: g));
        // Move the running statistics and the affine parameters away from their initial values.
        for (int i = 0; i < 5; i++) model.Call(Tensor.Randn([32, 10], g) * 3 + 1);
        using (Autograd.NoGrad()) { bn.Weight!.CopyFrom(Tensor.Rand([16], g) + 0.5); bn.Bias!.CopyFrom(Tensor.Randn([16], g)); }
        Assert.True(model.Training);
        CheckRoundTrip(model, [10]);
        Assert.True(model.Training && bn.Training); // the export restored the training flags
        Assert.Equal(5L, bn.NumBatchesTracked.ToInt64Array()[0]); // and did not update the statistics
    }

    [Fact]
    public void DropoutIsExportedInEvalForm()
    {
        var g = new Generator(4);
        var model = new Sequential(new Linear(6, 20, generator: g), new ReLU(), new Dropout(0.5, g), new Linear(20, 2, generator: g));
        var bytes = CheckRoundTrip(model, [6]);
        Assert.DoesNotContain("Dropout", System.Text.Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void LayerNormOverOneAndTwoDimensionsWithFlattenAndThreeDimensionalLinearMatches()
    {
        var g = new Generator(5);
        var ln2 = new LayerNorm([3, 5]);
        var model = new Sequential(new Linear(4, 5, generator: g), ln2, new GELU(), new LayerNorm(5, eps: 1e-3, elementwiseAffine: false),
            new Flatten(), new Linear(15, 6, generator: g), new LayerNorm(6), new Flatten(0, -1), new Identity());
        using (Autograd.NoGrad()) { ln2.Weight!.CopyFrom(Tensor.Rand([3, 5], g) + 0.5); ln2.Bias!.CopyFrom(Tensor.Randn([3, 5], g)); }
        // Flatten(0, -1) merges the batch too: ONNX Runtime's output is the same flat vector.
        CheckRoundTrip(model, [3, 4]);
    }

    [Fact]
    public void BinaryMultiClassAndRegressionHeadsOnRealDataMatch()
    {
        // Multi-class on the digits (raw pixels in, scaler folded in), with softmax probabilities.
        var digits = Datasets.Digits();
        var scaler = Standardize.Fit(digits.Features);
        var g = new Generator(11);
        var mc = new Sequential(new Linear(64, 32, generator: g), new ReLU(), new Linear(32, 10, generator: g));
        Train(mc, scaler.Transform(digits.Features), digits.Targets, new CrossEntropyLoss());
        var bytes = Onnx.ExportToBytes(mc, [1, 64], new OnnxExportOptions { InputScaler = scaler, Probabilities = OnnxProbabilities.Softmax });
        var ort = RunOrt(bytes, digits.Features);
        mc.Eval();
        using (Autograd.NoGrad())
        {
            var logits = mc.Call(scaler.Transform(digits.Features));
            AssertClose(logits.ToArray(), ort["output"], "digits logits");
            AssertClose(logits.Softmax(-1).ToArray(), ort["probabilities"], "digits probabilities");
        }

        // Binary on breast cancer: one logit and a sigmoid probability.
        var bc = Datasets.BreastCancer();
        var bcScaler = Standardize.Fit(bc.Features);
        var bin = new Sequential(new Linear(30, 5, generator: g), new Sigmoid(), new Linear(5, 1, generator: g));
        Train(bin, bcScaler.Transform(bc.Features), bc.Targets.ToFloat32().Unsqueeze(1), new BCEWithLogitsLoss());
        ort = RunOrt(Onnx.ExportToBytes(bin, [1, 30], new OnnxExportOptions { InputScaler = bcScaler, Probabilities = OnnxProbabilities.Sigmoid }), bc.Features);
        bin.Eval();
        using (Autograd.NoGrad())
        {
            var logit = bin.Call(bcScaler.Transform(bc.Features));
            AssertClose(logit.ToArray(), ort["output"], "breast cancer logit");
            AssertClose(logit.Sigmoid().ToArray(), ort["probabilities"], "breast cancer probability");
        }

        // Regression on diabetes: standardized targets, with the target's scale folded back into the output.
        var db = Datasets.Diabetes();
        var dbScaler = Standardize.Fit(db.Features);
        var y = db.Targets.ToFloat32().Reshape(-1, 1);
        double mean = y.ToDoubleArray().Average(), std = Math.Sqrt(y.ToDoubleArray().Select(v => (v - mean) * (v - mean)).Average());
        var reg = new Sequential(new Linear(10, 16, generator: g), new ELU(), new Linear(16, 1, generator: g));
        Train(reg, dbScaler.Transform(db.Features), (y - mean) / std, new MSELoss());
        ort = RunOrt(Onnx.ExportToBytes(reg, [1, 10], new OnnxExportOptions { InputScaler = dbScaler, OutputAffine = (std, mean) }), db.Features);
        reg.Eval();
        using (Autograd.NoGrad())
            AssertClose((reg.Call(dbScaler.Transform(db.Features)) * std + mean).ToArray(), ort["output"], "diabetes values");
    }

    private static void Train(Module model, Tensor x, Tensor y, Loss loss)
    {
        var opt = new Kindling.Optim.Adam(model.Parameters(), lr: 1e-2);
        for (int i = 0; i < 30; i++)
        {
            opt.ZeroGrad();
            loss.Call(model.Call(x), y).Backward();
            opt.Step();
        }
    }

    [Fact]
    public void Float64ModelExportsAsDouble()
    {
        var g = new Generator(9);
        var model = new Sequential(new Linear(5, 8, generator: g, dtype: DType.Float64), new Tanh(), new Linear(8, 2, generator: g, dtype: DType.Float64));
        var bytes = Onnx.ExportToBytes(model, [1, 5]);
        var x = Tensor.Randn([9, 5], g, DType.Float64);
        double[] expected;
        using (Autograd.NoGrad()) expected = model.Call(x).ToDoubleArray();
        var got = RunOrtDouble(bytes, x);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-12, $"element {i}: {expected[i]:R} vs {got[i]:R}");
    }

    private sealed class Doubler : Module
    {
        public override Tensor Forward(Tensor input) => input * 2;
    }

    [Fact]
    public void UnknownLayerIsNamedAndCanBeRegistered()
    {
        var model = new Sequential(new Linear(3, 4), new Doubler());
        var e = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(model, [1, 3]));
        Assert.Contains("Doubler", e.Message);
        Assert.Contains("'1'", e.Message);
        Assert.Contains("Onnx.Register<Doubler>", e.Message);
        Onnx.Register<Doubler>((_, g, x, _) => g.Node("Mul", [x, g.FloatInitializer("two", [2.0], [])]));
        CheckRoundTrip(model, [3]);
    }

    [Fact]
    public void BadSampleShapesAndScalersAreClearErrors()
    {
        var model = new Sequential(new Linear(3, 4));
        Assert.Contains("batch dimension", Assert.Throws<ArgumentException>(() => Onnx.ExportToBytes(model, [])).Message);
        Assert.Contains("in_features = 3", Assert.Throws<ArgumentException>(() => Onnx.ExportToBytes(model, [1, 5])).Message);
        var scaler = Standardize.Fit(Tensor.Randn([10, 4], new Generator(1)));
        Assert.Contains("fitted on 4 features", Assert.Throws<ArgumentException>(() => Onnx.ExportToBytes(model, [1, 3], new OnnxExportOptions { InputScaler = scaler })).Message);
    }

    [Fact]
    public void FixedBatchExportDeclaresEveryDimension()
    {
        var model = new Sequential(new Linear(3, 2, generator: new Generator(2)), new Softmax());
        var fixedModel = global::Kindling.IO.OnnxProto.ModelProto.Parser.ParseFrom(Onnx.ExportToBytes(model, [4, 3], new OnnxExportOptions { DynamicBatch = false, InputName = "x", OutputName = "y" }));
        Assert.Equal([4L, 3L], fixedModel.Graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.DimValue));
        Assert.Equal([4L, 2L], fixedModel.Graph.Output[0].Type.TensorType.Shape.Dim.Select(d => d.DimValue));
        Assert.Equal("y", fixedModel.Graph.Output[0].Name);
        var dynamicModel = global::Kindling.IO.OnnxProto.ModelProto.Parser.ParseFrom(Onnx.ExportToBytes(model, [4, 3]));
        Assert.Equal("batch", dynamicModel.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(17, dynamicModel.OpsetImport.Single().Version);
        Assert.Equal(8, dynamicModel.IrVersion);
        var x = Tensor.Randn([4, 3], new Generator(3));
        AssertClose(Kindling(model, x), RunOrt(Onnx.ExportToBytes(model, [4, 3], new OnnxExportOptions { DynamicBatch = false, InputName = "x", OutputName = "y" }), x, "x")["y"], "fixed batch");
    }

    [Fact]
    public void ExportWritesTheFileAtomically()
    {
        var dir = Directory.CreateTempSubdirectory("kindling-onnx-");
        try
        {
            var path = Path.Combine(dir.FullName, "m.onnx");
            var model = new Sequential(new Linear(3, 2, generator: new Generator(2)), new ReLU());
            Onnx.Export(model, [1, 3], path);
            Assert.Equal(Onnx.ExportToBytes(model, [1, 3]), File.ReadAllBytes(path));
            Assert.Equal(["m.onnx"], Directory.GetFiles(dir.FullName).Select(Path.GetFileName));
        }
        finally { dir.Delete(true); }
    }

    /// <summary>The ONNX checker (Debian's python3-onnx 1.12) with full_check, on models covering every built-in layer.</summary>
    [SkippableFact]
    public void OnnxCheckerAcceptsExportedModels()
    {
        var python = OnnxChecker.Find();
        Skip.If(python == null, "python3 with the onnx package is not installed (Debian: apt-get install python3-onnx)");
        var dir = Directory.CreateTempSubdirectory("kindling-onnx-check-");
        try
        {
            var g = new Generator(1);
            var digits = Standardize.Fit(Tensor.Randn([20, 12], g));
            var models = new (Module M, int[] Shape, OnnxExportOptions? O)[]
            {
                (new Sequential(new Linear(12, 8, generator: g), new ReLU(), new LeakyReLU(), new ELU(), new GELU(), new SiLU(), new Sigmoid(), new Tanh(), new Dropout(), new Linear(8, 4, generator: g), new Softmax()), [1, 12],
                    new OnnxExportOptions { InputScaler = digits, Probabilities = OnnxProbabilities.Softmax }),
                (new Sequential(new Linear(12, 8, generator: g), new BatchNorm1d(8), new LayerNorm(8), new LogSoftmax(), new Identity(), new Linear(8, 1, bias: false, generator: g)), [1, 12],
                    new OnnxExportOptions { OutputAffine = (3.0, 1.5), Probabilities = OnnxProbabilities.Sigmoid }),
                (new Sequential(new Linear(4, 5, generator: g), new LayerNorm([3, 5]), new Flatten(), new Linear(15, 2, generator: g), new Flatten(0, -1)), [1, 3, 4], null),
                // Convolutional networks: the reference CNN, and one with every other convolution and pooling form.
                (OnnxCnnExportTests.ReferenceCnn(g), [1, 1, 28, 28], new OnnxExportOptions { Probabilities = OnnxProbabilities.Softmax }),
                (new Sequential(new Unflatten(1, 2, 14, 14), new Conv2d(2, 4, (2, 3), padding: "same", paddingMode: "reflect", groups: 2, generator: g),
                    new BatchNorm2d(4), new BatchNorm2d(4, trackRunningStats: false), new MaxPool2d(2, stride: 3, dilation: 3, ceilMode: true),
                    new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, divisorOverride: 4), new ConvTranspose2d(4, 2, 3, stride: 2, padding: 1, outputPadding: 1, generator: g),
                    new Conv2d(2, 2, 3, padding: 1, paddingMode: "circular", generator: g), new AdaptiveAvgPool2d(3), new AdaptiveAvgPool2d(1), new Dropout2d(),
                    new Flatten(), new Linear(2, 3, generator: g)), [1, 392], null),
                (new Sequential(new Conv1d(3, 4, 3, padding: "same", paddingMode: "replicate", generator: g), new MaxPool1d(3, stride: 2, padding: 1, ceilMode: true), new Flatten()), [1, 3, 20], null),
                (new Sequential(new Conv2d(2, 3, 3, padding: 1, generator: g, dtype: DType.Float64), new ConvTranspose2d(3, 2, 2, stride: 2, generator: g, dtype: DType.Float64),
                    new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true)), [1, 2, 5, 5], null),
            };
            var paths = new List<string>();
            for (int i = 0; i < models.Length; i++)
            {
                var p = Path.Combine(dir.FullName, $"m{i}.onnx");
                Onnx.Export(models[i].M, models[i].Shape, p, models[i].O);
                paths.Add(p);
            }
            var (code, output) = OnnxChecker.Check(python!, paths);
            Assert.True(code == 0, output);
            Assert.Equal(paths.Count, output.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
        }
        finally { dir.Delete(true); }
    }
}

/// <summary>Runs <c>onnx.checker.check_model(m, full_check=True)</c> with the system Python.</summary>
internal static class OnnxChecker
{
    private const string Script = """
        import sys, onnx
        for p in sys.argv[1:]:
            m = onnx.load(p)
            onnx.checker.check_model(m, full_check=True)
            print("ok", p, "opset", m.opset_import[0].version, "ir", m.ir_version)
        """;

    public static string? Find()
    {
        foreach (var py in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                var (code, _) = Run(py, ["-c", "import onnx.checker"]);
                if (code == 0) return py;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        return null;
    }

    public static (int Code, string Output) Check(string python, IEnumerable<string> paths) => Run(python, ["-c", Script, .. paths]);

    private static (int, string) Run(string exe, string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PYENV_VERSION"] = "system";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o + err.Result);
    }
}
