using System.Text.Json.Nodes;
using Kindling.Parity;

namespace Kindling.Tests;

/// <summary>Runs every PyTorch-generated loss case (tools/parity/cases) through the parity runner and the contract's rule.</summary>
public class LossParityTests
{
    public static IEnumerable<object[]> CaseFiles()
    {
        var dir = Path.Combine(Repo.Root, "tools", "parity", "cases");
        foreach (var f in Directory.GetFiles(dir, "*.jsonl").OrderBy(f => f)) yield return [Path.GetFileName(f)];
        var shared = Path.Combine(Repo.Root, "..", "shared", "parity", "example-cases.jsonl");
        if (File.Exists(shared)) yield return ["../../../../shared/parity/example-cases.jsonl"];
    }

    [Theory]
    [MemberData(nameof(CaseFiles))]
    public void AllCasesOfFilePass(string file)
    {
        var path = Path.GetFullPath(Path.Combine(Repo.Root, "tools", "parity", "cases", file));
        var failures = new List<string>();
        int n = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var c = JsonNode.Parse(line)!.AsObject();
            var why = ParityRunner.Judge(c, ParityRunner.Run(c));
            if (why != null) failures.Add($"{c["id"]}: {why}");
            n++;
        }
        Assert.True(n > 0, $"{file} holds no cases");
        Assert.True(failures.Count == 0, $"{failures.Count} of {n} cases failed:\n" + string.Join("\n", failures.Take(20)));
    }

    [Fact]
    public void CaseFilesCoverEveryLossAndReduction()
    {
        var seen = new HashSet<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(Repo.Root, "tools", "parity", "cases"), "*.jsonl"))
            foreach (var line in File.ReadLines(f))
            {
                var c = JsonNode.Parse(line)!.AsObject();
                var red = c["options"]?["reduction"]?.GetValue<string>() ?? "default";
                seen.Add($"{c["loss"]}/{red}");
            }
        // Every registered loss, with every reduction its schema offers.
        foreach (var e in Kindling.Registry.Components.Losses.All)
            foreach (var r in e.Option("reduction")!.Choices!)
                Assert.Contains($"{e.Name}/{r}", seen);
    }

    [Fact]
    public void UnknownLossOrOptionIsReportedNotSkipped()
    {
        var c = JsonNode.Parse("""{"id":"x","loss":"made_up_loss","inputs":{"input":{"shape":[1],"dtype":"float32","data":[1.0]}},"options":{}}""")!.AsObject();
        Assert.Contains("unknown loss", ParityRunner.Run(c)["error"]!.GetValue<string>());
        var d = JsonNode.Parse("""{"id":"y","loss":"mse_loss","inputs":{"input":{"shape":[1],"dtype":"float32","data":[1.0]},"target":{"shape":[1],"dtype":"float32","data":[2.0]}},"options":{"frobnicate":3}}""")!.AsObject();
        Assert.Contains("frobnicate", ParityRunner.Run(d)["error"]!.GetValue<string>());
    }
}
