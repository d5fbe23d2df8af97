namespace Kindling.Tests;

/// <summary>Runs each example program briefly: it trains and reports a held-out metric better than chance.</summary>
public class ExampleTests
{
    [SkippableFact]
    public void ImageClassifierLearnsOnFashionMnist()
    {
        // The example falls back to digits without Fashion-MNIST; the test does not: it is about Fashion-MNIST.
        Skip.IfNot(Kindling.Data.FashionMnist.IsAvailable(), "Fashion-MNIST is not installed (.ci/run installs it: apt-get install dataset-fashion-mnist)");
        Assert.InRange(ImageClassifier.Run(epochs: 2, limit: 3000), 0.75, 1.0);
    }

    [Fact]
    public void HouseRegressorLearns()
    {
        var (rmse, r2) = HouseRegressor.Run(epochs: 60);
        Assert.InRange(r2, 0.2, 1.0);
        Assert.InRange(rmse, 20, 80);
    }

    /// <summary>A small version of the CNN example (fewer channels and images) so the test takes seconds.</summary>
    [Fact]
    public void CnnClassifierLearns() => Assert.InRange(CnnClassifier.Run(epochs: 3, trainLimit: 2000, testLimit: 1000, channels1: 8, channels2: 16, hidden: 32), 0.6, 1.0);

    /// <summary>A small version of the GPT example (one narrow layer, 150 steps) so the test takes seconds: it must beat the unigram entropy (4.8 bits).</summary>
    [Fact]
    public void CharGptLearns()
    {
        var (bits, ngramBits, sample) = CharGpt.Run(steps: 150, layers: 1, width: 32, context: 32, batch: 8);
        Assert.InRange(bits, 1.0, 4.8);   // below the unigram entropy H(X) = 4.77 bits: it uses context
        Assert.InRange(ngramBits, 2.3, 2.6);     // order 5, add-0.01 on the 5% validation split (1.68–1.70 nats)
        Assert.Equal(200, sample.Length);
    }

    /// <summary>The bag-of-embeddings text classifier on the SMS Spam Collection beats the majority class clearly and finds most spam.</summary>
    [Fact]
    public void TextClassifierBeatsTheMajorityClass()
    {
        var r = TextClassifier.Run(epochs: 5);
        Assert.InRange(r.Majority, 0.84, 0.89);
        Assert.InRange(r.Accuracy, 0.95, 1.0);
        Assert.InRange(r.SpamRecall, 0.8, 1.0);
    }

    [Fact]
    public void BinaryClassifierLearns() => Assert.InRange(BinaryClassifier.Run(epochs: 30), 0.9, 1.0);

    /// <summary>README's C# example (examples/QuickStart, the same code): it runs and reports held-out accuracy above 90%.</summary>
    [Fact]
    public void QuickStartFromTheReadmeEvaluatesOnHeldOutDigits()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        var dll = Path.Combine(Repo.Root, "examples", "QuickStart", "bin", config, "net10.0", "QuickStart.dll");
        Assert.True(File.Exists(dll), "examples/QuickStart was not built: " + dll);
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "QuickStart did not finish in 2 minutes");
        Assert.Equal(0, p.ExitCode);
        var m = System.Text.RegularExpressions.Regex.Match(output, @"test accuracy: ([0-9.]+) ?% on 360 held-out digits");
        Assert.True(m.Success, output);
        Assert.InRange(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 90, 100);
        // The README shows this very program.
        var readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        Assert.Contains("var scaler = Standardize.Fit(data.Features.IndexSelect(0, trainIdx));", readme);
        Assert.Contains("var scaler = Standardize.Fit(data.Features.IndexSelect(0, trainIdx));", File.ReadAllText(Path.Combine(Repo.Root, "examples", "QuickStart", "Program.cs")));
    }
}
