using System.Globalization;
using Kindling.IO;

namespace Kindling.Tests;

/// <summary><c>kindling export</c>: the ONNX model takes raw CSV features and gives what <c>kindling predict</c> gives.</summary>
public class CliExportTests
{
    private static string Tmp(string name)
    {
        var d = Path.Combine(Path.GetTempPath(), "kindling-export-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>A CSV of three raw features on very different scales (so the folded scaling matters) and a target.</summary>
    private static (string Path, Tensor X) WriteCsv(string dir, string task)
    {
        var r = new Random(5);
        var lines = new List<string> { "a,b,c,y" };
        var x = new List<float>();
        for (int i = 0; i < 200; i++)
        {
            float a = (float)Math.Round(r.NextDouble() * 100, 3), b = (float)Math.Round(r.NextDouble() - 0.5, 4), c = (float)Math.Round(r.NextDouble() * 5000, 1);
            string y = task switch
            {
                "classification" => a / 100 + b < 0.3 ? "low" : a / 100 + b < 0.7 ? "mid" : "high",
                "binary" => a / 100 > b + 0.5 ? "1" : "0",
                _ => (3 * a - 20 * b + c / 100 + 7).ToString("F3", CultureInfo.InvariantCulture),
            };
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{a},{b},{c},{y}"));
            x.AddRange([a, b, c]);
        }
        var path = Path.Combine(dir, task + ".csv");
        File.WriteAllLines(path, lines);
        return (path, Tensor.FromArray(x.ToArray(), 200, 3));
    }

    private static float[] PredictColumns(string csv, Func<string, bool> pick)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        var cols = Enumerable.Range(0, header.Length).Where(i => pick(header[i])).ToArray();
        Assert.NotEmpty(cols);
        return lines.Skip(1).SelectMany(l => { var f = l.Split(','); return cols.Select(i => float.Parse(f[i], CultureInfo.InvariantCulture)); }).ToArray();
    }

    [Theory]
    [InlineData("classification", new[] { "--batch-norm", "--dropout", "0.2", "--activation", "gelu", "--hidden", "16,8" })]
    [InlineData("binary", new[] { "--activation", "tanh" })]
    [InlineData("regression", new[] { "--activation", "elu", "--batch-norm" })]
    public void ExportedModelTakesRawFeaturesAndMatchesPredict(string task, string[] extra)
    {
        var dir = Tmp(task);
        var (csv, x) = WriteCsv(dir, task);
        var run = Path.Combine(dir, "run");
        var t = CliTests.Run(["train", "--data", csv, "--target", "y", "--epochs", "4", "--out", run, .. extra]);
        Assert.True(t.Code == 0, t.Err + t.Out);
        var pred = Path.Combine(dir, "pred.csv");
        var p = CliTests.Run(["predict", run, "--data", csv, "--out", pred]);
        Assert.True(p.Code == 0, p.Err + p.Out);
        var onnx = Path.Combine(dir, "sub", "model.onnx");
        var e = CliTests.Run(["export", run, "--onnx", onnx]);
        Assert.True(e.Code == 0, e.Err + e.Out);
        Assert.Contains("wrote", e.Out);

        var ort = OnnxExportTests.RunOrt(File.ReadAllBytes(onnx), x);
        if (task == "regression")
        {
            Assert.False(ort.ContainsKey("probabilities"));
            OnnxExportTests.AssertClose(PredictColumns(pred, h => h == "prediction"), ort["output"], "values");
        }
        else
        {
            // predict's per-class columns (p_*) are the probabilities output; binary predict lists both classes.
            var probs = PredictColumns(pred, h => h.StartsWith("p_", StringComparison.Ordinal));
            if (task == "binary") probs = probs.Where((_, i) => i % 2 == 1).ToArray();
            OnnxExportTests.AssertClose(probs, ort["probabilities"], "probabilities");
        }
    }

    [Fact]
    public void DamagedRunFoldersAreOneLineErrors()
    {
        var dir = Tmp("damaged");
        var (csv, _) = WriteCsv(dir, "binary");
        var run = Path.Combine(dir, "run");
        Assert.Equal(0, CliTests.Run(["train", "--data", csv, "--target", "y", "--epochs", "1", "--out", run]).Code);
        var onnx = Path.Combine(dir, "m.onnx");

        void Expect(string runDir, string contains)
        {
            var r = CliTests.Run(["export", runDir, "--onnx", onnx]);
            Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}{r.Out}");
            Assert.Single(r.Err.Trim().Split('\n'));
            Assert.StartsWith("error: ", r.Err);
            Assert.Contains(contains, r.Err);
            Assert.False(File.Exists(onnx));
        }

        Expect(Path.Combine(dir, "nope"), "does not exist");
        Expect(dir, "no config.json");
        var copy = Path.Combine(dir, "copy");
        void Fresh()
        {
            if (Directory.Exists(copy)) Directory.Delete(copy, true);
            Directory.CreateDirectory(copy);
            foreach (var f in Directory.GetFiles(run)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        }
        Fresh();
        File.WriteAllText(Path.Combine(copy, "config.json"), "{ \"data\": ");
        Expect(copy, "config.json' is damaged");
        Fresh();
        File.WriteAllText(Path.Combine(copy, "config.json"), "{}");
        Expect(copy, "does not describe a finished training run");
        Fresh();
        var model = File.ReadAllBytes(Path.Combine(copy, "model.safetensors"));
        File.WriteAllBytes(Path.Combine(copy, "model.safetensors"), model[..(model.Length / 2)]);
        Expect(copy, "truncated");
        Fresh();
        File.Delete(Path.Combine(copy, "scaler.safetensors"));
        Expect(copy, "scaler.safetensors");
        Fresh();
        Safetensors.Save(Path.Combine(copy, "model.safetensors"), new Dictionary<string, Tensor> { ["0.weight"] = Tensor.Zeros(2, 2) });
        Expect(copy, "damaged or incomplete");

        var usage = CliTests.Run(["export", run]);
        Assert.Equal(2, usage.Code);
        Assert.Contains("--onnx", usage.Err);
    }
}
