using System.Globalization;
using System.Text.Json.Nodes;

namespace Kindling.Tests;

/// <summary>Small helpers for tests that run the kindling CLI (<see cref="CliTests.Run"/>) on data they write.</summary>
internal static class CliHarness
{
    public static string Tmp(string name)
    {
        var d = Path.Combine(Path.GetTempPath(), "kindling-cli-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Writes a CSV of <paramref name="n"/> rows from a seeded row function.</summary>
    public static string Csv(string dir, string name, string header, int n, Func<int, Random, string> row, int seed = 7)
    {
        var rnd = new Random(seed);
        var path = Path.Combine(dir, name);
        File.WriteAllLines(path, new[] { header }.Concat(Enumerable.Range(0, n).Select(i => row(i, rnd))));
        return path;
    }

    public static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Runs kindling and fails with its output when the exit code is not 0.</summary>
    public static CliTests.Result Ok(params string[] args)
    {
        var r = CliTests.Run(args);
        Assert.True(r.Code == 0, $"kindling {string.Join(' ', args)} exited {r.Code}: {r.Err}{r.Out}");
        return r;
    }

    public static JsonNode Config(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;

    /// <summary>A column of a CSV the CLI wrote (epochs.csv, steps.csv, predictions).</summary>
    public static string[] Column(string csv, string name)
    {
        var lines = File.ReadAllLines(csv);
        int i = Array.IndexOf(lines[0].Split(','), name);
        Assert.True(i >= 0, $"{csv} has no column '{name}': {lines[0]}");
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[i]).ToArray();
    }

    public static double[] Numbers(string csv, string name) => Column(csv, name).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
}
