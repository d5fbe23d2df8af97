using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Kindling.Report;

namespace Kindling.Tests;

public class ReportTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static double[] Parse(string? list) =>
        string.IsNullOrEmpty(list) ? [] : list.Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    private static List<XElement> Polylines(XDocument doc, string series) =>
        doc.Descendants(Svg + "polyline").Where(p => (string?)p.Attribute("data-series") == series).ToList();

    private static double[] Ticks(XDocument doc, string cls) =>
        doc.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == cls)
           .Select(t => double.Parse((string)t.Attribute("data-value")!, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>A plausible training run: noisy decaying losses, rising accuracy, one diverged validation epoch.</summary>
    private static (double[] Epochs, double[] Train, double[] Val, double[] TrainAcc, double[] ValAcc) Run(int n = 30)
    {
        var e = Enumerable.Range(1, n).Select(i => (double)i).ToArray();
        var train = e.Select(x => 2.3 * Math.Exp(-x / 7) + 0.08 + 0.03 * Math.Sin(3.1 * x)).ToArray();
        var val = e.Select(x => 2.3 * Math.Exp(-x / 8) + 0.18 + 0.004 * x + 0.05 * Math.Sin(1.7 * x + 1)).ToArray();
        val[11] = double.NaN;
        var tacc = train.Select(l => Math.Clamp(1 - l / 2.6, 0, 1)).ToArray();
        var vacc = val.Select(l => double.IsNaN(l) ? double.NaN : Math.Clamp(0.97 - l / 2.8, 0, 1)).ToArray();
        return (e, train, val, tacc, vacc);
    }

    private static ReportModel SampleModel()
    {
        var (e, train, val, tacc, vacc) = Run();
        string lossSvg = SvgPlot.LineChart("Loss", "epoch", "cross-entropy loss",
            [new Series("train", e, train), new Series("validation", e, val, Dashed: true)]);
        string lossLogSvg = SvgPlot.LineChart("Loss (log scale)", "epoch", "cross-entropy loss",
            [new Series("train", e, train), new Series("validation", e, val, Dashed: true)], logY: true);
        string accSvg = SvgPlot.LineChart("Accuracy", "epoch", "accuracy",
            [new Series("train accuracy", e, tacc), new Series("validation accuracy", e, vacc, Dashed: true)]);
        return new ReportModel
        {
            Title = "kindling report",
            RunName = "iris-mlp <seed 42>",
            Date = new DateTimeOffset(2025, 11, 2, 14, 30, 0, TimeSpan.Zero),
            Summary =
            [
                ("task", "multiclass classification (3 classes)"),
                ("loss", "cross_entropy — integer class labels with more than two classes"),
                ("model", "MLP 4 → 32 → 32 → 3, ReLU (1,283 parameters)"),
                ("optimizer", "Adam, lr 0.001"),
                ("epochs", "30"),
                ("samples", "120 train / 30 validation"),
                ("time", HtmlReport.FormatDuration(TimeSpan.FromSeconds(3.42))),
            ],
            Warnings =
            [
                "validation loss was NaN at epoch 12 & was skipped in the charts",
                "class 'virginica' has 2× fewer samples than 'setosa' <imbalance>",
            ],
            Charts =
            [
                new ReportChart(lossSvg, "Training and validation loss per epoch."),
                new ReportChart(lossLogSvg, "The same losses on a log scale."),
                new ReportChart(accSvg, "Accuracy per epoch."),
            ],
            FinalMetrics =
            [
                new MetricRow("loss", train[^1], val[^1]),
                new MetricRow("accuracy", tacc[^1], vacc[^1]),
                new MetricRow("macro F1", null, 0.93217),
            ],
            Confusion = new ConfusionMatrix(new[,] { { 10, 0, 0 }, { 0, 9, 1 }, { 0, 2, 8 } }, ["setosa", "versicolor", "virginica"]),
            Comparison =
            [
                new ComparisonRow("cross_entropy", 0.081, 0.214, 0.9333, TimeSpan.FromSeconds(3.42)),
                new ComparisonRow("nll_loss", 0.079, 0.221, 0.9, TimeSpan.FromSeconds(3.1)),
                new ComparisonRow("multi_margin", 0.012, 0.05, 0.8667, TimeSpan.FromMilliseconds(2950)),
            ],
            ComparisonMetricName = "validation accuracy",
            ComparisonHigherIsBetter = true,
        };
    }

    private static string WriteSample()
    {
        string path = Path.Combine(Path.GetTempPath(), "kindling_sample_report.html");
        File.WriteAllText(path, HtmlReport.Build(SampleModel()));
        return path;
    }

    [Fact]
    public void LineChart_DataAttributes_EqualInputExactly()
    {
        double[] x = [1, 2, 3, 4, 5, 6];
        double[] y = [0.1 + 0.2, 1.0 / 3, 1e-300, 2.718281828459045, -0.0, 123456789.123];
        var doc = XDocument.Parse(SvgPlot.LineChart("t", "x", "y", [new Series("a", x, y)]));
        var lines = Polylines(doc, "a");
        var line = Assert.Single(lines);
        var dx = Parse((string?)line.Attribute("data-x"));
        var dy = Parse((string?)line.Attribute("data-y"));
        Assert.Equal(x, dx);
        // Bit-exact, so the chart is provably the same numbers as the CSV (0.30000000000000004 must stay that).
        Assert.Equal(y.Select(BitConverter.DoubleToInt64Bits), dy.Select(BitConverter.DoubleToInt64Bits));
        var points = ((string)line.Attribute("points")!).Split(' ');
        Assert.Equal(x.Length, points.Length);
    }

    [Fact]
    public void LineChart_PointsAreInsidePlotAndMonotoneInX()
    {
        var (e, train, _, _, _) = Run();
        var doc = XDocument.Parse(SvgPlot.LineChart("t", "x", "y", [new Series("train", e, train)]));
        var pts = ((string)Assert.Single(Polylines(doc, "train")).Attribute("points")!).Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(e.Length, pts.Length);
        for (int i = 0; i < pts.Length; i++)
        {
            Assert.InRange(pts[i][0], 0, SvgPlot.Width);
            Assert.InRange(pts[i][1], 0, SvgPlot.Height);
            if (i > 0)
            {
                Assert.True(pts[i][0] > pts[i - 1][0]);
                // SVG y grows downwards: a larger loss must sit higher on the page.
                Assert.Equal(Math.Sign(train[i] - train[i - 1]), -Math.Sign(Math.Round(pts[i][1] - pts[i - 1][1], 2)));
            }
        }
    }

    [Fact]
    public void LineChart_NonFiniteValuesBreakTheLine()
    {
        double[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        double[] y = [1, 2, double.NaN, 3, 4, double.PositiveInfinity, 5, double.NaN];
        var doc = XDocument.Parse(SvgPlot.LineChart("t", "x", "y", [new Series("s", x, y)]));
        var lines = Polylines(doc, "s");
        Assert.Equal(3, lines.Count);
        Assert.Equal([1.0, 2.0], Parse((string?)lines[0].Attribute("data-y")));
        Assert.Equal([3.0, 4.0], Parse((string?)lines[1].Attribute("data-y")));
        Assert.Equal([5.0], Parse((string?)lines[2].Attribute("data-y")));
        Assert.Equal([4.0, 5.0], Parse((string?)lines[1].Attribute("data-x")));
        Assert.Equal(y.Count(double.IsFinite), lines.Sum(l => ((string)l.Attribute("points")!).Split(' ').Length));
        // Infinity must not stretch the axis: the top tick stays near the finite maximum.
        Assert.InRange(Ticks(doc, "tick-y").Max(), 5, 10);
        Assert.DoesNotContain("NaN", doc.ToString());
    }

    [Fact]
    public void LineChart_NonFiniteX_AlsoBreaksTheLine()
    {
        var doc = XDocument.Parse(SvgPlot.LineChart("t", "x", "y", [new Series("s", [1, double.NaN, 3, 4], [1, 2, 3, 4])]));
        Assert.Equal(2, Polylines(doc, "s").Count);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.0312, 2.41)]
    [InlineData(-3.7, 12.2)]
    [InlineData(0.971, 0.9734)]
    [InlineData(1e-7, 3e-7)]
    [InlineData(12345.0, 98765.0)]
    [InlineData(5.0, 5.0)]
    [InlineData(0.0, 0.0)]
    [InlineData(-1e9, 1e12)]
    public void NiceTicks_AreOneTwoFiveStepsCoveringTheRange(double min, double max)
    {
        var t = SvgPlot.NiceTicks(min, max);
        Assert.InRange(t.Count, 3, 10);
        Assert.True(t[0] <= min && t[^1] >= max, $"ticks {string.Join(",", t)} do not cover [{min},{max}]");
        double step = t[1] - t[0];
        double mantissa = step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9));
        Assert.Contains(Math.Round(mantissa, 6), new[] { 1.0, 2.0, 5.0 });
        for (int i = 1; i < t.Count; i++)
            Assert.Equal(step, t[i] - t[i - 1], step * 1e-9);
        foreach (var v in t)
        {
            // Nice means the label is short: a multiple of the step with no floating-point tail like 0.30000000000000004.
            string label = SvgPlot.FormatTick(v);
            Assert.True(label.Length <= 8, $"label '{label}' for {v:R} is not compact");
            Assert.Equal(v, double.Parse(label, CultureInfo.InvariantCulture), Math.Abs(step) * 1e-9);
        }
    }

    [Fact]
    public void NiceTicks_IntegerStepForEpochs()
    {
        Assert.Equal([1.0, 2.0, 3.0], SvgPlot.NiceTicks(1, 3, integerStep: true));
        Assert.Equal([0.0, 1.0, 2.0], SvgPlot.NiceTicks(1, 1, integerStep: true));
        Assert.Equal([0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0], SvgPlot.NiceTicks(1, 30, integerStep: true));
    }

    [Fact]
    public void LineChart_AxisTicksCoverData()
    {
        var (e, train, val, _, _) = Run();
        var doc = XDocument.Parse(SvgPlot.LineChart("t", "epoch", "loss", [new Series("train", e, train), new Series("val", e, val)]));
        var yt = Ticks(doc, "tick-y");
        var xt = Ticks(doc, "tick-x");
        var ys = train.Concat(val).Where(double.IsFinite).ToArray();
        Assert.True(yt.Min() <= ys.Min() && yt.Max() >= ys.Max());
        Assert.True(xt.Min() <= 1 && xt.Max() >= 30);
        Assert.All(xt, v => Assert.Equal(Math.Floor(v), v));
    }

    [Fact]
    public void LineChart_LogY_UsesDecadesAndDropsNonPositive()
    {
        double[] x = [1, 2, 3, 4, 5];
        double[] y = [2.3, 0.5, 0, 0.02, 0.004];
        var doc = XDocument.Parse(SvgPlot.LineChart("t", "x", "y", [new Series("s", x, y)], logY: true));
        var yt = Ticks(doc, "tick-y");
        Assert.Equal([0.001, 0.01, 0.1, 1, 10], yt);
        Assert.Equal(2, Polylines(doc, "s").Count);
        Assert.Equal([0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1], SvgPlot.LogTicks(0.003, 0.07));
    }

    [Fact]
    public void LineChart_LegendHasSeriesNames_AndDistinctDefaultColours()
    {
        double[] x = [1, 2];
        var names = new[] { "train", "validation", "a very long series name that would overflow" };
        var doc = XDocument.Parse(SvgPlot.LineChart("t", "x", "y", names.Select(n => new Series(n, x, x)).ToList()));
        var legend = doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "legend");
        var titles = legend.Descendants(Svg + "title").Select(t => t.Value).ToArray();
        Assert.Equal(names, titles);
        var shown = legend.Descendants(Svg + "text").Select(t => t.Value).ToArray();
        Assert.Equal("train", shown[0]);
        Assert.Equal("validation", shown[1]);
        Assert.StartsWith("a very long", shown[2]);
        Assert.EndsWith("…", shown[2]);
        var colours = names.Select(n => (string)Assert.Single(Polylines(doc, n)).Attribute("stroke")!).ToArray();
        Assert.Equal(colours.Length, colours.Distinct().Count());
        Assert.Equal(SvgPlot.Palette.Count, SvgPlot.Palette.Distinct().Count());
    }

    [Fact]
    public void LineChart_ExplicitColourAndDash()
    {
        var doc = XDocument.Parse(SvgPlot.LineChart("t", "x", "y", [new Series("v", [1, 2], [1, 2], Color: "#123456", Dashed: true)]));
        var line = Assert.Single(Polylines(doc, "v"));
        Assert.Equal("#123456", (string?)line.Attribute("stroke"));
        Assert.NotNull(line.Attribute("stroke-dasharray"));
    }

    [Fact]
    public void LineChart_EscapesText()
    {
        const string evil = "loss <b> & \"quotes\" 'x' > done\u0001";
        var svg = SvgPlot.LineChart(evil, "x<1>", "y&z", [new Series("s<&>", [1, 2], [3, 4], Color: "red\" onload=\"x")]);
        var doc = XDocument.Parse(svg);
        Assert.Equal("loss <b> & \"quotes\" 'x' > done\uFFFD", doc.Root!.Element(Svg + "title")!.Value);
        Assert.Single(Polylines(doc, "s<&>"));
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "x<1>");
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "y&z");
        Assert.DoesNotContain("<b>", svg);
        Assert.Null(doc.Descendants().Attributes("onload").FirstOrDefault());
    }

    [Fact]
    public void LineChart_NoData()
    {
        var empty = XDocument.Parse(SvgPlot.LineChart("empty", "x", "y", []));
        Assert.Contains(empty.Descendants(Svg + "text"), t => t.Value == "no data");
        var nan = XDocument.Parse(SvgPlot.LineChart("nan", "x", "y", [new Series("s", [1, 2], [double.NaN, double.NaN])]));
        Assert.Contains(nan.Descendants(Svg + "text"), t => t.Value == "no data");
        Assert.Empty(nan.Descendants(Svg + "polyline"));
        var nonPositiveLog = XDocument.Parse(SvgPlot.LineChart("log", "x", "y", [new Series("s", [1, 2], [0, -1])], logY: true));
        Assert.Contains(nonPositiveLog.Descendants(Svg + "text"), t => t.Value == "no data");
    }

    [Fact]
    public void LineChart_RejectsMismatchedLengths()
    {
        Assert.Throws<ArgumentException>(() => SvgPlot.LineChart("t", "x", "y", [new Series("s", [1, 2, 3], [1, 2])]));
    }

    [Fact]
    public void Html_InlinesChartsAndTables_AndIsSelfContained()
    {
        var model = SampleModel();
        string html = HtmlReport.Build(model);
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "kindling_sample_report.html"), html);

        // Well-formed enough for an XML parser, which also proves the escaping is complete.
        var doc = XDocument.Parse(html);
        var svgs = doc.Descendants(Svg + "svg").ToList();
        Assert.Equal(3, svgs.Count);
        Assert.Equal(model.Charts.Count, doc.Descendants("figcaption").Count());
        var (_, train, _, _, _) = Run();
        var trainLine = svgs[0].Descendants(Svg + "polyline").Single(p => (string?)p.Attribute("data-series") == "train");
        Assert.Equal(train, Parse((string?)trainLine.Attribute("data-y")));

        var tables = doc.Descendants("table").ToList();
        Assert.Equal(["kv", "metrics", "cm", "comparison"], tables.Select(t => (string?)t.Attribute("class")));
        Assert.Contains(tables[0].Descendants("tr"), tr => tr.Elements().Select(e => e.Value).SequenceEqual(["model", "MLP 4 → 32 → 32 → 3, ReLU (1,283 parameters)"]));
        Assert.Equal(3, tables[1].Descendants("tbody").Single().Elements("tr").Count());
        var cmRows = tables[2].Descendants("tbody").Single().Elements("tr").ToList();
        Assert.Equal(["versicolor", "0", "9", "1", "10", "0.900"], cmRows[1].Elements().Select(e => e.Value));
        var best = tables[3].Descendants("tr").Single(tr => (string?)tr.Attribute("class") == "best");
        Assert.StartsWith("cross_entropy", best.Elements("td").First().Value);

        var warnings = doc.Descendants("ul").Single(u => (string?)u.Attribute("class") == "warnings").Elements("li").Select(l => l.Value);
        Assert.Equal(model.Warnings, warnings);
        Assert.Contains("run iris-mlp <seed 42> · 2025-11-02 14:30 +00:00", doc.Descendants("p").Select(p => p.Value));

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new Regex(@"(src|href)\s*=\s*[""']?\s*(https?:|//)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"url\(|@import", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("<?xml", html);
    }

    [Fact]
    public void Html_OmitsEmptySections_AndStripsXmlDeclaration()
    {
        string html = HtmlReport.Build(new ReportModel
        {
            Title = "t",
            Charts = [new ReportChart("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + SvgPlot.LineChart("c", "x", "y", []), "cap")],
        });
        var doc = XDocument.Parse(html);
        Assert.Empty(doc.Descendants("table"));
        Assert.DoesNotContain("Warnings", html);
        Assert.DoesNotContain("<?xml", html);
        Assert.Single(doc.Descendants(Svg + "svg"));
    }

    [Fact]
    public void Html_RejectsConfusionMatrixThatDoesNotMatchClassNames()
    {
        var model = new ReportModel { Title = "t", Confusion = new ConfusionMatrix(new int[2, 3], ["a", "b"]) };
        Assert.Throws<ArgumentException>(() => HtmlReport.Build(model));
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(0.123456789, "0.12346")]
    [InlineData(2.5, "2.5")]
    [InlineData(12345.678, "12346")]
    [InlineData(1234567.0, "1.2346e6")]
    [InlineData(0.00001234, "1.234e-5")]
    [InlineData(double.NaN, "NaN")]
    public void FormatNumber_IsCompact(double v, string expected) => Assert.Equal(expected, HtmlReport.FormatNumber(v));

    [Fact]
    public void FormatDuration_IsCompact()
    {
        Assert.Equal("850 ms", HtmlReport.FormatDuration(TimeSpan.FromMilliseconds(850)));
        Assert.Equal("12.3 s", HtmlReport.FormatDuration(TimeSpan.FromSeconds(12.3)));
        Assert.Equal("4 m 05 s", HtmlReport.FormatDuration(TimeSpan.FromSeconds(245)));
        Assert.Equal("2 h 03 m", HtmlReport.FormatDuration(TimeSpan.FromMinutes(123)));
    }

    [Fact]
    public void Html_HasWhatABrowserNeedsToDrawTheCharts()
    {
        var doc = XDocument.Parse(File.ReadAllText(WriteSample()));
        Assert.Equal(3, doc.Descendants(Svg + "svg").Count());
        Assert.All(doc.Descendants(Svg + "svg"), s => Assert.NotNull(s.Attribute("viewBox")));
        Assert.NotEmpty(doc.Descendants("style"));
    }

    [SkippableFact]
    public async Task Html_RendersInChromium()
    {
        string html = WriteSample();
        var doc = XDocument.Parse(File.ReadAllText(html));
        Assert.Equal(3, doc.Descendants(Svg + "svg").Count());

        const string chromium = "/usr/bin/chromium";
        Skip.IfNot(File.Exists(chromium), "chromium is not installed (.ci/run installs it: apt-get install chromium fonts-dejavu-core)");

        string dir = Directory.CreateTempSubdirectory("kindling-render-").FullName;
        try
        {
            string png = Path.Combine(dir, "report.png");
            var psi = new ProcessStartInfo(chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                "--user-data-dir=" + Path.Combine(dir, "profile"), "--screenshot=" + png, "--window-size=1200,2000",
                new Uri(html).AbsoluteUri,
            }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEndAsync();
            using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            {
                try { await p.WaitForExitAsync(cts.Token); }
                catch (OperationCanceledException)
                {
                    p.Kill(entireProcessTree: true);
                    Assert.Fail("chromium did not finish within 2 minutes");
                }
            }
            string err = await stderr;
            await stdout;
            Assert.True(File.Exists(png), "chromium wrote no screenshot: " + err);

            byte[] bytes = File.ReadAllBytes(png);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            int width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
            int height = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
            Assert.Equal((1200, 2000), (width, height));
            // A blank 1200×2000 page compresses to a few KB; text, tables and curves cannot.
            Assert.True(bytes.Length > 10 * 1024, $"screenshot is only {bytes.Length} bytes; page looks blank");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
