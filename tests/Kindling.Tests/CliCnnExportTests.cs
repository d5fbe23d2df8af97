using System.Globalization;

namespace Kindling.Tests;

/// <summary><c>kindling export</c> of a <c>--model cnn</c> run: the ONNX model takes the raw flat pixels and gives what <c>kindling predict</c> gives.</summary>
public class CliCnnExportTests
{
    [Fact]
    public void ExportedCnnRunTakesRawPixelsAndMatchesPredict()
    {
        var dir = Path.Combine(Path.GetTempPath(), "kindling-export-tests", "cnn-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var run = Path.Combine(dir, "run");
        var t = CliTests.Run(["train", "--data", "digits", "--model", "cnn", "--conv", "4,8", "--hidden", "16", "--batch-norm", "--dropout", "0.1",
            "--epochs", "1", "--seed", "5", "--threads", "1", "--out", run]);
        Assert.True(t.Code == 0, t.Err + t.Out);

        // 40 raw digit images as CSV rows (pixels 0–16, unscaled).
        var d = Data.Datasets.Digits();
        var x = d.Features.Narrow(0, 0, 40).Contiguous();
        var px = x.ToArray();
        var csv = Path.Combine(dir, "in.csv");
        File.WriteAllLines(csv, new[] { string.Join(",", d.FeatureNames) }
            .Concat(Enumerable.Range(0, 40).Select(i => string.Join(",", px.Skip(i * 64).Take(64).Select(v => v.ToString(CultureInfo.InvariantCulture))))));
        var pred = Path.Combine(dir, "pred.csv");
        var p = CliTests.Run(["predict", run, "--data", csv, "--out", pred]);
        Assert.True(p.Code == 0, p.Err + p.Out);

        var onnx = Path.Combine(dir, "model.onnx");
        var e = CliTests.Run(["export", run, "--onnx", onnx]);
        Assert.True(e.Code == 0, e.Err + e.Out);
        Assert.Contains("input 'input' (batch, 64) raw features (flattened 1×8×8 images); outputs output, probabilities", e.Out);

        var ort = OnnxExportTests.RunOrt(File.ReadAllBytes(onnx), x);
        var lines = File.ReadAllLines(pred);
        var header = lines[0].Split(',');
        var cols = Enumerable.Range(0, header.Length).Where(i => header[i].StartsWith("p_", StringComparison.Ordinal)).ToArray();
        Assert.Equal(10, cols.Length);
        var probs = lines.Skip(1).SelectMany(l => { var f = l.Split(','); return cols.Select(i => float.Parse(f[i], CultureInfo.InvariantCulture)); }).ToArray();
        OnnxExportTests.AssertClose(probs, ort["probabilities"], "CNN run probabilities");
        Assert.Equal(400, ort["output"].Length);
    }
}
